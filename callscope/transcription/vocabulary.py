"""Custom vocabulary: Amazon Transcribe's table format or a plain word list, given to Whisper as
hotwords, and recognised phrases rewritten to their display form.

A Transcribe custom-vocabulary table is tab-separated with the header `Phrase SoundsLike IPA
DisplayAs` (`../shared/data/lca_auto_repairs/cv-sample.txt`): a phrase's words are joined by hyphens
("rewards-card"), an acronym is letters with dots ("A.D.-and-D."), SoundsLike is hyphenated
syllables ("ba-boo"), and DisplayAs how it is written ("AD&D"). Whisper has no pronunciation input:
IPA is read and kept but not used; SoundsLike becomes one more way the phrase may be recognised.
A plain list has one word or phrase a line, written as it should appear.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from callscope.errors import CallscopeError
from callscope.transcription.base import RecognisedWord

TABLE_HEADER = ("Phrase", "SoundsLike", "IPA", "DisplayAs")
# Whisper's prompt holds 223 tokens; hotwords beyond about this many characters are cut by faster-whisper.
MAX_HOTWORD_CHARS = 600


class VocabularyError(CallscopeError):
    """A vocabulary file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class VocabularyEntry:
    display_as: str  # how the phrase is written in transcripts
    spoken: tuple[tuple[str, ...], ...]  # the word sequences that are recognised as it, lower case
    ipa: str = ""


@dataclass(frozen=True)
class Vocabulary:
    entries: tuple[VocabularyEntry, ...]
    name: str = ""  # the file it came from, for leaderboards and messages

    def hotwords(self) -> str:
        """The display forms, comma-separated, as a hint for Whisper (cut to what its prompt holds)."""
        text = ""
        for form in dict.fromkeys(entry.display_as for entry in self.entries):
            candidate = f"{text}, {form}" if text else form
            if len(candidate) > MAX_HOTWORD_CHARS:
                break
            text = candidate
        return text

    def found_in(self, text: str) -> bool:
        """Whether text writes one of the display forms (as a whole word or phrase, any case)."""
        lowered = f" {' '.join(_words(text))} "
        return any(form in lowered for form in self._written_forms)

    # Worked out once per vocabulary: both are read for every recognised word of every call.
    @cached_property
    def _written_forms(self) -> tuple[str, ...]:
        return tuple(f" {' '.join(words)} " for entry in self.entries if (words := _words(entry.display_as)))

    @cached_property
    def spoken_forms(self) -> dict[tuple[str, ...], str]:
        """Each way a phrase may be recognised (lower-case words) → its display form."""
        return {spoken: entry.display_as for entry in self.entries for spoken in entry.spoken if spoken}

    @cached_property
    def longest_spoken(self) -> int:
        """The most words a phrase is recognised as."""
        return max(len(spoken) for spoken in self.spoken_forms)

    def __len__(self) -> int:
        return len(self.entries)


