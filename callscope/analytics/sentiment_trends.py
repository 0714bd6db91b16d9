"""Sentiment per speaker and per call quarter, computed as the reference system does for
standard (non Call Analytics) jobs.

Each turn belongs to the quarter of its midpoint. Positive and negative turns add their signed score;
neutral and unscored turns count as data points with no score. Until an enrichment stage scores
turns, every score is 0.0 while the offsets are real.
"""

from __future__ import annotations

from typing import Any

from callscope.model import Conversation

# A turn is positive or negative when its score magnitude (probability x 5) reaches this.
POLARITY_THRESHOLD = 2.0


def _polar_score(sentiment: float | None) -> float:
    if sentiment is None or abs(sentiment) < POLARITY_THRESHOLD:
        return 0.0
    return sentiment


def sentiment_trends(conversation: Conversation) -> dict[str, Any]:
    duration = conversation.source.duration
    trends: dict[str, Any] = {}
    for speaker in conversation.speakers:
        turns = [turn for turn in conversation.turns if turn.speaker == speaker.label]
        if not turns:
            continue
        quarters = []
        for quarter in range(4):
            members = [
                turn
                for turn in turns
                if min(int((turn.start + turn.end) / 2 * 4 / duration), 3) == quarter
            ]
            total = sum(_polar_score(turn.sentiment) for turn in members)
            quarters.append(
                {
                    "Quarter": quarter + 1,
                    "Score": round(total / max(len(members), 1), 3),
                    "BeginOffsetSecs": round(members[0].start, 3) if members else 0.0,
                    "EndOffsetSecs": round(max(turn.end for turn in members), 3) if members else 0.0,
                }
            )
        overall = sum(_polar_score(turn.sentiment) for turn in turns) / len(turns)
        trends[speaker.label] = {
            "SentimentScore": round(overall, 3),
            "SentimentChange": round(quarters[3]["Score"] - quarters[0]["Score"], 3),
            "SentimentPerQuarter": quarters,
        }
    return trends
