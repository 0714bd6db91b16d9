"""Where a report goes: a local file, or an S3 object with a presigned GET URL for the people notified."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from callscope.errors import CallscopeError, first_line
from callscope.output.writers import write_atomic

MAX_PRESIGN = timedelta(days=7)  # S3's limit for a SigV4 presigned URL (604,800 s)
DEFAULT_EXPIRES = MAX_PRESIGN
S3_SCHEME = "s3://"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class PublishError(CallscopeError):
    """The report could not be written or uploaded (one line, naming the destination)."""


@dataclass(frozen=True)
class PublishedReport:
    location: str  # the file's absolute path, or s3://bucket/key
    link: str  # what a person opens: the same path, or the presigned HTTPS URL
    expires_at: datetime | None = None  # UTC, when link is a presigned URL


def parse_expires(text: str) -> timedelta:
    """"7d", "12h", "30m", "3600s", "1w" (or a bare number of seconds); between 1 s and 7 days."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise ValueError(f"'{text}' is not a duration like 7d, 12h or 3600s")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
    expires = timedelta(**{unit: float(match[1])})
    if expires < timedelta(seconds=1) or expires > MAX_PRESIGN:
        raise ValueError(f"'{text}' is outside 1s..7d (S3 presigned URLs last at most 7 days)")
    return expires


def default_name(day: datetime | None = None) -> str:
    return f"negative-calls-{(day or datetime.now()).strftime('%Y-%m-%d')}.csv"


def split_s3(uri: str) -> tuple[str, str]:
    """s3://bucket/key → (bucket, key); a key ending in "/" (or none) is a folder for the default name."""
    bucket, _, key = uri[len(S3_SCHEME):].partition("/")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", bucket):  # loosely: old us-east-1 names are freer
        raise PublishError(f"{uri}: '{bucket}' is not an S3 bucket name")
    return bucket, key


def publish(data: bytes, out: str | None, expires: timedelta = DEFAULT_EXPIRES, s3_client: Any = None,
            today: datetime | None = None) -> PublishedReport:
    """Write data to out: a file path (a folder gets the default name), or s3://bucket/key[/] with a presigned URL.

    out None: the default name (negative-calls-<date>.csv) in the current folder.
    """
    name = default_name(today)
    if out and out.startswith(S3_SCHEME):
        bucket, key = split_s3(out)
        if not key or key.endswith("/"):
            key += name
        return _upload(data, bucket, key, expires, s3_client)
    path = Path(out) if out else Path(name)
    if path.is_dir():
        path = path / name
    try:
        write_atomic(path, data)
    except OSError as error:
        raise PublishError(f"{path}: cannot write: {error.strerror or first_line(error)}") from None
    resolved = str(path.resolve())
    return PublishedReport(resolved, resolved)


def s3_client_for_reports() -> Any:
    """boto3's S3 client (credentials, region and AWS_ENDPOINT_URL_S3 from the usual places), SigV4 presigning."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise PublishError("an s3:// --out needs boto3: pip install 'callscope[aws]'") from None
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def _upload(data: bytes, bucket: str, key: str, expires: timedelta, s3_client: Any) -> PublishedReport:
    location = f"{S3_SCHEME}{bucket}/{key}"
    client = s3_client or s3_client_for_reports()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=CSV_CONTENT_TYPE)
        seconds = int(expires.total_seconds())
        url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
    except (BotoCoreError, ClientError) as error:
        raise PublishError(f"{location}: cannot upload the report: {first_line(error)}") from None
    expires_at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds)
    return PublishedReport(location, url, expires_at)
