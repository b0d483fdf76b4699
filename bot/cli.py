"""`exportbot` command line (ARCHITECTURE.md, public contract)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import ConfigError, Settings, load_settings
from bot.errors import PlatformUnavailable
from bot.logs import configure_logging
from bot.report import add_arguments as add_report_arguments
from bot.report import report_main
from core.exports.service import export_chunks
from core.exports.spec import ExportSpec, ExportWhat
from core.jobs.export import ExportFormat
from storage import SqlJobArchive, SqlUnitOfWorkFactory, open_engine, upgrade
from storage.database import normalize_url
from storage.migrate import SchemaOutdated, ensure_schema

EXIT_CONFIG = 2
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE
EXIT_CANT_CREATE = 73  # EX_CANTCREAT
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE  # what a shell reports when the reader leaves early
EXIT_TERMINATED = 128 + signal.SIGTERM
MANIFEST_PLATFORMS = ("slack", "teams", "discord")


class OutputError(Exception):
    """Writing the output failed: named as the output's fault, not the database's."""

    def __init__(self, where: Path | str, reason: str) -> None:
        super().__init__(f"Cannot write {where}: {reason}")


class StdoutClosed(Exception):
    """Standard output's reader has left (`exportbot audit export ... | head`)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exportbot",
        description="Chat-ops bot for backup and export jobs (Slack, Teams, Discord, console).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot's HTTP server")
    serve.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")

    worker = commands.add_parser(
        "worker", help="run queued jobs of some targets on this host (shared PostgreSQL)"
    )
    worker.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    worker.add_argument(
        "--targets",
        type=_names,
        help='comma-separated targets to claim (default: every target with run_jobs = "workers")',
    )

    console = commands.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    console.add_argument("--user", help="who you are (demo users: alice, bob, carol, dave)")
    console.add_argument("--locale", help="reply language: en or fr (default: from LANG)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")

    audit = commands.add_parser("audit", help="audit exports")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    export = audit_commands.add_parser(
        "export", help="every job of a period with its annotations (CSV, JSON or NDJSON)"
    )
    export.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    export.add_argument("--since", required=True, type=_moment, help="first day (YYYY-MM-DD)")
    export.add_argument("--until", required=True, type=_moment_end, help="last day, included")
    export.add_argument("--format", choices=[f.value for f in ExportFormat], default="csv")
    export.add_argument(
        "--what",
        choices=[w.value for w in ExportWhat],
        default=ExportWhat.JOBS.value,
        help="jobs (default) or actions: the action log (who did what, where, when, outcome)",
    )
    export.add_argument("--target", help="only this target's jobs or actions")
    export.add_argument("--out", help="write to FILE (atomically) instead of standard output")

    api_key = commands.add_parser("api-key", help="keys for the job-event API")
    key_commands = api_key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True, help="the key's name (letters, digits, . _ -)")
    create.add_argument(
        "--target",
        action="append",
        default=[],
        dest="targets",
        metavar="T",
        help="a target the key may report (repeat; none: every target)",
    )
    create.add_argument(
        "--may-create",
        action="store_true",
        help="reporting to an unknown target creates it as a `reported` target",
    )
    key_commands.add_parser("list", help="list keys (never their secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("name", help="the key's name")
    for sub in (create, revoke, key_commands.choices["list"]):
        sub.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")

    manifest = commands.add_parser(
        "manifest", help="print a platform's app manifest, generated from the command registry"
    )
    manifest.add_argument("platform", choices=MANIFEST_PLATFORMS, help="slack, teams or discord")
    manifest.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    manifest.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE instead of standard output (Teams: the app package, a zip)",
    )

    discord = commands.add_parser("discord", help="Discord application maintenance")
    discord_commands = discord.add_subparsers(dest="discord_command", required=True)
    register = discord_commands.add_parser(
        "register", help="push the /export commands to Discord (a bulk overwrite)"
    )
    register.add_argument("--config", help="TOML configuration file (or EXPORTBOT_CONFIG)")
    register.add_argument(
        "--guild",
        metavar="ID",
        default="",
        help="register in this guild only (shown at once) instead of globally (up to an hour)",
    )

    # Parsed by bot/report.py (its command follows `--`); declared here for `--help`.
    report = commands.add_parser(
        "report", help="run a command and report it as a job (start, exit status, output tail)"
    )
    add_report_arguments(report)
    report.add_argument("argv", nargs=argparse.REMAINDER, help="-- the command and its arguments")
    return parser


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one target, e.g. --targets site-a,db")
    return names


