"""docs/AWS.md: its IAM policies parse, name no wildcard action, and name only real actions.

An IAM action is `prefix:Operation`; botocore's service models (in the venv) list every service's
operations, so each action is checked against the models whose signing name is its prefix. A few
IAM actions are permission-only (no operation of that name), and a few operations are authorised
by another action: both lists are explicit below, with the reason.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import fake_aws_environment

botocore_session = pytest.importorskip("botocore.session", reason="needs botocore (aws extra)")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "AWS.md"

# IAM prefix -> botocore service models that carry its operations (checked: their signing name is
# the prefix, but for CloudWatch, whose API signs as "monitoring")
SERVICE_MODELS = {
    "sagemaker": ["sagemaker"],
    "ecr": ["ecr"],
    "s3": ["s3"],
    "logs": ["logs"],
    "iam": ["iam"],
    "sts": ["sts"],
    "cloudwatch": ["cloudwatch"],
    "comprehend": ["comprehend"],
    "bedrock": ["bedrock", "bedrock-runtime"],  # InvokeModel is a bedrock-runtime operation
    "scheduler": ["scheduler"],
    "events": ["events"],
    "codebuild": ["codebuild"],
    "kms": ["kms"],
    "transcribe": ["transcribe"],
    # the deploy templates (deploy/*.yml, tests/test_deploy.py)
    "sns": ["sns"],
    "application-autoscaling": ["application-autoscaling"],
    "cloudformation": ["cloudformation"],
    "codepipeline": ["codepipeline"],
    "codestar-connections": ["codestar-connections"],
    "codeconnections": ["codeconnections"],
}
SIGNING_NAMES = {"cloudwatch": "monitoring"}
PERMISSION_ONLY = {
    "iam:PassRole": "lets a principal hand a role to a service; no API operation",
    "s3:ListBucket": "authorises ListObjects, ListObjectsV2 and HeadBucket",
    "codestar-connections:UseConnection": "lets a service use a connection's credentials",
    "codeconnections:UseConnection": "the same under the service's new name",
}
AUTHORISED_BY_OTHER_ACTION = {
    "bedrock:Converse": "bedrock:InvokeModel",
    "bedrock:ConverseStream": "bedrock:InvokeModelWithResponseStream",
}
# Actions without resource-level permissions: the only ones allowed on Resource "*".
RESOURCE_STAR_ALLOWED = {
    "ecr:GetAuthorizationToken",
    "sagemaker:ListModelPackages",
    "cloudwatch:PutMetricData",
    "comprehend:DetectSentiment",
    "comprehend:DetectEntities",
    "comprehend:DetectPiiEntities",
    "comprehend:BatchDetectSentiment",
    "comprehend:BatchDetectEntities",
    # Starting a job names no resource; the statements hold them to our output location instead.
    "transcribe:StartTranscriptionJob",
    "transcribe:StartCallAnalyticsJob",
}
# iam:PassRole hands one role to one service only: the service -> the role's placeholder.
PASSED_ROLES = {"sagemaker.amazonaws.com": "${PipelineRoleName}", "transcribe.amazonaws.com": "${TranscribeRoleName}"}


def json_blocks() -> list[tuple[str, str]]:
    """(the heading above it, the block's text) for every ```json block of the doc."""
    blocks, heading, inside, lines = [], "", False, []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if inside:
            if line.strip() == "```":
                blocks.append((heading, "\n".join(lines)))
                inside, lines = False, []
            else:
                lines.append(line)
        elif line.strip() == "```json":
            inside = True
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    assert not inside, "unterminated ```json block"
    return blocks


def policies() -> list[tuple[str, dict]]:
    return [(heading, document) for heading, document in ((h, json.loads(text)) for h, text in json_blocks())
            if isinstance(document, dict) and "Statement" in document]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements(heading_part: str | None = None) -> list[dict]:
    return [statement for heading, document in policies() if heading_part is None or heading_part in heading
            for statement in document["Statement"]]


def actions_of(heading_part: str | None = None, *, identity_only: bool = True) -> set[str]:
    return {action for statement in statements(heading_part)
            if not (identity_only and "Principal" in statement)
            for action in as_list(statement["Action"])}


@cache
def operations(prefix: str) -> frozenset[str]:
    session = botocore_session.get_session()
    names: set[str] = set()
    for service in SERVICE_MODELS[prefix]:
        model = session.get_service_model(service)
        assert model.signing_name == SIGNING_NAMES.get(prefix, prefix), (service, model.signing_name)
        names |= set(model.operation_names)
    return frozenset(names)


def test_every_json_block_parses():
    blocks = json_blocks()
    assert len(blocks) >= 10
    for heading, text in blocks:
        try:
            json.loads(text)
        except ValueError as error:
            pytest.fail(f"JSON block under {heading!r} does not parse: {error}")


def test_policy_shape():
    found = policies()
    assert len(found) >= 9
    for heading, document in found:
        assert document["Version"] == "2012-10-17", heading
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow", heading
            assert "NotAction" not in statement and "NotResource" not in statement, heading
            assert "Action" in statement, heading
            assert ("Principal" in statement) != ("Resource" in statement), heading  # trust xor identity


def test_no_wildcard_actions():
    for heading, document in policies():
        for statement in document["Statement"]:
            for action in as_list(statement["Action"]):
                assert "*" not in action and "?" not in action, f"{heading}: {action}"


def test_every_action_exists():
    unknown = []
    for action in sorted(actions_of(identity_only=False)):
        prefix, _, name = action.partition(":")
        assert prefix in SERVICE_MODELS, f"{action}: add its botocore service model to SERVICE_MODELS"
        assert name and name[0].isupper(), action
        if action in AUTHORISED_BY_OTHER_ACTION:
            unknown.append(f"{action} is not an IAM action: {AUTHORISED_BY_OTHER_ACTION[action]} authorises it")
        elif action not in PERMISSION_ONLY and name not in operations(prefix):
            unknown.append(f"{action}: no operation {name} in botocore's {SERVICE_MODELS[prefix]}")
    assert not unknown, "\n".join(unknown)


def test_permission_only_actions_are_really_not_operations():
    """Keeps the exceptions honest: if botocore ever lists one as an operation, check it normally."""
    for action in PERMISSION_ONLY:
        prefix, _, name = action.partition(":")
        assert name not in operations(prefix), action


def test_resource_star_only_where_no_resource_level_permission():
    for heading, document in policies():
        for statement in document["Statement"]:
            if "*" in as_list(statement.get("Resource", [])):
                extra = set(as_list(statement["Action"])) - RESOURCE_STAR_ALLOWED
                assert not extra, f"{heading} {statement.get('Sid')}: {extra} on Resource *"


def test_arns_are_parameterised():
    for heading, document in policies():
        text = json.dumps(document)
        assert not re.search(r"\b\d{12}\b", text), f"{heading}: a literal account id"
        for statement in document["Statement"]:
            for resource in as_list(statement.get("Resource", [])):
                if resource == "*":
                    continue
                assert resource.startswith("arn:aws:"), resource
                parts = resource.replace("${AWS::Region}", "REGION").replace("${AWS::AccountId}", "ACCOUNT").split(":")
                service, region, account = parts[2:5]
                if service in ("s3", "iam"):
                    assert region == "", resource  # global ARNs
                else:
                    assert region == "REGION", resource
                if service == "s3":
                    assert account == "" and parts[5].startswith("${ArtifactBucket}"), resource
                elif service == "bedrock":
                    assert account in ("ACCOUNT", ""), resource  # foundation models have no account
                else:
                    assert account == "ACCOUNT", resource


def test_pass_role_is_limited_to_one_service_and_its_role():
    for statement in statements():
        if "iam:PassRole" in as_list(statement["Action"]):
            (service,) = statement["Condition"]["StringEquals"].values()
            assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": service}}
            assert statement["Resource"] == f"arn:aws:iam::${{AWS::AccountId}}:role/{PASSED_ROLES[service]}"


def test_each_role_has_what_it_needs():
    codebuild = actions_of("CodeBuild service role")
    assert {"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
            "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
            "sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DescribePipeline",
            "sagemaker:StartPipelineExecution", "iam:PassRole", "s3:GetObject", "s3:PutObject",
            "logs:CreateLogStream", "logs:PutLogEvents"} <= codebuild
    pipeline = actions_of("Pipeline execution role")
    assert {"sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob",
            "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup", "iam:PassRole",
            "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "s3:GetObject", "s3:PutObject", "s3:ListBucket",
            "logs:CreateLogStream", "logs:PutLogEvents", "comprehend:DetectSentiment",
            "bedrock:InvokeModel", "transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob",
            "transcribe:StartCallAnalyticsJob", "transcribe:GetCallAnalyticsJob"} <= pipeline
    assert actions_of("Scheduler role") == {"sagemaker:StartPipelineExecution"}
    trusted = {statement["Principal"]["Service"] for statement in statements() if "Principal" in statement}
    assert trusted == {"codebuild.amazonaws.com", "sagemaker.amazonaws.com", "scheduler.amazonaws.com"}


def test_promotion_role_allows_exactly_what_promote_models_calls(monkeypatch, tmp_path):
    """Runs promote-models against moto and records the SageMaker operations it calls."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    from pipelines.post_call_analytics.promote import main

    fake_aws_environment(monkeypatch, no_config_files=True)
    called: set[str] = set()
    real_client = boto3.client

    def recording_client(*args, **kwargs):
        client = real_client(*args, **kwargs)
        client.meta.events.register("before-call.*.*", lambda model, **_: called.add(
            f"{client.meta.service_model.signing_name}:{model.name}"))
        return client

    with moto.mock_aws():
        admin = real_client("sagemaker", region_name="us-east-1")
        pinned = {}
        for kind in ("diarization", "transcription"):
            admin.create_model_package_group(ModelPackageGroupName=f"callscope-{kind}")
            arn = admin.create_model_package(
                ModelPackageGroupName=f"callscope-{kind}",
                InferenceSpecification={"Containers": [{"Image": f"111122223333.dkr.ecr.us-east-1.amazonaws.com/"
                                                                 f"callscope-{kind}:c1"}],
                                        "SupportedContentTypes": ["audio/wav"],
                                        "SupportedResponseMIMETypes": ["application/json"]},
            )["ModelPackageArn"]
            admin.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
            pinned[kind] = arn
        monkeypatch.setattr(boto3, "client", recording_client)
        staging = tmp_path / "staging.json"
        assert main(["--model-package-group-name", "callscope", "--stage", "staging", "--out", str(staging)]) == 0
        assert main(["--model-package-group-name", "callscope", "--stage", "prod", "--same-as", str(staging),
                     "--out", str(tmp_path / "prod.json")]) == 0

    assert called == actions_of("Promotion role")
