"""The entry point every adapter calls: text or a Command in, a `Message` out.

It owns the transaction around a handler, the audit line of every command (B6), the
workspace allow-list, and the mapping of core errors to clear replies (never a traceback).
What comes in is cleaned here (core/commands/inbound.py), once, whichever adapter sent it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from core.app.platforms import Platforms
from core.commands import forms
from core.commands import model as c
from core.commands.actions import Press, parse_value
from core.commands.forms import Form, FormRef
from core.commands.grammar import parse, parse_fields
from core.commands.inbound import clean_actor, clean_command, clean_values
from core.commands.numbers import record_id
from core.domain.audit import audit_entry
from core.domain.authorization import visible_targets
from core.domain.conversations import PostedMessage
from core.domain.model import Actor, Job, Outcome, Principal, TargetSpec
from core.errors import (
    AlreadyDone,
    Conflict,
    ExportbotError,
    InvalidCommand,
    NotFound,
    PermissionDenied,
    StaleAction,
)
from core.handlers.context import (
    DEFAULT_DRAFT_TTL,
    Context,
    ExportLauncher,
    JobControl,
    PreviewLauncher,
)
from core.handlers.registry import HANDLERS
from core.handlers.schedules import draft_view
from core.i18n import Translator
from core.ports import AuditSink, Charts, Clock, UnitOfWork, UnitOfWorkFactory
from core.safety.links import PageLinks
from core.safety.redaction import redact, redact_params
from core.safety.text import clean
from core.support.log_context import log_context
from core.support.telemetry import NO_TELEMETRY, Telemetry
from core.views.jobs import job_message
from core.views.message import Message, Tone
from core.views.tour import tour_offer

log = logging.getLogger(__name__)

BUTTON = "button"  # the audit log's action for a press that stands for no command
TOURED_KEPT = 10_000  # principals known to have had the tour offered, kept in memory


class CommandService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        targets: Mapping[str, TargetSpec],
        clock: Clock,
        jobs: JobControl,
        *,
        platforms: Platforms,
        workspaces: Collection[str] = (),
        draft_ttl: timedelta = DEFAULT_DRAFT_TTL,
        audit_sink: AuditSink | None = None,
        webhook_allow_private: bool = False,
        telemetry: Telemetry = NO_TELEMETRY,
        charts: Charts | None = None,
        pages: PageLinks | None = None,
        exports: ExportLauncher | None = None,
        previews: PreviewLauncher | None = None,
        tour_offers: bool = False,
    ) -> None:
        """`workspaces` are the `platform:workspace` pairs served; a local platform's people
        (`platforms`: the console) always are.
        With an `audit_sink`, read-only commands and refusals are audited through it (in
        batches) instead of inside a write transaction. `webhook_allow_private` lets
        webhooks be subscribed on loopback and private addresses. Every command's outcome is
        counted in `telemetry`. With `tour_offers`, a principal's first typed command is
        followed by the offer of the guided tour (D1), once."""
        self._uow_factory = uow_factory
        self._targets = targets
        self._clock = clock
        self._jobs = jobs
        self._platforms = platforms
        self._workspaces = frozenset(workspaces)
        self._draft_ttl = draft_ttl
        self._audit_sink = audit_sink
        self._webhook_allow_private = webhook_allow_private
        self._telemetry = telemetry
        self._charts = charts
        self.pages = pages
        self.schedule_listeners: list[Callable[[], object]] = []
        # Each chat platform redraws a draft's cards there (core/app/drafts.py).
        self.draft_listeners: list[Callable[[int, str], object]] = []
        # Builds `audit` exports; the root sets it once the platforms' senders exist.
        self.exports = exports
        # Walks targets' trees for `exclude`; the root sets it like `exports`.
        self.previews = previews
        self._tour_offers = tour_offers
        # Principals already offered the tour: only their first command here asks the database.
        self._toured: set[Principal] = set()

    async def execute_text(
        self,
        text: str,
        actor: Actor,
        *,
        prefix: str = "",
        once: str = "",
        offer_tour: bool = True,
    ) -> Message:
        """Parse and execute one line typed by `actor`. `prefix` is how users invoke the bot
        on their surface (`/export ` on Slack, "" in the console), used in hints. `once` is
        the platform's id of the request (see `execute`). The answer to a newcomer's first
        command carries the tour's offer as its `follow_up` (unless `offer_tour` is False:
        a script, not a person, is typing)."""
        text = clean(text)
        message = await self._parse_and_execute(lambda: parse(text), text, actor, prefix, once)
        return await self._with_tour_offer(message, actor, prefix) if offer_tour else message

    async def execute_fields(
        self,
        path: str,
        values: Mapping[str, object],
        actor: Actor,
        *,
        raw: str,
        prefix: str = "",
        once: str = "",
    ) -> Message:
        """Execute verb `path` with typed, named arguments (Discord's command options);
        `raw` is how the command reads as text, for the audit log."""
        path, raw, fields = clean(path), clean(raw), clean_values(values)
        message = await self._parse_and_execute(
            lambda: parse_fields(path, fields), raw, actor, prefix, once
        )
        return await self._with_tour_offer(message, actor, prefix)

    async def _with_tour_offer(self, message: Message, actor: Actor, prefix: str) -> Message:
        """`message`, followed by the tour's offer when `actor` never had it (D1). Offered
        once per principal, by a unique insert: two first commands at once offer it once.
        Not after a refusal (a stranger's workspace, a typo), nor after the tour itself."""
        if not self._tour_offers or message.error_key or message.follow_up is not None:
            return message
        actor = clean_actor(actor)
        principal = actor.principal
        if principal in self._toured or not self.serves(actor):
            return message
        try:
            async with self._uow_factory() as uow:
                first = await uow.tours.offer(principal, self._clock.now())
                await uow.commit()
        except Exception:  # the answer must still reach its asker; the offer can wait
            log.exception("could not record the tour's offer to %s", principal)
            return message
        if len(self._toured) >= TOURED_KEPT:
            self._toured.clear()
        self._toured.add(principal)
        if not first:
            return message
        return replace(message, follow_up=tour_offer(Translator(actor.locale), prefix))

    async def _parse_and_execute(
        self,
        parse_command: Callable[[], c.Command],
        raw: str,
        actor: Actor,
        prefix: str,
        once: str,
    ) -> Message:
        actor = clean_actor(actor)
        t = Translator(actor.locale)
        try:
            command = parse_command()
        except InvalidCommand as error:
            if not self.serves(actor):  # strangers learn nothing about the grammar
                return await self._refuse_workspace(actor, "unparsed", raw, t, prefix)
            await self._audit_failure(actor, "invalid", Outcome.INVALID, raw, error)
            return error_message(t, error, prefix, raw)
        except Exception:  # a bug in the parser: answered and audited like any other
            return await self._internal_error(actor, "unparsed", raw, t, prefix)
        return await self.execute(command, actor, raw=raw, prefix=prefix, once=once)

    async def execute(
        self,
        command: c.Command,
        actor: Actor,
        *,
        raw: str = "",
        prefix: str = "",
        once: str = "",
        pressed: str = "",
    ) -> Message:
        """Run `command` for `actor`: checked, done, audited and answered in words.

        `once` names the request on its platform (a Slack trigger id, a Discord interaction
        id, a Teams activity id, a button on one message version): it is claimed in the
        command's own transaction, so a replay of a change gets "already done" and changes
        nothing (E2), on any process sharing the database. Reading commands claim nothing:
        answering them twice is harmless. `pressed` names the message whose button it is
        (`"<channel>:<id>"`): redrawn by the adapter, so not again by a listener."""
        target = _target_of(command)
        known = target if target in self._targets else None  # a typed name may be anything
        with log_context(target=known, job_id=_job_of(command)):
            return await self._execute(command, actor, raw, prefix, once, pressed)

    async def _execute(
        self, command: c.Command, actor: Actor, raw: str, prefix: str, once: str, pressed: str = ""
    ) -> Message:
        command, actor, raw = clean_command(command), clean_actor(actor), clean(raw)
        t = Translator(actor.locale)
        if not self.serves(actor):
            return await self._refuse_workspace(actor, command.verb, raw, t, prefix)
        handler = HANDLERS[type(command)]
        prefixes = self._platforms.verb_prefixes(actor.platform)
        prefix = prefixes.get(command.verb.split(" ", 1)[0], prefix)
        try:
            async with self._uow_factory(read_only=command.read_only) as uow:
                ctx = Context(
                    uow,
                    actor,
                    t,
                    self._clock,
                    self._targets,
                    self._jobs,
                    prefix,
                    self._draft_ttl,
                    self.schedule_listeners,
                    draft_listeners=self.draft_listeners,
                    pressed=pressed,
                    webhook_allow_private=self._webhook_allow_private,
                    serves=self.serves_principal,
                    charts=self._charts,
                    exports=self.exports,
                    previews=self.previews,
                    prefixes=prefixes,
                    pages=self.pages,
                )
                if once and not command.read_only:
                    await self._claim(uow, actor, once)
                message = await handler(command, ctx)
                entry = audit_entry(
                    actor,
                    self._clock,
                    command.verb,
                    Outcome.OK,
                    _target_of(command),
                    _job_of(command),
                    raw or repr(command),
                )
                if command.audited and not (command.read_only and self._audit_sink):
                    await uow.audit.append(entry)  # in the same transaction as the change
                await uow.commit()
            if command.audited and command.read_only and self._audit_sink:
                self._audit_sink.append(entry)
        except ExportbotError as error:
            outcome = Outcome.REFUSED if isinstance(error, PermissionDenied) else Outcome.INVALID
            await self._audit_failure(
                actor,
                command.verb,
                outcome,
                raw or repr(command),
                error,
                target=_target_of(command),
                job_id=_job_of(command),
            )
            return error_message(t, error, prefix, raw)
        except Exception:
            return await self._internal_error(
                actor,
                command.verb,
                raw or repr(command),
                t,
                prefix,
                target=_target_of(command),
                job_id=_job_of(command),
            )
        self._handled(actor, command.verb, Outcome.OK)
        for effect in ctx.after_commit:
            effect()
        return message

    async def execute_action(
        self,
        press: Press,
        actor: Actor,
        *,
        prefix: str = "",
        message: str = "",
        once: str = "",
    ) -> Message:
        """A button press, as the adapter's codec read it. A press no command stands for
        (forged, or from an older version) is refused. A press is acted on once per
        (`message` it is on, action, version): a second press, or a replay, is "already
        done"; with no message (a home tab), once per request (`once`)."""
        name, value = press.action, press.value
        actor = clean_actor(actor)
        try:
            command = press.command()
        except Exception:  # a bug reading the button: answered and audited like any other
            return await self._internal_error(
                actor, "button", f"{name} {value}", Translator(actor.locale), prefix
            )
        if command is None:
            return await self.refuse_action(name, value, actor, prefix=prefix)
        key = f"press {message} {name} {value}" if message else once
        return await self.execute(
            command, actor, raw=f"{name} {value}", prefix=prefix, once=clean(key), pressed=message
        )

    async def refuse_action(
        self, name: str, value: str, actor: Actor, *, prefix: str = ""
    ) -> Message:
        """The answer to a press that stands for nothing: a short refusal, audited like any
        invalid command (a forged button is worth a line in the log, not silence). `name`
        and `value` are what the button carried, as it came: they are cleaned here."""
        actor, t = clean_actor(actor), Translator(actor.locale)
        raw = clean(f"{name} {value}")
        if not self.serves(actor):
            return await self._refuse_workspace(actor, BUTTON, raw, t, prefix)
        error = InvalidCommand("error.bad_button")
        await self._audit_failure(actor, BUTTON, Outcome.INVALID, raw, error)
        return error_message(t, error, prefix)

    def form(self, ref: FormRef, actor: Actor, initial: str = "") -> Form:
        """The form `ref` names, to show `actor` (translated)."""
        form_id, context, initial = ref.form_id, clean(ref.context), clean(initial)
        t = Translator(actor.locale)
        if form_id == forms.NOTE_FORM:
            return forms.note_form(t, record_id(context) or 0, initial)
        if form_id == forms.DECISION_FORM:
            # Drawn even for a forged context (draft 0): the refusal comes on submission.
            action, _, value = context.partition(":")
            draft, version = parse_value(value) or ("0", 0)
            return forms.decision_form(t, action, record_id(draft) or 0, version)
        return forms.draft_form(t, list(self._targets), context)

    async def submit_form(
        self,
        ref: FormRef,
        values: Mapping[str, str],
        actor: Actor,
        *,
        link: str = "",
        prefix: str = "",
        once: str = "",
    ) -> Message:
        """Run a submitted form (`once`: see `execute`). `FormInvalid` names the inputs to
        fix, bad values and refusals alike, so the form stays open with the error on its field."""
        t = Translator(actor.locale)
        form_id, context, link = ref.form_id, clean(ref.context), clean(link)
        values = {name: clean(value) for name, value in values.items()}
        command = forms.form_command(FormRef(form_id, context), values, t, link=link)
        message = await self.execute(
            command, actor, raw=f"form {form_id} {context}", prefix=prefix, once=once
        )
        if message.error_key:
            name = forms.ERROR_INPUTS.get(message.error_key)
            inputs = [i.name for i in self.form(FormRef(form_id, context), actor).inputs]
            raise forms.FormInvalid({name if name in inputs else inputs[0]: message.summary})
        return message

    async def _claim(self, uow: UnitOfWork, actor: Actor, once: str) -> None:
        # Keys from outside may be long (a forged button value): the table keeps 256.
        key = once if len(once) <= 200 else "sha256 " + hashlib.sha256(once.encode()).hexdigest()
        if not await uow.inbound.claim(actor.platform, key, self._clock.now()):
            raise AlreadyDone()

    async def first_delivery(self, platform: str, key: str) -> bool:
        """False when the platform already delivered `key` (a retry): act only once (E2)."""
        async with self._uow_factory() as uow:
            first = await uow.inbound.claim(platform, key, self._clock.now())
            await uow.commit()
        return first

    async def remember_conversations(
        self, platform: str, workspace: str, references: Mapping[str, dict[str, Any]]
    ) -> None:
        """Keep where the bot may write later (Teams), by key, in one transaction."""
        async with self._uow_factory() as uow:
            for key, reference in references.items():
                await uow.references.save(platform, workspace, key, reference, self._clock.now())
            await uow.commit()

    async def conversation(self, platform: str, workspace: str, key: str) -> dict[str, Any] | None:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.references.get(platform, workspace, key)

    async def record_posted(self, message: PostedMessage) -> None:
        async with self._uow_factory() as uow:
            await uow.posted.record(message)
            await uow.commit()

    async def find_posted(
        self, platform: str, channel: str, message_id: str
    ) -> PostedMessage | None:
        async with self._uow_factory() as uow:
            return await uow.posted.find(platform, channel, message_id)

    async def posted_for_job(self, job_id: int, platform: str) -> Sequence[PostedMessage]:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.posted.for_job(job_id, platform)

    async def posted_for_draft(self, draft_id: int, platform: str) -> Sequence[PostedMessage]:
        async with self._uow_factory(read_only=True) as uow:
            return await uow.posted.for_draft(draft_id, platform)

    async def draft_card(self, draft_id: int, locale: str = "en") -> Message | None:
        """A draft's card as everyone sees it now (None when there is no such draft)."""
        async with self._uow_factory(read_only=True) as uow:
            draft = await uow.drafts.get(draft_id)
            if draft is None:
                return None
            spec = self._targets.get(draft.target)
            quorum = spec.approvals_required if spec is not None else 1
            return await draft_view(
                uow, Translator(locale), draft, quorum, self._clock.now(), self.pages
            )

    async def job_view(self, job_id: int, locale: str = "en") -> Message | None:
        """A job with its notes, for the page a signed link opens (the link is the right)."""
        async with self._uow_factory(read_only=True) as uow:
            job = await uow.jobs.get(job_id)
            if job is None:
                return None
            annotations = await uow.annotations.for_job(job_id)
        return job_message(Translator(locale), job, annotations, now=self._clock.now())

    async def ended_job(self, job_id: int) -> Job | None:
        """The job if it has already ended (a card posted after a quick job's end must be
        brought up to date by its poster: the end's listeners found nothing to update)."""
        async with self._uow_factory(read_only=True) as uow:
            job = await uow.jobs.get(job_id)
        return job if job is not None and job.state.is_terminal else None

    def job_message(self, job: Job, locale: str = "en", title_key: str = "job.title") -> Message:
        """How a job looks to everyone (used to refresh its message when it ends)."""
        return job_message(Translator(locale), job, now=self._clock.now(), title_key=title_key)

    async def target_names(self, actor: Actor) -> list[str]:
        """The targets `actor` may see, in configuration order (autocomplete offers them);
        none for a workspace the bot does not serve."""
        if not self.serves(actor):
            return []
        async with self._uow_factory(read_only=True) as uow:
            return await visible_targets(uow, actor.principal, list(self._targets))

    def serve_workspace(self, key: str) -> None:
        """Also serve `platform:workspace` (e.g. the Slack team of the bot token)."""
        self._workspaces = self._workspaces | {key}

    def serves(self, actor: Actor) -> bool:
        return self.serves_principal(actor.principal)

    def serves_principal(self, principal: Principal) -> bool:
        """Whether `principal`'s workspace is served (console users are always local)."""
        if principal.platform in self._platforms.local:
            return True
        return f"{principal.platform}:{principal.workspace}" in self._workspaces

    async def _refuse_workspace(
        self, actor: Actor, action: str, raw: str, t: Translator, prefix: str
    ) -> Message:
        error = PermissionDenied("error.workspace", workspace=actor.workspace)
        await self._audit_failure(actor, action, Outcome.REFUSED, raw, error)
        return error_message(t, error, prefix)

    async def _internal_error(
        self,
        actor: Actor,
        action: str,
        raw: str,
        t: Translator,
        prefix: str,
        *,
        target: str | None = None,
        job_id: int | None = None,
    ) -> Message:
        """What went wrong goes to the log; the audit line and the reply say only that
        something did (a traceback may hold anything, the command a secret)."""
        log.exception("command %r failed", action)
        await self._audit_failure(
            actor, action, Outcome.ERROR, redact(raw), None, target=target, job_id=job_id
        )
        return error_message(t, ExportbotError(), prefix)

    def _handled(self, actor: Actor, action: str, outcome: Outcome) -> None:
        """Every command and press is counted once, by verb, platform and outcome. Its log
        line is DEBUG: the audit log keeps every command already, and a line per command
        written on the ack's path costs as much as the metrics and context together."""
        log.debug("%s by %s: %s", action, actor.principal, outcome.value)
        self._telemetry.command_handled(action, actor.platform, outcome.value)

    async def _audit_failure(
        self,
        actor: Actor,
        action: str,
        outcome: Outcome,
        raw: str,
        error: ExportbotError | None,
        *,
        target: str | None = None,
        job_id: int | None = None,
    ) -> None:
        self._handled(actor, action, outcome)
        detail = raw if error is None else f"{raw} → {error.key} {redact_params(error.params, raw)}"
        if self._audit_sink is not None:  # nothing changed: no transaction to share
            self._audit_sink.append(
                audit_entry(actor, self._clock, action, outcome, target, job_id, detail)
            )
            return
        try:
            async with self._uow_factory() as uow:
                await uow.audit.append(
                    audit_entry(actor, self._clock, action, outcome, target, job_id, detail)
                )
                await uow.commit()
        except Exception:  # the reply must still reach the user
            log.exception("could not audit a %s %r", outcome.value, action)


# An error's parameters that are amounts (limits, lengths, bounds), never ids like a job number.
_QUANTITIES = frozenset({"limit", "max", "length", "low", "high"})


def error_message(t: Translator, error: ExportbotError, prefix: str, typed: str = "") -> Message:
    """A short reply naming what was wrong, a did-you-mean when there is one, and the help line.
    `typed` is the line the error's words were taken from (redacted with their context)."""
    # What was typed comes back in the reply: a pasted token must not.
    params = redact_params(error.params, typed)
    for name in _QUANTITIES.intersection(params):
        value = params[name]
        if isinstance(value, int) and not isinstance(value, bool):
            params[name] = t.number(value)  # `2 000 caractères`, as the reader groups digits
    if isinstance(error, PermissionDenied) and params.get("capability"):
        params["capability"] = t.t(f"capability.{params['capability']}")
    key = error.key
    if isinstance(error, PermissionDenied) and params.get("target"):
        key += "_on_target"  # "…on demo" reads better than an empty slot
    lines = [t.t(key, **params)]
    suggestion = params.get("suggestion")
    if suggestion:
        lines.append(t.t("error.did_you_mean", suggestion=f"{prefix}{suggestion}"))
    usage = params.get("usage")
    if usage:
        lines.append(t.t("error.usage", usage=f"{prefix}{usage}"))
    if isinstance(error, PermissionDenied) and params.get("capability"):
        lines.append(t.t("error.permission_hint"))
    footer = t.t("error.help_line", prefix=prefix)
    title_key, tone = _ERROR_TITLES.get(type(error), ("error.title", Tone.DANGER))
    return Message(
        title=t.t(title_key),
        tone=tone,
        sections=("\n".join(lines),),
        footer=footer,
        summary=lines[0],
        ephemeral=True,
        error_key=error.key,
    )


_ERROR_TITLES: dict[type[ExportbotError], tuple[str, Tone]] = {
    InvalidCommand: ("error.title_invalid", Tone.WARNING),
    PermissionDenied: ("error.title_permission", Tone.DANGER),
    NotFound: ("error.title_not_found", Tone.WARNING),
    Conflict: ("error.title_conflict", Tone.WARNING),
    StaleAction: ("error.title_stale", Tone.WARNING),
    AlreadyDone: ("error.title_already_done", Tone.INFO),
}


def _target_of(command: c.Command) -> str | None:
    target = getattr(command, "target", None)
    return target if isinstance(target, str) else None


def _job_of(command: c.Command) -> int | None:
    job_id = getattr(command, "job_id", None)
    return job_id if isinstance(job_id, int) else None
