"""Turn sentiment from Amazon Comprehend (`batch_detect_sentiment`), as the reference system gets it.

Comprehend takes at most 25 texts of at most 5,000 UTF-8 bytes per batch, all in one language. A
longer turn is split (text_pieces) and its pieces' probabilities averaged, weighted by their size.
Results come back by `Index`; a text in the response's ErrorList is retried once alone with
`detect_sentiment`, and left unscored (one warning for the call) if that fails too.

Comprehend's fourth class, MIXED, is folded into neutral: the reference's rule reads only the
positive and negative probabilities (callscope.enrichment.sentiment), so the flags and scores are
unchanged, and the three probabilities still sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callscope.enrichment.sentiment import analysis_language, is_scorable, set_sentiment
from callscope.enrichment.text_pieces import split_by_bytes, utf8_size
from callscope.errors import CallscopeError, first_line
from callscope.model import Conversation, SentimentScores

MAX_BATCH = 25
MAX_TEXT_BYTES = 5000
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW")


class ComprehendError(CallscopeError):
    """Comprehend could not be called at all (credentials, permissions, region, network)."""


def comprehend_language(code: str) -> str | None:
    """Comprehend's code for an ISO 639-1 / BCP-47 code ("en", "en-US", "zh-TW"), or None."""
    if code.lower() in ("zh-tw", "zh-hant"):
        return "zh-TW"
    primary = code.split("-")[0].lower()
    return primary if primary in LANGUAGES else None


@dataclass(frozen=True, eq=False)  # keyed by identity: two turns may say the same words
class _Piece:
    turn: int  # index into conversation.turns
    text: str


class ComprehendSentiment:
    aspect = "sentiment"
    name = "comprehend"

    def __init__(self, client: Any = None, region: str | None = None) -> None:
        self._client = client
        self._region = region

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # Adaptive retries: batch calls are throttled per account, and a call has many batches.
            self._client = boto3.client("comprehend", region_name=self._region,
                                        config=Config(retries={"mode": "adaptive", "max_attempts": 8}))
        return self._client

    def enrich(self, conversation: Conversation) -> None:
        by_language: dict[str, list[_Piece]] = {}
        unsupported = 0
        for index, turn in enumerate(conversation.turns):
            set_sentiment(turn, None)
            if not is_scorable(turn):
                continue
            language = comprehend_language(analysis_language(turn, conversation))
            if language is None:
                unsupported += 1
                continue
            for text in split_by_bytes(turn.analysis_text, MAX_TEXT_BYTES):
                by_language.setdefault(language, []).append(_Piece(index, text))

        scores: dict[_Piece, dict[str, float]] = {}
        errors: list[str] = []
        for language, pieces in by_language.items():
            for begin in range(0, len(pieces), MAX_BATCH):
                scores.update(self._score_batch(pieces[begin:begin + MAX_BATCH], language, errors))

        failed = self._combine(conversation, by_language, scores)
        if unsupported:
            conversation.warnings.append(
                f"sentiment: {unsupported} turn(s) in a language Comprehend does not support: left unscored")
        if failed:
            reason = errors[0] if errors else "no result returned"  # a text missing from both lists
            conversation.warnings.append(
                f"sentiment: Comprehend could not score {failed} turn(s) ({reason}): left unscored")

    def _score_batch(self, batch: list[_Piece], language: str, errors: list[str]) -> dict[_Piece, dict[str, float]]:
        from botocore.exceptions import BotoCoreError, ClientError

        response = self._call("batch_detect_sentiment", TextList=[piece.text for piece in batch], LanguageCode=language)
        scored = {batch[item["Index"]]: item["SentimentScore"] for item in response.get("ResultList", [])}
        for error in response.get("ErrorList", []):
            piece = batch[error["Index"]]
            try:
                scored[piece] = self.client.detect_sentiment(Text=piece.text, LanguageCode=language)["SentimentScore"]
            except (BotoCoreError, ClientError) as retry_error:  # reported once per call, below
                errors.append(f"{error.get('ErrorCode', 'error')}: {first_line(retry_error)}")
        return scored

    def _call(self, operation: str, **params: Any) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(**params)
        except (BotoCoreError, ClientError) as error:
            raise ComprehendError(f"Comprehend {operation} failed: {first_line(error)}") from None

    @staticmethod
    def _combine(conversation: Conversation, by_language: dict[str, list[_Piece]],
                 scores: dict[_Piece, dict[str, float]]) -> int:
        """Size-weighted mean of each turn's pieces; a turn with an unscored piece stays unscored."""
        pieces_of: dict[int, list[_Piece]] = {}
        for pieces in by_language.values():
            for piece in pieces:
                pieces_of.setdefault(piece.turn, []).append(piece)
        failed = 0
        for index, pieces in pieces_of.items():
            if any(piece not in scores for piece in pieces):
                failed += 1
                continue
            weights = [utf8_size(piece.text) for piece in pieces]
            total = sum(weights)

            def mean(*keys: str) -> float:
                return sum(w * sum(scores[p].get(k, 0.0) for k in keys) for w, p in zip(weights, pieces)) / total

            set_sentiment(conversation.turns[index], SentimentScores(
                positive=mean("Positive"), negative=mean("Negative"), neutral=mean("Neutral", "Mixed")))
        return failed
