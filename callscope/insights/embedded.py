"""The embedded default: answers to the shipped prompts from what enrichment found, no model needed.

Each prompt's `embedded:` rule (callscope.insights.rules) says how: an extractive summary, a side's
sentiment from its turn scores, action items and outcomes from the sentence patterns, the call
driver from the category rules that fired (or the customer's issue), and phrase checks for
compliance (greeting, identity verification, feedback) and call-backs. Answers have the shape of
the shipped schemas and carry evidence: the sentence, who said it and when. A rule that lacks what
it reads (no sentiment scores, say) raises NotAnswerable, recorded as the insight's error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

from callscope.analytics.sentiment_trends import POLARITY_THRESHOLD
from callscope.enrichment.categories.phrases import PhraseSet, TurnTexts, words_of
from callscope.enrichment.issues import normalise
from callscope.enrichment.sentences import sentence_spans
from callscope.insights.extractive import call_sentences, extractive_summary
from callscope.insights.rules import (
    ActionItems,
    CallDriver,
    EmbeddedRule,
    ExtractiveSummary,
    PhraseCheck,
    Resolution,
    SpeakerSentiment,
)
from callscope.insights.transcript import speaker_names
from callscope.model import Conversation, Role, TextSpan, Turn

EMBEDDED_NAME = "embedded:rules"
NEUTRAL_BELOW = 0.1  # share of polar turns under which a side counts as Neutral
MIXED_BETWEEN = (0.3, 0.7)  # positive share of the polar evidence that counts as Mixed
DRIVER_MAX_WORDS = 20

_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|hey|yes|yeah|so|well|um+|uh+|okay|ok|oh)\b[,.!]?\s*)*"
    r"(?:(?:i'?m|i am|i was|we'?re|we are)\s+(?:just\s+)?(?:calling|ringing|phoning)(?:\s+in)?(?:\s+today)?"
    r"(?:\s+(?:because|about|regarding|since|as|to))?\s*|the reason (?:i'?m|i am) calling is(?:\s+that)?\s*)?",
    re.IGNORECASE)
_FIRST_PERSON = re.compile(r"^(\w+ ){0,3}?(i|we|let me|let us)\b")
_TO_THE_OTHER = re.compile(r"^(\w+ ){0,2}?(please|make sure|remember|do not forget)\b|"
                           r"(?<!\bif )\byou (will |would )?((need|have|ought) to|must|should)\b|"
                           r"\b(can|could|would) you\b")


class NotAnswerable(Exception):
    """The call lacks what the rule reads; the message (one line) becomes the insight's error."""


class EmbeddedInsights:
    name = EMBEDDED_NAME

    def answer(self, rule: EmbeddedRule, conversation: Conversation) -> Any:
        """The answer to a prompt with this embedded rule, as JSON-ready data."""
        view = _CallView(conversation)
        if isinstance(rule, ExtractiveSummary):
            text = extractive_summary(call_sentences(conversation, view.names), rule.max_sentences,
                                      conversation.source.duration)
            if not text:
                raise NotAnswerable("the call has no sentence long enough to summarise")
            return {"summary": text}
        if isinstance(rule, SpeakerSentiment):
            turns = conversation.turns
            return speaker_sentiment([turns[index] for index in view.turns_of(rule.speaker)], rule.speaker)
        if isinstance(rule, ActionItems):
            return {"items": action_items(view)}
        if isinstance(rule, CallDriver):
            return call_driver(view, rule)
        if isinstance(rule, Resolution):
            return resolution(view)
        if isinstance(rule, PhraseCheck):
            return phrase_check(view, rule)
        raise NotAnswerable(f"no embedded answer for rule {type(rule).__name__}")


