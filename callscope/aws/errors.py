"""AWS service errors as one-line CallscopeErrors: `service_error` turns a botocore ClientError /
BotoCoreError into `<subject>: <action>: <Code>: <message>` with a stable `kind`; the Amazon
Transcribe job failures; and `aws_errors()`, the exception types an AWS call may raise (boto3 is
imported only when it is called).
"""

from __future__ import annotations

from callscope.errors import CallError, first_line


class AwsServiceError(CallError):
    """An AWS call failed: `subject` (file or job) and the problem on one line; `kind` a stable code."""

    def __init__(self, subject: str, problem: str, kind: str = "aws_error", code: str = "") -> None:
        super().__init__(subject, problem, kind)
        self.code = code


class TranscribeJobFailed(AwsServiceError):
    """The job ended FAILED; `failure_reason` is the service's."""

    def __init__(self, subject: str, job: str, failure_reason: str, what: str = "Amazon Transcribe job") -> None:
        super().__init__(subject, f"{what} {job} failed: {failure_reason} (delete the job to try again)", "job_failed")
        self.failure_reason = failure_reason


class TranscribeJobTimeout(AwsServiceError):
    """The job did not finish within the poll policy's timeout (it keeps running: a re-run picks it up)."""


class TranscribeRequestError(CallError):
    """The request's settings cannot go together (caught before anything is sent): `<subject>:
    <problem>`, the subject being the media."""

    def __init__(self, subject: str, problem: str) -> None:
        super().__init__(subject, problem, "bad_request")


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


def aws_errors() -> tuple[type[Exception], ...]:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError, S3UploadFailedError
