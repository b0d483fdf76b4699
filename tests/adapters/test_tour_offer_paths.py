"""The tour's offer (D1) on the paths the scenarios do not take: a Slack mention outside a
job's thread, answered in a thread, gets the offer as a second reply in that same thread."""

from __future__ import annotations

from tests.adapters.slack_harness import SlackHarness
from tests.adapters.slack_standin import event_callback

NEWCOMER = "U0NEWBIE"  # in the served workspace, named by no setting: never offered the tour


def _mention(text: str, *, ts: str, user: str) -> dict[str, str]:
    return {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": "C0OPS",
        "event_ts": ts,
        "team": "T0EXPORT",
    }


async def test_a_mention_by_a_newcomer_is_answered_then_offered_the_tour_in_its_thread(
    slack: SlackHarness,
) -> None:
    event = _mention("<@UBOT> help", ts="1700000950.000100", user=NEWCOMER)
    status, _ = await slack.post(event_callback(event, event_id="EvTour1"), json_body=True)
    assert status == 200
    await slack.settle()
    answer, offer = slack.standin.called("chat.postMessage")
    assert answer["thread_ts"] == offer["thread_ts"] == "1700000950.000100"
    assert answer["text"].startswith("exportbot commands")
    assert offer["text"].startswith("New to exportbot?")
    buttons = [
        e["action_id"] for b in offer["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["tour.next", "tour.skip"]

    again = _mention("<@UBOT> help", ts="1700000951.000100", user=NEWCOMER)
    await slack.post(event_callback(again, event_id="EvTour2"), json_body=True)
    await slack.settle()
    assert len(slack.standin.called("chat.postMessage")) == 3  # the answer only: offered once
    assert slack.rows("SELECT principal, state FROM tours WHERE principal LIKE '%U0NEWBIE'") == [
        ("slack:T0EXPORT:U0NEWBIE", "offered")
    ]
