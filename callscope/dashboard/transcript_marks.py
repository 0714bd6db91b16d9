"""A turn's text cut into fragments for the call page: which word each piece belongs to (so the word
being played can be highlighted) and which entity or redaction covers it (so it is marked inside the
text, not listed under it). The template writes each fragment as escaped text in a span."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.enrichment.pii.redact import PLACEHOLDER

REDACTED = "PII"  # the mark type of a redaction, whichever token it reads as ("[PII]", "[NAME]")
# Entity types shown marked by default; the others (QUANTITY, TITLE, EVENT, OTHER, ...) are mostly
# noise in call transcripts ("QUANTITY: first", "TITLE: Taken") and start hidden, a toggle away.
SHOWN_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "COMMERCIAL_ITEM", "DATE", REDACTED})


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Mark:
    kind: str  # entity type, or REDACTED
    begin: int  # character offsets in the text
    end: int


@dataclass(frozen=True)
class Fragment:
    text: str
    word: int | None  # index of the word it is part of, None for the spaces between words
    start: float | None  # the word's time
    end: float | None
    mark: str | None  # entity type or REDACTED covering it


def redactions(text: str) -> list[Mark]:
    return [Mark(REDACTED, found.start(), found.end()) for found in PLACEHOLDER.finditer(text)]


def word_spans(text: str, words: list[TimedWord]) -> list[tuple[int, int, int]]:
    """(begin, end, word index) of each word found in the text, in order; a word the text does not
    contain where expected (an edited transcript) is skipped, not guessed."""
    spans, cursor = [], 0
    lowered = text.casefold()
    for index, word in enumerate(words):
        token = word.text.strip().casefold()
        if not token:
            continue
        found = lowered.find(token, cursor)
        if found < 0 or found - cursor > 40:
            continue
        spans.append((found, found + len(token), index))
        cursor = found + len(token)
    return spans


def fragments(text: str, words: list[TimedWord], marks: list[Mark]) -> list[Fragment]:
    """The text cut at every word and mark boundary; marks that overlap an earlier one are dropped."""
    kept: list[Mark] = []
    for mark in sorted(marks, key=lambda item: (item.begin, -item.end)):
        if 0 <= mark.begin < mark.end <= len(text) and all(mark.begin >= other.end for other in kept):
            kept.append(mark)
    spans = word_spans(text, words)
    cuts = sorted({0, len(text), *(b for b, _, _ in spans), *(e for _, e, _ in spans),
                   *(m.begin for m in kept), *(m.end for m in kept)})
    pieces = []
    for begin, end in zip(cuts, cuts[1:]):
        word = next((index for b, e, index in spans if b <= begin and end <= e), None)
        mark = next((m.kind for m in kept if m.begin <= begin and end <= m.end), None)
        timed = words[word] if word is not None else None
        pieces.append(Fragment(text[begin:end], word, timed.start if timed else None, timed.end if timed else None,
                               mark))
    return pieces
