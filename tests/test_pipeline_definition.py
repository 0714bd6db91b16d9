"""The SageMaker Pipeline definition: its structure, that every step's arguments are ones its entry
point accepts, and upsert/start against moto (nothing reaches the network)."""

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
KWARGS = {
    "region": "us-east-1", "role": ROLE, "default_bucket": "callscope-test", "pipeline_name": "callscope-test",
    "model_package_group_name": "callscope-test", "base_job_prefix": "cs",
    "diarization_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-diarization:abc123",
    "transcription_image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/callscope-transcription:abc123",
}


@pytest.fixture(scope="module")
def aws(mocked_aws):
    # upsert checks that the role exists and trusts SageMaker, as the service would.
    import boto3

    boto3.client("iam").create_role(RoleName="callscope-pipeline", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    }))


@pytest.fixture(scope="module")
def pipeline(aws):
    """Built once per module: the SDK takes seconds to build it."""
    from pipelines.post_call_analytics.pipeline import get_pipeline

    return get_pipeline(**KWARGS)


@pytest.fixture(scope="module")
def definition(pipeline) -> dict:
    return json.loads(pipeline.definition())


def _steps(definition: dict) -> dict[str, dict]:
    steps = {step["Name"]: step for step in definition["Steps"]}
    for condition in [step for step in definition["Steps"] if step["Type"] == "Condition"]:
        steps.update({s["Name"]: s for s in condition["Arguments"]["IfSteps"] + condition["Arguments"]["ElseSteps"]})
    return steps


def test_steps_chain_through_s3_and_shard_the_calls(definition):
    steps = _steps(definition)
    assert {name: step["Type"] for name, step in steps.items()} == {
        **{f"{stage}{chain}": "Processing" for stage in ("Prepare", "Diarize", "Transcribe", "Enrich")
           for chain in ("", "Labelled")},
        "Evaluate": "Processing", "CheckWERAndDER": "Condition", "RegisterDiarizationModel": "RegisterModel",
        "RegisterTranscriptionModel": "RegisterModel", "MetricsOutOfBounds": "Fail",
    }
    for stage, previous in (("Diarize", "Prepare"), ("Transcribe", "Diarize"), ("Enrich", "Transcribe")):
        (channel,) = steps[stage]["Arguments"]["ProcessingInputs"]
        assert channel["S3Input"]["S3Uri"] == {
            "Get": f"Steps.{previous}.ProcessingOutputConfig.Outputs['bundles'].S3Output.S3Uri"}
        assert channel["S3Input"]["S3DataDistributionType"] == "ShardedByS3Key"
        count = steps[stage]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        assert count == {
            "Get": f"Parameters.{ {'Diarize': 'Diarization', 'Transcribe': 'Transcription', 'Enrich': 'Enrich'}[stage]}"
                   "InstanceCount"}
    images = {name: step["Arguments"]["AppSpecification"]["ImageUri"] for name, step in steps.items()
              if step["Type"] == "Processing"}
    assert images.pop("Diarize") == images.pop("DiarizeLabelled") == {"Get": "Parameters.DiarizationImageUri"}
    assert set(map(json.dumps, images.values())) == {json.dumps({"Get": "Parameters.TranscriptionImageUri"})}
    transcribe = steps["Transcribe"]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert transcribe["InstanceType"] == {"Get": "Parameters.TranscriptionInstanceType"}
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    assert parameters["TranscriptionInstanceType"]["DefaultValue"].startswith("ml.g")  # a GPU by default
    assert parameters["DiarizationImageUri"]["DefaultValue"] == KWARGS["diarization_image_uri"]


def test_every_step_runs_an_entry_point_that_accepts_its_arguments(definition):
    """Arguments built from parameters must parse with the entry point's own parser (defaults substituted)."""
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


def test_the_asr_choice_reaches_every_analysis_step_and_defaults_to_whisper(definition):
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
    steps = _steps(definition)
    for stage in ("Diarize", "Transcribe", "Enrich"):
        for chain in ("", "Labelled"):
            arguments = steps[f"{stage}{chain}"]["Arguments"]["AppSpecification"]["ContainerArguments"]
            given = dict(zip(arguments[::2], arguments[1::2]))
            expected = {flag: {"Get": f"Parameters.{name}"} for flag, name in flags.items()}
            if chain == "Labelled":  # the gate scores the images' own models, whatever Asr says
                expected["--asr"] = "whisper"
            assert {flag: given[flag] for flag in flags} == expected, stage + chain
            # Media and results of the jobs under the pipeline's own prefix, outside any execution's.
            assert given["--s3-prefix"] == f"{KWARGS['base_job_prefix']}/transcribe"


