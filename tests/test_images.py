"""The two images, built by `make test-images` (containers/local/build_images.sh, podman): each serves
SageMaker's hosting contract on a real call, and the model-build pipeline runs every step in its image,
as a processing job would, and registers what it evaluated.

Skipped unless CALLSCOPE_IMAGES_TAG names the tag the images were built with (the make target sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.test_serving import _free_port, _request

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # importing sagemaker.mlops needs a region

ROOT = Path(__file__).resolve().parents[1]
TAG = os.environ.get("CALLSCOPE_IMAGES_TAG", "")
ENGINE = [str(ROOT / "containers" / "local" / "podman.sh")]
IMAGES = {kind: f"localhost/callscope-{kind}:{TAG}" for kind in ("diarization", "transcription")}
SAMPLE = ROOT / "examples" / "calls" / "pyannote-sample.wav"

pytestmark = pytest.mark.skipif(not TAG, reason="the images are not built here: `make test-images` builds and "
                                                "tests them (podman)")


@pytest.fixture(scope="module", params=sorted(IMAGES))
def served(request):
    """`docker run IMAGE serve` as SageMaker hosting runs it (no arguments: the port from the environment)."""
    kind = request.param
    assert subprocess.run([*ENGINE, "image", "exists", IMAGES[kind]]).returncode == 0, f"{IMAGES[kind]} is not built"
    port = _free_port()
    name = f"callscope-test-{kind}-{port}"
    subprocess.run([*ENGINE, "run", "--detach", "--rm", "--name", name, "--network", "host",
                    "--env", f"SAGEMAKER_BIND_TO_PORT={port}", "--env", "CALLSCOPE_THREADS=2",
                    IMAGES[kind], "serve"], check=True, capture_output=True, timeout=120)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                status, body, _ = _request(port, "GET", "/ping")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, subprocess.run([*ENGINE, "logs", name], capture_output=True,
                                                               text=True).stderr
            time.sleep(1)
        yield kind, port, body
    finally:
        subprocess.run([*ENGINE, "stop", "--time", "10", name], capture_output=True, timeout=120)


def test_each_image_serves_a_real_call(served):
    kind, port, ping = served
    assert ping["status"] == "ok"
    status, answer, _ = _request(port, "POST", "/invocations", SAMPLE.read_bytes(), {"Content-Type": "audio/wav"})
    assert status == 200, answer
    assert answer["duration"] == pytest.approx(30.0, abs=0.2)
    if kind == "transcription":
        assert len(answer["text"].split()) > 40
    else:
        assert len({segment["speaker"] for segment in answer["segments"]}) == 2
        assert answer["rttm"].startswith("SPEAKER ")


def test_the_model_build_runs_every_step_in_its_image_and_registers_what_it_evaluated(tmp_path):
    pytest.importorskip("sagemaker.mlops", reason="the pipelines extra (SageMaker SDK v3) is not installed")
    import boto3
    from moto import mock_aws

    from pipelines.model_build.pipeline import get_pipeline
    from pipelines.post_call_analytics.local_run import LocalPipelineRunner
    from tests.conftest import fake_aws_environment

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        fake_aws_environment(patch)
        definition = json.loads(get_pipeline(
            "us-east-1", role="arn:aws:iam::123456789012:role/p", default_bucket="callscope-test",
            model_package_group_name="callscope-test", diarization_image_uri=IMAGES["diarization"],
            transcription_image_uri=IMAGES["transcription"], commit="c0ffee").definition())
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        for kind in IMAGES:
            sagemaker.create_model_package_group(ModelPackageGroupName=f"callscope-test-{kind}")
        lines: list[str] = []
        runner = LocalPipelineRunner(definition, tmp_path / "s3", tmp_path / "work", sagemaker_client=sagemaker,
                                     echo=lines.append, engine=ENGINE)
        run = runner.run({"LabelledSet": str(DATA / "pyannote_sample")}, execution_id="in-images")

        processing = [step for step in run.steps if step.type == "Processing"]
        assert {step.name for step in processing} == {"PackageModels", "PrepareLabelled", "DiarizeLabelled",
                                                     "TranscribeLabelled", "EnrichLabelled", "Evaluate"}
        assert all(step.status == "Succeeded" for step in processing)
        report = run.step("Evaluate").property_files["EvaluationReport"]
        assert report["metrics"]["wer"]["value"] <= 0.35 and report["metrics"]["der"]["value"] <= 0.25
        for kind in IMAGES:
            (summary,) = sagemaker.list_model_packages(
                ModelPackageGroupName=f"callscope-test-{kind}")["ModelPackageSummaryList"]
            package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            (container,) = package["InferenceSpecification"]["Containers"]
            assert container["Image"] == IMAGES[kind]
            # the archive the evaluated steps read, as the image's PackageModels step wrote it
            assert runner.local(container["ModelDataUrl"]).is_file()
        results = list((tmp_path / "s3").rglob("*.json"))
        assert any("ConversationAnalytics" in path.read_text(errors="replace") for path in results)
