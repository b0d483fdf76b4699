"""The proactive Slack sender against the Web API stand-in: what it sends, and 429s."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.sender import SlackSender
from core.delivery.senders import DeliveryError, MessageRef, RetryAfter, Upload
from core.views.message import Message, Tone
from tests.adapters.slack_standin import SlackStandIn

ALERT = Message(
    title="Job #4 · site-a failed",
    status="failed",
    tone=Tone.DANGER,
    sections=("tar: disk full",),
    summary="Job #4 of site-a failed.",
)


@pytest.fixture
def sender(standin: SlackStandIn) -> SlackSender:
    return SlackSender(AsyncWebClient(token="xoxb-test", base_url=standin.api_url))


async def test_post_update_reply_and_private_messages_carry_a_text_fallback(
    sender: SlackSender, standin: SlackStandIn
) -> None:
    ref = await sender.post("C0OPS", ALERT)
    assert ref == MessageRef("C0OPS", "1700000001.000100")
    await sender.update(ref, ALERT)
    reply = await sender.reply(ref, ALERT)
    assert reply.thread_id == ref.message_id
    direct = await sender.private("U0ADMIN", ALERT)
    assert direct.channel == "DU0ADMIN"

    [post, threaded, dm] = standin.called("chat.postMessage")
    assert post["text"].startswith("Job #4 · site-a failed — failed")
    assert post["_auth"] == "Bearer xoxb-test"
    assert threaded["thread_ts"] == "1700000001.000100"
    assert dm["channel"] == "DU0ADMIN"
    [update] = standin.called("chat.update")
    assert update["ts"] == ref.message_id and update["text"] == post["text"]
    assert standin.called("conversations.open")[0]["users"] == "U0ADMIN"


async def test_a_file_is_uploaded_with_its_alt_text(
    sender: SlackSender, standin: SlackStandIn
) -> None:
    upload = Upload("audit.csv", b"id,state\n1,failed\n", "Audit export", "Jobs of November")
    await sender.upload("C0OPS", upload, thread_id="1700000001.000100")
    [reserved] = standin.called("files.getUploadURLExternal")
    assert reserved["filename"] == "audit.csv" and reserved["alt_txt"] == "Jobs of November"
    assert standin.uploads == [b"id,state\n1,failed\n"]
    [completed] = standin.called("files.completeUploadExternal")
    assert completed["channel_id"] == "C0OPS"
    assert completed["thread_ts"] == "1700000001.000100"


async def test_a_rate_limit_becomes_retry_after_with_slacks_delay(
    sender: SlackSender, standin: SlackStandIn
) -> None:
    standin.rate_limited["chat.postMessage"] = 1
    with pytest.raises(RetryAfter) as limited:
        await sender.post("C0OPS", ALERT)
    assert limited.value.seconds == 7
    assert not limited.value.permanent
    assert (await sender.post("C0OPS", ALERT)).channel == "C0OPS"  # the next call goes through


async def test_an_answer_no_retry_can_fix_is_permanent(
    sender: SlackSender, standin: SlackStandIn
) -> None:
    standin.refuse["chat.postMessage"] = "channel_not_found"
    with pytest.raises(DeliveryError) as failed:
        await sender.post("C0GONE", ALERT)
    assert failed.value.permanent and "channel_not_found" in failed.value.detail
