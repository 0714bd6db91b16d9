"""A stored call's PCA document, read from its JSON and turned into what the call page shows.

The document may come from another tool or be hand-edited: every field is read defensively (a
missing or mistyped field shows as absent), so a readable JSON object always renders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.dashboard.fields import as_dict, as_list, as_number, as_text, truthy
from callscope.dashboard.files import OutsideDataDir, audio_candidates, inside, is_audio, locate, media_file_name
from callscope.dashboard.transcript_marks import Fragment, Mark, TimedWord, fragments, redactions
from callscope.store.base import CallRecord


class DocumentError(Exception):
    """The call's PCA JSON cannot be shown: status is the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class DataPlaces:
    """The data directory (the only place documents are read from), where relative stored paths start,
    and the folders of recordings (served as audio only, from inside them)."""

    root: Path
    bases: tuple[Path, ...]  # tried in order for a relative CallRecord.path
    audio_roots: tuple[Path, ...] = ()

    @classmethod
    def of(cls, data_dir: Path, *bases: Path, audio_dirs: tuple[Path, ...] = ()) -> DataPlaces:
        root = data_dir.resolve()
        return cls(root, tuple(dict.fromkeys([*(base.resolve() for base in bases), root])),
                   tuple(directory.resolve() for directory in audio_dirs))


