"""boto3 clients for Amazon Transcribe and S3 with botocore's standard retries, which already retry
throttling and LimitExceededException (boto3 is imported only when a client is made: `callscope[aws]`).
Callers that are tested pass their own clients (tests stub them).
"""

from __future__ import annotations

from typing import Any

from callscope.errors import CallscopeError

_RETRIES = {"mode": "standard", "max_attempts": 10}


def transcribe_client(region: str | None = None) -> Any:
    return _client("transcribe", region)


def s3_client(region: str | None = None) -> Any:
    return _client("s3", region)


def _client(service: str, region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise CallscopeError("Amazon Transcribe needs boto3: pip install 'callscope[aws]'") from None
    return boto3.client(service, region_name=region, config=Config(retries=_RETRIES))
