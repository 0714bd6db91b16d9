"""Amazon Transcribe output documents → the Conversation model, with their real word times and confidences.

Reusable on its own (`conversation_from_transcribe(document, source_name)`), e.g. by an importer.
Shapes, as the Amazon Transcribe developer guide documents them:

- Standard job output ("How Amazon Transcribe works", channel identification / speaker
  diarization): {"jobName", "results": {"items": [{"type": "pronunciation" | "punctuation",
  "start_time", "end_time", "alternatives": [{"content", "confidence"}], "speaker_label"?}],
  "speaker_labels"?: {"segments": [{"speaker_label", "items": [{"start_time", ...}]}]},
  "channel_labels"?: {"channels": [{"channel_label": "ch_0", "items": [...]}]}}}.
  Channels become spk_N with the roles of the channel definitions (default 0=CUSTOMER, 1=AGENT);
  diarized speakers (spk_N) get their roles from what they say, as diarized mono calls do. Turns are
  built from the words as for a recording (split at pauses, same-speaker segments merged).
- Call Analytics output ("Post-call analytics output", "Sample call analytics output"), also
  Contact Lens voice analysis files: {"JobName", "LanguageCode", "Transcript": [{"ParticipantRole",
  "Content", "BeginOffsetMillis", "EndOffsetMillis", "Sentiment", "LoudnessScores", "Items": [{"Type",
  "Content", "Confidence", "BeginOffsetMillis", "EndOffsetMillis"}], "IssuesDetected" |
  "ActionItemsDetected" | "OutcomesDetected": [{"CharacterOffsets": {"Begin", "End"}}]}],
  "Categories": {"MatchedCategories", "MatchedDetails": {name: {"PointsOfInterest": [...]}}},
  "ConversationCharacteristics": {"NonTalkTime", "Interruptions", "TalkTime", ...}}.
  Each Transcript entry is one turn (the character offsets refer to its Content). What Call
  Analytics computed is kept where the model has a place for it, as the reference PCA system reads
  it: turn sentiment (POSITIVE → +5, NEGATIVE → -5, NEUTRAL/MIXED → 0, the reference's "probability
  1.0 x 5"), loudness per second, categories with their times, issues / action items / outcomes,
  interruptions, non-talk time and talk time. Speakers are spk_<ChannelId> of the document's
  ChannelDefinitions when it has them, else of the channel definitions in the options.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from pathlib import PurePath
from typing import Any, Callable

from callscope.analytics.talk_time import non_talk_periods, speaker_talk_time
from callscope.inputs.source import CALL_ANALYTICS, TRANSCRIBE, TranscriptSource
from callscope.insights.results import SUMMARY_NAME
from callscope.metadata import metadata_from_filename
from callscope.model import (
    CategoryMatch,
    Conversation,
    Insight,
    Role,
    SentimentScores,
    Speaker,
    TextSpan,
    TimeSpan,
    Turn,
    Word,
)
from callscope.options import AnalyzeOptions
from callscope.speakers.roles import apply_roles, detect_roles
from callscope.turns import build_turns, mark_interruptions, split_at_pauses

# Call Analytics labels a turn, it gives no probabilities: as the reference system, a label counts
# as probability 1.0, scaled by 5.
_SENTIMENT = {
    "POSITIVE": (5.0, SentimentScores(positive=1.0, negative=0.0, neutral=0.0)),
    "NEGATIVE": (-5.0, SentimentScores(positive=0.0, negative=1.0, neutral=0.0)),
    "NEUTRAL": (0.0, SentimentScores(positive=0.0, negative=0.0, neutral=1.0)),
    "MIXED": (0.0, SentimentScores(positive=0.0, negative=0.0, neutral=1.0)),
}
_SPAN_KEYS = (("IssuesDetected", "issues"), ("ActionItemsDetected", "action_items"), ("OutcomesDetected", "outcomes"))
_ROLES = {"AGENT": Role.AGENT, "CUSTOMER": Role.CUSTOMER}


class TranscribeFormatError(ValueError):
    """One line: what is wrong with the document; `kind` as in failures.jsonl."""

    def __init__(self, problem: str, kind: str = "bad_transcribe_json") -> None:
        super().__init__(problem)
        self.kind = kind


def is_standard_transcribe(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("results"), dict) and (
        "items" in document["results"] or "transcripts" in document["results"])


def is_call_analytics(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("Transcript"), list):
        return False
    entries = [entry for entry in document["Transcript"] if isinstance(entry, dict)]
    return bool(entries) and all("BeginOffsetMillis" in entry for entry in entries) and any(
        "ParticipantRole" in entry or "ParticipantId" in entry for entry in entries)


def conversation_from_transcribe(
    document: Any, source_name: str, *, options: AnalyzeOptions = AnalyzeOptions(), sha256: str = "",
) -> Conversation:
    """A Transcribe (standard or Call Analytics) output document as a Conversation.

    `source_name` names the document in the output (its path); `sha256` identifies it (default:
    a hash of the document). Raises TranscribeFormatError, one line, when the document is not usable.
    """
    sha256 = sha256 or hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    try:
        if is_call_analytics(document):
            return _call_analytics(document, source_name, options, sha256)
        if is_standard_transcribe(document):
            return _standard(document, source_name, options, sha256)
    except TranscribeFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        raise TranscribeFormatError(f"malformed Transcribe document ({type(error).__name__}: {error})") from None
    raise TranscribeFormatError("not a Transcribe output document (no 'results' or Call Analytics 'Transcript')",
                                "unrecognised_json")


# ---- standard jobs --------------------------------------------------------------------------------


def _standard(document: dict, name: str, options: AnalyzeOptions, sha256: str) -> Conversation:
    _check_status(document.get("status"))
    results = document["results"]
    channels = (results.get("channel_labels") or {}).get("channels")
    roles_by_channel = {definition.channel: definition.role for definition in options.speakers.channels}
    if channels:
        separation = "channels"
        numbers = [_channel_number(channel["channel_label"]) for channel in channels]
        groups = [_words(channel.get("items") or [], lambda item, label=f"spk_{number}": label)
                  for channel, number in zip(channels, numbers)]
        speakers = [Speaker(f"spk_{number}", roles_by_channel.get(number, Role.UNKNOWN), channel=number)
                    for number in numbers]
    else:
        items = results.get("items") or []
        by_start = {
            str(item["start_time"]): segment["speaker_label"]
            for segment in (results.get("speaker_labels") or {}).get("segments") or []
            for item in segment.get("items") or []
        }
        diarized = bool(by_start) or any("speaker_label" in item for item in items)
        separation = "diarization" if diarized else "none"
        def speaker_of(item: dict) -> str:
            return str(item.get("speaker_label") or by_start.get(str(item.get("start_time")), "spk_0"))

        groups = [_words(items, speaker_of)]
        heard = list(dict.fromkeys(word.speaker for word in sorted(groups[0], key=lambda word: word.start)))
        speakers = [Speaker(label, Role.UNKNOWN) for label in heard or ["spk_0"]]
    words = sorted((word for group in groups for word in group), key=lambda word: word.start)
    if not words:
        raise TranscribeFormatError("the transcript has no words", "no_speech")
    pause = options.turns.segment_pause_secs
    segments = [segment for group in groups
                for segment in split_at_pauses(sorted(group, key=lambda word: word.start), pause)]
    turns = build_turns(segments, options.turns, merge=separation != "none")
    labels = [speaker.label for speaker in speakers]
    if separation == "diarization":  # as diarized mono calls: roles from what each speaker says
        speakers = apply_roles(speakers, detect_roles(turns, labels, options.role_phrases))
    duration = max(word.end for word in words)
    source = TranscriptSource(
        path=name, sha256=sha256, container="transcribe-json", codec="standard", sample_rate=0, channels=0,
        duration=duration, format=TRANSCRIBE, job_name=str(document.get("jobName") or ""),
    )
    return Conversation(
        source=source, speakers=speakers, turns=turns,
        language=_language(results.get("language_code") or document.get("languageCode"), options),
        metadata=metadata_from_filename(PurePath(name).name, sha256, options.filename_metadata),
        speaker_separation=separation,
        non_talk=non_talk_periods(words, duration, options.turns.non_talk_min_secs),
        speaker_time=speaker_talk_time(words, labels, pause),
        transcriber="amazon-transcribe:standard", processed_at=datetime.now(),
        redacted=any("redactions" in alternative for item in results.get("items") or []
                     for alternative in item.get("alternatives") or []),
    )


def _words(items: list[dict], speaker_of: Callable[[dict], str]) -> list[Word]:
    """Pronunciations become words; punctuation joins the word before it, as Whisper writes it."""
    words: list[Word] = []
    for index, item in enumerate(items):
        alternative = (item.get("alternatives") or [{}])[0]
        content = str(alternative.get("content", ""))
        if item.get("type") == "punctuation":
            if words:
                words[-1] = replace(words[-1], text=words[-1].text + content)
            continue
        try:
            start, end = float(item["start_time"]), float(item["end_time"])
        except (KeyError, TypeError, ValueError):
            raise TranscribeFormatError(f"item {index + 1}: a pronunciation without start_time/end_time") from None
        confidence = alternative.get("confidence")
        if confidence is None:  # a redacted word carries its confidence under "redactions"
            confidence = ((alternative.get("redactions") or [{}])[0]).get("confidence", 0.0)
        words.append(Word(" " + content, round(start, 3), round(end, 3), round(float(confidence), 4), speaker_of(item)))
    return words


def _channel_number(label: str) -> int:
    return int(str(label).rsplit("_", 1)[-1])


# ---- Call Analytics ---------------------------------------------------------------------------------


def _call_analytics(document: dict, name: str, options: AnalyzeOptions, sha256: str) -> Conversation:
    _check_status(document.get("JobStatus"))
    entries = sorted((entry for entry in document["Transcript"] if isinstance(entry, dict)),
                     key=lambda entry: float(entry["BeginOffsetMillis"]))
    channel_of = _channels(document, entries, options)
    characteristics = document.get("ConversationCharacteristics") or {}
    turns: list[Turn] = []
    turn_roles: list[str] = []
    bounds: list[tuple[float, float]] = []
    interpolated = 0
    lost_spans = 0
    for entry in entries:
        role = _participant(entry)
        label = f"spk_{channel_of[role]}"
        content = str(entry.get("Content") or "")
        begin, end = float(entry["BeginOffsetMillis"]), float(entry["EndOffsetMillis"])
        words = _analytics_words(entry.get("Items") or [], label)
        if not words and content.split():
            words, interpolated = _spread(content, begin / 1000, end / 1000, label), interpolated + 1
        if not words:
            continue
        turn = Turn(speaker=label, words=words, loudness_db=[
            round(float(score), 2) if score is not None else 0.0
            for score in entry.get("LoudnessScores") or entry.get("LoudnessScore") or []])
        if entry.get("Sentiment") in _SENTIMENT:
            turn.sentiment, turn.sentiment_scores = _SENTIMENT[entry["Sentiment"]]
        for key, attribute in _SPAN_KEYS:
            for found in entry.get(key) or []:
                span = _locate(turn.text, content, found.get("CharacterOffsets") or {})
                if span is None:
                    lost_spans += 1
                else:
                    getattr(turn, attribute).append(span)
        turns.append(turn)
        turn_roles.append(role)
        bounds.append((begin, end))
    if not turns:
        raise TranscribeFormatError("the transcript has no words", "no_speech")
    _mark_interruptions(turns, turn_roles, bounds, characteristics, options)
    speakers = [Speaker(f"spk_{channel}", _ROLES.get(role, Role.UNKNOWN), channel=channel)
                for role, channel in sorted(channel_of.items(), key=lambda item: item[1])
                if role in turn_roles]
    labels = {role: f"spk_{channel}" for role, channel in channel_of.items()}
    words = sorted((word for turn in turns for word in turn.words), key=lambda word: word.start)
    last = max(turn.end for turn in turns)
    duration = max(float(characteristics.get("TotalConversationDurationMillis") or 0) / 1000, last)
    categories = _categories(document.get("Categories") or {}, turns)
    warnings = []
    if interpolated:
        warnings.append(f"{interpolated} turn(s) have no Items: their word times are spread evenly over the turn")
    if lost_spans:
        warnings.append(f"{lost_spans} issue/action item/outcome offset(s) do not fit their turn's text: left out")
    provided = {"sentiment"} if any("Sentiment" in entry for entry in entries) else set()
    if "Categories" in document:
        provided.add("categories")
    if characteristics or any(key in entry for entry in entries for key, _ in _SPAN_KEYS):
        provided.add("issues")
    source = TranscriptSource(
        path=name, sha256=sha256, container="transcribe-json", codec="call-analytics", sample_rate=0, channels=0,
        duration=round(duration, 3), format=CALL_ANALYTICS, job_name=str(document.get("JobName") or ""),
        provided=frozenset(provided),
    )
    return Conversation(
        source=source, speakers=speakers, turns=turns, language=_language(document.get("LanguageCode"), options),
        metadata=metadata_from_filename(PurePath(name).name, sha256, options.filename_metadata),
        speaker_separation="channels",
        non_talk=_non_talk(characteristics, words, duration, options),
        speaker_time=_talk_time(characteristics, labels, words, speakers, options),
        transcriber="amazon-transcribe:call-analytics", processed_at=datetime.now(), warnings=warnings,
        categories=categories,
        redacted=(document.get("ContentMetadata") or {}).get("Output") == "Redacted",
        insights=_contact_summary(document),
    )


def _contact_summary(document: dict) -> list[Insight]:
    """Call Analytics' generative call summary (ContactSummary.AutoGenerated.OverallSummary.Content),
    as the `summary` insight: it becomes the PCA ContactSummary, and callscope's own summary is not asked."""
    summary = document.get("ContactSummary")
    content = (summary.get("AutoGenerated") or {}).get("OverallSummary") if isinstance(summary, dict) else None
    text = content.get("Content") if isinstance(content, dict) else None
    if not isinstance(text, str) or not text.strip():
        return []
    return [Insight(SUMMARY_NAME, text.strip(), "transcribe:call-analytics", title="Summary")]


