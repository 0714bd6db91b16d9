"""Promote the latest approved model packages to a deployment stage.

The SageMaker pipeline registers two model packages per run, with status PendingManualApproval, in
the groups ``<BASE>-diarization`` and ``<BASE>-transcription``. Once a person approves them (Studio,
or ``aws sagemaker update-model-package --model-approval-status Approved``), ``promote-models``
finds the newest Approved package of each group and writes the parameters a deployment needs::

    promote-models --model-package-group-name callscope --stage staging
    promote-models --model-package-group-name callscope --stage prod \\
        --same-as deploy/staging-params.json          # prod gets exactly what staging tested

Output formats (``--format``):

- ``json`` (default): ``{"Stage", "Region", "ModelPackageGroupName", "Models": {"diarization":
  {...}, "transcription": {...}}}``, each model with its package ARN, version, image URI, model
  data URL, endpoint name, instance type and count.
- ``cloudformation``: the same values as a CloudFormation parameter list,
  ``[{"ParameterKey": "DiarizationModelPackageArn", "ParameterValue": "..."}, ...]`` (all values
  strings), for ``aws cloudformation create-stack --parameters file://deploy/staging-params.json``.

Each group is searched on its own; when the two packages do not carry the same evaluation report
(ModelMetrics, written once per pipeline run) they were never evaluated together: a warning, or an
error with ``--require-same-run``.

Exit codes: 0 written; 2 a group does not exist, has no approved package, a pinned package is no
longer approved, the packages come from different runs under
``--require-same-run``, bad arguments, or boto3 not installed (the ``pipelines`` extra); 1 any other AWS error.
Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.post_call_analytics.extra import missing_extra

PROG = "promote-models"
MODEL_KINDS = ("diarization", "transcription")
STAGES = ("staging", "prod")
DEFAULT_ENDPOINT_PREFIX = "callscope"


@dataclass(frozen=True)
class StageDefaults:
    """Endpoint size of a stage unless ``--instance-type`` / ``--instance-count`` say otherwise."""

    instance_type: str
    instance_count: int


# Both containers run on CPU by default (ONNX diarizer, int8 faster-whisper). Prod gets two
# instances so SageMaker spreads the endpoint over two availability zones.
STAGE_DEFAULTS: dict[str, StageDefaults] = {
    "staging": StageDefaults(instance_type="ml.m5.large", instance_count=1),
    "prod": StageDefaults(instance_type="ml.m5.xlarge", instance_count=2),
}


class PromotionError(Exception):
    """A condition the CLI reports as one line with exit code 2."""


class ModelPackageGroupNotFound(PromotionError):
    pass


class NoApprovedPackage(PromotionError):
    pass


@dataclass(frozen=True)
class ApprovedPackage:
    """One model package of the registry, as a deployment needs it."""

    group: str
    arn: str
    version: int | None
    image_uris: tuple[str, ...]  # one per inference container, in order
    model_data_url: str | None  # of the first container that has one
    creation_time: datetime
    approval_status: str
    # ModelMetrics' model-quality statistics: the pipeline's evaluation report of the run that
    # registered the package, the same object for both packages of one run
    evaluation_uri: str | None = None

    @property
    def image_uri(self) -> str:
        return self.image_uris[0]


def group_names(base: str) -> dict[str, str]:
    """The two model package groups the pipeline registers into, by model kind."""
    return {kind: f"{base}-{kind}" for kind in MODEL_KINDS}


def _error_code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def check_group_exists(sagemaker_client: Any, group_name: str) -> None:
    """Raise ModelPackageGroupNotFound unless the group exists.

    ``list_model_packages`` answers an empty list for a group that does not exist, which would read
    as "nothing approved"; describing the group first tells the two apart.
    """
    try:
        sagemaker_client.describe_model_package_group(ModelPackageGroupName=group_name)
    except Exception as error:  # botocore's ClientError; boto3 stays an optional dependency
        if _error_code(error) in ("ValidationException", "ResourceNotFound"):
            raise ModelPackageGroupNotFound(f"model package group {group_name!r} does not exist") from error
        raise


def iter_approved_summaries(
    sagemaker_client: Any, group_name: str, *, page_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every Approved package summary of a group, newest first as the service sorts, all pages."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group_name,
        "ModelApprovalStatus": "Approved",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if page_size is not None:
        request["MaxResults"] = page_size
    seen_tokens: set[str] = set()
    while True:
        response = sagemaker_client.list_model_packages(**request)
        yield from response.get("ModelPackageSummaryList", [])
        token = response.get("NextToken")
        # A page may be short or even empty while more follow: stop only when no token comes back.
        if not token or token in seen_tokens:
            return
        seen_tokens.add(token)
        request["NextToken"] = token


def describe_package(sagemaker_client: Any, package_arn: str) -> ApprovedPackage:
    """The registry's record of one package (its containers come from ``describe_model_package``)."""
    description = sagemaker_client.describe_model_package(ModelPackageName=package_arn)
    containers = description.get("InferenceSpecification", {}).get("Containers", [])
    image_uris = tuple(container["Image"] for container in containers if container.get("Image"))
    if not image_uris:
        raise PromotionError(f"model package {package_arn} has no inference container image")
    model_data_url = None
    for container in containers:
        model_data_url = container.get("ModelDataUrl") or (
            container.get("ModelDataSource", {}).get("S3DataSource", {}).get("S3Uri")
        )
        if model_data_url:
            break
    return ApprovedPackage(
        group=description.get("ModelPackageGroupName", ""),
        arn=description["ModelPackageArn"],
        version=description.get("ModelPackageVersion"),
        image_uris=image_uris,
        model_data_url=model_data_url,
        creation_time=description["CreationTime"],
        approval_status=description.get("ModelApprovalStatus", ""),
        evaluation_uri=(description.get("ModelMetrics", {}).get("ModelQuality", {})
                        .get("Statistics", {}).get("S3Uri")),
    )


