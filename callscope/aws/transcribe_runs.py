"""Running Amazon Transcribe batch jobs, standard and Call Analytics: reuse of a job of the same name
(finished, or still running), starting one otherwise, polling with backoff, and the failures as
one-line errors.

    >>> job = run_job(transcribe, request, name)     # doctest: +SKIP

`run_job` picks the service's operations from the request's type (a JobKind). The client comes from
the caller (tests stub it; `callscope.aws.clients.transcribe_client` makes one with retries).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callscope.aws.errors import (
    AwsServiceError,
    TranscribeJobFailed,
    TranscribeJobTimeout,
    aws_errors,
    service_error,
)
from callscope.aws.transcribe_requests import (
    CallAnalyticsJobRequest,
    JobRequest,
    TranscribeJobRequest,
    call_analytics_params,
    start_params,
)
from callscope.errors import first_line


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
            sleep: Callable[[float], None] = time.sleep, *, subject: str = "",
            on_wait: Callable[[str, float], None] | None = None) -> dict[str, Any]:
    """The finished (COMPLETED) job description (a TranscriptionJob, or a CallAnalyticsJob for a
    CallAnalyticsJobRequest): an existing job of that name is reused (or waited for), otherwise one is
    started. `subject` names the file in errors (default: the media); `on_wait(status, seconds waited
    so far)` is told before each wait (a progress bar shows it).
    Raises AwsServiceError (one line) on service errors, TranscribeJobFailed, TranscribeJobTimeout."""
    kind = job_kind(request)
    subject = subject or request.media_uri
    job = start_job(client, request, name, subject=subject)
    waited, delay = 0.0, poll.first_delay
    while job.get(kind.status_key) in _RUNNING:
        pause = min(delay, poll.timeout - waited)
        if pause <= 0:
            raise TranscribeJobTimeout(
                subject, f"{kind.what} {name} is still {job[kind.status_key]} after "
                         f"{waited:.0f} s; run again later to pick it up", "job_timeout")
        if on_wait is not None:
            on_wait(str(job[kind.status_key]), waited)
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


def start_job(client: Any, request: JobRequest, name: str, *, subject: str = "") -> dict[str, Any]:
    """The job's description as it stands, without waiting: the job of that name when there is one
    (finished or not), else the one started now. Raises AwsServiceError (one line)."""
    kind = job_kind(request)
    subject = subject or request.media_uri
    return _existing(client, kind, name, subject) or _start(client, kind, request, name, subject)


def _existing(client: Any, kind: JobKind, name: str, subject: str) -> dict[str, Any] | None:
    """The job of that name, or None when there is none (NotFound, or the BadRequest Transcribe
    answers for unknown names: "The requested job couldn't be found")."""
    errors = aws_errors()
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
    errors = aws_errors()
    try:
        return getattr(client, kind.start_method)(**kind.params(request, name))[kind.job_key]
    except errors[0] as error:
        if error.response.get("Error", {}).get("Code") == "ConflictException":
            # Started meanwhile by another run with the same audio and settings: wait for that one.
            return {kind.name_key: name, kind.status_key: "QUEUED"}
        raise service_error(error, subject, f"Amazon Transcribe {kind.start_operation} {name}") from None
    except errors[1:] as error:
        raise service_error(error, subject, f"Amazon Transcribe {kind.start_operation} {name}") from None