def load_document(record: CallRecord, places: DataPlaces) -> tuple[Path, dict[str, Any]]:
    """(the JSON's resolved path, the document); DocumentError saying why not."""
    if not record.path:
        raise DocumentError(404, f"call {record.guid}: the store has no path for its analysis JSON")
    try:
        path = locate(places.root, record.path, list(places.bases))
    except OutsideDataDir:
        raise DocumentError(404, f"call {record.guid}: its analysis JSON {record.path} lies outside the data "
                                 f"directory {places.root} (start the dashboard with --data covering it)") from None
    except FileNotFoundError:
        raise DocumentError(404, f"call {record.guid}: its analysis JSON {record.path} is missing "
                                 "(moved or deleted since `callscope load`)") from None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentError(404, f"call {record.guid}: cannot read {record.path}: "
                                 f"{getattr(error, 'strerror', None) or error}") from None
    except ValueError as error:
        raise DocumentError(422, f"call {record.guid}: {record.path} is not valid JSON ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("ConversationAnalytics"), dict):
        raise DocumentError(422, f"call {record.guid}: {record.path} is not a PCA document "
                                 "(no ConversationAnalytics object)")
    return path, document


def find_audio(record: CallRecord, json_path: Path, document: dict[str, Any], places: DataPlaces) -> Path | None:
    """The recording to play, inside the data directory or a recordings folder, or None; only audio plays."""
    candidates = audio_candidates(document, json_path, record.redacted, places.bases)
    if not record.redacted:  # a redacted call plays its redacted copy only
        name = media_file_name(document)
        candidates += [directory / name for directory in places.audio_roots if name]
    for candidate in candidates:
        found = inside(candidate, places.root, *places.audio_roots)
        if found is not None and is_audio(found):
            return found
    return None


# --- the call page's view ------------------------------------------------------------------------


@dataclass
class Mention:
    text: str
    turn: int | None = None  # index of the turn it was said in
    start: float | None = None


@dataclass
class TurnView:
    index: int
    start: float
    end: float
    speaker: str
    role: str  # what the speaker label says: "Agent", "Customer", ...
    role_class: str  # agent, customer, other
    text: str
    translation: str  # the English DisplayText when it differs from what was said
    language: str
    sentiment: float | None  # signed, -5..5
    interruption: bool
    loudness: list[float]
    categories: list[str]
    issues: list[str]
    action_items: list[str]
    outcomes: list[str]
    pieces: list[Fragment] = field(default_factory=list)  # the text cut at its words and entity marks
    words: int = 0  # how many words were said (WordConfidence, else the text's)


@dataclass
class SpeakerView:
    label: str
    role: str
    role_class: str
    talk_time: float | None
    sentiment: float | None
    sentiment_change: float | None
    quarters: list[tuple[int, float]]  # (quarter 1..4, score)


@dataclass
class CallView:
    duration: float
    speakers: list[SpeakerView]
    turns: list[TurnView]
    non_talk_time: float | None
    non_talk: list[tuple[float, float]]
    categories: list[tuple[str, int, list[float]]]  # (name, instances, start times)
    entities: list[tuple[str, int, list[str]]]  # (type, instances, values)
    issues: list[Mention]
    action_items: list[Mention]
    outcomes: list[Mention]
    summary: list[tuple[str, str]]  # (title, text); the overall summary first
    average_word_confidence: float | None
    notes: list[str] = field(default_factory=list)


def call_view(record: CallRecord, document: dict[str, Any]) -> CallView:
    analytics = as_dict(document.get("ConversationAnalytics"))
    segments = [s for s in as_list(document.get("SpeechSegments")) if isinstance(s, dict)]
    labels = {}
    for item in as_list(analytics.get("SpeakerLabels")):
        if isinstance(item, dict) and item.get("Speaker") is not None:
            labels.setdefault(str(item["Speaker"]), as_text(item.get("DisplayText")) or str(item["Speaker"]))
    for segment in segments:
        speaker = as_text(segment.get("SegmentSpeaker"))
        labels.setdefault(speaker, speaker or "Speaker")

    turns = [_turn(index, segment, labels) for index, segment in enumerate(segments)]
    end = max((turn.end for turn in turns), default=0.0)
    duration = as_number(analytics.get("Duration")) or record.duration or end
    duration = max(duration, end, 1e-6)

    trends = as_dict(analytics.get("SentimentTrends"))
    times = as_dict(analytics.get("SpeakerTime"))
    speakers = []
    for label, role in labels.items():
        trend = as_dict(trends.get(label))
        quarters = []
        for quarter in as_list(trend.get("SentimentPerQuarter")):
            number, score = as_number(as_dict(quarter).get("Quarter")), as_number(as_dict(quarter).get("Score"))
            if number is not None and score is not None and 1 <= number <= 4:
                quarters.append((int(number), score))
        talk = as_number(as_dict(times.get(label)).get("TotalTimeSecs"))
        speakers.append(SpeakerView(label, role, role_class(role), talk, as_number(trend.get("SentimentScore")),
                                    as_number(trend.get("SentimentChange")), sorted(quarters)))
    non_talk = as_dict(times.get("NonTalkTime"))
    gaps = []
    for gap in as_list(non_talk.get("Instances")):
        begin, finish = as_number(as_dict(gap).get("BeginOffsetSecs")), as_number(as_dict(gap).get("EndOffsetSecs"))
        if begin is not None and finish is not None:
            gaps.append((begin, finish))

    categories = []
    for category in as_list(analytics.get("CategoriesDetected")):
        category = as_dict(category)
        name = as_text(category.get("Name"))
        instances = as_number(category.get("Instances"))
        if name and instances != 0:
            begins = (as_number(as_dict(t).get("BeginOffsetSecs")) for t in as_list(category.get("Timestamps")))
            starts = [begin for begin in begins if begin is not None]
            categories.append((name, int(instances if instances is not None else len(starts)), starts))
    entities = [(as_text(e.get("Name")), int(as_number(e.get("Instances")) or 0),
                 [as_text(v) for v in as_list(e.get("Values"))])
                for e in (as_dict(item) for item in as_list(analytics.get("CustomEntities"))) if as_text(e.get("Name"))]

    def mentions(key: str, attribute: str) -> list[Mention]:
        found = [Mention(text, turn.index, turn.start) for turn in turns for text in getattr(turn, attribute)]
        # Documents without per-segment lists: the call-level list, not placed in time.
        return found or [Mention(as_text(as_dict(item).get("Text"))) for item in as_list(analytics.get(key))
                         if as_text(as_dict(item).get("Text"))]

    summary: list[tuple[str, str]] = []
    overall = as_dict(as_dict(as_dict(analytics.get("ContactSummary")).get("AutoGenerated")).get("OverallSummary"))
    if as_text(overall.get("Content")):
        summary.append(("Summary", as_text(overall.get("Content"))))
    for title, text in as_dict(analytics.get("Summary")).items():
        text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
        if text and (str(title), text) not in summary:
            summary.append((str(title), text))

    source = as_dict(as_dict(next(iter(as_list(analytics.get("SourceInformation"))), {})).get("TranscribeJobInfo"))
    return CallView(
        duration=duration, speakers=speakers, turns=turns, non_talk_time=as_number(non_talk.get("TotalTimeSecs")),
        non_talk=gaps, categories=categories, entities=entities,
        issues=mentions("IssuesDetected", "issues"), action_items=mentions("ActionItemsDetected", "action_items"),
        outcomes=mentions("OutcomesDetected", "outcomes"), summary=summary,
        average_word_confidence=as_number(source.get("AverageWordConfidence")),
    )


def role_class(role: str) -> str:
    lowered = role.lower()
    return "agent" if lowered.startswith("agent") else "customer" if lowered.startswith("cust") else "other"


def signed_sentiment(segment: dict[str, Any]) -> float | None:
    """The reference writes a magnitude and two flags: negative → -score, positive → +score, else neutral (0)."""
    score = as_number(segment.get("SentimentScore"))
    if score is None:
        return None
    if truthy(segment.get("SentimentIsNegative")):
        return -abs(score)
    if truthy(segment.get("SentimentIsPositive")):
        return abs(score)
    return 0.0


def sentiment_class(value: float | None) -> str:
    if value is None:
        return "s-none"
    if value <= -2.5:
        return "s-neg2"
    if value < -0.5:
        return "s-neg1"
    if value <= 0.5:
        return "s-neu"
    return "s-pos1" if value < 2.5 else "s-pos2"


def _turn(index: int, segment: dict[str, Any], labels: dict[str, str]) -> TurnView:
    speaker = as_text(segment.get("SegmentSpeaker"))
    role = labels.get(speaker, speaker)
    start = as_number(segment.get("SegmentStartTime")) or 0.0
    end = max(as_number(segment.get("SegmentEndTime")) or start, start)
    original, display = as_text(segment.get("OriginalText")), as_text(segment.get("DisplayText"))
    words = _timed_words(segment)
    return TurnView(
        index=index, start=start, end=end, speaker=speaker, role=role, role_class=role_class(role),
        text=original or display, translation=display if original and display and display != original else "",
        language=as_text(segment.get("LanguageCode")), sentiment=signed_sentiment(segment),
        interruption=truthy(segment.get("SegmentInterruption")),
        loudness=[v for v in (as_number(x) for x in as_list(segment.get("LoudnessScores"))) if v is not None],
        categories=[as_text(c) for c in as_list(segment.get("CategoriesDetected")) if as_text(c)],
        issues=_span_texts(segment.get("IssuesDetected")), action_items=_span_texts(segment.get("ActionItemsDetected")),
        outcomes=_span_texts(segment.get("OutcomesDetected")),
        pieces=fragments(original or display, words, [*_entity_marks(original or display, segment),
                                                      *redactions(original or display)]),
        words=len(words) or len((original or display).split()),
    )


def _timed_words(segment: dict[str, Any]) -> list[TimedWord]:
    words = []
    for item in as_list(segment.get("WordConfidence")):
        item = as_dict(item)
        start, end = as_number(item.get("StartTime")), as_number(item.get("EndTime"))
        if as_text(item.get("Text")).strip() and start is not None and end is not None:
            words.append(TimedWord(as_text(item.get("Text")), start, max(end, start)))
    return words


def _entity_marks(text: str, segment: dict[str, Any]) -> list[Mark]:
    """Each entity where its offsets say, else where its text first occurs (a document edited by hand);
    one found nowhere in the text (said in the translation) is not marked."""
    marks = []
    for entity in (as_dict(item) for item in as_list(segment.get("EntitiesDetected"))):
        kind, said = as_text(entity.get("Type")) or "OTHER", as_text(entity.get("Text"))
        begin, end = as_number(entity.get("BeginOffset")), as_number(entity.get("EndOffset"))
        if not said:
            continue
        if begin is None or end is None or text[int(begin):int(end)].casefold() != said.casefold():
            found = text.casefold().find(said.casefold())
            if found < 0:
                continue
            begin, end = found, found + len(said)
        marks.append(Mark(kind.upper(), int(begin), int(end)))
    return marks


def _span_texts(value: Any) -> list[str]:
    return [as_text(as_dict(item).get("Text")) for item in as_list(value) if as_text(as_dict(item).get("Text"))]
