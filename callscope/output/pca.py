"""The PCA output document (seeds/003), written as the reference system's code writes it.

Where the reference code and its doc differ, the code wins (shared/data/SOURCES.md): Duration is a
string, the boolean-ish sentiment and edit flags are 0/1 integers, turns carry ActionItemsDetected
and OutcomesDetected, and ConversationTime falls back to ProcessTime when the file name has none.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import PurePath
from typing import Any

from callscope.analytics.sentiment_trends import POLARITY_THRESHOLD, sentiment_trends
from callscope.inputs.source import TranscriptSource, is_chat
from callscope.insights.results import SUMMARY_NAME, display_text
from callscope.model import Conversation, Insight, SentimentScores, Speaker, SpeechRegion, TextSpan, Turn

# Reference-system placeholder for metadata the file name did not carry.
_MISSING = "None"


def to_pca(conversation: Conversation) -> dict[str, Any]:
    analytics = _conversation_analytics(conversation)
    if conversation.insights:
        analytics.update(_insight_fields(conversation.insights))
    return {
        "ConversationAnalytics": analytics,
        "SpeechSegments": _speech_segments(conversation),
    }


def to_pca_json(conversation: Conversation) -> str:
    return json.dumps(to_pca(conversation), indent=2, ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def pca_schema() -> dict[str, Any]:
    """The JSON Schema of the output document, shipped inside the package."""
    return json.loads(resources.files("callscope.schemas").joinpath("pca.schema.json").read_text())


def validation_errors(document: dict[str, Any]) -> list[str]:
    """Schema violations in a PCA document, one readable line each (empty when valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(pca_schema())
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda item: list(item.absolute_path))
    ]


def _conversation_analytics(conversation: Conversation) -> dict[str, Any]:
    metadata = conversation.metadata
    processed = conversation.processed_at or datetime.now()
    words = conversation.words
    return {
        "GUID": metadata.guid or _MISSING,
        "Agent": metadata.agent or _MISSING,
        "Agents": [metadata.agent] if metadata.agent else [],
        "Cust": metadata.customer or _MISSING,
        "ConversationTime": str(metadata.conversation_time or processed),
        "ConversationLocation": metadata.location or "Etc/UTC",
        "ProcessTime": str(processed),
        # A Transcribe job's own locale ("en-GB") when it wrote the words; else from the language.
        "LanguageCode": (job.language_code if (job := conversation.transcription_job) else "")
                        or _language_code(conversation.language),
        "Duration": f"{conversation.source.duration:.2f}",
        "EntityRecognizerName": conversation.enrichment.get("entities", ""),
        "SpeakerLabels": [_speaker_label(speaker) for speaker in conversation.speakers],
        "SentimentTrends": sentiment_trends(conversation),
        "SpeakerTime": _speaker_time(conversation),
        "CustomEntities": _custom_entities(conversation),
        "CategoriesDetected": [
            {"Name": match.name, "Instances": max(len(match.spans), 1),
             "Timestamps": [{"BeginOffsetSecs": round(span.start, 3), "EndOffsetSecs": round(span.end, 3)}
                            for span in match.spans]}
            for match in conversation.categories
        ],
        "IssuesDetected": [_span(span) for turn in conversation.turns for span in turn.issues],
        "ActionItemsDetected": [_span(span) for turn in conversation.turns for span in turn.action_items],
        "OutcomesDetected": [_span(span) for turn in conversation.turns for span in turn.outcomes],
        "SourceInformation": [
            _transcript_source_info(conversation.source, conversation, words)
            if isinstance(conversation.source, TranscriptSource) else
            {"TranscribeJobInfo": _transcribe_job_info(conversation, processed, words)}
        ],
    }


