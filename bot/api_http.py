"""The job-event API's HTTP door (#16): size and media type, then the core decides
(core/api/service.py); every refusal is an RFC 9457 problem document, never a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from core.api.bodies import MAX_BODY_BYTES
from core.api.openapi import openapi_document
from core.api.problems import CONTENT_TYPE, ApiProblem
from core.api.service import ApiService, Operation

log = logging.getLogger(__name__)

PREFIX = "/api/v1/"
OPENAPI_PATH = "/api/v1/openapi.json"
ApiLookup = Callable[[web.Request], ApiService | None]


def problem_response(problem: ApiProblem) -> web.Response:
    return web.Response(
        text=json.dumps(problem.document()), status=problem.status, content_type=CONTENT_TYPE
    )


@web.middleware
async def api_problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api/v1/: a body over 1 MiB is refused before it is read (its length said) or
    while it is (aiohttp stops at its client_max_size, also 1 MiB), and aiohttp's own
    refusals (404, 405) come as problem documents too. Sits outside the body reader."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        return _closing(_too_large())
    try:
        return await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _closing(_too_large())
    except web.HTTPException as http:
        if http.status < 400:
            raise
        document = {
            "type": "about:blank",
            "title": http.reason,
            "status": http.status,
            "detail": f"{request.method} {request.path[:200]} is not an operation of this API",
        }
        return web.Response(
            text=json.dumps(document),
            status=http.status,
            content_type=CONTENT_TYPE,
            headers={"Allow": http.headers["Allow"]} if "Allow" in http.headers else None,
        )


def _too_large() -> web.Response:
    return problem_response(ApiProblem("too-large", f"send at most {MAX_BODY_BYTES} bytes"))


def _closing(response: web.Response) -> web.Response:
    response.force_close()  # the rest of the body is not read
    return response


def operation_handler(
    operation: Operation, api_of: ApiLookup
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        api = api_of(request)
        if api is None:
            return web.json_response({"status": "starting"}, status=503)
        body = await request.read()
        if len(body) > MAX_BODY_BYTES:
            return _closing(_too_large())
        try:
            answer = await api.handle(
                operation,
                request.match_info["target"],
                request.match_info.get("rid"),
                request.headers,
                body,
            )
        except ApiProblem as problem:
            return problem_response(problem)
        return web.json_response(answer.body, status=answer.status)

    return handle


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_routes(app: web.Application, api_of: ApiLookup) -> None:
    router = app.router
    router.add_get(OPENAPI_PATH, openapi)
    target = PREFIX + "targets/{target}"
    router.add_post(target + "/runs", operation_handler(Operation.START, api_of))
    router.add_post(target + "/runs/{rid}/progress", operation_handler(Operation.PROGRESS, api_of))
    router.add_post(target + "/runs/{rid}/finish", operation_handler(Operation.FINISH, api_of))
    router.add_post(target + "/report", operation_handler(Operation.REPORT, api_of))
