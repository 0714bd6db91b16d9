"""Amazon Transcribe Call Analytics jobs (callscope.aws.transcribe_requests, transcribe_runs,
s3_objects): the StartCallAnalyticsJob requests we send, reuse and polling through the shared
run_job, one-line errors, job names, and reading the (redacted) results from S3.

Transcribe runs against botocore's Stubber on a real client, so every request is also checked against
the real service model; S3 is moto's. Nothing reaches AWS.
"""

from __future__ import annotations

import hashlib
import json

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from callscope.aws.errors import (  # noqa: E402
    AwsServiceError,
    TranscribeJobFailed,
    TranscribeJobTimeout,
    TranscribeRequestError,
)
from callscope.aws.s3_objects import read_result  # noqa: E402
from callscope.aws.transcribe_requests import (  # noqa: E402
    JOB_NAME_PATTERN,
    CallAnalyticsJobRequest,
    LanguageIdSetting,
    TranscribeJobRequest,
    call_analytics_params,
    job_name,
)
from callscope.aws.transcribe_runs import (  # noqa: E402
    CALL_ANALYTICS_JOB,
    TRANSCRIPTION_JOB,
    PollPolicy,
    job_kind,
    run_job,
)
from callscope.errors import CallscopeError  # noqa: E402
from tests.test_transcribe_jobs import NOT_FOUND, REGION, Sleeps, transcribe  # noqa: E402,F401 (a fixture)

BUCKET = "calls-bucket"
SHA = hashlib.sha256(b"a stereo call").hexdigest()
MEDIA = f"s3://{BUCKET}/media/{SHA}.wav"
OUTPUT = f"s3://{BUCKET}/analytics/"
ROLE = "arn:aws:iam::123456789012:role/service-role/TranscribeCallAnalytics"
DEFAULT_CHANNELS = [{"ChannelId": 1, "ParticipantRole": "AGENT"}, {"ChannelId": 0, "ParticipantRole": "CUSTOMER"}]