def _participant(entry: dict) -> str:
    return str(entry.get("ParticipantRole") or entry.get("ParticipantId") or "UNKNOWN").upper()


def _channels(document: dict, entries: list[dict], options: AnalyzeOptions) -> dict[str, int]:
    """Participant role → channel number: the document's ChannelDefinitions, else the options'."""
    definitions = document.get("ChannelDefinitions")
    if isinstance(definitions, list) and definitions:
        channel_of = {str(item["ParticipantRole"]).upper(): int(item["ChannelId"]) for item in definitions}
    else:
        channel_of = {definition.role.value: definition.channel for definition in options.speakers.channels}
    for role in dict.fromkeys(_participant(entry) for entry in entries):
        if role not in channel_of:
            channel_of[role] = max(channel_of.values(), default=-1) + 1
    return channel_of


def _analytics_words(items: list[dict], label: str) -> list[Word]:
    words: list[Word] = []
    for item in items:
        content = str(item.get("Content", ""))
        if item.get("Type") == "punctuation":
            if words:
                words[-1] = replace(words[-1], text=words[-1].text + content)
            continue
        confidence = item.get("Confidence")
        if confidence is None:  # a redacted word carries its confidence under "Redaction"
            confidence = ((item.get("Redaction") or [{}])[0]).get("Confidence", 0.0)
        words.append(Word(" " + content, round(float(item["BeginOffsetMillis"]) / 1000, 3),
                          round(float(item["EndOffsetMillis"]) / 1000, 3), round(float(confidence), 4), label))
    return words


