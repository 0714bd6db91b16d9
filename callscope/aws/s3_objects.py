"""Amazon Transcribe's media and results in S3: content-addressed media uploads (skipped when the
object is already there) and reading a finished job's (PII-redacted) result document.

    >>> uri = upload_media(s3, "calls/a.wav", "bucket", "media", sha256)   # doctest: +SKIP
    >>> document = read_result(s3, job)                                    # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from callscope.aws.errors import AwsServiceError, aws_errors, service_error
from callscope.aws.transcribe_runs import CALL_ANALYTICS_JOB, TRANSCRIPTION_JOB


def s3_location(uri: str) -> tuple[str, str]:
    """(bucket, key) of s3://bucket/key or of an S3 https URL, path-style
    (https://s3.<region>.amazonaws.com/bucket/key, how Transcribe reports an OutputBucketName result)
    or virtual-hosted (https://bucket.s3.<region>.amazonaws.com/key). ValueError otherwise."""
    parsed = urlparse(uri)
    host, path = parsed.netloc.lower(), unquote(parsed.path).lstrip("/")
    if parsed.scheme == "s3" and parsed.netloc and path:
        return parsed.netloc, path
    if parsed.scheme == "https" and host.endswith(".amazonaws.com") and not parsed.query:
        if re.match(r"^s3[.-]", host):
            bucket, _, key = path.partition("/")
            if bucket and key:
                return bucket, key
        virtual = re.match(r"^(.+)\.s3[.-]", host)
        if virtual and path:
            return virtual.group(1), path
    raise ValueError(f"not an S3 object location: {uri}")


def read_result(s3_client: Any, job: dict[str, Any], *, redacted: bool = False, subject: str = "") -> dict[str, Any]:
    """The result document of a finished job (standard or Call Analytics, the description or the Get
    response) with an output in our bucket, read from S3 with s3_client (never over https: a
    service-managed bucket's signed URL is refused). redacted: the PII-redacted transcript."""
    kind = TRANSCRIPTION_JOB
    for candidate in (TRANSCRIPTION_JOB, CALL_ANALYTICS_JOB):
        if candidate.job_key in job or candidate.name_key in job or candidate.status_key in job:
            kind, job = candidate, job.get(candidate.job_key, job)
            break
    name = job.get(kind.name_key, "?")
    subject = subject or str((job.get("Media") or {}).get("MediaFileUri") or f"{kind.what} {name}")
    field = "RedactedTranscriptFileUri" if redacted else "TranscriptFileUri"
    uri = str((job.get("Transcript") or {}).get(field) or "")
    if redacted and not uri:
        raise AwsServiceError(subject, f"{kind.what} {name} has no {field} (start it with PII redaction)",
                              "no_redacted_transcript")
    try:
        bucket, key = s3_location(uri)
    except ValueError:
        raise AwsServiceError(subject, f"{kind.what} {name}: its {field} {uri.split('?')[0] or '(none)'} "
                                       "is not in an output bucket of ours (start jobs with an output bucket)",
                              "no_output_bucket") from None
    errors = aws_errors()
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except errors as error:
        failure = service_error(error, subject, f"reading the transcript s3://{bucket}/{key}")
        if failure.kind == "not_found":  # e.g. a reused job whose output a lifecycle rule removed
            failure = AwsServiceError(subject, f"{failure.problem} (delete {kind.what} {name} to run it again)",
                                      failure.kind, failure.code)
        raise failure from None
    try:
        document = json.loads(body)
    except ValueError as error:
        raise AwsServiceError(subject, f"the transcript s3://{bucket}/{key} is not JSON ({error})",
                              "bad_result") from None
    if not isinstance(document, dict):
        raise AwsServiceError(subject, f"the transcript s3://{bucket}/{key} is not a JSON object", "bad_result")
    return document


def media_key(path: Path, prefix: str, sha256: str) -> str:
    """`<prefix>/<sha256><suffix>`: content-addressed (same audio, same object); the suffix is kept
    because Transcribe reads the media format from it."""
    return "/".join(part for part in (prefix.strip("/"), f"{sha256}{path.suffix.lower()}") if part)


def upload_media(s3_client: Any, path: str | Path, bucket: str, prefix: str, sha256: str) -> str:
    """The s3:// URI of the recording, uploaded unless an object of that key and size is there."""
    path = Path(path)
    key = media_key(path, prefix, sha256)
    size = path.stat().st_size
    errors = aws_errors()
    try:
        if s3_client.head_object(Bucket=bucket, Key=key).get("ContentLength") == size:
            return f"s3://{bucket}/{key}"
    except errors[0] as error:
        # 404: not there yet; 403: no s3:ListBucket, so a missing object looks forbidden; upload anyway.
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "403", "AccessDenied"):
            raise service_error(error, str(path), f"checking s3://{bucket}/{key}") from None
    except errors[1:] as error:
        raise service_error(error, str(path), f"checking s3://{bucket}/{key}") from None
    try:
        s3_client.upload_file(str(path), bucket, key)
    except errors as error:
        raise _upload_error(error, str(path), f"uploading to s3://{bucket}/{key}") from None
    return f"s3://{bucket}/{key}"


def _upload_error(error: Exception, subject: str, action: str) -> AwsServiceError:
    # S3UploadFailedError wraps the ClientError's text: "Failed to upload ... An error occurred (Code) ..."
    cause = error.__context__ if getattr(error.__context__, "response", None) else error
    return service_error(cause, subject, action)
