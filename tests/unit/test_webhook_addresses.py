"""Webhooks may not reach this machine, the local network or a metadata service (A5, SSRF):
refused at subscription with a reply naming why and nothing stored, unless the operator
allows private destinations (`webhook_allow_private`)."""

from __future__ import annotations

from ipaddress import ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.delivery.addresses import Refusal, address_refusal, host_refusal, literal_address
from core.i18n import Translator
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console

REFUSED = [
    ("http://127.0.0.1:8080/api/messages", "this machine"),  # the bot's own Teams route
    ("https://127.0.0.1:5432/", "this machine"),
    ("https://10.0.0.1/hook", "a private network"),
    ("https://192.168.1.1/hook", "a private network"),
    ("https://169.254.169.254/latest/meta-data/", "metadata service"),
    ("https://[fd00::1]/hook", "a private network"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata service"),
    ("https://0.0.0.0/hook", "no address"),
    ("https://2130706433/hook", "this machine"),
    ("https://0x7f.1/hook", "this machine"),
    ("https://017700000001/hook", "this machine"),
    ("https://[::ffff:127.0.0.1]/hook", "this machine"),
    ("https://localhost./hook", "this machine"),
    ("https://LOCALHOST/hook", "this machine"),
    ("https://[fe80::1]/hook", "link-local"),
    ("https://224.0.0.1/hook", "multicast"),
    ("https://240.0.0.1/hook", "reserved"),
    ("https://100.64.0.1/hook", "not a public address"),
    ("http://user:pw@127.0.0.1/hook", "user name or password"),
    ("https://user:pw@hooks.slack.com/services/T/B/x", "user name or password"),
    ("https://[fd00::1/hook", "is not a web address"),
    ("https://example.org:99999/hook", "is not a web address"),
]


def service_for(store: FakeStore, clock: FrozenClock, *, allow_private: bool) -> CommandService:
    return CommandService(
        store.uow,
        TARGETS,
        clock,
        RecordingJobControl(),
        platforms=PLATFORMS,
        webhook_allow_private=allow_private,
    )


@pytest.mark.parametrize(("url", "why"), REFUSED)
async def test_a_webhook_to_a_private_or_odd_address_is_refused_and_nothing_is_stored(
    url: str, why: str, store: FakeStore, clock: FrozenClock
) -> None:
    service = service_for(store, clock, allow_private=False)
    reply = await service.execute_text(f"subscribe demo failed --webhook {url}", console("alice"))
    assert why in reply.text
    assert "pw" not in reply.text and "/hook" not in reply.text  # the URL is a secret
    assert store.state.webhooks == [] and store.state.subscriptions == {}


async def test_the_refusal_reads_in_french(store: FakeStore, clock: FrozenClock) -> None:
    service = service_for(store, clock, allow_private=False)
    reply = await service.execute_text(
        "subscribe demo failed --webhook https://10.0.0.1/hook", console("alice", "fr")
    )
    assert "réseau privé" in reply.text
    assert store.state.webhooks == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9999/hooks/x",
        "https://10.0.0.1/hook",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
    ],
)
async def test_private_destinations_are_accepted_when_the_operator_allows_them(
    url: str, store: FakeStore, clock: FrozenClock
) -> None:
    service = service_for(store, clock, allow_private=True)
    reply = await service.execute_text(f"subscribe demo failed --webhook {url}", console("alice"))
    assert "receives job failed alerts for demo" in reply.text
    assert [w.url for w in store.state.webhooks] == [url]


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "http://user:pw@127.0.0.1/hook",
    ],
)
async def test_metadata_link_local_and_userinfo_stay_refused_even_when_private_is_allowed(
    url: str, store: FakeStore, clock: FrozenClock
) -> None:
    service = service_for(store, clock, allow_private=True)
    reply = await service.execute_text(f"subscribe demo failed --webhook {url}", console("alice"))
    assert "receives" not in reply.text
    assert store.state.webhooks == [] and store.state.subscriptions == {}


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("::ffff:7f00:1", "127.0.0.1"),
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("64:ff9b::a00:1", "10.0.0.1"),  # NAT64
        ("fe80::1%eth0", "fe80::1"),
        ("8.8.8.8", "8.8.8.8"),
    ],
)
def test_every_numeric_form_a_resolver_accepts_is_read_as_its_address(
    host: str, address: str
) -> None:
    assert literal_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.org", "1.2.3.4.5", "256.1.1.1", "08.1", "0x1g.1"])
def test_names_are_not_addresses(host: str) -> None:
    assert literal_address(host) is None


def test_public_addresses_and_names_are_allowed() -> None:
    for host in ("8.8.8.8", "2606:4700::1111", "hooks.slack.com", "discord.com"):
        assert host_refusal(host) is None
    assert host_refusal("127.0.0.1") is Refusal.LOOPBACK
    assert host_refusal("127.0.0.1", allow_private=True) is None
    assert host_refusal("metadata.google.internal.", allow_private=True) is Refusal.METADATA


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_any_ipv4_in_integer_hex_or_mapped_form_is_judged_like_its_dotted_form(
    number: int,
) -> None:
    dotted = ip_address(number)
    expected = address_refusal(dotted)
    for form in (str(number), hex(number), f"::ffff:{dotted}"):
        assert literal_address(form) == dotted
        assert host_refusal(form) == expected


def test_every_refusal_has_a_sentence_in_each_language() -> None:
    for locale in ("en", "fr"):
        t = Translator(locale)
        for refusal in Refusal:
            key = f"error.webhook_address.{refusal.value}"
            assert t.has(key), (locale, key)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789abcdefxX.:[]%", max_size=6000))
def test_any_host_text_is_judged_without_an_error(host: str) -> None:
    """A host of 5,000 digits once reached int() past its 4,300-digit limit."""
    host_refusal(host)
    host_refusal("9" * 5000)
    host_refusal("0x" + "f" * 5000)
