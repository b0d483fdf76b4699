"""Text from outside, cleaned once at the door: every database and platform accepts it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import model as c
from core.commands.inbound import clean_actor, clean_command
from core.domain.model import MAX_CHANNEL_NAME, Actor, Principal
from core.safety.text import clean


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec=None)))
def test_cleaned_text_encodes_and_holds_no_control_but_tab_and_line_break(text: str) -> None:
    cleaned = clean(text)
    cleaned.encode("utf-8")  # a lone surrogate would raise here
    assert not any(ord(ch) < 0x20 and ch not in "\t\n" for ch in cleaned)
    assert "\x7f" not in cleaned
    assert clean(cleaned) == cleaned


def test_a_note_keeps_its_lines_and_a_name_stays_on_one() -> None:
    assert clean("first\r\n\tsecond\0") == "first\n\tsecond"
    assert clean("Ann\nEve\t\x1b[31m", multiline=False) == "Ann Eve [31m"
    assert clean("\udc80 and \ud83d") == "\ufffd and \ufffd"
    assert clean("😀 é") == "😀 é"  # whole characters are left alone


def test_a_command_and_its_actor_are_cleaned_field_by_field() -> None:
    note = clean_command(c.Annotate(3, "line\0 one\nline two", link="https://x/\udc80"))
    assert note == c.Annotate(3, "line one\nline two", link="https://x/\ufffd")
    actor = clean_actor(Actor(Principal("slack", "T\0", "U1"), "Ann\nEve", channel="C\udc80"))
    assert actor == Actor(Principal("slack", "T", "U1"), "Ann Eve", channel="C\ufffd")


def test_a_channel_name_from_a_payload_is_cleaned_and_bounded() -> None:
    """A channel's name comes from the payload (Teams channelData, Discord's channel, Slack's
    channel_name): NUL would be refused by PostgreSQL and a long one overflow its column."""
    from storage.tables import JobRow

    actor = clean_actor(Actor(Principal("teams", "T", "U"), "Ann", channel_name="#op\0s\n" * 200))
    assert "\0" not in actor.channel_name and "\n" not in actor.channel_name
    assert actor.channel_name.startswith("#ops #ops")
    assert len(actor.channel_name) == MAX_CHANNEL_NAME
    # The column's type is a String; its declared type, TypeEngine, has no length.
    assert JobRow.__table__.c.origin_channel_name.type.length >= MAX_CHANNEL_NAME  # type: ignore[attr-defined]