def _spread(content: str, start: float, end: float, label: str) -> list[Word]:
    """Words of a turn without Items: times spread evenly over the turn, confidence unknown (1.0)."""
    tokens = content.split()
    step = max(end - start, 0.0) / len(tokens)
    return [Word(" " + token, round(start + i * step, 3), round(start + (i + 1) * step, 3), 1.0, label)
            for i, token in enumerate(tokens)]


def _locate(text: str, content: str, offsets: dict) -> TextSpan | None:
    """The span at Content[begin:end] in the turn's text (the same text, unless words were rebuilt differently)."""
    begin = offsets.get("Begin", offsets.get("BeginOffsetChar"))
    end = offsets.get("End", offsets.get("EndOffsetChar"))
    if not isinstance(begin, int) or not isinstance(end, int) or not 0 <= begin < end <= len(content):
        return None
    piece = content[begin:end]
    if text[begin:end] == piece:
        return TextSpan(piece, begin, end)
    found = text.find(piece)
    return TextSpan(piece, found, found + len(piece)) if found >= 0 else None


def _mark_interruptions(turns: list[Turn], roles: list[str], bounds: list[tuple[float, float]],
                        characteristics: dict, options: AnalyzeOptions) -> None:
    """As the reference reads Call Analytics: a turn interrupts when one of its speaker's
    interruptions begins inside it. Without that section, from the word times."""
    by_interrupter = (characteristics.get("Interruptions") or {}).get("InterruptionsByInterrupter")
    if not isinstance(by_interrupter, dict):
        mark_interruptions(turns, options.turns.interruption_overlap_secs)
        return
    for turn, role, (begin, end) in zip(turns, roles, bounds):
        starts = [float(item["BeginOffsetMillis"]) for item in by_interrupter.get(role) or []]
        turn.interruption = any(begin <= start < end for start in starts)


