"""Block Kit rendering: the status in words in `text`, labelled buttons bound to versions."""

from __future__ import annotations

from adapters.slack.render import MAX_BLOCKS, render
from core.domain.capabilities import Capability
from core.views.message import Action, Field, Image, Message, Tone

DRAFT = Message(
    title="Schedule draft #3 · demo · version 2",
    status="awaiting review",
    tone=Tone.INFO,
    fields=(
        Field("Schedule", "0 2 * * * — At 02:00 (Europe/Paris)"),
        Field("Author", "<@U123> & co"),
    ),
    sections=("first line\nsecond <b>line</b>",),
    images=(Image("https://x.test/chart.png", "Archive size over 7 days, rising"),),
    actions=(
        Action(
            "Approve",
            "draft.approve",
            "3",
            2,
            Capability.APPROVE,
            "Approve schedule draft 3 for demo",
            Tone.SUCCESS,
        ),
        Action("Reject", "draft.reject", "3", 2, Capability.APPROVE, "", Tone.DANGER),
    ),
    footer="Sent for review",
)


def test_the_text_fallback_carries_the_whole_status_in_words() -> None:
    payload = render(DRAFT)
    assert payload["text"].startswith("Schedule draft #3 · demo · version 2 — awaiting review")
    assert "Schedule: 0 2 * * * — At 02:00 (Europe/Paris)" in payload["text"]
    header = payload["blocks"][0]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "emoji": True,
            "text": ":information_source: Schedule draft #3 · demo · version 2",
        },
    }
    assert payload["blocks"][1]["text"]["text"] == "*awaiting review*"


def test_buttons_are_labelled_styled_and_bound_to_the_object_version() -> None:
    [actions] = [b for b in render(DRAFT)["blocks"] if b["type"] == "actions"]
    approve, reject = actions["elements"]
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        "draft.approve",
        "3:2",
        "primary",
    )
    assert approve["accessibility_label"] == "Approve schedule draft 3 for demo"
    assert reject["accessibility_label"] == "Reject" and reject["style"] == "danger"


def test_user_text_is_escaped_and_images_keep_their_alt_text() -> None:
    blocks = render(DRAFT)["blocks"]
    fields = blocks[2]["fields"]
    assert fields[1]["text"] == "*Author*\n&lt;@U123&gt; &amp; co"
    assert blocks[3]["text"]["text"] == "first line\nsecond &lt;b&gt;line&lt;/b&gt;"
    [image] = [b for b in blocks if b["type"] == "image"]
    assert image["alt_text"] == "Archive size over 7 days, rising"


def test_long_content_is_split_within_slack_limits() -> None:
    many = Message(
        title="T" * 200,
        fields=tuple(Field(f"f{i}", "v") for i in range(25)),
        sections=("\n".join("x" * 80 for _ in range(100)),),
    )
    blocks = render(many)["blocks"]
    assert len(blocks[0]["text"]["text"]) <= 150
    assert [len(b["fields"]) for b in blocks if "fields" in b] == [10, 10, 5]
    assert all(
        len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b
    )
    huge = Message(title="t", sections=tuple("s" for _ in range(80)), footer="end")
    capped = render(huge)["blocks"]
    assert len(capped) == MAX_BLOCKS and capped[-1]["type"] == "context"
