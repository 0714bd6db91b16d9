"""Amazon Transcribe jobs (callscope.aws: transcribe_requests, transcribe_runs, s3_objects, errors) and
the accuracy lab's TranscribeAsr.

Transcribe runs against botocore's Stubber on a real client (moto's Transcribe is canned), so the
exact requests we send are checked against the real service model; S3 is moto's. Nothing reaches AWS.
"""

from __future__ import annotations

import hashlib
import json
from unittest import mock

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from callscope.accuracy.transcribe_system import TranscribeAsr  # noqa: E402
from callscope.aws.errors import (  # noqa: E402
    AwsServiceError,
    TranscribeJobFailed,
    TranscribeJobTimeout,
    TranscribeRequestError,
)
from callscope.aws.s3_objects import read_result, s3_location, upload_media  # noqa: E402
from callscope.aws.transcribe_requests import JOB_NAME_PATTERN, TranscribeJobRequest, job_name  # noqa: E402
from callscope.aws.transcribe_runs import PollPolicy, run_job  # noqa: E402
from callscope.errors import CallscopeError  # noqa: E402

REGION = "us-east-1"
BUCKET = "lab-bucket"
SHA = hashlib.sha256(b"a recording").hexdigest()
MEDIA = f"s3://{BUCKET}/media/{SHA}.wav"
NOT_FOUND = "The requested job couldn't be found. Check the job name and try your request again."


@pytest.fixture
def aws(fake_aws):
    """moto's S3 with the bucket."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return s3


@pytest.fixture
def transcribe(aws):
    client = boto3.client("transcribe", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()  # every stubbed call was made, none more


class Sleeps(list):
    """An injected sleep that records its delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def job(name: str, status: str, **extra) -> dict:
    return {"TranscriptionJob": {"TranscriptionJobName": name, "TranscriptionJobStatus": status, **extra}}


def done(name: str, key: str = "out/result.json") -> dict:
    return job(name, "COMPLETED", Media={"MediaFileUri": MEDIA},
               Transcript={"TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{key}"})


def not_found(stubber: Stubber, name: str) -> None:
    stubber.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND, 400,
                             expected_params={"TranscriptionJobName": name})


def get(stubber: Stubber, name: str, response: dict) -> None:
    stubber.add_response("get_transcription_job", response, {"TranscriptionJobName": name})


# --- the requests we send --------------------------------------------------------------------

REQUESTS = {
    "standard": (
        TranscribeJobRequest(MEDIA, language_code="en-US", output_bucket=BUCKET, output_key="out/x.json"),
        {"LanguageCode": "en-US", "OutputBucketName": BUCKET, "OutputKey": "out/x.json"}),
    "custom vocabulary": (
        TranscribeJobRequest(MEDIA, language_code="en-US", vocabulary_name="acme-terms", output_bucket=BUCKET),
        {"LanguageCode": "en-US", "Settings": {"VocabularyName": "acme-terms"}, "OutputBucketName": BUCKET}),
    "custom language model": (
        TranscribeJobRequest(MEDIA, language_code="en-US", language_model_name="acme-clm"),
        {"LanguageCode": "en-US", "ModelSettings": {"LanguageModelName": "acme-clm"}}),
    "speaker labels": (
        TranscribeJobRequest(MEDIA, language_code="en-GB", show_speaker_labels=True),
        {"LanguageCode": "en-GB", "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2}}),
    "everything": (
        TranscribeJobRequest(MEDIA, language_code="en-US", vocabulary_name="v", vocabulary_filter_name="f",
                             vocabulary_filter_method="remove", language_model_name="m",
                             show_speaker_labels=True, max_speakers=4),
        {"LanguageCode": "en-US", "ModelSettings": {"LanguageModelName": "m"},
         "Settings": {"VocabularyName": "v", "VocabularyFilterName": "f", "VocabularyFilterMethod": "remove",
                      "ShowSpeakerLabels": True, "MaxSpeakerLabels": 4}}),
    "channels": (
        TranscribeJobRequest(MEDIA, language_code="en-US", channel_identification=True),
        {"LanguageCode": "en-US", "Settings": {"ChannelIdentification": True}}),
    "identify language": (
        TranscribeJobRequest(MEDIA, identify_language=True, language_options=("en-US", "es-US")),
        {"IdentifyLanguage": True, "LanguageOptions": ["en-US", "es-US"]}),
    "pii redaction": (
        TranscribeJobRequest(MEDIA, language_code="en-US", redaction_output="redacted", output_bucket=BUCKET),
        {"LanguageCode": "en-US", "OutputBucketName": BUCKET,
         "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"}}),
    "pii redaction of some types": (
        TranscribeJobRequest(MEDIA, language_code="en-US", show_speaker_labels=True,
                             redaction_output="redacted_and_unredacted", pii_entity_types=["NAME", "SSN"]),
        {"LanguageCode": "en-US", "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
         "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted",
                              "PiiEntityTypes": ["NAME", "SSN"]}}),
}


