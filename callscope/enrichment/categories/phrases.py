"""Finding phrases in turns: exact word sequences, or fuzzy ones that tolerate ASR errors.

Text is compared as normalised words (lower case, apostrophes dropped, other punctuation as spaces),
so matches never start or end inside a word. A fuzzy phrase of n words is compared with every run of
n-1, n and n+1 consecutive words of a turn (ASR splits and merges words: "cardholder" / "card
holder"), scored by the Indel similarity 2*LCS/(len(a)+len(b)) that difflib's ratio approximates.
rapidfuzz computes it in C for a whole call at once; difflib is the slower fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from callscope.model import Turn

try:
    from rapidfuzz import fuzz, process
except ImportError:  # pragma: no cover - exercised only where rapidfuzz is not installed
    process = None

# One edit in a word this short swings the similarity past any useful threshold ("sue" ~ "sure").
MIN_FUZZY_CHARS = 5

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")
_NON_WORD = re.compile(r"[\W_]+")


def words_of(text: str) -> tuple[str, ...]:
    return tuple(_NON_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).split())


class TurnTexts:
    """The normalised words of each turn of a call and their word runs, computed once per call."""

    def __init__(self, turns: Sequence[Turn]) -> None:
        self.words = [words_of(turn.analysis_text) for turn in turns]
        # Padded with spaces so that `" lost my card " in padded` only matches whole words.
        self.padded = [f" {' '.join(words)} " for words in self.words]
        self._runs: dict[tuple[int, int], list[str]] = {}

    def runs(self, turn: int, size: int) -> list[str]:
        key = (turn, size)
        if key not in self._runs:
            words = self.words[turn]
            self._runs[key] = [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]
        return self._runs[key]


@dataclass(frozen=True)
class PhraseSet:
    """The phrases of one transcript condition, ready to search with."""

    exact: tuple[str, ...]  # normalised, words joined by single spaces
    fuzzy_by_size: tuple[tuple[int, tuple[str, ...]], ...]  # run size -> phrases compared with runs of it
    threshold: float

    @classmethod
    def build(cls, phrases: Sequence[str], threshold: float) -> PhraseSet:
        normalised = tuple(dict.fromkeys(" ".join(words_of(phrase)) for phrase in phrases))
        by_size: dict[int, list[str]] = {}
        if threshold < 1.0:
            for phrase in normalised:
                if len(phrase) < MIN_FUZZY_CHARS:
                    continue
                count = phrase.count(" ") + 1
                for size in range(max(count - 1, 1), count + 2):
                    by_size.setdefault(size, []).append(phrase)
        return cls(normalised, tuple((size, tuple(items)) for size, items in sorted(by_size.items())), threshold)

    def matching_turns(self, texts: TurnTexts, candidates: Sequence[int]) -> list[int]:
        """The candidate turns (indexes) that contain one of the phrases, in order."""
        found = {turn for turn in candidates if any(f" {phrase} " in texts.padded[turn] for phrase in self.exact)}
        for size, phrases in self.fuzzy_by_size:
            owners: list[int] = []
            runs: list[str] = []
            for turn in candidates:
                if turn not in found:
                    turn_runs = texts.runs(turn, size)
                    runs.extend(turn_runs)
                    owners.extend([turn] * len(turn_runs))
            if runs:
                found.update(owners[index] for index in _similar_runs(phrases, runs, self.threshold))
        return sorted(found)


def _similar_runs(phrases: Sequence[str], runs: Sequence[str], threshold: float) -> list[int]:
    """Indexes of the runs at least `threshold` similar to one of the phrases."""
    if process is not None:
        cutoff = threshold * 100
        scores = process.cdist(phrases, runs, scorer=fuzz.ratio, score_cutoff=cutoff, workers=1)
        return [int(index) for index in (scores >= cutoff).any(axis=0).nonzero()[0]]
    hits = []
    matcher = SequenceMatcher(autojunk=False)
    for index, run in enumerate(runs):
        matcher.set_seq2(run)
        for phrase in phrases:
            matcher.set_seq1(phrase)
            # The quick ratios are upper bounds of ratio(): cheap rejections first.
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold \
                    and matcher.ratio() >= threshold:
                hits.append(index)
                break
    return hits
