"""promote-models against moto's model registry (groups, packages, approval), nothing on the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytest.importorskip("boto3", reason="promote-models needs the aws extra (boto3)")
moto = pytest.importorskip("moto", reason="these tests need moto[server]==5.2.5 (dev extra)")

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from pipelines.post_call_analytics import promote  # noqa: E402
from pipelines.post_call_analytics.promote import (  # noqa: E402
    ApprovedPackage,
    ModelPackageGroupNotFound,
    iter_approved_summaries,
    latest_approved,
    main,
)
from tests.conftest import fake_aws_environment  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
BASE = "callscope-test"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and a region; no profile, config file or instance metadata to fall back on."""
    fake_aws_environment(monkeypatch, REGION, no_config_files=True)
    for name in ("AWS_REGION", "AWS_ENDPOINT_URL_SAGEMAKER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sm(aws_env):
    with moto.mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


def image(kind: str, tag: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/callscope-{kind}:{tag}"


def model_data(kind: str, tag: str) -> str:
    return f"s3://callscope-artifacts/{kind}/{tag}/model.tar.gz"


def evaluation(tag: str) -> str:
    return f"s3://callscope-artifacts/callscope/runs/{tag}/evaluation/evaluation.json"


def register(client, group: str, tag: str, status: str = "PendingManualApproval", metrics: bool = True) -> str:
    """One package as the pipeline registers it (pending), then moved to `status` as a reviewer would.

    `tag` stands for the pipeline run (and the commit of its images): one evaluation report per run.
    """
    kind = group.rsplit("-", 1)[-1]
    extra = {"ModelMetrics": {"ModelQuality": {"Statistics": {
        "ContentType": "application/json", "S3Uri": evaluation(tag)}}}} if metrics else {}
    arn = client.create_model_package(
        **extra,
        ModelPackageGroupName=group,
        ModelPackageDescription=f"commit {tag}",
        InferenceSpecification={
            "Containers": [{"Image": image(kind, tag), "ModelDataUrl": model_data(kind, tag)}],
            "SupportedContentTypes": ["audio/wav"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="PendingManualApproval",
    )["ModelPackageArn"]
    if status != "PendingManualApproval":
        client.update_model_package(ModelPackageArn=arn, ModelApprovalStatus=status)
    return arn


def make_groups(client, base: str = BASE) -> dict[str, str]:
    groups = promote.group_names(base)
    for group in groups.values():
        client.create_model_package_group(ModelPackageGroupName=group)
    return groups


# --- latest_approved -----------------------------------------------------------------------------


def test_latest_approved_skips_newer_pending_and_rejected(sm):
    group = make_groups(sm)["diarization"]
    register(sm, group, "c1", "Approved")
    approved = register(sm, group, "c2", "Approved")
    register(sm, group, "c3", "Rejected")
    register(sm, group, "c4")  # PendingManualApproval, the newest

    package = latest_approved(sm, group)

    assert isinstance(package, ApprovedPackage)
    assert package.arn == approved and package.arn.endswith("/2")
    assert package.version == 2
    assert package.group == group
    assert package.approval_status == "Approved"
    assert package.image_uri == image("diarization", "c2")
    assert package.image_uris == (image("diarization", "c2"),)
    assert package.model_data_url == model_data("diarization", "c2")
    assert package.evaluation_uri == evaluation("c2")
    assert isinstance(package.creation_time, datetime)


def test_latest_approved_follows_approval_changes(sm):
    group = make_groups(sm)["transcription"]
    first = register(sm, group, "c1", "Approved")
    second = register(sm, group, "c2", "Approved")
    third = register(sm, group, "c3")
    assert latest_approved(sm, group).arn == second

    sm.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Rejected")
    assert latest_approved(sm, group).arn == first  # a rejected package is never promoted

    sm.update_model_package(ModelPackageArn=third, ModelApprovalStatus="Approved")
    assert latest_approved(sm, group).arn == third


def test_no_approved_package_is_none(sm):
    group = make_groups(sm)["diarization"]
    register(sm, group, "c1")
    register(sm, group, "c2", "Rejected")
    assert latest_approved(sm, group) is None


def test_missing_group_raises(sm):
    with pytest.raises(ModelPackageGroupNotFound, match="nope-diarization"):
        latest_approved(sm, "nope-diarization")


def test_pages_through_every_page(sm):
    group = make_groups(sm)["diarization"]
    approved = []
    for index in range(7):
        approved.append(register(sm, group, f"a{index}", "Approved"))
        register(sm, group, f"p{index}")  # pending ones in between, filtered out server-side
    calls = []
    sm.meta.events.register("provide-client-params.sagemaker.ListModelPackages",
                           lambda params, **_: calls.append(dict(params)))

    summaries = list(iter_approved_summaries(sm, group, page_size=2))
    assert sorted(summary["ModelPackageArn"] for summary in summaries) == sorted(approved)
    assert len(calls) == 4  # 2 + 2 + 2 + 1
    assert "NextToken" not in calls[0] and all("NextToken" in call for call in calls[1:])
    assert {call["MaxResults"] for call in calls} == {2}

    calls.clear()
    package = latest_approved(sm, group, page_size=2)
    assert package.arn == approved[-1]
    assert len(calls) == 4
    assert all(call["ModelApprovalStatus"] == "Approved" and call["SortBy"] == "CreationTime"
               and call["SortOrder"] == "Descending" for call in calls)


def test_empty_page_with_token_is_not_the_end(aws_env):
    """The service may answer an empty page and a NextToken; the package on the next page counts."""
    client = boto3.client("sagemaker", region_name=REGION)
    group = f"{BASE}-diarization"
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/3"
    created = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    request = {"ModelPackageGroupName": group, "ModelApprovalStatus": "Approved",
               "SortBy": "CreationTime", "SortOrder": "Descending"}
    with Stubber(client) as stub:
        stub.add_response("describe_model_package_group", {
            "ModelPackageGroupName": group, "ModelPackageGroupArn": arn.rsplit("/", 1)[0],
            "CreationTime": created, "CreatedBy": {}, "ModelPackageGroupStatus": "Completed"},
            {"ModelPackageGroupName": group})
        stub.add_response("list_model_packages", {"ModelPackageSummaryList": [], "NextToken": "page-2"}, request)
        stub.add_response("list_model_packages", {"ModelPackageSummaryList": [{
            "ModelPackageGroupName": group, "ModelPackageVersion": 3, "ModelPackageArn": arn,
            "CreationTime": created, "ModelPackageStatus": "Completed", "ModelApprovalStatus": "Approved"}]},
            {**request, "NextToken": "page-2"})
        stub.add_response("describe_model_package", {
            "ModelPackageName": group, "ModelPackageGroupName": group, "ModelPackageVersion": 3,
            "ModelPackageArn": arn, "CreationTime": created, "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []}, "ModelApprovalStatus": "Approved",
            "InferenceSpecification": {
                "Containers": [{"Image": image("diarization", "c3"),
                                "ModelDataSource": {"S3DataSource": {"S3Uri": model_data("diarization", "c3"),
                                                                     "S3DataType": "S3Object",
                                                                     "CompressionType": "Gzip"}}}],
                "SupportedContentTypes": ["audio/wav"], "SupportedResponseMIMETypes": ["application/json"]}},
            {"ModelPackageName": arn})
        package = latest_approved(client, group)
        stub.assert_no_pending_responses()
    assert package.arn == arn and package.version == 3 and package.creation_time == created
    assert package.model_data_url == model_data("diarization", "c3")  # from ModelDataSource


# --- promote-models ------------------------------------------------------------------------------


def approved_pair(sm, tag: str) -> dict[str, str]:
    groups = promote.group_names(BASE)
    return {kind: register(sm, group, tag, "Approved") for kind, group in groups.items()}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--model-package-group-name", BASE, "--region", REGION, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_writes_deployment_parameters(sm, tmp_path, capsys):
    make_groups(sm)
    arns = approved_pair(sm, "c1")
    register(sm, f"{BASE}-diarization", "c2")  # newer, pending: not deployed
    out = tmp_path / "staging.json"

    code, stdout, stderr = run_cli(capsys, "--stage", "staging", "--out", str(out))

    assert code == 0, stderr
    assert stderr == ""
    assert f"wrote {out}" in stdout
    document = json.loads(out.read_text())
    assert document["Stage"] == "staging"
    assert document["Region"] == REGION
    assert document["ModelPackageGroupName"] == BASE
    assert set(document["Models"]) == {"diarization", "transcription"}
    for kind, model in document["Models"].items():
        assert model == {
            "ModelPackageGroupName": f"{BASE}-{kind}",
            "ModelPackageArn": arns[kind],
            "ModelPackageVersion": 1,
            "ModelApprovalStatus": "Approved",
            "CreationTime": model["CreationTime"],
            "ImageUri": image(kind, "c1"),
            "ModelDataUrl": model_data(kind, "c1"),
            "EvaluationReport": evaluation("c1"),
            "EndpointName": f"callscope-staging-{kind}",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
        datetime.fromisoformat(model["CreationTime"])


def test_cli_default_out_and_prod_sizes(sm, tmp_path, capsys, monkeypatch):
    make_groups(sm)
    approved_pair(sm, "c1")
    monkeypatch.chdir(tmp_path)

    code, _, stderr = run_cli(capsys, "--stage", "prod", "--instance-type", "transcription=ml.c5.2xlarge",
                              "--instance-count", "diarization=3")

    assert code == 0, stderr
    models = json.loads((tmp_path / "deploy" / "prod-params.json").read_text())["Models"]
    assert models["diarization"]["InstanceType"] == "ml.m5.xlarge"  # prod default
    assert models["diarization"]["InitialInstanceCount"] == 3
    assert models["transcription"]["InstanceType"] == "ml.c5.2xlarge"
    assert models["transcription"]["InitialInstanceCount"] == 2  # prod default
    assert models["diarization"]["EndpointName"] == "callscope-prod-diarization"

    code, _, stderr = run_cli(capsys, "--stage", "staging", "--instance-type", "ml.g5.xlarge")
    assert code == 0, stderr
    models = json.loads((tmp_path / "deploy" / "staging-params.json").read_text())["Models"]
    assert {model["InstanceType"] for model in models.values()} == {"ml.g5.xlarge"}


def test_cli_cloudformation_parameter_list(sm, tmp_path, capsys):
    make_groups(sm)
    arns = approved_pair(sm, "c7")
    out = tmp_path / "cfn.json"

    code, _, stderr = run_cli(capsys, "--stage", "staging", "--format", "cloudformation", "--out", str(out))

    assert code == 0, stderr
    parameters = json.loads(out.read_text())
    assert all(set(p) == {"ParameterKey", "ParameterValue"} and isinstance(p["ParameterValue"], str)
               for p in parameters)
    values = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    assert len(values) == len(parameters)
    assert values["StageName"] == "staging"
    assert values["DiarizationModelPackageArn"] == arns["diarization"]
    assert values["TranscriptionModelPackageArn"] == arns["transcription"]
    assert values["TranscriptionImageUri"] == image("transcription", "c7")
    assert values["DiarizationModelDataUrl"] == model_data("diarization", "c7")
    assert values["DiarizationEndpointName"] == "callscope-staging-diarization"
    assert values["TranscriptionInstanceType"] == "ml.m5.large"
    assert values["TranscriptionInstanceCount"] == "1"
    assert values["DiarizationModelPackageVersion"] == "1"


@pytest.mark.parametrize("fmt", ["json", "cloudformation"])
def test_cli_prod_same_as_staging(sm, tmp_path, capsys, fmt):
    make_groups(sm)
    staged = approved_pair(sm, "c1")
    staging = tmp_path / "staging.json"
    assert run_cli(capsys, "--stage", "staging", "--format", fmt, "--out", str(staging))[0] == 0
    approved_pair(sm, "c2")  # approved after staging was tested

    prod = tmp_path / "prod.json"
    code, _, stderr = run_cli(capsys, "--stage", "prod", "--same-as", str(staging), "--out", str(prod))
    assert code == 0, stderr
    models = json.loads(prod.read_text())["Models"]
    assert {kind: model["ModelPackageArn"] for kind, model in models.items()} == staged

    sm.update_model_package(ModelPackageArn=staged["transcription"], ModelApprovalStatus="Rejected")
    code, stdout, stderr = run_cli(capsys, "--stage", "prod", "--same-as", str(staging), "--out", str(prod))
    assert code == 2
    assert stderr.count("\n") == 1 and "Rejected" in stderr and staged["transcription"] in stderr


def test_cli_packages_of_different_runs(sm, tmp_path, capsys):
    """Approving one model of a newer run pairs it with the other model of an older run."""
    make_groups(sm)
    approved_pair(sm, "c1")
    newer = register(sm, f"{BASE}-diarization", "c2", "Approved")
    register(sm, f"{BASE}-transcription", "c2")  # its twin, still pending
    out = tmp_path / "params.json"

    code, _, stderr = run_cli(capsys, "--stage", "staging", "--out", str(out))
    assert code == 0
    assert stderr.startswith("promote-models: warning: ") and stderr.count("\n") == 1
    assert evaluation("c1") in stderr and evaluation("c2") in stderr
    assert json.loads(out.read_text())["Models"]["diarization"]["ModelPackageArn"] == newer
    out.unlink()

    code, stdout, stderr = run_cli(capsys, "--stage", "prod", "--require-same-run", "--out", str(out))
    assert_one_line_error(code, stdout, stderr, "different pipeline runs")
    assert not out.exists()


def test_cli_packages_without_evaluation_report(sm, tmp_path, capsys):
    make_groups(sm)
    register(sm, f"{BASE}-diarization", "c1", "Approved", metrics=False)
    register(sm, f"{BASE}-transcription", "c1", "Approved")
    code, stdout, stderr = run_cli(capsys, "--stage", "staging", "--out", str(tmp_path / "p.json"),
                                   "--require-same-run")
    assert_one_line_error(code, stdout, stderr, "no evaluation report on diarization")


def test_cli_pinned_package_that_does_not_exist(sm, tmp_path, capsys):
    make_groups(sm)
    approved_pair(sm, "c1")
    pinned = tmp_path / "staging.json"
    assert run_cli(capsys, "--stage", "staging", "--out", str(pinned))[0] == 0
    document = json.loads(pinned.read_text())
    document["Models"]["transcription"]["ModelPackageArn"] += "0"  # version 10: never registered
    pinned.write_text(json.dumps(document))
    code, stdout, stderr = run_cli(capsys, "--stage", "prod", "--same-as", str(pinned),
                                   "--out", str(tmp_path / "p.json"))
    assert_one_line_error(code, stdout, stderr, "does not exist", str(pinned))


# --- error paths: exit code 2, one line, no traceback, nothing written -----------------------------


def assert_one_line_error(code: int, stdout: str, stderr: str, *needles: str, expected_code: int = 2) -> None:
    assert code == expected_code
    assert stdout == ""
    assert stderr.startswith("promote-models: error: ") and stderr.endswith("\n")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr


def test_cli_missing_group(sm, tmp_path, capsys):
    sm.create_model_package_group(ModelPackageGroupName=f"{BASE}-diarization")
    register(sm, f"{BASE}-diarization", "c1", "Approved")
    out = tmp_path / "params.json"

    code, stdout, stderr = run_cli(capsys, "--stage", "staging", "--out", str(out))

    assert_one_line_error(code, stdout, stderr, f"{BASE}-transcription", "does not exist")
    assert not out.exists()


def test_cli_no_approved_package(sm, tmp_path, capsys):
    make_groups(sm)
    register(sm, f"{BASE}-diarization", "c1", "Approved")
    register(sm, f"{BASE}-transcription", "c1")
    register(sm, f"{BASE}-transcription", "c2", "Rejected")
    out = tmp_path / "params.json"

    code, stdout, stderr = run_cli(capsys, "--stage", "prod", "--out", str(out))

    assert_one_line_error(code, stdout, stderr, f"{BASE}-transcription", "no Approved model package")
    assert not out.exists()


@pytest.mark.parametrize("option", [["--instance-type", "m5.large"], ["--instance-type", "audio=ml.m5.large"],
                                    ["--instance-count", "0"]])
def test_cli_bad_sizes(sm, tmp_path, capsys, option):
    make_groups(sm)
    approved_pair(sm, "c1")
    code, stdout, stderr = run_cli(capsys, "--stage", "staging", "--out", str(tmp_path / "p.json"), *option)
    assert_one_line_error(code, stdout, stderr, option[1])


def test_cli_no_region(aws_env, monkeypatch, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    code = main(["--model-package-group-name", BASE, "--stage", "staging"])
    captured = capsys.readouterr()
    assert_one_line_error(code, captured.out, captured.err, "--region")


def test_cli_other_aws_error_is_one_line_exit_1(aws_env, monkeypatch, tmp_path, capsys):
    client = boto3.client("sagemaker", region_name=REGION)
    stub = Stubber(client)
    stub.add_client_error("describe_model_package_group", "AccessDeniedException",
                          "User: arn:aws:sts::123456789012:assumed-role/x is not authorized\nto perform it")
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)

    code, stdout, stderr = run_cli(capsys, "--stage", "staging", "--out", str(tmp_path / "p.json"))

    assert_one_line_error(code, stdout, stderr, "AccessDeniedException", expected_code=1)


def test_cli_process_exit_code_against_moto_server(aws_env, tmp_path):
    """The real console entry point, in its own process, against moto's server (a local port)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = ""
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client("sagemaker", region_name=REGION, endpoint_url=endpoint)
        client.create_model_package_group(ModelPackageGroupName="served-diarization")
        env = {**os.environ, "AWS_ENDPOINT_URL_SAGEMAKER": endpoint}
        command = [sys.executable, "-m", "pipelines.post_call_analytics.promote",
                   "--model-package-group-name", "served", "--stage", "staging",
                   "--out", str(tmp_path / "p.json")]

        missing = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        # both groups' problems in the one line
        assert_one_line_error(missing.returncode, missing.stdout, missing.stderr,
                              "'served-diarization' has no Approved", "'served-transcription' does not exist")

        client.create_model_package_group(ModelPackageGroupName="served-transcription")
        for group in ("served-diarization", "served-transcription"):
            register(client, group, "c1", "Approved")
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads((tmp_path / "p.json").read_text())["Models"]["transcription"]["ImageUri"] == image(
            "transcription", "c1")
    finally:
        if endpoint:
            import requests

            requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()
