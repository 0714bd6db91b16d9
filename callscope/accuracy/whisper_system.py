"""faster-whisper as a configuration under test: the same stages as `callscope analyze` (decode,
transcribe, and diarize when the reference says who spoke), without enrichment or insights."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from pathlib import Path

from callscope.accuracy.systems import AsrSettings
from callscope.analysis.call import analyze_call
from callscope.analysis.engines import load_diarizer, load_transcriber
from callscope.evaluation.words import ReferenceSegment, segments_from_conversation
from callscope.flags import options_from_flags
from callscope.options import AnalyzeOptions
from callscope.transcription.vocabulary import Vocabulary


def whisper_asr(*, model: str, beam_size: int = 5, compute_type: str = "int8", vad: bool = True,
                language: str = "en", vocabulary: Vocabulary | None = None, diarizer: str = "embedded",
                threads: int = 0) -> WhisperAsr:
    """A configuration from its settings (the flags of `eval asr`, or a lab row's settings)."""
    options = options_from_flags(model=model, compute_type=compute_type, beam_size=beam_size, language=language,
                                 vad=vad, translate=False, threads=threads, diarizer=diarizer)
    return WhisperAsr(replace(options, transcription=replace(options.transcription, vocabulary=vocabulary)))


def vocabulary_key(vocabulary: Vocabulary | None) -> str:
    """"name#hash" of a vocabulary's entries (same name, other words: another configuration); "" for none."""
    if vocabulary is None:
        return ""
    digest = hashlib.sha256(json.dumps([asdict(entry) for entry in vocabulary.entries]).encode()).hexdigest()[:8]
    return f"{vocabulary.name or 'vocabulary'}#{digest}"


class WhisperAsr:
    def __init__(self, options: AnalyzeOptions) -> None:
        self.options = options
        transcription = options.transcription
        self.vocabulary = transcription.vocabulary
        self.settings = AsrSettings("faster-whisper", transcription.model, {
            "beam_size": transcription.beam_size, "vad": transcription.vad, "compute_type": transcription.compute_type,
            "language": transcription.language or "auto", "vocabulary": vocabulary_key(transcription.vocabulary),
            "diarizer": options.diarizer,
        })
        self._transcriber = None
        self._diarizer = None

    def with_vocabulary(self, vocabulary: Vocabulary | None) -> WhisperAsr:
        return WhisperAsr(replace(self.options,
                                  transcription=replace(self.options.transcription, vocabulary=vocabulary)))

    def transcribe(self, audio: Path, sha256: str, speakers: bool) -> list[ReferenceSegment]:
        if self._transcriber is None:  # loaded on the first recording that needs it, once
            self._transcriber = load_transcriber(self.options)
        diarizer = None
        if speakers:
            if self._diarizer is None:
                self._diarizer = load_diarizer(self.options)
            diarizer = self._diarizer
        conversation = analyze_call(audio, self._transcriber, self.options, sha256, diarizer=diarizer)
        return segments_from_conversation(conversation)
