"""The models a run needs, loaded once per process from the options."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.options import AnalyzeOptions
from callscope.speakers.diarization import Diarizer
from callscope.transcription.base import Transcriber

DIARIZERS = ("embedded", "pyannote", "none")


@dataclass
class Engines:
    transcriber: Transcriber
    diarizer: Diarizer | None  # None: mono calls keep one speaker


def load_engines(options: AnalyzeOptions) -> Engines:
    return Engines(load_transcriber(options), load_diarizer(options))


def load_transcriber(options: AnalyzeOptions) -> Transcriber:
    from callscope.transcription.whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(options.transcription)


def load_diarizer(options: AnalyzeOptions) -> Diarizer | None:
    """The diarizer the options name; None for "none" (mono calls keep one speaker)."""
    if options.diarizer == "embedded":
        from callscope.speakers.embedded import EmbeddedDiarizer

        return EmbeddedDiarizer(threads=options.transcription.threads)
    if options.diarizer == "pyannote":
        from callscope.speakers.pyannote_backend import PyannoteDiarizer

        return PyannoteDiarizer(options.pyannote)
    return None
