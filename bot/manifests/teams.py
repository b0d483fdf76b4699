"""The Teams app package, generated from the command registry (A6).

`exportbot manifest teams` writes it as a zip — `manifest.json`, `color.png`, `outline.png` —
ready to upload to Teams. `manifest/teams/` holds the three files for
https://exportbot.example.com with the placeholder app id, and a test fails when they drift
from what this module generates. Field names and limits follow Microsoft's app manifest
schema, version 1.29.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import re
import zipfile
from typing import Any
from urllib.parse import urlsplit

from bot.manifests.teams_icons import BRAND_COLOR, color_icon, outline_icon
from core.commands.grammar.registry import Verb, find_verb
from core.i18n import Translator

SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.29"

# The Agents SDK reads its connection settings from the environment, `__` separating levels
# (`Settings.teams_client_id` reads the same variable); the bot's Microsoft Entra app (client)
# id is both the app's id and the bot's id in the manifest.
CLIENT_ID_ENV = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_VERSION = "1.0.0"  # when the package's own version is unknown or not x.y.z

# Teams shows the listing's texts as they are, in one language.
LOCALE = "en"
SHORT_NAME = "exportbot"
FULL_NAME = "exportbot: backup and export jobs"
PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"

MANIFEST_FILE = "manifest.json"
COLOR_FILE = "color.png"
OUTLINE_FILE = "outline.png"

SCOPES = ("personal", "team", "groupChat")
PERMISSIONS = ("identity", "messageTeamMembers")

# Limits. The 1.29 schema allows 12 commands of 128-character titles and 4000-character
# descriptions per list, but Teams' command menu documents (and earlier schemas enforced) 10
# commands, 32 and 128 characters; the stricter ones hold for every client.
MAX_SHORT_NAME = 30
MAX_FULL_NAME = 100
MAX_SHORT_DESCRIPTION = 80
MAX_FULL_DESCRIPTION = 4000
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128

# The command menu holds ten of the registry's twenty-odd verbs, so it lists what people reach
# for by typing, most common first: help (the way to the rest), the daily loop on jobs (run,
# status, history, cancel, annotate), the reviewers' queue (schedule drafts, whose cards carry
# the review buttons), and the operators' checks and setup (alerts failed, subscribe, quota).
# Left out: verbs that mostly act on an object shown in a card (schedule review/submit/
# withdraw, alerts retry), that are rare admin work (role …, unsubscribe, subscriptions,
# alerts pending), or that need long options better learnt from `help` (schedule draft).
MENU = (
    "help",
    "run",
    "status",
    "history",
    "cancel",
    "annotate",
    "schedule drafts",
    "alerts failed",
    "subscribe",
    "quota",
)

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
# Fixed entry times (the zip format's earliest) so the same input gives the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def app_version() -> str:
    """The package's version when it is plain x.y.z (Teams wants semver), else 1.0.0."""
    try:
        version = importlib.metadata.version("exportbot")
    except importlib.metadata.PackageNotFoundError:
        return DEFAULT_VERSION
    return version if _SEMVER.fullmatch(version) else DEFAULT_VERSION


def menu_verbs() -> list[Verb]:
    """The verbs of the command menu, in `MENU` order; each must be in the registry."""
    verbs = []
    for path in MENU:
        verb = find_verb(path)
        if verb is None:
            raise LookupError(f"The Teams command menu names '{path}', which is not a verb.")
        verbs.append(verb)
    return verbs


def _command(t: Translator, verb: Verb) -> dict[str, str]:
    """Title and description of one menu entry: the summary, after the syntax if the verb
    takes arguments and both fit."""
    summary = t.t(verb.summary_key)
    with_usage = f"{verb.usage} — {summary}"
    takes_arguments = verb.usage != verb.path
    fits = len(with_usage) <= MAX_COMMAND_DESCRIPTION
    return {
        "title": verb.path,  # what Teams types into the compose box when it is picked
        "description": with_usage if takes_arguments and fits else summary,
    }


def _base_url(public_url: str) -> tuple[str, str]:
    """(base URL without a trailing slash, host name) of an http(s) public URL."""
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{public_url}' is not an http(s) URL; set EXPORTBOT_PUBLIC_URL.")
    return public_url.rstrip("/"), parts.hostname


def teams_manifest(public_url: str, client_id: str = PLACEHOLDER_ID) -> dict[str, Any]:
    """manifest.json as a dict, in the order of Microsoft's reference.

    Args:
        public_url: the bot's public base URL (`EXPORTBOT_PUBLIC_URL`).
        client_id: the bot's Microsoft Entra app (client) id, a GUID.
    """
    if not _GUID.fullmatch(client_id):
        raise ValueError(
            f"'{client_id}' is not a Microsoft Entra app (client) id; "
            f"{CLIENT_ID_ENV} takes a GUID such as {PLACEHOLDER_ID}."
        )
    base, host = _base_url(public_url)
    t = Translator(LOCALE)
    # The catalog's app listing texts were written for Slack's listing but say nothing of
    # Slack; Teams shows the same ones, so the two listings cannot disagree.
    commands = [_command(t, verb) for verb in menu_verbs()]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": app_version(),
        "id": client_id,
        "developer": {
            "name": SHORT_NAME,
            "websiteUrl": base,
            "privacyUrl": base + PRIVACY_PATH,
            "termsOfUseUrl": base + TERMS_PATH,
        },
        "name": {"short": SHORT_NAME, "full": FULL_NAME},
        "description": {
            "short": t.t("slack.manifest.command_description"),
            "full": t.t("slack.manifest.about"),
        },
        "icons": {"color": COLOR_FILE, "outline": OUTLINE_FILE},
        "accentColor": BRAND_COLOR,
        "bots": [
            {
                "botId": client_id,
                "scopes": list(SCOPES),
                "supportsFiles": False,
                "isNotificationOnly": False,
                # One list per scope, as Teams asks; the same commands work everywhere.
                "commandLists": [{"scopes": [scope], "commands": commands} for scope in SCOPES],
            }
        ],
        "permissions": list(PERMISSIONS),
        "validDomains": [host],
    }


def manifest_json(public_url: str, client_id: str = PLACEHOLDER_ID) -> bytes:
    """manifest.json as UTF-8 bytes, indented, ending with a newline."""
    text = json.dumps(teams_manifest(public_url, client_id), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def package_files(public_url: str, client_id: str = PLACEHOLDER_ID) -> dict[str, bytes]:
    """The app package's files by name, sorted: color.png, manifest.json, outline.png."""
    files = {
        MANIFEST_FILE: manifest_json(public_url, client_id),
        COLOR_FILE: color_icon(),
        OUTLINE_FILE: outline_icon(),
    }
    return dict(sorted(files.items()))


def app_package(public_url: str, client_id: str = PLACEHOLDER_ID) -> bytes:
    """The app package, a zip with the three files at its root, the same bytes each time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in package_files(public_url, client_id).items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, not the platform's default: Windows would say 0
            entry.external_attr = 0o644 << 16
            package.writestr(entry, data)
    return buffer.getvalue()