def test_the_gate_registers_both_models_pending_approval_with_the_evaluation(definition):
    gate = _steps(definition)["CheckWERAndDER"]["Arguments"]
    left = [condition["LeftValue"]["Std:JsonGet"] for condition in gate["Conditions"]]
    assert [item["Path"] for item in left] == ["metrics.wer.value", "metrics.der.value"]
    assert all(item["PropertyFile"] == {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"} for item in left)
    assert [c["RightValue"] for c in gate["Conditions"]] == [{"Get": "Parameters.MaxWER"}, {"Get": "Parameters.MaxDER"}]
    registered = {step["Arguments"]["ModelPackageGroupName"]: step["Arguments"] for step in gate["IfSteps"]}
    assert set(registered) == {"callscope-test-diarization", "callscope-test-transcription"}
    for group, image in (("diarization", "DiarizationImageUri"), ("transcription", "TranscriptionImageUri")):
        arguments = registered[f"callscope-test-{group}"]
        assert arguments["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
        (container,) = arguments["InferenceSpecification"]["Containers"]
        assert container["Image"] == {"Get": f"Parameters.{image}"}
        statistics = arguments["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]["Std:Join"]["Values"]
        assert statistics == [{"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                              "evaluation.json"]
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["ModelApprovalStatus"] == "PendingManualApproval"
    assert [step["Type"] for step in gate["ElseSteps"]] == ["Fail"]


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


def test_get_pipeline_definition_prints_the_same_definition(aws, capsys, definition):
    from pipelines.post_call_analytics.cli import get_pipeline_definition

    get_pipeline_definition(["--kwargs", json.dumps(KWARGS)])
    assert json.loads(capsys.readouterr().out) == definition


SNAPSHOT = Path(__file__).parent / "snapshots" / "pipeline_definition.json"


def test_definition_matches_the_reviewed_snapshot(definition):
    """Any change to the definition shows up in review as a diff of the snapshot.

    After an intended change: UPDATE_SNAPSHOTS=1 pytest tests/test_pipeline_definition.py
    """
    text = json.dumps(definition, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.read_text() == text, "the pipeline definition changed: review it and update the snapshot"


def test_every_flag_with_a_parameter_is_one_and_reaches_every_analysis_step(definition):
    from callscope.flags import ENRICH_FLAGS, STEP_FLAGS

    parameters = {p["Name"]: p for p in definition["Parameters"]}
    steps = _steps(definition)
    for flag in STEP_FLAGS + ENRICH_FLAGS:
        if not flag.parameter:
            continue
        assert flag.parameter in parameters, flag.name
        readers = ("Enrich",) if flag in ENRICH_FLAGS else ("Diarize", "Transcribe", "Enrich")
        arguments = steps[readers[0]]["Arguments"]["AppSpecification"]["ContainerArguments"]
        given = json.dumps(dict(zip(arguments[::2], arguments[1::2]))[flag.option])
        assert f"Parameters.{flag.parameter}" in given, flag.name


def test_a_new_flag_becomes_a_parameter_and_an_argument():
    from callscope.flags import Flag
    from pipelines.post_call_analytics.pipeline import flag_arguments, flag_parameters

    dummy = Flag("dummy-patience", 1.5, type=float, parameter="DummyPatience")
    switch = Flag("dummy-switch", False, type=bool, parameter="DummySwitch")
    parameters = flag_parameters((dummy, switch), {})
    assert parameters["dummy_patience"].to_request() == {"Name": "DummyPatience", "Type": "Float", "DefaultValue": 1.5}
    assert parameters["dummy_switch"].to_request() == {"Name": "DummySwitch", "Type": "String",
                                                       "DefaultValue": "no", "EnumValues": ["yes", "no"]}
    arguments = flag_arguments((dummy, switch), parameters, {"dummy_switch": "yes"})
    assert arguments[0::2] == ["--dummy-patience", "--dummy-switch"] and arguments[3] == "yes"
