"""The `pipelines` extra (the SageMaker Python SDK and boto3): its absence is one line naming it, not a traceback."""

from __future__ import annotations

EXTRA_PACKAGES = frozenset({"sagemaker", "boto3", "botocore"})
INSTALL = "pip install 'callscope[pipelines]'"


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one-line message when error is a package of the extra not being installed; None for any other module."""
    name = error.name or ""
    if name.partition(".")[0] not in EXTRA_PACKAGES:
        return None
    return f"{name} is not installed: {INSTALL}"
