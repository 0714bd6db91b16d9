"""Self-heal: a vocabulary learnt from the words a configuration missed (plus optional domain
keywords), tried on the same recordings, and kept only if it wins.

The recordings are split in two: the vocabulary is learnt from the misses on the training files
only, and judged on both: it must lower pooled WER on the training files and not raise it on the
held-out ones (recordings it never learnt from, where a vocabulary that only memorised its
training files would show no gain, or a loss).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Words a vocabulary should never push (spaCy's English stop words, no model needed): when Whisper
# gets these wrong it misheard the sentence, not the word.
from spacy.lang.en.stop_words import STOP_WORDS

from callscope.accuracy.lab import Lab
from callscope.accuracy.leaderboard import FileKey, build_leaderboard
from callscope.evaluation.words import WordErrors

MIN_LETTERS = 3
MAX_WORDS = 100


@dataclass(frozen=True)
class HealOutcome:
    vocabulary: list[str]  # the words learnt (written as the references write them), most missed first
    base_train: WordErrors
    base_held_out: WordErrors
    healed_train: WordErrors
    healed_held_out: WordErrors

    @property
    def kept(self) -> bool:
        return (_rate(self.healed_train) < _rate(self.base_train)
                and _rate(self.healed_held_out) <= _rate(self.base_held_out))


def learn_vocabulary(lab: Lab, config_id: str, train: set[FileKey], keywords: list[str] = (),
                     min_count: int = 1) -> list[str]:
    """Reference words the configuration misheard (wrote something else for) on the training files at
    least min_count times: names, products, jargon; not stop words or numbers. Then the keywords.
    Deleted words are not learnt: a word left out is mostly speech the VAD or the model skipped, which
    a vocabulary does not bring back."""
    counts: Counter[str] = Counter()
    written: dict[str, str] = {}
    for _, miss in lab.misses([config_id], files=train):
        if (miss.kind != "substituted" or miss.word in STOP_WORDS or len(miss.word) < MIN_LETTERS
                or not re.fullmatch(r"[a-z][a-z'&-]*", miss.word)):
            continue
        counts[miss.word] += 1
        written.setdefault(miss.word, miss.written)
    learnt = [written[word] for word, count in counts.most_common() if count >= min_count]
    return list(dict.fromkeys([*learnt, *(keyword.strip() for keyword in keywords if keyword.strip())]))[:MAX_WORDS]


def judge(lab: Lab, base_id: str, healed_id: str, train: set[FileKey], held_out: set[FileKey],
          vocabulary: list[str]) -> HealOutcome:
    train_board, held_board = build_leaderboard(lab, train), build_leaderboard(lab, held_out) if held_out else None

    def pooled(board, config_id: str) -> WordErrors:
        if board is None:
            return WordErrors(0, 0, 0, 0, 0)
        return next(standing.pooled for standing in board.ranked if standing.config.id == config_id)

    return HealOutcome(vocabulary, pooled(train_board, base_id), pooled(held_board, base_id),
                       pooled(train_board, healed_id), pooled(held_board, healed_id))


def _rate(errors: WordErrors) -> float:
    return errors.rate if errors.rate is not None else 0.0
