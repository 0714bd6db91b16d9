"""The two SageMaker Pipeline definitions: model build (package, evaluate, register) and the batch run
(approved models only). Their structure, that the registered model data is what the evaluated steps
read, that every step's arguments are ones its entry point accepts, and upsert/start against moto
(nothing reaches the network)."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # importing sagemaker.mlops needs a region
pytest.importorskip("sagemaker.mlops", reason="the pipelines extra (SageMaker SDK v3) is not installed")

from pipelines.post_call_analytics.layout import ENTRYPOINT_DIR  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/callscope-pipeline"
REPOSITORY = Path(__file__).resolve().parents[1]
COMMON = {"region": "us-east-1", "role": ROLE, "default_bucket": "callscope-test",
          "model_package_group_name": "callscope-test", "base_job_prefix": "cs"}
BUILD_KWARGS = {
    **COMMON, "pipeline_name": "callscope-test-build", "commit": "c0ffee",
    "diarization_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-diarization:abc123",
    "transcription_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-transcription:abc123",
    "transcription_gpu_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-transcription:abc123-gpu",
}
KWARGS = {**COMMON, "pipeline_name": "callscope-test"}  # the batch run
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-{kind}:{version}"
MODEL_DATA = "s3://callscope-test/cs/model-build/{version}/models/{kind}/model.tar.gz"
KINDS = ("diarization", "transcription")


def _package(client, kind: str, version: str, status: str) -> str:
    return client.create_model_package(
        ModelPackageGroupName=f"callscope-test-{kind}", ModelApprovalStatus=status,
        InferenceSpecification={"Containers": [{"Image": IMAGE.format(kind=kind, version=version),
                                                "ModelDataUrl": MODEL_DATA.format(kind=kind, version=version)}],
                                "SupportedContentTypes": ["application/json"],
                                "SupportedResponseMIMETypes": ["application/json"]})["ModelPackageArn"]


@pytest.fixture(scope="module")
def aws(mocked_aws):
    """The role (upsert checks that it exists and trusts SageMaker, as the service would) and the
    registry: per group an approved package, then a newer one still pending approval."""
    import boto3

    boto3.client("iam").create_role(RoleName="callscope-pipeline", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }))
    client = boto3.client("sagemaker")
    for kind in KINDS:
        client.create_model_package_group(ModelPackageGroupName=f"callscope-test-{kind}")
        _package(client, kind, "approved", "Approved")
        _package(client, kind, "pending", "PendingManualApproval")
    return client


@pytest.fixture(scope="module")
def pipeline(aws):
    """The batch run, built once per module (the SDK takes seconds): it asks moto's registry."""
    from pipelines.post_call_analytics.pipeline import get_pipeline

    return get_pipeline(**KWARGS)


@pytest.fixture(scope="module")
def definition(pipeline) -> dict:
    return json.loads(pipeline.definition())


@pytest.fixture(scope="module")
def build_definition(aws) -> dict:
    from pipelines.model_build.pipeline import get_pipeline

    return json.loads(get_pipeline(**BUILD_KWARGS).definition())


def _steps(definition: dict) -> dict[str, dict]:
    steps = {step["Name"]: step for step in definition["Steps"]}
    for condition in [step for step in definition["Steps"] if step["Type"] == "Condition"]:
        steps.update({s["Name"]: s for s in condition["Arguments"]["IfSteps"] + condition["Arguments"]["ElseSteps"]})
    return steps


def _inputs(step: dict) -> dict:
    return {channel["InputName"]: channel["S3Input"] for channel in step["Arguments"]["ProcessingInputs"]}


def _arguments(step: dict) -> dict:
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    return dict(zip(arguments[::2], arguments[1::2]))


