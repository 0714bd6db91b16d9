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
    from callscope.transcription.whisper import FasterWhisperTranscriber

    transcriber = FasterWhisperTranscriber(options.transcription)
    diarizer = None
    if options.diarizer == "embedded":
        from callscope.speakers.embedded import EmbeddedDiarizer

        diarizer = EmbeddedDiarizer(threads=options.transcription.threads)
    elif options.diarizer == "pyannote":
        from callscope.speakers.pyannote_backend import PyannoteDiarizer

        diarizer = PyannoteDiarizer(options.pyannote)
    return Engines(transcriber, diarizer)
