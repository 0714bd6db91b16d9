"""Redaction: PII words of a Conversation replaced by one token each, in place.

Every serializer (PCA JSON, RTTM, SRT/VTT, TXT) reads the words, so once they are replaced no PII
survives in any output; the same spans, as times, silence the audio (callscope.enrichment.pii_audio).
"""

from __future__ import annotations

import re
from dataclasses import replace

from callscope.enrichment.pii.base import PiiDetector, PiiFinding, PiiSpan, split_words
from callscope.model import Conversation, Turn, Word

DEFAULT_TOKEN = "[PII]"  # as the reference system writes it; "[{type}]" writes "[NAME]", "[SSN]", ...
# What a redacted word reads as in every output, whichever token was chosen ("[PII]", "[NAME]").
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
_TRAILING_PUNCT = re.compile(r"[.,!?;:]+$")


class PiiRedactor:
    """The "pii" enricher: detects PII with `detector` and replaces it in the words (and any
    translation) of each turn. Runs first, so later enrichers never see PII."""

    aspect = "pii"

    def __init__(self, detector: PiiDetector | None = None, token: str = DEFAULT_TOKEN):
        if detector is None:
            from callscope.enrichment.pii.local import LocalPiiDetector

            detector = LocalPiiDetector()
        self.detector = detector
        self.name = detector.name
        self.token = token

    def enrich(self, conversation: Conversation) -> None:
        redact_conversation(conversation, detect_pii(conversation, self.detector), self.token)
        _redact_translations(conversation, self.detector, self.token)
        conversation.redacted = True


def detect_pii(conversation: Conversation, detector: PiiDetector) -> list[PiiFinding]:
    """Detect only: where the PII is, by turn, word and time; the conversation is not changed."""
    turns = conversation.turns
    spans = detector.detect([[word.text for word in turn.words] for turn in turns])
    return [
        PiiFinding(index, span.type, span.first, span.last, span.score, turn.words[span.first].start,
                   max(word.end for word in turn.words[span.first:span.last + 1]))
        for index, (turn, found) in enumerate(zip(turns, spans))
        for span in found
    ]


def redact_conversation(conversation: Conversation, findings: list[PiiFinding], token: str = DEFAULT_TOKEN) -> None:
    """Replace the words of each finding by one token word, in place."""
    by_turn: dict[int, list[PiiSpan]] = {}
    for finding in findings:
        by_turn.setdefault(finding.turn, []).append(PiiSpan(finding.type, finding.first, finding.last, finding.score))
    for index, spans in by_turn.items():
        turn = conversation.turns[index]
        turn.words = redact_words(turn.words, spans, token)


def redact_words(words: list[Word], spans: list[PiiSpan], token: str = DEFAULT_TOKEN) -> list[Word]:
    """The words with each span merged into one word reading `token` (its type filled in for
    "[{type}]"), keeping the first word's leading space, the last one's trailing punctuation,
    and the span's times."""
    result: list[Word] = []
    position = 0
    for span in sorted(spans, key=lambda item: item.first):
        if span.first < position:
            continue  # overlapping spans are resolved by the detector; never emit a word twice
        result.extend(words[position:span.first])
        covered = words[span.first:span.last + 1]
        result.append(replace(
            covered[0],
            text=_token_text(covered[0].text, covered[-1].text, token.format(type=span.type)),
            end=max(word.end for word in covered),
            confidence=min(word.confidence for word in covered),
        ))
        position = span.last + 1
    result.extend(words[position:])
    return result


def redacted_time_spans(conversation: Conversation, token: str = DEFAULT_TOKEN) -> list[tuple[float, float]]:
    """(start, end) of every word redacted with `token`, in time order: what the audio redaction silences."""
    pattern = re.compile(r"\s*" + re.escape(token).replace(re.escape("{type}"), "[A-Z_]+") + r"[.,!?;:]*")
    return sorted((word.start, word.end) for word in conversation.words if pattern.fullmatch(word.text))


def _token_text(first: str, last: str, token: str) -> str:
    lead = first[:len(first) - len(first.lstrip())]
    trail = _TRAILING_PUNCT.search(last)
    return lead + token + (trail[0] if trail else "")


def _redact_translations(conversation: Conversation, detector: PiiDetector, token: str) -> None:
    """Turns spoken in another language carry an English translation that analytics read: redact it too."""
    translated: list[Turn] = [turn for turn in conversation.turns if turn.translation]
    if not translated:
        return
    words = [split_words(turn.translation or "") for turn in translated]
    for turn, turn_words, spans in zip(translated, words, detector.detect(words)):
        placeholders = [Word(text, 0.0, 0.0, 1.0, "") for text in turn_words]
        turn.translation = "".join(word.text for word in redact_words(placeholders, spans, token)).strip()