def _categories(section: dict, turns: list[Turn]) -> list[CategoryMatch]:
    details = section.get("MatchedDetails") or {}
    names = list(dict.fromkeys([*(section.get("MatchedCategories") or []), *details]))
    matches = []
    for name in names:
        spans = tuple(
            TimeSpan(float(point["BeginOffsetMillis"]) / 1000, float(point["EndOffsetMillis"]) / 1000)
            for point in (details.get(name) or {}).get("PointsOfInterest") or []
            if "BeginOffsetMillis" in point and "EndOffsetMillis" in point
        )
        matches.append(CategoryMatch(str(name), spans))
        tagged = [index for index, turn in enumerate(turns)
                  if any(turn.start <= span.end and turn.end >= span.start for span in spans)] or [0]
        for index in tagged:
            turns[index].categories.append(str(name))
    return matches


def _non_talk(characteristics: dict, words: list[Word], duration: float, options: AnalyzeOptions) -> list[TimeSpan]:
    section = characteristics.get("NonTalkTime")
    if not isinstance(section, dict):
        return non_talk_periods(words, duration, options.turns.non_talk_min_secs)
    return [TimeSpan(float(item["BeginOffsetMillis"]) / 1000, float(item["EndOffsetMillis"]) / 1000)
            for item in section.get("Instances") or []]


def _talk_time(characteristics: dict, labels: dict[str, str], words: list[Word], speakers: list[Speaker],
               options: AnalyzeOptions) -> dict[str, float]:
    details = (characteristics.get("TalkTime") or {}).get("DetailsByParticipant")
    if not isinstance(details, dict):
        return speaker_talk_time(words, [speaker.label for speaker in speakers], options.turns.segment_pause_secs)
    present = {speaker.label for speaker in speakers}
    return {labels[role]: float((details.get(role) or {}).get("TotalTimeMillis", 0)) / 1000
            for role in labels if labels[role] in present}


# ---- both -------------------------------------------------------------------------------------------


def _check_status(status: Any) -> None:
    if status and str(status).upper() != "COMPLETED":
        raise TranscribeFormatError(f"the job's status is {status}, not COMPLETED", "incomplete_job")


def _language(code: Any, options: AnalyzeOptions) -> str:
    """"en-US" → "en" (the model keeps ISO 639-1; the PCA writer adds the region back for English)."""
    if isinstance(code, str) and code:
        return code.split("-")[0].lower()
    return options.transcription.language or "en"
