"""Type-check the payload corpus with the platforms' own TypeScript types.

Each platform gets one .ts file with a typed const per payload
(`const p3 = {…} satisfies ChatPostMessageArguments;`): `satisfies` keeps the object literal
fresh, so a misspelt or unknown property is an error, not just a wrong type. `tsc --strict
--noEmit` runs on them; each error is told with the payload file and the test that produced it.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLIENTS = Path(__file__).resolve().parent
NODE_MODULES = CLIENTS / "node_modules"
TSC = NODE_MODULES / ".bin" / "tsc"

SLACK_WEB = "@slack/web-api"
BOLT = "@slack/bolt"  # what a response_url, an ack and a view_submission answer take
DISCORD = "discord-api-types/v10"

# platform → kind (corpus.py's names) → (module, type the payload must satisfy)
TYPES: dict[str, dict[str, tuple[str, str]]] = {
    "slack": {
        "chat.postMessage": (SLACK_WEB, "ChatPostMessageArguments"),
        "chat.postEphemeral": (SLACK_WEB, "ChatPostEphemeralArguments"),
        "chat.update": (SLACK_WEB, "ChatUpdateArguments"),
        "chat.delete": (SLACK_WEB, "ChatDeleteArguments"),
        "conversations.open": (SLACK_WEB, "ConversationsOpenArguments"),
        "views.open": (SLACK_WEB, "ViewsOpenArguments"),
        "views.push": (SLACK_WEB, "ViewsPushArguments"),
        "views.update": (SLACK_WEB, "ViewsUpdateArguments"),
        "views.publish": (SLACK_WEB, "ViewsPublishArguments"),
        "files.getUploadURLExternal": (SLACK_WEB, "FilesGetUploadURLExternalArguments"),
        "files.completeUploadExternal": (SLACK_WEB, "FilesCompleteUploadExternalArguments"),
        "ack": (BOLT, "RespondArguments"),
        "response-url": (BOLT, "RespondArguments"),
        "view-response": (BOLT, "ViewResponseAction"),
        "options": (BOLT, "BlockOptions"),
        "incoming-webhook": ("@slack/webhook", "IncomingWebhookSendArguments"),
        # The app manifest as Slack's own SDK types it (the nearest thing npm has to Slack's
        # manifest schema).
        "app-manifest": ("@slack/deno-slack-sdk", "ManifestSchema"),
    },
    "discord": {
        "open-dm": (DISCORD, "RESTPostAPICurrentUserCreateDMChannelJSONBody"),
        "create-message": (DISCORD, "RESTPostAPIChannelMessageJSONBody"),
        "edit-message": (DISCORD, "RESTPatchAPIChannelMessageJSONBody"),
        "start-thread": (DISCORD, "RESTPostAPIChannelMessagesThreadsJSONBody"),
        "put-commands": (DISCORD, "RESTPutAPIApplicationCommandsJSONBody"),
        "command-manifest": (DISCORD, "RESTPutAPIApplicationCommandsJSONBody"),
        "interaction-callback": (DISCORD, "RESTPostAPIInteractionCallbackJSONBody"),
        "interaction-response": (DISCORD, "APIInteractionResponse"),
        "followup": (DISCORD, "RESTPostAPIInteractionFollowupJSONBody"),
        "edit-followup": (DISCORD, "RESTPatchAPIInteractionOriginalResponseJSONBody"),
        "webhook-message": (DISCORD, "RESTPostAPIWebhookWithTokenJSONBody"),
        "webhook-edit": (DISCORD, "RESTPatchAPIWebhookWithTokenMessageJSONBody"),
    },
}

# Where the type is more than a name: the Deno SDK's manifest adds `icon`, a file its CLI
# uploads, which is no field of the manifest Slack takes.
SATISFIES = {"ManifestSchema": "Omit<ManifestSchema, 'icon'>"}

_ERROR = re.compile(r"^(?P<file>[^(\s]+\.ts)\((?P<line>\d+),(?P<col>\d+)\): error (?P<text>.*)$")


@dataclass(frozen=True)
class Typed:
    """One payload written into a .ts file: where it came from and which lines it spans."""

    path: Path
    source: str
    first: int
    last: int


def entries(corpus: Path, platform: str) -> list[tuple[Path, dict[str, Any]]]:
    return [(p, json.loads(p.read_text())) for p in sorted((corpus / platform).glob("*/*.json"))]


def write_ts(corpus: Path, platform: str, out: Path) -> tuple[list[Typed], list[str]]:
    """Write `<platform>.ts` into `out`; what was written, and the kinds no type is known for."""
    known = TYPES[platform]
    found = entries(corpus, platform)
    unknown = sorted({e["kind"] for _, e in found if e["kind"] not in known})
    used = sorted({known[e["kind"]] for _, e in found if e["kind"] in known})
    modules = sorted({module for module, _ in used})
    lines = [
        f"import type {{ {', '.join(t for m, t in used if m == module)} }} from {module!r};"
        for module in modules
    ]
    if platform == "slack":
        lines.append("import type { KnownBlock } from '@slack/types';")
    typed: list[Typed] = []
    for number, (path, entry) in enumerate(found):
        if entry["kind"] not in known:
            continue
        _, type_name = known[entry["kind"]]
        lines.append(f"// {path.relative_to(corpus)} from {entry['source']}")
        first = len(lines) + 1
        lines += _const(f"p{number}", entry["payload"], SATISFIES.get(type_name, type_name))
        if platform == "slack":
            # Slack's argument types also take any `Block` ({type: string}): hold every list
            # of blocks to the blocks Slack knows.
            for index, blocks in enumerate(_block_lists(entry["payload"])):
                lines += _const(f"p{number}_blocks{index}", blocks, "KnownBlock[]")
        typed.append(Typed(path, entry["source"], first, len(lines)))
    (out / f"{platform}.ts").write_text("\n".join(lines) + "\n")
    return typed, unknown


def _const(name: str, value: Any, type_expression: str) -> list[str]:
    """`export const <name> = <value as JSON> satisfies <type>;`, as lines."""
    lines = json.dumps(value, indent=1, ensure_ascii=False).splitlines()
    lines[0] = f"export const {name} = {lines[0]}"
    # On the value's last line: after a line break, `satisfies` would start a new statement.
    lines[-1] += f" satisfies {type_expression};"
    return lines


def _block_lists(payload: Any) -> list[list[Any]]:
    """Every `blocks` list in a Slack payload: a message's, a view's."""
    if isinstance(payload, list):
        return [found for item in payload for found in _block_lists(item)]
    if not isinstance(payload, dict):
        return []
    found = [payload["blocks"]] if isinstance(payload.get("blocks"), list) else []
    return found + [
        f for key, value in payload.items() if key != "blocks" for f in _block_lists(value)
    ]


def run_tsc(out: Path, files: list[str]) -> str:
    """`tsc --strict --noEmit` on `files` in `out`; its output (empty when all is well)."""
    link = out / "node_modules"
    if not link.exists():
        link.symlink_to(NODE_MODULES)  # module resolution finds the packages beside the files
    config = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "skipLibCheck": True,  # the packages' own .d.ts are theirs to check
            "target": "es2022",
            "module": "nodenext",
            "moduleResolution": "nodenext",
            "types": [],
        },
        "files": files,
    }
    (out / "tsconfig.json").write_text(json.dumps(config, indent=1))
    done = subprocess.run(
        [str(TSC), "-p", str(out / "tsconfig.json"), "--strict", "--noEmit", "--pretty", "false"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


def explain(output: str, out: Path, written: dict[str, list[Typed]]) -> list[str]:
    """tsc's errors, each headed by the payload file and the test it came from."""
    problems: list[str] = []
    for line in output.splitlines():
        match = _ERROR.match(line)
        if match is None:
            if problems:  # the indented rest of the last error
                problems[-1] += "\n" + line
            else:
                problems.append(line)
            continue
        number = int(match["line"])
        name = Path(match["file"]).stem
        owner = next((t for t in written.get(name, []) if t.first <= number <= t.last), None)
        where = f"{owner.path} (from {owner.source})" if owner else f"{out / match['file']}"
        problems.append(f"{where}: {match['text']}")
    return problems


def typecheck(corpus: Path, out: Path) -> list[str]:
    """Every problem the platforms' types find in `corpus` (empty: all payloads type-check)."""
    problems: list[str] = []
    written: dict[str, list[Typed]] = {}
    for platform in TYPES:
        typed, unknown = write_ts(corpus, platform, out)
        written[platform] = typed
        problems += [f"{platform}/{kind}: no type known for this kind (TYPES)" for kind in unknown]
    output = run_tsc(out, [f"{platform}.ts" for platform in TYPES])
    return problems + explain(output, out, written)
