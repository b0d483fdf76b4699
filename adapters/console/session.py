"""A console chat session: one user, one line per command.

Interactive on a terminal (jobs run in the background and announce their end); scripted when
standard input is not a terminal: each line's reply is printed, and a job it started is
awaited before the next line, so `printf 'run demo\nstatus\n' | exportbot console` is
deterministic.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from adapters.console.render import render
from core.app.presses import answer_press
from core.app.service import CommandService
from core.commands.actions import TOUR_PREFIX, Press
from core.domain.model import Actor, Job, Principal
from core.exclusions.service import PreviewService
from core.exports.service import ExportChannel, ExportService
from core.exports.spec import StoredExport
from core.i18n import Translator
from core.jobs.executor import JobExecutor
from core.safety.text import visible
from core.views.message import Message

PLATFORM = "console"
QUIT_WORDS = frozenset({"quit", "exit", "quitter"})


class ConsoleSession:
    def __init__(
        self,
        service: CommandService,
        executor: JobExecutor,
        user: str,
        *,
        locale: str = "en",
        out: TextIO | None = None,
        image_dir: Path | None = None,
        exports: ExportService | None = None,
        previews: PreviewService | None = None,
    ) -> None:
        """Images a reply carries (a `stats` chart) are written under `image_dir`, and their
        path printed; without one, only their description is."""
        self.actor = Actor(Principal(PLATFORM, "", user), user, locale, channel="console")
        self._service = service
        self._executor = executor
        self._exports = exports  # scripted mode waits for an export as for a job
        self._previews = previews  # and for an `exclude` preview
        self._out = out or sys.stdout
        self._image_dir = image_dir
        self._t = Translator(locale)
        self._prompt = ""  # set while an interactive prompt is waiting
        # Whoever read our output has gone (`… | head`): stop quietly, like any Unix tool.
        self.reader_gone = False
        # A person at a terminal is offered the guided tour after a first command (D1); a
        # script piped in is not (its output stays what it asked for). `tour` works in both.
        self.offer_tour = False
        # The buttons the last reply offered, as numbered choices: typing "1" presses the first.
        self._choices: list[Press] = []

    def welcome(self) -> str:
        return self._t.t("console.welcome", user=self.actor.display_name)

    async def handle_line(self, line: str) -> str | None:
        text = line.strip()
        if not text or text.startswith("#!"):
            return None
        chosen = self._choice(text)
        if chosen is not None:
            pressed = await answer_press(self._service, chosen, self.actor, prefix="")
            message = pressed.message
        else:
            message = await self._service.execute_text(text, self.actor, offer_tour=self.offer_tour)
        written = await asyncio.to_thread(self._write_images, message)
        self._choices = []
        lines = [self._with_choices(message), *written]
        if message.follow_up is not None:
            lines.extend(("", self._with_choices(message.follow_up)))
        return "\n".join(lines)

    def _choice(self, text: str) -> Press | None:
        """The button a numbered reply names ("2": the second of the last reply's), if any."""
        if not (text.isascii() and text.isdigit()) or len(text) > 2:
            return None
        number = int(text)
        return self._choices[number - 1] if 1 <= number <= len(self._choices) else None

    def _with_choices(self, message: Message) -> str:
        """The message, and its tour buttons as numbered choices (kept for the next line)."""
        buttons = [a for a in message.actions if a.name.startswith(TOUR_PREFIX)]
        if not buttons:
            return render(message)
        first = len(self._choices) + 1
        self._choices.extend(a.press for a in buttons)
        lines = [render(message), "", self._t.t("tour.console_choices")]
        lines.extend(f"  {first + i}. {a.label}" for i, a in enumerate(buttons))
        return visible_lines(lines)

    def _write_images(self, message: Message) -> list[str]:
        """Each image with bytes as a file; the lines saying where."""
        if self._image_dir is None:
            return []
        lines = []
        for image in message.images:
            if image.data and image.filename:
                self._image_dir.mkdir(parents=True, exist_ok=True)
                path = self._image_dir / Path(image.filename).name
                path.write_bytes(image.data)
                lines.append(self._t.t("stats.console_chart", path=str(path.resolve())))
        return lines

    async def run_script(self, lines: TextIO) -> None:
        for line in lines:
            reply = await self.handle_line(line)
            if reply is not None:
                self._print(reply)
            await self._executor.idle()
            if self._exports is not None:
                await self._exports.idle()
            if self._previews is not None:
                await self._previews.idle()
            if self.reader_gone:
                return

    async def run_interactive(self, read: Callable[[str], str] = input) -> None:
        self.offer_tour = True
        loop = asyncio.get_running_loop()
        prompt = f"{self.actor.display_name}> "
        self._prompt = prompt
        while True:
            try:
                line = await loop.run_in_executor(None, read, prompt)
            except (EOFError, KeyboardInterrupt):
                self._print("")
                return
            if line.strip().lower() in QUIT_WORDS:
                return
            reply = await self.handle_line(line)
            if reply is not None:
                self._print(reply)

    async def on_job_ended(self, job: Job) -> None:
        # C3 in the console: whoever started a job here is told when it ends.
        text = render(self._service.job_message(job, self._t.locale, "job.finished_title"))
        if self._prompt:  # it lands while the prompt waits: start a fresh line, then re-prompt
            self._write("\n" + text + "\n\n" + self._prompt)
        else:
            self._print(text)

    def export_channel(self, actor: Actor) -> ExportChannel:
        """Where an export started here shows: this terminal (its progress, its link, and the
        file's path on this machine)."""
        return _ConsoleExport(self, Translator(actor.locale))

    def tell(self, text: str) -> None:
        """A line that lands on its own (a job's end, an export's progress)."""
        if self._prompt:  # it lands while the prompt waits: start a fresh line, then re-prompt
            self._write("\n" + text + "\n\n" + self._prompt)
        else:
            self._print(text)

    def _print(self, text: str) -> None:
        self._write(text + "\n\n" if text else "\n")

    def _write(self, text: str) -> None:
        if self.reader_gone:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except BrokenPipeError:
            self.reader_gone = True


def visible_lines(lines: list[str]) -> str:
    return visible("\n".join(lines))


class _ConsoleExport:
    """An export in the console: every step printed, and the file's path (it is local)."""

    upload_limit = sys.maxsize  # the file is already here: its path is always shown

    def __init__(self, session: ConsoleSession, t: Translator) -> None:
        self._session = session
        self._t = t

    async def show(self, message: Message) -> None:
        self._session.tell(render(message))

    async def attach(self, export: StoredExport, message: Message) -> None:
        self._session.tell(self._t.t("export.console_file", path=export.path.resolve()))
