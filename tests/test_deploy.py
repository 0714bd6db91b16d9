"""The deploy side: every CloudFormation template passes cfn-lint; the endpoints stack, built in moto
from what promote-models writes, serves the approved packages; the approval rule matches approvals only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("boto3", reason="promote-models needs the aws extra (boto3)")
moto = pytest.importorskip("moto", reason="these tests need moto[server]==5.2.5 (dev extra)")
cfn_yaml = pytest.importorskip("cfnlint.decode.cfn_yaml", reason="cfn-lint comes with the dev extra")

import boto3  # noqa: E402

from pipelines.post_call_analytics import promote  # noqa: E402
from tests.conftest import fake_aws_variables  # noqa: E402
from tests.test_buildspec import STUB, recorded_calls  # noqa: E402
from tests.test_promote import (  # noqa: E402
    BASE,
    REGION,
    aws_env,  # noqa: E402,F401  (fixture)
    evaluation,
    image,
    make_groups,
    model_data,
    register,
)

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ROOT / "deploy" / "endpoints.yml"
DEPLOY_PIPELINE = ROOT / "deploy" / "deploy-pipeline.yml"
SKIPPED_DIRS = {".git", ".venv", "build", "node_modules", "results"}


def cloudformation_templates() -> list[Path]:
    """Every file of the repository that is a CloudFormation template."""
    found = []
    for path in ROOT.rglob("*"):
        if path.suffix not in (".yml", ".yaml", ".json", ".template") or not path.is_file():
            continue
        if SKIPPED_DIRS & set(path.relative_to(ROOT).parts):
            continue
        if "AWSTemplateFormatVersion" in path.read_text(encoding="utf-8", errors="replace")[:2000]:
            found.append(path)
    return sorted(found)


def test_the_templates_are_found():
    assert {ENDPOINTS, DEPLOY_PIPELINE} <= set(cloudformation_templates())


def test_every_template_passes_cfn_lint():
    templates = [str(path) for path in cloudformation_templates()]
    result = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                             *templates], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def template_actions() -> set[str]:
    """Every IAM action the templates' policies allow (not their trust policies)."""
    actions: set[str] = set()
    for path in cloudformation_templates():
        for resource in cfn_yaml.load(str(path))["Resources"].values():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    action = statement["Action"]
                    actions.update([action] if isinstance(action, str) else action)
    return actions


def test_every_iam_action_of_the_templates_exists():
    from tests.test_aws_docs import PERMISSION_ONLY, SERVICE_MODELS, operations

    actions = template_actions()
    assert "sagemaker:CreateEndpoint" in actions and "sns:Publish" in actions
    unknown = []
    for action in sorted(actions):
        prefix, _, name = action.partition(":")
        assert prefix in SERVICE_MODELS, f"{action}: add its botocore service model to SERVICE_MODELS"
        if action not in PERMISSION_ONLY and name not in operations(prefix):
            unknown.append(action)
    assert not unknown, f"not operations of botocore's services: {unknown}"


def template_parameters(path: Path) -> dict[str, dict]:
    return cfn_yaml.load(str(path))["Parameters"]


# --- the deploy flow in moto ---------------------------------------------------------------------


@pytest.fixture
def aws(aws_env):
    with moto.mock_aws():
        yield {name: boto3.client(name, region_name=REGION) for name in ("sagemaker", "cloudformation", "sns")}


def approved_pair(sm, run: str) -> dict[str, str]:
    """Both packages of one pipeline run, approved."""
    return {kind: register(sm, group, run, "Approved") for kind, group in promote.group_names(BASE).items()}


def promoted(tmp_path: Path, stage: str, *extra: str) -> list[dict[str, str]]:
    out = tmp_path / f"{stage}-params.json"
    code = promote.main(["--model-package-group-name", BASE, "--stage", stage, "--region", REGION,
                         "--format", "cloudformation", "--parameter", "AsyncBucket=calls-bucket",
                         "--require-same-run", "--out", str(out), *extra])
    assert code == 0
    return json.loads(out.read_text())


def deploy_stack(cloudformation, stage: str, parameters: list[dict[str, str]]) -> dict[str, str]:
    """Create the stage's endpoints stack as deploy/buildspec.yml does; its outputs."""
    stack = f"callscope-{stage}"
    cloudformation.create_stack(StackName=stack, TemplateBody=ENDPOINTS.read_text(), Parameters=parameters,
                                Capabilities=["CAPABILITY_IAM"])
    description = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    assert description["StackStatus"] == "CREATE_COMPLETE", description.get("StackStatusReason")
    return {output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])}


