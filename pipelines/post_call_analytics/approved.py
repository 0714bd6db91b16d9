"""The models the batch pipeline may run: the latest Approved package of each model package group.
No SageMaker SDK here, only a boto3 SageMaker client, so the lookup is testable against moto."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.errors import CallscopeError
from pipelines.post_call_analytics.promote import MODEL_KINDS as KINDS
from pipelines.post_call_analytics.promote import PromotionError, newest_approved


class NoApprovedModel(CallscopeError):
    """A group has no Approved package: the batch pipeline cannot run (one line)."""


@dataclass(frozen=True)
class ApprovedPackage:
    arn: str
    image: str
    model_data: str


@dataclass(frozen=True)
class ApprovedModels:
    diarization: ApprovedPackage
    transcription: ApprovedPackage

    @classmethod
    def from_dict(cls, data: dict) -> ApprovedModels:
        """From JSON (`--kwargs '{"approved": {"diarization": {"arn": ..., "image": ..., "model_data": ...},
        "transcription": {...}}}'`): a run on this machine of packages named by hand."""
        try:
            return cls(*(ApprovedPackage(**data[kind]) for kind in KINDS))
        except (KeyError, TypeError) as error:
            raise NoApprovedModel(f"approved models must name arn, image and model_data for {' and '.join(KINDS)} "
                                  f"({error})") from None


def latest_approved(client, group: str) -> ApprovedPackage:
    """The newest Approved package in `group` (as promote-models finds it: every page, newest by creation
    time, a package rejected meanwhile skipped): its ARN, image and ModelDataUrl; NoApprovedModel if none."""
    try:
        package = newest_approved(client, group)
    except client.exceptions.ClientError as error:
        raise NoApprovedModel(f"model package group {group}: {error}") from None
    except PromotionError as error:  # a package without an inference image
        raise NoApprovedModel(str(error)) from None
    if package is None:
        raise NoApprovedModel(f"model package group {group} has no Approved package: run the model-build pipeline "
                              "and approve what it registered (docs/AWS.md) before running the batch pipeline")
    if not package.model_data_url:
        raise NoApprovedModel(f"{package.arn} names no model data: it was not registered by the model build")
    return ApprovedPackage(package.arn, package.image_uri, package.model_data_url)


def approved_models(client, group_prefix: str) -> ApprovedModels:
    """The latest Approved package of `<group_prefix>-diarization` and `<group_prefix>-transcription`."""
    return ApprovedModels(*(latest_approved(client, f"{group_prefix}-{kind}") for kind in KINDS))
