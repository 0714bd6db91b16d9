"""Evaluating category rules on a conversation: which conditions hold, and where."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from callscope.analytics.sentiment_trends import POLARITY_THRESHOLD
from callscope.enrichment.categories.phrases import PhraseSet, TurnTexts
from callscope.enrichment.categories.rules import (
    Category,
    Condition,
    InterruptionCondition,
    NonTalkCondition,
    Polarity,
    SentimentCondition,
    TimeWindow,
    TranscriptCondition,
    Who,
)
from callscope.model import Conversation, Role, TimeSpan, Turn

# Non-talk periods are computed in rounded seconds: don't lose a 30.0 s silence to float noise.
_EPSILON = 1e-6


@dataclass(frozen=True)
class Hit:
    """Where a condition was met, and the turn whose CategoriesDetected shows it."""

    span: TimeSpan
    turn: int | None  # index into Conversation.turns; None only on a call without turns
    follow_on: bool = False  # after the last turn: the PCA format's FollowOnCategories


@dataclass(frozen=True)
class Outcome:
    holds: bool
    hits: tuple[Hit, ...] = ()  # empty for conditions on something absent


class CallView:
    """What the conditions read of one call, computed once for all rules."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.turns = conversation.turns
        self._roles = {speaker.label: speaker.role for speaker in conversation.speakers}
        # The decoded duration; never shorter than the speech (constructed conversations may lack it).
        self.duration = max([conversation.source.duration, *(turn.end for turn in self.turns)])
        self.texts = TurnTexts(self.turns)

    def role(self, turn: Turn) -> Role:
        return self._roles.get(turn.speaker, Role.UNKNOWN)

    def turns_in(self, who: Who, window: TimeWindow) -> list[int]:
        """Indexes of the turns of `who` that overlap the window."""
        start, end = window.bounds(self.duration)
        return [index for index, turn in enumerate(self.turns)
                if who.includes(self.role(turn)) and turn.start <= end and turn.end >= start]

    def hit(self, turn: int) -> Hit:
        return Hit(TimeSpan(self.turns[turn].start, self.turns[turn].end), turn)


def match_category(category: Category, view: CallView) -> tuple[Hit, ...] | None:
    """The hits of a matching category (empty when it matched on absences only), None if it did not match."""
    hits: list[Hit] = []
    for condition in category.all_of:
        outcome = evaluate(condition, view)
        if not outcome.holds:
            return None
        hits.extend(outcome.hits)
    if category.any_of:
        # Every `any` condition is evaluated so that all the ones that held give their timestamps.
        outcomes = [evaluate(condition, view) for condition in category.any_of]
        if not any(outcome.holds for outcome in outcomes):
            return None
        hits.extend(hit for outcome in outcomes if outcome.holds for hit in outcome.hits)
    return tuple(hits)


def evaluate(condition: Condition, view: CallView) -> Outcome:
    if isinstance(condition, SentimentCondition) and not _has_sentiment(condition.speaker, view):
        # Sentiment never ran (or scored nothing of this speaker): no verdict either way, even negated.
        return Outcome(False)
    hits = _hits(condition, view)
    found = len(hits) >= condition.min_count
    if condition.absent:
        return Outcome(not found)
    return Outcome(found, tuple(hits) if found else ())


def _hits(condition: Condition, view: CallView) -> list[Hit]:
    if isinstance(condition, TranscriptCondition):
        phrases = _phrase_set(condition.phrases, condition.fuzzy)
        candidates = view.turns_in(condition.speaker, condition.window)
        return [view.hit(turn) for turn in phrases.matching_turns(view.texts, candidates)]
    if isinstance(condition, SentimentCondition):
        return [view.hit(turn) for turn in view.turns_in(condition.speaker, condition.window)
                if _polarity(view.turns[turn].sentiment) in condition.polarities]
    if isinstance(condition, InterruptionCondition):
        start, end = condition.window.bounds(view.duration)
        # An interruption happens where the interrupting turn starts.
        return [view.hit(index) for index, turn in enumerate(view.turns)
                if turn.interruption and condition.speaker.includes(view.role(turn)) and start <= turn.start <= end]
    if isinstance(condition, NonTalkCondition):
        start, end = condition.window.bounds(view.duration)
        return [_non_talk_hit(period, view) for period in view.conversation.non_talk
                if period.duration >= condition.min_secs - _EPSILON and period.start <= end and period.end >= start]
    raise TypeError(f"not a condition: {condition!r}")


def _non_talk_hit(period: TimeSpan, view: CallView) -> Hit:
    """A silence belongs to the turn it falls inside (a same-speaker pause), else to the turn right
    after it (CategoriesDetected is "triggered by or just prior to this segment"), else it follows
    the last turn."""
    turns = view.turns
    if not turns:
        return Hit(period, None)
    for index, turn in enumerate(turns):
        if turn.start <= period.start and turn.end >= period.end:
            return Hit(period, index)
    following = [index for index, turn in enumerate(turns) if turn.start >= period.start]
    if following:
        return Hit(period, min(following, key=lambda index: turns[index].start))
    last = max(range(len(turns)), key=lambda index: turns[index].end)
    return Hit(period, last, follow_on=True)


def _polarity(sentiment: float | None) -> Polarity | None:
    if sentiment is None:
        return None
    if sentiment >= POLARITY_THRESHOLD:
        return Polarity.POSITIVE
    if sentiment <= -POLARITY_THRESHOLD:
        return Polarity.NEGATIVE
    return Polarity.NEUTRAL


def _has_sentiment(who: Who, view: CallView) -> bool:
    return any(turn.sentiment is not None for turn in view.turns if who.includes(view.role(turn)))


@lru_cache(maxsize=1024)
def _phrase_set(phrases: tuple[str, ...], fuzzy: float) -> PhraseSet:
    return PhraseSet.build(phrases, fuzzy)
