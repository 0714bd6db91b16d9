"""Amazon Transcribe batch jobs: a typed request, idempotent job names, reuse of finished jobs,
polling with backoff, media and results in S3, and service errors as one-line CallscopeErrors.

    >>> request = TranscribeJobRequest("s3://bucket/media/abc.wav", language_code="en-US",
    ...                                output_bucket="bucket", output_key="transcripts")
    >>> name = job_name(sha256, request)             # doctest: +SKIP
    >>> job = run_job(transcribe, request, name)     # doctest: +SKIP
    >>> document = read_result(s3, job)              # doctest: +SKIP

A job's name is derived from the audio's sha256 and the settings that change the transcript, so a
re-run finds the job it started before (finished, or still running) instead of paying for another.
Clients come from the caller (tests stub them); `transcribe_client`/`s3_client` make ones with
botocore's standard retries, which already retry throttling and LimitExceededException.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from callscope.errors import CallscopeError, first_line

JOB_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")  # the service model's TranscriptionJobName
_RETRIES = {"mode": "standard", "max_attempts": 10}
_FILTER_METHODS = ("mask", "remove", "tag")
# Where the request's fields say nothing about the transcript itself: not part of the job name.
_NOT_SETTINGS = ("media_uri", "output_bucket", "output_key")


# --- errors ----------------------------------------------------------------------------------

class AwsServiceError(CallscopeError):
    """An AWS call failed: `subject` (file or job) and the problem on one line; `kind` a stable code."""

    def __init__(self, subject: str, problem: str, kind: str = "aws_error", code: str = "") -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject, self.problem, self.kind, self.code = subject, problem, kind, code


class TranscribeJobFailed(AwsServiceError):
    """The job ended FAILED; `failure_reason` is the service's."""

    def __init__(self, subject: str, job: str, failure_reason: str) -> None:
        super().__init__(subject, f"Amazon Transcribe job {job} failed: {failure_reason} "
                                  "(delete the job to try again)", "job_failed")
        self.failure_reason = failure_reason


class TranscribeJobTimeout(AwsServiceError):
    """The job did not finish within the poll policy's timeout (it keeps running: a re-run picks it up)."""


class TranscribeRequestError(CallscopeError):
    """The request's settings cannot go together (caught before anything is sent)."""


_KINDS = {
    "LimitExceededException": "limit_exceeded", "BadRequestException": "bad_request",
    "ThrottlingException": "throttled", "TooManyRequestsException": "throttled", "SlowDown": "throttled",
    "AccessDenied": "access_denied", "AccessDeniedException": "access_denied", "403": "access_denied",
    "UnrecognizedClientException": "access_denied", "InvalidClientTokenId": "access_denied",
    "InvalidAccessKeyId": "access_denied", "SignatureDoesNotMatch": "access_denied",
    "ExpiredToken": "access_denied", "ExpiredTokenException": "access_denied",
    "NoSuchBucket": "not_found", "NoSuchKey": "not_found", "404": "not_found", "NotFoundException": "not_found",
    "InternalFailureException": "service_error",
}
_HINTS = {
    "limit_exceeded": " (a service quota, e.g. concurrent jobs: retry later or raise the quota)",
    "throttled": " (still throttled after retries: retry later)",
    "access_denied": " (check the AWS credentials and the IAM policy)",
}


