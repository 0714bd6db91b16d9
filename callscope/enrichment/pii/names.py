"""Names a small NER model misses: after "my name is", answers to "who am I speaking with?",
titles ("Mr. Becker"), "Sarah speaking", spelled names, and lowercase ASR output."""

from __future__ import annotations

import re
from collections.abc import Sequence

from callscope.enrichment.pii.base import PiiSpan, WordText, resolve
from callscope.enrichment.pii.rules import Hit
from callscope.enrichment.pii.spoken import MONTHS, Normalised
from callscope.model import letters_of

# After these, the next one to three words are a name whatever their case.
_STRONG = re.compile(
    r"(?:\b(?:my name is|my name's|name is|name's|last name is|first name is|surname is|maiden name (?:is|was)"
    r"|full name is|name on the card is|the name is|you're speaking with|you are speaking with)"
    r"|\b(?:thank you|thanks) for calling\b[^.?!|]{0,40}?\b(?:this is|it's|i'm))[ ,:]*$", re.I)
# After these, only a capitalised proper noun is a name ("this is Sarah", not "this is great").
# spaCy's small model often tags a first name a place ("Thank you Olivia"): after words only said
# to or about a person, that tag is ignored; after "for", "with" and "and" it is not ("for Denver").
_PERSON_INTRO = re.compile(
    r"\b(?:this is|it's|it is|i'm|i am|hi|hello|hey|thanks|thank you|speaking with|speak with|speak to|"
    r"talking to|talking with|transfer you to|colleague|calling for|looking for|ask for|dear|"
    r"mr|mrs|ms|miss|dr|doctor|daughter|son|husband|wife|brother|sister|mother|father|niece|nephew)\.?[ ,:]*$",
    re.I)
_LOOSE_INTRO = re.compile(r"\b(?:for|with|and)[ ,:]*$", re.I)
_ASKS_NAME = re.compile(
    r"(?:\bname\b|who (?:am i|do i have|is this|is calling)|speaking with|speaking to|cardholder|recipient)"
    r"[^.!?|]*\?\s*$", re.I)
_SPELLING = re.compile(r"spell|\bname|letters|e-?mail|user ?name|\bat\b", re.I)
_FILLERS = frozenset("yes yeah yep sure it's it is this that's um uh okay ok oh well so i'm sorry under "
                     "for".split())
_NOT_NAMES = frozenset(
    "and but so i the a an is um uh calling here from with on at speaking to for of in my your it's it "
    "yes yeah no okay ok sure just not that this please thanks thank you sir madam ma'am calling how what "
    "who hi hello hey good great under".split()
) | frozenset(MONTHS) | frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_NOT_PERSON_ENTITIES = frozenset({"ORG", "GPE", "LOC", "PRODUCT", "NORP", "FAC", "EVENT", "WORK_OF_ART", "LAW"})
_COMPANY_INTRO = re.compile(r"\b(?:calling|welcome to|thank you for choosing|thanks for choosing)[ ,]*$", re.I)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "doctor", "st"})
_LOOKBACK = 120  # characters of context the intro patterns look at
_NAME_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def find_names(normalised: Normalised, previous: str = "", doc=None) -> list[Hit]:
    """Name hits in a turn. `doc` is the spaCy Doc of the normalised text (for proper-noun tags)."""
    pieces = normalised.pieces
    text = normalised.text
    hits: list[Hit] = []
    # Cased ASR (Whisper) capitalises names; only all-lowercase output needs case-blind rules.
    cased = any(char.isupper() for char in text)
    start = _answer_start(normalised, previous)
    if start is not None:
        hits += _take(normalised, start, 3, capitalised=cased, doc=None, score=0.8, must_end=True)
    for index, piece in enumerate(pieces):
        offset = normalised.offsets[index] + len(piece.lead)
        before = text[max(0, offset - _LOOKBACK):offset]  # bounded: long monologues stay linear
        if piece.kind == "letters":
            if _SPELLING.search(f"{previous} | {before}"[-80:]):
                hits.append(Hit("NAME", *_span(normalised, index, index), 0.85))
            continue
        if index and not pieces[index - 1].tail.strip(",") and _STRONG.search(before):
            hits += _take(normalised, index, 3, capitalised=cased, doc=None, score=0.9)
        elif index and not _sentence_start(normalised, index):
            if _PERSON_INTRO.search(before):
                hits += _take(normalised, index, 2, capitalised=True, doc=doc, score=0.75, places_too=True)
            elif _LOOSE_INTRO.search(before):
                hits += _take(normalised, index, 2, capitalised=True, doc=doc, score=0.7)
        if piece.lower == "speaking" and index and not pieces[index - 1].tail:
            hits += _take(normalised, index - 1, 1, capitalised=True, doc=doc, score=0.75, places_too=True)
    return hits


