"""The diarization model behind /invocations: who spoke when, as a timeline and as RTTM.

The model directory decides the backend: a pyannote pipeline (its `config.yaml` and the model
folders it names) runs pyannote.audio; anything else, an empty directory included, runs the
embedded diarizer, whose ONNX models ship inside callscope.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from callscope.analysis.engines import load_diarizer
from callscope.analysis.stages import SpeakerTimeline, diarize_call, load_audio
from callscope.options import AnalyzeOptions, PyannoteOptions
from callscope.serving.inputs import Invocation, RequestError, integer
from callscope.speakers.diarization import Diarizer, SpeakerCount
from callscope.speakers.segmentation import SEGMENTATION_FILE


@dataclass(frozen=True)
class DiarizationRequest:
    count: SpeakerCount
    file_id: str  # names the recording in the RTTM lines

    @classmethod
    def from_invocation(cls, invocation: Invocation) -> DiarizationRequest:
        parameters = invocation.parameters
        minimum, maximum = integer(parameters, "min_speakers"), integer(parameters, "max_speakers")
        try:
            if parameters.get("speakers") == "auto" or minimum is not None or maximum is not None:
                if parameters.get("speakers") not in (None, "auto"):
                    raise RequestError("give either speakers or min_speakers/max_speakers, not both")
                default = SpeakerCount(exact=None)
                count = SpeakerCount(None, minimum or default.minimum, maximum or max(default.maximum, minimum or 1))
            else:
                exact = integer(parameters, "speakers")
                count = SpeakerCount() if exact is None else SpeakerCount(exact=exact)  # default: two parties
        except ValueError as error:  # SpeakerCount's own bounds check
            raise RequestError(str(error)) from None
        file_id = parameters.get("file_id", invocation.name)
        if not isinstance(file_id, str) or not file_id.strip():
            raise RequestError("file_id must be a non-empty string")
        return cls(count, "_".join(file_id.split()))


@dataclass(frozen=True)
class DiarizationResult:
    timeline: SpeakerTimeline
    duration: float  # seconds of audio
    rttm: str

    def to_dict(self) -> dict[str, Any]:
        speakers = list(dict.fromkeys(segment.speaker for segment in self.timeline.segments))
        return {**self.timeline.to_dict(), "speakers": speakers, "duration": round(self.duration, 3), "rttm": self.rttm}


class DiarizationModel:
    fields = frozenset({"speakers", "min_speakers", "max_speakers", "file_id"})

    def __init__(self, diarizer: Diarizer, options: AnalyzeOptions) -> None:
        self.diarizer = diarizer
        self.options = options
        self.name = f"diarization:{diarizer.name}"

    def invoke(self, invocation: Invocation) -> dict[str, Any]:
        request = DiarizationRequest.from_invocation(invocation)
        options = replace(self.options, speaker_count=request.count)
        audio = load_audio(invocation.audio, options)
        timeline = diarize_call(audio, options, self.diarizer)  # empty for stereo: each channel is a speaker
        return DiarizationResult(timeline, audio.duration, timeline.to_rttm(request.file_id)).to_dict()


def load(model_dir: Path, threads: int = 0, device: str = "auto", concurrency: int = 1) -> DiarizationModel:
    """pyannote when `model_dir` holds a pipeline's config.yaml; the embedded diarizer, with the models
    of `model_dir` when it holds them (a model package) or else those installed with callscope.
    `concurrency` needs nothing here: the ONNX sessions and torch modules run calls from several threads."""
    options = AnalyzeOptions()
    options = replace(options, transcription=replace(options.transcription, cpu_threads=threads))
    if (model_dir / "config.yaml").is_file():
        import torch

        if threads:
            torch.set_num_threads(threads)
        options = replace(options, diarizer="pyannote",
                          pyannote=PyannoteOptions(pipeline=str(model_dir), device=device))
    elif (model_dir / SEGMENTATION_FILE).is_file():
        options = replace(options, diarizer_models=str(model_dir))
    return DiarizationModel(load_diarizer(options), options)
