"""The rules model: categories made of conditions, as typed, validated dataclasses.

A category matches a call when every condition under `all` holds and, when it has `any`, at least
one of those does (the spirit of Amazon Transcribe Call Analytics categories, whose rules are
transcript, sentiment, interruption and non-talk-time filters).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from callscope.model import Role


class Who(str, Enum):
    """Whose speech a condition looks at, by Speaker.role."""

    AGENT = "agent"
    CUSTOMER = "customer"
    ANY = "any"

    def includes(self, role: Role) -> bool:
        return self is Who.ANY or role.value.lower() == self.value


class Polarity(str, Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class TimeWindow:
    """Where in the call a condition looks: at most one of the four bounds is set (none: everywhere)."""

    first_secs: float | None = None
    last_secs: float | None = None
    first_pct: float | None = None
    last_pct: float | None = None

    def bounds(self, duration: float) -> tuple[float, float]:
        """The window as (start, end) seconds of a call of `duration` seconds."""
        if self.first_secs is not None:
            return 0.0, self.first_secs
        if self.last_secs is not None:
            return max(duration - self.last_secs, 0.0), duration
        if self.first_pct is not None:
            return 0.0, duration * self.first_pct / 100
        if self.last_pct is not None:
            return duration * (1 - self.last_pct / 100), duration
        return 0.0, duration


@dataclass(frozen=True)
class TranscriptCondition:
    """One of `phrases` said (within a turn) by `speaker`. `fuzzy` < 1 tolerates ASR errors."""

    phrases: tuple[str, ...]
    speaker: Who = Who.ANY
    fuzzy: float = 1.0  # minimum similarity in (0, 1]; 1.0: the exact words
    window: TimeWindow = TimeWindow()
    absent: bool = False
    min_count: int = 1  # turns that must match


@dataclass(frozen=True)
class SentimentCondition:
    """A turn of `speaker` with one of `polarities` (unscored turns never match)."""

    polarities: tuple[Polarity, ...]
    speaker: Who = Who.ANY
    window: TimeWindow = TimeWindow()
    absent: bool = False
    min_count: int = 1


@dataclass(frozen=True)
class InterruptionCondition:
    """At least `min_count` interruptions by `speaker` (turns with Turn.interruption set)."""

    speaker: Who = Who.ANY
    window: TimeWindow = TimeWindow()
    absent: bool = False
    min_count: int = 1


@dataclass(frozen=True)
class NonTalkCondition:
    """A period of silence (Conversation.non_talk) of at least `min_secs`."""

    min_secs: float
    window: TimeWindow = TimeWindow()
    absent: bool = False
    min_count: int = 1


Condition = TranscriptCondition | SentimentCondition | InterruptionCondition | NonTalkCondition


@dataclass(frozen=True)
class Category:
    name: str
    all_of: tuple[Condition, ...] = ()  # the YAML `all:` list
    any_of: tuple[Condition, ...] = ()  # the YAML `any:` list