def _transcribe_job_info(conversation: Conversation, processed: datetime, words: list) -> dict[str, Any]:
    """Where the words came from: our own recogniser ("standard", the file itself as the job), or the
    Amazon Transcribe job of `--asr transcribe` as its description reports it."""
    source, job = conversation.source, conversation.transcription_job
    info: dict[str, Any] = {
        "TranscriptionJobName": job.name if job else PurePath(source.path).name,
        "TranscribeApiType": job.api_type if job else "standard",
        "CompletionTime": (job.completion_time if job else "") or str(processed),
    }
    for key, value in (("CLMName", job.language_model_name if job else ""),
                       ("VocabularyName", job.vocabulary_name if job else conversation.vocabulary),
                       ("VocabularyFilter", job.vocabulary_filter if job else "")):
        if value:
            info[key] = value
    return info | {
        "MediaFormat": (job.media_format if job else "") or source.container,
        "MediaSampleRateHertz": (job.media_sample_rate if job else 0) or source.sample_rate,
        "MediaFileUri": source.path,  # the recording here, which the dashboard plays
        "MediaOriginalUri": (job.media_uri if job else "") or source.path,  # the S3 object the job read
        "RedactedTranscript": conversation.redacted,
        "ChannelIdentification": int(conversation.speaker_separation == "channels"),
        "AverageWordConfidence": round(sum(word.confidence for word in words) / max(len(words), 1), 4),
    }


def _transcript_source_info(source: TranscriptSource, conversation: Conversation, words: list) -> dict[str, Any]:
    """A chat or a Transcribe document has no media to describe (TranscribeJobInfo requires the
    sample rate): callscope's own SourceInformation item says what was read, and whether its
    times are estimated (chats without timestamps)."""
    info: dict[str, Any] = {
        "SourceFile": source.path,
        "SourceFormat": source.format,
        "Channel": source.channel,
        "SyntheticTimes": source.synthetic_times,
        "RedactedTranscript": conversation.redacted,
        "AverageWordConfidence": round(sum(word.confidence for word in words) / max(len(words), 1), 4),
    }
    if source.channel == "VOICE":
        info["TranscriptionJobName"] = source.job_name
        info["TranscribeApiType"] = "analytics" if source.codec == "call-analytics" else "standard"
    return {"TranscriptSourceInfo": info}


def _speaker_label(speaker: Speaker) -> dict[str, Any]:
    label: dict[str, Any] = {"Speaker": speaker.label, "DisplayText": speaker.display_text}
    if speaker.role_confidence is not None:
        label["RoleConfidence"] = speaker.role_confidence
        label["RoleEvidence"] = list(speaker.role_evidence)
    return label


def _speaker_time(conversation: Conversation) -> dict[str, Any]:
    times: dict[str, Any] = {
        label: {"TotalTimeSecs": round(seconds, 3)} for label, seconds in conversation.speaker_time.items()
    }
    if is_chat(conversation):
        return times  # nobody talks in a chat: no talk or non-talk time (as the reference omits it for standard jobs)
    times["NonTalkTime"] = {
        "TotalTimeSecs": round(sum(span.duration for span in conversation.non_talk), 3),
        "Instances": [
            {
                "BeginOffsetSecs": round(span.start, 3),
                "EndOffsetSecs": round(span.end, 3),
                "DurationSecs": round(span.duration, 3),
            }
            for span in conversation.non_talk
        ],
    }
    return times


def _speech_segments(conversation: Conversation) -> list[dict[str, Any]]:
    """The turns, and in time order among them the speech without words (flagged SpeechWithoutWords)."""
    segments = [(turn.start, _speech_segment(turn, conversation.language)) for turn in conversation.turns]
    segments += [(region.start, _wordless_segment(region, conversation.language))
                 for region in conversation.speech_regions if region.without_words]
    return [segment for _, segment in sorted(segments, key=lambda item: item[0])]


def _wordless_segment(region: SpeechRegion, language: str) -> dict[str, Any]:
    """Speech the recogniser gave no words for: a segment with its time, speaker and loudness, no text."""
    return {
        "SegmentStartTime": round(region.start, 3),
        "SegmentEndTime": round(region.end, 3),
        "SegmentSpeaker": region.speaker,
        "SegmentInterruption": False,
        "IVRSegment": False,
        "LanguageCode": _language_code(language),
        "OriginalText": "",
        "DisplayText": "",
        "TextEdited": 0,
        "LoudnessScores": list(region.loudness_db),
        "SentimentIsPositive": 0,
        "SentimentIsNegative": 0,
        "SentimentScore": 0.0,
        "BaseSentimentScores": [],
        "EntitiesDetected": [],
        "CategoriesDetected": [],
        "FollowOnCategories": [],
        "IssuesDetected": [],
        "ActionItemsDetected": [],
        "OutcomesDetected": [],
        "WordConfidence": [],
        "SpeechWithoutWords": True,
    }