def service_error(error: Exception, subject: str, action: str) -> AwsServiceError:
    """A botocore ClientError / BotoCoreError as one line: `<subject>: <action>: <Code>: <message>`."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        message = str(response.get("Error", {}).get("Message", "")) or code
        kind = _KINDS.get(code, "aws_error")
        text = message if message == code else f"{code}: {message}"
        return AwsServiceError(subject, f"{action}: {first_line(Exception(text))}{_HINTS.get(kind, '')}", kind, code)
    return AwsServiceError(subject, f"{action}: {first_line(error)}", "aws_unavailable")


def _aws_errors() -> tuple[type[Exception], ...]:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError, S3UploadFailedError


# --- the request -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TranscribeJobRequest:
    """What a standard transcription job is asked to do. Give a language code, or identify_language
    (optionally among language_options). Speaker labels and channel identification exclude each other."""

    media_uri: str  # s3://bucket/key
    language_code: str | None = None  # "en-US"
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str = "mask"
    language_model_name: str | None = None
    show_speaker_labels: bool = False
    max_speakers: int = 2
    channel_identification: bool = False
    output_bucket: str | None = None
    output_key: str | None = None  # "dir/file.json" or a folder "dir" (the file is then dir/<job>.json)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise TranscribeRequestError(f"{self.media_uri}: {problem}")

    def _problem(self) -> str:
        if not self.media_uri.startswith("s3://"):
            return "Amazon Transcribe reads media from S3: the media URI must start with s3://"
        if bool(self.language_code) == self.identify_language:
            return "give either a language code or identify_language"
        if self.language_options and not self.identify_language:
            return "language options are for language identification"
        customised = self.vocabulary_name or self.vocabulary_filter_name or self.language_model_name
        if self.identify_language and customised:  # the service wants these per language then
            return "a custom vocabulary, filter or language model needs a language code, not language identification"
        if self.show_speaker_labels and self.channel_identification:
            return "speaker labels and channel identification cannot both be on"
        if not 2 <= self.max_speakers <= 30:
            return f"max_speakers is {self.max_speakers}: Amazon Transcribe allows 2 to 30"
        if self.vocabulary_filter_method not in _FILTER_METHODS:
            return f"vocabulary filter method {self.vocabulary_filter_method!r} is not one of {_FILTER_METHODS}"
        if self.output_key and not self.output_bucket:
            return "an output key needs an output bucket"
        return ""

    def settings(self) -> dict[str, Any]:
        """The fields that change the transcript, where they differ from the defaults (so a new
        field added later leaves the names of earlier jobs unchanged)."""
        return {item.name: list(value) if isinstance(value, tuple) else value
                for item in fields(self) if item.name not in _NOT_SETTINGS
                and (value := getattr(self, item.name)) != item.default}


def job_name(sha256: str, request: TranscribeJobRequest) -> str:
    """`callscope-<audio>-<settings>`: same audio and settings, same name; valid for Transcribe."""
    audio = re.sub(r"[^0-9a-zA-Z]", "", sha256)[:16]
    if not audio:
        raise ValueError("job_name needs the audio's sha256")
    blob = json.dumps(request.settings(), sort_keys=True)
    return f"callscope-{audio}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def start_params(request: TranscribeJobRequest, name: str) -> dict[str, Any]:
    """The StartTranscriptionJob parameters for the request."""
    params: dict[str, Any] = {"TranscriptionJobName": name, "Media": {"MediaFileUri": request.media_uri}}
    if request.identify_language:
        params["IdentifyLanguage"] = True
        if request.language_options:
            params["LanguageOptions"] = list(request.language_options)
    else:
        params["LanguageCode"] = request.language_code
    settings: dict[str, Any] = {}
    if request.vocabulary_name:
        settings["VocabularyName"] = request.vocabulary_name
    if request.vocabulary_filter_name:
        settings["VocabularyFilterName"] = request.vocabulary_filter_name
        settings["VocabularyFilterMethod"] = request.vocabulary_filter_method
    if request.show_speaker_labels:
        settings["ShowSpeakerLabels"] = True
        settings["MaxSpeakerLabels"] = request.max_speakers
    if request.channel_identification:
        settings["ChannelIdentification"] = True
    if settings:
        params["Settings"] = settings
    if request.language_model_name:
        params["ModelSettings"] = {"LanguageModelName": request.language_model_name}
    if request.output_bucket:
        params["OutputBucketName"] = request.output_bucket
    if request.output_key:
        params["OutputKey"] = request.output_key
    return params


# --- running a job ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PollPolicy:
    """Waits between status checks: first_delay, times factor each time, at most max_delay; gives up
    after `timeout` seconds of waiting (counted as the sum of the waits, so tests need no clock)."""

    first_delay: float = 5.0
    factor: float = 2.0
    max_delay: float = 60.0
    timeout: float = 2 * 3600.0


_RUNNING = ("QUEUED", "IN_PROGRESS")


def run_job(client: Any, request: TranscribeJobRequest, name: str, poll: PollPolicy = PollPolicy(),
            sleep: Callable[[float], None] = time.sleep, *, subject: str = "") -> dict[str, Any]:
    """The finished (COMPLETED) TranscriptionJob description: an existing job of that name is reused
    (or waited for), otherwise one is started. `subject` names the file in errors (default: the media).
    Raises AwsServiceError (one line) on service errors, TranscribeJobFailed, TranscribeJobTimeout."""
    subject = subject or request.media_uri
    job = _existing(client, name, subject)
    if job is None:
        job = _start(client, request, name, subject)
    waited, delay = 0.0, poll.first_delay
    while job.get("TranscriptionJobStatus") in _RUNNING:
        pause = min(delay, poll.timeout - waited)
        if pause <= 0:
            raise TranscribeJobTimeout(
                subject, f"Amazon Transcribe job {name} is still {job['TranscriptionJobStatus']} after "
                         f"{waited:.0f} s; run again later to pick it up", "job_timeout")
        sleep(pause)
        waited += pause
        delay = min(delay * poll.factor, poll.max_delay)
        job = _existing(client, name, subject) or {}
    status = job.get("TranscriptionJobStatus")
    if status == "FAILED":
        raise TranscribeJobFailed(subject, name, first_line(Exception(job.get("FailureReason") or "no reason given")))
    if status != "COMPLETED":
        raise AwsServiceError(subject, f"Amazon Transcribe job {name} is {status or 'gone'}", "job_failed")
    return job


def _existing(client: Any, name: str, subject: str) -> dict[str, Any] | None:
    """The job of that name, or None when there is none (NotFound, or the BadRequest Transcribe
    answers for unknown names: "The requested job couldn't be found")."""
    errors = _aws_errors()
    try:
        return client.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    except errors[0] as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = str(error.response.get("Error", {}).get("Message", "")).lower()
        if code == "NotFoundException" or (code == "BadRequestException" and "couldn't be found" in message):
            return None
        raise service_error(error, subject, f"Amazon Transcribe GetTranscriptionJob {name}") from None
    except errors[1:] as error:
        raise service_error(error, subject, f"Amazon Transcribe GetTranscriptionJob {name}") from None


def _start(client: Any, request: TranscribeJobRequest, name: str, subject: str) -> dict[str, Any]:
    errors = _aws_errors()
    try:
        return client.start_transcription_job(**start_params(request, name))["TranscriptionJob"]
    except errors[0] as error:
        if error.response.get("Error", {}).get("Code") == "ConflictException":
            # Started meanwhile by another run with the same audio and settings: wait for that one.
            return {"TranscriptionJobName": name, "TranscriptionJobStatus": "QUEUED"}
        raise service_error(error, subject, f"Amazon Transcribe StartTranscriptionJob {name}") from None
    except errors[1:] as error:
        raise service_error(error, subject, f"Amazon Transcribe StartTranscriptionJob {name}") from None


# --- S3 ----------------------------------------------------------------------------------------

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
    """The result document of a finished job with an output bucket, read from S3 with s3_client
    (never over https: a service-managed bucket's signed URL is refused)."""
    job = job.get("TranscriptionJob", job)
    name = job.get("TranscriptionJobName", "?")
    subject = subject or str((job.get("Media") or {}).get("MediaFileUri") or f"Amazon Transcribe job {name}")
    field = "RedactedTranscriptFileUri" if redacted else "TranscriptFileUri"
    uri = str((job.get("Transcript") or {}).get(field) or "")
    try:
        bucket, key = s3_location(uri)
    except ValueError:
        raise AwsServiceError(subject, f"Amazon Transcribe job {name}: its {field} {uri.split('?')[0] or '(none)'} "
                                       "is not in an output bucket of ours (start jobs with an output bucket)",
                              "no_output_bucket") from None
    errors = _aws_errors()
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except errors as error:
        failure = service_error(error, subject, f"reading the transcript s3://{bucket}/{key}")
        if failure.kind == "not_found":  # e.g. a reused job whose output a lifecycle rule removed
            failure = AwsServiceError(subject, f"{failure.problem} (delete Amazon Transcribe job {name} to run it "
                                               "again)", failure.kind, failure.code)
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
    errors = _aws_errors()
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


# --- clients -----------------------------------------------------------------------------------

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