def test_the_batch_steps_chain_through_s3_and_shard_the_calls(definition):
    steps = _steps(definition)
    assert {name: step["Type"] for name, step in steps.items()} == {
        stage: "Processing" for stage in ("Prepare", "Diarize", "Transcribe", "Enrich")}  # registers nothing
    for stage, previous in (("Diarize", "Prepare"), ("Transcribe", "Diarize"), ("Enrich", "Transcribe")):
        channel = _inputs(steps[stage])["bundles"]
        assert channel["S3Uri"] == {"Get": f"Steps.{previous}.ProcessingOutputConfig.Outputs['bundles'].S3Output.S3Uri"}
        assert channel["S3DataDistributionType"] == "ShardedByS3Key"
        count = steps[stage]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        assert count == {
            "Get": f"Parameters.{ {'Diarize': 'Diarization', 'Transcribe': 'Transcription', 'Enrich': 'Enrich'}[stage]}"
                   "InstanceCount"}
    transcribe = steps["Transcribe"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert transcribe["InstanceType"] == {"Get": "Parameters.TranscriptionInstanceType"}
    # No instance holds every call: Prepare too is sharded, across PrepareInstanceCount instances.
    assert _inputs(steps["Prepare"])["calls"]["S3DataDistributionType"] == "ShardedByS3Key"
    prepare = steps["Prepare"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert prepare["InstanceCount"] == {"Get": "Parameters.PrepareInstanceCount"}
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters["TranscriptionInstanceType"]["DefaultValue"].startswith("ml.g")  # a GPU by default


def test_the_batch_runs_the_latest_approved_models_and_nothing_else(definition):
    """Not the newer package still pending approval, and not as parameters an execution could change."""
    steps = _steps(definition)
    images = {name: step["Arguments"]["AppSpecification"]["ImageUri"] for name, step in steps.items()}
    assert images == {"Prepare": IMAGE.format(kind="transcription", version="approved"),
                      "Diarize": IMAGE.format(kind="diarization", version="approved"),
                      "Transcribe": IMAGE.format(kind="transcription", version="approved"),
                      "Enrich": IMAGE.format(kind="transcription", version="approved")}
    models = {name: _inputs(step).get("model", {}).get("S3Uri") for name, step in steps.items()}
    assert models == {"Prepare": None, "Diarize": MODEL_DATA.format(kind="diarization", version="approved"),
                      "Transcribe": MODEL_DATA.format(kind="transcription", version="approved"),
                      "Enrich": MODEL_DATA.format(kind="transcription", version="approved")}
    assert not {"DiarizationImageUri", "TranscriptionImageUri", "DiarizationModelData", "TranscriptionModelData",
                "ModelApprovalStatus"} & {p["Name"] for p in definition["Parameters"]}


def test_with_no_approved_package_the_batch_pipeline_is_one_line_and_exit_2(aws, capsys):
    from pipelines.post_call_analytics.cli import get_pipeline_definition

    with pytest.raises(SystemExit) as stopped:
        get_pipeline_definition(["--kwargs", json.dumps({**KWARGS, "model_package_group_name": "nobody"})])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: model package group nobody-diarization has no Approved package: run the model-build pipeline "
        "and approve what it registered (docs/AWS.md) before running the batch pipeline")


def test_an_approved_package_without_model_data_is_one_line_and_exit_2(aws, capsys):
    """Registered by hand, not by the model build: the batch pipeline has no archive to run."""
    from pipelines.post_call_analytics.cli import get_pipeline_definition

    for kind in KINDS:
        aws.create_model_package_group(ModelPackageGroupName=f"bare-{kind}")
        arn = aws.create_model_package(
            ModelPackageGroupName=f"bare-{kind}", ModelApprovalStatus="Approved",
            InferenceSpecification={"Containers": [{"Image": IMAGE.format(kind=kind, version="bare")}],
                                    "SupportedContentTypes": ["application/json"],
                                    "SupportedResponseMIMETypes": ["application/json"]})["ModelPackageArn"]
    with pytest.raises(SystemExit) as stopped:
        get_pipeline_definition(["--kwargs", json.dumps({**KWARGS, "model_package_group_name": "bare"})])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "names no model data" in error and "bare-diarization" in error
    assert arn.endswith("/1")


def test_the_build_pipeline_registers_exactly_the_model_data_its_evaluated_steps_read(build_definition):
    steps = _steps(build_definition)
    assert {name: step["Type"] for name, step in steps.items()} == {
        "PackageModels": "Processing",
        **{f"{stage}Labelled": "Processing" for stage in ("Prepare", "Diarize", "Transcribe", "Enrich")},
        "Evaluate": "Processing", "CheckWERAndDER": "Condition", "RegisterDiarizationModel": "RegisterModel",
        "RegisterTranscriptionModel": "RegisterModel", "MetricsOutOfBounds": "Fail",
    }
    read = {kind: _inputs(steps[step])["model"]["S3Uri"]
            for kind, step in (("diarization", "DiarizeLabelled"), ("transcription", "TranscribeLabelled"))}
    assert _inputs(steps["EnrichLabelled"])["model"]["S3Uri"] == read["transcription"]  # translation: the same
    for kind in KINDS:
        assert read[kind] == {"Std:Join": {"On": "/", "Values": [
            {"Get": f"Steps.PackageModels.ProcessingOutputConfig.Outputs['{kind}'].S3Output.S3Uri"}, "model.tar.gz"]}}
        (container,) = steps[f"Register{kind.title()}Model"]["Arguments"]["InferenceSpecification"]["Containers"]
        assert container["ModelDataUrl"] == read[kind]
        image = "DiarizationImageUri" if kind == "diarization" else "TranscribeImageUri"
        assert container["Image"] == {"Get": f"Parameters.{image}"}
        ran = steps["DiarizeLabelled" if kind == "diarization" else "TranscribeLabelled"]
        assert ran["Arguments"]["AppSpecification"]["ImageUri"] == {"Get": f"Parameters.{image}"}


def test_the_gpu_build_runs_the_transcribe_step_and_is_what_gets_registered(build_definition):
    """The Transcribe step's default instance has a GPU: the image built with GPU=1 runs it; the steps
    around it keep the smaller CPU image."""
    parameters = {p["Name"]: p["DefaultValue"] for p in build_definition["Parameters"]}
    assert parameters["TranscribeImageUri"] == BUILD_KWARGS["transcription_gpu_image_uri"]
    assert parameters["TranscriptionImageUri"] == BUILD_KWARGS["transcription_image_uri"]
    assert parameters["TranscriptionInstanceType"].startswith("ml.g")
    steps = _steps(build_definition)
    for name in ("PackageModels", "PrepareLabelled", "EnrichLabelled", "Evaluate"):
        assert steps[name]["Arguments"]["AppSpecification"]["ImageUri"] == {"Get": "Parameters.TranscriptionImageUri"}


def test_the_gate_registers_both_packages_pending_approval_with_their_metrics_and_settings(build_definition):
    gate = _steps(build_definition)["CheckWERAndDER"]["Arguments"]
    left = [condition["LeftValue"]["Std:JsonGet"] for condition in gate["Conditions"]]
    assert [item["Path"] for item in left] == ["metrics.wer.value", "metrics.der.value"]
    assert all(item["PropertyFile"] == {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"} for item in left)
    assert [c["RightValue"] for c in gate["Conditions"]] == [{"Get": "Parameters.MaxWER"}, {"Get": "Parameters.MaxDER"}]
    registered = {step["Arguments"]["ModelPackageGroupName"]: step["Arguments"] for step in gate["IfSteps"]}
    assert set(registered) == {"callscope-test-diarization", "callscope-test-transcription"}
    for arguments in registered.values():
        assert arguments["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
        statistics = arguments["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"]
        assert statistics == [{"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                              "evaluation.json"]
        metadata = arguments["CustomerMetadataProperties"]
        assert metadata["Commit"] == "c0ffee"
        assert {key: metadata[key] for key in ("WhisperModel", "Diarizer", "ComputeType")} == {
            "WhisperModel": {"Get": "Parameters.WhisperModel"}, "Diarizer": {"Get": "Parameters.Diarizer"},
            "ComputeType": {"Get": "Parameters.ComputeType"}}
        assert "metrics.wer.value" in json.dumps(metadata["WER"]) and "metrics.der.value" in json.dumps(metadata["DER"])
    parameters = {p["Name"]: p["DefaultValue"] for p in build_definition["Parameters"]}
    assert parameters["ModelApprovalStatus"] == "PendingManualApproval"
    assert [step["Type"] for step in gate["ElseSteps"]] == ["Fail"]


@pytest.mark.parametrize("which", ["definition", "build_definition"])
def test_every_step_runs_an_entry_point_that_accepts_its_arguments(which, request):
    """Arguments built from parameters must parse with the entry point's own parser (defaults substituted)."""
    definition = request.getfixturevalue(which)
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}

    def value(item):
        if isinstance(item, dict) and "Get" in item:
            return str(defaults[item["Get"].removeprefix("Parameters.")])
        if isinstance(item, dict) and "Std:Join" in item:
            return item["Std:Join"]["On"].join(value(part) for part in item["Std:Join"]["Values"])
        return item

    for step in _steps(definition).values():
        if step["Type"] != "Processing":
            continue
        app = step["Arguments"]["AppSpecification"]
        python, script = app["ContainerEntrypoint"]
        assert python == "python3" and script.startswith(ENTRYPOINT_DIR + "/")
        local_script = REPOSITORY / "processing" / Path(script).name
        assert local_script.is_file(), f"{step['Name']} runs {script}, which processing/ lacks"
        module = importlib.import_module(f"callscope.sagemaker_steps.{local_script.stem}")
        arguments = [value(item) for item in app.get("ContainerArguments", [])]
        # argparse exits on an unknown flag or a bad choice; parse_known_args would hide that.
        parser_calls = []
        original = module.main_guard
        module.main_guard = lambda run: parser_calls.append(run)
        try:
            module.main(arguments)
        finally:
            module.main_guard = original
        assert parser_calls, step["Name"]


def test_the_asr_choice_reaches_every_batch_step_and_the_build_always_runs_whisper(definition, build_definition):
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert {name: parameters[name]["DefaultValue"] for name in (
        "Asr", "TranscribeBucket", "TranscribeApi", "TranscribeLanguageCode", "TranscribeRoleArn",
        "TranscribeVocabulary", "TranscribeLanguageModel")} == {
        "Asr": "whisper", "TranscribeBucket": KWARGS["default_bucket"], "TranscribeApi": "auto",
        "TranscribeLanguageCode": "en-US", "TranscribeRoleArn": "", "TranscribeVocabulary": "",
        "TranscribeLanguageModel": ""}
    assert parameters["Asr"]["EnumValues"] == ["whisper", "transcribe"]
    assert parameters["TranscribeApi"]["EnumValues"] == ["auto", "analytics", "standard"]
    flags = {"--asr": "Asr", "--s3-bucket": "TranscribeBucket", "--transcribe-api": "TranscribeApi",
             "--language-code": "TranscribeLanguageCode", "--transcribe-role-arn": "TranscribeRoleArn",
             "--transcribe-vocabulary": "TranscribeVocabulary", "--language-model": "TranscribeLanguageModel"}
    steps, build_steps = _steps(definition), _steps(build_definition)
    for stage in ("Diarize", "Transcribe", "Enrich"):
        given = _arguments(steps[stage])
        assert {flag: given[flag] for flag in flags} == {flag: {"Get": f"Parameters.{name}"}
                                                         for flag, name in flags.items()}, stage
        # Media and results of the jobs under the pipeline's own prefix, outside any execution's.
        assert given["--s3-prefix"] == f"{KWARGS['base_job_prefix']}/transcribe"
        # The gate scores the packaged models, whatever a batch run would choose.
        labelled = _arguments(build_steps[f"{stage}Labelled"])
        assert labelled["--asr"] == "whisper" and not (set(flags) - {"--asr"}) & set(labelled)


def test_upsert_and_start_send_the_definition_to_sagemaker(pipeline, definition):
    import boto3

    client = boto3.client("sagemaker", region_name="us-east-1")
    arn = pipeline.upsert(role_arn=ROLE)["PipelineArn"]
    assert arn.endswith(":pipeline/callscope-test")
    described = client.describe_pipeline(PipelineName="callscope-test")
    assert described["RoleArn"] == ROLE
    assert json.loads(described["PipelineDefinition"]) == definition
    pipeline.start(parameters={"InputCalls": "s3://callscope-test/batch-7/", "TranscriptionInstanceCount": 4})
    (execution,) = client.list_pipeline_executions(PipelineName="callscope-test")["PipelineExecutionSummaries"]
    parameters = client.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution["PipelineExecutionArn"])
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]} == {
        "InputCalls": "s3://callscope-test/batch-7/", "TranscriptionInstanceCount": "4"}


def test_get_pipeline_definition_prints_the_same_definitions(aws, capsys, definition, build_definition):
    from pipelines.post_call_analytics.cli import get_pipeline_definition

    get_pipeline_definition(["--kwargs", json.dumps(KWARGS)])
    assert json.loads(capsys.readouterr().out) == definition
    get_pipeline_definition(["--module-name", "pipelines.model_build.pipeline", "--kwargs", json.dumps(BUILD_KWARGS)])
    assert json.loads(capsys.readouterr().out) == build_definition


SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("which, snapshot", [("definition", "pipeline_definition.json"),
                                             ("build_definition", "model_build_definition.json")])
def test_definitions_match_the_reviewed_snapshots(which, snapshot, request):
    """Any change to a definition shows up in review as a diff of its snapshot.

    After an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_pipeline_definition.py
    """
    text = json.dumps(request.getfixturevalue(which), indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        (SNAPSHOTS / snapshot).write_text(text)
    assert (SNAPSHOTS / snapshot).read_text() == text, f"{snapshot}: the definition changed: review it, update it"


def test_every_flag_with_a_parameter_is_one_and_reaches_every_analysis_step(definition):
    from callscope.flags import ENRICH_FLAGS, STEP_FLAGS

    parameters = {p["Name"]: p for p in definition["Parameters"]}
    steps = _steps(definition)
    for flag in STEP_FLAGS + ENRICH_FLAGS:
        if not flag.parameter:
            continue
        assert flag.parameter in parameters, flag.name
        readers = ("Enrich",) if flag in ENRICH_FLAGS else ("Diarize", "Transcribe", "Enrich")
        for reader in readers:
            assert f"Parameters.{flag.parameter}" in json.dumps(_arguments(steps[reader])[flag.option]), flag.name


def test_a_new_flag_becomes_a_parameter_and_an_argument():
    from callscope.flags import Flag
    from pipelines.processing_steps import flag_arguments, flag_parameters

    dummy = Flag("dummy-patience", 1.5, type=float, parameter="DummyPatience")
    switch = Flag("dummy-switch", False, type=bool, parameter="DummySwitch")
    parameters = flag_parameters((dummy, switch), {})
    assert parameters["dummy_patience"].to_request() == {"Name": "DummyPatience", "Type": "Float", "DefaultValue": 1.5}
    assert parameters["dummy_switch"].to_request() == {"Name": "DummySwitch", "Type": "String",
                                                       "DefaultValue": "no", "EnumValues": ["yes", "no"]}
    arguments = flag_arguments((dummy, switch), parameters, {"dummy_switch": "yes"})
    assert arguments[0::2] == ["--dummy-patience", "--dummy-switch"] and arguments[3] == "yes"


@pytest.mark.parametrize("which", ["definition", "build_definition"])
def test_every_step_retries_on_capacity_and_throttling_and_sizes_its_volume_by_parameter(which, request):
    definition = request.getfixturevalue(which)
    for step in _steps(definition).values():
        if step["Type"] != "Processing":
            continue
        retried = {kind for policy in step["RetryPolicies"] for kind in policy["ExceptionType"]}
        assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= retried, step["Name"]
        assert all(policy["MaxAttempts"] > 1 for policy in step["RetryPolicies"])
        cluster = step["Arguments"]["ProcessingResources"]["ClusterConfig"]
        assert cluster["VolumeSizeInGB"] == {"Get": "Parameters.VolumeSizeInGB"}, step["Name"]


def _concrete(value, defaults: dict):
    """A definition value as the service would see it at run time: parameters at their defaults,
    joins joined, step properties and JSON lookups as placeholder strings."""
    if isinstance(value, list):
        return [_concrete(item, defaults) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"}:
        path = value["Get"]
        if path.startswith("Parameters."):
            return defaults[path.removeprefix("Parameters.")]
        if "S3Uri" in path:
            return "s3://callscope-test/from-an-earlier-step"
        return "execution-1"
    if set(value) == {"Std:Join"}:
        return value["Std:Join"]["On"].join(str(_concrete(part, defaults)) for part in value["Std:Join"]["Values"])
    if set(value) == {"Std:JsonGet"}:
        return "0.1"
    return {key: _concrete(item, defaults) for key, item in value.items()}


@pytest.mark.parametrize("which", ["definition", "build_definition"])
def test_every_step_is_a_request_the_sagemaker_api_accepts(which, request):
    """Each processing step's arguments are a CreateProcessingJob request, each register step's a
    CreateModelPackage request: botocore's own validator checks them against the service model."""
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    definition = request.getfixturevalue(which)
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    model = get_session().get_service_model("sagemaker")
    operations = {"Processing": "CreateProcessingJob", "RegisterModel": "CreateModelPackage"}
    checked = 0
    for step in _steps(definition).values():
        if step["Type"] not in operations:
            continue
        arguments = _concrete(step["Arguments"], defaults)
        if step["Type"] == "Processing":
            arguments["ProcessingJobName"] = "callscope-test-job"
        else:
            arguments.pop("SkipModelValidation", None)  # the SDK's own field: Pipelines takes it out
        report = ParamValidator().validate(arguments, model.operation_model(operations[step["Type"]]).input_shape)
        assert not report.has_errors(), f"{step['Name']}: {report.generate_report()}"
        checked += 1
    assert checked == sum(step["Type"] in operations for step in _steps(definition).values()) > 0


def test_a_pyannote_pipeline_directory_is_an_optional_model_input_packaged_and_registered(aws, tmp_path):
    """With pyannote_pipeline_uri, PackageModels reads the directory through its `pyannote` input and
    packages it as the diarization model; the definition's own arguments, run locally, do that."""
    pytest.importorskip("pyannote.audio")
    from callscope.models.package import PYANNOTE, unpack
    from pipelines.model_build.pipeline import get_pipeline
    from pipelines.post_call_analytics.local_run import LocalPipelineRunner
    from tests.pyannote_pipeline_factory import build_pipeline_directory

    uri = "s3://callscope-test/models/pyannote-pipeline/"
    definition = json.loads(get_pipeline(**BUILD_KWARGS, pyannote_pipeline_uri=uri).definition())
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["PyannotePipeline"] == uri
    steps = _steps(definition)
    package = steps["PackageModels"]["Arguments"]
    assert _inputs(steps["PackageModels"])["pyannote"]["S3Uri"] == {"Get": "Parameters.PyannotePipeline"}
    arguments = package["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--diarizer") + 1] == "pyannote"
    assert arguments[arguments.index("--pyannote-pipeline") + 1] == "/opt/ml/processing/input/pyannote"
    register = steps["RegisterDiarizationModel"]["Arguments"]
    assert register["CustomerMetadataProperties"]["Diarizer"] == "pyannote"
    # without it, no such input or parameter
    plain = json.loads(get_pipeline(**BUILD_KWARGS).definition())
    assert "ProcessingInputs" not in _steps(plain)["PackageModels"]["Arguments"]  # it reads nothing
    assert "PyannotePipeline" not in {p["Name"] for p in plain["Parameters"]}

    # The PackageModels step alone, as the definition has it, on a real pipeline directory
    directory = build_pipeline_directory(tmp_path / "pipeline-dir")
    only_package = {**definition, "Steps": [step for step in definition["Steps"] if step["Name"] == "PackageModels"]}
    runner = LocalPipelineRunner(only_package, tmp_path / "s3", tmp_path / "work", echo=lambda line: None)
    run = runner.run({"PyannotePipeline": str(directory)}, execution_id="pyannote-1")
    archive = runner.local(run.step("PackageModels").outputs["diarization"]) / "model.tar.gz"
    manifest = unpack(archive, tmp_path / "unpacked")
    assert manifest.kind == PYANNOTE
    assert (tmp_path / "unpacked" / "config.yaml").is_file()


def test_the_model_build_caches_its_steps_and_the_batch_run_does_not(build_definition, definition):
    """A re-run with the same images, settings and labelled set reuses the evaluated results; the batch
    run never does (new calls arrive under the same prefix)."""
    for name, step in _steps(build_definition).items():
        if step["Type"] == "Processing":
            assert step["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}, name
    assert all("CacheConfig" not in step for step in definition["Steps"])
