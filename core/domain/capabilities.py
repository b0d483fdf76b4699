"""Capabilities and the roles that group them (B2)."""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    VIEW = "view"
    RUN = "run"
    CANCEL = "cancel"
    ANNOTATE = "annotate"
    DRAFT = "draft"
    APPROVE = "approve"
    MANAGE_EXPORTS = "manage_exports"
    MANAGE_ROLES = "manage_roles"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPPORT = "support"
    REVIEWER = "reviewer"
    EXPORT_MANAGER = "export_manager"
    ADMIN = "admin"


_C = Capability

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.VIEWER: frozenset({_C.VIEW}),
    Role.OPERATOR: frozenset({_C.VIEW, _C.RUN, _C.CANCEL, _C.ANNOTATE}),
    Role.SUPPORT: frozenset({_C.VIEW, _C.ANNOTATE}),
    Role.REVIEWER: frozenset({_C.VIEW, _C.ANNOTATE, _C.APPROVE}),
    # Delegated supervision without full admin: everything but handing out roles.
    Role.EXPORT_MANAGER: frozenset(set(_C) - {_C.MANAGE_ROLES}),
    Role.ADMIN: frozenset(_C),
}


def parse_role(text: str) -> Role | None:
    """The role named by `text` (case-insensitive, `-` or `_`), or None."""
    normalized = text.strip().lower().replace("-", "_")
    try:
        return Role(normalized)
    except ValueError:
        return None
