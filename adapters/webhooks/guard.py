"""The connect-time half of the webhook address rules (core/delivery/addresses.py): a subscription
was checked by its URL, but a name may resolve anywhere by the time an alert leaves (DNS
rebinding), and rows written before the rules existed were never checked.

Two hooks on the one session webhooks use: a resolver that keeps only the addresses webhooks
may reach (so aiohttp connects to nothing else), and a check of the URL's host before each
request, for literal addresses, which aiohttp connects to without asking any resolver.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from core.delivery.addresses import Refusal, address_refusal, host_refusal, literal_address


class RefusedDestination(OSError):
    """A webhook's host, or every address it resolves to, is one webhooks may not reach.
    An OSError, so aiohttp reports a resolver's refusal as a connection error around it."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"destination refused ({refusal.value})")
        self.refusal = refusal


class GuardedResolver(AbstractResolver):
    """Resolves with `inner` (the system's resolver by default) and drops every address
    webhooks may not reach; none left is a `RefusedDestination`."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        refusals: list[Refusal] = []
        kept: list[ResolveResult] = []
        for result in await self._inner.resolve(host, port, family):
            refusal = self._refusal(result["host"])
            if refusal is None:
                kept.append(result)
            else:
                refusals.append(refusal)
        if not kept:
            raise RefusedDestination(refusals[0] if refusals else Refusal.UNSPECIFIED)
        return kept

    async def close(self) -> None:
        await self._inner.close()

    def _refusal(self, host: str) -> Refusal | None:
        address = literal_address(host)
        if address is None:  # a resolver answers addresses; anything else is not trusted
            return Refusal.UNSPECIFIED
        return address_refusal(address, allow_private=self._allow_private)


@asynccontextmanager
async def guarded_session(
    *, allow_private: bool, resolver: AbstractResolver | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    """The client session webhooks are sent with; `resolver` replaces the system's (tests)."""
    guard = GuardedResolver(allow_private=allow_private, inner=resolver)

    async def check_host(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        refusal = host_refusal(params.url.host or "", allow_private=allow_private)
        if refusal is not None:
            raise RefusedDestination(refusal)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(check_host)
    connector = aiohttp.TCPConnector(resolver=guard)
    try:
        async with aiohttp.ClientSession(connector=connector, trace_configs=[trace]) as session:
            yield session
    finally:
        await guard.close()  # the connector closes only a resolver it made itself


def refusal_of(error: BaseException) -> Refusal | None:
    """The refusal behind a failed request: raised by the host check, or by the resolver and
    wrapped by aiohttp in a connection error."""
    if isinstance(error, RefusedDestination):
        return error.refusal
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(
        error.os_error, RefusedDestination
    ):
        return error.os_error.refusal
    return None
