"""F2: one sentence with a job's state and the next step, and the `summary <job>` verb."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands import model as c
from core.commands.grammar import parse
from core.domain.model import Job, JobState, Origin, OriginKind, Outcome
from core.i18n import CATALOGS, Translator
from core.jobs.runners.base import Progress
from core.safety.links import PageLinks, verify_page
from core.views.jobs import job_message
from core.views.summary import Cause, ago, failure_cause, job_sentence
from tests.fakes import FakeStore
from tests.unit.conftest import RecordingJobControl, console

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
EN, FR = Translator("en"), Translator("fr")


def _job(state: JobState, **values: object) -> Job:
    job = Job(12, "site-a", state, Origin(OriginKind.SCHEDULE), None, "", NOW - timedelta(hours=1))
    if state is not JobState.QUEUED:
        job.started_at = NOW - timedelta(minutes=30)
    if state.is_terminal:
        job.finished_at = NOW - timedelta(minutes=20)
    for name, value in values.items():
        setattr(job, name, value)
    return job


def test_the_issue_s_example_sentence_is_said_word_for_word() -> None:
    job = _job(JobState.FAILED, error="no space left in archive folder /srv/archives")
    assert job_sentence(EN, job, NOW) == (
        "Job #12 of site-a failed 20 min ago: the disk is full; prune old archives, then retry."
    )
    assert job_sentence(FR, job, NOW) == (
        "Le job #12 de site-a a échoué il y a 20 min\u202f: le disque est plein\u202f; "
        "supprimez les vieilles archives, puis relancez."
    )


# What the runners really record (core/jobs/runners/, core/api/service.py), and its cause.
RECORDED = [
    ("no space left in archive folder /srv/a", Cause.DISK_FULL),
    ("cannot write to archive folder /srv/a: permission denied", Cause.PERMISSION),
    ("cannot read etc/shadow: permission denied", Cause.PERMISSION),
    ("source folder /srv/site does not exist", Cause.SOURCE_MISSING),
    ("source /srv/site/x is not a folder", Cause.SOURCE_MISSING),
    ("target site-a has no source folder", Cause.MISCONFIGURED),
    ("target db has no command", Cause.MISCONFIGURED),
    ("working folder /nope does not exist", Cause.MISCONFIGURED),
    ("command not found: pg_dump", Cause.COMMAND_MISSING),
    ("command not executable: ./dump.sh", Cause.COMMAND_MISSING),
    ("cannot start pg_dump: Too many open files", Cause.COMMAND_MISSING),
    ("timed out after 60 s\nlast lines", Cause.TIMED_OUT),
    ("killed by signal SIGKILL", Cause.KILLED),
    ("exited with status 2\npg_dump: error", Cause.EXIT_STATUS),
    ("exit status 3", Cause.EXIT_STATUS),
    (
        "db is a reported target: an outside tool runs it and reports to the API",
        Cause.REPORTED_ELSEWHERE,
    ),
    ("cannot read wp-content/x.jpg: Input/output error", Cause.UNREADABLE),
    ("cannot write the archive in /srv/a: Input/output error", Cause.UNREADABLE),
    ("failed", Cause.UNKNOWN),
    ("", Cause.UNKNOWN),
]


@pytest.mark.parametrize(("error", "cause"), RECORDED)
def test_a_recorded_failure_is_read_as_its_known_cause(error: str, cause: Cause) -> None:
    assert failure_cause(error) is cause


def test_every_cause_has_its_words_and_its_step_in_both_languages() -> None:
    for locale, catalog in CATALOGS.items():
        for cause in Cause:
            assert f"cause.{cause.value}" in catalog, (locale, cause)
            assert f"cause.{cause.value}.step" in catalog, (locale, cause)


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize(("error", "cause"), RECORDED)
def test_a_failure_s_sentence_names_its_cause_and_the_step_for_it(
    locale: str, error: str, cause: Cause
) -> None:
    t = Translator(locale)
    sentence = job_sentence(t, _job(JobState.FAILED, error=error), NOW)
    assert t.t(f"cause.{cause.value}", target="site-a") in sentence
    assert t.t(f"cause.{cause.value}.step", target="site-a", job=12) in sentence
    assert "#12" in sentence and sentence.endswith(".") and "{" not in sentence


@pytest.mark.parametrize(
    ("job", "english", "french"),
    [
        (
            _job(JobState.QUEUED),
            "Job #12 of site-a was queued 1 h ago and waits its turn; nothing to do, "
            "or stop it with cancel #12.",
            "Le job #12 de site-a a été mis en file il y a 1 h",
        ),
        (
            _job(JobState.RUNNING),
            "Job #12 of site-a is running, started 30 min ago; wait for it to end, "
            "or stop it with cancel #12.",
            "Le job #12 de site-a est en cours, démarré il y a 30 min",
        ),
        (
            _job(JobState.SUCCEEDED, file_count=214, size_bytes=1_200_000),
            "Job #12 of site-a succeeded 20 min ago: 214 files, 1.2 MB, in 10 min 0 s; "
            "nothing to do.",
            "Le job #12 de site-a a réussi il y a 20 min\u202f: 214 fichiers, 1,2 Mo",
        ),
        (
            _job(JobState.SUCCEEDED),
            "Job #12 of site-a succeeded 20 min ago in 10 min 0 s; nothing to do.",
            "Le job #12 de site-a a réussi il y a 20 min en 10 min 0 s",
        ),
        (
            _job(JobState.CANCELLED),
            "Job #12 of site-a was cancelled 20 min ago; run site-a again when you are ready.",
            "Le job #12 de site-a a été annulé il y a 20 min",
        ),
        (
            _job(JobState.INTERRUPTED),
            "Job #12 of site-a was interrupted 20 min ago when the bot stopped; "
            "press Resume to run site-a again.",
            "appuyez sur Reprendre",
        ),
    ],
)
def test_every_state_has_its_sentence_in_english_and_french(
    job: Job, english: str, french: str
) -> None:
    assert job_sentence(EN, job, NOW) == english
    assert french in job_sentence(FR, job, NOW)


def test_a_running_job_says_how_far_it_is_when_something_tells() -> None:
    sentence = job_sentence(EN, _job(JobState.RUNNING), NOW, percent=42)
    assert "is running, 42 % done, started 30 min ago" in sentence
    assert "fait à 42 %" in job_sentence(FR, _job(JobState.RUNNING), NOW, percent=42)


@pytest.mark.parametrize(
    ("elapsed", "english", "french"),
    [
        (timedelta(seconds=-5), "just now", "à l'instant"),  # a clock a little behind
        (timedelta(seconds=59), "just now", "à l'instant"),
        (timedelta(minutes=1), "1 min ago", "il y a 1 min"),
        (timedelta(minutes=59, seconds=59), "59 min ago", "il y a 59 min"),
        (timedelta(hours=47), "47 h ago", "il y a 47 h"),
        (timedelta(days=3, hours=1), "3 days ago", "il y a 3 jours"),
    ],
)
def test_how_long_ago_is_said_in_words(elapsed: timedelta, english: str, french: str) -> None:
    assert ago(EN, NOW - elapsed, NOW) == english
    assert ago(FR, NOW - elapsed, NOW) == french


def test_a_job_message_s_summary_is_the_sentence() -> None:
    job = _job(JobState.FAILED, error="timed out after 60 s")
    message = job_message(EN, job, now=NOW)
    assert message.summary == job_sentence(EN, job, NOW)
    assert "ran past its time limit" in message.summary


def test_the_grammar_reads_summary_with_a_job_number() -> None:
    assert parse("summary #12") == c.ShowSummary(12)
    assert parse("summary 7") == c.ShowSummary(7)


@pytest.fixture
def linked(store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl) -> CommandService:
    from bot.bootstrap import PLATFORMS
    from tests.unit.conftest import TARGETS

    pages = PageLinks("https://bot.example.org", b"k", timedelta(hours=1))
    return CommandService(
        store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, workspaces={"slack:T1"}, pages=pages
    )


async def test_summary_answers_whoever_asked_with_the_sentence_and_a_signed_job_page(
    linked: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await linked.execute_text("run demo", console("bob"))
    reply = await linked.execute_text("summary #1", console("dave"))  # support may view
    assert reply.ephemeral and reply.job_id == 1
    assert reply.summary.startswith("Job #1 of demo was queued just now")
    assert reply.text.startswith(reply.summary)
    [page] = reply.links
    path, _, query = page.value.removeprefix("https://bot.example.org").partition("?")
    params = dict(part.split("=") for part in query.split("&"))
    assert path == "/jobs/1"
    assert verify_page(b"k", path, None, params["expires"], params["sig"], clock.now())
    french = await linked.execute_text("summary #1", console("dave", locale="fr"))
    assert french.summary.startswith("Le job #1 de demo a été mis en file")
    assert "lang=fr" in french.links[0].value
    assert store.state.audit[-1].action == "summary"


async def test_summary_of_a_running_job_gives_its_percentage_from_the_last_run(
    service: CommandService, store: FakeStore, jobs: RecordingJobControl, clock: FrozenClock
) -> None:
    for _ in range(2):
        await service.execute_text("run demo", console("bob"))
        job = store.state.jobs[max(store.state.jobs)]
        job.transition(JobState.RUNNING, clock.now())
        if job.id == 1:
            job.file_count = 200
            job.transition(JobState.SUCCEEDED, clock.now())
    jobs.progress[2] = Progress(files_done=50, bytes_done=1000)
    reply = await service.execute_text("summary #2", console("bob"))
    assert "is running, 25 % done" in reply.summary


async def test_summary_is_refused_without_view_and_names_an_unknown_job(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    refused = await service.execute_text("summary #1", console("mallory"))
    assert "“view” capability" in refused.text and "Job #1" not in refused.text
    assert store.state.audit[-1].outcome is Outcome.REFUSED
    missing = await service.execute_text("summary #99", console("bob"))
    assert "There is no job #99." in missing.text
    wrong = await service.execute_text("summary demo", console("bob"))
    assert wrong.error_key and "#" not in wrong.summary[:3]
