"""The HTTP server as a component: the aiohttp app on its address, entered and left like
every other long-lived part (core/support/lifecycle.py), and run until a signal.

It does what `aiohttp.web.run_app` did for us: SIGINT and SIGTERM end it gracefully (requests
in flight get `shutdown_timeout`, then the app's cleanup runs the composition root's exit),
and whatever tasks remain are cancelled before the loop closes.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from core.support.lifecycle import Lifecycle


class HttpServer(Lifecycle):
    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        *,
        shutdown_timeout: float,
        keepalive_timeout: float,
    ) -> None:
        self._app = app
        self._address = (host, port)
        self._shutdown_timeout = shutdown_timeout
        self._keepalive_timeout = keepalive_timeout
        self._runner: web.AppRunner | None = None

    async def _start(self) -> None:
        # handle_signals: SIGINT and SIGTERM raise aiohttp's GracefulExit in the loop.
        self._runner = web.AppRunner(
            self._app,
            handle_signals=True,
            shutdown_timeout=self._shutdown_timeout,
            keepalive_timeout=self._keepalive_timeout,
        )
        await self._runner.setup()  # the app's startup: the composition root's enter
        host, port = self._address
        await web.TCPSite(self._runner, host, port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()  # requests in flight, then the root's exit
            self._runner = None


async def _serve_forever(server: HttpServer) -> None:
    async with server:
        await asyncio.Event().wait()  # until a signal ends the loop's run


def run_until_signalled(server: HttpServer) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully and close the loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve_forever(server))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()  # leaves `async with server`: the graceful stop
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
