"""Amazon Transcribe batch jobs, standard and Call Analytics: typed requests, idempotent job names,
reuse of finished jobs, polling with backoff, media and results in S3, and service errors as
one-line CallscopeErrors.

    >>> request = TranscribeJobRequest("s3://bucket/media/abc.wav", language_code="en-US",
    ...                                output_bucket="bucket", output_key="transcripts")
    >>> name = job_name(sha256, request)             # doctest: +SKIP
    >>> job = run_job(transcribe, request, name)     # doctest: +SKIP
    >>> document = read_result(s3, job)              # doctest: +SKIP

A CallAnalyticsJobRequest (stereo calls: channel 1 AGENT, channel 0 CUSTOMER unless told
otherwise; PII redaction, generative summary, ...) goes through the same `job_name`, `run_job` and
`read_result`; `run_job` picks the service's operations from the request's type (a JobKind).

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
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, Union
from urllib.parse import unquote, urlparse

from callscope.errors import CallscopeError, first_line

JOB_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")  # the service model's TranscriptionJobName
_RETRIES = {"mode": "standard", "max_attempts": 10}
_FILTER_METHODS = ("mask", "remove", "tag")
_ROLES = ("AGENT", "CUSTOMER")  # the service model's ParticipantRole
_REDACTION_OUTPUTS = ("redacted", "redacted_and_unredacted")  # RedactionOutput
_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso-{0,1}[a-z]{0,1}):iam::[0-9]{0,63}:role/"
                       r"[A-Za-z0-9:_/+=,@.-]{0,1024}$")  # DataAccessRoleArn
_KMS_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$")  # KMSKeyId
_RESOURCE_NAME = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")  # VocabularyName, VocabularyFilterName, ModelName
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

    def __init__(self, subject: str, job: str, failure_reason: str, what: str = "Amazon Transcribe job") -> None:
        super().__init__(subject, f"{what} {job} failed: {failure_reason} (delete the job to try again)", "job_failed")
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
        return _settings(self, _NOT_SETTINGS)


def _settings(request: Any, not_settings: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass's fields that differ from their defaults, as JSON-ready values."""
    return {item.name: _plain(value) for item in fields(request) if item.name not in not_settings
            and (value := getattr(request, item.name)) != item.default}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(part) for part in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _settings(value)
    return value


@dataclass(frozen=True)
class LanguageIdSetting:
    """With language identification, the custom vocabulary / filter / language model to use when
    the call turns out to be in `language` (Call Analytics' LanguageIdSettings)."""

    language: str  # "en-US"
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    language_model_name: str | None = None

    def params(self) -> dict[str, str]:
        names = {"VocabularyName": self.vocabulary_name, "VocabularyFilterName": self.vocabulary_filter_name,
                 "LanguageModelName": self.language_model_name}
        return {key: value for key, value in names.items() if value}


