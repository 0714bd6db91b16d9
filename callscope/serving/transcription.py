"""The transcription model behind /invocations: the words of a call, with speakers when a timeline comes along.

The model directory decides the Whisper model: a CTranslate2 model (`model.bin` and its files), or,
when it holds none, the tiny.en model installed with callscope's `local` extra.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from callscope.analysis.stages import (
    RecognisedSpeech,
    SpeakerTimeline,
    attribute_speakers,
    complete_speech,
    load_audio,
    transcribe_call,
)
from callscope.options import BUNDLED_MODEL, AnalyzeOptions, TranscriptionOptions
from callscope.serving.inputs import Invocation, RequestError
from callscope.transcription.whisper import FasterWhisperTranscriber, resolve_device


@dataclass(frozen=True)
class TranscriptionRequest:
    language: str | None  # a language code; None: Whisper detects it
    timeline: SpeakerTimeline | None  # who spoke when, from the diarization container

    @classmethod
    def from_invocation(cls, invocation: Invocation, default_language: str | None) -> TranscriptionRequest:
        parameters = invocation.parameters
        language = parameters.get("language", default_language)
        if language == "auto":
            language = None
        elif language is not None and not (
                isinstance(language, str) and language.isalpha() and len(language) in (2, 3)):
            raise RequestError("language must be a language code such as 'en', 'auto' or null")
        timeline = parameters.get("timeline")
        return cls(language, None if timeline is None else _timeline(timeline))


def _timeline(data: Any) -> SpeakerTimeline:
    try:
        timeline = SpeakerTimeline.from_dict(data)
        valid = all(isinstance(s.start, (int, float)) and isinstance(s.end, (int, float)) and isinstance(s.speaker, str)
                    for s in timeline.segments)
    except (KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        raise RequestError('timeline must be a diarization result: {"segments": [{"start": 0.5, "end": 2.0, '
                           '"speaker": "spk_0"}, ...]}')
    return timeline


@dataclass(frozen=True)
class TranscriptionResult:
    speech: RecognisedSpeech
    duration: float  # seconds of audio

    @property
    def text(self) -> str:
        groups = sorted(self.speech.groups, key=lambda group: group[0].start)  # channels interleave in time
        return "".join(word.text for group in groups for word in group).strip()

    def to_dict(self) -> dict[str, Any]:
        return {**self.speech.to_dict(), "text": self.text, "duration": round(self.duration, 3)}


class TranscriptionModel:
    fields = frozenset({"language", "timeline"})

    def __init__(self, transcriber: FasterWhisperTranscriber, options: AnalyzeOptions) -> None:
        self.transcriber = transcriber
        self.options = options
        self.name = transcriber.name

    def invoke(self, invocation: Invocation) -> dict[str, Any]:
        request = TranscriptionRequest.from_invocation(invocation, self.transcriber.options.language)
        audio = load_audio(invocation.audio, self.options)
        transcriber = self._transcriber(request.language)
        speech = transcribe_call(invocation.audio, audio, self.options, transcriber)
        timeline = request.timeline or SpeakerTimeline()
        speech = complete_speech(attribute_speakers(speech, timeline), timeline, audio, self.options, transcriber)
        return TranscriptionResult(speech, audio.duration).to_dict()

    def _transcriber(self, language: str | None) -> FasterWhisperTranscriber:
        if language == self.transcriber.options.language:
            return self.transcriber
        # A shallow copy shares the loaded model: only the options it reads per call differ.
        other = copy.copy(self.transcriber)
        other.options = replace(self.transcriber.options, language=language)
        return other


def load(model_dir: Path, threads: int = 0, device: str = "auto", concurrency: int = 1) -> TranscriptionModel:
    """Whisper from `model_dir` when it holds a CTranslate2 model.bin, the bundled tiny.en otherwise;
    with a Whisper worker for each of `concurrency` invocations at once (at least as many as a call uses)."""
    device = resolve_device(device)
    transcription = TranscriptionOptions(
        model=str(model_dir) if (model_dir / "model.bin").is_file() else BUNDLED_MODEL,
        device=device,
        compute_type="float16" if device == "cuda" else "int8",  # int8: as measured on CPU (ENGINEERING.md §2)
        cpu_threads=threads,
    )
    options = replace(AnalyzeOptions(), transcription=transcription, diarizer="none")
    workers = max(transcription.workers_on(device), concurrency)
    return TranscriptionModel(FasterWhisperTranscriber(transcription, workers=workers), options)
