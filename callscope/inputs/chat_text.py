"""Text chats: "Customer: ..." / "Agent: ..." lines.

- A message starts at a line "Name: text". A name is a role word of the role map (Customer, Agent,
  ...), or one to four capitalised words ("Bot", "Supervisor", "Jane Doe"). Lines that are not a
  message start continue the message above (multi-line messages).
- A timestamp may lead the line, bare or in brackets ("10:02 Agent: ...", "[10:02:13] Agent: ...",
  "[2024-03-01 10:02:13] Agent: ..."), follow the name ("Agent [10:02]: ..."), or stand alone on
  the line before the message. Times of day that pass midnight roll over to the next day.
- A line wholly in brackets or parentheses is a note, not speech ("[15 minutes later]"); a note
  giving elapsed time moves the estimated clock of untimed messages on by that much.
- Text before the first message is an error (with its line number), as is a file with no message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from callscope.inputs.messages import ChatMessage
from callscope.inputs.roles import RoleMap
from callscope.inputs.timing import parse_clock, unwrap_days

_CLOCK_TEXT = (r"(?:\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
               r"(?:\s*[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?")
_LEADING_TIME = re.compile(
    rf"\s*(?:\[(?P<bracketed>[^\]]{{1,40}})\]|(?P<bare>{_CLOCK_TEXT})(?=\s|$))\s*[-–|]?\s*(?P<rest>.*)")
_SPEAKER = re.compile(
    r"(?P<name>[^\W\d_][\w.'&\- ]{0,39}?)\s*(?:[\[(](?P<time>[^\])]{1,40})[\])])?\s*:(?:\s*(?P<text>.*))?")
_NOTE = re.compile(r"\s*(\[[^\]]*\]|\([^)]*\))\s*")
_ELAPSED = re.compile(
    r"(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b[^\]\)]*\blater", re.IGNORECASE)
_UNIT_SECS = {"s": 1, "m": 60, "h": 3600}
_MAX_NAME_WORDS = 4


class ChatTextError(ValueError):
    """One line: what is wrong, with the line number where there is one."""

    def __init__(self, problem: str, kind: str = "bad_chat") -> None:
        super().__init__(problem)
        self.kind = kind


@dataclass(frozen=True)
class _Line:
    kind: str  # "message", "note", "time" (a timestamp alone), "blank" or "text"
    time: float | None = None
    name: str = ""
    text: str = ""
    gap: float = 0.0


def parse_chat_text(text: str, roles: RoleMap) -> list[ChatMessage]:
    """The messages of a text chat; raises ChatTextError (one line) when it is not one."""
    if not text.strip():
        raise ChatTextError("contains only blank lines", "no_messages")
    drafts: list[dict] = []
    pending_time: float | None = None
    pending_gap = 0.0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = classify(raw, roles)
        if line.kind == "message":
            drafts.append({"name": line.name, "parts": [line.text] if line.text else [],
                           "time": line.time if line.time is not None else pending_time, "gap": pending_gap,
                           "line": number})
            pending_time, pending_gap = None, 0.0
        elif line.kind == "note":
            pending_gap += line.gap
        elif line.kind == "time":
            pending_time = line.time
        elif line.kind == "text":
            if not drafts:
                raise ChatTextError(f"line {number}: text before the first 'Name: message' line: {_excerpt(raw)}")
            drafts[-1]["parts"].append(raw.strip())
    if not drafts:
        raise ChatTextError("no 'Name: message' lines (such as 'Customer: Hi, ...')")
    absolute = [draft["time"] is not None and draft["time"] > 3 * 86400 for draft in drafts]
    times = [draft["time"] if is_absolute else None for draft, is_absolute in zip(drafts, absolute)]
    day_times = unwrap_days([None if is_absolute else draft["time"] for draft, is_absolute in zip(drafts, absolute)])
    messages = []
    display: dict[str, str] = {}
    for draft, time_absolute, time_of_day, is_absolute in zip(drafts, times, day_times, absolute):
        key = " ".join(draft["name"].casefold().split())
        display.setdefault(key, draft["name"])
        messages.append(ChatMessage(
            speaker=key, display_name=display[key], role=roles.role(draft["name"]), text=" ".join(draft["parts"]),
            time=time_absolute if is_absolute else time_of_day, gap_before=draft["gap"], absolute=is_absolute,
        ))
    return messages


def classify(raw: str, roles: RoleMap) -> _Line:
    if not raw.strip():
        return _Line("blank")
    time: float | None = None
    rest = raw
    leading = _LEADING_TIME.fullmatch(raw)
    if leading:
        stamp = parse_clock(leading["bracketed"] or leading["bare"] or "")
        if stamp is not None:
            time, rest = stamp, leading["rest"]
            if not rest.strip():
                return _Line("time", time=time)
    speaker = _SPEAKER.fullmatch(rest.strip())
    if speaker and _is_name(speaker["name"], roles):
        own = parse_clock(speaker["time"]) if speaker["time"] else None
        return _Line("message", time=own if own is not None else time, name=speaker["name"].strip(),
                     text=(speaker["text"] or "").strip())
    if _NOTE.fullmatch(raw):
        elapsed = _ELAPSED.search(raw)
        gap = float(elapsed[1]) * _UNIT_SECS[elapsed[2][0].lower()] if elapsed else 0.0
        return _Line("note", gap=gap)
    return _Line("text")


def looks_like_chat(head: str, roles: RoleMap) -> bool:
    """For folder scans: the first line with content starts a message, and some message in `head`
    is from a speaker the role map knows (so notes and logs with "Word:" lines are left alone)."""
    first = True
    for raw in head.splitlines():
        line = classify(raw, roles)
        if line.kind in ("blank", "note", "time"):
            continue
        if first and line.kind != "message":
            return False
        first = False
        if line.kind == "message" and roles.knows(line.name):
            return True
    return False


def _is_name(name: str, roles: RoleMap) -> bool:
    words = name.split()
    if not words or len(words) > _MAX_NAME_WORDS:
        return False
    return roles.knows(name) or all(word[0].isupper() for word in words)


def _excerpt(raw: str) -> str:
    text = raw.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")
