"""JSON chat exports.

Simple export:
    {"messages": [{"role": "agent", "name": "Jane", "text": "Hello", "timestamp": "2024-03-01T10:02:13Z"}, ...]}
or the list of messages itself. Per message: the text in "text", "content", "message" or "body";
who wrote it in "participant", "speaker", "sender", "author" or "name" and/or "role" (the role map
reads the role, else the name); "timestamp" or "time" optional: ISO 8601, a time of day
("10:02:13"), or a number of seconds (from the start, or since the epoch).

Amazon Connect chat transcript (and Contact Lens chat analysis files, which carry the same
Transcript): {"Transcript": [{"ParticipantRole": "AGENT" | "CUSTOMER" | "SYSTEM", "Content": ...,
"AbsoluteTime": ISO 8601, "Type": "MESSAGE" | "EVENT", "ContentType": ..., "DisplayName": ...,
"ParticipantId": ...}]}. Only text MESSAGE items are speech; events and attachments are skipped.
"""

from __future__ import annotations

from typing import Any

from callscope.inputs.messages import ChatMessage
from callscope.inputs.roles import RoleMap
from callscope.inputs.timing import parse_clock, parse_iso
from callscope.model import Role

TEXT_KEYS = ("text", "content", "message", "body")
WHO_KEYS = ("participant", "speaker", "sender", "author", "name")
TIME_KEYS = ("timestamp", "time")
_CONNECT_ROLES = {"AGENT": Role.AGENT, "CUSTOMER": Role.CUSTOMER}
_TEXT_CONTENT_TYPES = ("", "text/plain", "text/markdown")


class ChatJsonError(ValueError):
    """One line: what is wrong with the document."""


def simple_messages(document: Any) -> list[dict] | None:
    """The message list of a simple export, or None when `document` is not one."""
    items = document.get("messages") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        return None
    if not any(_first(item, TEXT_KEYS) is not None and (_first(item, WHO_KEYS) or item.get("role")) for item in items):
        return None
    return items


def is_connect_chat(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("Transcript"), list):
        return False
    items = [item for item in document["Transcript"] if isinstance(item, dict)]
    timed = any("AbsoluteTime" in item for item in items)
    return bool(items) and timed and not any("BeginOffsetMillis" in item for item in items)


def parse_simple_export(items: list[dict], roles: RoleMap) -> list[ChatMessage]:
    messages = []
    for index, item in enumerate(items):
        text = _first(item, TEXT_KEYS)
        if text is None:
            continue
        if not isinstance(text, str):
            raise ChatJsonError(f"message {index + 1}: the text is {type(text).__name__}, not a string")
        role_field = str(item.get("role") or "")
        name = str(_first(item, WHO_KEYS) or role_field.title() or "Unknown")
        role = roles.role(role_field) if role_field else Role.UNKNOWN
        if role is Role.UNKNOWN:
            role = roles.role(name)
        time, absolute = _time(_first(item, TIME_KEYS), index)
        messages.append(ChatMessage(speaker=" ".join(name.casefold().split()) or "unknown", display_name=name,
                                    role=role, text=text, time=time, absolute=absolute))
    return messages


def parse_connect_chat(document: dict, roles: RoleMap) -> list[ChatMessage]:
    messages = []
    for index, item in enumerate(document["Transcript"]):
        if not isinstance(item, dict) or item.get("Type", "MESSAGE") != "MESSAGE":
            continue
        if str(item.get("ContentType", "")).split(";")[0].strip() not in _TEXT_CONTENT_TYPES:
            continue
        content = item.get("Content")
        if not isinstance(content, str):
            continue
        participant_role = str(item.get("ParticipantRole", "")).upper()
        role = _CONNECT_ROLES.get(participant_role, Role.UNKNOWN)
        if participant_role == "SYSTEM":
            display = "System"  # Connect names it SYSTEM_MESSAGE: the contact flow, not a person
        else:
            display = str(item.get("DisplayName") or participant_role.title() or "Participant")
            if role is Role.UNKNOWN:
                role = roles.role(display)
        time = parse_iso(str(item["AbsoluteTime"])) if item.get("AbsoluteTime") else None
        if item.get("AbsoluteTime") and time is None:
            raise ChatJsonError(f"Transcript item {index + 1}: AbsoluteTime {item['AbsoluteTime']!r} is not ISO 8601")
        messages.append(ChatMessage(
            speaker=str(item.get("ParticipantId") or participant_role or display), display_name=display, role=role,
            text=content, time=time, absolute=time is not None,
        ))
    return messages


def _first(item: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def _time(value: Any, index: int) -> tuple[float | None, bool]:
    """(seconds, whether they count from the epoch) of a message's timestamp."""
    if value is None or value == "":
        return None, False
    if isinstance(value, bool):
        raise ChatJsonError(f"message {index + 1}: timestamp {value!r} is not a time")
    if isinstance(value, (int, float)):
        seconds = float(value) / (1000.0 if value > 1e11 else 1.0)  # epoch milliseconds, as JavaScript writes them
        return seconds, seconds > 3 * 86400
    text = str(value)
    seconds = parse_iso(text)
    if seconds is None:
        seconds = parse_clock(text)
    if seconds is None:
        raise ChatJsonError(f"message {index + 1}: timestamp {value!r} is not ISO 8601, a time of day or seconds")
    return seconds, seconds > 3 * 86400
