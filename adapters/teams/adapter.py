"""Teams over the Microsoft 365 Agents SDK, on `POST /api/messages` of our aiohttp app.

Inbound (G1): with a client id configured, every activity must carry a Bot Framework / Entra
token the SDK's `JwtTokenValidator` accepts; a missing, malformed or wrongly issued one is a
401 — never a 500, whatever the validator raises (it may have to fetch signing keys). With no
client id the endpoint accepts unauthenticated activities, which `serve` allows only while it
listens on a loopback address (`loopback_only`).

Outbound: the SDK's `CloudAdapter` answers to the activity's `serviceUrl`, with tokens from
MSAL when a client id is configured, anonymously otherwise (a local emulator or a test's
stand-in connector).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from microsoft_agents.activity import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    InvokeResponse,
)
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import (
    ChannelServiceClientFactoryBase,
    MessageFactory,
    RestChannelServiceClientFactory,
    TurnContext,
)
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    ClaimsIdentity,
    JwtTokenValidator,
)

from adapters.teams.agent import PLATFORM, TeamsAgent, tenant_of
from adapters.teams.cards import invoke_message_response
from adapters.teams.sender import TeamsSender
from adapters.teams.shape import NotAnActivity, read_activity
from core.app.announcer import JobEndAnnouncer, in_reply_chain
from core.app.drafts import DraftCardRedrawer
from core.app.posts import PostBook
from core.app.service import CommandService
from core.delivery.senders import MessageRef, PermanentFailure
from core.domain.model import Job, Principal
from core.i18n import Translator
from core.ports import Clock
from core.support.background import Background
from core.support.lifecycle import Lifecycle
from core.support.log_context import log_context
from core.views.message import Message

log = logging.getLogger(__name__)

UNAUTHORIZED = {"error": "Invalid token or authentication failed."}
BOT_FRAMEWORK_AUDIENCE = "https://api.botframework.com"


@dataclass(frozen=True)
class TeamsCredentials:
    """The Agents SDK's service connection (its own environment names, ARCHITECTURE.md)."""

    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.client_id)


