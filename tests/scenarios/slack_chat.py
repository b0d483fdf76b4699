"""The scenarios' chat on Slack: signed slash commands, block actions and Events API mentions
against the whole bot, read back from the Slack stand-in."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.slack.render import unescape
from tests.adapters.slack_harness import ADMIN, REVIEWER, SlackHarness, slack_harness
from tests.adapters.slack_standin import (
    TEAM,
    SlackStandIn,
    block_actions,
    event_callback,
    slack_standin,
    slash_command,
)
from tests.scenarios.chat import (
    ALERTS,
    ALICE,
    BROKEN,
    CAROL,
    NINA,
    OPS,
    QUICK,
    SITE,
    HarnessedBot,
    Seen,
    eventually,
    fetch,
    have_seen_the_tour,
    with_raw,
)

# The stand-in gives Carol a French locale; Nina has no role.
USERS = {ALICE: ADMIN, CAROL: REVIEWER, NINA: "U0NINA"}
CHANNELS = {OPS: "C0OPS", ALERTS: "C0ALERTS"}
FORGERIES = (
    "bad signature",
    "stale timestamp",
    "no signature",
    "event with a bad signature",
)


def _seen(payload: dict[str, Any], *, private: bool = False) -> Seen:
    buttons = [
        element["action_id"]
        for block in payload.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if "action_id" in element
    ]
    # What people read: Slack shows the escaped `&lt;` `&gt;` `&amp;` as the characters.
    return Seen(unescape(payload["text"]), tuple(buttons), private)


class SlackChat(HarnessedBot[SlackHarness]):
    platform = "slack"
    note_link = r"https://acme\.slack\.com/archives/C0OPS/p\d{16}\?thread_ts=[\d.]+&cid=C0OPS$"

    def __init__(self, tmp_path: Path, standin: SlackStandIn) -> None:
        super().__init__(lambda: slack_harness(tmp_path, standin, targets=[QUICK, BROKEN, SITE]))
        self.standin = standin
        self._n = itertools.count(1)
        # Where the responses after the last command start, and whether its answer is one.
        self._said: tuple[int, bool] = (0, False)

    async def start(self) -> None:
        await super().start()
        seen = [self.principal(ALICE), self.principal(CAROL)]
        await have_seen_the_tour(self.harness.bot.uow_factory, seen)

    async def say(self, person: str, text: str, *, channel: str = OPS) -> Seen:
        posts_before = len(self.standin.called("chat.postMessage"))
        responses_before = len(self.standin.responses)
        self._said = (responses_before, False)
        body = slash_command(
            text,
            user=USERS[person],
            response_url=self.standin.response_url(f"c{next(self._n)}"),
            channel=CHANNELS[channel],
        )
        status, payload = await self.harness.post(body)
        assert status == 200, payload
        if payload:  # answered in the ack
            return _seen(payload, private=payload.get("response_type") != "in_channel")
        # An empty ack: the answer is a message the bot posts, or comes by `response_url`.
        await self.harness.slack.runtime.drain()
        posted = [
            p
            for p in self.standin.called("chat.postMessage")[posts_before:]
            if p["channel"] == CHANNELS[channel] and not p.get("thread_ts")
        ]
        if posted:
            return _seen(posted[0])
        [answer, *_] = self.standin.responses[responses_before:]
        self._said = (responses_before, True)
        return _seen(answer, private=answer.get("response_type") != "in_channel")

    async def follow_ups(self, person: str) -> list[Seen]:
        await self.harness.slack.runtime.drain()
        start, answered_by_url = self._said
        after = self.standin.responses[start + (1 if answered_by_url else 0) :]
        for payload in after:  # a message of its own: it replaces nothing
            assert payload.get("replace_original") is False, payload
        return [_seen(p, private=p.get("response_type") != "in_channel") for p in after]

    async def press(self, person: str, on: Seen, action: str, obj: str, version: int) -> Seen:
        before = len(self.standin.responses)
        body = block_actions(
            action,
            f"{obj}:{version}",
            user=USERS[person],
            response_url=self.standin.response_url(f"p{next(self._n)}"),
        )
        status, _ = await self.harness.post(body)
        assert status == 200
        answer = (await self.standin.wait_for_responses(before + 1))[before]
        if answer.get("replace_original"):  # everyone's copy of the message is redrawn
            assert answer["response_type"] == "in_channel", answer
            return _seen(answer)
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        return _seen(answer, private=True)

    def _job_ts(self, job_id: int) -> str:
        [(ts,)] = self.rows(
            f"SELECT message_id FROM posted_messages WHERE kind = 'job' AND job_id = {job_id}"
        )
        return str(ts)

    async def reply_in_job_thread(self, person: str, job_id: int, text: str) -> None:
        ts = f"{time.time():.6f}"
        mention = {
            "type": "app_mention",
            "user": USERS[person],
            "text": f"<@UBOT> {text}",
            "ts": ts,
            "thread_ts": self._job_ts(job_id),
            "channel": CHANNELS[OPS],
            "event_ts": ts,
            "team": TEAM,
        }
        body = event_callback(mention, event_id=f"Ev{next(self._n):04d}")
        status, _ = await self.harness.post(body, json_body=True)
        assert status == 200
        await self.settle()

    async def job_message(self, job_id: int) -> Seen:
        ts = self._job_ts(job_id)
        updates = await eventually(
            lambda: [u for u in self.standin.called("chat.update") if u["ts"] == ts],
            bool,
            f"a redraw of job #{job_id}'s message",
        )
        return _seen(updates[-1])

    async def redrawn_draft_card(self, draft_id: int, channel: str) -> Seen:
        # The dispatcher writes where it posted a moment after posting.
        [(ts,)] = await eventually(
            lambda: self.rows(
                "SELECT message_id FROM posted_messages"
                f" WHERE draft_id = {draft_id} AND channel = '{CHANNELS[channel]}'"
            ),
            bool,
            f"draft #{draft_id}'s card in {channel}",
        )
        updates = await eventually(
            lambda: [u for u in self.standin.called("chat.update") if u["ts"] == ts],
            bool,
            f"a redraw of draft #{draft_id}'s card in {channel}",
        )
        return _seen(updates[-1])

    async def job_thread(self, job_id: int) -> list[Seen]:
        ts = self._job_ts(job_id)
        replies = await eventually(
            lambda: [r for r in self.standin.thread_replies() if r["thread_ts"] == ts],
            bool,
            f"a reply in job #{job_id}'s thread",
        )
        return [_seen(r) for r in replies]

    async def posted_in(self, channel: str) -> list[Seen]:
        posts = await eventually(
            lambda: [
                p
                for p in self.standin.called("chat.postMessage")
                if p["channel"] == CHANNELS[channel] and not p.get("thread_ts")
            ],
            bool,
            f"a post in {channel}",
        )
        return [_seen(p) for p in posts]

    async def forge(self, forgery: str, text: str) -> int:
        if forgery.startswith("event"):
            mention = {
                "type": "app_mention",
                "user": ADMIN,
                "text": f"<@UBOT> {text}",
                "ts": "1700000100.000100",
                "channel": CHANNELS[OPS],
                "event_ts": "1700000100.000100",
            }
            body, json_body = event_callback(mention, event_id="Ev0BAD"), True
        else:
            body, json_body = slash_command(text, user=ADMIN, response_url=""), False
        if forgery.endswith("bad signature"):
            headers = {"X-Slack-Signature": "v0=" + "0" * 64}
            status, _ = await self.harness.post(body, json_body=json_body, headers=headers)
        elif forgery == "stale timestamp":
            stale = int(time.time()) - 301  # Slack's window is five minutes
            status, _ = await self.harness.post(body, json_body=json_body, timestamp=stale)
        else:
            response = await self.harness.client.post("/slack/events", data=body)
            status = response.status
        return status

    async def first_post_now(self, channel: str) -> Seen:
        where = CHANNELS[channel]
        kept = await eventually(
            lambda: [m for m in self.standin.posts_to(where) if not m.get("thread_ts")],
            bool,
            f"a post in {channel}",
        )
        ts = kept[0]["ts"]
        [post, *_] = [
            p
            for p in self.standin.called("chat.postMessage")
            if p["channel"] == where and not p.get("thread_ts")
        ]
        updates = [u for u in self.standin.called("chat.update") if u["ts"] == ts]
        now = ([post, *updates])[-1]
        return with_raw(_seen(now, private=False), now)

    async def file_in(self, channel: str) -> tuple[str, bytes] | None:
        shared = [
            c
            for c in self.standin.called("files.completeUploadExternal")
            if c.get("channel_id") == CHANNELS[channel]
        ]
        if not shared:
            return None
        [reserved] = self.standin.called("files.getUploadURLExternal")
        [data] = self.standin.uploads
        assert int(reserved["length"]) == len(data)  # the length Slack was told is the sent one
        return str(reserved["filename"]), data

    async def download(self, url: str) -> tuple[int, dict[str, str], bytes]:
        return await fetch(self.harness.client, url)

    def sent_anything(self) -> bool:
        return bool(self.standin.called("chat.postMessage") or self.standin.responses)

    def mention(self, person: str) -> str:
        return f"<@{USERS[person]}>"

    def principal(self, person: str) -> str:
        return f"slack:{TEAM}:{USERS[person]}"


@asynccontextmanager
async def slack_chat(tmp_path: Path) -> AsyncIterator[SlackChat]:
    async with slack_standin() as standin:
        chat = SlackChat(tmp_path, standin)
        await chat.start()
        try:
            yield chat
        finally:
            await chat.stop()
