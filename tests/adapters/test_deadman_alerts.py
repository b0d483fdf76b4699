"""The dead-man's switch's alerts reach Slack through the real outbox and dispatcher: a
reported run past its `max_runtime` posts one `stuck` alert, its success one `recovered`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from core.clock import FrozenClock
from core.domain.model import JobState, NewJob, Origin, OriginKind
from core.jobs.deadman import DeadmanWatch
from tests.adapters.slack_harness import ADMIN, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command


async def test_a_stuck_reported_run_alerts_its_channel_once_and_its_success_recovers(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    target = {"name": "db", "kind": "reported", "max_runtime": "1h"}
    async with slack_harness(tmp_path, standin, targets=[target]) as slack:
        await slack.post(
            slash_command(
                "subscribe db stuck,recovered", user=ADMIN, response_url="", channel="C0OPS"
            )
        )
        await slack.settle()
        bot = slack.bot
        clock = FrozenClock(bot.clock.now())
        watch = DeadmanWatch(bot.uow_factory, bot.targets, clock)
        await watch.check_all()  # first look
        async with bot.uow_factory() as uow:  # as the job-event API records a started run
            job = await uow.jobs.add(
                NewJob("db", Origin(OriginKind.API, reference="cron"), None, "cron", clock.now())
            )
            job.transition(JobState.RUNNING, clock.now())
            await uow.jobs.save(job)
            await uow.commit()
        clock.advance(timedelta(hours=1, minutes=1))
        for _ in range(3):
            await watch.check_all()
        posts = await standin.wait_for("chat.postMessage", 1)
        async with bot.uow_factory() as uow:
            running = await uow.jobs.get(job.id)
            assert running is not None
            running.transition(JobState.SUCCEEDED, clock.now())
            await uow.jobs.save(running)
            await uow.commit()
        clock.advance(timedelta(minutes=1))
        for _ in range(3):
            await watch.check_all()
        posts = await standin.wait_for("chat.postMessage", 2)
        await asyncio.sleep(0.5)  # time enough for a repeat to arrive, were there one
        posts = [p for p in standin.called("chat.postMessage") if p["channel"] == "C0OPS"]
    texts = [p["text"] for p in posts]
    assert len(texts) == 2, texts
    assert texts[0].startswith(f"Job #{job.id} of db has not finished — warning")
    assert "more than 1 h ago" in texts[0]
    assert texts[1].startswith("db is back to normal — info")
