"""GET /exports/{id} and the `audit` verb as doors (G4, G1): a bent, forged, expired or absurd
link is a 403, 404 or 410 page and never a 500; any arguments to `audit` get a clear reply,
never an internal error; and neither changes anything (no row, no file)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.safety.links import export_path, signed_url
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import slash_command
from tests.hostile.chat_shapes import HOSTILE_TEXT
from tests.hostile.test_slack_door import counts

HOSTILE = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WELL_FORMED = "A" * 32  # an id of the right shape that no export has


def _signed(slack: SlackHarness, path: str, *, ago: timedelta = timedelta(0)) -> str:
    alerts = slack.bot.alerts
    now = slack.bot.clock.now() - ago
    return signed_url("", path, alerts.link_secret, now, timedelta(hours=1))


def _files(slack: SlackHarness) -> list[str]:
    folder: Path = slack.bot.exports.store.folder
    return sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []


async def _get(slack: SlackHarness, path: str) -> tuple[int, str]:
    response = await slack.client.get(path)
    return response.status, await response.text()


async def _an_export(slack: SlackHarness) -> str:
    """Alice's `audit` of the demo's jobs, built; the link in its ready message."""
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    await slack.post(slash_command("audit", user=ADMIN, response_url=""))
    await slack.settle()
    [ready] = [u for u in slack.standin.called("chat.update") if "Ready" in str(u.get("text", ""))]
    [link] = [
        word.replace("&amp;", "&") for word in str(ready["text"]).split() if "/exports/" in word
    ]
    return link[link.index("/exports/") :]


@pytest.mark.parametrize(
    "path",
    [
        f"/exports/{WELL_FORMED}",  # no signature
        f"/exports/{WELL_FORMED}?expires=99999999999&sig=" + "0" * 64,
        f"/exports/{WELL_FORMED}?expires=" + "9" * 5000 + "&sig=x",
        f"/exports/{WELL_FORMED}?expires=%C2%B2&sig=x",
        f"/exports/{WELL_FORMED}?expires=1&sig=%C3%A9",
        "/exports/..%2F..%2Fbot.db?expires=1&sig=x",
        "/exports/%00?expires=1&sig=x",
    ],
)
async def test_a_forged_export_link_is_a_403_page_not_a_500(slack: SlackHarness, path: str) -> None:
    before = counts(slack), _files(slack)
    status, text = await _get(slack, path)
    assert status == 403
    assert "download link is not valid" in text
    assert (counts(slack), _files(slack)) == before


async def test_a_signed_link_to_an_export_that_does_not_exist_is_a_404(
    slack: SlackHarness,
) -> None:
    for export_id in (WELL_FORMED, "x", "..-_~"):  # signed right, but no such file
        status, _ = await _get(slack, _signed(slack, export_path(export_id)))
        assert status == 404


async def test_a_genuine_link_past_its_time_is_410_gone(slack: SlackHarness) -> None:
    link = _signed(slack, export_path(WELL_FORMED), ago=timedelta(hours=2))
    status, text = await _get(slack, link)
    assert status == 410 and "expired" in text


async def test_a_real_export_downloads_once_audited_and_a_bent_copy_does_not(
    slack: SlackHarness,
) -> None:
    link = await _an_export(slack)

    status, body = await _get(slack, link)
    await slack.settle()

    assert status == 200 and body.startswith("id,target,state,")
    assert slack.rows(
        "SELECT actor, action, outcome FROM audit_log WHERE action = 'audit.download'"
    ) == [("web::link", "audit.download", "ok")]
    bent = link.replace("expires=", "expires=1")
    assert (await _get(slack, bent))[0] == 403


ANY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str)


@HOSTILE
@given(
    export_id=ANY | st.just(WELL_FORMED) | st.just("9" * 5000),
    expires=ANY | NUMBERS | st.just("9" * 5000),
    sig=ANY | st.just("0" * 64),
    extra=st.dictionaries(ANY, ANY, max_size=3),
)
async def test_any_export_link_is_a_page_below_500_and_changes_nothing(
    slack: SlackHarness, export_id: str, expires: str, sig: str, extra: dict[str, str]
) -> None:
    if not export_id or export_id in (".", ".."):
        return  # not an /exports/{id} path at all
    before = counts(slack), _files(slack)
    query = urlencode({**extra, "expires": expires, "sig": sig})
    status, _ = await _get(slack, f"/exports/{quote(export_id, safe='')}?{query}")
    assert status in (400, 403, 404, 410)  # 400: aiohttp's own limit on a request line
    assert (counts(slack), _files(slack)) == before


# A slash command's text is form-encoded UTF-8: a lone surrogate cannot be sent at all.
_SENDABLE = HOSTILE_TEXT.filter(lambda text: not any("\ud800" <= c <= "\udfff" for c in text))
OPTION_VALUES = _SENDABLE | ANY | st.sampled_from(
    ["2026-02-30", "9999-12-31", "0001-01-01", "2026-11-01T25:00", "2026-11-01T10:00+99:00",
     "csv", "json", "actions", "jobs", "demo", "*", "--since", '"', "\x00"]
)  # fmt: skip


@HOSTILE
@given(
    options=st.lists(
        st.tuples(
            st.sampled_from(["--since", "--until", "--target", "--format", "--what", "--bogus"]),
            OPTION_VALUES,
        ),
        max_size=4,
    )
)
async def test_any_audit_arguments_get_a_clear_reply_never_an_internal_error(
    slack: SlackHarness, options: list[tuple[str, str]]
) -> None:
    text = "audit " + " ".join(f"{name} {quote_word(value)}" for name, value in options)
    before = _files(slack)
    status, answer = await slack.post(slash_command(text, user=ADMIN, response_url=""))
    await slack.settle()

    assert status == 200
    assert answer is not None and "text" in answer, answer
    assert slack.rows("SELECT count(*) FROM audit_log WHERE outcome = 'error'") == [(0,)]
    if "Started" not in answer["text"]:  # refused: nothing was built
        assert _files(slack) == before


def quote_word(value: str) -> str:
    """The value as one word of the grammar (quoted, its quotes escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
