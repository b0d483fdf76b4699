"""A long job's Slack card is edited in place with its progress bar (C4), then gets its final
card: the bot's own progress editor, edits at most every 0.3 s here (5 s by default)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot import bootstrap
from core.domain.model import TargetSpec
from core.jobs.runners import CancelToken, Progress, ProgressCallback, RunCancelled, RunResult
from tests.adapters.slack_harness import ADMIN, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command


class SteadyRunner:
    """Archives one file every 20 ms, until `stop_after` files or until told to finish."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.stop_after = stop_after
        self.finish = threading.Event()

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        files = 0
        while files != self.stop_after and not self.finish.wait(0.02):
            if token.cancelled:
                raise RunCancelled(token.reason)
            files += 1
            progress(Progress(files, files * 250_000))
        return RunResult(file_count=files, size_bytes=files * 1000)


async def test_a_long_job_card_shows_its_bar_while_it_runs_then_its_end(
    tmp_path: Path, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier, slow = SteadyRunner(stop_after=40), SteadyRunner()
    runners = iter([earlier, slow])

    def runner_for(spec: TargetSpec) -> SteadyRunner:
        return next(runners)

    monkeypatch.setattr(bootstrap, "runner_for", runner_for)
    demo = {"name": "demo", "kind": "command", "command": ["true"]}
    try:
        async with slack_harness(
            tmp_path, standin, targets=[demo], progress_every_seconds=0.3
        ) as slack:
            await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
            await slack.settle()  # 40 files: the estimate of the next run
            before = len(standin.called("chat.update"))
            await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
            await standin.wait_for("chat.update", before + 2)  # two edits while it runs
            slow.finish.set()
            await slack.settle()
            [(card_ts,)] = slack.rows(
                "SELECT message_id FROM posted_messages WHERE job_id = 2 AND kind = 'job'"
            )
    finally:
        slow.finish.set()
    updates = [u for u in standin.called("chat.update") if u["ts"] == card_ts]
    *edits, final = updates
    assert len(edits) >= 2
    for edit in edits:
        assert edit["channel"] == "C0OPS"
        assert "Job #2 · demo — running" in edit["text"]
        assert "% · " in edit["text"] and "of about 40 files" in edit["text"]
        bar = next(b for b in edit["blocks"] if "▱" in str(b) or "▰" in str(b))
        assert bar["type"] == "section"
    assert "Job #2 · demo — succeeded" in final["text"]
    assert "of about" not in final["text"] and "▱" not in final["text"]