@pytest.mark.parametrize("case", REQUESTS)
def test_start_sends_exactly_the_request(transcribe, case):
    client, stubber = transcribe
    request, expected = REQUESTS[case]
    name = job_name(SHA, request)
    not_found(stubber, name)
    stubber.add_response("start_transcription_job", job(name, "IN_PROGRESS"),
                         {"TranscriptionJobName": name, "Media": {"MediaFileUri": MEDIA}, **expected})
    get(stubber, name, done(name))
    sleeps = Sleeps()
    finished = run_job(client, request, name, sleep=sleeps)
    assert finished["TranscriptionJobStatus"] == "COMPLETED"
    assert sleeps == [5.0]


# --- reuse and polling -----------------------------------------------------------------------

def test_a_completed_job_of_that_name_is_reused_without_starting_another(transcribe):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    get(stubber, name, done(name))  # and no start_transcription_job stubbed: calling it would fail
    sleeps = Sleeps()
    assert run_job(client, request, name, sleep=sleeps)["TranscriptionJobName"] == name
    assert sleeps == []


def test_a_running_job_of_that_name_is_waited_for(transcribe):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    get(stubber, name, job(name, "QUEUED"))
    get(stubber, name, job(name, "IN_PROGRESS"))
    get(stubber, name, done(name))
    sleeps = Sleeps()
    run_job(client, request, name, sleep=sleeps)
    assert sleeps == [5.0, 10.0]


def test_polling_backs_off_exponentially_up_to_the_cap(transcribe):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    stubber.add_client_error("get_transcription_job", "NotFoundException", "not found", 404)
    stubber.add_response("start_transcription_job", job(name, "QUEUED"))
    for _ in range(5):
        get(stubber, name, job(name, "IN_PROGRESS"))
    get(stubber, name, done(name))
    sleeps, told = Sleeps(), []
    run_job(client, request, name, PollPolicy(first_delay=5, factor=2, max_delay=30), sleeps,
            on_wait=lambda status, waited: told.append((status, waited)))
    assert sleeps == [5, 10, 20, 30, 30, 30]
    # Before each wait the caller hears the status and the time waited so far (for a progress bar).
    assert told == [("QUEUED", 0), ("IN_PROGRESS", 5), ("IN_PROGRESS", 15), ("IN_PROGRESS", 35),
                    ("IN_PROGRESS", 65), ("IN_PROGRESS", 95)]