def latest_approved(
    sagemaker_client: Any, group_name: str, *, page_size: int | None = None
) -> ApprovedPackage | None:
    """The newest Approved package of a group, or None when the group has none.

    Reads every page and orders by (CreationTime, version) itself, so the answer does not depend on
    the service's sort or on where pages break. A package whose description no longer says Approved
    (rejected between the two calls) is skipped. Raises ModelPackageGroupNotFound for a missing group.
    """
    check_group_exists(sagemaker_client, group_name)
    return newest_approved(sagemaker_client, group_name, page_size=page_size)


def newest_approved(
    sagemaker_client: Any, group_name: str, *, page_size: int | None = None
) -> ApprovedPackage | None:
    """latest_approved without first checking that the group exists (a missing group lists nothing)."""
    summaries = sorted(
        iter_approved_summaries(sagemaker_client, group_name, page_size=page_size),
        key=lambda summary: (summary["CreationTime"], summary.get("ModelPackageVersion") or 0),
        reverse=True,
    )
    for summary in summaries:
        package = describe_package(sagemaker_client, summary["ModelPackageArn"])
        if package.approval_status == "Approved":
            return package
    return None


# --- deployment parameters -----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelDeployment:
    kind: str
    package: ApprovedPackage
    endpoint_name: str
    instance_type: str
    instance_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "ModelPackageGroupName": self.package.group,
            "ModelPackageArn": self.package.arn,
            "ModelPackageVersion": self.package.version,
            "ModelApprovalStatus": self.package.approval_status,
            "CreationTime": self.package.creation_time.isoformat(),
            "ImageUri": self.package.image_uri,
            "ModelDataUrl": self.package.model_data_url,
            "EvaluationReport": self.package.evaluation_uri,
            "EndpointName": self.endpoint_name,
            "InstanceType": self.instance_type,
            "InitialInstanceCount": self.instance_count,
        }