class _CallView:
    """Who is who in a call, and where each sentence is."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.names = speaker_names(conversation)
        self.roles = {speaker.label: speaker.role for speaker in conversation.speakers}

    def side(self, turn: Turn) -> str:
        return {Role.AGENT: "agent", Role.CUSTOMER: "customer"}.get(self.roles.get(turn.speaker, Role.UNKNOWN), "")

    def turns_of(self, speaker: str) -> list[int]:
        """Indexes of the turns of `speaker` (agent, customer or any). Where no speaker has that
        role (a mono call not diarized), every speaker of unknown role counts, as issue patterns do."""
        turns = self.conversation.turns
        if speaker == "any":
            return list(range(len(turns)))
        found = [index for index, turn in enumerate(turns) if self.side(turn) == speaker]
        if not found and not any(role.value.lower() == speaker for role in self.roles.values()):
            found = [index for index, turn in enumerate(turns) if self.roles.get(turn.speaker) is Role.UNKNOWN]
        return found

    def evidence(self, turn: Turn, sentence: str) -> str:
        minutes, seconds = divmod(int(turn.start), 60) if turn.words else (0, 0)
        return f'{self.names.get(turn.speaker, turn.speaker)} at {minutes}:{seconds:02d}: "{sentence}"'

    def spans(self, kind: str) -> list[tuple[Turn, TextSpan]]:
        return [(turn, span) for turn in self.conversation.turns for span in getattr(turn, kind)]


def speaker_sentiment(turns: Sequence[Turn], speaker: str) -> dict[str, Any]:
    """Positive, Negative, Neutral or Mixed from the side's turn scores, with a confidence.

    Polar turns (score magnitude >= 2, i.e. class probability >= 0.4, the reference's rule) are the
    evidence: the positive share of their probabilities decides the label (>= 0.7 Positive, <= 0.3
    Negative, between: Mixed); too little of it per scored turn is Neutral. The confidence is the
    winning share (for Mixed: how even the two sides are), discounted when few turns are polar; for
    Neutral, the mean probability of the neutral class."""
    if not turns:
        raise NotAnswerable(f"the {speaker} has no turns")
    scored = [turn for turn in turns if turn.sentiment is not None and turn.sentiment_scores is not None]
    if not scored:
        raise NotAnswerable("needs turn sentiment (--sentiment local|comprehend)")
    polar_turns = [turn for turn in scored if abs(turn.sentiment) >= POLARITY_THRESHOLD]
    positive = sum(turn.sentiment / 5 for turn in polar_turns if turn.sentiment > 0)
    negative = sum(-turn.sentiment / 5 for turn in polar_turns if turn.sentiment < 0)
    polar = positive + negative
    if len(polar_turns) / len(scored) < NEUTRAL_BELOW:
        neutral = sum(turn.sentiment_scores.neutral for turn in scored) / len(scored)
        return {"sentiment": "Neutral", "confidence": round(neutral, 2)}
    share = positive / polar
    coverage = min(1.0, 0.5 + len(polar_turns) / len(scored))
    if share >= MIXED_BETWEEN[1]:
        label, confidence = "Positive", share
    elif share <= MIXED_BETWEEN[0]:
        label, confidence = "Negative", 1 - share
    else:
        label, confidence = "Mixed", 1 - abs(share - 0.5)
    return {"sentiment": label, "confidence": round(confidence * coverage, 2)}


def action_items(view: _CallView) -> list[dict[str, str]]:
    items, seen = [], set()
    for turn, span in view.spans("action_items"):
        text = " ".join(span.text.split())
        key = normalise(text)
        if key in seen:
            continue
        seen.add(key)
        items.append({"owner": _owner(key, view.side(turn)), "text": text})
    return items


def _owner(normalised: str, side: str) -> str:
    """Who has to act: an instruction to the other side ("you will need to ...") is theirs,
    a promise ("I will ...", "we'll ...") the speaker's."""
    speaker = side or "agent"
    other = "customer" if speaker == "agent" else "agent"
    if _FIRST_PERSON.search(normalised):
        return speaker
    if _TO_THE_OTHER.search(normalised):
        return other
    return speaker


def call_driver(view: _CallView, rule: CallDriver) -> dict[str, str]:
    issues = [(turn, span) for turn, span in view.spans("issues") if view.side(turn) in ("customer", "")]
    issues = issues or view.spans("issues")
    evidence = view.evidence(*_quoted(issues[0])) if issues else ""
    drivers = [match for match in view.conversation.categories if match.name not in rule.ignore_categories]
    if drivers:
        first = min(drivers, key=lambda match: min((span.start for span in match.spans), default=float("inf")))
        answer = {"category": first.name.replace("_", " ").strip().capitalize()}
        return {**answer, "evidence": evidence} if evidence else answer
    if not issues:
        raise NotAnswerable("no reason-for-call category matched and no issue was found")
    return {"category": _compact(issues[0][1].text), "evidence": evidence}


def resolution(view: _CallView) -> dict[str, Any]:
    outcomes = view.spans("outcomes")
    if outcomes:
        # The first resolution, and the last (how it stood at the end), when they differ.
        quoted = [outcomes[0]] + ([outcomes[-1]] if len(outcomes) > 1 else [])
        return {"resolved": True, "evidence": " … ".join(view.evidence(*_quoted(item)) for item in quoted)}
    evidence = "no resolution stated"
    actions = view.spans("action_items")
    if actions:
        evidence += f"; next step: {view.evidence(*_quoted(actions[-1]))}"
    return {"resolved": False, "evidence": evidence}


def phrase_check(view: _CallView, rule: PhraseCheck) -> dict[str, Any]:
    candidates = view.turns_of(rule.speaker)
    if rule.first_turns:
        candidates = candidates[:rule.first_turns]
    elif rule.last_turns:
        candidates = candidates[-rule.last_turns:]
    turns = view.conversation.turns
    phrases = PhraseSet.build(rule.phrases, rule.fuzzy)
    matched = phrases.matching_turns(TurnTexts(turns), candidates)
    if matched:
        turn = turns[matched[-1] if rule.last_turns else matched[0]]
        return {rule.field: True, "evidence": view.evidence(turn, _best_sentence(turn.analysis_text, phrases.exact))}
    who = "anyone" if rule.speaker == "any" else f"the {rule.speaker}"
    where = (f" in their first {rule.first_turns} turns" if rule.first_turns else
             f" in their last {rule.last_turns} turns" if rule.last_turns else "")
    return {rule.field: False, "evidence": rule.absent_evidence or f"none of the phrases said by {who}{where}"}


def _best_sentence(text: str, phrases: tuple[str, ...]) -> str:
    """The sentence of a matched turn that holds a phrase (exactly, else the most similar one)."""
    sentences = [" ".join(text[begin:end].split()) for begin, end in sentence_spans(text)] or [text]
    for sentence in sentences:
        padded = f" {' '.join(words_of(sentence))} "
        if any(f" {phrase} " in padded for phrase in phrases):
            return sentence
    def similarity(sentence: str) -> float:
        words = " ".join(words_of(sentence))
        return max(SequenceMatcher(None, phrase, words).find_longest_match(0, len(phrase), 0, len(words)).size
                   / max(len(phrase), 1) for phrase in phrases)

    return max(sentences, key=similarity)


def _quoted(item: tuple[Turn, TextSpan]) -> tuple[Turn, str]:
    turn, span = item
    return turn, " ".join(span.text.split())


def _compact(sentence: str) -> str:
    """An issue sentence as a category: without "I'm calling because", at most DRIVER_MAX_WORDS words."""
    text = _LEAD_IN.sub("", " ".join(sentence.split())).strip(" ,.;:!?") or sentence.strip()
    words = text.split()
    if len(words) > DRIVER_MAX_WORDS:
        text = " ".join(words[:DRIVER_MAX_WORDS]).rstrip(",;:") + " …"
    return text[:1].upper() + text[1:]
