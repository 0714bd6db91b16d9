"""Sentence spans of a turn's text, robust to speech-recognition output.

Whisper punctuates, but not always: it runs clauses together, writes "8 a.m. on Friday" and
spells names as "B. I. V.". A sentence ends at . ! or ? followed by a space, except after an
abbreviation or a single letter; a lower-case word may begin a sentence (Whisper does not always
capitalise). Sentences longer than MAX_WORDS (unpunctuated speech) are cut further at clause
boundaries (", and", "; ", " but ", ...), never into pieces shorter than MIN_WORDS.
"""

from __future__ import annotations

import re

MAX_WORDS = 40
MIN_WORDS = 5

_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "a.m", "p.m",
                            "no", "approx", "dept", "inc", "ltd", "co", "mt", "ft", "u.s", "u.k"})
# Where a run-on sentence can be cut: after a comma or semicolon before a conjunction, at a
# semicolon, or before a bare conjunction (weakest: only when nothing else is left).
_CLAUSE_CUTS = (
    re.compile(r"[,;]\s+(?=(?:and|but|so|because|then|which|or|and then|and so)\b)", re.IGNORECASE),
    re.compile(r"[;:]\s+|,\s+"),
    re.compile(r"\s+(?=(?:and|but|so|because)\s)", re.IGNORECASE),
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(begin, end) of each sentence, surrounding spaces excluded; `end` is exclusive."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        if _is_boundary(text, match):
            spans.extend(_clauses(text, start, match.end()))
            start = match.end()
    spans.extend(_clauses(text, start, len(text)))
    return spans


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    if "!" in match.group(0) or "?" in match.group(0):
        return True
    before = text[:match.start()].rsplit(None, 1)
    word = before[-1].lower().lstrip("(\"'") if before else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    # A dotted abbreviation we do not list ("p.s.", "u.s.a.") only ends a sentence before a capital.
    return not ("." in word and text[match.end():match.end() + 1].islower())


def _clauses(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    while begin < end and text[begin].isspace():
        begin += 1
    while end > begin and text[end - 1].isspace():
        end -= 1
    if begin == end:
        return []
    if len(text[begin:end].split()) <= MAX_WORDS:
        return [(begin, end)]
    cut = _best_cut(text, begin, end)
    if cut is None:
        return [(begin, end)]
    return _clauses(text, begin, cut) + _clauses(text, cut, end)


def _best_cut(text: str, begin: int, end: int) -> int | None:
    """The clause boundary nearest the middle that leaves MIN_WORDS on both sides, strongest kind first."""
    middle = (begin + end) // 2
    for pattern in _CLAUSE_CUTS:
        cuts = [begin + match.end() for match in pattern.finditer(text[begin:end])]
        cuts = [cut for cut in cuts
                if len(text[begin:cut].split()) >= MIN_WORDS and len(text[cut:end].split()) >= MIN_WORDS]
        if cuts:
            return min(cuts, key=lambda cut: abs(cut - middle))
    return None