def deployment_document(
    stage: str, region: str, base_group: str, deployments: Sequence[ModelDeployment],
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    document = {
        "Stage": stage,
        "Region": region,
        "ModelPackageGroupName": base_group,
        "Models": {deployment.kind: deployment.as_dict() for deployment in deployments},
    }
    if extra:
        document["Parameters"] = dict(extra)
    return document


def cloudformation_parameters(
    stage: str, deployments: Sequence[ModelDeployment], extra: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """``[{"ParameterKey": ..., "ParameterValue": ...}]``: StageName, per model Kind + field, then
    the ``--parameter`` values (the stack's settings that are not the models', deploy/endpoints.yml)."""
    parameters = [{"ParameterKey": "StageName", "ParameterValue": stage}]
    for deployment in deployments:
        prefix = deployment.kind.capitalize()
        values = {
            "ModelPackageArn": deployment.package.arn,
            "ModelPackageVersion": deployment.package.version,
            "ImageUri": deployment.package.image_uri,
            "ModelDataUrl": deployment.package.model_data_url or "",
            "EndpointName": deployment.endpoint_name,
            "InstanceType": deployment.instance_type,
            "InstanceCount": deployment.instance_count,
        }
        parameters += [{"ParameterKey": prefix + key, "ParameterValue": str(value)}
                       for key, value in values.items()]
    parameters += [{"ParameterKey": key, "ParameterValue": value} for key, value in (extra or {}).items()]
    return parameters


def pinned_arns(path: Path) -> dict[str, str]:
    """The package ARN of each model in a file this command wrote earlier (either format)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PromotionError(f"cannot read {path}: {error}") from error
    arns: dict[str, str] = {}
    if isinstance(document, dict):
        for kind, model in (document.get("Models") or {}).items():
            if isinstance(model, dict) and model.get("ModelPackageArn"):
                arns[kind] = model["ModelPackageArn"]
    elif isinstance(document, list):
        for parameter in document:
            if not isinstance(parameter, dict):
                continue
            key = str(parameter.get("ParameterKey", ""))
            for kind in MODEL_KINDS:
                if key == kind.capitalize() + "ModelPackageArn":
                    arns[kind] = str(parameter.get("ParameterValue", ""))
    missing = [kind for kind in MODEL_KINDS if not arns.get(kind)]
    if missing:
        raise PromotionError(f"{path} names no model package ARN for {', '.join(missing)}")
    return arns


def run_mismatch(deployments: Sequence[ModelDeployment]) -> str | None:
    """Why the packages may not have been evaluated together, or None when one run registered all.

    Each group is searched on its own, so approving only one model of a run pairs it with the other
    model of an older run: a combination the pipeline never evaluated.
    """
    reports = {deployment.kind: deployment.package.evaluation_uri for deployment in deployments}
    if len(set(reports.values())) <= 1 and None not in reports.values():
        return None
    if None in reports.values():
        missing = ", ".join(kind for kind, uri in reports.items() if uri is None)
        return f"cannot tell whether the packages were evaluated together: no evaluation report on {missing}"
    listed = ", ".join(f"{kind} {uri}" for kind, uri in reports.items())
    return f"the packages come from different pipeline runs and were not evaluated together ({listed})"


# --- command line --------------------------------------------------------------------------------


def _per_kind(values: Sequence[str], option: str, convert: Any) -> dict[str, Any]:
    """``VALUE`` applies to every model, ``KIND=VALUE`` to one; later ones win."""
    result: dict[str, Any] = {}
    for value in values:
        kind, sep, raw = value.partition("=")
        if not sep:
            kind, raw = "", value
        if kind and kind not in MODEL_KINDS:
            raise PromotionError(f"{option} {value!r}: model must be one of {', '.join(MODEL_KINDS)}")
        try:
            converted = convert(raw)
        except ValueError as error:
            raise PromotionError(f"{option} {value!r}: {error}") from error
        for target in [kind] if kind else MODEL_KINDS:
            result[target] = converted
    return result


def _extra_parameters(values: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs for the stack; a model's own parameters are this command's to write."""
    model_keys = {kind.capitalize() for kind in MODEL_KINDS}
    extra: dict[str, str] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key.isalnum():
            raise PromotionError(f"--parameter {value!r}: expected KEY=VALUE with an alphanumeric KEY")
        if key == "StageName" or any(key.startswith(prefix) for prefix in model_keys):
            raise PromotionError(f"--parameter {value!r}: {key} is written from the registry, not given")
        extra[key] = raw
    return extra


def _instance_type(raw: str) -> str:
    if not raw.startswith("ml.") or len(raw.split(".")) != 3:
        raise ValueError("expected a SageMaker instance type such as ml.m5.large")
    return raw


def _instance_count(raw: str) -> int:
    count = int(raw)
    if count < 1:
        raise ValueError("expected a count of at least 1")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Write deployment parameters for the newest Approved diarization and "
        "transcription model packages (groups BASE-diarization and BASE-transcription).",
    )
    parser.add_argument("--model-package-group-name", required=True, metavar="BASE",
                        help="base name of the two model package groups")
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--region", help="AWS region (default: AWS_DEFAULT_REGION / the profile's)")
    parser.add_argument("--out", type=Path, help="output file (default: deploy/<stage>-params.json)")
    parser.add_argument("--format", choices=("json", "cloudformation"), default="json",
                        help="json: one document with a section per model (default); "
                        "cloudformation: a [{ParameterKey, ParameterValue}] list")
    parser.add_argument("--instance-type", action="append", default=[], metavar="[MODEL=]TYPE",
                        help="endpoint instance type for both models, or for one (repeatable); "
                        + ", ".join(f"{stage} default {d.instance_type}" for stage, d in STAGE_DEFAULTS.items()))
    parser.add_argument("--instance-count", action="append", default=[], metavar="[MODEL=]N",
                        help="initial instance count, as --instance-type; "
                        + ", ".join(f"{stage} default {d.instance_count}" for stage, d in STAGE_DEFAULTS.items()))
    parser.add_argument("--endpoint-prefix", default=DEFAULT_ENDPOINT_PREFIX,
                        help="endpoints are named PREFIX-<stage>-<model> (default: %(default)s)")
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE",
                        help="a further stack parameter written into the output as it is, e.g. "
                        "AsyncBucket=my-bucket for deploy/endpoints.yml (repeatable)")
    parser.add_argument("--require-same-run", action="store_true",
                        help="fail (exit 2) unless both packages carry the same evaluation report, i.e. one "
                        "pipeline run registered and evaluated them together (default: warn)")
    parser.add_argument("--same-as", type=Path, metavar="FILE",
                        help="deploy the packages named in FILE (written earlier by this command, e.g. "
                        "for staging) instead of the newest approved ones; they must still be Approved")
    return parser


def _resolve_region(region: str | None) -> str:
    if region:
        return region
    import boto3

    found = boto3.session.Session().region_name
    if not found:
        raise PromotionError("no AWS region: pass --region or set AWS_DEFAULT_REGION")
    return found


def _package_for(
    sagemaker_client: Any, group: str, pinned_arn: str | None, pinned_from: Path | None
) -> ApprovedPackage:
    if pinned_arn is None:
        package = latest_approved(sagemaker_client, group)
        if package is None:
            raise NoApprovedPackage(
                f"model package group {group!r} has no Approved model package (approve one first)"
            )
        return package
    try:
        package = describe_package(sagemaker_client, pinned_arn)
    except Exception as error:
        if _error_code(error) in ("ValidationException", "ResourceNotFound"):
            raise PromotionError(f"{pinned_arn} (from {pinned_from}) does not exist") from error
        raise
    if package.group and package.group != group:
        raise PromotionError(f"{pinned_arn} (from {pinned_from}) is in group {package.group!r}, not {group!r}")
    if package.approval_status != "Approved":
        raise NoApprovedPackage(
            f"{pinned_arn} (from {pinned_from}) is {package.approval_status or 'not approved'}, not Approved"
        )
    return package


def promote(args: argparse.Namespace, sagemaker_client: Any, region: str) -> tuple[Path, list[ModelDeployment]]:
    defaults = STAGE_DEFAULTS[args.stage]
    instance_types = _per_kind(args.instance_type, "--instance-type", _instance_type)
    instance_counts = _per_kind(args.instance_count, "--instance-count", _instance_count)
    groups = group_names(args.model_package_group_name)
    pins = pinned_arns(args.same_as) if args.same_as else {}
    extra = _extra_parameters(args.parameter)

    deployments = []
    problems: list[str] = []  # every group's problem in the one error line, not just the first
    for kind in MODEL_KINDS:
        try:
            package = _package_for(sagemaker_client, groups[kind], pins.get(kind), args.same_as)
        except PromotionError as error:
            problems.append(str(error))
            continue
        deployments.append(ModelDeployment(
            kind=kind,
            package=package,
            endpoint_name=f"{args.endpoint_prefix}-{args.stage}-{kind}",
            instance_type=instance_types.get(kind, defaults.instance_type),
            instance_count=instance_counts.get(kind, defaults.instance_count),
        ))
    if problems:
        raise PromotionError("; ".join(problems))
    mismatch = run_mismatch(deployments)
    if mismatch and args.require_same_run:
        raise PromotionError(mismatch)
    if mismatch:
        print(f"{PROG}: warning: {mismatch}", file=sys.stderr)

    if args.format == "cloudformation":
        document: Any = cloudformation_parameters(args.stage, deployments, extra)
    else:
        document = deployment_document(args.stage, region, args.model_package_group_name, deployments, extra)
    out = args.out or Path("deploy") / f"{args.stage}-params.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return out, deployments


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        region = _resolve_region(args.region)
        import boto3

        client = boto3.client("sagemaker", region_name=region)
        out, deployments = promote(args, client, region)
    except PromotionError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # boto3 comes with the `pipelines` extra
        message = missing_extra(error)
        if message is None:
            raise
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except Exception as error:  # AWS errors (access denied, no credentials, throttling): one line
        if type(error).__module__.split(".")[0] not in ("botocore", "boto3"):
            raise
        print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    for deployment in deployments:
        package = deployment.package
        print(f"{deployment.kind}: {package.group} version {package.version} ({package.arn}) "
              f"-> {deployment.endpoint_name} on {deployment.instance_count} x {deployment.instance_type}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