def plausible_name(normalised: Normalised, begin: int, end: int) -> tuple[int, int] | None:
    """A NAME detection without leading titles ("Mr. Becker" -> "Becker"); None when what is left
    is a weekday, a month or a filler word (spaCy tags "Saturdays" a person), single letters or
    an acronym ("Q X", "PLC": codes), or the company named in a greeting ("thanks for calling X")."""
    words = [match for match in re.finditer(r"[A-Za-z][A-Za-z'-]*\.?", normalised.text[begin:end])]
    while words and words[0][0].rstrip(".").lower() in _TITLES:
        words.pop(0)
    if not words or all(_plain(word[0]) in _NOT_NAMES for word in words):
        return None
    if all(len(word[0].rstrip(".")) == 1 or word[0].rstrip(".").isupper() for word in words):
        return None
    if _COMPANY_INTRO.search(normalised.text[:begin]):
        return None
    return begin + words[0].start(), end


def _plain(word: str) -> str:
    word = word.rstrip(".").lower()
    return word[:-1] if word.endswith("s") and word[:-1] in _NOT_NAMES else word


def _answer_start(normalised: Normalised, previous: str) -> int | None:
    """Where the name starts when this turn answers "what's your name?" ("Yes, it's Maria Lopez.")."""
    if not _ASKS_NAME.search(previous[-120:]):
        return None
    index = 0
    pieces = normalised.pieces
    while index < len(pieces) and index < 4 and pieces[index].lower in _FILLERS:
        index += 1
    return index if index < len(pieces) else None


def _take(normalised: Normalised, index: int, most: int, capitalised: bool, doc, score: float,
          must_end: bool = False, places_too: bool = False) -> list[Hit]:
    pieces = normalised.pieces
    last = None
    for position in range(index, min(index + most, len(pieces))):
        piece = pieces[position]
        if piece.kind not in ("word", "letters") or not _NAME_WORD.fullmatch(piece.text):
            break
        if piece.lower in _NOT_NAMES or (capitalised and not piece.text[0].isupper()):
            break
        if doc is not None and not _proper_noun(doc, normalised.offsets[position] + len(piece.lead), places_too):
            break
        last = position
        if piece.tail:
            break
    if last is None:
        return []
    if must_end and not (pieces[last].tail or last + 1 == len(pieces)):
        return []  # "Checking." answers a question, "Maria Lopez and ..." is not a one-name answer
    return [Hit("NAME", *_span(normalised, index, last), score)]


def _proper_noun(doc, offset: int, places_too: bool = False) -> bool:
    token = doc.char_span(offset, offset + 1, alignment_mode="expand")
    if token is None or not len(token):
        return False
    token = token[0]
    excluded = _NOT_PERSON_ENTITIES - {"GPE", "LOC", "NORP"} if places_too else _NOT_PERSON_ENTITIES
    return token.pos_ == "PROPN" and token.ent_type_ not in excluded


def _sentence_start(normalised: Normalised, index: int) -> bool:
    """True after a full stop: Whisper capitalises every sentence's first word."""
    previous = normalised.pieces[index - 1] if index else None
    if previous is None:
        return True
    return bool(re.search(r"[.!?]$", previous.tail)) and previous.lower not in _TITLES


def _span(normalised: Normalised, first: int, last: int) -> tuple[int, int]:
    begin = normalised.offsets[first] + len(normalised.pieces[first].lead)
    piece = normalised.pieces[last]
    return begin, normalised.offsets[last] + len(piece.lead) + len(piece.text)


def every_mention(texts: Sequence[WordText], found: list[list[PiiSpan]], score: float = 0.8) -> list[list[PiiSpan]]:
    """`found` (each turn's spans) plus every other capitalised mention in the call of a word found
    as part of a name: a name redacted once is redacted wherever it is said. A turn's own context can
    miss it (the auto-repairs call said "My last name is that's the Tilly", then "Thank you, Mr.
    Tilly": only the second was found)."""
    names = {letters_of(word) for text, spans in zip(texts, found) for span in spans if span.type == "NAME"
             for word in text.words[span.first : span.last + 1] if _capitalised(word)} - _NOT_NAMES - _TITLES - {""}
    if not names:
        return found
    widened = []
    for text, spans in zip(texts, found):
        mentions = [PiiSpan("NAME", index, index, score) for index, word in enumerate(text.words)
                    if _capitalised(word) and letters_of(word) in names]
        widened.append(resolve([*spans, *mentions], len(text.words)) if mentions else spans)
    return widened


def _capitalised(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    return bool(letters) and letters[0].isupper()
