"""`help [verb]` (A7): the overview and one verb's usage, examples and capability."""

from __future__ import annotations

import functools

from core.commands import model as c
from core.commands.grammar import REGISTRY, all_verbs, find_verb
from core.commands.suggest import suggest
from core.errors import NotFound
from core.handlers.context import Context, Handler
from core.i18n import Translator
from core.views.message import Message


@functools.lru_cache(maxsize=32)
def help_overview(locale: str, prefix: str, prefixes: tuple[tuple[str, str], ...] = ()) -> Message:
    """The command list never changes while the bot runs: built once per language and surface.

    `prefixes` are the verbs invoked otherwise than with `prefix`, by first word.
    """
    t = Translator(locale)
    other = dict(prefixes)
    lines = [
        f"{other.get(verb.path.split(' ', 1)[0], prefix)}{verb.usage} — {t.t(verb.summary_key)}"
        for verb in all_verbs()
    ]
    return Message(
        title=t.t("help.title"),
        sections=("\n".join(lines), t.t("help.more", prefix=prefix)),
        summary=t.t("help.summary"),
    )


async def show_help(cmd: c.ShowHelp, ctx: Context) -> Message:
    t = ctx.t
    if cmd.topic is None:
        return help_overview(t.locale, ctx.prefix, tuple(sorted(ctx.prefixes.items())))
    verb = find_verb(cmd.topic)
    if verb is None:
        raise NotFound(
            "error.unknown_help_topic",
            word=cmd.topic,
            suggestion=suggest(cmd.topic, [v.name for v in REGISTRY]),
            prefix=ctx.prefix,
        )
    verbs = verb.subverbs or (verb,)
    sections = []
    for leaf in verbs:
        invoked = ctx.prefix_for(leaf.path)
        lines = [f"{invoked}{leaf.usage}", t.t(leaf.summary_key)]
        if leaf.capability is not None:
            lines.append(t.t("help.needs", capability=t.t(f"capability.{leaf.capability.value}")))
        if leaf.examples:
            lines.append(t.t("help.examples"))
            lines.extend(f"  {invoked}{example}" for example in leaf.examples)
        sections.append("\n".join(lines))
    return Message(
        title=t.t("help.topic_title", verb=verb.path),
        sections=tuple(sections),
        summary=t.t(verb.summary_key),
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.ShowHelp: show_help,
}