@dataclass(frozen=True)
class CallAnalyticsJobRequest:
    """What a Call Analytics (post-call) job is asked to do.

    Language: give a language code (sent, as StartCallAnalyticsJob has no LanguageCode, as a
    one-code Settings.LanguageOptions, the way the reference starts its jobs), or identify_language,
    optionally among two or more language_options; custom vocabularies / filters / language models
    then go per language in language_id_settings.

    Channels: stereo calls with the agent on channel 1 and the customer on channel 0 by default
    (ids 0 and 1 only, one role each); `()` sends no ChannelDefinitions.

    Output: output_location is s3://bucket, s3://bucket/folder/ or s3://bucket/folder/name.json
    (with a bucket or folder the service names the file after the job; read_result follows the URI
    the finished job reports). The transcript is written to our own bucket by the service under the IAM role data_access_role_arn (trusting
    transcribe.amazonaws.com; s3:GetObject, s3:ListBucket, s3:PutObject and, for a KMS key,
    kms:GenerateDataKey*/kms:Decrypt): the StartCallAnalyticsJob API reference lists the role among
    the parameters a request must include, although the SDK's service model leaves it optional, so an
    output location without a role is refused here. Without an output location the service keeps the
    transcript in its own bucket, which read_result cannot read.

    Redaction: redaction_output "redacted" (only a redacted transcript) or "redacted_and_unredacted"
    (both; read_result(..., redacted=True) reads the redacted one); pii_entity_types limits what is
    redacted (default: all PII)."""

    media_uri: str  # s3://bucket/key
    output_location: str | None = None
    data_access_role_arn: str | None = None
    output_kms_key_id: str | None = None
    channel_definitions: tuple[tuple[int, str], ...] = ((1, "AGENT"), (0, "CUSTOMER"))
    language_code: str | None = None
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    language_id_settings: tuple[LanguageIdSetting, ...] = ()
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str = "mask"
    language_model_name: str | None = None
    redaction_output: str | None = None  # "redacted" | "redacted_and_unredacted": PII redaction on
    pii_entity_types: tuple[str, ...] = ()  # e.g. ("NAME", "CREDIT_DEBIT_NUMBER"); () is all PII
    generative_summary: bool = False

    # Where the audio and the transcript live, and who may write it: not part of the job name.
    NOT_SETTINGS: ClassVar[tuple[str, ...]] = ("media_uri", "output_location", "data_access_role_arn",
                                               "output_kms_key_id")

    def __post_init__(self) -> None:
        # Lists are accepted and kept as tuples (the request stays hashable); the channels are kept
        # AGENT first, so the same channels in another order are the same request (and job name).
        channels = tuple(tuple(channel) if isinstance(channel, (tuple, list)) else (channel,)
                         for channel in self.channel_definitions)
        order = {role: index for index, role in enumerate(_ROLES)}
        channels = tuple(sorted(channels, key=lambda channel: order.get(channel[-1] if channel else "", 2)))
        object.__setattr__(self, "channel_definitions", channels)
        for name in ("language_options", "language_id_settings", "pii_entity_types"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self._problem()
        if problem:
            raise TranscribeRequestError(f"{self.media_uri}: {problem}")

    def _problem(self) -> str:  # noqa: C901 - one check per line reads best
        if not self.media_uri.startswith("s3://"):
            return "Amazon Transcribe reads media from S3: the media URI must start with s3://"
        channel_problem = _channel_problem(self.channel_definitions)
        if channel_problem:
            return channel_problem
        if bool(self.language_code) == self.identify_language:
            return "give either a language code or identify_language"
        if self.language_options and not self.identify_language:
            return "language options are for language identification (a known language is language_code)"
        if len(self.language_options) == 1 or len(set(self.language_options)) != len(self.language_options):
            return "language identification needs two or more different language options (or none)"
        if self.identify_language and (self.vocabulary_name or self.vocabulary_filter_name or self.language_model_name):
            return ("a custom vocabulary, filter or language model needs a language code; with language "
                    "identification give them per language in language_id_settings")
        if not all(isinstance(setting, LanguageIdSetting) for setting in self.language_id_settings):
            return "language_id_settings take LanguageIdSetting entries"
        if self.language_id_settings:
            languages = [setting.language for setting in self.language_id_settings]
            if not self.identify_language:
                return "language_id_settings are for language identification (with a language code use the names)"
            if len(set(languages)) != len(languages):
                return "language_id_settings name a language twice"
            if self.language_options and set(languages) - set(self.language_options):
                return f"language_id_settings for {sorted(set(languages) - set(self.language_options))} " \
                       "not among the language options"
            if not all(setting.params() for setting in self.language_id_settings):
                return "a language_id_settings entry names no vocabulary, filter or language model"
        names = [self.vocabulary_name, self.vocabulary_filter_name, self.language_model_name,
                 *(name for setting in self.language_id_settings for name in setting.params().values())]
        bad = [name for name in names if name and not _RESOURCE_NAME.fullmatch(name)]
        if bad:
            return f"{bad[0]!r} is not a valid Amazon Transcribe resource name (0-9 a-z A-Z . _ -, at most 200)"
        if self.vocabulary_filter_method not in _FILTER_METHODS:
            return f"vocabulary filter method {self.vocabulary_filter_method!r} is not one of {_FILTER_METHODS}"
        if self.vocabulary_filter_method != "mask" and not self._filtered():
            return "a vocabulary filter method needs a vocabulary filter"
        if self.redaction_output is not None and self.redaction_output not in _REDACTION_OUTPUTS:
            return f"redaction output {self.redaction_output!r} is not one of {_REDACTION_OUTPUTS}"
        if self.pii_entity_types:
            if not self.redaction_output:
                return "PII entity types need redaction (a redaction_output)"
            bad = [kind for kind in self.pii_entity_types if not re.fullmatch(r"[A-Z][A-Z_]*", str(kind))]
            if bad:
                return f"PII entity type {bad[0]!r} is not an Amazon Transcribe PiiEntityType (e.g. NAME, SSN, ALL)"
            if len(set(self.pii_entity_types)) != len(self.pii_entity_types):
                return "a PII entity type is given twice"
            if "ALL" in self.pii_entity_types and len(self.pii_entity_types) > 1:
                return "PII entity type ALL already covers the others"
        if self.output_location is not None:
            location = re.fullmatch(r"s3://([^/]+)(/.*)?", self.output_location)
            if not location or not (location.group(2) in (None, "/") or location.group(2).endswith(("/", ".json"))):
                return ("an output location is s3://bucket, s3://bucket/folder/ or s3://bucket/folder/name.json, "
                        f"not {self.output_location}")
            if not self.data_access_role_arn:
                return ("an output location needs a data access role ARN (an IAM role Amazon Transcribe "
                        "assumes to read the media and write the output)")
        if self.data_access_role_arn and not _ROLE_ARN.fullmatch(self.data_access_role_arn):
            return f"{self.data_access_role_arn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        if self.output_kms_key_id:
            if not self.output_location:
                return "an output KMS key is for an output location of ours"
            if not _KMS_KEY.fullmatch(self.output_kms_key_id):
                return f"{self.output_kms_key_id!r} is not a KMS key id, alias or ARN"
        return ""

    def _filtered(self) -> bool:
        return bool(self.vocabulary_filter_name
                    or any(setting.vocabulary_filter_name for setting in self.language_id_settings))

    def settings(self) -> dict[str, Any]:
        """The fields that change the transcript and analytics, where they differ from the defaults."""
        return _settings(self, self.NOT_SETTINGS)


def _channel_problem(channels: tuple[tuple[Any, ...], ...]) -> str:
    if len(channels) > 2:
        return f"{len(channels)} channel definitions: Call Analytics takes two channels (0 and 1)"
    for channel in channels:
        if len(channel) != 2:
            return f"channel definition {channel!r} is not (channel id, role)"
        channel_id, role = channel
        if not isinstance(channel_id, int) or isinstance(channel_id, bool) or channel_id not in (0, 1):
            return f"channel id {channel_id!r} is not 0 or 1 (Call Analytics takes two channels)"
        if role not in _ROLES:
            return f"participant role {role!r} is not AGENT or CUSTOMER"
    if len({channel[0] for channel in channels}) != len(channels):
        return "two channel definitions for the same channel"
    if len({channel[1] for channel in channels}) != len(channels):
        return "two channels with the same participant role"
    return ""


JobRequest = Union[TranscribeJobRequest, CallAnalyticsJobRequest]


def job_name(sha256: str, request: JobRequest) -> str:
    """`callscope-<audio>-<settings>` (`callscope-ca-...` for Call Analytics): same audio and settings,
    same name; valid for Transcribe."""
    audio = re.sub(r"[^0-9a-zA-Z]", "", sha256)[:16]
    if not audio:
        raise ValueError("job_name needs the audio's sha256")
    blob = json.dumps(request.settings(), sort_keys=True)
    prefix = "callscope-ca" if isinstance(request, CallAnalyticsJobRequest) else "callscope"
    return f"{prefix}-{audio}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


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


def call_analytics_params(request: CallAnalyticsJobRequest, name: str) -> dict[str, Any]:
    """The StartCallAnalyticsJob parameters for the request."""
    params: dict[str, Any] = {"CallAnalyticsJobName": name, "Media": {"MediaFileUri": request.media_uri}}
    if request.output_location:
        params["OutputLocation"] = request.output_location
    if request.output_kms_key_id:
        params["OutputEncryptionKMSKeyId"] = request.output_kms_key_id
    if request.data_access_role_arn:
        params["DataAccessRoleArn"] = request.data_access_role_arn
    settings: dict[str, Any] = {}
    if request.vocabulary_name:
        settings["VocabularyName"] = request.vocabulary_name
    if request.vocabulary_filter_name:
        settings["VocabularyFilterName"] = request.vocabulary_filter_name
    if request._filtered():
        settings["VocabularyFilterMethod"] = request.vocabulary_filter_method
    if request.language_model_name:
        settings["LanguageModelName"] = request.language_model_name
    if request.redaction_output:
        redaction: dict[str, Any] = {"RedactionType": "PII", "RedactionOutput": request.redaction_output}
        if request.pii_entity_types:
            redaction["PiiEntityTypes"] = list(request.pii_entity_types)
        settings["ContentRedaction"] = redaction
    if request.language_code:
        settings["LanguageOptions"] = [request.language_code]
    elif request.language_options:
        settings["LanguageOptions"] = list(request.language_options)
    if request.language_id_settings:
        settings["LanguageIdSettings"] = {setting.language: setting.params()
                                          for setting in request.language_id_settings}
    if request.generative_summary:
        settings["Summarization"] = {"GenerateAbstractiveSummary": True}
    if settings:
        params["Settings"] = settings
    if request.channel_definitions:
        params["ChannelDefinitions"] = [{"ChannelId": channel_id, "ParticipantRole": role}
                                        for channel_id, role in request.channel_definitions]
    return params


# --- running a job ---------------------------------------------------------------------------

@dataclass(frozen=True)
class JobKind:
    """How the service names one kind of batch job: its operations, parameters and response keys."""

    what: str  # in messages: "<what> <job name> failed: ..."
    get_operation: str  # "GetTranscriptionJob"
    start_operation: str  # "StartTranscriptionJob"
    name_key: str  # "TranscriptionJobName": the get parameter and the description's name field
    job_key: str  # "TranscriptionJob": the responses' description
    status_key: str  # "TranscriptionJobStatus"
    params: Callable[[Any, str], dict[str, Any]]  # (request, name) -> start parameters

    @property
    def get_method(self) -> str:
        return _snake(self.get_operation)

    @property
    def start_method(self) -> str:
        return _snake(self.start_operation)


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


TRANSCRIPTION_JOB = JobKind("Amazon Transcribe job", "GetTranscriptionJob", "StartTranscriptionJob",
                            "TranscriptionJobName", "TranscriptionJob", "TranscriptionJobStatus", start_params)
CALL_ANALYTICS_JOB = JobKind("Amazon Transcribe Call Analytics job", "GetCallAnalyticsJob", "StartCallAnalyticsJob",
                             "CallAnalyticsJobName", "CallAnalyticsJob", "CallAnalyticsJobStatus",
                             call_analytics_params)
_JOB_KINDS: dict[type, JobKind] = {TranscribeJobRequest: TRANSCRIPTION_JOB, CallAnalyticsJobRequest: CALL_ANALYTICS_JOB}


def job_kind(request: JobRequest) -> JobKind:
    try:
        return _JOB_KINDS[type(request)]
    except KeyError:
        raise TypeError(f"not an Amazon Transcribe job request: {type(request).__name__}") from None


@dataclass(frozen=True)
class PollPolicy:
    """Waits between status checks: first_delay, times factor each time, at most max_delay; gives up
    after `timeout` seconds of waiting (counted as the sum of the waits, so tests need no clock)."""

    first_delay: float = 5.0
    factor: float = 2.0
    max_delay: float = 60.0
    timeout: float = 2 * 3600.0


_RUNNING = ("QUEUED", "IN_PROGRESS")


def run_job(client: Any, request: JobRequest, name: str, poll: PollPolicy = PollPolicy(),
            sleep: Callable[[float], None] = time.sleep, *, subject: str = "") -> dict[str, Any]:
    """The finished (COMPLETED) job description (a TranscriptionJob, or a CallAnalyticsJob for a
    CallAnalyticsJobRequest): an existing job of that name is reused (or waited for), otherwise one is
    started. `subject` names the file in errors (default: the media).
    Raises AwsServiceError (one line) on service errors, TranscribeJobFailed, TranscribeJobTimeout."""
    kind = job_kind(request)
    subject = subject or request.media_uri
    job = _existing(client, kind, name, subject)
    if job is None:
        job = _start(client, kind, request, name, subject)
    waited, delay = 0.0, poll.first_delay
    while job.get(kind.status_key) in _RUNNING:
        pause = min(delay, poll.timeout - waited)
        if pause <= 0:
            raise TranscribeJobTimeout(
                subject, f"{kind.what} {name} is still {job[kind.status_key]} after "
                         f"{waited:.0f} s; run again later to pick it up", "job_timeout")
        sleep(pause)
        waited += pause
        delay = min(delay * poll.factor, poll.max_delay)
        job = _existing(client, kind, name, subject) or {}
    status = job.get(kind.status_key)
    if status == "FAILED":
        raise TranscribeJobFailed(subject, name, first_line(Exception(job.get("FailureReason") or "no reason given")),
                                  kind.what)
    if status != "COMPLETED":
        raise AwsServiceError(subject, f"{kind.what} {name} is {status or 'gone'}", "job_failed")
    return job


def _existing(client: Any, kind: JobKind, name: str, subject: str) -> dict[str, Any] | None:
    """The job of that name, or None when there is none (NotFound, or the BadRequest Transcribe
    answers for unknown names: "The requested job couldn't be found")."""
    errors = _aws_errors()
    try:
        return getattr(client, kind.get_method)(**{kind.name_key: name})[kind.job_key]
    except errors[0] as error:
        code = error.response.get("Error", {}).get("Code", "")
        message = str(error.response.get("Error", {}).get("Message", "")).lower()
        if code == "NotFoundException" or (code == "BadRequestException" and "couldn't be found" in message):
            return None
        raise service_error(error, subject, f"Amazon Transcribe {kind.get_operation} {name}") from None
    except errors[1:] as error:
        raise service_error(error, subject, f"Amazon Transcribe {kind.get_operation} {name}") from None


def _start(client: Any, kind: JobKind, request: JobRequest, name: str, subject: str) -> dict[str, Any]:
    errors = _aws_errors()
    try:
        return getattr(client, kind.start_method)(**kind.params(request, name))[kind.job_key]
    except errors[0] as error:
        if error.response.get("Error", {}).get("Code") == "ConflictException":
            # Started meanwhile by another run with the same audio and settings: wait for that one.
            return {kind.name_key: name, kind.status_key: "QUEUED"}
        raise service_error(error, subject, f"Amazon Transcribe {kind.start_operation} {name}") from None
    except errors[1:] as error:
        raise service_error(error, subject, f"Amazon Transcribe {kind.start_operation} {name}") from None


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
    errors = _aws_errors()
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
