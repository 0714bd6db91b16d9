"""A PCA document → the CallRecord and transcript text that get stored."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from callscope.store.base import CallRecord, NotAPcaDocument, StoredCall, TalkFigures

# The reference system's placeholder for metadata the file name did not carry.
_MISSING = {"", "None"}


def is_pca_like(document: Any) -> bool:
    """Whether a JSON document claims to be a PCA document (others are skipped, not failed)."""
    return isinstance(document, dict) and "ConversationAnalytics" in document


def record_from_pca(document: Any, path: str) -> StoredCall:
    if not is_pca_like(document):
        raise NotAPcaDocument("not a PCA document (no ConversationAnalytics)")
    analytics = document["ConversationAnalytics"]
    segments = document.get("SpeechSegments")
    if not isinstance(analytics, dict):
        raise NotAPcaDocument("ConversationAnalytics is not an object")
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise NotAPcaDocument("SpeechSegments is missing or not a list of objects")
    trends = _mapping(analytics, "SentimentTrends")
    labels = _roles(analytics)
    customer_trend = trends.get(labels.get("customer", ""), {})
    agent_trend = trends.get(labels.get("agent", ""), {})
    return StoredCall(
        record=CallRecord(
            guid=_text(analytics.get("GUID")) or PurePath(path).stem,  # no GUID in the name: the file names the call
            file=PurePath(path).name,
            conversation_time=_time(analytics.get("ConversationTime")),
            duration=_number(analytics.get("Duration"), "Duration") or 0.0,
            language=_text(analytics.get("LanguageCode")),
            agent=_text(analytics.get("Agent")),
            customer=_text(analytics.get("Cust")),
            agent_sentiment=_number(_get(agent_trend, "SentimentScore"), "SentimentScore"),
            customer_sentiment=_number(_get(customer_trend, "SentimentScore"), "SentimentScore"),
            customer_sentiment_change=_number(_get(customer_trend, "SentimentChange"), "SentimentChange"),
            # The reference writes placeholder categories with 0 instances: those did not match.
            categories=tuple(dict.fromkeys(
                str(c["Name"]) for c in _list(analytics, "CategoriesDetected")
                if isinstance(c, dict) and c.get("Name") and c.get("Instances", 1) != 0)),
            entities={str(e["Name"]): tuple(str(v) for v in e.get("Values") or [])
                      for e in _list(analytics, "CustomEntities") if isinstance(e, dict) and e.get("Name")},
            summary=_summary(analytics),
            action_items=tuple(str(item.get("Text", "")) for item in _list(analytics, "ActionItemsDetected")
                               if isinstance(item, dict)),
            redacted=_redacted(analytics),
            path=str(path),
            talk=talk_figures(analytics, segments),
        ),
        transcript="\n".join(_segment_text(segment) for segment in segments),
    )


def _roles(analytics: dict) -> dict[str, str]:
    """role ("agent"/"customer") → the first speaker label with that role."""
    roles: dict[str, str] = {}
    for label in _list(analytics, "SpeakerLabels"):
        if isinstance(label, dict):
            roles.setdefault(str(label.get("DisplayText", "")).lower(), str(label.get("Speaker", "")))
    return roles


def talk_figures(analytics: dict, segments: list[dict]) -> TalkFigures | None:
    """None for a document without speaker times (nothing says how its time was spent), or whose
    times are not numbers: the call is still stored and searched, without these figures."""
    try:
        return _talk_figures(analytics, segments)
    except NotAPcaDocument:
        return None


def _talk_figures(analytics: dict, segments: list[dict]) -> TalkFigures | None:
    speaker_time = _mapping(analytics, "SpeakerTime")
    if not any(label != "NonTalkTime" for label in speaker_time):
        return None
    role_of = {str(label.get("Speaker", "")): str(label.get("DisplayText", "")).lower()
               for label in _list(analytics, "SpeakerLabels") if isinstance(label, dict)}

    def seconds_of(role: str) -> float:
        return sum(_number(_get(times, "TotalTimeSecs"), "TotalTimeSecs") or 0.0
                   for label, times in speaker_time.items() if role_of.get(label) == role)

    spans = sorted((_number(s.get("SegmentStartTime"), "SegmentStartTime") or 0.0,
                    _number(s.get("SegmentEndTime"), "SegmentEndTime") or 0.0,
                    str(s.get("SegmentSpeaker", "")), bool(s.get("SegmentInterruption"))) for s in segments)
    interruptions, by_agent, overlap = 0, 0, 0.0
    last_end: dict[str, float] = {}  # speaker -> the latest end of their segments so far
    for start, end, speaker, interrupting in spans:
        if interrupting:
            interruptions += 1
            by_agent += role_of.get(speaker) == "agent"
            # cut into: the speech of others that began before this segment and had not ended
            others = max((until for other, until in last_end.items() if other != speaker), default=start)
            overlap += max(min(others, end) - start, 0.0)
        last_end[speaker] = max(last_end.get(speaker, end), end)
    return TalkFigures(
        agent_seconds=round(seconds_of("agent"), 3), customer_seconds=round(seconds_of("customer"), 3),
        non_talk_seconds=round(_number(_get(speaker_time.get("NonTalkTime"), "TotalTimeSecs"), "TotalTimeSecs")
                               or 0.0, 3),
        interruptions=interruptions, agent_interruptions=by_agent, interruption_seconds=round(overlap, 3))


def _segment_text(segment: dict) -> str:
    original, display = str(segment.get("OriginalText") or ""), str(segment.get("DisplayText") or "")
    # DisplayText is the English translation of a turn in another language: search finds both.
    return original if display in ("", original) else f"{original} {display}"


def _summary(analytics: dict) -> str:
    try:
        return str(analytics["ContactSummary"]["AutoGenerated"]["OverallSummary"]["Content"])
    except (KeyError, TypeError):
        summary = analytics.get("Summary")
        return next((str(v) for v in summary.values()), "") if isinstance(summary, dict) else ""


def _redacted(analytics: dict) -> bool:
    for source in _list(analytics, "SourceInformation"):
        if isinstance(source, dict):
            for info in source.values():
                if isinstance(info, dict) and info.get("RedactedTranscript"):
                    return True
    return False


def _time(value: Any) -> datetime | None:
    if value in (None, "", "None"):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise NotAPcaDocument(f"ConversationTime {value!r} is not a date and time") from None
    # Stored naive: times with a zone are converted to UTC so they sort with the others.
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # Duration is a string in the reference's documents
    except (TypeError, ValueError):
        raise NotAPcaDocument(f"{name} {value!r} is not a number") from None


def _text(value: Any) -> str:
    return "" if value is None or str(value) in _MISSING else str(value)


def _get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


def _mapping(analytics: dict, key: str) -> dict:
    value = analytics.get(key, {})
    if not isinstance(value, dict):
        raise NotAPcaDocument(f"{key} is not an object")
    return value


def _list(analytics: dict, key: str) -> list:
    value = analytics.get(key, [])
    if not isinstance(value, list):
        raise NotAPcaDocument(f"{key} is not a list")
    return value
