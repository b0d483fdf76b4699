"""The Teams app package is generated from the registry, valid, and checked in (A6)."""

from __future__ import annotations

import io
import json
import os
import pty
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.config import Settings
from bot.manifests.teams import (
    CLIENT_ID_ENV,
    MAX_COMMAND_DESCRIPTION,
    MAX_COMMAND_TITLE,
    MAX_COMMANDS,
    MAX_FULL_DESCRIPTION,
    MAX_FULL_NAME,
    MAX_SHORT_DESCRIPTION,
    MAX_SHORT_NAME,
    MENU,
    PLACEHOLDER_ID,
    app_package,
    app_version,
    package_files,
    teams_manifest,
)
from bot.manifests.teams_icons import BRAND_COLOR
from core.commands.grammar.registry import find_verb
from core.i18n import Translator
from tests.e2e.conftest import EXPORTBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "manifest" / "teams"
# Microsoft's schema, copied with its MIT licence (teams-manifest.LICENSE.txt beside it).
SCHEMA = Path(__file__).resolve().parents[1] / "data" / "teams-manifest-v1.29.schema.json"
EXAMPLE_URL = "https://exportbot.example.com"
CLIENT_ID = "1b2c3d4e-5f60-4718-9a0b-c1d2e3f4a5b6"
PACKAGE = ("color.png", "manifest.json", "outline.png")
REGENERATE = (
    f"env -u {CLIENT_ID_ENV} EXPORTBOT_PUBLIC_URL={EXAMPLE_URL} .venv/bin/exportbot manifest "
    "teams --out teams.zip && .venv/bin/python -m zipfile -e teams.zip manifest/teams/ "
    "&& rm teams.zip"
)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return teams_manifest(EXAMPLE_URL, CLIENT_ID)


def _env(**extra: str) -> dict[str, str]:
    env = clean_env(**extra)
    if CLIENT_ID_ENV not in extra:
        env.pop(CLIENT_ID_ENV, None)
    return env


def _exportbot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [EXPORTBOT, "manifest", "teams", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        timeout=60,
        check=False,
    )


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    color_type: int
    pixels: list[list[tuple[int, ...]]]  # rows of RGBA


