"""Splitting a text into pieces of at most N UTF-8 bytes, for services with a per-text size limit
(Amazon Comprehend: 5,000 bytes): at sentence ends first, then between words, and inside a word only
when one word alone is over the limit (never inside a character)."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_by_bytes(text: str, limit: int) -> list[str]:
    """Pieces of `text`, each non-empty and at most `limit` bytes; joined by spaces they give the
    text back up to whitespace."""
    if limit < 4:
        raise ValueError(f"limit of {limit} bytes cannot hold every UTF-8 character")
    text = text.strip()
    if utf8_size(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        units = [sentence] if utf8_size(sentence) <= limit else _words(sentence, limit)
        for unit in units:
            # Pack whole sentences (or words) together up to the limit: fewer, longer pieces score better.
            if pieces and utf8_size(pieces[-1]) + 1 + utf8_size(unit) <= limit:
                pieces[-1] = f"{pieces[-1]} {unit}"
            else:
                pieces.append(unit)
    return pieces


def _words(sentence: str, limit: int) -> list[str]:
    units: list[str] = []
    for word in sentence.split():
        while utf8_size(word) > limit:
            cut = _prefix_within(word, limit)
            units.append(word[:cut])
            word = word[cut:]
        units.append(word)
    return units


def _prefix_within(word: str, limit: int) -> int:
    """The longest prefix length (in characters) of `word` that fits in `limit` bytes."""
    size = 0
    for index, char in enumerate(word):
        size += utf8_size(char)
        if size > limit:
            return index
    return len(word)
