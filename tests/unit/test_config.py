"""Configuration (H1): TOML plus environment, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.bootstrap import alert_settings
from bot.config import ConfigError, load_settings
from core.domain.capabilities import Role
from core.domain.model import Compression, PerformanceBounds, Principal, TargetKind
from core.domain.subscriptions import AlertKind

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "EXPORTBOT_CONFIG",
        "EXPORTBOT_ADMINS",
        "EXPORTBOT_WORKSPACES",
        "EXPORTBOT_DATABASE_URL",
        "EXPORTBOT_PORT",
    ):
        monkeypatch.delenv(name, raising=False)


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "exportbot.toml"
    path.write_text(text)
    return str(path)


def test_no_configuration_gives_the_demo() -> None:
    settings = load_settings()
    assert settings.is_demo
    demo = settings.target_specs()["demo"]
    assert demo.source.endswith("examples/demo-site")
    assert demo.archive_dir == "var/archives"
    roles = {p.user_id: r for p, r, _ in settings.bootstrap_grants()}
    assert roles == {
        "alice": Role.ADMIN,
        "bob": Role.OPERATOR,
        "carol": Role.REVIEWER,
        "dave": Role.SUPPORT,
    }


def test_the_example_file_is_valid() -> None:
    settings = load_settings(str(ROOT / "examples" / "exportbot.toml"))
    specs = settings.target_specs()
    assert specs["hello"].kind is TargetKind.COMMAND
    assert specs["demo-site"].archive_dir == "var/archives/demo-site"
    assert not settings.is_demo


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, 'admins = ["console:zed"]\nport = 9000\n')
    monkeypatch.setenv("EXPORTBOT_ADMINS", "slack:T1:U1, discord:G1:42")
    monkeypatch.setenv("EXPORTBOT_PORT", "9100")
    settings = load_settings(path)
    assert settings.port == 9100
    assert [p for p, _, _ in settings.bootstrap_grants()][:2] == [
        Principal("slack", "T1", "U1"),
        Principal("discord", "G1", "42"),
    ]
    assert settings.served_workspaces() == {"slack:T1", "discord:G1"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[targets]]\nname = "a"\nkind = "archive"\n', "targets.0: an archive target needs"),
        ('[[targets]]\nname = "a"\nkind = "tape"\nsource = "/x"\n', "targets.0.kind"),
        ('[[targets]]\nname = "a b"\nsource = "/x"\n', "targets.0.name"),
        ("prot = 80\n", "prot: unknown setting; did you mean 'port'?"),
        ('admins = ["nobody"]\n', "admins"),
        ('[[grants]]\nprincipal = "console:bob"\nrole = "wizard"\n', "grants.0.role"),
        ('port = "eighty"\n', "port (or EXPORTBOT_PORT)"),
        ("this is not toml\n", "is not valid TOML"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert named in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(str(tmp_path / "nope.toml"))


def test_runbooks_and_the_link_secret_come_from_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'link_secret = "k3y"\nlink_ttl_hours = 2\n'
        '[runbooks]\n"*" = "https://wiki/exports"\n"demo:failed" = "https://wiki/demo-failed"\n',
    )
    alerts = alert_settings(load_settings(path))
    assert alerts.link_secret == b"k3y" and alerts.link_ttl.total_seconds() == 7200
    assert alerts.runbook("demo", AlertKind.FAILED) == "https://wiki/demo-failed"
    assert alerts.runbook("demo", AlertKind.QUOTA) == "https://wiki/exports"


@pytest.mark.parametrize("given", ["SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"])
def test_slack_without_its_bot_token_is_named(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv(given, "x" * 32)
    settings = load_settings()  # a manifest is printed before the bot token exists
    with pytest.raises(ConfigError) as refused:
        settings.check_platforms()
    assert f"{given} is set but SLACK_BOT_TOKEN is not" in str(refused.value)


def test_links_follow_the_port_when_no_public_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EXPORTBOT_PUBLIC_URL", raising=False)
    assert load_settings(port=9123).public_url == "http://127.0.0.1:9123"
    # What an alert's job link is built from (`serve --port 9123` passes the port so).
    assert alert_settings(load_settings(port=9123)).public_url == "http://127.0.0.1:9123"
    assert load_settings(host="0.0.0.0", port=9124).public_url == "http://127.0.0.1:9124"
    assert load_settings(host="::1", port=9125).public_url == "http://[::1]:9125"
    monkeypatch.setenv("EXPORTBOT_PUBLIC_URL", "https://bot.example.org")
    assert load_settings(port=9126).public_url == "https://bot.example.org"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DISCORD_PUBLIC_KEY", "zz", "DISCORD_PUBLIC_KEY must be the application's public key"),
        ("EXPORTBOT_DATABASE_URL", "mysql://x", "'mysql' is not a supported database URL"),
        ("EXPORTBOT_DATABASE_URL", "garbage", "'garbage' is not a supported database URL"),
    ],
)
def test_a_value_no_driver_can_use_is_named_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert named in str(refused.value)


@pytest.mark.parametrize(
    ("bound", "named"),
    [
        ('max_avg_duration = "8 weeks"', "targets.0.max_avg_duration: '8 weeks' is not a duration"),
        ('min_avg_duration = "-3s"', "targets.0.min_avg_duration"),
        ("max_avg_duration = 0", "targets.0.max_avg_duration"),
        ('max_avg_size = "lots"', "targets.0.max_avg_size: 'lots' is not a size"),
        ('min_avg_size = "0 GB"', "targets.0.min_avg_size"),
        ("performance_window_days = 0", "targets.0.performance_window_days"),
        ("performance_window_days = 400", "targets.0.performance_window_days"),
        ('max_avg_durations = "8m"', "targets.0.max_avg_durations: unknown setting"),
    ],
)
def test_a_bad_performance_bound_names_its_key(tmp_path: Path, bound: str, named: str) -> None:
    text = f'[[targets]]\nname = "a"\nsource = "/x"\n{bound}\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert named in str(caught.value)


def test_performance_bounds_read_durations_and_sizes(tmp_path: Path) -> None:
    text = (
        '[[targets]]\nname = "a"\nsource = "/x"\nmax_avg_duration = "2h"\n'
        'min_avg_duration = 90\nmax_avg_size = "5 GB"\nmin_avg_size = "500 MiB"\n'
        "performance_window_days = 3\n"
    )
    bounds = load_settings(_write(tmp_path, text)).target_specs()["a"].performance
    assert bounds == PerformanceBounds(7200.0, 90.0, 5_000_000_000, 524_288_000, 3)
    plain = load_settings(_write(tmp_path, '[[targets]]\nname = "a"\nsource = "/x"\n'))
    assert not plain.target_specs()["a"].performance.any


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        ('compression = "xz"', "targets.0.compression: Input should be 'gzip' or 'zstd'"),
        (
            'compression = "zstd"\ncompression_level = 23',
            "targets.0.compression_level: zstd levels",
        ),
        ('compression = "zstd"\ncompression_level = 0', "go from 1 to 22; 0 is outside"),
        ("compression_level = 12", "targets.0.compression_level: gzip levels go from 1 to 9"),
        ('compression = "gzip"\ncompression_level = -1', "targets.0.compression_level: gzip"),
        ('compression_level = "fast"', "targets.0.compression_level"),
        ('compresion = "zstd"', "targets.0.compresion: unknown setting"),
    ],
)
def test_a_bad_compression_setting_names_its_key(tmp_path: Path, lines: str, named: str) -> None:
    text = f'[[targets]]\nname = "a"\nsource = "/x"\n{lines}\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert named in str(caught.value)


def test_compression_is_refused_on_a_command_target(tmp_path: Path) -> None:
    text = '[[targets]]\nname = "db"\nkind = "command"\ncommand = ["true"]\ncompression = "zstd"\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(_write(tmp_path, text))
    assert "targets.0: 'compression' applies to archive targets only" in str(caught.value)


def test_compression_defaults_to_gzip_and_reads_zstd_with_its_level(tmp_path: Path) -> None:
    plain = load_settings(_write(tmp_path, '[[targets]]\nname = "a"\nsource = "/x"\n'))
    assert (plain.target_specs()["a"].compression, plain.target_specs()["a"].compression_level) == (
        Compression.GZIP,
        None,
    )
    text = '[[targets]]\nname = "a"\nsource = "/x"\ncompression = "zstd"\ncompression_level = 19\n'
    spec = load_settings(_write(tmp_path, text)).target_specs()["a"]
    assert (spec.compression, spec.compression_level) == (Compression.ZSTD, 19)