def test_polling_gives_up_after_the_timeout_with_one_line(transcribe):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    get(stubber, name, job(name, "IN_PROGRESS"))
    for _ in range(3):
        get(stubber, name, job(name, "IN_PROGRESS"))
    sleeps = Sleeps()
    with pytest.raises(TranscribeJobTimeout) as caught:
        run_job(client, request, name, PollPolicy(first_delay=5, factor=2, timeout=30), sleeps,
                subject="calls/a.wav")
    assert sleeps == [5, 10, 15]  # the last wait is cut to the time left
    message = str(caught.value)
    assert message.startswith("calls/a.wav: ") and name in message and "IN_PROGRESS after 30 s" in message
    assert "\n" not in message and caught.value.kind == "job_timeout"


def test_a_start_conflict_means_another_run_started_it_so_we_wait(transcribe):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    not_found(stubber, name)
    stubber.add_client_error("start_transcription_job", "ConflictException",
                             "The requested job name already exists. Use a different job name.", 400)
    get(stubber, name, done(name))
    sleeps = Sleeps()
    assert run_job(client, request, name, sleep=sleeps)["TranscriptionJobStatus"] == "COMPLETED"
    assert sleeps == [5.0]


@pytest.mark.parametrize("existing", [True, False], ids=["found failed", "failed while polled"])
def test_a_failed_job_is_an_error_carrying_its_failure_reason(transcribe, existing):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    reason = "The media format that you specified doesn't match the detected media format. Check and try again."
    if not existing:
        not_found(stubber, name)
        stubber.add_response("start_transcription_job", job(name, "IN_PROGRESS"))
    get(stubber, name, job(name, "FAILED", FailureReason=reason))
    with pytest.raises(TranscribeJobFailed) as caught:
        run_job(client, request, name, sleep=Sleeps(), subject="calls/a.wav")
    assert caught.value.failure_reason == reason
    assert str(caught.value) == (f"calls/a.wav: Amazon Transcribe job {name} failed: {reason} "
                                 "(delete the job to try again)")


# --- service errors --------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "code", "service_message", "kind"), [
    ("start_transcription_job", "LimitExceededException",
     "You have exceeded your limit of concurrent transcription jobs.", "limit_exceeded"),
    ("start_transcription_job", "BadRequestException",
     "The language code that you specified isn't supported.", "bad_request"),
    ("start_transcription_job", "BadRequestException",
     "The specified sample rate isn't valid for the media file.\nDetails follow.", "bad_request"),
    ("get_transcription_job", "ThrottlingException", "Rate exceeded", "throttled"),
    ("get_transcription_job", "AccessDeniedException",
     "User: arn:aws:iam::123456789012:user/x is not authorized to perform: transcribe:GetTranscriptionJob",
     "access_denied"),
    ("get_transcription_job", "BadRequestException", "1 validation error detected", "bad_request"),
])
def test_service_errors_are_one_line_naming_the_file(transcribe, method, code, service_message, kind):
    client, stubber = transcribe
    request = REQUESTS["standard"][0]
    name = job_name(SHA, request)
    if method == "start_transcription_job":
        not_found(stubber, name)
    stubber.add_client_error(method, code, service_message, 400)
    with pytest.raises(AwsServiceError) as caught:
        run_job(client, request, name, sleep=Sleeps(), subject="calls/a.wav")
    message = str(caught.value)
    assert isinstance(caught.value, CallscopeError)
    assert message.startswith("calls/a.wav: Amazon Transcribe ") and name in message and code in message
    assert service_message.splitlines()[0] in message and "\n" not in message
    assert caught.value.kind == kind and caught.value.code == code


