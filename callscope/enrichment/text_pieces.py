"""Splitting a text into pieces of at most N UTF-8 bytes, for services with a per-text size limit
(Amazon Comprehend: 5,000 bytes for sentiment and entities, 100 KB for PII): at a sentence end when
one falls in the second half of the piece, else between words, and inside a word only when one word
alone is over the limit (never inside a character). Each piece keeps its offset in the text, so
offsets a service gives inside a piece map back to the whole."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?。！？]+\s")


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def split_with_offsets(text: str, limit: int) -> list[tuple[int, str]]:
    """(offset, piece) for each piece: non-empty, stripped, at most `limit` bytes, in order;
    `text[offset:offset + len(piece)] == piece`."""
    if limit < 4:
        raise ValueError(f"limit of {limit} bytes cannot hold every UTF-8 character")
    pieces: list[tuple[int, str]] = []
    start, end_of_text = _skip_spaces(text, 0), len(text.rstrip())
    while start < end_of_text:
        end = _cut(text, start, end_of_text, limit)
        piece = text[start:end].rstrip()
        pieces.append((start, piece))
        start = _skip_spaces(text, end)
    return pieces


def split_by_bytes(text: str, limit: int) -> list[str]:
    """The pieces alone: joined by spaces they give the text back up to whitespace."""
    return [piece for _, piece in split_with_offsets(text, limit)]


def _cut(text: str, start: int, end_of_text: int, limit: int) -> int:
    """Where the piece starting at `start` ends."""
    end, used = start, 0
    while end < end_of_text and used + utf8_size(text[end]) <= limit:
        used += utf8_size(text[end])
        end += 1
    if end == end_of_text:
        return end
    window = text[start:end + 1]  # the next character too: a space right after the limit is a clean cut
    sentence_ends = [match.end() for match in _SENTENCE_END.finditer(window)]
    if sentence_ends and sentence_ends[-1] - 1 > (end - start) // 2:  # fewer, longer pieces score better
        return start + sentence_ends[-1] - 1
    space = max(window.rfind(" "), window.rfind("\n"), window.rfind("\t"))
    return start + space if space > 0 else end


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position