def load_vocabulary(path: Path) -> Vocabulary:
    """A Transcribe table (its header line says so) or a plain list of words and phrases."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise VocabularyError(
            f"{path}: cannot read the vocabulary: {getattr(error, 'strerror', None) or error}") from None
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if tuple(cell.strip() for cell in first.split("\t")[:1]) == ("Phrase",):
        entries = _table_entries(path, lines)
    else:
        entries = [plain_entry(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not entries:
        raise VocabularyError(f"{path}: the vocabulary has no entries")
    return Vocabulary(tuple(_merged(entries)), name=path.name)


def vocabulary_of(words: list[str], name: str) -> Vocabulary:
    """A vocabulary from words and phrases written as they should appear (self-heal builds these)."""
    return Vocabulary(tuple(_merged([plain_entry(word) for word in words if word.strip()])), name=name)


def plain_entry(written: str) -> VocabularyEntry:
    return VocabularyEntry(written, (_words(written),))


def _table_entries(path: Path, lines: list[str]) -> list[VocabularyEntry]:
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    header = [cell.strip() for cell in rows[0]]
    if header[:1] != ["Phrase"] or any(name not in TABLE_HEADER for name in header if name):
        raise VocabularyError(f"{path}: line 1: the header must be {' '.join(TABLE_HEADER)} (tab-separated), "
                              f"not {' '.join(header)}")
    column = {name: index for index, name in enumerate(header)}
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: (row[index].strip() if index < len(row) else "") for name, index in column.items()}
        phrase = cells.get("Phrase", "")
        if not phrase:
            if any(cells.values()):
                raise VocabularyError(f"{path}: line {number}: a row needs its Phrase")
            continue
        if re.search(r"\s", phrase):
            raise VocabularyError(f"{path}: line {number}: '{phrase}': a Phrase joins its words with hyphens, "
                                  "not spaces")
        spoken = [_phrase_words(phrase)]
        if cells.get("SoundsLike"):
            spoken.append(tuple(part.lower() for part in cells["SoundsLike"].split("-") if part))
            spoken.append(("".join(spoken[-1]),))  # "ba-boo" may come out as one word, "baboo"
        display = cells.get("DisplayAs") or " ".join(_phrase_words(phrase, keep_case=True))
        entries.append(VocabularyEntry(display, tuple(dict.fromkeys(spoken)), cells.get("IPA", "")))
    return entries


def _phrase_words(phrase: str, keep_case: bool = False) -> tuple[str, ...]:
    """"rewards-card" → (rewards, card); "A.D.-and-D." → (a, d, and, d): an acronym is spoken letter by letter."""
    words: list[str] = []
    for part in phrase.split("-"):
        if re.fullmatch(r"(?:[A-Za-z]\.)+", part):
            words += [letter for letter in part.split(".") if letter]
        elif part:
            words.append(part)
    return tuple(words if keep_case else (word.lower() for word in words))


def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word in re.sub(r"[^\w'&]+", " ", text.lower()).split())


def _merged(entries: list[VocabularyEntry]) -> list[VocabularyEntry]:
    """One entry per display form: rows repeating a phrase (babu with and without SoundsLike) join."""
    merged: dict[str, VocabularyEntry] = {}
    for entry in entries:
        known = merged.get(entry.display_as)
        merged[entry.display_as] = entry if known is None else VocabularyEntry(
            entry.display_as, tuple(dict.fromkeys(known.spoken + entry.spoken)), known.ipa or entry.ipa)
    return list(merged.values())


def apply_display_forms(words: tuple[RecognisedWord, ...], vocabulary: Vocabulary) -> tuple[RecognisedWord, ...]:
    """Recognised words that say a vocabulary phrase ("policy holder", "ba boo", "a d and d") become
    its display form ("policyholder", "Babu", "AD&D"): one word spanning their times, keeping the
    first word's leading space and the last one's trailing punctuation. Longest phrase first."""
    if not vocabulary.entries or not words:
        return words
    phrases, longest = vocabulary.spoken_forms, vocabulary.longest_spoken
    # Each word's tokens ("policy-holder," → policy, holder); a match must start and end on word edges.
    tokens = [_words(word.text) for word in words]
    result: list[RecognisedWord] = []
    index = 0
    while index < len(words):
        match = _longest_match(tokens, index, phrases, longest)
        if match is None:
            result.append(words[index])
            index += 1
            continue
        end, display = match
        span, parts = words[index:end], display.split()
        if len(parts) == len(span):  # "universal life" → "Universal life": each word keeps its times
            result += [_rewritten(word, part) for word, part in zip(span, parts)]
        else:  # "policy holder" → "policyholder", "a d and d" → "AD&D": one word over their times
            merged = RecognisedWord(span[0].text, span[0].start, span[-1].end, min(w.probability for w in span))
            result.append(_rewritten(merged, display, trailing_of=span[-1]))
        index = end
    return tuple(result)


def _rewritten(word: RecognisedWord, text: str, trailing_of: RecognisedWord | None = None) -> RecognisedWord:
    """word with its text replaced, keeping its leading space and the trailing punctuation (of trailing_of)."""
    leading = word.text[:len(word.text) - len(word.text.lstrip())]
    trailing = re.search(r"[^\w'&]*$", (trailing_of or word).text.rstrip()).group()
    return RecognisedWord(f"{leading}{text}{trailing}", word.start, word.end, word.probability)


def _longest_match(tokens: list[tuple[str, ...]], start: int, phrases: dict[tuple[str, ...], str],
                   longest: int) -> tuple[int, str] | None:
    """(index after the last word, display form) of the longest phrase said from word `start` on."""
    found = None
    said: tuple[str, ...] = ()
    for end in range(start, len(tokens)):
        said += tokens[end]
        if not tokens[end] and end == start:
            return None  # a word of punctuation only starts nothing
        if len(said) > longest:
            break
        if said in phrases:
            found = (end + 1, phrases[said])
    return found