def test_settings_that_cannot_go_together_are_refused_before_sending():
    for kwargs in ({"language_code": "en-US", "show_speaker_labels": True, "channel_identification": True},
                   {"identify_language": True, "vocabulary_name": "v"},
                   {"language_code": "en-US", "identify_language": True},
                   {},
                   {"language_code": "en-US", "max_speakers": 31},
                   {"language_code": "en-US", "output_key": "k.json"}):
        with pytest.raises(TranscribeRequestError, match=r"^s3://"):
            TranscribeJobRequest(MEDIA, **kwargs)
    with pytest.raises(TranscribeRequestError, match="must start with s3://"):
        TranscribeJobRequest("/local/a.wav", language_code="en-US")


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"pii_entity_types": ("NAME",)}, "PII entity types need redaction"),
    ({"redaction_output": "unredacted"}, "redaction output 'unredacted' is not one of"),
    ({"redaction_output": "PII"}, "redaction output 'PII' is not one of"),
    ({"redaction_output": "redacted", "pii_entity_types": ("name",)},
     "'name' is not an Amazon Transcribe PiiEntityType"),
    ({"redaction_output": "redacted", "pii_entity_types": ("NAME", "NAME")}, "given twice"),
    ({"redaction_output": "redacted", "pii_entity_types": ("ALL", "SSN")}, "ALL already covers the others"),
])
def test_redaction_settings_that_cannot_go_together_are_refused_before_sending(kwargs, problem):
    with pytest.raises(TranscribeRequestError, match=r"^s3://") as caught:
        TranscribeJobRequest(MEDIA, language_code="en-US", **kwargs)
    assert problem in str(caught.value)


def test_redaction_lists_are_kept_as_tuples_so_the_request_stays_hashable():
    listed = TranscribeJobRequest(MEDIA, identify_language=True, language_options=["en-US", "es-US"],
                                  redaction_output="redacted", pii_entity_types=["NAME", "SSN"])
    tupled = TranscribeJobRequest(MEDIA, identify_language=True, language_options=("en-US", "es-US"),
                                  redaction_output="redacted", pii_entity_types=("NAME", "SSN"))
    assert listed.pii_entity_types == ("NAME", "SSN") and listed.language_options == ("en-US", "es-US")
    assert listed == tupled and hash(listed) == hash(tupled) and job_name(SHA, listed) == job_name(SHA, tupled)


# --- job names -------------------------------------------------------------------------------

def test_job_names_are_valid_stable_and_differ_with_the_settings():
    base = TranscribeJobRequest(MEDIA, language_code="en-US")
    variants = [base,
                TranscribeJobRequest(MEDIA, language_code="en-GB"),
                TranscribeJobRequest(MEDIA, language_code="en-US", vocabulary_name="v"),
                TranscribeJobRequest(MEDIA, language_code="en-US", language_model_name="m"),
                TranscribeJobRequest(MEDIA, language_code="en-US", show_speaker_labels=True),
                TranscribeJobRequest(MEDIA, language_code="en-US", show_speaker_labels=True, max_speakers=3),
                TranscribeJobRequest(MEDIA, language_code="en-US", channel_identification=True),
                TranscribeJobRequest(MEDIA, identify_language=True)]
    names = [job_name(SHA, request) for request in variants]
    assert len(set(names)) == len(names)
    for name in [*names, job_name("x" * 500, base), job_name("ab/cd:ef", base)]:
        assert JOB_NAME_PATTERN.fullmatch(name) and len(name) <= 200
    assert job_name(SHA, base) == job_name(SHA, TranscribeJobRequest(MEDIA, language_code="en-US"))
    assert job_name(SHA, base) != job_name(hashlib.sha256(b"other").hexdigest(), base)
    # Where the audio and the transcript live is not a setting: a re-run elsewhere reuses the job.
    moved = TranscribeJobRequest("s3://other/a.wav", language_code="en-US", output_bucket="o", output_key="k.json")
    assert job_name(SHA, moved) == job_name(SHA, base)
    assert job_name(SHA, base).startswith(f"callscope-{SHA[:16]}-")
    with pytest.raises(ValueError):
        job_name("", base)


