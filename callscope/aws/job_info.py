"""What a finished Amazon Transcribe job's description says about it, as callscope's TranscriptionJob
(the PCA TranscribeJobInfo): its name, API, completion time, media format and sample rate, and the
custom vocabulary, filter and language model it used."""

from __future__ import annotations

from typing import Any

from callscope.model import TranscriptionJob


def transcription_job(description: dict[str, Any], *, redacted: bool = False) -> TranscriptionJob:
    """From a TranscriptionJob or CallAnalyticsJob description (GetTranscriptionJob /
    GetCallAnalyticsJob). With language identification the names in force are those the
    LanguageIdSettings give for the language the service identified."""
    analytics = "CallAnalyticsJobName" in description
    settings = description.get("Settings") or {}
    language = str(description.get("LanguageCode") or "")
    per_language = ((settings.get("LanguageIdSettings") or description.get("LanguageIdSettings") or {}).get(language)
                    or {})

    def named(key: str, *places: dict[str, Any]) -> str:
        return next((str(place[key]) for place in (per_language, *places) if place.get(key)), "")

    filter_name = named("VocabularyFilterName", settings)
    method = str(settings.get("VocabularyFilterMethod") or per_language.get("VocabularyFilterMethod") or "")
    completed = description.get("CompletionTime")
    return TranscriptionJob(
        name=str(description.get("CallAnalyticsJobName" if analytics else "TranscriptionJobName") or ""),
        api_type="analytics" if analytics else "standard",
        completion_time=str(completed) if completed else "",  # str(datetime), as the reference writes it
        media_format=str(description.get("MediaFormat") or ""),
        media_sample_rate=int(description.get("MediaSampleRateHertz") or 0),
        media_uri=str((description.get("Media") or {}).get("MediaFileUri") or ""),
        vocabulary_name=named("VocabularyName", settings),
        vocabulary_filter=f"{filter_name} [{method}]" if filter_name and method else filter_name,
        language_model_name=named("LanguageModelName", description.get("ModelSettings") or {}, settings),
        redacted=redacted,
        language_code=language,
    )
