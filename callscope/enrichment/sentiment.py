"""Turn sentiment, scored as the reference system scores it, by the shipped local model.

The reference (PCA, standard Transcribe jobs) calls a turn negative when P(negative) >= 0.4, else
positive when P(positive) >= 0.4, and writes that probability x 5 as the turn's SentimentScore (0 for
the rest); turns shorter than 8 characters get no sentiment. Here `Turn.sentiment` carries that score
signed (negative turns below 0), so `abs(turn.sentiment)` is the reference's SentimentScore and
`POLARITY_THRESHOLD` (2.0 = 0.4 x 5) splits polar turns from neutral ones in the PCA writer and the
trends alike. `Turn.sentiment_scores` keeps the three probabilities.
"""

from __future__ import annotations

from callscope.analytics.sentiment_trends import POLARITY_THRESHOLD
from callscope.enrichment.sentiment_model import SentimentModel, load_sentiment_model
from callscope.model import Conversation, SentimentScores, Turn

SCALE = 5.0  # the reference's COMPREHEND_SENTIMENT_SCALER: probabilities -> [0, 5]
MIN_SENTIMENT_CHARS = 8  # the reference's MIN_SENTIMENT_LENGTH


def signed_sentiment(scores: SentimentScores) -> float:
    """The reference's rule: negative first, then positive, each at probability x 5 >= 2.0; else 0."""
    if SCALE * scores.negative >= POLARITY_THRESHOLD:
        return -SCALE * scores.negative
    if SCALE * scores.positive >= POLARITY_THRESHOLD:
        return SCALE * scores.positive
    return 0.0


def sentiment_label(sentiment: float | None) -> str:
    """"positive", "negative" or "neutral" (also for unscored turns), as the PCA flags read."""
    if sentiment is not None and sentiment >= POLARITY_THRESHOLD:
        return "positive"
    if sentiment is not None and sentiment <= -POLARITY_THRESHOLD:
        return "negative"
    return "neutral"


def set_sentiment(turn: Turn, scores: SentimentScores | None) -> None:
    """Write a turn's probabilities and signed score; None leaves the turn unscored."""
    turn.sentiment_scores = scores
    turn.sentiment = signed_sentiment(scores) if scores is not None else None


def is_scorable(turn: Turn) -> bool:
    return len(turn.analysis_text.strip()) >= MIN_SENTIMENT_CHARS


def analysis_language(turn: Turn, conversation: Conversation) -> str:
    """The language of `turn.analysis_text` (ISO 639-1): English when the turn has a translation."""
    if turn.translation is not None:
        return "en"
    return (turn.language or conversation.language or "en").lower()


class LocalSentiment:
    """all-MiniLM-L6-v2 + logistic regression, shipped in the package (English text only)."""

    aspect = "sentiment"
    name = "local:minilm-logreg"

    def __init__(self, model: SentimentModel | None = None) -> None:
        self._model = model  # the shipped model is loaded on first use, once per process

    @property
    def model(self) -> SentimentModel:
        if self._model is None:
            self._model = load_sentiment_model()
        return self._model

    def enrich(self, conversation: Conversation) -> None:
        for turn in conversation.turns:
            set_sentiment(turn, None)
        candidates = [turn for turn in conversation.turns if is_scorable(turn)]
        turns = [turn for turn in candidates if analysis_language(turn, conversation).split("-")[0] == "en"]
        if len(turns) < len(candidates):
            # The model is English-only: a turn in another language without a translation stays unscored.
            conversation.warnings.append(
                f"sentiment: {len(candidates) - len(turns)} turn(s) not in English and not translated: left unscored"
            )
        # All turns of the call in one call: the encoder batches them by length.
        probabilities = self.model.probabilities([turn.analysis_text for turn in turns])
        for turn, (positive, negative, neutral) in zip(turns, probabilities.tolist()):
            set_sentiment(turn, SentimentScores(positive=positive, negative=negative, neutral=neutral))
