"""How the embedded default answers a prompt without a model: the `embedded:` section of a prompt.

Each rule kind reads what enrichment put on the call (sentences, sentiment, categories, issues,
action items, outcomes) and gives an answer in the shape of the shipped prompt's schema. They are
data so that users can tune the phrases, and add checks of their own (`phrase_check`), without code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

SPEAKERS = ("agent", "customer", "any")


class RuleError(ValueError):
    """A malformed `embedded:` section; prompts.py adds the file and the prompt to the message."""


@dataclass(frozen=True)
class ExtractiveSummary:
    """The call's most central sentences (TF-IDF), favouring issues, outcomes and action items."""

    max_sentences: int = 4


@dataclass(frozen=True)
class SpeakerSentiment:
    """Positive / Negative / Neutral / Mixed with a confidence, from one side's turn sentiment."""

    speaker: str  # agent or customer


@dataclass(frozen=True)
class ActionItems:
    """The action-item sentences enrichment found, each with its owner (agent or customer)."""


@dataclass(frozen=True)
class CallDriver:
    """The first reason-for-call category that matched, else the customer's first issue sentence."""

    ignore_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """Resolved when enrichment found an outcome sentence; the evidence quotes it."""


@dataclass(frozen=True)
class PhraseCheck:
    """True when `speaker` said one of `phrases` (fuzzily, as category rules match phrases), within
    their first / last N turns if given; the evidence quotes the sentence."""

    phrases: tuple[str, ...]
    speaker: str = "any"
    first_turns: int | None = None
    last_turns: int | None = None
    fuzzy: float = 0.85
    field: str = "passed"  # the answer's boolean key: {"passed": ...} or, say, {"needed": ...}
    absent_evidence: str = ""


EmbeddedRule = Union[ExtractiveSummary, SpeakerSentiment, ActionItems, CallDriver, Resolution, PhraseCheck]

_KEYS: dict[str, tuple[str, ...]] = {
    "extractive_summary": ("max_sentences",),
    "speaker_sentiment": ("speaker",),
    "action_items": (),
    "call_driver": ("ignore_categories",),
    "resolution": (),
    "phrase_check": ("phrases", "speaker", "first_turns", "last_turns", "fuzzy", "field", "absent_evidence"),
}


def parse_rule(section: Any) -> EmbeddedRule:
    """The typed rule of an `embedded:` mapping; RuleError (one line) when it is malformed."""
    if not isinstance(section, dict):
        raise RuleError(f"'embedded' must be a mapping with a 'rule', not {type(section).__name__}")
    kind = section.get("rule")
    if kind not in _KEYS:
        raise RuleError(f"embedded rule must be one of {', '.join(_KEYS)}, not {kind!r}")
    unknown = sorted(set(section) - {"rule", *_KEYS[kind]})
    if unknown:
        raise RuleError(f"embedded rule {kind}: unknown key '{unknown[0]}' "
                        f"(expected {', '.join(_KEYS[kind]) or 'none'})")
    if kind == "extractive_summary":
        return ExtractiveSummary(_count(section, "max_sentences", 4))
    if kind == "speaker_sentiment":
        speaker = _speaker(section, default=None)
        if speaker not in ("agent", "customer"):
            raise RuleError("embedded rule speaker_sentiment: 'speaker' must be agent or customer")
        return SpeakerSentiment(speaker)
    if kind == "action_items":
        return ActionItems()
    if kind == "call_driver":
        return CallDriver(_strings(section.get("ignore_categories", []), "ignore_categories", allow_empty=True))
    if kind == "resolution":
        return Resolution()
    fuzzy = section.get("fuzzy", 0.85)
    if isinstance(fuzzy, bool) or not isinstance(fuzzy, (int, float)) or not 0 < fuzzy <= 1:
        raise RuleError(f"embedded rule phrase_check: 'fuzzy' must be a number in (0, 1], not {fuzzy!r}")
    field = section.get("field", "passed")
    if not isinstance(field, str) or not field:
        raise RuleError("embedded rule phrase_check: 'field' must be a key name")
    if "first_turns" in section and "last_turns" in section:
        raise RuleError("embedded rule phrase_check: give first_turns or last_turns, not both")
    absent = section.get("absent_evidence", "")
    if not isinstance(absent, str):
        raise RuleError("embedded rule phrase_check: 'absent_evidence' must be text")
    return PhraseCheck(
        phrases=_strings(section.get("phrases"), "phrases"),
        speaker=_speaker(section, default="any"),
        first_turns=_count(section, "first_turns", None),
        last_turns=_count(section, "last_turns", None),
        fuzzy=float(fuzzy),
        field=field,
        absent_evidence=absent,
    )


def _speaker(section: dict, default: str | None) -> str | None:
    speaker = section.get("speaker", default)
    if speaker is not None and speaker not in SPEAKERS:
        raise RuleError(f"embedded rule {section['rule']}: 'speaker' must be one of {', '.join(SPEAKERS)}, "
                        f"not {speaker!r}")
    return speaker


def _count(section: dict, key: str, default: int | None) -> int | None:
    value = section.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleError(f"embedded rule {section['rule']}: '{key}' must be a whole number of at least 1, not {value!r}")
    return value


def _strings(value: Any, key: str, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value) \
            or (not value and not allow_empty):
        raise RuleError(f"embedded rule: '{key}' must be a list of phrases (text)")
    return tuple(value)