def _shown(name: str) -> str:
    """A name as typed, safe to print: shortened, and unprintable characters (a terminal's
    escapes, bytes that are not UTF-8) as `?`."""
    clean = "".join(c if c.isprintable() else "?" for c in name[:64])
    return clean + "…" if len(name) > 64 else clean


def _moment(text: str) -> datetime:
    """`2026-01-31` (midnight UTC) or an ISO date-time; naive times are UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write YYYY-MM-DD or an ISO date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment_end(text: str) -> datetime:
    """A bare date includes its whole day: the export runs until the next midnight."""
    moment = _moment(text)
    return moment + timedelta(days=1) if len(text) == len("YYYY-MM-DD") else moment


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["report"]:  # needs no configuration: it runs where the backup runs
        return report_main(arguments[1:])
    args = build_parser().parse_args(arguments)
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["port"] = args.port
    try:
        settings = load_settings(args.config, **overrides)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _dispatch(args, settings)
    except (SchemaOutdated, ConfigError) as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    except PlatformUnavailable as error:
        print(f"exportbot: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except StdoutClosed:
        _silence_stdout()
        return EXIT_PIPE_CLOSED
    except OutputError as error:
        print(error, file=sys.stderr)
        return EXIT_CANT_CREATE
    except (DBAPIError, OSError) as error:
        where = make_url(normalize_url(settings.database_url)).render_as_string(hide_password=True)
        reason = getattr(error, "orig", None) or error
        print(f"Cannot use the database {where}: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "manifest":  # needs no database: prints and leaves
        return print_manifest(settings, args.platform, args.out)
    if args.command == "discord" and args.discord_command == "register":
        return register_discord_commands(settings, args.guild)
    if args.command == "serve":
        configure_logging(settings.log_level, settings.log_format)
        asyncio.run(prepare_database(settings))  # fail here, clearly, not inside the server
        return serve(settings)
    if args.command == "worker":
        configure_logging(settings.log_level, settings.log_format)
        return asyncio.run(worker(settings, args.targets))
    # The console's replies go to stdout; keep logs to warnings on stderr.
    configure_logging("WARNING", settings.log_format)
    if args.command == "console":
        return asyncio.run(console(settings, args.user, args.locale))
    if args.command == "db" and args.db_command == "upgrade":
        return asyncio.run(db_upgrade(settings))
    if args.command == "api-key":
        return asyncio.run(api_key_command(settings, args))
    if args.command == "audit" and args.audit_command == "export":
        if args.until <= args.since:
            print("--until must be after --since.", file=sys.stderr)
            return EXIT_USAGE
        spec = ExportSpec(
            ExportWhat(args.what), ExportFormat(args.format), args.since, args.until, args.target
        )
        return asyncio.run(audit_export(settings, spec, args.out))
    return 1


def print_manifest(settings: Settings, platform: str, out: str | None = None) -> int:
    """Print the platform's manifest for this deployment's public URL (and Socket Mode)."""
    if platform == "teams":
        return write_teams_package(settings, out)
    if platform == "discord":
        return write_discord_commands(out)
    from bot.manifests.slack import slack_manifest_yaml

    socket_mode = settings.slack_app_token is not None
    if not socket_mode and not settings.public_url.startswith("https://"):
        print(
            f"Note: Slack only sends requests to a public https URL, and the public URL is "
            f"{settings.public_url}. Set EXPORTBOT_PUBLIC_URL (or SLACK_APP_TOKEN for Socket "
            "Mode) before installing this manifest.",
            file=sys.stderr,
        )
    return _print_or_write(slack_manifest_yaml(settings.public_url, socket_mode=socket_mode), out)


def write_teams_package(settings: Settings, out: str | None) -> int:
    """Write the Teams app package (a zip) to `out`, or to standard output unless a terminal."""
    from bot.manifests.teams import CLIENT_ID_ENV, PLACEHOLDER_ID, app_package

    if out is None and sys.stdout.isatty():
        print(
            "Not writing a zip to a terminal: use --out FILE, or redirect "
            "(exportbot manifest teams > exportbot-teams.zip).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    client_id = settings.teams_client_id.strip() or None  # the Agents SDK's setting
    try:
        package = app_package(settings.public_url, client_id or PLACEHOLDER_ID)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    if client_id is None:
        print(
            f"Warning: {CLIENT_ID_ENV} is not set, so the package uses the placeholder id "
            f"{PLACEHOLDER_ID}. Set it to the bot's Microsoft Entra app (client) id and "
            "generate the package again before uploading it to Teams.",
            file=sys.stderr,
        )
    if not settings.public_url.startswith("https://"):
        print(
            f"Note: Teams wants https URLs in the package and talks only to a public https "
            f"endpoint, and the public URL is {settings.public_url}. Set EXPORTBOT_PUBLIC_URL "
            "before uploading this package.",
            file=sys.stderr,
        )
    if out is not None:
        _write_bytes_atomically(Path(out), package)
        return 0
    with _output(None):
        sys.stdout.flush()
        sys.stdout.buffer.write(package)
        sys.stdout.buffer.flush()
    return 0


def register_discord_commands(settings: Settings, guild: str) -> int:
    """Push the command JSON through Discord's API with the bot token."""
    from bot.manifests.discord_registration import register_commands
    from core.delivery.senders import DeliveryError

    token = settings.discord_bot_token
    if token is None:
        print(
            "DISCORD_BOT_TOKEN is not set: Discord needs it to register commands.", file=sys.stderr
        )
        return EXIT_CONFIG
    try:
        names = asyncio.run(
            register_commands(
                token.get_secret_value(),
                settings.discord_application_id,
                settings.discord_api_url,
                guild,
            )
        )
    except (DeliveryError, ValueError) as error:
        print(f"Discord refused the commands: {getattr(error, 'detail', error)}", file=sys.stderr)
        return 1
    except Exception as error:  # a bad token, an unreachable API: say so, no traceback
        print(f"Could not register the commands: {error}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    where = f"guild {guild}" if guild else "every guild (Discord may take up to an hour)"
    print(f"Registered {', '.join(f'/{n}' if ' ' not in n else n for n in names)} in {where}.")
    return 0


def write_discord_commands(out: str | None) -> int:
    """Print the Discord application commands (JSON for a bulk overwrite), or write `out`."""
    from bot.manifests.discord import render

    try:
        text = render()
    except ValueError as error:  # the registry outgrew Discord's limits
        print(error, file=sys.stderr)
        return 1
    return _print_or_write(text, out)


def _print_or_write(text: str, out: str | None) -> int:
    """A manifest to standard output, or atomically to `out`."""
    if out is not None:
        _write_bytes_atomically(Path(out), text.encode("utf-8"))
        return 0
    with _output(None):
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


@contextmanager
def _atomic_file(path: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """A file written beside `path` and moved onto it only once complete and on disk: a
    reader never sees half of it, and a failure leaves the old one."""
    partial = path.with_name(f".{path.name}.part")
    try:
        with _output(path):
            handle = partial.open(mode, **options)
        with handle:
            yield handle
            with _output(path):
                handle.flush()
                os.fsync(handle.fileno())
        with _output(path):
            partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _output(path: Path | None) -> Iterator[None]:
    """Errors of the output (`path`, or standard output when None) raised as such: main()
    would otherwise take an OSError for the database's."""
    try:
        yield
    except BrokenPipeError:
        if path is None:
            raise StdoutClosed from None
        raise OutputError(path, "Broken pipe") from None
    except OSError as error:
        raise OutputError(path or "standard output", error.strerror or str(error)) from None


def _silence_stdout() -> None:
    """Point standard output at /dev/null: Python flushes it at exit, and into a closed pipe
    that would print a BrokenPipeError after all (the Python docs' recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    with _atomic_file(path, "wb") as handle, _output(path):
        handle.write(data)


async def prepare_database(settings: Settings) -> None:
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)


def serve(settings: Settings) -> int:
    from bot.app import TeamsNotAllowed, create_app
    from bot.http_server import HttpServer, run_until_signalled

    try:
        settings.check_platforms()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_CONFIG
    try:
        app = create_app(settings)
    except TeamsNotAllowed as refused:
        print(f"exportbot: {refused}", file=sys.stderr)
        return 2
    server = HttpServer(
        app,
        settings.host,
        settings.port,
        shutdown_timeout=settings.shutdown_grace_seconds,
        # aiohttp arms this from the moment a connection opens and a partial request does not
        # reset it: it bounds idle connections and headers trickled a byte at a time alike.
        keepalive_timeout=settings.idle_timeout_seconds,
    )
    run_until_signalled(server)
    return 0


async def console(settings: Settings, user: str | None, locale: str | None) -> int:
    from bot.bootstrap import open_console

    name = user or ("alice" if settings.is_demo else getpass.getuser())
    language = locale or os.environ.get("LC_ALL") or os.environ.get("LANG") or "en"
    # SIGTERM cancels the session; leaving open_console then records running jobs as interrupted.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    try:
        async with open_console(settings, name, locale=language) as session:
            if sys.stdin.isatty():
                print(session.welcome() + "\n")
                await session.run_interactive()
            else:
                await session.run_script(sys.stdin)
    except asyncio.CancelledError:
        return EXIT_TERMINATED
    except BrokenPipeError:  # `exportbot console | head`: replies are all it writes to a pipe
        raise StdoutClosed from None
    if session.reader_gone:  # a job's end found the pipe closed (the session stopped)
        raise StdoutClosed
    return 0


async def worker(settings: Settings, names: list[str] | None) -> int:
    """Claim and run queued jobs of `names` until SIGTERM or SIGINT; then claim no more and
    give running jobs `shutdown_grace_seconds` to end (later, they are recorded interrupted)."""
    from bot.bootstrap import WorkerNeedsPostgres, open_worker

    known = settings.target_specs()
    targets = names if names is not None else settings.worker_targets()
    unknown = [name for name in targets if name not in known]
    if unknown:
        named = ", ".join(_shown(name) for name in unknown[:5]) + (", …" if unknown[5:] else "")
        print(f"Unknown target {named}; configured: {', '.join(known)}.", file=sys.stderr)
        return EXIT_USAGE
    if not targets:
        print(
            'No target runs on workers: set run_jobs = "workers" (globally or on targets), '
            "or name them with --targets.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with open_worker(settings, targets):
            await stop.wait()
    except WorkerNeedsPostgres as refused:
        print(refused, file=sys.stderr)
        return EXIT_CONFIG
    return 0


async def api_key_command(settings: Settings, args: argparse.Namespace) -> int:
    """`api-key create|list|revoke`: the operator at the terminal is the actor."""
    from bot.api_master import MasterKeyError, load_master_key
    from core.api.admin import KeyRefused, create_key, list_keys, revoke_key
    from core.clock import SystemClock
    from core.domain.model import Actor, Principal

    actor = Actor(Principal("cli", "", getpass.getuser()), getpass.getuser())
    clock = SystemClock()
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        if args.key_command == "create":
            try:
                master = load_master_key(settings.api_master_key_path)
                printed = await create_key(
                    uow_factory, master, clock, actor, args.name, args.targets,
                    may_create=args.may_create,
                )  # fmt: skip
            except (KeyRefused, MasterKeyError) as refused:
                print(getattr(refused, "reason", refused), file=sys.stderr)
                return EXIT_USAGE
            print(printed)
            print("Keep it now: it is not shown again.", file=sys.stderr)
            return 0
        if args.key_command == "revoke":
            if not await revoke_key(uow_factory, clock, actor, args.name):
                print(f"No active key named {args.name[:70]}.", file=sys.stderr)
                return EXIT_USAGE
            print(f"Revoked {args.name}.")
            return 0
        keys = await list_keys(uow_factory)
    if not keys:
        print("No API keys. Create one with: exportbot api-key create --name N")
    for key in keys:
        used = f"{key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at else "never"
        columns = [
            key.name,
            "targets: "
            + (", ".join(key.targets) or "all")
            + (" (may create)" if key.may_create else ""),
            f"created {key.created_at:%Y-%m-%d %H:%M} UTC",
            f"last used {used}",
        ]
        if key.revoked:
            columns.append("REVOKED")
        print("\t".join(columns))
    return 0


async def db_upgrade(settings: Settings) -> int:
    async with open_engine(settings.database_url) as engine:
        await upgrade(engine)
    print("Database is up to date.")
    return 0


async def audit_export(settings: Settings, spec: ExportSpec, out: str | None) -> int:
    async with open_engine(settings.database_url) as engine:
        await ensure_schema(engine)
        # aclosing: a reader that leaves early ends the database stream before the engine.
        made = export_chunks(spec, SqlJobArchive(engine), SqlUnitOfWorkFactory(engine))
        async with aclosing(made) as chunks:
            with _without_cycle_collector():
                if out is None:
                    await _write_to_stdout(chunks)
                else:
                    await _write_atomically(Path(out), chunks)
    return 0


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """An export makes millions of rows that reference counting frees as they are written, and
    no cycles; the cycle collector would only rescan the live objects every few hundred rows
    (a million jobs: ~12% of the time, bench/audit_export.py)."""
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def _write_to_stdout(chunks: AsyncIterator[str]) -> None:
    async for chunk in chunks:
        with _output(None):
            sys.stdout.write(chunk)
    with _output(None):
        sys.stdout.flush()


async def _write_atomically(path: Path, chunks: AsyncIterator[str]) -> None:
    with _atomic_file(path, "w", encoding="utf-8", newline="") as handle:
        async for chunk in chunks:
            with _output(path):
                handle.write(chunk)


if __name__ == "__main__":
    raise SystemExit(main())
