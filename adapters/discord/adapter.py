"""Discord interactions over HTTP, on `POST /discord/interactions` of our aiohttp app (A3).

Inbound (G1): every request's Ed25519 signature is checked against `DISCORD_PUBLIC_KEY`
before anything is read; a bad or missing one is a 401 with no side effect. Then, by type:
PING (1) → PONG; the `/export` command (2) runs the one grammar from its typed options;
"Annotate export job" (2, a message command) opens the note modal for the job of that
message or thread; a button (3) goes to the core (a form button opens a modal); autocomplete
(4) offers target names; a modal (5) is a submitted form.

Discord wants the first response within 3 s: an answer ready in `ANSWER_WITHIN` goes in the
HTTP response itself, a slower one is deferred (type 5) and follows through the interaction's
webhook. Refusals are ephemeral (flag 64); an accepted decision updates the pressed message
(type 7) for everyone. A job's message is remembered, so its end redraws it and is told in
its thread.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from adapters.discord.commands import ANNOTATE_COMMAND, invocation
from adapters.discord.gateway import DiscordGateway, Heard
from adapters.discord.profile import PROFILE
from adapters.discord.render import (
    EPHEMERAL,
    attachments_field,
    modal_response,
    modal_values,
    render,
    text_message,
    uploads,
)
from adapters.discord.rest import DiscordRest
from adapters.discord.sender import DiscordSender, upload_file
from adapters.discord.shape import shape_problem
from adapters.discord.verify import InteractionVerifier
from core.app.announcer import JobEndAnnouncer
from core.app.deadline import within
from core.app.drafts import DraftCardRedrawer
from core.app.notes import discussed_at, job_of, note_on
from core.app.posts import PostBook
from core.app.presses import (
    Disposition,
    PressReply,
    answer_press,
    disposition,
    form_instead,
    reason_form,
)
from core.app.service import CommandService
from core.commands.actions import Press
from core.commands.forms import DECISION_FORM, Form, FormInvalid, FormRef, PostRef
from core.commands.grammar.registry import Kind, Option, Param
from core.delivery.senders import DeliveryError, MessageRef, PermanentFailure
from core.domain.conversations import PostedKind
from core.domain.model import Actor, Job, Principal
from core.i18n import Translator
from core.ports import Clock
from core.support.background import Background
from core.support.lifecycle import Lifecycle
from core.support.log_context import log_context
from core.views.message import Message

log = logging.getLogger(__name__)

PLATFORM = "discord"
PREFIX = PROFILE.prefix  # how people address the bot, in replies' hints
ANSWER_WITHIN = 2.0  # seconds; Discord drops an interaction not answered within 3
ORIGINAL_TRIES = 20  # the answer's message appears once Discord has read our response
MAX_CHOICES = 25
RENDERED_KEPT = 64  # answers kept serialized (see `_serialized`)
PARENTS_KEPT = 1024  # channels whose parent (a thread's) was asked of the API

# Interaction types and callback types (Discord's enums).
PING, COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
PONG, MESSAGE, DEFERRED, UPDATE, CHOICES = 1, 4, 5, 7, 8
MESSAGE_COMMAND = 3  # data.type of a context-menu command on a message
THREAD_TYPES = frozenset({10, 11, 12})
UNAUTHORIZED = {"error": "invalid request signature"}
HOOK = "/webhooks/{webhook_id}/{webhook_token}"  # an interaction's follow-ups (15 min)
ORIGINAL = HOOK + "/messages/@original"


class DiscordAdapter(Lifecycle):
    def __init__(
        self,
        service: CommandService,
        clock: Clock,
        *,
        public_key: str,
        token: str,
        application_id: str,
        api_url: str,
        gateway: bool = False,
    ) -> None:
        """With `gateway` (and a token), discord.py's gateway client runs beside the HTTP
        endpoint, for notes from threads (adapters/discord/gateway.py)."""
        self.service = service
        self.verifier = InteractionVerifier(public_key)
        self.rest = DiscordRest(token, api_url)
        self._token = token
        self.application_id = application_id
        self._background = Background("Discord")
        self.surface = DiscordSurface(self)
        self.announcer = JobEndAnnouncer(service, self.surface)
        self.drafts = DraftCardRedrawer(service, self.surface)
        service.draft_listeners.append(self.on_draft_changed)
        self._posts = PostBook(service, clock, PLATFORM, self.on_job_ended)
        self._locales: dict[str, str] = {}  # user id → the locale of their last interaction
        self._answers: OrderedDict[int, tuple[Message, bytes]] = OrderedDict()
        self._parents: OrderedDict[str, str] = OrderedDict()  # channel → thread's parent or ""
        self.gateway = DiscordGateway(token, self.rest, self.hear) if gateway and token else None

    async def _start(self) -> None:
        await self.start()

    async def _stop(self) -> None:
        await self.close()

    async def start(self) -> None:
        # Direct messages speak as the guild-less principal `discord::<user>`, which has no
        # rights unless someone grants them: served, so it is answered, never trusted.
        self.service.serve_workspace(f"{PLATFORM}:")
        if self._token:
            await self.rest.__aenter__()
            self.application_id = self.application_id or self.rest.bot_user_id
        if self.gateway is not None:
            await self.gateway.__aenter__()

    async def close(self) -> None:
        if self.gateway is not None:  # first: no new message arrives while the rest ends
            await self.gateway.__aexit__()
        await self.drain()
        await self.rest.__aexit__()

    async def drain(self) -> None:
        """Wait for the follow-ups and remembered answers still under way (tests, shutdown)."""
        await self._background.drain()

    def sender(self, guild: str = "") -> DiscordSender:
        return DiscordSender(self.rest, lambda user_id: self.locale_of(guild, user_id))

    async def locale_of(self, guild: str, user_id: str) -> str:
        """The language someone last used with the bot, for their private messages (C3);
        kept in the database, so it survives a restart."""
        if user_id in self._locales:
            return self._locales[user_id]
        stored = await self.service.conversation(PLATFORM, guild, f"user:{user_id}")
        return str((stored or {}).get("locale") or "en")

    async def _keep_locale(self, guild: str, user_id: str, locale: str) -> None:
        stored = await self.service.conversation(PLATFORM, guild, f"user:{user_id}")
        if (stored or {}).get("locale") != locale:
            person = {f"user:{user_id}": {"locale": locale}}
            await self.service.remember_conversations(PLATFORM, guild, person)

    # -- inbound -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not self.verifier.verify_headers(request.headers, body):
            return web.json_response(UNAUTHORIZED, status=401)
        try:
            interaction = json.loads(body)
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        problem = shape_problem(interaction)
        if problem is not None:  # signed but not what Discord sends: read nothing further
            return web.json_response({"error": f"not an interaction: {problem}"}, status=400)
        kind = interaction.get("type")
        if kind == PING:
            return web.json_response({"type": PONG})
        actor = self._actor(interaction)
        if actor is None:
            return web.json_response({"error": "an interaction names its user"}, status=400)
        # The workspace joins the platform and request id bound by the app (bot/app.py).
        with log_context(workspace=actor.workspace):
            answer = await self._answer(kind, interaction, actor)
        if answer is None:
            return web.json_response({"error": f"unknown interaction type {kind}"}, status=400)
        if isinstance(answer, bytes):
            return web.Response(body=answer, content_type="application/json")
        return web.json_response(answer)

    async def _answer(
        self, kind: object, interaction: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any] | bytes | None:
        """What the interaction of type `kind` gets back; None for a type we do not know."""
        data = interaction.get("data") or {}
        if kind == COMMAND and data.get("type") == MESSAGE_COMMAND:
            return await self._annotate_menu(interaction, actor)
        if kind == COMMAND:
            return await self._command(interaction, actor)
        if kind == COMPONENT:
            return await self._press(interaction, actor)
        if kind == AUTOCOMPLETE:
            return await self._autocomplete(interaction, actor)
        if kind == MODAL_SUBMIT:
            return await self._submitted(interaction, actor)
        return None

    def _actor(self, interaction: Mapping[str, Any]) -> Actor | None:
        member = interaction.get("member") or {}
        user = member.get("user") or interaction.get("user") or {}
        user_id = str(user.get("id") or "")
        if not user_id:
            return None
        guild = str(interaction.get("guild_id") or "")
        locale = str(interaction.get("locale") or "en")
        if self._locales.get(user_id) != locale:  # off the answer's path: a write at most
            self._locales[user_id] = locale
            self._background.keep(self._keep_locale(guild, user_id, locale))
        name = member.get("nick") or user.get("global_name") or user.get("username") or user_id
        channel = str(interaction.get("channel_id") or "")
        return Actor(
            Principal(PLATFORM, guild, user_id),
            str(name),
            locale,
            channel,
            channel_name=_channel_name(interaction) if guild else "",
        )

    async def _command(
        self, interaction: Mapping[str, Any], actor: Actor
    ) -> dict[str, Any] | bytes:
        called = invocation(interaction.get("data") or {})
        running = self.service.execute_fields(
            called.path,
            called.values,
            actor,
            raw=called.as_text(),
            prefix=PREFIX,
            once=_request_key(interaction),
        )
        later = functools.partial(self._follow_up, interaction, actor)
        message = await within(running, ANSWER_WITHIN, later=later, background=self._background)
        if message is None:  # slow: say so now, answer through the interaction's webhook
            return {"type": DEFERRED}
        if message.follow_up is not None:  # after our answer, a message of its own
            self._background.keep(self._offer(interaction, message.follow_up))
        if not message.ephemeral and any(image.data for image in message.images):
            # Files cannot ride in the HTTP answer: defer, then edit the original with them.
            self._background.keep(self._with_files(interaction, message))
            return {"type": DEFERRED}
        if message.job_id is not None and not message.ephemeral:
            self._background.keep(self._remember_answer(interaction, actor, message))
            return _answer(message)
        if message.shared and message.draft_id is not None and not message.ephemeral:
            self._background.keep(self._remember_answer(interaction, actor, message))
            return _answer(message)
        return self._serialized(message)

    def _serialized(self, message: Message) -> bytes:
        """The answer as JSON. The core hands out the very same message object for answers
        that never change (help, per language): that one is rendered once, not per asker."""
        cached = self._answers.get(id(message))
        if cached is not None and cached[0] is message:
            return cached[1]
        body = json.dumps(_answer(message)).encode()
        self._answers[id(message)] = (message, body)  # the message kept: its id stays its own
        if len(self._answers) > RENDERED_KEPT:
            self._answers.popitem(last=False)
        return body

    async def _follow_up(
        self, interaction: Mapping[str, Any], actor: Actor, running: asyncio.Future[Message]
    ) -> None:
        message = await running
        try:
            await self._deferred_answer(interaction, actor, message)
        finally:
            if message.follow_up is not None:
                await self._offer(interaction, message.follow_up)

    async def _deferred_answer(
        self, interaction: Mapping[str, Any], actor: Actor, message: Message
    ) -> None:
        if not message.ephemeral and any(image.data for image in message.images):
            await self._with_files(interaction, message)  # slow, and with files (a chart)
            return
        hook = self._webhook(interaction)
        try:
            if message.ephemeral:  # the deferred answer was public: replace it by a private one
                await self.rest.request("DELETE", ORIGINAL, route=hook)
                await self.rest.request("POST", HOOK, json=_private(message), route=hook)
                return
            sent = await self.rest.request("PATCH", ORIGINAL, json=render(message), route=hook)
        except DeliveryError as error:
            log.warning("could not follow up a Discord interaction: %s", error.detail)
            return
        if message.job_id is not None or (message.shared and message.draft_id is not None):
            await self._remember_job(actor, message, str(sent["channel_id"]), str(sent["id"]))

    async def _offer(self, interaction: Mapping[str, Any], message: Message) -> None:
        """A follow-up only the asker sees (the tour's offer, D1), once Discord has made the
        answer it follows (our HTTP answer may still be on its way: a few tries)."""
        hook = self._webhook(interaction)
        for _ in range(ORIGINAL_TRIES):
            try:
                await self.rest.request("POST", HOOK, json=_private(message), route=hook)
                return
            except DeliveryError:
                await asyncio.sleep(0.1)
        log.warning("could not follow up a Discord interaction with its offer")

    async def _with_files(self, interaction: Mapping[str, Any], message: Message) -> None:
        """The answer, its images attached with their alt text, once Discord has made the
        deferred original (our HTTP answer may still be on its way: a few tries)."""
        inline = [u for u in uploads(message) if u.data is not None]
        body = {**render(message), "attachments": attachments_field(inline)}
        files = [upload_file(u) for u in inline]
        for _ in range(ORIGINAL_TRIES):
            try:
                await self.rest.request(
                    "PATCH", ORIGINAL, json=body, files=files, route=self._webhook(interaction)
                )
                return
            except DeliveryError:
                await asyncio.sleep(0.1)
                files = [upload_file(u) for u in inline]  # a sent file's stream is spent
        log.warning("could not attach the images of a Discord answer")

    async def _remember_answer(
        self, interaction: Mapping[str, Any], actor: Actor, message: Message
    ) -> None:
        """The answer with a job's message went in our HTTP response: once Discord has made
        it a message, keep its id, so the job's end redraws it."""
        hook = self._webhook(interaction)
        for _ in range(ORIGINAL_TRIES):
            try:
                sent = await self.rest.request("GET", ORIGINAL, route=hook)
            except DeliveryError:
                await asyncio.sleep(0.1)
                continue
            await self._remember_job(actor, message, str(sent["channel_id"]), str(sent["id"]))
            return
        log.warning(
            "the answer (job #%s, draft #%s) never appeared on Discord",
            message.job_id,
            message.draft_id,
        )

    async def _remember_job(
        self, actor: Actor, message: Message, channel: str, message_id: str
    ) -> None:
        card = MessageRef(channel, message_id)
        if message.job_id is None:  # a draft's review card: redrawn once decided elsewhere
            await self._posts.remember(
                actor.workspace, card, PostedKind.DRAFT, draft_id=message.draft_id
            )
            return
        await self._posts.remember_job(actor.workspace, card, message.job_id)

    def on_draft_changed(self, draft_id: int, pressed: str) -> None:
        """A draft was decided or withdrawn: its cards on Discord are redrawn (not `pressed`)."""
        self._background.keep(self._redraw_draft(draft_id, pressed))

    async def _redraw_draft(self, draft_id: int, pressed: str) -> None:
        await self.drafts.redraw(draft_id, pressed)

    async def _press(self, interaction: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        data = interaction.get("data") or {}
        custom_id = str(data.get("custom_id") or "")
        typed = Press.decode(custom_id)
        if typed is None:  # not an id we drew: refused, and the log says who tried it
            name, _, value = custom_id.partition(":")
            return _answer(await self.service.refuse_action(name, value, actor, prefix=PREFIX))
        ref = form_instead(typed.action, typed.object_id) or reason_form(typed)
        if ref is not None:
            return modal_response(self.service.form(ref, actor))
        on = (interaction.get("message") or {}).get("id") or ""
        pressed = await answer_press(
            self.service,
            typed,
            actor,
            prefix=PREFIX,
            message=f"{actor.channel}:{on}" if on else "",
            once=_request_key(interaction),
        )
        return self._pressed(interaction, actor, pressed)

    def _pressed(
        self, interaction: Mapping[str, Any], actor: Actor, pressed: PressReply
    ) -> dict[str, Any]:
        """The answer rendered where core/app/presses.py says it goes."""
        if pressed.disposition is Disposition.PRIVATE:
            return _answer(pressed.message)  # ephemeral: only the asker sees it
        if pressed.disposition is Disposition.NEW_MESSAGE:
            self._background.keep(self._remember_answer(interaction, actor, pressed.message))
            return _answer(pressed.message)
        return {"type": UPDATE, "data": render(pressed.message)}

    async def _annotate_menu(self, interaction: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        data = interaction.get("data") or {}
        t = Translator(actor.locale)
        if data.get("name") != ANNOTATE_COMMAND:
            return _private_text(t.t("discord.bad_button"))
        target_id = str(data.get("target_id") or "")
        target = ((data.get("resolved") or {}).get("messages") or {}).get(target_id) or {}
        job_id = await self._job_of(interaction, target_id)
        if job_id is None:
            return _private_text(t.t("discord.not_a_job_message"))
        # Someone's words become the note's first draft; the bot's own message does not.
        author = target.get("author") or {}
        initial = "" if author.get("bot") else str(target.get("content") or "")
        form = self.service.form(FormRef.note(job_id), actor, initial)
        # The note keeps a link to the message it was made from.
        source = PostRef(str(target.get("channel_id") or actor.channel), target_id)
        return modal_response(form, source)

    async def _job_of(self, interaction: Mapping[str, Any], message_id: str) -> int | None:
        """The job a message is about: a job's or alert's own message, or any message in
        the thread started from one (that thread has the starter message's id)."""
        channel = interaction.get("channel") or {}
        channel_id = str(interaction.get("channel_id") or channel.get("id") or "")
        places = [(channel_id, message_id)]
        if channel.get("type") in THREAD_TYPES and channel.get("parent_id"):
            places.append((str(channel["parent_id"]), channel_id))
        return await job_of(self.service, PLATFORM, *places)

    async def _autocomplete(self, interaction: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        called = invocation(interaction.get("data") or {})
        verb = called.verb
        arguments: list[Param | Option] = [*verb.params, *verb.options] if verb else []
        argument = next((a for a in arguments if a.name == called.focused), None)
        typed = str(called.values.get(called.focused) or "").lower()
        offered: list[str] = []
        if argument is not None and argument.kind in (Kind.TARGET, Kind.SUBJECT):
            offered = await self.service.target_names(actor)
        elif argument is not None:
            offered = list(argument.choices)
        matching = [name for name in offered if typed in name.lower()][:MAX_CHOICES]
        return {"type": CHOICES, "data": {"choices": [{"name": n, "value": n} for n in matching]}}

    async def _submitted(self, interaction: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
        data = interaction.get("data") or {}
        t = Translator(actor.locale)
        ref = FormRef.decode(str(data.get("custom_id") or ""))
        values = modal_values(data.get("components") or [])
        link = self._link(interaction, ref.source)
        try:
            message = await self.service.submit_form(
                ref,
                values,
                actor,
                link=link,
                prefix=PREFIX,
                once=_request_key(interaction),
            )
        except FormInvalid as invalid:
            form = self.service.form(ref, actor)
            return _private_text(_errors_text(form, invalid, t))
        if ref.form_id == DECISION_FORM and interaction.get("message"):
            pressed = ref.press.object_id if ref.press is not None else ""
            return self._pressed(
                interaction, actor, PressReply(message, disposition(message, pressed))
            )
        noted_job = ref.job_id
        if noted_job is not None and not message.ephemeral:
            self._background.keep(self._echo_note(noted_job, message))
            return _private_text(message.summary or message.title)
        if message.job_id is not None and not message.ephemeral:
            self._background.keep(self._remember_answer(interaction, actor, message))
        return _answer(message)

    async def _echo_note(self, job_id: int, message: Message) -> None:
        """A saved note is said in the job's thread, with its author and link."""
        posted = await discussed_at(self.service, PLATFORM, job_id)
        if posted is None:
            return
        try:
            parent = MessageRef(posted.channel, posted.message_id)
            await self.surface.reply(posted.workspace, parent, message)
        except DeliveryError as error:
            log.warning("could not echo a note on job #%s: %s", job_id, error.detail)

    # -- the gateway: notes from threads --------------------------------------------------

    def hear(self, said: Heard) -> None:
        """A message addressed to the bot, from the gateway: handled off its read loop."""
        self._background.keep(self.thread_message(said))

    async def thread_message(self, said: Heard) -> None:
        """In a job's or an alert's thread (or replying to one of their messages), a note on
        that job, confirmed in the thread; anywhere else, nothing at all."""
        # Its lines name the message, as an HTTP request's name the request (bot/app.py).
        request = f"discord-message-{said.message_id}"
        with log_context(platform=PLATFORM, workspace=said.guild_id, request_id=request):
            found = await self._job_heard(said)
            if found is None:
                log.debug("a message to the bot outside any job's thread, ignored")
                return
            job_id, where = found
            locale = await self.locale_of(said.guild_id, said.author_id)
            actor = Actor(
                Principal(PLATFORM, said.guild_id, said.author_id),
                said.author_name,
                locale,
                said.channel_id,
            )
            link = (
                f"https://discord.com/channels/{said.guild_id}/{said.channel_id}/{said.message_id}"
            )
            message = await note_on(
                self.service,
                actor,
                job_id,
                said.text,
                link=link,
                raw=f"thread note {said.message_id}",
                prefix=PREFIX,
                once=f"message {said.message_id}",  # a resumed session may replay it
            )
            try:
                if message.ephemeral:  # a refusal is for its author only: in a private message
                    await self.surface.private(actor.principal, message)
                    return
                ref = await self.surface.reply(said.guild_id, where, message)
            except DeliveryError as error:
                log.warning("could not answer a note on job #%s: %s", job_id, error.detail)
                return
            if message.job_id is not None:
                await self._posts.remember(said.guild_id, ref, PostedKind.NOTE, job_id=job_id)

    async def _job_heard(self, said: Heard) -> tuple[int, MessageRef] | None:
        """The job `said` is about and where to answer (that job's thread), or None: the
        bot's message it replies to, else the thread it was written in, whose id is the id
        of the job's or alert's message it was started from."""
        if said.reply_to:
            job_id = await job_of(self.service, PLATFORM, (said.channel_id, said.reply_to))
            if job_id is not None:
                return job_id, MessageRef(said.channel_id, said.reply_to)
        parent = said.thread_parent or await self._parent_of(said.channel_id)
        if not parent:
            return None
        job_id = await job_of(self.service, PLATFORM, (parent, said.channel_id))
        return None if job_id is None else (job_id, MessageRef(parent, said.channel_id))

    async def _parent_of(self, channel: str) -> str:
        """The parent channel of `channel` if it is a thread, else "" (asked of the API when
        discord.py's cache has not seen the thread, as after a restart; remembered)."""
        if channel in self._parents:
            return self._parents[channel]
        try:
            found = await self.rest.request(
                "GET", "/channels/{channel_id}", route={"channel_id": channel}
            )
        except PermanentFailure:  # no such channel, or not ours to see
            found = {}
        except DeliveryError as error:  # not known now: ask again next time
            log.warning("could not look up Discord channel %s: %s", channel, error.detail)
            return ""
        thread = isinstance(found, dict) and found.get("type") in THREAD_TYPES
        parent = str(found.get("parent_id") or "") if thread else ""
        self._parents[channel] = parent
        if len(self._parents) > PARENTS_KEPT:
            self._parents.popitem(last=False)
        return parent

    def _link(self, interaction: Mapping[str, Any], source: PostRef | None) -> str:
        if source is None:
            return ""
        guild = str(interaction.get("guild_id") or "@me")
        return f"https://discord.com/channels/{guild}/{source.channel}/{source.message_id}"

    def _webhook(self, interaction: Mapping[str, Any]) -> dict[str, str]:
        return {
            "webhook_id": self.application_id,
            "webhook_token": str(interaction.get("token", "")),
        }

    async def on_job_ended(self, job: Job) -> None:
        """Redraw the job's message and say how it ended in its thread (an executor
        listener, like Slack's and Teams')."""
        await self.announcer.announce(job)


class DiscordSurface:
    """The `ChatSurface` of core/app/surface.py over the REST API."""

    platform = PLATFORM

    def __init__(self, adapter: DiscordAdapter) -> None:
        self._adapter = adapter

    async def update(self, workspace: str, ref: MessageRef, message: Message) -> None:
        await self._adapter.sender(workspace).update(ref, message)

    async def reply(self, workspace: str, parent: MessageRef, message: Message) -> MessageRef:
        return await self._adapter.sender(workspace).reply(parent, message)

    async def private(self, user: Principal, message: Message) -> MessageRef:
        return await self._adapter.sender(user.workspace).private(user.user_id, message)

    async def locale_of(self, user: Principal) -> str:
        return await self._adapter.locale_of(user.workspace, user.user_id)


def _answer(message: Message) -> dict[str, Any]:
    """A new message answering the interaction; only the asker sees a refusal."""
    return {"type": MESSAGE, "data": _private(message) if message.ephemeral else render(message)}


def _private(message: Message) -> dict[str, Any]:
    return {**render(message), "flags": EPHEMERAL}


def _private_text(text: str) -> dict[str, Any]:
    return {
        "type": MESSAGE,
        "data": {**text_message(text), "flags": EPHEMERAL},
    }


def _errors_text(form: Form, invalid: FormInvalid, t: Translator) -> str:
    """A modal cannot show an error under its field: name each field with its error."""
    labels = {field.name: field.label for field in form.inputs}
    lines = [
        f"{labels.get(name, form.title)}: {error}" if name else error
        for name, error in invalid.errors.items()
    ]
    return t.t("discord.form_invalid") + "\n" + "\n".join(lines)


def _request_key(interaction: Mapping[str, Any]) -> str:
    """The interaction's id: Discord gives each its own, a replay repeats it (E2)."""
    found = str(interaction.get("id") or "")
    return f"interaction {found}" if found else ""


def _channel_name(interaction: Mapping[str, Any]) -> str:
    """`#ops`: the name in the interaction's partial channel object (a direct message has
    none); what people see instead of the channel's id."""
    channel = interaction.get("channel")
    name = channel.get("name") if isinstance(channel, Mapping) else None
    return f"#{name}" if isinstance(name, str) and name.strip() else ""