def stack_endpoints(cloudformation, stage: str) -> dict[str, str]:
    """The stack's endpoint names by logical ID (moto names them itself, ignoring EndpointName)."""
    resources = cloudformation.describe_stack_resources(StackName=f"callscope-{stage}")["StackResources"]
    return {resource["LogicalResourceId"]: resource["PhysicalResourceId"].rsplit("/", 1)[-1]
            for resource in resources if resource.get("ResourceType") == "AWS::SageMaker::Endpoint"}


def endpoint_models(sm, endpoint_name: str) -> tuple[dict, dict]:
    """The endpoint's config and the model of its one variant."""
    config_name = sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    config = sm.describe_endpoint_config(EndpointConfigName=config_name)
    (variant,) = config["ProductionVariants"]
    return config, sm.describe_model(ModelName=variant["ModelName"])


def test_promote_models_writes_exactly_the_parameters_the_template_needs(aws, tmp_path):
    make_groups(aws["sagemaker"])
    approved_pair(aws["sagemaker"], "r1")

    written = {parameter["ParameterKey"] for parameter in promoted(tmp_path, "staging")}

    declared = template_parameters(ENDPOINTS)
    required = {name for name, spec in declared.items() if "Default" not in spec}
    assert written <= set(declared), f"not in the template: {written - set(declared)}"
    assert required <= written, f"the template needs: {required - written}"


def test_staging_then_prod_deploy_the_approved_packages(aws, tmp_path):
    sm, cloudformation = aws["sagemaker"], aws["cloudformation"]
    make_groups(sm)
    first_run = approved_pair(sm, "r1")

    staging = promoted(tmp_path, "staging")
    outputs = deploy_stack(cloudformation, "staging", staging)

    topics = {topic["TopicArn"] for topic in aws["sns"].list_topics()["Topics"]}
    assert {outputs["ResultsTopicArn"], outputs["ErrorsTopicArn"]} <= topics
    endpoints = stack_endpoints(cloudformation, "staging")
    for kind, package_arn in first_run.items():
        endpoint = endpoints[f"{kind.capitalize()}AsyncEndpoint"]
        assert outputs[f"{kind.capitalize()}AsyncEndpointName"] == endpoint
        config, model = endpoint_models(sm, endpoint)
        # the endpoint runs the approved package itself: its image and model data come from the registry
        assert model["PrimaryContainer"]["ModelPackageName"] == package_arn
        assert model["PrimaryContainer"]["Environment"]["CALLSCOPE_ENDPOINT"] == "async"
        output = config["AsyncInferenceConfig"]["OutputConfig"]
        assert output["NotificationConfig"] == {"SuccessTopic": outputs["ResultsTopicArn"],
                                                "ErrorTopic": outputs["ErrorsTopicArn"]}
        assert output["S3OutputPath"] == f"s3://calls-bucket/callscope/async/staging/{kind}/results"
        assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
        _, realtime = endpoint_models(sm, endpoints[f"{kind.capitalize()}RealtimeEndpoint"])
        assert realtime["PrimaryContainer"] == {"ModelPackageName": package_arn,
                                                "Environment": {"CALLSCOPE_ENDPOINT": "realtime"}}
        tags = {tag["Key"]: tag["Value"] for tag in sm.list_tags(ResourceArn=model["ModelArn"])["Tags"]}
        assert tags["callscope:image"] == image(kind, "r1")
        assert tags["callscope:model-data"] == model_data(kind, "r1")

    # A newer run is approved meanwhile: prod still gets what staging ran.
    approved_pair(sm, "r2")
    prod = promoted(tmp_path, "prod", "--same-as", str(tmp_path / "staging-params.json"),
                    "--parameter", "RealtimeEndpoints=false")
    deploy_stack(cloudformation, "prod", prod)
    endpoints = stack_endpoints(cloudformation, "prod")
    assert set(endpoints) == {"DiarizationAsyncEndpoint", "TranscriptionAsyncEndpoint"}  # no real-time ones
    for kind, package_arn in first_run.items():
        config, model = endpoint_models(sm, endpoints[f"{kind.capitalize()}AsyncEndpoint"])
        assert model["PrimaryContainer"]["ModelPackageName"] == package_arn
        assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
        assert config["ProductionVariants"][0]["InitialInstanceCount"] == 2


def test_endpoints_are_named_as_promote_models_says():
    """Checked on the template: moto names endpoints itself."""
    resources = cfn_yaml.load(str(ENDPOINTS))["Resources"]
    for kind in ("Diarization", "Transcription"):
        assert resources[f"{kind}AsyncEndpoint"]["Properties"]["EndpointName"] == {"Ref": f"{kind}EndpointName"}
        realtime = resources[f"{kind}RealtimeEndpoint"]["Properties"]["EndpointName"]
        assert realtime == {"Fn::Sub": f"${{{kind}EndpointName}}-realtime"}


