"""The platform-free message: which fields are links every renderer draws as buttons."""

from __future__ import annotations

import pytest

from core.messages import Field, Message


@pytest.mark.parametrize(
    ("value", "link"),
    [
        ("https://bot.example.org/jobs/1?expires=1&sig=ab", True),
        ("http://wiki.example/runbook", True),
        ("ftp://files.example/x", False),  # not a web page
        ("https://", False),  # no host
        ("see https://wiki.example", False),  # text that holds a link is text
        ("", False),
    ],
)
def test_a_field_is_a_link_only_when_its_whole_value_is_a_web_address(
    value: str, link: bool
) -> None:
    assert Field("x", value).is_link is link


def test_facts_and_links_split_the_fields_in_order() -> None:
    job, size, runbook = (
        Field("Job", "https://b/j/1"),
        Field("Size", "3 MB"),
        Field("Run", "https://w"),
    )
    message = Message("Job #1", fields=(job, size, runbook))
    assert (message.facts, message.links) == ([size], [job, runbook])
