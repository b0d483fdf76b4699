"""schemathesis against the served OpenAPI document of the job-event API (#16): every
operation with generated paths and bodies, half of them signed with a real key; no answer is
a 5xx and every answer matches the document (status, media type, schema, headers)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import BOT_KEY, create_app
from bot.config import Settings
from core.api.openapi import openapi_document
from tests.adapters.api_client import signed_headers

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class LiveBot:
    """The whole app served on loopback from a thread of its own (schemathesis is sync)."""

    def __init__(self, tmp: Path) -> None:
        self._settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'bot.db'}",
            data_dir=str(tmp / "var"),
            admins=["console:alice"],
            targets=[{"name": "db", "kind": "reported"}],  # type: ignore[list-item]
            scheduler=False,
        )
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.db_path = tmp / "bot.db"
        self.base_url = ""
        self.key = ""

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        from bot.api_master import load_master_key
        from core.api.admin import create_key
        from core.clock import SystemClock
        from tests.adapters.api_client import OPERATOR

        app = create_app(self._settings)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        bot = app[BOT_KEY]
        master = load_master_key(self._settings.api_master_key_path)
        self.key = await create_key(
            bot.uow_factory, master, SystemClock(), OPERATOR, "fuzz", may_create=True
        )

    def __enter__(self) -> LiveBot:
        self._thread.start()
        assert self._ready.wait(30), "the bot did not start"
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBot]:
    with LiveBot(tmp_path_factory.mktemp("api-schema")) as bot:
        yield bot


# The document the app serves (the last test checks that it serves exactly this one).
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_within_its_document(case: Any, live_bot: LiveBot) -> None:
    kwargs = case.as_transport_kwargs(base_url=live_bot.base_url)
    body = json.dumps(kwargs.pop("json")).encode() if "json" in kwargs else b""
    kwargs.pop("data", None)
    headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items()}
    if hashlib.sha256(body + kwargs["url"].encode()).digest()[0] % 2:  # half signed
        headers.update(signed_headers(live_bot.key, body))
    response = requests.request(**kwargs, data=body, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=CHECKS)


def test_the_document_is_served_as_json_and_names_every_operation(live_bot: LiveBot) -> None:
    response = requests.get(f"{live_bot.base_url}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    operations = {o["operationId"] for p in response.json()["paths"].values() for o in p.values()}
    assert operations == {"start", "progress", "finish", "report"}
    assert response.json() == openapi_document()


def test_the_signed_half_of_the_generated_calls_made_runs(live_bot: LiveBot) -> None:
    """Run after the generated calls: their signing is right, so some were accepted."""
    with sqlite3.connect(live_bot.db_path) as db:
        [(jobs,)] = db.execute("SELECT count(*) FROM jobs WHERE origin_kind = 'api'").fetchall()
        [(claimed,)] = db.execute("SELECT count(*) FROM inbound_events").fetchall()
    assert jobs > 0 and claimed >= jobs  # each accepted call claimed its signature


def _docs_block(language: str, containing: str) -> str:
    page = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    blocks = [b.split("```", 1)[0] for b in page.split(f"```{language}\n")[1:]]
    return next(b for b in blocks if containing in b)


def test_the_docs_curl_example_works_as_pasted(live_bot: LiveBot) -> None:
    script = _docs_block("sh", "curl").replace("https://exportbot.example.org", live_bot.base_url)
    script = script.replace("KEY='cron-db.…'", f"KEY='{live_bot.key}'").replace("/db/", "/curl-db/")
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(done.stdout)["state"] == "running", done.stdout + done.stderr


def test_the_docs_python_example_works_as_pasted(live_bot: LiveBot) -> None:
    code = _docs_block("python", "hmac").replace("https://exportbot.example.org", live_bot.base_url)
    code = code.replace('key = "cron-db.…"', f"key = {live_bot.key!r}").replace("/db/", "/py-db/")
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert namespace["run"]["state"] == "running"
