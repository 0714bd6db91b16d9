"""Which speaker of a mono call is the agent, from what each one says.

Agents greet with the company name, offer help, ask for account details and verify identity;
customers state a problem. Each speaker scores the weighted phrases they say (phrases in the
opening minute count double: that is where greetings and reasons for calling are). The speaker
with the highest agent-minus-customer score is the agent; the confidence grows with the margin
over the runner-up. Stereo calls keep their channel definitions and never come here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from callscope.model import Role, Speaker, Turn

_OPENING_SECS = 60.0
# Margin (in phrase-weight units) at which the confidence reaches about 0.88.
_CONFIDENCE_SCALE = 2.0


@dataclass(frozen=True)
class RolePhrases:
    agent: dict[str, float]
    customer: dict[str, float]
    company_names: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path | None = None) -> RolePhrases:
        """The shipped phrase list, or a user's JSON file of the same shape
        (``{"agent": {"phrase": weight}, "customer": {...}, "company_names": [...]}``)."""
        text = (
            path.read_text(encoding="utf-8")
            if path is not None
            else resources.files("callscope.speakers").joinpath("role_phrases.json").read_text(encoding="utf-8")
        )
        data = json.loads(text)
        return cls(
            agent={str(k): float(v) for k, v in data.get("agent", {}).items()},
            customer={str(k): float(v) for k, v in data.get("customer", {}).items()},
            company_names=tuple(data.get("company_names", ())),
        )


@dataclass(frozen=True)
class RoleDecision:
    roles: dict[str, Role]
    confidence: float  # in [0.5, 1]: how sure we are of the agent choice
    evidence: dict[str, list[str]] = field(default_factory=dict)  # speaker → phrases that counted


def detect_roles(turns: list[Turn], speakers: list[str], phrases: RolePhrases | None = None) -> RoleDecision:
    phrases = phrases or RolePhrases.load()
    agent_cues = dict(phrases.agent)
    agent_cues.update({name: 2.0 for name in phrases.company_names})
    patterns = {
        "agent": [(_pattern(text), text, weight) for text, weight in agent_cues.items()],
        "customer": [(_pattern(text), text, weight) for text, weight in phrases.customer.items()],
    }
    scores = {speaker: 0.0 for speaker in speakers}
    evidence: dict[str, list[str]] = {speaker: [] for speaker in speakers}
    for turn in turns:
        if turn.speaker not in scores:
            continue
        text = _normalise(turn.text)
        boost = 2.0 if turn.start < _OPENING_SECS else 1.0
        for side, sign in (("agent", 1.0), ("customer", -1.0)):
            for pattern, phrase, weight in patterns[side]:
                hits = len(pattern.findall(text))
                if hits:
                    scores[turn.speaker] += sign * weight * boost * hits
                    evidence[turn.speaker].append(f"{side}: {phrase}")

    if len(speakers) < 2:
        return RoleDecision({speaker: Role.UNKNOWN for speaker in speakers}, 0.5, evidence)
    ranked = sorted(speakers, key=lambda speaker: scores[speaker], reverse=True)
    margin = scores[ranked[0]] - scores[ranked[1]]
    if margin == 0:
        # No evidence either way: on inbound calls the agent usually speaks first.
        ranked.sort(key=lambda speaker: _first_start(turns, speaker))
    agent = ranked[0]
    confidence = 1 / (1 + math.exp(-margin / _CONFIDENCE_SCALE)) if margin else 0.5
    roles = {speaker: (Role.AGENT if speaker == agent else Role.CUSTOMER) for speaker in speakers}
    return RoleDecision(roles, round(confidence, 3), {k: sorted(set(v)) for k, v in evidence.items()})


def apply_roles(speakers: list[Speaker], decision: RoleDecision) -> list[Speaker]:
    """Speakers with the decided roles, their confidence and evidence; display names follow the role."""
    return [
        replace(
            speaker,
            role=decision.roles.get(speaker.label, speaker.role),
            display_name="",
            role_confidence=decision.confidence,
            role_evidence=tuple(decision.evidence.get(speaker.label, ())),
        )
        for speaker in speakers
    ]


def _pattern(phrase: str) -> re.Pattern[str]:
    words = _normalise(phrase).split()
    return re.compile(r"\b" + r"\s+".join(re.escape(word) for word in words) + r"\b")


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _first_start(turns: list[Turn], speaker: str) -> float:
    return min((turn.start for turn in turns if turn.speaker == speaker), default=math.inf)