def _speech_segment(turn: Turn, language: str) -> dict[str, Any]:
    text = turn.text
    score = abs(turn.sentiment) if turn.sentiment is not None else 0.0
    return {
        "SegmentStartTime": round(turn.start, 3),
        "SegmentEndTime": round(turn.end, 3),
        "SegmentSpeaker": turn.speaker,
        "SegmentInterruption": turn.interruption,
        "IVRSegment": False,
        "LanguageCode": _language_code(turn.language or language),
        "OriginalText": text,
        # The English text analytics ran on: the translation of a turn spoken in another language.
        "DisplayText": turn.analysis_text,
        "TextEdited": 0,
        "LoudnessScores": turn.loudness_db,
        "SentimentIsPositive": int(turn.sentiment is not None and turn.sentiment >= POLARITY_THRESHOLD),
        "SentimentIsNegative": int(turn.sentiment is not None and turn.sentiment <= -POLARITY_THRESHOLD),
        "SentimentScore": round(score, 3),
        "BaseSentimentScores": _base_scores(turn.sentiment_scores),
        "EntitiesDetected": [
            {"Type": e.type, "Text": e.text, "BeginOffset": e.begin, "EndOffset": e.end, "Score": round(e.score, 4)}
            for e in turn.entities
        ],
        "CategoriesDetected": list(turn.categories),
        "FollowOnCategories": list(turn.follow_on_categories),
        "IssuesDetected": [_span(span) for span in turn.issues],
        "ActionItemsDetected": [_span(span) for span in turn.action_items],
        "OutcomesDetected": [_span(span) for span in turn.outcomes],
        "WordConfidence": [
            {
                # As the reference writes them: no leading space on a turn's first word; later
                # words keep Whisper's spacing ("B", "-I", "-V" spell a name without spaces).
                "Text": word.text.lstrip() if index == 0 else word.text,
                "Confidence": word.confidence,
                "StartTime": word.start,
                "EndTime": word.end,
            }
            for index, word in enumerate(turn.words)
        ],
    }


def _span(span: TextSpan) -> dict[str, Any]:
    return {"Text": span.text, "BeginOffset": span.begin, "EndOffset": span.end}


def _base_scores(scores: SentimentScores | None) -> dict[str, float] | list:
    """As the reference writes them: the class probabilities scaled by 5, or [] when unscored."""
    if scores is None:
        return []
    return {"Positive": round(5 * scores.positive, 3), "Negative": round(5 * scores.negative, 3),
            "Neutral": round(5 * scores.neutral, 3)}


def _custom_entities(conversation: Conversation) -> list[dict[str, Any]]:
    """Every entity type of the call with its count and distinct values, as the reference summarises them."""
    values: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for turn in conversation.turns:
        for entity in turn.entities:
            counts[entity.type] = counts.get(entity.type, 0) + 1
            if entity.text not in values.setdefault(entity.type, []):
                values[entity.type].append(entity.text)
    return [{"Name": name, "Instances": counts[name], "Values": values[name]} for name in counts]


def _language_code(language: str) -> str:
    """Whisper's "en" → the reference's "en-US"; other languages keep Whisper's code."""
    return {"en": "en-US"}.get(language, language)


def _insight_fields(insights: list[Insight]) -> dict[str, Any]:
    """Summary (title -> readable text: the reference's GenAI summary panel), ContactSummary (the
    shape of Transcribe Call Analytics' generative summary) and Insights (a callscope extension:
    every answer as typed JSON, the backend that gave it, or why there is none)."""
    fields: dict[str, Any] = {
        "Summary": {insight.heading: display_text(insight.value) for insight in insights if insight.value is not None},
    }
    overall = next((insight for insight in insights if insight.name == SUMMARY_NAME and insight.value is not None),
                   None)
    if overall is not None:
        fields["ContactSummary"] = {"AutoGenerated": {"OverallSummary": {"Content": display_text(overall.value)}}}
    fields["Insights"] = [
        {"Name": insight.name, "Title": insight.heading, "Value": insight.value, "Backend": insight.backend,
         "Error": insight.error}
        for insight in insights
    ]
    return fields
