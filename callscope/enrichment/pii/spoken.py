"""Spoken-form normaliser: call speech as an ASR writes it, rewritten the way PII detectors expect.

"four one one one, one one one one" -> "4111 1111", "double four nine" -> "449", "oh nine twenty
six" -> "0926", "March third nineteen eighty five" -> "March 3rd 1985", "K O W A L S K I" ->
"Kowalski", "david dash lee at company dot net" -> "david-lee@company.net". Every piece of the
result remembers which characters of the original text it came from, so a detection on the
normalised text maps back to the original words (and from them to their timestamps).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

UNITS = {"zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
         "seven": 7, "eight": 8, "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
            "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
            "nineteenth": 19, "twentieth": 20, "thirtieth": 30}
REPEATS = {"double": 2, "triple": 3}
NUMBER_JOINERS = {"dash": "-", "hyphen": "-", "slash": "/", "point": "."}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
EMAIL_JOINERS = {"dot": ".", "period": ".", "dash": "-", "hyphen": "-", "underscore": "_"}
TLDS = frozenset({"com", "net", "org", "edu", "gov", "io", "co", "uk", "us", "ca", "info", "biz", "me",
                  "ai", "de", "fr", "au", "in", "app", "dev", "mil", "ie", "nz", "tv", "xyz"})
# Words that end an e-mail's local part when reading backwards from "at" (and never start a domain).
_EMAIL_STOP = frozenset(
    "is it's its it was email e-mail mail address my your his her our the to at me that's thats that this "
    "yes yeah yep sure so um uh and or please send use try be would should could reach contact here okay "
    "ok with from for on in a an of i i'm you we they like just is: under as also".split()
)
# Words a spoken domain never contains ("mail" may: "proton mail dot com").
_DOMAIN_STOP = frozenset("is it's its the to at that's and or please my your our this that".split())
_SENTENCE_PUNCT = re.compile(r"[.,!?;:]")
_TOKEN = re.compile(r"""^([("'\[¿¡]*)(.*?)([.,!?;:"')\]]*)$""", re.S)
_JOINED_LETTERS = re.compile(r"^[A-Za-z](?:[-.][A-Za-z]){2,}$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.([a-z]{2,6})$")


@dataclass
class Piece:
    """A stretch of the normalised text and the original characters [begin, end) it came from."""

    text: str
    begin: int
    end: int
    kind: str  # "word", "number" (spoken digits), "digits" (written), "letters" (spelled), "email"
    lead: str = ""
    tail: str = ""

    @property
    def lower(self) -> str:
        return self.text.lower()


@dataclass(frozen=True)
class Normalised:
    text: str
    pieces: tuple[Piece, ...]
    offsets: tuple[int, ...]  # where each piece (its lead included) starts in `text`

    def original_range(self, begin: int, end: int) -> tuple[int, int] | None:
        """The original characters behind text[begin:end]; None when it covers only separators."""
        first = max(bisect_right(self.offsets, begin) - 1, 0)
        covered = []
        for index in range(first, len(self.pieces)):
            start = self.offsets[index]
            if start >= end:
                break
            piece = self.pieces[index]
            if start + len(piece.lead) + len(piece.text) + len(piece.tail) > begin:
                covered.append(piece)
        if not covered:
            return None
        return covered[0].begin, covered[-1].end


@dataclass
class _Token:
    lead: str
    core: str
    tail: str
    begin: int
    end: int

    @property
    def lower(self) -> str:
        return self.core.lower()


def normalise(text: str, spoken: bool = True) -> Normalised:
    """`spoken=False` keeps every token as written (the benchmark's ablation without the normaliser)."""
    tokens = []
    for match in re.finditer(r"\S+", text):
        lead, core, tail = _TOKEN.match(match[0]).groups()
        tokens.append(_Token(lead, core, tail, match.start(), match.end()))
    pieces = _merge_emails(_pieces(tokens)) if spoken else [
        Piece(token.core, token.begin, token.end, "digits" if any(c.isdigit() for c in token.core) else "word",
              token.lead, token.tail) for token in tokens]
    parts, offsets, position = [], [], 0
    for index, piece in enumerate(pieces):
        if index:
            parts.append(" ")
            position += 1
        following = pieces[index + 1] if index + 1 < len(pieces) else None
        tail = piece.tail
        # "415, 555, 0142": group commas would stop phone and card patterns from matching.
        if tail == "," and following is not None and piece.kind in _NUMERIC and following.kind in _NUMERIC:
            tail = ""
        piece.tail = tail
        offsets.append(position)
        chunk = piece.lead + piece.text + tail
        parts.append(chunk)
        position += len(chunk)
    return Normalised("".join(parts), tuple(pieces), tuple(offsets))


_NUMERIC = frozenset({"number", "digits"})


def _pieces(tokens: list[_Token]) -> list[Piece]:
    pieces: list[Piece] = []
    index = 0
    while index < len(tokens):
        end = _number_run_end(tokens, index)
        if end > index:
            run = tokens[index:end]
            pieces.append(Piece(_spoken_number([token.lower for token in run]), run[0].begin, run[-1].end,
                                "number", run[0].lead, run[-1].tail))
            index = end
            continue
        spelling = _letter_run(tokens, index)
        if spelling is not None:
            end, spelled = spelling
            run = tokens[index:end]
            pieces.append(Piece(spelled.capitalize(), run[0].begin, run[-1].end, "letters", run[0].lead,
                                run[-1].tail))
            index = end
            continue
        token = tokens[index]
        if _JOINED_LETTERS.match(token.core):  # Whisper's "J-S-M-I-T-H" or "D.A.V.I.D"
            piece = Piece(re.sub(r"[-.]", "", token.core).capitalize(), token.begin, token.end, "letters",
                          token.lead, token.tail)
        else:
            kind = "digits" if any(char.isdigit() for char in token.core) else "word"
            piece = Piece(token.core, token.begin, token.end, kind, token.lead, token.tail)
        pieces.append(piece)
        index += 1
    return pieces


def _is_number_word(tokens: list[_Token], index: int) -> bool:
    word = tokens[index].lower
    if word in ("oh", "o"):
        # "oh" is zero only next to other digits ("oh nine"), not "Oh, I see"; a lone "O" only
        # beside a number word, so "B R O O K S" stays spelled.
        zeros = ("oh",) if word == "oh" else ()
        before = index > 0 and not tokens[index - 1].tail and _plain_number(tokens[index - 1].lower)
        after = (index + 1 < len(tokens) and not tokens[index].tail
                 and (_plain_number(tokens[index + 1].lower) or tokens[index + 1].lower in zeros))
        return bool(before or after)
    return _plain_number(word)


def _plain_number(word: str) -> bool:
    return word in UNITS and word not in ("oh", "o") or word in TEENS or word in TENS or word in (
        "hundred", "thousand")


def _number_run_end(tokens: list[_Token], start: int) -> int:
    """End (exclusive) of the spoken number starting at `start`; `start` when none starts there."""
    index = start
    while index < len(tokens):
        token = tokens[index]
        word = token.lower
        previous = tokens[index - 1] if index > start else None
        if previous is not None and previous.tail:
            break  # punctuation ends a group: "four one five, five five five"
        if _is_number_word(tokens, index) or (word in ("oh", "o") and index > start):
            index += 1
        elif word in REPEATS and index + 1 < len(tokens) and not token.tail and (
                tokens[index + 1].lower in UNITS):
            index += 1
        elif word in ORDINALS and (index > start and tokens[index - 1].lower in TENS
                                   or index == start and _ordinal_allowed(tokens, index)):
            index += 1
            break  # an ordinal ends the number: "twenty first" | "of October"
        elif (word in NUMBER_JOINERS and index > start and not token.tail and index + 1 < len(tokens)
              and _is_number_word(tokens, index + 1)):
            index += 1
        elif (word == "and" and previous is not None and previous.lower in ("hundred", "thousand")
              and index + 1 < len(tokens) and _plain_number(tokens[index + 1].lower)):
            index += 1
        else:
            break
    while index > start and tokens[index - 1].lower in ("and", *NUMBER_JOINERS, *REPEATS):
        index -= 1
    return index


def _ordinal_allowed(tokens: list[_Token], index: int) -> bool:
    """"third" is a day after a month or "the" ("March third", "the fifth"), not in "first name"."""
    if index == 0:
        return False
    previous = tokens[index - 1]
    return not previous.tail and (previous.lower in MONTHS or previous.lower == "the")


def _spoken_number(words: list[str]) -> str:
    """Digits of a spoken number, read as people say them: digit by digit ("four one five"),
    in pairs ("nineteen eighty five"), or as a quantity ("one hundred twenty three")."""
    out: list[str] = []
    total = current = 0
    last = ""  # what the open chunk ended with: "unit", "teen", "tens", "hundred", "thousand", ""
    repeat = 1

    def close() -> None:
        nonlocal total, current, last
        if last:
            out.append(str(total + current))
        total = current = 0
        last = ""

    for word in words:
        if word in REPEATS:
            close()
            repeat = REPEATS[word]
        elif word in UNITS:
            value = UNITS[word]
            if repeat > 1:
                out.append(str(value) * repeat)
                repeat = 1
            elif value and last in ("tens", "hundred", "thousand"):
                current += value
                last = "unit+" if last == "tens" else "unit"
            else:
                close()
                current, last = value, "unit" if value else ""
                if not value:
                    out.append("0")
        elif word in TEENS:
            if last in ("hundred", "thousand"):
                current += TEENS[word]
                last = "teen+"
            else:
                close()
                current, last = TEENS[word], "teen"
        elif word in TENS:
            if last in ("hundred", "thousand"):
                current += TENS[word]
            else:
                close()
                current = TENS[word]
            last = "tens"
        elif word == "hundred":
            if 0 < current < 100 and last in ("unit", "teen", "tens", "unit+"):
                current *= 100
            else:
                close()
                current = 100
            last = "hundred"
        elif word == "thousand":
            if total == 0 and 0 < current < 1000 and last:
                total, current = current * 1000, 0
            else:
                close()
                total = 1000
            last = "thousand"
        elif word in ORDINALS:
            value = ORDINALS[word]
            if last == "tens" and value < 10:
                current += value
                value, current, last = current, 0, ""
            else:
                close()
            out.append(f"{value}{_suffix(value)}")
        elif word in NUMBER_JOINERS:
            close()
            out.append(NUMBER_JOINERS[word])
        # "and" inside "one hundred and five" adds nothing
    close()
    return "".join(out)


def _suffix(value: int) -> str:
    if 10 <= value % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")


def _letter_run(tokens: list[_Token], start: int) -> tuple[int, str] | None:
    """A spelled run of at least three single letters from `start` ("K O W A L S K I", "T dash B R O",
    "L as in lima, I, N"): (its end, the letters), or None."""
    index, letters, end, spelled = start, 0, start, ""
    while index < len(tokens):
        token = tokens[index]
        if len(token.core) == 1 and token.core.isalpha():
            letters += 1
            spelled += token.core
            if (not token.tail and index + 3 < len(tokens) and tokens[index + 1].lower == "as"
                    and tokens[index + 2].lower == "in" and not tokens[index + 1].tail):
                index += 3  # "B as in boy": the example word is not part of the spelling
                token = tokens[index]
            end = index + 1
        elif token.lower in EMAIL_JOINERS and letters and index + 1 < len(tokens):
            spelled += EMAIL_JOINERS[token.lower]  # a joiner only counts when a letter follows
        else:
            break
        if token.tail.strip(","):
            break  # a full stop or question mark ends the spelling; commas may separate letters
        index += 1
    if letters < 3:
        return None
    return end, spelled.rstrip("".join(EMAIL_JOINERS.values()))


def _merge_emails(pieces: list[Piece]) -> list[Piece]:
    """Join "<local> at <domain> dot <tld>" into one e-mail piece."""
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        if piece.lower in ("at", "@") and not piece.tail and not piece.lead:
            domain = _domain(pieces, index + 1)
            local = _local_part(pieces, index)
            if domain is not None and local is not None:
                (local_text, first), (domain_text, last) = local, domain
                merged = Piece(f"{local_text}@{domain_text}", pieces[first].begin, pieces[last].end, "email",
                               pieces[first].lead, pieces[last].tail)
                pieces[first:last + 1] = [merged]
                index = first
        index += 1
    return pieces


def _domain(pieces: list[Piece], start: int) -> tuple[str, int] | None:
    """The domain spoken from pieces[start]: (domain, index of its last piece)."""
    if start >= len(pieces):
        return None
    written = _DOMAIN.match(pieces[start].lower)
    if written and written[1] in TLDS:  # "at gmail.com"
        return pieces[start].lower, start
    labels: list[str] = []
    current: list[str] = []
    index = start
    while index < len(pieces) and index < start + 14:
        piece = pieces[index]
        word = piece.lower
        if word in ("dot", "period") and current:
            labels.append("".join(current))
            current = []
            if piece.tail:
                return None
        elif word in ("dash", "hyphen") and current:
            current.append("-")
        elif re.fullmatch(r"[a-z0-9][a-z0-9.-]*", word) and word not in _DOMAIN_STOP and piece.kind != "email":
            current.append(word)
            after_dot = labels and len(current) == 1
            ends = index + 1 >= len(pieces) or pieces[index + 1].lower not in ("dot", "period", "dash", "hyphen")
            if after_dot and word in TLDS and ends:
                labels.append(word)
                return ".".join(labels), index
            if piece.tail or len(current) > 3:
                return None
        else:
            return None
        index += 1
    return None


def _local_part(pieces: list[Piece], at: int) -> tuple[str, int] | None:
    """The local part read backwards from "at": (text, index of its first piece)."""
    parts: list[str] = []
    first = at
    index = at - 1
    while index >= 0 and len(parts) < 7:
        piece = pieces[index]
        word = piece.lower
        if _SENTENCE_PUNCT.search(piece.tail) or word in _EMAIL_STOP:
            break
        if word in EMAIL_JOINERS:
            parts.insert(0, EMAIL_JOINERS[word])
        elif piece.kind != "email" and re.fullmatch(r"[a-z0-9][a-z0-9._'-]*", word):
            parts.insert(0, word.replace("'", ""))
        else:
            break
        first = index
        index -= 1
    while parts and parts[0] in EMAIL_JOINERS.values():
        parts.pop(0)
        first += 1
    if not parts:
        return None
    return "".join(parts), first
