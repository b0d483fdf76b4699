"""The shape of an inbound Teams activity, checked at the door before the Agents SDK sees it.

The SDK validates the body with pydantic and lets the error out as a 500 (an array, `null`,
`from` a string), and it answers to `serviceUrl` whatever that is. Everything the agent reads
is checked here, so a malformed activity is a 400 that changed nothing, whoever sent it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from microsoft_agents.activity import Activity

# What the audit log's columns hold: an actor is `teams:<tenant>:<user>`, the channel is the
# conversation id (a reply chain's included).
MAX_ID = 128
MAX_CONVERSATION = 256
MAX_NAME = 256


class NotAnActivity(ValueError):
    """The body is not an activity exportbot can read; the message names what is wrong."""


def read_activity(body: object) -> Activity:
    """The activity in a parsed JSON body.

    Raises:
        NotAnActivity: the body is not an object, does not validate as an activity, or lacks
            what every Teams activity has (type, sender, conversation, an http(s) serviceUrl).
    """
    if not isinstance(body, dict):
        raise NotAnActivity("an activity is a JSON object")
    try:
        activity = Activity.model_validate(body)
    except Exception as error:  # pydantic's ValidationError, or the SDK's own bare Exception
        raise NotAnActivity(f"not an activity ({type(error).__name__})") from None
    _require(isinstance(body.get("type"), str) and bool(activity.type), "type")
    person = activity.from_property
    _require(person is not None and _fits(person.id, MAX_ID), "from.id")
    assert person is not None
    _require(_fits(person.aad_object_id, MAX_ID, optional=True), "from.aadObjectId")
    _require(_fits(person.name, MAX_NAME, optional=True), "from.name")
    conversation = activity.conversation
    _require(conversation is not None and _fits(conversation.id, MAX_CONVERSATION), "conversation")
    assert conversation is not None
    _require(_fits(conversation.tenant_id, MAX_ID, optional=True), "conversation.tenantId")
    _require(_is_http_url(activity.service_url), "serviceUrl")
    _check_raw(body)
    return activity


def _check_raw(body: dict[str, Any]) -> None:
    """The parts the SDK keeps as free-form data, which the agent still reads as objects."""
    data = body.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    _require(
        tenant is None
        or (isinstance(tenant, dict) and _fits(tenant.get("id"), MAX_ID, optional=True)),
        "channelData.tenant",
    )
    for entity in body.get("entities") or []:
        mentioned = entity.get("mentioned") if isinstance(entity, dict) else None
        _require(mentioned is None or isinstance(mentioned, dict), "entities.mentioned")


def _require(ok: bool, field: str) -> None:
    if not ok:
        raise NotAnActivity(f"{field} is missing or malformed")


def _fits(value: Any, most: int, *, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, str) and (optional or bool(value)) and len(value) <= most


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