def loopback_only(host: str) -> bool:
    """True when `host` (what `serve` binds) can only be reached from this machine."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def turn_failed(context: TurnContext, error: Exception) -> None:
    """A turn raised: log it whole, and tell the person in one sentence from the catalog,
    with nothing of the error (its text may name hosts, paths or internal values)."""
    log.error("a Teams turn failed", exc_info=error)
    activity = context.activity
    text = Translator(activity.locale or "en").t("teams.turn_failed")
    if activity.type == ActivityTypes.invoke:  # the presser's answer is the HTTP response
        answer = InvokeResponse(status=200, body=invoke_message_response(text))
        reply = Activity(
            type=ActivityTypes.invoke_response,
            value=answer.model_dump(by_alias=True, exclude_none=True),
        )
    else:
        reply = MessageFactory.text(text)
    try:
        await context.send_activity(reply)
    except Exception as failed:  # the connector may be what failed: never a 500 for that
        log.warning("could not tell Teams that a turn failed: %s", type(failed).__name__)


class _NullFreeClients(RestChannelServiceClientFactory):
    """Connector clients that send activities without null fields: the SDK sets a sent
    activity's `id` to None and serializes what was set, so the body carries `"id": null`,
    which Microsoft's own Agents Playground refuses (400 BadArgument), losing every reply,
    job-ended message and alert the bot sends on its own."""

    async def create_connector_client(self, *args: Any, **kwargs: Any) -> Any:
        client = await super().create_connector_client(*args, **kwargs)
        conversations = client.conversations
        for name in ("send_to_conversation", "reply_to_activity"):
            setattr(conversations, name, _sending_no_nulls(getattr(conversations, name)))
        return client


def _sending_no_nulls(send: Any) -> Any:
    async def sent(*args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, Activity):
                unset_nulls(value)
        return await send(*args, **kwargs)

    return sent


def unset_nulls(activity: Activity) -> Activity:
    """`activity` with its None fields marked unset, so serializing what was set leaves them
    out (the connector's body is `model_dump(exclude_unset=True)`)."""
    nulls = {name for name in activity.model_fields_set if getattr(activity, name) is None}
    activity.model_fields_set.difference_update(nulls)
    return activity


class _NoCredentials:
    """Outbound without a client id: every call is anonymous, so no token is ever asked."""

    def get_token_provider(self, *_: object, **__: object) -> object:
        raise RuntimeError("Teams has no client id configured: only anonymous calls")

    def get_default_connection(self) -> object:
        raise RuntimeError("Teams has no client id configured")

    def get_connection(self, _: str) -> object:
        raise RuntimeError("Teams has no client id configured")

    def get_default_connection_configuration(self) -> None:
        return None


class _VerifiedRequest:
    """The request as the SDK reads it, with the identity we verified. (The SDK's own
    adapter reads it from a string key of the aiohttp request, which aiohttp warns about.)"""

    def __init__(self, request: web.Request, identity: ClaimsIdentity, body: Any) -> None:
        self._request = request
        self._identity = identity
        self._body = body  # read and checked once, at the door

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def headers(self) -> Mapping[str, str]:
        return self._request.headers

    async def json(self) -> Any:
        return self._body

    def get_claims_identity(self) -> ClaimsIdentity:
        return self._identity

    def get_path_param(self, name: str) -> str:
        return self._request.match_info[name]


class TeamsSurface:
    """The `ChatSurface` of core/app/surface.py: each tenant's proactive sender."""

    platform = PLATFORM

    def __init__(self, sender: Callable[[str], TeamsSender]) -> None:
        self._sender = sender  # tenant → its sender

    async def update(self, workspace: str, ref: MessageRef, message: Message) -> None:
        await self._sender(workspace).update(ref, message)

    async def reply(self, workspace: str, parent: MessageRef, message: Message) -> MessageRef:
        return await self._sender(workspace).reply(parent, message)

    async def private(self, user: Principal, message: Message) -> MessageRef:
        return await self._sender(user.workspace).private(user.user_id, message)

    async def locale_of(self, user: Principal) -> str:
        return await self._sender(user.workspace).locale_of(user.user_id)


class TeamsAdapter(Lifecycle):
    def __init__(
        self,
        service: CommandService,
        clock: Clock,
        credentials: TeamsCredentials,
        *,
        grace_seconds: float = 10.0,
    ) -> None:
        """As a context manager, its exit waits up to `grace_seconds` for the turns in flight
        (they read and write the database, which closes after it)."""
        self.service = service
        self._grace_seconds = grace_seconds
        self._turns = Background("Teams turn")
        self.credentials = credentials
        self.surface = TeamsSurface(self.sender)
        # With its notes: one added from under the card must not vanish when the job ends.
        self.announcer = JobEndAnnouncer(
            service, self.surface, with_notes=True, thread_of=in_reply_chain
        )
        self.agent = TeamsAgent(service, PostBook(service, clock, PLATFORM, self.on_job_ended))
        self.drafts = DraftCardRedrawer(service, self.surface)
        service.draft_listeners.append(self.on_draft_changed)
        self._factory = self._client_factory()
        self.cloud = CloudAdapter(channel_service_client_factory=self._factory)
        self.cloud.on_turn_error = turn_failed  # the SDK's own posts the exception's text
        self._auth = (
            AgentAuthConfiguration(
                client_id=credentials.client_id,
                tenant_id=credentials.tenant_id or None,
                client_secret=credentials.client_secret or None,
            )
            if credentials.configured
            else None
        )

    def on_draft_changed(self, draft_id: int, pressed: str) -> None:
        """A draft was decided or withdrawn: its cards in Teams are redrawn (not `pressed`,
        which its press redrew); kept with the turns, so shutdown waits for it."""
        self._turns.keep(self._redraw_draft(draft_id, pressed))

    async def _redraw_draft(self, draft_id: int, pressed: str) -> None:
        await self.drafts.redraw(draft_id, pressed)

    async def on_job_ended(self, job: Job) -> None:
        """Redraw the job's card where it was answered, and say how it ended in its chain
        (an executor listener, like Slack's)."""
        await self.announcer.announce(job)

    def sender(self, tenant: str) -> TeamsSender:
        """Proactive messages into `tenant`'s conversations the bot has been in."""

        async def lookup(key: str) -> dict[str, Any] | None:
            return await self.service.conversation(PLATFORM, tenant, key)

        async def open_chat(user_id: str) -> None:
            await self._open_chat(tenant, user_id)

        return TeamsSender(self.cloud, self.credentials.client_id, lookup, open_chat)

    async def _open_chat(self, tenant: str, user_id: str) -> None:
        """Open a 1:1 chat with someone who wrote to the bot elsewhere (C3), and keep it."""
        member = await self.service.conversation(PLATFORM, tenant, f"member:{user_id}")
        if member is None:
            raise PermanentFailure("this person has never written to the bot in Teams")
        service_url = str(member["serviceUrl"])
        identity = self.cloud.create_claims_identity(self.credentials.client_id)
        connector = await self._factory.create_connector_client(
            None,
            identity,
            service_url,
            BOT_FRAMEWORK_AUDIENCE,
            use_anonymous=not self.credentials.configured,
        )
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount.model_validate(member["bot"]),
            members=[ChannelAccount.model_validate(member["user"])],
            tenant_id=tenant,
        )
        try:
            opened = await connector.conversations.create_conversation(parameters)
        finally:
            await connector.close()  # its own HTTP session
        reference = {
            "channelId": "msteams",
            "serviceUrl": service_url,
            "bot": member["bot"],
            "user": member["user"],
            "conversation": {
                "id": opened.id,
                "conversationType": "personal",
                "tenantId": tenant,
            },
        }
        await self.service.remember_conversations(PLATFORM, tenant, {f"user:{user_id}": reference})

    def _client_factory(self) -> ChannelServiceClientFactoryBase:
        if not self.credentials.configured:
            return _NullFreeClients(_NoCredentials())  # type: ignore[arg-type]
        from microsoft_agents.authentication.msal import MsalConnectionManager

        settings = {
            "CLIENTID": self.credentials.client_id,
            "CLIENTSECRET": self.credentials.client_secret,
            "TENANTID": self.credentials.tenant_id,
            "AUTHTYPE": "ClientSecret",
        }
        connections = MsalConnectionManager(
            CONNECTIONS={"SERVICE_CONNECTION": {"SETTINGS": settings}}
        )
        return _NullFreeClients(connections)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        identity = await self._identify(request)
        if identity is None:
            return web.json_response(UNAUTHORIZED, status=401)
        try:
            body = json.loads(await request.read())
            activity = read_activity(body)
        except (ValueError, NotAnActivity) as error:  # JSON's errors are ValueErrors too
            reason = str(error) if isinstance(error, NotAnActivity) else "the body is not JSON"
            log.info("Teams activity refused: %s", reason)
            return web.json_response({"error": reason}, status=400)
        verified = _VerifiedRequest(request, identity, body)
        # The turn is a task of ours, so shutdown can wait for it, and a client that leaves
        # (the server then cancels this handler) does not cut it off in a database call.
        # The turn's task copies the context: its lines name the tenant too.
        with log_context(workspace=tenant_of(activity)):
            turn = self._turns.keep(self.cloud.process_request(verified, self.agent))
        answer = await asyncio.shield(turn)
        if answer.body is not None:
            return web.json_response(answer.body, status=answer.status_code, headers=answer.headers)
        return web.Response(status=answer.status_code, headers=answer.headers)

    async def _stop(self) -> None:
        await self._turns.settle(self._grace_seconds)

    async def _identify(self, request: web.Request) -> ClaimsIdentity | None:
        """The caller's verified identity, or None for a 401."""
        if self._auth is None:
            return ClaimsIdentity()  # anonymous: loopback only (see `serve`)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
            log.info("Teams activity refused: no bearer token")
            return None
        try:
            return await JwtTokenValidator(self._auth).validate_token(token)
        except Exception as error:  # any failure to verify is a refusal, never a 500
            log.info("Teams activity refused: %s", type(error).__name__)
            return None