def _read_png(data: bytes) -> Png:
    """A small PNG reader for what the generator writes: 8-bit RGBA or indexed, no filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    order: list[bytes] = []
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks[kind] = chunks.get(kind, b"") + body
        order.append(kind)
        position += 12 + length
    assert order[0] == b"IHDR" and order[-1] == b"IEND"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0
    channels = {6: 4, 3: 1}[color_type]
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * channels
    assert len(raw) == height * stride
    rows: list[list[tuple[int, ...]]] = []
    for y in range(height):
        line = raw[y * stride : (y + 1) * stride]
        assert line[0] == 0  # filter type none
        if color_type == 6:
            rows.append([tuple(line[1 + 4 * x : 5 + 4 * x]) for x in range(width)])
        else:
            rgb, alpha = chunks[b"PLTE"], chunks[b"tRNS"]
            rows.append([(*rgb[3 * i : 3 * i + 3], alpha[i]) for i in line[1:]])
    return Png(width, height, color_type, rows)


def test_the_checked_in_package_is_the_generated_one() -> None:
    files = package_files(EXAMPLE_URL, PLACEHOLDER_ID)
    assert CHECKED_IN.is_dir(), f"manifest/teams/ is missing; run: {REGENERATE}"
    assert sorted(p.name for p in CHECKED_IN.iterdir()) == list(PACKAGE), (
        f"manifest/teams/ holds exactly {', '.join(PACKAGE)}; run: {REGENERATE}"
    )
    for name, data in files.items():
        assert (CHECKED_IN / name).read_bytes() == data, (
            f"manifest/teams/{name} has drifted from the registry; regenerate it: {REGENERATE}"
        )


def test_the_schema_copy_is_microsofts_draft_04_schema_with_its_licence() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft4Validator
    # Valid against draft-04's meta-schema. Not `check_schema`: it also checks that patterns
    # compile, and one (`\p{L}` in Office add-in function names) is not Python `re` syntax.
    # A manifest without `extensions`, like ours, never reaches it.
    meta = jsonschema.Draft4Validator(jsonschema.Draft4Validator.META_SCHEMA)
    assert list(meta.iter_errors(schema)) == []
    assert schema["properties"]["manifestVersion"]["const"] == "1.29"
    licence = SCHEMA.with_name("teams-manifest.LICENSE.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Microsoft Corporation" in licence


@pytest.mark.parametrize(
    ("public_url", "client_id"),
    [
        (EXAMPLE_URL, PLACEHOLDER_ID),
        ("https://bot.example.org/", CLIENT_ID),
        ("http://127.0.0.1:8080", CLIENT_ID.upper()),
    ],
)
def test_the_manifest_is_valid_against_microsofts_schema_v1_29(
    public_url: str, client_id: str
) -> None:
    # The schema has only local `$ref`s (#/definitions/…), so it validates offline.
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    manifest = json.loads(package_files(public_url, client_id)["manifest.json"])
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []


def test_the_manifest_describes_the_bot_for_the_deployment(manifest: dict[str, Any]) -> None:
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
    )
    assert manifest["manifestVersion"] == "1.29"
    assert manifest["version"] == app_version()
    assert manifest["id"] == CLIENT_ID
    assert manifest["developer"] == {
        "name": "exportbot",
        "websiteUrl": EXAMPLE_URL,
        "privacyUrl": f"{EXAMPLE_URL}/privacy",
        "termsOfUseUrl": f"{EXAMPLE_URL}/terms",
    }
    assert manifest["name"]["short"] == "exportbot"
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert manifest["accentColor"] == BRAND_COLOR
    [bot] = manifest["bots"]
    assert bot["botId"] == CLIENT_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert manifest["validDomains"] == ["exportbot.example.com"]
    assert "webApplicationInfo" not in manifest  # no single sign-on: the schema does not ask


def test_the_listing_texts_fit_teams_limits(manifest: dict[str, Any]) -> None:
    assert 1 <= len(manifest["name"]["short"]) <= MAX_SHORT_NAME
    assert 1 <= len(manifest["name"]["full"]) <= MAX_FULL_NAME
    assert 1 <= len(manifest["description"]["short"]) <= MAX_SHORT_DESCRIPTION
    assert 1 <= len(manifest["description"]["full"]) <= MAX_FULL_DESCRIPTION
    assert manifest["description"]["short"] != manifest["description"]["full"]


def test_there_is_one_command_list_per_scope_within_teams_limits(
    manifest: dict[str, Any],
) -> None:
    [bot] = manifest["bots"]
    assert [entry["scopes"] for entry in bot["commandLists"]] == [[s] for s in bot["scopes"]]
    for entry in bot["commandLists"]:
        commands = entry["commands"]
        assert 1 <= len(commands) <= MAX_COMMANDS
        for command in commands:
            assert 1 <= len(command["title"]) <= MAX_COMMAND_TITLE, command
            assert 1 <= len(command["description"]) <= MAX_COMMAND_DESCRIPTION, command


def test_every_command_is_a_verb_of_the_registry_with_its_summary(
    manifest: dict[str, Any],
) -> None:
    english = Translator("en")
    for entry in manifest["bots"][0]["commandLists"]:
        assert [command["title"] for command in entry["commands"]] == list(MENU)
        for command in entry["commands"]:
            verb = find_verb(command["title"])
            assert verb is not None and verb.path == command["title"], command
            assert not verb.subverbs, f"{verb.path} is a group; the menu names what runs"
            assert command["description"].endswith(english.t(verb.summary_key)), command
    assert len(set(MENU)) == len(MENU)


def test_a_command_with_arguments_shows_its_syntax_when_it_fits(manifest: dict[str, Any]) -> None:
    commands = {
        c["title"]: c["description"] for c in manifest["bots"][0]["commandLists"][0]["commands"]
    }
    assert commands["run"] == "run <target> — Start an export of a target now."
    assert commands["schedule drafts"] == "List the open schedule drafts."


def test_the_icons_have_the_sizes_teams_asks_for() -> None:
    files = package_files(EXAMPLE_URL)
    color, outline = _read_png(files["color.png"]), _read_png(files["outline.png"])
    assert (color.width, color.height) == (192, 192)
    assert (outline.width, outline.height) == (32, 32)


def test_the_outline_icon_is_white_on_transparent() -> None:
    outline = _read_png(package_files(EXAMPLE_URL)["outline.png"])
    assert outline.color_type == 6  # RGBA
    pixels = {pixel for row in outline.pixels for pixel in row}
    white = (255, 255, 255, 255)
    assert all(pixel == white or pixel[3] == 0 for pixel in pixels), pixels - {white}
    opaque = sum(pixel[3] == 255 for row in outline.pixels for pixel in row)
    assert 0.1 < opaque / (32 * 32) < 0.6  # a glyph, neither empty nor a filled square
    assert all(pixel[3] == 0 for pixel in outline.pixels[0] + outline.pixels[-1])


def test_the_color_icon_is_a_white_glyph_on_the_brand_colour() -> None:
    color = _read_png(package_files(EXAMPLE_URL)["color.png"])
    brand = tuple(int(BRAND_COLOR[i : i + 2], 16) for i in (1, 3, 5))
    assert color.pixels[96][10] == (*brand, 255)  # the rounded square's body
    assert color.pixels[0][0][3] == 0  # its corner is cut off
    assert color.pixels[132][96] == (255, 255, 255, 255)  # the tray's floor
    assert color.pixels[60][96] == (255, 255, 255, 255)  # the arrow's head


def test_the_zip_holds_exactly_the_three_files_at_its_root_the_same_bytes_each_time() -> None:
    package = app_package(EXAMPLE_URL, CLIENT_ID)
    assert package == app_package(EXAMPLE_URL, CLIENT_ID)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(PACKAGE)
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {n: archive.read(n) for n in PACKAGE} == package_files(EXAMPLE_URL, CLIENT_ID)


def test_the_client_id_must_be_a_guid_and_the_url_http() -> None:
    with pytest.raises(ValueError, match=r"'my-bot' is not a Microsoft Entra app"):
        teams_manifest(EXAMPLE_URL, "my-bot")
    with pytest.raises(ValueError, match=r"'exportbot\.example\.com' is not an http"):
        teams_manifest("exportbot.example.com", CLIENT_ID)


def test_the_version_is_plain_semver() -> None:
    major, minor, patch = app_version().split(".")
    assert all(part.isdigit() for part in (major, minor, patch))


def test_exportbot_manifest_teams_out_writes_the_package_without_touching_a_database(
    tmp_path: Path,
) -> None:
    out = tmp_path / "exportbot-teams.zip"
    done = _exportbot(
        tmp_path,
        "--out",
        str(out),
        EXPORTBOT_PUBLIC_URL="https://bot.example.org",
        **{CLIENT_ID_ENV: CLIENT_ID},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"" and done.stderr == b""
    assert out.read_bytes() == app_package("https://bot.example.org", CLIENT_ID)
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == CLIENT_ID
    assert manifest["validDomains"] == ["bot.example.org"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no var/, no database


def test_exportbot_manifest_teams_writes_the_zip_to_a_pipe_and_warns_of_the_placeholder(
    tmp_path: Path,
) -> None:
    done = _exportbot(tmp_path, EXPORTBOT_PUBLIC_URL=EXAMPLE_URL)
    assert done.returncode == 0, done.stderr
    assert done.stdout == app_package(EXAMPLE_URL, PLACEHOLDER_ID)
    warning = done.stderr.decode()
    assert CLIENT_ID_ENV in warning and PLACEHOLDER_ID in warning
    assert list(tmp_path.iterdir()) == []


def test_exportbot_manifest_teams_refuses_to_write_a_zip_to_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [EXPORTBOT, "manifest", "teams"],
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
    message = done.stderr.decode()
    assert done.returncode == 2
    assert message.count("\n") == 1 and "--out" in message and "terminal" in message


def test_exportbot_manifest_teams_refuses_a_client_id_that_is_not_a_guid(tmp_path: Path) -> None:
    done = _exportbot(tmp_path, "--out", "x.zip", **{CLIENT_ID_ENV: "my-bot"})
    assert done.returncode == 2
    assert CLIENT_ID_ENV in done.stderr.decode() and "'my-bot'" in done.stderr.decode()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "language", "heading"),
    [
        ("/privacy", "en", "exportbot — privacy"),
        ("/privacy", "fr-FR", "exportbot — confidentialité"),
        ("/terms", "en", "exportbot — terms of use"),
        ("/terms", "fr", "exportbot — conditions d'utilisation"),
    ],
)
async def test_the_privacy_and_terms_pages_the_listing_links_to_are_served(
    tmp_path: Path, path: str, language: str, heading: str
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", data_dir=str(tmp_path / "var")
    )
    manifest = teams_manifest("https://exportbot.example.com")
    assert urlsplit(manifest["developer"]["privacyUrl"]).path == "/privacy"
    assert urlsplit(manifest["developer"]["termsOfUseUrl"]).path == "/terms"
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        response = await client.get(path, headers={"Accept-Language": language})
        assert response.status == 200 and response.content_type == "text/html"
        html = await response.text()
    assert f"<h1>{escape(heading)}</h1>" in html
    assert html.count("<p>") >= 3
