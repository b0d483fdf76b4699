"""`reported` targets in the configuration: only a name and the kind are needed; the
dead-man's switch settings are read as durations and cron, and refused where they mean
nothing, each refusal naming its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from core.domain.model import ExpectedRuns, TargetKind


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exportbot.toml"
    path.write_text(text)
    return str(path)


def test_a_reported_target_needs_only_its_name_and_kind(tmp_path: Path) -> None:
    spec = load_settings(_write(tmp_path, '[[targets]]\nname = "db"\nkind = "reported"\n'))
    [only] = spec.target_specs().values()
    assert only.kind is TargetKind.REPORTED and only.expected == ExpectedRuns()
    assert not only.expected.any  # nothing expected: the switch leaves it alone


def test_the_switch_settings_are_read(tmp_path: Path) -> None:
    text = (
        '[[targets]]\nname = "db"\nkind = "reported"\nschedule = "0  3 * * *"\n'
        'timezone = "Europe/Paris"\ngrace = "45m"\nmax_runtime = "2h"\n'
        '[[targets]]\nname = "wp"\nkind = "reported"\nevery = "1d"\ngrace = 0\n'
    )
    specs = load_settings(_write(tmp_path, text)).target_specs()
    assert specs["db"].expected == ExpectedRuns(
        "0 3 * * *", "Europe/Paris", None, timedelta(minutes=45), timedelta(hours=2)
    )
    assert specs["wp"].expected == ExpectedRuns(every=timedelta(days=1), grace=timedelta(0))


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        ('kind = "archive"\nsource = "/x"\nevery = "1h"', "targets.0: every: only for reported"),
        ('kind = "command"\ncommand = ["true"]\ngrace = "5m"', "grace: only for reported targets"),
        ('kind = "reported"\nschedule = "0 3 * * *"\nevery = "1d"', "not both"),
        ('kind = "reported"\nschedule = "at three"', "'at three' is not a cron expression"),
        ('kind = "reported"\ntimezone = "Mars/Olympus"', "'Mars/Olympus' is not an IANA time"),
        ('kind = "reported"\nevery = "weekly"', "targets.0.every: 'weekly' is not a duration"),
        ('kind = "reported"\nmax_runtime = 0', "targets.0.max_runtime"),
        ('kind = "reported"\ngrace = "-1m"', "targets.0.grace"),
        ('kind = "reported"\nevrey = "1d"', "targets.0.evrey: unknown setting"),
    ],
)
def test_a_bad_switch_setting_names_its_key(tmp_path: Path, lines: str, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_write(tmp_path, f'[[targets]]\nname = "db"\n{lines}\n'))
    assert named in str(refused.value)
