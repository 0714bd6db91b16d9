"""What the call page's header says about a call before anyone reads its transcript: talk speed,
interruptions, the longest silence, how sure the agent's role is, why the customer called and how it
ended, and whether its "summary" was written or is quotes picked from the call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callscope.dashboard.documents import CallView
from callscope.dashboard.fields import as_dict, as_list, as_number, as_text
from callscope.store.base import TalkFigures
from callscope.store.records import talk_figures


@dataclass(frozen=True)
class SpeakerPace:
    role: str
    role_class: str
    words_per_minute: float | None  # None when the document has no talk time for the speaker


@dataclass(frozen=True)
class Outcome:
    """The call in one plain sentence, from the insights (call driver, issue resolved, call-back)."""

    sentence: str
    evidence: str  # the quotes the insights give for it, for a tooltip


@dataclass(frozen=True)
class CallStory:
    paces: list[SpeakerPace]
    talk: TalkFigures | None  # interruptions and their time
    longest_silence: float | None  # seconds of the longest NonTalkTime period
    agent_role_confidence: float | None  # how sure the agent/customer roles are (mono calls: guessed from words)
    outcome: Outcome | None
    summary_is_quotes: bool  # the summary is sentences picked from the call (embedded), not written


def call_story(view: CallView, document: dict[str, Any]) -> CallStory:
    analytics = as_dict(document.get("ConversationAnalytics"))
    segments = [segment for segment in as_list(document.get("SpeechSegments")) if isinstance(segment, dict)]
    insights = {as_text(item.get("Name")): item for item in map(as_dict, as_list(analytics.get("Insights")))}
    return CallStory(
        paces=_paces(view),
        talk=talk_figures(analytics, segments),
        longest_silence=max((end - begin for begin, end in view.non_talk), default=None),
        agent_role_confidence=_agent_role_confidence(analytics),
        outcome=_outcome(insights),
        summary_is_quotes=as_text(as_dict(insights.get("summary")).get("Backend")).startswith("embedded"),
    )


def _paces(view: CallView) -> list[SpeakerPace]:
    paces = []
    for speaker in view.speakers:
        words = sum(turn.words for turn in view.turns if turn.speaker == speaker.label)
        if not words:
            continue
        minutes = (speaker.talk_time or 0.0) / 60
        paces.append(SpeakerPace(speaker.role, speaker.role_class, round(words / minutes) if minutes else None))
    return paces


def _agent_role_confidence(analytics: dict[str, Any]) -> float | None:
    for label in map(as_dict, as_list(analytics.get("SpeakerLabels"))):
        if as_text(label.get("DisplayText")).lower() == "agent":
            return as_number(label.get("RoleConfidence"))
    return None


def _outcome(insights: dict[str, dict]) -> Outcome | None:
    driver = as_dict(as_dict(insights.get("call_driver")).get("Value"))
    resolved = as_dict(as_dict(insights.get("issue_resolved")).get("Value"))
    callback = as_dict(as_dict(insights.get("callback_needed")).get("Value"))
    if not (driver or resolved):
        return None
    category = as_text(driver.get("category")).strip()
    about = f"Called about {_lowered(category)}" if category else "No call driver was found"
    ending = ("the issue was resolved" if resolved.get("resolved") is True
              else "the issue was not resolved" if resolved.get("resolved") is False else "")
    if callback.get("needed") is True:
        ending = f"{ending}, and a call-back is needed" if ending else "a call-back is needed"
    sentence = f"{about}; {ending}." if ending else f"{about}."
    evidence = " · ".join(text for text in (as_text(driver.get("evidence")), as_text(resolved.get("evidence")),
                                            as_text(callback.get("evidence"))) if text)
    return Outcome(sentence, evidence)


def _lowered(category: str) -> str:
    """"Lost or stolen card" → "lost or stolen card"; a quote the rules fell back to stays as said."""
    return category[0].lower() + category[1:] if len(category.split()) <= 6 and category[:1].isupper() \
        and not category[1:2].isupper() else f"“{category}”"
