"""An extractive call summary: the call's own sentences, chosen without a language model.

Every sentence of the (English, redacted) turns is a candidate. Each is scored by the cosine of its
TF-IDF vector to the centroid of the call's sentences (how much it is about what the whole call is
about), plus a bonus where enrichment marked it as the customer's issue, an outcome or an action
item, since those are what a summary must say. Sentences are then picked greedily, each penalised
by its similarity to those already picked (maximal marginal relevance), and given in call order,
each run of one speaker's sentences after the speaker's name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from callscope.enrichment.sentences import sentence_spans
from callscope.model import Conversation, TextSpan, Turn

BONUS = {"issue": 0.3, "outcome": 0.25, "action": 0.15}
QUESTION_WEIGHT = 0.7  # questions say less about what happened than statements
REDUNDANCY = 1.0  # weight of the similarity to already chosen sentences
MIN_WORDS = 5
MIN_CONTENT_WORDS = 3
EXTRA_SENTENCE_SECS = 300.0  # a longer call gets one more sentence per 5 minutes, up to twice as many

_WORD = re.compile(r"[a-z][a-z']*")
# Function words and the small talk of calls: they say nothing about what a call is about.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during
each few for from further get got gotcha had hadn't has hasn't have haven't having he he'd he'll he's her
here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its
itself just let let's like me might more most much must mustn't my myself no nor not now of off on once
only or other ought our ours ourselves out over own really same shan't she she'd she'll she's should
shouldn't so some such than that that's the their theirs them themselves then there there's these they
they'd they'll they're they've this those through to too under until up upon us very was wasn't we we'd
we'll we're we've were weren't what what's when when's where where's which while who who's whom why
why's will with won't would wouldn't yes yeah yep you you'd you'll you're you've your yours yourself
yourselves okay ok alright right um uh hmm mm oh well gonna wanna thing things know see go going want
one two actually absolutely perfect great thank thanks please sure hello hi bye goodbye today day
""".split())


@dataclass(frozen=True)
class Sentence:
    position: int  # order in the call
    speaker: str  # the name lines start with ("Agent", "Customer")
    text: str
    kinds: frozenset[str]  # "issue", "outcome", "action": what enrichment marked it as
    question: bool


def call_sentences(conversation: Conversation, names: dict[str, str]) -> list[Sentence]:
    sentences: list[Sentence] = []
    for turn in conversation.turns:
        text = turn.analysis_text
        for begin, end in sentence_spans(text):
            sentence = " ".join(text[begin:end].split())
            kinds = frozenset(kind for kind, spans in _marked(turn).items() if _overlaps(spans, begin, end))
            sentences.append(Sentence(len(sentences), names.get(turn.speaker, turn.speaker), sentence, kinds,
                                      sentence.rstrip("\"') ").endswith("?")))
    return sentences


def extractive_summary(sentences: list[Sentence], max_sentences: int, duration: float = 0.0) -> str:
    """The chosen sentences as "Customer: ... Agent: ..." text; "" when no sentence says anything."""
    candidates = [sentence for sentence in sentences
                  if len(sentence.text.split()) >= MIN_WORDS and len(content_words(sentence.text)) >= MIN_CONTENT_WORDS]
    if not candidates:
        return ""
    vectors = tfidf([content_words(sentence.text) for sentence in candidates])
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    relevance = vectors @ centroid
    for index, sentence in enumerate(candidates):
        relevance[index] += sum(BONUS[kind] for kind in sentence.kinds)
        if sentence.question and not sentence.kinds:
            relevance[index] *= QUESTION_WEIGHT
    wanted = min(2 * max_sentences, max_sentences + int(max(duration - EXTRA_SENTENCE_SECS, 0) // EXTRA_SENTENCE_SECS))
    chosen: list[int] = []
    while len(chosen) < min(wanted, len(candidates)):
        best, best_score = -1, -math.inf
        for index in range(len(candidates)):
            if index in chosen:
                continue
            overlap = max((float(vectors[index] @ vectors[other]) for other in chosen), default=0.0)
            score = relevance[index] - REDUNDANCY * overlap
            if score > best_score:
                best, best_score = index, score
        chosen.append(best)
    return _as_text([candidates[index] for index in sorted(chosen)])


def content_words(text: str) -> list[str]:
    words = (word.strip("'") for word in _WORD.findall(text.lower().replace("’", "'")))
    return [_stem(word) for word in words if len(word) > 2 and word not in STOPWORDS]


def tfidf(documents: list[list[str]]) -> np.ndarray:
    """L2-normalised TF-IDF rows (sublinear term frequency, smoothed idf), as scikit-learn computes them."""
    vocabulary = {word: index for index, word in enumerate(sorted({word for words in documents for word in words}))}
    frequency = Counter(word for words in documents for word in set(words))
    idf = np.array([math.log((1 + len(documents)) / (1 + frequency[word])) + 1 for word in vocabulary])
    matrix = np.zeros((len(documents), len(vocabulary)))
    for row, words in enumerate(documents):
        for word, count in Counter(words).items():
            matrix[row, vocabulary[word]] = 1 + math.log(count)
    matrix *= idf
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True).clip(min=1e-12)


def _stem(word: str) -> str:
    """Plural and possessive endings only: enough for "card"/"cards" to count as one word."""
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _marked(turn: Turn) -> dict[str, list[TextSpan]]:
    return {"issue": turn.issues, "outcome": turn.outcomes, "action": turn.action_items}


def _overlaps(spans: list[TextSpan], begin: int, end: int) -> bool:
    return any(span.begin < end and begin < span.end for span in spans)


def _as_text(sentences: list[Sentence]) -> str:
    parts: list[str] = []
    speaker = ""
    for sentence in sentences:
        text = sentence.text if sentence.text[-1] in ".!?…" else sentence.text + "."
        if sentence.speaker != speaker:
            parts.append(f"{sentence.speaker}: {text}")
            speaker = sentence.speaker
        else:
            parts[-1] += f" {text}"
    return " ".join(parts)