def test_redaction_changes_the_job_name_and_leaves_the_names_of_requests_without_it_unchanged():
    # Literal names computed before redaction was added: jobs started then are still found.
    before = {"callscope-973d5cd4d1c9a99d-1b0551824276": TranscribeJobRequest(MEDIA, language_code="en-US"),
              "callscope-973d5cd4d1c9a99d-317a1cd3c688": TranscribeJobRequest(
                  MEDIA, language_code="en-US", show_speaker_labels=True, vocabulary_name="acme-terms"),
              "callscope-973d5cd4d1c9a99d-1bc80a1eec79": TranscribeJobRequest(
                  MEDIA, identify_language=True, language_options=("en-US", "es-US"))}
    assert {name: job_name(SHA, request) for name, request in before.items()} == {name: name for name in before}
    base = TranscribeJobRequest(MEDIA, language_code="en-US")
    variants = [base,
                TranscribeJobRequest(MEDIA, language_code="en-US", redaction_output="redacted"),
                TranscribeJobRequest(MEDIA, language_code="en-US", redaction_output="redacted_and_unredacted"),
                TranscribeJobRequest(MEDIA, language_code="en-US", redaction_output="redacted",
                                     pii_entity_types=("NAME",))]
    names = [job_name(SHA, request) for request in variants]
    assert len(set(names)) == len(names)
    assert all(JOB_NAME_PATTERN.fullmatch(name) for name in names)


# --- S3 --------------------------------------------------------------------------------------