@pytest.fixture
def aws(fake_aws):
    """moto's S3 with the bucket."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return s3


def ca_job(name: str, status: str, **extra) -> dict:
    return {"CallAnalyticsJob": {"CallAnalyticsJobName": name, "CallAnalyticsJobStatus": status, **extra}}


def done(name: str, key: str = "analytics/result.json", redacted_key: str | None = None) -> dict:
    transcript = {"TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{key}"}
    if redacted_key:
        transcript["RedactedTranscriptFileUri"] = f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{redacted_key}"
    return ca_job(name, "COMPLETED", Media={"MediaFileUri": MEDIA}, LanguageCode="en-US",
                  ChannelDefinitions=DEFAULT_CHANNELS, Transcript=transcript)


def not_found(stubber: Stubber, name: str) -> None:
    stubber.add_client_error("get_call_analytics_job", "BadRequestException", NOT_FOUND, 400,
                             expected_params={"CallAnalyticsJobName": name})


def get(stubber: Stubber, name: str, response: dict) -> None:
    stubber.add_response("get_call_analytics_job", response, {"CallAnalyticsJobName": name})


def request(**kwargs) -> CallAnalyticsJobRequest:
    return CallAnalyticsJobRequest(MEDIA, **{"output_location": OUTPUT, "data_access_role_arn": ROLE,
                                             "language_code": "en-US", **kwargs})


# --- the requests we send --------------------------------------------------------------------

WHERE = {"OutputLocation": OUTPUT, "DataAccessRoleArn": ROLE}
REQUESTS = {
    "default channels": (
        request(),
        {**WHERE, "Settings": {"LanguageOptions": ["en-US"]}, "ChannelDefinitions": DEFAULT_CHANNELS}),
    "custom channels": (
        request(channel_definitions=((0, "AGENT"), (1, "CUSTOMER"))),
        {**WHERE, "Settings": {"LanguageOptions": ["en-US"]},
         "ChannelDefinitions": [{"ChannelId": 0, "ParticipantRole": "AGENT"},
                                {"ChannelId": 1, "ParticipantRole": "CUSTOMER"}]}),
    "no channel definitions": (
        request(channel_definitions=()),
        {**WHERE, "Settings": {"LanguageOptions": ["en-US"]}}),
    "pii redaction": (
        request(redaction_output="redacted_and_unredacted", pii_entity_types=("NAME", "CREDIT_DEBIT_NUMBER")),
        {**WHERE, "ChannelDefinitions": DEFAULT_CHANNELS,
         "Settings": {"LanguageOptions": ["en-US"],
                      "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted",
                                           "PiiEntityTypes": ["NAME", "CREDIT_DEBIT_NUMBER"]}}}),
    "all pii redacted": (
        request(redaction_output="redacted"),
        {**WHERE, "ChannelDefinitions": DEFAULT_CHANNELS,
         "Settings": {"LanguageOptions": ["en-US"],
                      "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}}}),
    "vocabulary, filter and language model": (
        request(vocabulary_name="acme-terms", vocabulary_filter_name="profanity", vocabulary_filter_method="tag",
                language_model_name="acme-clm"),
        {**WHERE, "ChannelDefinitions": DEFAULT_CHANNELS,
         "Settings": {"LanguageOptions": ["en-US"], "VocabularyName": "acme-terms",
                      "VocabularyFilterName": "profanity", "VocabularyFilterMethod": "tag",
                      "LanguageModelName": "acme-clm"}}),
    "generative summary": (
        request(generative_summary=True),
        {**WHERE, "ChannelDefinitions": DEFAULT_CHANNELS,
         "Settings": {"LanguageOptions": ["en-US"], "Summarization": {"GenerateAbstractiveSummary": True}}}),
    "language identification": (
        request(language_code=None, identify_language=True, language_options=("en-US", "es-US"),
                language_id_settings=(LanguageIdSetting("en-US", vocabulary_name="acme-en",
                                                        vocabulary_filter_name="filter-en"),
                                      LanguageIdSetting("es-US", language_model_name="acme-es")),
                vocabulary_filter_method="remove"),
        {**WHERE, "ChannelDefinitions": DEFAULT_CHANNELS,
         "Settings": {"LanguageOptions": ["en-US", "es-US"], "VocabularyFilterMethod": "remove",
                      "LanguageIdSettings": {
                          "en-US": {"VocabularyName": "acme-en", "VocabularyFilterName": "filter-en"},
                          "es-US": {"LanguageModelName": "acme-es"}}}}),
    "any language, service-managed output": (
        CallAnalyticsJobRequest(MEDIA, identify_language=True),
        {"ChannelDefinitions": DEFAULT_CHANNELS}),
    "kms key": (
        request(output_kms_key_id="alias/transcripts"),
        {**WHERE, "OutputEncryptionKMSKeyId": "alias/transcripts", "Settings": {"LanguageOptions": ["en-US"]},
         "ChannelDefinitions": DEFAULT_CHANNELS}),
}


@pytest.mark.parametrize("case", REQUESTS)
def test_start_sends_exactly_the_call_analytics_request(transcribe, case):
    client, stubber = transcribe
    job_request, expected = REQUESTS[case]
    name = job_name(SHA, job_request)
    params = {"CallAnalyticsJobName": name, "Media": {"MediaFileUri": MEDIA}, **expected}
    assert call_analytics_params(job_request, name) == params
    not_found(stubber, name)
    stubber.add_response("start_call_analytics_job", ca_job(name, "IN_PROGRESS"), params)
    get(stubber, name, done(name))
    sleeps = Sleeps()
    finished = run_job(client, job_request, name, sleep=sleeps)
    assert finished["CallAnalyticsJobStatus"] == "COMPLETED" and finished["CallAnalyticsJobName"] == name
    assert sleeps == [5.0]


def test_the_reference_request_is_what_the_defaults_send():
    """seeds/000: LanguageOptions ["en-US"], channel 1 AGENT, channel 0 CUSTOMER, a DataAccessRoleArn."""
    params = call_analytics_params(CallAnalyticsJobRequest(MEDIA, language_code="en-US", data_access_role_arn=ROLE),
                                   "myPostCallTest")
    assert params == {"CallAnalyticsJobName": "myPostCallTest", "Media": {"MediaFileUri": MEDIA},
                      "Settings": {"LanguageOptions": ["en-US"]}, "ChannelDefinitions": DEFAULT_CHANNELS,
                      "DataAccessRoleArn": ROLE}


def test_job_kinds_follow_the_request_type():
    assert job_kind(request()) is CALL_ANALYTICS_JOB
    assert job_kind(TranscribeJobRequest(MEDIA, language_code="en-US")) is TRANSCRIPTION_JOB
    assert (CALL_ANALYTICS_JOB.get_method, CALL_ANALYTICS_JOB.start_method) == (
        "get_call_analytics_job", "start_call_analytics_job")
    assert (TRANSCRIPTION_JOB.get_method, TRANSCRIPTION_JOB.start_method) == (
        "get_transcription_job", "start_transcription_job")
    with pytest.raises(TypeError):
        job_kind(object())  # type: ignore[arg-type]


# --- reuse and polling -----------------------------------------------------------------------

def test_a_completed_call_analytics_job_is_reused_without_starting_another(transcribe):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    get(stubber, name, done(name))  # no start_call_analytics_job stubbed: calling it would fail
    sleeps = Sleeps()
    assert run_job(client, job_request, name, sleep=sleeps)["CallAnalyticsJobName"] == name
    assert sleeps == []


def test_a_call_analytics_job_is_polled_with_backoff_until_completed(transcribe):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    not_found(stubber, name)
    stubber.add_response("start_call_analytics_job", ca_job(name, "QUEUED"))
    get(stubber, name, ca_job(name, "QUEUED"))
    for _ in range(3):
        get(stubber, name, ca_job(name, "IN_PROGRESS"))
    get(stubber, name, done(name))
    sleeps = Sleeps()
    finished = run_job(client, job_request, name, PollPolicy(first_delay=5, factor=2, max_delay=30), sleeps)
    assert finished["Transcript"]["TranscriptFileUri"].endswith("analytics/result.json")
    assert sleeps == [5, 10, 20, 30, 30]


def test_a_call_analytics_job_that_runs_too_long_is_a_one_line_timeout(transcribe):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    for _ in range(3):
        get(stubber, name, ca_job(name, "IN_PROGRESS"))
    sleeps = Sleeps()
    with pytest.raises(TranscribeJobTimeout) as caught:
        run_job(client, job_request, name, PollPolicy(first_delay=10, factor=2, timeout=25), sleeps,
                subject="calls/a.wav")
    assert sleeps == [10, 15]
    assert str(caught.value) == (f"calls/a.wav: Amazon Transcribe Call Analytics job {name} is still IN_PROGRESS "
                                 "after 25 s; run again later to pick it up")
    assert caught.value.kind == "job_timeout"


def test_a_start_conflict_on_a_call_analytics_job_waits_for_the_other_run(transcribe):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    not_found(stubber, name)
    stubber.add_client_error("start_call_analytics_job", "ConflictException",
                             "The requested job name already exists. Use a different job name.", 400)
    get(stubber, name, done(name))
    sleeps = Sleeps()
    assert run_job(client, job_request, name, sleep=sleeps)["CallAnalyticsJobStatus"] == "COMPLETED"
    assert sleeps == [5.0]


@pytest.mark.parametrize("existing", [True, False], ids=["found failed", "failed while polled"])
def test_a_failed_call_analytics_job_is_one_line_with_its_failure_reason(transcribe, existing):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    reason = ("Call Analytics requires audio with 2 channels; the media file has 1 channel.\n"
              "See the developer guide.")
    if not existing:
        not_found(stubber, name)
        stubber.add_response("start_call_analytics_job", ca_job(name, "IN_PROGRESS"))
    get(stubber, name, ca_job(name, "FAILED", FailureReason=reason))
    with pytest.raises(TranscribeJobFailed) as caught:
        run_job(client, job_request, name, sleep=Sleeps(), subject="calls/a.wav")
    first = reason.splitlines()[0]
    assert caught.value.failure_reason == first
    assert str(caught.value) == (f"calls/a.wav: Amazon Transcribe Call Analytics job {name} failed: {first} "
                                 "(delete the job to try again)")
    assert caught.value.kind == "job_failed"


# --- service errors --------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "operation", "code", "service_message", "kind"), [
    ("start_call_analytics_job", "StartCallAnalyticsJob", "BadRequestException",
     "The audio sample rate 4000 Hz isn't supported. Use a sample rate of 8000 Hz or higher.\nRequest id: 1",
     "bad_request"),
    ("start_call_analytics_job", "StartCallAnalyticsJob", "LimitExceededException",
     "You have exceeded your limit of concurrent call analytics jobs.", "limit_exceeded"),
    ("start_call_analytics_job", "StartCallAnalyticsJob", "BadRequestException",
     "Amazon Transcribe can't access the DataAccessRoleArn that you specified.", "bad_request"),
    ("get_call_analytics_job", "GetCallAnalyticsJob", "AccessDeniedException",
     "User: arn:aws:iam::123456789012:user/x is not authorized to perform: transcribe:GetCallAnalyticsJob",
     "access_denied"),
    ("get_call_analytics_job", "GetCallAnalyticsJob", "ThrottlingException", "Rate exceeded", "throttled"),
])
def test_call_analytics_service_errors_are_one_line_naming_the_file(transcribe, method, operation, code,
                                                                    service_message, kind):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    if method == "start_call_analytics_job":
        not_found(stubber, name)
    stubber.add_client_error(method, code, service_message, 400)
    with pytest.raises(AwsServiceError) as caught:
        run_job(client, job_request, name, sleep=Sleeps(), subject="calls/a.wav")
    message = str(caught.value)
    assert isinstance(caught.value, CallscopeError)
    assert message.startswith(f"calls/a.wav: Amazon Transcribe {operation} {name}: {code}: ")
    assert service_message.splitlines()[0] in message and "\n" not in message
    assert caught.value.kind == kind and caught.value.code == code


def test_errors_name_the_media_when_no_subject_is_given(transcribe):
    client, stubber = transcribe
    job_request = request()
    name = job_name(SHA, job_request)
    not_found(stubber, name)
    stubber.add_client_error("start_call_analytics_job", "BadRequestException",
                             "The audio sample rate 4000 Hz isn't supported.", 400)
    with pytest.raises(AwsServiceError, match=rf"^{MEDIA}: Amazon Transcribe StartCallAnalyticsJob {name}: "
                                              "BadRequestException: The audio sample rate 4000 Hz"):
        run_job(client, job_request, name, sleep=Sleeps())


# --- refused before sending ------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"language_code": None}, "give either a language code or identify_language"),
    ({"identify_language": True}, "give either a language code or identify_language"),
    ({"language_options": ("en-US", "es-US")}, "language options are for language identification"),
    ({"language_code": None, "identify_language": True, "language_options": ("en-US",)}, "two or more"),
    ({"language_code": None, "identify_language": True, "vocabulary_name": "v"}, "language_id_settings"),
    ({"language_id_settings": (LanguageIdSetting("en-US", vocabulary_name="v"),)}, "for language identification"),
    ({"language_code": None, "identify_language": True, "language_options": ("en-US", "es-US"),
      "language_id_settings": (LanguageIdSetting("fr-FR", vocabulary_name="v"),)}, "not among the language options"),
    ({"language_code": None, "identify_language": True, "language_id_settings": (LanguageIdSetting("en-US"),)},
     "names no vocabulary"),
    ({"vocabulary_name": "acme terms"}, "not a valid Amazon Transcribe resource name"),
    ({"vocabulary_filter_name": "f", "vocabulary_filter_method": "blur"}, "vocabulary filter method 'blur'"),
    ({"vocabulary_filter_method": "remove"}, "needs a vocabulary filter"),
    ({"redaction_output": "unredacted"}, "redaction output 'unredacted'"),
    ({"pii_entity_types": ("NAME",)}, "need redaction"),
    ({"redaction_output": "redacted", "pii_entity_types": ("name",)}, "not an Amazon Transcribe PiiEntityType"),
    ({"redaction_output": "redacted", "pii_entity_types": ("ALL", "NAME")}, "ALL already covers"),
    ({"channel_definitions": ((2, "AGENT"), (0, "CUSTOMER"))}, "channel id 2 is not 0 or 1"),
    ({"channel_definitions": ((1, "AGENT"), (1, "CUSTOMER"))}, "same channel"),
    ({"channel_definitions": ((1, "AGENT"), (0, "AGENT"))}, "same participant role"),
    ({"channel_definitions": ((1, "CALLER"), (0, "CUSTOMER"))}, "participant role 'CALLER'"),
    ({"channel_definitions": ((True, "AGENT"),)}, "channel id True"),
    ({"channel_definitions": (1, 0)}, "channel definition (1,) is not (channel id, role)"),
    ({"language_code": None, "identify_language": True, "language_id_settings": ({"en-US": "v"},)},
     "take LanguageIdSetting entries"),
    ({"channel_definitions": ((1, "AGENT"), (0, "CUSTOMER"), (0, "AGENT"))}, "3 channel definitions"),
    ({"data_access_role_arn": None}, "an output location needs a data access role ARN"),
    ({"data_access_role_arn": "arn:aws:iam::123456789012:user/me"}, "is not an IAM role ARN"),
    ({"output_location": "https://example.com/out/"}, "an output location is s3://bucket"),
    ({"output_location": f"s3://{BUCKET}/out"}, "an output location is s3://bucket"),
    ({"output_location": None, "output_kms_key_id": "alias/k"}, "an output KMS key"),
])
def test_settings_that_cannot_go_together_are_refused_before_sending(kwargs, problem):
    with pytest.raises(TranscribeRequestError) as caught:
        request(**kwargs)
    message = str(caught.value)
    assert message.startswith(f"{MEDIA}: ") and problem in message and "\n" not in message
    with pytest.raises(TranscribeRequestError, match="must start with s3://"):
        CallAnalyticsJobRequest("/local/call.wav", language_code="en-US")


def test_output_locations_the_service_accepts():
    for location in (f"s3://{BUCKET}", f"s3://{BUCKET}/", f"s3://{BUCKET}/a/b/", f"s3://{BUCKET}/a/call.json"):
        assert call_analytics_params(request(output_location=location), "j")["OutputLocation"] == location


# --- job names -------------------------------------------------------------------------------

def test_call_analytics_job_names_are_valid_stable_and_differ_with_the_settings():
    base = request()
    variants = [base,
                request(language_code="en-GB"),
                request(channel_definitions=((0, "AGENT"), (1, "CUSTOMER"))),
                request(channel_definitions=()),
                request(vocabulary_name="v"),
                request(vocabulary_filter_name="f"),
                request(vocabulary_filter_name="f", vocabulary_filter_method="remove"),
                request(language_model_name="m"),
                request(redaction_output="redacted"),
                request(redaction_output="redacted_and_unredacted"),
                request(redaction_output="redacted", pii_entity_types=("NAME",)),
                request(generative_summary=True),
                request(language_code=None, identify_language=True),
                request(language_code=None, identify_language=True, language_options=("en-US", "es-US")),
                request(language_code=None, identify_language=True,
                        language_id_settings=(LanguageIdSetting("en-US", vocabulary_name="v"),))]
    names = [job_name(SHA, variant) for variant in variants]
    assert len(set(names)) == len(names)
    for name in [*names, job_name("x" * 500, base), job_name("ab/cd:ef", base)]:
        assert JOB_NAME_PATTERN.fullmatch(name) and len(name) <= 200  # CallAnalyticsJobName's pattern too
    assert job_name(SHA, base) == job_name(SHA, request())
    assert job_name(SHA, base).startswith(f"callscope-ca-{SHA[:16]}-")
    assert job_name(SHA, base) != job_name(hashlib.sha256(b"another call").hexdigest(), base)
    # Where the audio and output live, and the role and key that reach them, are not settings.
    moved = CallAnalyticsJobRequest("s3://other/call.wav", language_code="en-US", output_location="s3://o/x/",
                                    data_access_role_arn="arn:aws:iam::999999999999:role/Other",
                                    output_kms_key_id="alias/other")
    assert job_name(SHA, moved) == job_name(SHA, base)
    # The same channels in another order (or as lists) are the same request and the same job.
    reordered = request(channel_definitions=[[0, "CUSTOMER"], [1, "AGENT"]])
    assert reordered == base and job_name(SHA, reordered) == job_name(SHA, base)
    assert reordered.channel_definitions == ((1, "AGENT"), (0, "CUSTOMER"))
    with pytest.raises(ValueError):
        job_name("", base)


def test_a_call_analytics_job_name_differs_from_a_standard_jobs_for_the_same_audio():
    standard = TranscribeJobRequest(MEDIA, identify_language=True)
    analytics = CallAnalyticsJobRequest(MEDIA, identify_language=True)
    assert standard.settings() == analytics.settings() == {"identify_language": True}  # the same settings
    assert job_name(SHA, standard) != job_name(SHA, analytics)
    assert job_name(SHA, standard).startswith(f"callscope-{SHA[:16]}-")
    assert job_name(SHA, request()) != job_name(SHA, TranscribeJobRequest(MEDIA, language_code="en-US"))


# --- results in S3 ---------------------------------------------------------------------------

def call_analytics_result(name: str, redacted: bool) -> dict:
    """A Call Analytics output, shaped as the developer guide shows it (trimmed)."""
    customer = "my card number is [PII]" if redacted else "my card number is 4111 1111 1111 1111"
    return {"JobName": name, "JobStatus": "COMPLETED", "LanguageCode": "en-US", "AccountId": "123456789012",
            "Channel": "VOICE",
            "Transcript": [
                {"ParticipantRole": "AGENT", "Content": "Thank you for calling Acme.", "Id": "a1",
                 "BeginOffsetMillis": 500, "EndOffsetMillis": 2100, "Sentiment": "NEUTRAL"},
                {"ParticipantRole": "CUSTOMER", "Content": customer, "Id": "c1",
                 "BeginOffsetMillis": 2600, "EndOffsetMillis": 5200, "Sentiment": "NEUTRAL"}],
            "ConversationCharacteristics": {"TotalConversationDurationMillis": 5200}}


def test_read_result_reads_a_call_analytics_transcript_and_its_redacted_copy(aws):
    name = "callscope-ca-0123456789abcdef-0123456789ab"
    aws.put_object(Bucket=BUCKET, Key=f"analytics/{name}.json",
                   Body=json.dumps(call_analytics_result(name, redacted=False)).encode())
    aws.put_object(Bucket=BUCKET, Key=f"redacted-analytics/{name}.json",
                   Body=json.dumps(call_analytics_result(name, redacted=True)).encode())
    finished = done(name, key=f"analytics/{name}.json", redacted_key=f"redacted-analytics/{name}.json")

    plain = read_result(aws, finished)
    assert plain["JobName"] == name and "4111" in plain["Transcript"][1]["Content"]
    assert read_result(aws, finished["CallAnalyticsJob"]) == plain  # the Get response or the description
    redacted = read_result(aws, finished, redacted=True)
    assert redacted["Transcript"][1]["Content"] == "my card number is [PII]"
    assert [turn["ParticipantRole"] for turn in redacted["Transcript"]] == ["AGENT", "CUSTOMER"]

    # s3:// transcript URIs too
    s3_uri = ca_job(name, "COMPLETED", Transcript={"TranscriptFileUri": f"s3://{BUCKET}/analytics/{name}.json"})
    assert read_result(aws, s3_uri)["JobName"] == name


def test_read_result_of_a_call_analytics_job_names_what_is_missing(aws):
    name = "callscope-ca-0123456789abcdef-0123456789ab"
    unredacted_only = done(name, key=f"analytics/{name}.json")
    with pytest.raises(AwsServiceError) as caught:
        read_result(aws, unredacted_only, redacted=True, subject="calls/a.wav")
    assert str(caught.value) == (f"calls/a.wav: Amazon Transcribe Call Analytics job {name} has no "
                                 "RedactedTranscriptFileUri (start it with PII redaction)")
    assert caught.value.kind == "no_redacted_transcript"

    with pytest.raises(AwsServiceError) as caught:
        read_result(aws, unredacted_only)  # the object is not there
    message = str(caught.value)
    assert message.startswith(f"{MEDIA}: reading the transcript s3://{BUCKET}/analytics/{name}.json: NoSuchKey")
    assert message.endswith(f"(delete Amazon Transcribe Call Analytics job {name} to run it again)")
    assert caught.value.kind == "not_found"

    managed = ca_job(name, "COMPLETED", Transcript={
        "TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/aws-transcribe-{REGION}-prod/1/{name}/analytics.json"
                             "?X-Amz-Security-Token=t&X-Amz-Signature=s"})
    with pytest.raises(AwsServiceError, match="not in an output bucket") as caught:
        read_result(aws, managed)
    assert f"Amazon Transcribe Call Analytics job {name}: its TranscriptFileUri" in str(caught.value)
    assert "X-Amz" not in str(caught.value) and caught.value.kind == "no_output_bucket"
