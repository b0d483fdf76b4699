"""The progress line of a running job's message (C4), in English and French."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.model import Job, JobState, Origin, OriginKind
from core.i18n import Translator
from core.jobs.progress import Estimate, estimate_from, percent_done, progress_line
from core.jobs.runners import Progress

EN, FR = Translator("en"), Translator("fr")
LAST_RUN = Estimate(files=430)


def test_a_run_with_an_estimate_shows_bar_percent_bytes_files_and_time_left() -> None:
    progress = Progress(files_done=180, bytes_done=12_300_000)
    # 180 of 430 files is 41.9 %; at 180 files in 30 s, 250 files take 41.7 s more.
    line = progress_line(EN, progress, LAST_RUN, timedelta(seconds=30))
    assert line == ("▰▰▰▰▱▱▱▱▱▱ 41 % · 12.3 MB read · 180 of about 430 files · about 45 s left")
    line = progress_line(FR, progress, LAST_RUN, timedelta(seconds=30))
    assert line == (
        "▰▰▰▰▱▱▱▱▱▱ 41 % · 12,3 Mo lus · 180 fichiers sur environ 430 · encore environ 45 s"
    )


def test_without_an_earlier_run_there_is_no_percent_only_what_was_done() -> None:
    progress = Progress(files_done=12, bytes_done=2_500_000)
    english = progress_line(EN, progress, None, timedelta(seconds=30))
    french = progress_line(FR, progress, None, timedelta(seconds=30))
    assert english == (
        "2.5 MB read · 12 files so far · "
        "no percentage: this target has no earlier successful run to compare with"
    )
    assert french.startswith("2,5 Mo lus · 12 fichiers jusqu'ici · pas de pourcentage")
    for line in (english, french):
        assert "%" not in line and "▰" not in line and "▱" not in line


def test_nothing_done_yet_is_zero_percent_with_no_time_left_guessed() -> None:
    progress = Progress(files_done=0, bytes_done=0)
    line = progress_line(EN, progress, LAST_RUN, timedelta(seconds=3))
    assert line == "▱▱▱▱▱▱▱▱▱▱ 0 % · 0 B read · 0 of about 430 files · time left not known yet"
    line = progress_line(FR, progress, LAST_RUN, timedelta(seconds=3))
    assert line.endswith("0 fichiers sur environ 430 · temps restant encore inconnu")


def test_a_run_bigger_than_its_estimate_stays_below_100_percent() -> None:
    progress = Progress(files_done=500, bytes_done=40_000_000)
    assert percent_done(progress, LAST_RUN) == 99
    line = progress_line(EN, progress, LAST_RUN, timedelta(seconds=60))
    assert line.startswith("▰▰▰▰▰▰▰▰▰▱ 99 % · 40.0 MB read · 500 of about 430 files")
    assert line.endswith("almost done")
    assert progress_line(FR, progress, LAST_RUN, timedelta(seconds=60)).endswith("presque terminé")


def test_once_the_runner_knows_its_total_bytes_give_the_percent() -> None:
    # The tree is walked (the last report before compression ends): exact, but still capped.
    progress = Progress(files_done=12, bytes_done=5_000_000, bytes_total=5_000_000)
    line = progress_line(EN, progress, None, timedelta(seconds=8))
    assert line == "▰▰▰▰▰▰▰▰▰▱ 99 % · 5.0 MB of 5.0 MB · 12 files so far · almost done"
    assert "5,0 Mo sur 5,0 Mo" in progress_line(FR, progress, None, timedelta(seconds=8))


@pytest.mark.parametrize(
    ("files_done", "elapsed", "left"),
    [
        (43, 10, "about 1 min 30 s left"),  # 90 s to go
        (10, 60, "about 42 min 0 s left"),  # 420 files at 10 a minute
        (215, 20, "about 20 s left"),  # half done in 20 s
    ],
)
def test_time_left_follows_the_pace_so_far_rounded(
    files_done: int, elapsed: int, left: str
) -> None:
    progress = Progress(files_done=files_done, bytes_done=files_done * 1000)
    line = progress_line(EN, progress, LAST_RUN, timedelta(seconds=elapsed))
    assert line.endswith(" · " + left)


def test_without_an_elapsed_time_there_is_no_time_left() -> None:
    line = progress_line(EN, Progress(100, 1000), LAST_RUN, None)
    assert line.endswith("time left not known yet")


def _job(job_id: int, state: JobState, files: int | None) -> Job:
    return Job(
        job_id,
        "demo",
        state,
        Origin(OriginKind.SCHEDULE),
        None,
        "scheduler",
        datetime(2026, 1, 5, tzinfo=UTC),
        file_count=files,
    )


def test_the_estimate_is_the_newest_successful_run_with_a_file_count() -> None:
    newest_first = [
        _job(9, JobState.RUNNING, None),  # the job itself
        _job(8, JobState.FAILED, 12),
        _job(7, JobState.SUCCEEDED, None),  # a command target: no count
        _job(6, JobState.SUCCEEDED, 431),
        _job(5, JobState.SUCCEEDED, 99),
    ]
    assert estimate_from(newest_first) == Estimate(files=431)
    assert estimate_from(newest_first[:3]) is None