def test_s3_locations_of_transcript_uris():
    assert s3_location(f"https://s3.{REGION}.amazonaws.com/{BUCKET}/out/a%20b.json") == (BUCKET, "out/a b.json")
    assert s3_location(f"https://s3.amazonaws.com/{BUCKET}/k.json") == (BUCKET, "k.json")
    assert s3_location(f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/dir/k.json") == (BUCKET, "dir/k.json")
    assert s3_location(f"s3://{BUCKET}/dir/k.json") == (BUCKET, "dir/k.json")
    for bad in ("https://example.com/b/k.json", f"https://s3.{REGION}.amazonaws.com/{BUCKET}",
                f"https://s3.{REGION}.amazonaws.com/aws-prod/k.json?X-Amz-Signature=abc", "", "s3://b"):
        with pytest.raises(ValueError):
            s3_location(bad)


def test_read_result_reads_the_output_object_and_names_what_is_missing(aws):
    aws.put_object(Bucket=BUCKET, Key="out/result.json", Body=b'{"jobName": "j", "results": {"items": []}}')
    assert read_result(aws, done("j"))["jobName"] == "j"
    assert read_result(aws, done("j")["TranscriptionJob"])["jobName"] == "j"  # either shape
    with pytest.raises(AwsServiceError) as caught:
        read_result(aws, done("j", key="out/gone.json"), subject="calls/a.wav")
    assert str(caught.value).startswith(f"calls/a.wav: reading the transcript s3://{BUCKET}/out/gone.json: NoSuchKey")
    assert str(caught.value).endswith("(delete Amazon Transcribe job j to run it again)")
    assert caught.value.kind == "not_found"
    aws.put_object(Bucket=BUCKET, Key="out/bad.json", Body=b"<html>")
    with pytest.raises(AwsServiceError, match=r"s3://lab-bucket/out/bad.json is not JSON") as caught:
        read_result(aws, done("j", key="out/bad.json"))
    assert caught.value.kind == "bad_result"
    managed = job("j", "COMPLETED", Transcript={
        "TranscriptFileUri": "https://s3.us-east-1.amazonaws.com/aws-transcribe-us-east-1-prod/1/j/asrOutput.json"
                             "?X-Amz-Security-Token=t&X-Amz-Signature=s"})
    with pytest.raises(AwsServiceError, match="not in an output bucket") as caught:
        read_result(aws, managed)
    assert "X-Amz" not in str(caught.value)  # a signed URL is a secret: not in messages


def _transcript(document: dict) -> str:
    return document["results"]["transcripts"][0]["transcript"]


def test_a_redacting_job_is_run_and_its_redacted_transcript_read(transcribe, aws):
    client, stubber = transcribe
    request = TranscribeJobRequest(MEDIA, language_code="en-US", redaction_output="redacted_and_unredacted",
                                   output_bucket=BUCKET, output_key="out/")
    name = job_name(SHA, request)
    for key, said in ((f"out/{name}.json", "my name is Ada"), (f"out/redacted-{name}.json", "my name is [PII]")):
        aws.put_object(Bucket=BUCKET, Key=key,
                       Body=json.dumps({"jobName": name, "results": {"transcripts": [{"transcript": said}]}}))
    uri = f"https://s3.{REGION}.amazonaws.com/{BUCKET}/out"
    redaction = {"RedactionType": "PII", "RedactionOutput": "redacted_and_unredacted"}
    not_found(stubber, name)
    stubber.add_response("start_transcription_job", job(name, "IN_PROGRESS"), {
        "TranscriptionJobName": name, "Media": {"MediaFileUri": MEDIA}, "LanguageCode": "en-US",
        "OutputBucketName": BUCKET, "OutputKey": "out/", "ContentRedaction": redaction})
    get(stubber, name, job(name, "COMPLETED", Media={"MediaFileUri": MEDIA}, ContentRedaction=redaction,
                           Transcript={"TranscriptFileUri": f"{uri}/{name}.json",
                                       "RedactedTranscriptFileUri": f"{uri}/redacted-{name}.json"}))
    finished = run_job(client, request, name, sleep=Sleeps())
    assert _transcript(read_result(aws, finished, redacted=True)) == "my name is [PII]"
    assert _transcript(read_result(aws, {"TranscriptionJob": finished}, redacted=True)) == "my name is [PII]"
    assert _transcript(read_result(aws, finished)) == "my name is Ada"


def test_reading_the_redacted_transcript_of_a_job_without_redaction_is_one_line(aws):
    with pytest.raises(AwsServiceError) as caught:
        read_result(aws, done("j"), redacted=True, subject="calls/a.wav")
    assert str(caught.value) == ("calls/a.wav: Amazon Transcribe job j has no RedactedTranscriptFileUri "
                                 "(start it with PII redaction)")
    assert caught.value.kind == "no_redacted_transcript"


def test_upload_is_skipped_when_the_object_is_there_with_that_size(aws, tmp_path):
    audio = tmp_path / "Call 1.WAV"
    audio.write_bytes(b"RIFF" + bytes(100))
    with mock.patch.object(aws, "upload_file", wraps=aws.upload_file) as upload:
        uri = upload_media(aws, audio, BUCKET, "/lab/media/", SHA)
        assert uri == f"s3://{BUCKET}/lab/media/{SHA}.wav" and upload.call_count == 1
        assert upload_media(aws, audio, BUCKET, "lab/media", SHA) == uri
        assert upload.call_count == 1  # head_object found it: no second upload
        audio.write_bytes(b"RIFF" + bytes(200))  # same key, other size: a broken earlier upload
        upload_media(aws, audio, BUCKET, "lab/media", SHA)
        assert upload.call_count == 2
    assert aws.head_object(Bucket=BUCKET, Key=f"lab/media/{SHA}.wav")["ContentLength"] == 204


def test_upload_to_a_missing_bucket_is_one_line_naming_the_file(aws, tmp_path):
    from botocore.exceptions import ClientError

    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF")
    # Real S3 answers HEAD on a missing bucket with a bare 404, so the upload is what fails.
    bare_404 = ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
    with mock.patch.object(aws, "head_object", side_effect=bare_404), pytest.raises(AwsServiceError) as caught:
        upload_media(aws, audio, "no-such-bucket", "media", SHA)
    assert str(caught.value) == (f"{audio}: uploading to s3://no-such-bucket/media/{SHA}.wav: "
                                 "NoSuchBucket: The specified bucket does not exist")
    assert caught.value.kind == "not_found"


# --- TranscribeAsr end to end ----------------------------------------------------------------

def _item(start: float, end: float, content: str, speaker: str, confidence: str = "0.99") -> dict:
    return {"start_time": f"{start:.2f}", "end_time": f"{end:.2f}", "speaker_label": speaker, "type": "pronunciation",
            "alternatives": [{"confidence": confidence, "content": content}]}


def _punctuation(mark: str, speaker: str) -> dict:
    return {"type": "punctuation", "speaker_label": speaker, "alternatives": [{"confidence": "0.0", "content": mark}]}


def standard_result(name: str) -> dict:
    """A standard job's output with speaker labels, shaped as the Transcribe developer guide shows it."""
    said = [("spk_0", 0.50, ["Thank", "you", "for", "calling", "Acme", "support", ".", "How", "can", "I", "help", "?"]),
            ("spk_1", 4.20, ["Hi", ",", "my", "order", "never", "arrived", "."]),
            ("spk_0", 7.50, ["Sorry", "to", "hear", "that", "."])]
    items, segments, transcript = [], [], []
    for speaker, start, tokens in said:
        clock, timed = start, []
        for token in tokens:
            if token in ".,?":
                items.append(_punctuation(token, speaker))
                continue
            items.append(_item(clock, clock + 0.25, token, speaker))
            timed.append({"start_time": f"{clock:.2f}", "end_time": f"{clock + 0.25:.2f}", "speaker_label": speaker})
            clock += 0.3
        segments.append({"start_time": timed[0]["start_time"], "end_time": timed[-1]["end_time"],
                         "speaker_label": speaker, "items": timed})
        transcript.append(" ".join(tokens))
    return {"jobName": name, "accountId": "123456789012", "status": "COMPLETED",
            "results": {"transcripts": [{"transcript": " ".join(transcript)}],
                        "speaker_labels": {"speakers": 2, "segments": segments}, "items": items}}


def test_transcribe_asr_end_to_end_with_speaker_labels(transcribe, tmp_path):
    client, stubber = transcribe
    s3 = boto3.client("s3", region_name=REGION)
    audio = tmp_path / "call-17.wav"
    audio.write_bytes(b"RIFF" + bytes(64))
    sha = hashlib.sha256(audio.read_bytes()).hexdigest()
    media = f"s3://{BUCKET}/lab/media/{sha}.wav"
    name = job_name(sha, TranscribeJobRequest(media, language_code="en-US", vocabulary_name="acme-terms",
                                              show_speaker_labels=True))
    key = f"lab/transcripts/{name}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(standard_result(name)).encode())
    not_found(stubber, name)
    stubber.add_response("start_transcription_job", job(name, "IN_PROGRESS"), {
        "TranscriptionJobName": name, "Media": {"MediaFileUri": media}, "LanguageCode": "en-US",
        "Settings": {"VocabularyName": "acme-terms", "ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
        "OutputBucketName": BUCKET, "OutputKey": key})
    get(stubber, name, job(name, "IN_PROGRESS"))
    completed = job(name, "COMPLETED", Media={"MediaFileUri": media},
                    Transcript={"TranscriptFileUri": f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{key}"})
    get(stubber, name, completed)
    sleeps = Sleeps()
    system = TranscribeAsr(bucket=BUCKET, prefix="lab", region=REGION, vocabulary_name="acme-terms",
                           transcribe_client=client, s3_client=s3, sleep=sleeps)
    assert system.settings.engine == "amazon-transcribe" and system.settings.model == "standard"
    assert system.settings.settings == {"language": "en-US", "vocabulary": "acme-terms"}

    segments = system.transcribe(audio, sha, speakers=True)

    assert sleeps == [5.0, 10.0]
    assert [(s.session, s.speaker, s.text) for s in segments] == [
        ("call-17", "spk_0", "Thank you for calling Acme support. How can I help?"),
        ("call-17", "spk_1", "Hi, my order never arrived."),
        ("call-17", "spk_0", "Sorry to hear that.")]
    assert segments[0].start == 0.5 and segments[1].start == 4.2 and segments[2].end == pytest.approx(8.65)
    assert s3.head_object(Bucket=BUCKET, Key=f"lab/media/{sha}.wav")["ContentLength"] == 68

    # A second run of the lab: the media is there and the job done, so nothing is uploaded or started.
    get(stubber, name, completed)
    with mock.patch.object(s3, "upload_file") as upload:
        assert system.transcribe(audio, sha, speakers=True) == segments
    upload.assert_not_called()


def test_transcribe_asr_without_speakers_with_a_language_model_and_media_already_in_s3(transcribe, tmp_path):
    client, stubber = transcribe
    s3 = boto3.client("s3", region_name=REGION)
    audio = tmp_path / "call-18.flac"  # not uploaded: media_uris says where it is
    name = job_name(SHA, TranscribeJobRequest(MEDIA, language_code="en-US", language_model_name="acme-clm"))
    document = standard_result(name)
    for item in document["results"]["items"]:
        item.pop("speaker_label")
    del document["results"]["speaker_labels"]
    s3.put_object(Bucket=BUCKET, Key=f"transcripts/{name}.json", Body=json.dumps(document).encode())
    not_found(stubber, name)
    stubber.add_response("start_transcription_job", job(name, "IN_PROGRESS"), {
        "TranscriptionJobName": name, "Media": {"MediaFileUri": MEDIA}, "LanguageCode": "en-US",
        "ModelSettings": {"LanguageModelName": "acme-clm"}, "OutputBucketName": BUCKET,
        "OutputKey": f"transcripts/{name}.json"})
    get(stubber, name, job(name, "COMPLETED",
                           Transcript={"TranscriptFileUri": f"s3://{BUCKET}/transcripts/{name}.json"}))
    system = TranscribeAsr(bucket=BUCKET, prefix="", language_model_name="acme-clm", transcribe_client=client,
                           s3_client=s3, media_uris={"call-18.flac": MEDIA}, sleep=Sleeps())
    assert system.settings.model == "acme-clm"
    segments = system.transcribe(audio, SHA, speakers=False)
    assert {segment.speaker for segment in segments} == {"spk_0"}
    assert " ".join(segment.text for segment in segments).startswith("Thank you for calling Acme support.")


def test_transcribe_asr_errors_name_the_file(transcribe, tmp_path):
    client, stubber = transcribe
    s3 = boto3.client("s3", region_name=REGION)
    audio = tmp_path / "call-19.wav"
    audio.write_bytes(b"RIFF")
    sha = hashlib.sha256(b"RIFF").hexdigest()
    stubber.add_client_error("get_transcription_job", "NotFoundException", "no", 404)
    stubber.add_client_error("start_transcription_job", "BadRequestException",
                             "The audio sample rate 4000 Hz isn't supported.", 400)
    system = TranscribeAsr(bucket=BUCKET, transcribe_client=client, s3_client=s3, sleep=Sleeps())
    with pytest.raises(CallscopeError) as caught:
        system.transcribe(audio, sha, speakers=False)
    assert str(caught.value).startswith(f"{audio}: Amazon Transcribe StartTranscriptionJob callscope-")
    assert "4000 Hz" in str(caught.value) and "\n" not in str(caught.value)


def test_settings_distinguish_systems_on_the_leaderboard():
    standard = TranscribeAsr(bucket=BUCKET).settings
    vocabulary = TranscribeAsr(bucket=BUCKET, vocabulary_name="v").settings
    model = TranscribeAsr(bucket=BUCKET, language_model_name="m").settings
    assert len({standard.fingerprint(), vocabulary.fingerprint(), model.fingerprint()}) == 3
    assert vocabulary.label() == "amazon-transcribe:standard language=en-US vocabulary=v"
    assert model.label() == "amazon-transcribe:m language=en-US"
