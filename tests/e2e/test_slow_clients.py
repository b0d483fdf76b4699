"""`exportbot serve` bounds slow clients (issue 12, item 14): headers or a body trickled a byte
at a time, and connections that sit idle, are closed (or answered 408) within the configured
bounds, set to one second here. Real sockets over loopback against the real server."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import EXPORTBOT, clean_env
from tests.e2e.test_serve import _free_port, wait_until_ready

BOUND = 1.0  # seconds: EXPORTBOT_IDLE_TIMEOUT_SECONDS and EXPORTBOT_BODY_TIMEOUT_SECONDS
GIVE_UP = 8.0  # what an unbounded server would let a trickle go on for, at least


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    workdir: Path = tmp_path_factory.mktemp("slow")
    port = _free_port()
    env = {
        **clean_env(),
        "EXPORTBOT_IDLE_TIMEOUT_SECONDS": str(BOUND),
        "EXPORTBOT_BODY_TIMEOUT_SECONDS": str(BOUND),
    }
    process = subprocess.Popen(
        [EXPORTBOT, "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_ready(port, process)
        yield port
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        assert "Traceback" not in stderr


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _trickle(sock: socket.socket, head: bytes, drip: bytes) -> tuple[float, bytes]:
    """Send `head`, then `drip` one byte every 0.2 s until the server answers or closes;
    return how long that took and the first of its answer."""
    started = time.monotonic()
    sock.sendall(head)
    sock.settimeout(0.2)
    answer = b""
    for byte in drip * 100:
        if time.monotonic() - started > GIVE_UP:
            break
        try:
            sock.sendall(bytes([byte]))
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        answer = chunk
        break  # answered, or closed (nothing)
    return time.monotonic() - started, answer


def _closed_after(sock: socket.socket) -> float:
    """Seconds until the server closes a connection that says nothing more."""
    started = time.monotonic()
    sock.settimeout(GIVE_UP)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, TimeoutError):
        pass  # reset: closed too; timed out: still open after GIVE_UP
    return time.monotonic() - started


def test_trickled_headers_are_cut_off(server: int) -> None:
    with _connect(server) as sock:
        took, answer = _trickle(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: aaaa")
    assert took < BOUND + 2, f"headers trickled for {took:.1f} s"
    assert b"200 OK" not in answer


def test_a_trickled_body_gets_408_and_the_connection_closed(server: int) -> None:
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with _connect(server) as sock:
        took, answer = _trickle(sock, head, b"{")
    assert took < BOUND + 2, f"body trickled for {took:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408")


def test_a_connection_that_never_sends_a_request_is_closed(server: int) -> None:
    with _connect(server) as sock:
        assert _closed_after(sock) < BOUND + 2


def test_an_idle_keep_alive_connection_is_closed(server: int) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(GIVE_UP)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert _closed_after(sock) < BOUND + 2


def test_a_quick_request_on_a_kept_alive_connection_is_still_answered(server: int) -> None:
    with _connect(server) as sock:
        sock.settimeout(GIVE_UP)
        for _ in range(2):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
