"""Step 0 of the model-build pipeline, package (transcription image): the models the evaluated steps
run, as model packages (callscope.models.package): `transcription/model.tar.gz`, the Whisper model
--model names, and `diarization/model.tar.gz`, the embedded diarizer's models or the pyannote pipeline
directory --pyannote-pipeline names. The diarize, transcribe and enrich steps read them through their
model channel, and the register steps register exactly these archives."""

from __future__ import annotations

import argparse
from pathlib import Path

from callscope.errors import ModelError
from callscope.flags import flag_named, options_from_values
from callscope.models import model_file
from callscope.models.package import ARCHIVE, EMBEDDED_DIARIZER, PYANNOTE, WHISPER, files_under, pack
from callscope.options import AnalyzeOptions, DiarizerName
from callscope.sagemaker_steps.contract import CONTAINER_PREFIX, local_path, output_dir
from callscope.sagemaker_steps.step import analysis_arguments, main_guard
from callscope.speakers.embedding import ENCODER_FILE
from callscope.speakers.segmentation import SEGMENTATION_FILE
from callscope.transcription.models import resolve_model

FLAGS = tuple(flag_named(name) for name in ("model", "diarizer", "pyannote-pipeline"))


def package(options: AnalyzeOptions) -> None:
    whisper = Path(resolve_model(options.transcription.model))
    if not whisper.is_dir():  # a hub name: fetched at run time, nothing here to package
        raise ModelError(f"--model {options.transcription.model}: only a model installed with callscope or a "
                         "local CTranslate2 directory can be packaged")
    transcription = pack(files_under(whisper), WHISPER, options.transcription.model,
                         output_dir("transcription") / ARCHIVE)
    if options.diarizer == DiarizerName.EMBEDDED:
        files = {name: model_file(name) for name in (SEGMENTATION_FILE, ENCODER_FILE)}
        diarization = pack(files, EMBEDDED_DIARIZER, "embedded", output_dir("diarization") / ARCHIVE)
    elif options.diarizer == DiarizerName.PYANNOTE:
        pipeline = Path(options.pyannote.pipeline)
        if pipeline.is_relative_to(CONTAINER_PREFIX):  # an input channel (the pipeline's `pyannote` input)
            pipeline = local_path(str(pipeline))
        if not (pipeline / "config.yaml").is_file():
            raise ModelError(f"--pyannote-pipeline {pipeline}: a pipeline to package must be a local directory "
                             "with its config.yaml")
        diarization = pack(files_under(pipeline), PYANNOTE, pipeline.name, output_dir("diarization") / ARCHIVE)
    else:
        raise ModelError("--diarizer none: there is no diarization model to package and register")
    for manifest in (transcription, diarization):
        print(f"packaged {manifest.kind} {manifest.name}: {len(manifest.files)} files")


def main(argv: list[str] | None = None) -> None:
    args = analysis_arguments(argparse.ArgumentParser(description=__doc__), FLAGS).parse_args(argv)
    main_guard(lambda: package(options_from_values(vars(args), FLAGS)))


if __name__ == "__main__":
    main()
