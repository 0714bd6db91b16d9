"""pyannote.audio as a diarization backend, for users who have its pipeline weights.

Install with `pip install "callscope[pyannote]"`. The pipeline comes from a local directory
(holding its `config.yaml` and the model folders it names) or a hub name with a token (`HF_TOKEN`),
e.g. the gated `pyannote/speaker-diarization-community-1`. Audio is passed pre-loaded as a
waveform tensor, never as a path: that skips pyannote's own decoder (torchcodec) and is several
times faster. pyannote's telemetry is switched off before pyannote.audio is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from callscope.errors import ModelError, first_line
from callscope.options import PyannoteOptions
from callscope.speakers.assign import SpeakerSegment
from callscope.speakers.diarization import SpeakerCount

_RATE = 16000
TOKEN_VARIABLE = "HF_TOKEN"


def _import_pipeline_class():
    # pyannote.audio reads this variable when it is imported and sends usage metrics unless it is off.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    try:
        from pyannote.audio import Pipeline
    except ImportError as error:
        raise ModelError(
            f"the pyannote diarizer needs pyannote.audio: pip install 'callscope[pyannote]' ({error})"
        ) from None
    except OSError as error:  # a compiled extension (torchaudio, torchcodec) built for another torch or CUDA
        raise ModelError(f"pyannote.audio is installed but cannot load: {first_line(error)}") from None
    return Pipeline


def speaker_arguments(count: SpeakerCount) -> dict[str, int]:
    """The speaker-count arguments of a pyannote pipeline call."""
    if count.exact is not None:
        return {"num_speakers": count.exact}
    return {"min_speakers": count.minimum, "max_speakers": count.maximum}


class PyannoteDiarizer:
    name = "pyannote"

    def __init__(self, options: PyannoteOptions = PyannoteOptions(), token: str | None = None) -> None:
        pipeline_class = _import_pipeline_class()
        token = token or os.environ.get(TOKEN_VARIABLE) or None
        local = Path(options.pipeline).expanduser()
        source = str(local) if local.exists() else options.pipeline
        try:
            pipeline = pipeline_class.from_pretrained(source, token=token)
        except Exception as error:  # hub, YAML and checkpoint errors all mean the same here: no pipeline
            raise ModelError(f"cannot load pyannote pipeline '{options.pipeline}': {first_line(error)}") from None
        if pipeline is None:  # pyannote returns None when the hub refuses (gated model, no token)
            raise ModelError(
                f"cannot load pyannote pipeline '{options.pipeline}': not a local directory, and the hub refused it "
                f"(accept its conditions on the hub and set {TOKEN_VARIABLE})"
            )
        self.pipeline = self._to_device(pipeline, options.device)

    @staticmethod
    def _to_device(pipeline, device: str):
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            pipeline.to(torch.device(device))
        except (RuntimeError, AssertionError) as error:
            raise ModelError(f"cannot move the pyannote pipeline to {device}: {first_line(error)}") from None
        return pipeline

    def diarize(self, samples: np.ndarray, count: SpeakerCount = SpeakerCount()) -> list[SpeakerSegment]:
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1))
        output = self.pipeline({"waveform": waveform, "sample_rate": _RATE}, **speaker_arguments(count))
        # pyannote.audio 4 returns a DiarizeOutput; 3.x pipelines return the Annotation itself.
        annotation = getattr(output, "speaker_diarization", output)
        return [
            SpeakerSegment(round(turn.start, 3), round(turn.end, 3), str(speaker))
            for turn, _, speaker in annotation.itertracks(yield_label=True)
        ]
