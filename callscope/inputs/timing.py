"""Times of chat messages: parsed from their timestamps, or estimated where there are none.

Each message becomes a stretch [start, end) in seconds from the first message:
- with a timestamp: it starts at its timestamp (never before the previous message ends, so the
  file's order is kept when clocks tie or run backwards) and lasts as long as saying it would take,
  cut short by the next timestamped message;
- without one (synthetic): it follows the previous message after `message_gap_secs`, plus any
  elapsed time a note gave ("[15 minutes later]"), and lasts `seconds_per_word` per word.
The conversation is flagged as having synthetic times when any message had no timestamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from callscope.inputs.options import ChatOptions

_CLOCK = re.compile(
    r"(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}(?:\.\d+)?))?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)
_HALF_DAY = 12 * 3600.0


@dataclass(frozen=True)
class Stretch:
    start: float
    end: float


def parse_clock(text: str) -> float | None:
    """"10:02", "10:02:13", "10:02 PM", "2024-03-01 10:02:13" → seconds (of the day, or since the
    epoch when a date is given); None when `text` is no time."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes = int(match["h"]), int(match["m"])
    seconds = float(match["s"] or 0)
    if match["ampm"]:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if match["ampm"][0] in "Pp" else 0)
    if hours > 23 or minutes > 59 or seconds >= 61:
        return None
    if match["date"]:
        return parse_iso(f"{match['date']}T{hours:02d}:{minutes:02d}:{seconds:06.3f}{match['zone'] or ''}")
    return hours * 3600 + minutes * 60 + seconds


def parse_iso(text: str) -> float | None:
    """ISO 8601 date-time → seconds since the epoch (naive times read as UTC); None if it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def unwrap_days(clock_times: list[float | None]) -> list[float | None]:
    """Times of day that run backwards by more than half a day crossed midnight: add a day."""
    result: list[float | None] = []
    offset, last = 0.0, None
    for value in clock_times:
        if value is None:
            result.append(None)
            continue
        if last is not None and value + offset < last - _HALF_DAY:
            offset += 24 * 3600.0
        last = value + offset
        result.append(last)
    return result


def message_stretches(
    times: list[float | None], word_counts: list[int], gaps: list[float], options: ChatOptions
) -> list[Stretch]:
    """One stretch per message (see the module docstring); `gaps` are the noted elapsed times."""
    known = [value for value in times if value is not None]
    origin = known[0] if known else 0.0
    stretches: list[Stretch] = []
    clock = 0.0  # where the previous message ended
    for index, (value, words) in enumerate(zip(times, word_counts)):
        length = max(options.min_message_secs, words * options.seconds_per_word)
        if value is not None:
            start = max(value - origin, clock)
        else:
            start = clock + (options.message_gap_secs if index else 0.0) + gaps[index]
        end = start + length
        following = times[index + 1] if index + 1 < len(times) else None
        if following is not None and start < following - origin < end:
            end = following - origin
        stretches.append(Stretch(round(start, 3), round(end, 3)))
        clock = end
    return stretches
