"""What every PII backend returns: typed spans over a turn's words, never the PII text itself."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Amazon Comprehend's PII type names (Transcribe Call Analytics uses the same), plus DATE_OF_BIRTH:
# a plain DATE_TIME is not PII, a birth date is.
PII_TYPES = (
    "NAME", "PHONE", "EMAIL", "ADDRESS", "SSN", "CREDIT_DEBIT_NUMBER", "CREDIT_DEBIT_EXPIRY",
    "CREDIT_DEBIT_CVV", "BANK_ACCOUNT_NUMBER", "BANK_ROUTING", "DATE_OF_BIRTH", "PIN",
)

# When two detections claim one word with equal scores, the more specific type wins.
_PRIORITY = {name: rank for rank, name in enumerate(reversed(PII_TYPES))}


@dataclass(frozen=True)
class PiiSpan:
    """PII in one turn: words `first`..`last` (inclusive) of its word list. It carries no text, so
    it can be logged, stored and returned without leaking what it covers."""

    type: str
    first: int
    last: int
    score: float


@dataclass(frozen=True)
class PiiFinding:
    """A PiiSpan placed in the call: which turn, and when (the covered words' start and end)."""

    turn: int
    type: str
    first: int
    last: int
    score: float
    start: float
    end: float


class PiiDetector(Protocol):
    name: str  # recorded in Conversation.enrichment["pii"]

    def detect(self, turns: Sequence[Sequence[str]]) -> list[list[PiiSpan]]:
        """PII of each turn, given each turn's word texts in call order (Whisper's spacing kept)."""
        ...


class WordText:
    """A turn's words joined into one text, mapping character offsets back to word indices."""

    def __init__(self, words: Sequence[str]):
        self.words = list(words)
        self.starts: list[int] = []
        position = 0
        for word in self.words:
            self.starts.append(position)
            position += len(word)
        self.text = "".join(self.words)

    def word_at(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def words_in(self, begin: int, end: int) -> range:
        """Indices of the words with a non-space character in text[begin:end]; empty if none."""
        begin, end = max(begin, 0), min(end, len(self.text))
        while begin < end and self.text[begin].isspace():
            begin += 1
        while end > begin and self.text[end - 1].isspace():
            end -= 1
        if begin >= end:
            return range(0)
        first, last = self.word_at(begin), self.word_at(end - 1)
        # Whole whitespace-delimited tokens: Whisper spells "D", "-A", "-V" as glued words, and
        # redacting half of them would leave letters of the PII.
        while first > 0 and not self.words[first][:1].isspace():
            first -= 1
        while last + 1 < len(self.words) and not self.words[last + 1][:1].isspace():
            last += 1
        return range(first, last + 1)


def split_words(text: str) -> list[str]:
    """Plain text (a translation, say) as Whisper-like words: each with its leading whitespace."""
    return re.findall(r"\s*\S+", text)


def resolve(spans: Sequence[PiiSpan], word_count: int) -> list[PiiSpan]:
    """Non-overlapping spans: each word goes to the best span claiming it (score, then type
    priority, then length); adjacent words of one type become one span."""
    owner: list[PiiSpan | None] = [None] * word_count
    ranked = sorted(
        (span for span in spans if 0 <= span.first <= span.last < word_count),
        key=lambda span: (span.score, _PRIORITY.get(span.type, -1), span.last - span.first),
        reverse=True,
    )
    for span in ranked:
        for index in range(span.first, span.last + 1):
            if owner[index] is None:
                owner[index] = span
    merged: list[PiiSpan] = []
    for index, span in enumerate(owner):
        if span is None:
            continue
        previous = merged[-1] if merged else None
        if previous is not None and previous.last == index - 1 and previous.type == span.type:
            merged[-1] = PiiSpan(span.type, previous.first, index, max(previous.score, span.score))
        else:
            merged.append(PiiSpan(span.type, index, index, span.score))
    return merged
