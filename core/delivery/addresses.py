"""Where a webhook may be sent (A5): never to this machine, the local network or a cloud's
metadata service unless the operator allows private destinations (`webhook_allow_private`).

A subscription is checked here by its URL's host (names and literal addresses, in every form a
resolver accepts: `2130706433`, `0x7f.1`, `017700000001`, `[::ffff:127.0.0.1]`); the sender
checks again, at connect time, every address a name resolves to, so DNS rebinding does not
pass. Pure rules on `ipaddress` values: no network access here.
"""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address


class Refusal(StrEnum):
    """Why a destination is refused; each has its sentence in the catalog
    (`error.webhook_address.<value>`)."""

    METADATA = "metadata"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"
    LINK_LOCAL = "link_local"
    LOOPBACK = "loopback"
    UNIQUE_LOCAL = "unique_local"
    PRIVATE = "private"
    NOT_PUBLIC = "not_public"


# What `webhook_allow_private` opens: the machine itself and networks an organisation runs.
PRIVATE_REFUSALS = frozenset(
    {Refusal.LOOPBACK, Refusal.UNIQUE_LOCAL, Refusal.PRIVATE, Refusal.NOT_PUBLIC}
)

# Cloud instance metadata services (they hand out credentials): refused even when private
# destinations are allowed. Most sit at link-local addresses, refused anyway.
METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    {
        ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack…
        ip_address("169.254.170.2"),  # AWS ECS task credentials
        ip_address("fd00:ec2::254"),  # AWS over IPv6
        ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)

_UNIQUE_LOCAL = IPv6Network("fc00::/7")
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
# One part of a numeric IPv4 host as C's inet_aton reads it: hex, octal or decimal.
# Bounded: no part of a 32-bit address is longer, and int() refuses over 4,300 digits.
_PART = re.compile(r"0[xX][0-9a-fA-F]{0,8}|0[0-7]{0,11}|[1-9][0-9]{0,9}")


def host_refusal(host: str, *, allow_private: bool = False) -> Refusal | None:
    """Why a URL's host (a name or a literal address) may not receive webhooks, or None."""
    name = host.strip().lower().rstrip(".")
    if name in METADATA_HOSTS:
        return Refusal.METADATA
    if name == "localhost" or name.endswith(".localhost"):  # always this machine (RFC 6761)
        return None if allow_private else Refusal.LOOPBACK
    address = literal_address(name)
    return address_refusal(address, allow_private=allow_private) if address else None


def address_refusal(address: Address, *, allow_private: bool = False) -> Refusal | None:
    """Why an address may not receive webhooks, or None when it is public (or private and
    `allow_private`)."""
    refusal = _classify(address)
    if refusal is None or (allow_private and refusal in PRIVATE_REFUSALS):
        return None
    return refusal


def literal_address(host: str) -> Address | None:
    """The address a host names literally, in any form a resolver accepts, or None for a name.
    An IPv4 address carried inside IPv6 (mapped, compatible, 6to4, NAT64) is that IPv4."""
    text = host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
    if ":" in text:
        try:
            address: Address = ip_address(text.partition("%")[0])  # no zone id
        except ValueError:
            return None
        return _embedded_ipv4(address) or address
    return _numeric_ipv4(text)


def _classify(address: Address) -> Refusal | None:
    embedded = _embedded_ipv4(address) if isinstance(address, IPv6Address) else None
    if embedded is not None:
        return _classify(embedded)
    if address in METADATA_ADDRESSES:
        return Refusal.METADATA
    if address.is_unspecified:
        return Refusal.UNSPECIFIED
    if address.is_multicast:
        return Refusal.MULTICAST
    if address.is_link_local:
        return Refusal.LINK_LOCAL
    if address.is_loopback:
        return Refusal.LOOPBACK
    if address.is_reserved or address == IPv4Address("255.255.255.255"):
        return Refusal.RESERVED
    if isinstance(address, IPv6Address) and address in _UNIQUE_LOCAL:
        return Refusal.UNIQUE_LOCAL
    if address.is_private:
        return Refusal.PRIVATE
    if not address.is_global:
        return Refusal.NOT_PUBLIC  # shared (carrier-grade NAT) space and the like
    return None


def _embedded_ipv4(address: Address) -> IPv4Address | None:
    if not isinstance(address, IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _numeric_ipv4(text: str) -> IPv4Address | None:
    """`127.0.0.1`, `127.1`, `0x7f.1`, `017700000001`, `2130706433`: one to four parts, the
    last filling the bytes left (inet_aton's rules), or None when `text` is a name."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = [_part_value(p) for p in parts]
    head, last = values[:-1], values[-1]
    if any(v > 0xFF for v in head) or last >= 1 << (8 * (5 - len(parts))):
        return None
    number = 0
    for value in head:
        number = number << 8 | value
    return IPv4Address(number << (8 * (5 - len(parts))) | last)


def _part_value(part: str) -> int:
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part)
