"""Step 5, evaluate: WER and DER of the labelled set's results against its references, written as
`evaluation.json`; the pipeline's condition step reads it to decide whether to register the models.

Inputs: `results` (the enrich step's output for the labelled calls: PCA JSON and RTTM), `diarized`
(the diarize step's bundles) and `references` (the labelled set: `<call>.rttm` speaker turns and
`<call>.stm` words with speakers). WER and cpWER score the transcripts; DER scores the diarizer's own
segments where it ran (mono calls) and the transcript's speaker regions elsewhere (channels).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from callscope.analysis.stages import SpeakerTimeline
from callscope.evaluation.diarization import evaluate_rttm
from callscope.evaluation.words import evaluate_words
from callscope.sagemaker_steps.bundle import CallBundle, bundles_in
from callscope.sagemaker_steps.contract import input_dir, output_dir
from callscope.sagemaker_steps.step import main_guard

REPORT_NAME = "evaluation.json"


def evaluate() -> dict:
    results, references = input_dir("results"), input_dir("references")
    words = evaluate_words(results, references)
    with tempfile.TemporaryDirectory() as folder:
        diarization = evaluate_rttm(_diarizer_rttm(input_dir("diarized"), results, Path(folder)), references)
    at_zero, at_quarter = diarization.pooled_at(0.0), diarization.pooled_at(0.25)
    report = {
        # The shape of SageMaker model-quality reports: metric -> {"value": ...}; JsonGet reads these paths.
        "metrics": {
            "wer": {"value": words.pooled_wer.rate},
            "cpwer": {"value": words.pooled_cpwer.rate},
            "der": {"value": at_zero.der, "collar": 0.0},
            "der_collar_0_25": {"value": at_quarter.der, "collar": 0.25},
            "jer": {"value": at_zero.jer},
        },
        "files": {"transcripts": len(words.files), "diarizations": len(diarization.files)},
        "details": {"words": words.to_dict(), "diarization": diarization.to_dict()},
    }
    if any(report["metrics"][name]["value"] is None for name in ("wer", "der")):
        raise ValueError(f"the labelled set in {references} gave no reference words or speech to score")
    (output_dir("evaluation") / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    print("evaluation: " + ", ".join(f"{name} {value['value']:.4f}" for name, value in report["metrics"].items()
                                      if value["value"] is not None))
    return report


def _diarizer_rttm(bundles: Path, results: Path, folder: Path) -> Path:
    """One hypothesis RTTM per call, named like the call's results, in `folder`."""
    for path in bundles_in(bundles):
        bundle = CallBundle.read(path)
        stem = Path(bundle.source).with_suffix("")
        target = folder / stem.with_suffix(".rttm")
        target.parent.mkdir(parents=True, exist_ok=True)
        timeline = SpeakerTimeline.from_dict(bundle.results.get("timeline", {"segments": []}))
        if timeline.segments:
            target.write_text(timeline.to_rttm(stem.name.replace(" ", "_")))
        elif (results / stem.with_suffix(".rttm")).is_file():
            shutil.copy(results / stem.with_suffix(".rttm"), target)
    return folder


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    main_guard(evaluate)


if __name__ == "__main__":
    main()
