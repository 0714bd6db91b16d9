"""Both pipeline definitions run on this machine, step by step: the model build registers exactly the
packages it evaluated, and only if the evaluation passes; once they are approved, the batch run on the
sample calls runs them and gives what `callscope analyze` gives, and a bad call does not stop it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # importing sagemaker.mlops needs a region
pytest.importorskip("sagemaker.mlops", reason="the pipelines extra (SageMaker SDK v3) is not installed")

from callscope.cli import main  # noqa: E402
from pipelines.post_call_analytics.local_run import LocalPipelineFailure, LocalPipelineRunner  # noqa: E402
from tests.conftest import DATA  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "calls"
# Fields that say when a call was processed: they differ between any two runs.
_VOLATILE = ("ProcessTime", "ConversationTime", "CompletionTime")


IMAGES = {kind: f"111.dkr.ecr.us-east-1.amazonaws.com/{kind}:c0ffee" for kind in ("diarization", "transcription")}
COMMON = {"role": "arn:aws:iam::123456789012:role/p", "default_bucket": "callscope-test",
          "model_package_group_name": "callscope-test"}


@pytest.fixture(scope="module")
def build_definition(mocked_aws) -> dict:
    from pipelines.model_build.pipeline import get_pipeline

    pipeline = get_pipeline("us-east-1", **COMMON, diarization_image_uri=IMAGES["diarization"],
                            transcription_image_uri=IMAGES["transcription"], commit="c0ffee")
    return json.loads(pipeline.definition())


@pytest.fixture(scope="module")
def build_run(build_definition, tmp_path_factory):
    """The model-build pipeline on the pyannote sample as the labelled set, registering into moto."""
    import boto3

    root = tmp_path_factory.mktemp("pipeline")
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    for kind in ("diarization", "transcription"):
        sagemaker.create_model_package_group(ModelPackageGroupName=f"callscope-test-{kind}")
    runner = LocalPipelineRunner(build_definition, root / "s3", root / "work", sagemaker_client=sagemaker,
                                 echo=lambda line: None)
    run = runner.run({"LabelledSet": str(DATA / "pyannote_sample")}, execution_id="build-1")
    return run, runner, root, sagemaker


@pytest.fixture(scope="module")
def definition(build_run) -> dict:
    """The batch pipeline, built once the packages the build registered are approved."""
    from pipelines.post_call_analytics.pipeline import get_pipeline

    _, _, _, sagemaker = build_run
    for kind in ("diarization", "transcription"):
        (package,) = sagemaker.list_model_packages(
            ModelPackageGroupName=f"callscope-test-{kind}")["ModelPackageSummaryList"]
        sagemaker.update_model_package(ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus="Approved")
    return json.loads(get_pipeline("us-east-1", **COMMON).definition())


@pytest.fixture(scope="module")
def local_run(definition, build_run):
    """The sample calls plus a broken file in, with the approved models (the archives the build wrote)."""
    _, _, root, sagemaker = build_run
    calls = root / "s3" / "callscope-test" / "calls"
    shutil.copytree(EXAMPLES, calls)
    (calls / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot audio at all")
    runner = LocalPipelineRunner(definition, root / "s3", root / "work", echo=lambda line: None)
    run = runner.run({"InputCalls": "s3://callscope-test/calls"}, execution_id="exec-1")
    return run, runner, root, sagemaker


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze")
    result = CliRunner().invoke(main, ["analyze", str(EXAMPLES), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out


def _without_times(document: dict) -> dict:
    text = json.dumps(document)
    for field in _VOLATILE:
        text = __import__("re").sub(rf'"{field}": "[^"]*"', f'"{field}": ""', text)
    return json.loads(text)


def test_local_run_gives_what_callscope_analyze_gives(local_run, analyzed):
    run, _, root, _ = local_run
    results = root / "s3" / "callscope-test" / "callscope" / "runs" / "exec-1" / "calls" / "results"
    names = sorted(path.name for path in results.iterdir() if not path.name.startswith("failures"))
    assert names == sorted(path.name for path in analyzed.iterdir() if path.is_file())
    for name in names:
        ours, theirs = results / name, analyzed / name
        if name.endswith(".json"):
            pipeline_doc, analyze_doc = (_without_times(json.loads(ours.read_text())),
                                         _without_times(json.loads(theirs.read_text())))
            # The pipeline names each call by its S3 URI, analyze by the path it was given.
            for document in (pipeline_doc, analyze_doc):
                info = document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
                assert (Path(info.pop("MediaFileUri")).name == Path(info.pop("MediaOriginalUri")).name
                        == Path(name).with_suffix("").name + Path(info["TranscriptionJobName"]).suffix)
            assert pipeline_doc == analyze_doc, name
        else:
            assert ours.read_text() == theirs.read_text(), name
    uri = json.loads((results / "demo-call.json").read_text())["ConversationAnalytics"]["SourceInformation"][0]
    assert uri["TranscribeJobInfo"]["MediaFileUri"] == "s3://callscope-test/calls/demo-call.mp3"


def test_a_broken_call_is_listed_and_the_others_go_on(local_run):
    run, _, root, _ = local_run
    calls = root / "s3" / "callscope-test" / "callscope" / "runs" / "exec-1" / "calls"
    # Prepare only checks that a file is there; the first step to decode it reports it.
    assert sorted(path.name for path in (calls / "prepared").glob("*.call.tar")) == [
        "broken.wav.call.tar", "demo-call.mp3.call.tar", "pyannote-sample.wav.call.tar"]
    assert sorted(path.name for path in (calls / "diarized").glob("*.call.tar")) == [
        "demo-call.mp3.call.tar", "pyannote-sample.wav.call.tar"]
    assert "2 done, 0 already done, 1 failed" in run.step("Diarize").log
    # The failure list travels on to the results, so one folder says what failed where.
    (failures,) = (calls / "results").glob("failures-*.jsonl")
    (failure,) = [json.loads(line) for line in failures.read_text().splitlines()]
    assert failure["file"] == "broken.wav" and failure["step"] == "diarize" and failure["kind"] == "not_audio"
    assert "\n" not in failure["error"] and "Traceback" not in failure["error"]


def test_evaluation_gates_registration_of_exactly_the_evaluated_packages(build_run):
    run, runner, root, sagemaker = build_run
    metrics = run.step("Evaluate").property_files["EvaluationReport"]["metrics"]
    # The embedded diarizer's DER on the pyannote sample (6.2%, tests/test_diarization.py) and tiny.en's WER.
    assert 0.03 < metrics["der"]["value"] < 0.10 and 0.05 < metrics["wer"]["value"] < 0.30
    assert metrics["cpwer"]["value"] >= metrics["wer"]["value"]
    assert run.step("CheckWERAndDER").status == "Succeeded" and run.step("MetricsOutOfBounds").status == "Skipped"
    for kind, reader in (("diarization", "DiarizeLabelled"), ("transcription", "TranscribeLabelled")):
        (package,) = sagemaker.list_model_packages(
            ModelPackageGroupName=f"callscope-test-{kind}")["ModelPackageSummaryList"]
        described = sagemaker.describe_model_package(ModelPackageName=package["ModelPackageArn"])
        (container,) = described["InferenceSpecification"]["Containers"]
        assert container["Image"] == IMAGES[kind]
        assert container["ModelDataUrl"] == f"s3://callscope-test/callscope/model-build/build-1/models/{kind}/model.tar.gz"
        # The registered archive is, byte for byte, the one the evaluated step ran.
        read = root / "work" / "build-1" / reader / "opt" / "ml" / "processing" / "input" / "model" / "model.tar.gz"
        assert runner.local(container["ModelDataUrl"]).read_bytes() == read.read_bytes()
        request = run.step(f"Register{kind.title()}Model").request
        assert request["ModelApprovalStatus"] == "PendingManualApproval"
        assert request["CustomerMetadataProperties"]["Commit"] == "c0ffee"
        assert float(request["CustomerMetadataProperties"]["WER"]) == metrics["wer"]["value"]
        statistics = request["ModelMetrics"]["ModelQuality"]["Statistics"]
        assert statistics["S3Uri"] == "s3://callscope-test/callscope/model-build/build-1/evaluation/evaluation.json"


def test_the_batch_runs_the_approved_packages(local_run, build_run):
    _, _, root, _ = local_run
    for kind, reader in (("diarization", "Diarize"), ("transcription", "Transcribe")):
        read = root / "work" / "exec-1" / reader / "opt" / "ml" / "processing" / "input" / "model" / "model.tar.gz"
        built = root / "s3" / "callscope-test" / "callscope" / "model-build" / "build-1" / "models" / kind
        assert read.read_bytes() == (built / "model.tar.gz").read_bytes()


def test_metrics_out_of_bounds_fail_the_run_without_registering(build_run, build_definition):
    run, runner, _, _ = build_run
    gates = [step for step in build_definition["Steps"] if step["Type"] == "Condition"]
    gate_only = {**build_definition, "Steps": gates}
    strict = LocalPipelineRunner(gate_only, runner.s3_root, runner.workdir, echo=lambda line: None)
    strict.runs = {"Evaluate": run.step("Evaluate")}  # the evaluation above, judged with a tighter bound
    with pytest.raises(LocalPipelineFailure,
                       match=r"MetricsOutOfBounds: WER 0\.\d+ \(at most 0\.35 \) or DER 0\.\d+ \(at most 0\.01 \)"):
        strict.run({"MaxDER": 0.01})
    assert strict.runs["RegisterDiarizationModel"].status == "Skipped"


def test_the_command_line_names_an_unknown_parameter(mocked_aws, capsys):
    from pipelines.post_call_analytics.cli import run_pipeline_locally

    with pytest.raises(SystemExit) as stopped:
        run_pipeline_locally(["--module-name", "pipelines.model_build.pipeline", "--param", "LabelledSetz=calls/"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == "error: unknown pipeline parameter(s): LabelledSetz"


def test_in_images_with_an_engine_that_is_not_installed_is_one_line(mocked_aws, capsys, tmp_path):
    from pipelines.post_call_analytics.cli import run_pipeline_locally

    with pytest.raises(SystemExit) as stopped:
        run_pipeline_locally(["--module-name", "pipelines.model_build.pipeline", "--in-images", "no-such-engine",
                              "--s3-root", str(tmp_path / "s3"), "--workdir", str(tmp_path / "work"),
                              "--param", f"LabelledSet={DATA / 'pyannote_sample'}"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: PackageModels: cannot run no-such-engine: No such file or directory")
