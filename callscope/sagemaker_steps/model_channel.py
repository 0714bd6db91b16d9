"""A step's model channel: the model package (callscope.models.package) the pipeline hands it, as the
options that run it. Without the channel, a step runs the models installed in its image."""

from __future__ import annotations

import shutil
from dataclasses import replace

from callscope.errors import ModelError
from callscope.models.package import ARCHIVE, EMBEDDED_DIARIZER, PYANNOTE, WHISPER, unpack
from callscope.options import AnalyzeOptions, DiarizerName
from callscope.sagemaker_steps.contract import CONTAINER_PREFIX, input_dir, local_path

MODEL_CHANNEL = "model"


def with_channel_models(options: AnalyzeOptions) -> AnalyzeOptions:
    """`options` running the package in the model channel, when there is one: a Whisper package sets
    the transcription model; a diarizer package sets the diarizer (embedded or pyannote) and its models."""
    archive = input_dir(MODEL_CHANNEL) / ARCHIVE
    if not archive.is_file():
        return options
    folder = local_path(f"{CONTAINER_PREFIX}/models/{MODEL_CHANNEL}")
    shutil.rmtree(folder, ignore_errors=True)
    manifest = unpack(archive, folder)
    if manifest.kind == WHISPER:
        return replace(options, transcription=replace(options.transcription, model=str(folder)))
    if manifest.kind == EMBEDDED_DIARIZER:
        return replace(options, diarizer=DiarizerName.EMBEDDED, diarizer_models=str(folder))
    if manifest.kind == PYANNOTE:
        pipeline = replace(options.pyannote, pipeline=str(folder))
        return replace(options, diarizer=DiarizerName.PYANNOTE, pyannote=pipeline)
    raise ModelError(f"{archive}: a model package of an unknown kind ({manifest.kind})")