def test_a_mixed_pair_is_not_deployed(aws, tmp_path, capsys):
    sm = aws["sagemaker"]
    groups = make_groups(sm)
    approved_pair(sm, "r1")
    register(sm, groups["diarization"], "r2", "Approved")  # only one model of the newer run

    code = promote.main(["--model-package-group-name", BASE, "--stage", "staging", "--region", REGION,
                         "--format", "cloudformation", "--require-same-run", "--out", str(tmp_path / "p.json")])

    assert code == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and evaluation("r2") in message and evaluation("r1") in message
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize("value", ["StageName=prod", "DiarizationInstanceType=ml.g5.xlarge", "no-equals"])
def test_parameter_cannot_override_what_the_registry_says(aws, tmp_path, capsys, value):
    make_groups(aws["sagemaker"])
    approved_pair(aws["sagemaker"], "r1")
    code = promote.main(["--model-package-group-name", BASE, "--stage", "staging", "--region", REGION,
                         "--parameter", value, "--out", str(tmp_path / "p.json")])
    assert code == 2
    assert value in capsys.readouterr().err


# --- the approval rule ---------------------------------------------------------------------------


def approval_event(group: str, status: str) -> str:
    """A "SageMaker Model Package State Change" event as EventBridge delivers it."""
    return json.dumps({
        "version": "0", "id": "5b2b4a6c-0000-4000-8000-000000000000",
        "detail-type": "SageMaker Model Package State Change", "source": "aws.sagemaker",
        "account": "123456789012", "time": "2026-12-07T10:00:00Z", "region": REGION,
        "resources": [f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{group}/3"],
        "detail": {"ModelPackageGroupName": group, "ModelPackageVersion": 3,
                   "ModelPackageArn": f"arn:aws:sagemaker:{REGION}:123456789012:model-package/{group}/3",
                   "ModelApprovalStatus": status, "CreationTime": 1796637600000},
    })


def approval_pattern(base: str) -> str:
    rule = cfn_yaml.load(str(DEPLOY_PIPELINE))["Resources"]["ApprovedRule"]["Properties"]
    pattern = json.loads(json.dumps(rule["EventPattern"]))
    groups = pattern["detail"]["ModelPackageGroupName"]
    pattern["detail"]["ModelPackageGroupName"] = [
        group["Fn::Sub"].replace("${ModelPackageGroupName}", base) for group in groups]
    return json.dumps(pattern)


@pytest.mark.parametrize(("group", "status", "starts"), [
    ("callscope-diarization", "Approved", True),
    ("callscope-transcription", "Approved", True),
    ("callscope-transcription", "Rejected", False),
    ("callscope-diarization", "PendingManualApproval", False),
    ("other-transcription", "Approved", False),
])
def test_the_approval_rule_starts_the_deploy_only_on_approval(aws_env, group, status, starts):
    """The rule's pattern on an event bus, with a queue standing in for the pipeline as its target."""
    with moto.mock_aws():
        events, sqs = (boto3.client(name, region_name=REGION) for name in ("events", "sqs"))
        queue = sqs.create_queue(QueueName="deploy-starts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="approved", EventPattern=approval_pattern("callscope"))
        events.put_targets(Rule="approved", Targets=[{"Id": "deploy", "Arn": queue_arn}])
        event = json.loads(approval_event(group, status))
        events.put_events(Entries=[{"Source": event["source"], "DetailType": event["detail-type"],
                                    "Resources": event["resources"], "Detail": json.dumps(event["detail"])}])
        delivered = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", [])
    assert bool(delivered) is starts
    if starts:
        assert json.loads(delivered[0]["Body"])["detail"]["ModelPackageGroupName"] == group


def test_the_rule_targets_the_deploy_pipeline_which_deploys_staging_then_waits_for_a_person():
    resources = cfn_yaml.load(str(DEPLOY_PIPELINE))["Resources"]
    (target,) = resources["ApprovedRule"]["Properties"]["Targets"]
    assert "${DeployPipeline}" in target["Arn"]["Fn::Sub"]
    stages = resources["DeployPipeline"]["Properties"]["Stages"]
    assert [stage["Name"] for stage in stages] == ["Source", "DeployStaging", "ApproveProd", "DeployProd"]
    prod_inputs = [artifact["Name"] for artifact in stages[3]["Actions"][0]["InputArtifacts"]]
    assert prod_inputs == ["Source", "StagingParams"]


# --- deploy/buildspec.yml: its commands in bash, promote-models real against moto's server ---------

DEPLOY_ENV = {"MODEL_PACKAGE_GROUP_NAME": BASE, "PROJECT_NAME": "callscope", "ASYNC_BUCKET": "calls-bucket",
              "CLOUDFORMATION_ROLE_ARN": "arn:aws:iam::123456789012:role/callscope-endpoints-stack"}


@pytest.fixture
def moto_server(aws_env):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def run_deploy_buildspec(tmp_path: Path, endpoint: str, stage: str, **extra_env: str):
    """CodeBuild's run of deploy/buildspec.yml for one stage: (result, aws calls, the work folder)."""

    spec = cfn_yaml.load(str(ROOT / "deploy" / "buildspec.yml"))  # plain YAML: the loader reads it too
    stubs = tmp_path / f"stubs-{stage}"
    stubs.mkdir()
    for name in ("aws", "pip"):
        (stubs / name).write_text(STUB)  # records its arguments, as in buildspec.yml's dry run
        (stubs / name).chmod(0o755)
    (stubs / "python").symlink_to(sys.executable)
    work = tmp_path / stage
    work.mkdir()
    log = tmp_path / f"{stage}.log"
    log.write_text("")
    script = "set -e\n" + "\n".join(command for phase in ("install", "build")
                                      for command in spec["phases"][phase]["commands"]) + "\n"
    env = {"PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), "STUB_LOG": str(log),
           "PYTHONPATH": str(ROOT), "AWS_ENDPOINT_URL_SAGEMAKER": endpoint, **fake_aws_variables(REGION),
           **spec["env"]["variables"], **DEPLOY_ENV, "STAGE": stage, **extra_env}
    result = subprocess.run([shutil.which("bash"), "-c", script], cwd=work, env=env, capture_output=True,
                            text=True, timeout=120)
    return result, recorded_calls(log), work


def deploy_call(calls: list[list[str]]) -> list[str]:
    (call,) = [call for call in calls if call[:3] == ["aws", "cloudformation", "deploy"]]
    return call


def test_deploy_buildspec_promotes_then_deploys_each_stage(moto_server, tmp_path):
    sm = boto3.client("sagemaker", region_name=REGION, endpoint_url=moto_server)
    cloudformation = boto3.client("cloudformation", region_name=REGION, endpoint_url=moto_server)
    make_groups(sm)
    first_run = approved_pair(sm, "r1")

    result, calls, work = run_deploy_buildspec(tmp_path, moto_server, "staging")
    assert result.returncode == 0, result.stderr
    deploy = deploy_call(calls)
    assert deploy[deploy.index("--template-file") + 1] == "deploy/endpoints.yml"
    assert deploy[deploy.index("--stack-name") + 1] == "callscope-staging"
    assert deploy[deploy.index("--role-arn") + 1] == DEPLOY_ENV["CLOUDFORMATION_ROLE_ARN"]
    assert "CAPABILITY_IAM" in deploy
    params_file = work / deploy[deploy.index("--parameter-overrides") + 1].removeprefix("file://")
    # what `aws cloudformation deploy` would create, created in moto
    parameters = json.loads(params_file.read_text())
    cloudformation.create_stack(StackName="callscope-staging", TemplateBody=ENDPOINTS.read_text(),
                                Parameters=parameters, Capabilities=["CAPABILITY_IAM"])
    endpoints = stack_endpoints(cloudformation, "staging")
    _, model = endpoint_models(sm, endpoints["TranscriptionAsyncEndpoint"])
    assert model["PrimaryContainer"]["ModelPackageName"] == first_run["transcription"]

    # prod, after a newer pair was approved: the staging build's artifact pins what prod gets
    approved_pair(sm, "r2")
    artifact = tmp_path / "StagingParams"
    shutil.copytree(work / "params", artifact)  # discard-paths: the files at the artifact's root
    result, calls, work = run_deploy_buildspec(tmp_path, moto_server, "prod",
                                               CODEBUILD_SRC_DIR_StagingParams=str(artifact))
    assert result.returncode == 0, result.stderr
    deploy = deploy_call(calls)
    assert deploy[deploy.index("--stack-name") + 1] == "callscope-prod"
    prod = json.loads((work / deploy[deploy.index("--parameter-overrides") + 1].removeprefix("file://")).read_text())
    values = {parameter["ParameterKey"]: parameter["ParameterValue"] for parameter in prod}
    assert values["DiarizationModelPackageArn"] == first_run["diarization"]
    assert values["TranscriptionModelPackageArn"] == first_run["transcription"]
    assert values["AsyncBucket"] == "calls-bucket" and values["StageName"] == "prod"


def test_deploy_buildspec_stops_before_deploying_a_pair_never_evaluated_together(moto_server, tmp_path):
    sm = boto3.client("sagemaker", region_name=REGION, endpoint_url=moto_server)
    groups = make_groups(sm)
    approved_pair(sm, "r1")
    register(sm, groups["transcription"], "r2", "Approved")

    result, calls, _ = run_deploy_buildspec(tmp_path, moto_server, "staging")

    assert result.returncode != 0
    assert "different pipeline runs" in result.stderr
    assert not [call for call in calls if call[:2] == ["aws", "cloudformation"]]
