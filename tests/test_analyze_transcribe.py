"""`callscope analyze --asr transcribe`: real recordings through the whole analyze command, with Amazon
Transcribe stubbed by botocore's Stubber on a real client (so every request is checked against the
service model and against the exact parameters we expect) and S3 in moto. The result documents the
stubbed jobs point to are real Call Analytics / standard outputs put into moto's S3.
"""

from __future__ import annotations

import datetime
import json
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from callscope.audio.decode import file_sha256  # noqa: E402
from callscope.aws.job_info import transcription_job  # noqa: E402
from callscope.aws.transcribe_requests import CallAnalyticsJobRequest, TranscribeJobRequest, job_name  # noqa: E402
from callscope.cli import main  # noqa: E402
from callscope.output.pca import validation_errors  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
STEREO = DATA / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav"
MONO = DATA / "pca_samples" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
CALL_ANALYTICS = Path(__file__).parent / "data" / "chat_inputs" / "call_analytics.json"
REGION, BUCKET = "us-east-1", "calls-bucket"
ROLE = "arn:aws:iam::123456789012:role/transcribe-output"
NOT_FOUND = "The requested job couldn't be found. Check the job name and try your request again."
FINISHED = datetime.datetime(2026, 12, 1, 10, 30, 5, 125000, tzinfo=datetime.timezone.utc)


def _clip(source: Path, target: Path, seconds: float, start: float = 0.0) -> Path:
    """The first `seconds` (from `start`) of a PCM WAV, with the standard library."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(source)) as reader:
        rate = reader.getframerate()
        reader.setpos(int(start * rate))
        frames = reader.readframes(int(seconds * rate))
        with wave.open(str(target), "wb") as writer:
            writer.setnchannels(reader.getnchannels())
            writer.setsampwidth(reader.getsampwidth())
            writer.setframerate(rate)
            writer.writeframes(frames)
    return target


@pytest.fixture
def aws(fake_aws, monkeypatch):
    """moto's S3 with the bucket, and a stubbed Transcribe client that the command is given."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    client = boto3.client("transcribe", region_name=REGION)
    monkeypatch.setattr("callscope.transcription.amazon.transcribe_client", lambda region=None: client)
    with Stubber(client) as stubber:
        yield s3, stubber
        stubber.assert_no_pending_responses()  # every expected call was made


def _analyze(*arguments: str):
    return CliRunner().invoke(main, ["analyze", *arguments, "--asr", "transcribe", "--s3-bucket", BUCKET,
                                     "--sentiment", "none", "--entities", "none", "--quiet"])


def _media(path: Path) -> tuple[str, str]:
    sha = file_sha256(path)
    return sha, f"s3://{BUCKET}/callscope/media/{sha}.wav"


def _put_json(s3, key: str, document: dict) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(document).encode())


def _s3_uri(key: str) -> str:  # how Transcribe reports an output in our bucket
    return f"https://s3.{REGION}.amazonaws.com/{BUCKET}/{key}"


def _expect_call_analytics_start(stubber, name: str, media: str, output: str, settings: dict) -> None:
    """Not there yet, so started: the exact StartCallAnalyticsJob request, with channel 1 AGENT and
    channel 0 CUSTOMER, the result under our prefix, written with our role."""
    stubber.add_client_error("get_call_analytics_job", "BadRequestException", NOT_FOUND, 400,
                             expected_params={"CallAnalyticsJobName": name})
    stubber.add_response("start_call_analytics_job", {"CallAnalyticsJob": {
        "CallAnalyticsJobName": name, "CallAnalyticsJobStatus": "IN_PROGRESS"}}, {
        "CallAnalyticsJobName": name, "Media": {"MediaFileUri": media},
        "OutputLocation": f"s3://{BUCKET}/{output}", "DataAccessRoleArn": ROLE, "Settings": settings,
        "ChannelDefinitions": [{"ChannelId": 1, "ParticipantRole": "AGENT"},
                               {"ChannelId": 0, "ParticipantRole": "CUSTOMER"}]})


def test_a_stereo_call_goes_through_call_analytics_and_keeps_what_it_computed(aws, tmp_path):
    s3, stubber = aws
    call = _clip(STEREO, tmp_path / "calls" / "lost-card.wav", 36.0)
    sha, media = _media(call)
    name = job_name(sha, CallAnalyticsJobRequest(media, language_code="en-US", redaction_output="redacted",
                                                 generative_summary=True))
    output = f"callscope/transcripts/{name}.json"
    redacted_key = f"callscope/transcripts/redacted-{name}.json"
    document = json.loads(CALL_ANALYTICS.read_text())
    document["ContactSummary"] = {"AutoGenerated": {"OverallSummary": {"Content": "A lost debit card was blocked."}}}
    _put_json(s3, redacted_key, document)
    job = {"CallAnalyticsJobName": name, "CallAnalyticsJobStatus": "COMPLETED", "LanguageCode": "en-US",
           "Media": {"MediaFileUri": media}, "MediaFormat": "wav", "MediaSampleRateHertz": 8000,
           "CompletionTime": FINISHED,
           "Transcript": {"TranscriptFileUri": _s3_uri(output), "RedactedTranscriptFileUri": _s3_uri(redacted_key)},
           "Settings": {"VocabularyName": "auto-parts", "VocabularyFilterName": "profanity",
                        "VocabularyFilterMethod": "mask"}}
    # Before any waiting, the job is started: the exact request.
    _expect_call_analytics_start(stubber, name, media, output, {
        "ContentRedaction": {"RedactionType": "PII", "RedactionOutput": "redacted"},
        "LanguageOptions": ["en-US"], "Summarization": {"GenerateAbstractiveSummary": True}})
    stubber.add_response("get_call_analytics_job", {"CallAnalyticsJob": job}, {"CallAnalyticsJobName": name})

    outcome = _analyze(str(call.parent), "--out", str(tmp_path / "out"), "--redact", "--transcribe-summary",
                       "--transcribe-role-arn", ROLE)

    assert outcome.exit_code == 0, outcome.output
    assert s3.get_object(Bucket=BUCKET, Key=media.split(f"{BUCKET}/")[1])["Body"].read() == call.read_bytes()
    result = json.loads((tmp_path / "out" / "lost-card.json").read_text())
    assert validation_errors(result) == []
    info = result["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
    assert info == {
        "TranscriptionJobName": name, "TranscribeApiType": "analytics", "CompletionTime": str(FINISHED),
        "VocabularyName": "auto-parts", "VocabularyFilter": "profanity [mask]", "MediaFormat": "wav",
        "MediaSampleRateHertz": 8000, "MediaFileUri": str(call), "MediaOriginalUri": media,
        "RedactedTranscript": True, "ChannelIdentification": 1, "AverageWordConfidence": info["AverageWordConfidence"]}
    analytics = result["ConversationAnalytics"]
    assert float(analytics["Duration"]) == pytest.approx(36.0, abs=0.05)  # the recording's, not the last word's
    assert {label["Speaker"]: label["DisplayText"] for label in analytics["SpeakerLabels"]} == {
        "spk_0": "Customer", "spk_1": "Agent"}
    assert analytics["ContactSummary"]["AutoGenerated"]["OverallSummary"]["Content"] == "A lost debit card was blocked."
    sentiments = [segment["SentimentIsNegative"] for segment in result["SpeechSegments"]]
    assert sentiments == [0, 1, 0, 0, 0, 0]  # Call Analytics' turn sentiment, kept
    assert "[PII]" in result["SpeechSegments"][0]["DisplayText"]  # the redacted transcript was read
    # The redacted copy of the recording silences the word Transcribe redacted.
    assert (tmp_path / "out" / "lost-card.redacted.wav").is_file()


def _standard_document(job: str, words: list[tuple[str, str, float, float]]) -> dict:
    """A standard job's output with speaker labels, as the developer guide shows it."""
    items = [{"type": "pronunciation", "start_time": f"{start:.3f}", "end_time": f"{end:.3f}", "speaker_label": speaker,
              "alternatives": [{"content": text, "confidence": "0.98"}]} for speaker, text, start, end in words]
    segments = [{"speaker_label": speaker, "start_time": f"{start:.3f}", "end_time": f"{end:.3f}",
                 "items": [{"speaker_label": speaker, "start_time": f"{start:.3f}", "end_time": f"{end:.3f}"}]}
                for speaker, _, start, end in words]
    return {"jobName": job, "accountId": "123456789012", "status": "COMPLETED", "results": {
        "language_code": "en-US", "transcripts": [{"transcript": " ".join(word[1] for word in words)}],
        "speaker_labels": {"speakers": 2, "segments": segments}, "items": items}}


WORDS = [("spk_0", "thank", 0.5, 0.8), ("spk_0", "you", 0.8, 1.0), ("spk_0", "for", 1.0, 1.2),
         ("spk_0", "calling", 1.2, 1.7), ("spk_0", "how", 1.9, 2.1), ("spk_0", "can", 2.1, 2.3),
         ("spk_0", "I", 2.3, 2.4), ("spk_0", "help", 2.4, 2.8), ("spk_1", "my", 4.0, 4.2),
         ("spk_1", "car", 4.2, 4.6), ("spk_1", "won't", 4.6, 5.0), ("spk_1", "start", 5.0, 5.6)]


def _standard_expected(name: str, media: str) -> dict:
    return {"TranscriptionJobName": name, "Media": {"MediaFileUri": media}, "LanguageCode": "en-US",
            "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
            "OutputBucketName": BUCKET, "OutputKey": f"callscope/transcripts/{name}.json"}


def _standard_job(name: str, status: str, media: str, **extra) -> dict:
    return {"TranscriptionJob": {"TranscriptionJobName": name, "TranscriptionJobStatus": status,
                                 "Media": {"MediaFileUri": media}, **extra}}


def test_mono_calls_get_standard_jobs_all_started_first_and_a_failed_job_is_one_line(aws, tmp_path):
    s3, stubber = aws
    calls = tmp_path / "calls"
    good = _clip(MONO, calls / "good.wav", 12.0)
    bad = _clip(MONO, calls / "bad.wav", 12.0, start=12.0)
    (good_sha, good_media), (bad_sha, bad_media) = _media(good), _media(bad)
    names = {path: job_name(sha, TranscribeJobRequest(media, language_code="en-US", show_speaker_labels=True))
             for path, sha, media in ((good, good_sha, good_media), (bad, bad_sha, bad_media))}
    _put_json(s3, f"callscope/transcripts/{names[good]}.json", _standard_document(names[good], WORDS))
    # The batch starts both jobs (bad.wav comes first by name) before it waits for either.
    for path, media in ((bad, bad_media), (good, good_media)):
        stubber.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND, 400,
                                 expected_params={"TranscriptionJobName": names[path]})
        stubber.add_response("start_transcription_job", _standard_job(names[path], "QUEUED", media),
                             _standard_expected(names[path], media))
    stubber.add_response("get_transcription_job", _standard_job(
        names[bad], "FAILED", bad_media, FailureReason="The media format that you specified doesn't match the "
                                                       "detected media format.\nCheck the media format."),
        {"TranscriptionJobName": names[bad]})
    stubber.add_response("get_transcription_job", _standard_job(
        names[good], "COMPLETED", good_media, MediaFormat="wav", MediaSampleRateHertz=8000, CompletionTime=FINISHED,
        Transcript={"TranscriptFileUri": _s3_uri(f"callscope/transcripts/{names[good]}.json")}),
        {"TranscriptionJobName": names[good]})

    outcome = _analyze(str(calls), "--out", str(tmp_path / "out"))

    assert outcome.exit_code == 1, outcome.output
    assert "Traceback" not in outcome.output
    failures = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert failures == [{"file": str(bad), "kind": "job_failed", "error": (
        f"Amazon Transcribe job {names[bad]} failed: The media format that you specified doesn't match the "
        "detected media format. (delete the job to try again)")}]
    result = json.loads((tmp_path / "out" / "good.json").read_text())
    assert validation_errors(result) == []
    info = result["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
    assert (info["TranscribeApiType"], info["ChannelIdentification"], info["TranscriptionJobName"]) == (
        "standard", 0, names[good])
    segments = result["SpeechSegments"]
    assert [segment["SegmentSpeaker"] for segment in segments] == ["spk_0", "spk_1"]
    # A standard job gives no loudness: it is measured on the recording, one score per second.
    assert [len(segment["LoudnessScores"]) for segment in segments] == [3, 2]
    assert all(score > 0 for segment in segments for score in segment["LoudnessScores"])
    assert segments[0]["SegmentStartTime"] == pytest.approx(0.5)


def test_a_call_already_done_is_not_sent_again(aws, tmp_path):
    s3, stubber = aws
    call = _clip(MONO, tmp_path / "calls" / "again.wav", 8.0)
    sha, media = _media(call)
    name = job_name(sha, TranscribeJobRequest(media, language_code="en-US", show_speaker_labels=True))
    _put_json(s3, f"callscope/transcripts/{name}.json", _standard_document(name, WORDS[:8]))
    finished = _standard_job(name, "COMPLETED", media, MediaFormat="wav", MediaSampleRateHertz=8000,
                             Transcript={"TranscriptFileUri": _s3_uri(f"callscope/transcripts/{name}.json")})
    for _ in range(2):  # the finished job is found (not started again), by the start pass and by the call
        stubber.add_response("get_transcription_job", finished, {"TranscriptionJobName": name})
    assert _analyze(str(call), "--out", str(tmp_path / "out")).exit_code == 0
    again = _analyze(str(call), "--out", str(tmp_path / "out"))  # nothing stubbed: no request may go out
    assert again.exit_code == 0, again.output


@pytest.mark.parametrize("flags, message", [
    ([], "--asr transcribe needs --s3-bucket"),
    (["--s3-bucket", BUCKET, "--language", "es"], "Amazon Transcribe needs a locale for 'es'"),
    (["--s3-bucket", BUCKET, "--language-code", "auto", "--transcribe-vocabulary", "v"], "needs one language"),
    (["--s3-bucket", BUCKET, "--pii-types", "NAME"], "--pii-types needs --redact"),
])
def test_flags_that_cannot_go_together_are_one_line(tmp_path, flags, message):
    call = _clip(MONO, tmp_path / "call.wav", 2.0)
    outcome = CliRunner().invoke(main, ["analyze", str(call), "--asr", "transcribe", "--out", str(tmp_path), *flags])
    assert outcome.exit_code == 2 and message in outcome.output and "Traceback" not in outcome.output


def test_an_unreachable_bucket_stops_the_run_before_any_call(fake_aws, tmp_path):
    call = _clip(MONO, tmp_path / "call.wav", 2.0)
    outcome = CliRunner().invoke(main, ["analyze", str(call), "--asr", "transcribe", "--s3-bucket", "no-such-bucket",
                                        "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 2
    assert "s3://no-such-bucket: checking the bucket" in outcome.output and "Traceback" not in outcome.output
    assert not (tmp_path / "out" / "call.json").exists()


def test_job_info_follows_the_language_the_service_identified():
    description = {"CallAnalyticsJobName": "j", "LanguageCode": "es-US", "MediaFormat": "mp3",
                   "MediaSampleRateHertz": 16000, "Media": {"MediaFileUri": "s3://b/k.mp3"},
                   "Settings": {"LanguageIdSettings": {
                       "en-US": {"VocabularyName": "english-terms"},
                       "es-US": {"VocabularyName": "spanish-terms", "LanguageModelName": "spanish-clm"}}}}
    job = transcription_job(description)
    assert (job.api_type, job.vocabulary_name, job.language_model_name, job.media_sample_rate) == (
        "analytics", "spanish-terms", "spanish-clm", 16000)
    standard = transcription_job({"TranscriptionJobName": "s", "ModelSettings": {"LanguageModelName": "clm"},
                                  "Settings": {"VocabularyFilterName": "f", "VocabularyFilterMethod": "remove"}})
    assert (standard.api_type, standard.language_model_name, standard.vocabulary_filter) == ("standard", "clm",
                                                                                            "f [remove]")


def test_the_whisper_fingerprint_is_unchanged_by_the_new_options():
    """Results analysed before --asr existed stay done: the default options hash as they did."""
    from callscope.options import AnalyzeOptions

    options = AnalyzeOptions()
    assert options.fingerprint() == _fingerprint_without_asr(options)
    assert AnalyzeOptions(asr="transcribe").fingerprint() != options.fingerprint()


def _fingerprint_without_asr(options) -> str:
    import dataclasses
    import hashlib

    settings = dataclasses.asdict(options)
    settings["transcription"].pop("cpu_threads")
    settings["transcription"].pop("vocabulary")
    for added in ("pyannote", "asr", "amazon_transcribe"):
        settings.pop(added)
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]



def test_recordings_already_in_s3_are_read_there_not_uploaded_again(aws, tmp_path):
    s3, stubber = aws
    call = _clip(MONO, tmp_path / "call.wav", 8.0)
    original = "incoming/day1/call.wav"
    s3.upload_file(str(call), BUCKET, original)
    sha, uploaded = _media(call)
    name = job_name(sha, TranscribeJobRequest(f"s3://{BUCKET}/{original}", language_code="en-US",
                                              show_speaker_labels=True))
    _put_json(s3, f"callscope/transcripts/{name}.json", _standard_document(name, WORDS[:8]))
    stubber.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND, 400,
                             expected_params={"TranscriptionJobName": name})
    stubber.add_response("start_transcription_job", _standard_job(name, "QUEUED", f"s3://{BUCKET}/{original}"),
                         _standard_expected(name, f"s3://{BUCKET}/{original}"))
    stubber.add_response("get_transcription_job", _standard_job(
        name, "COMPLETED", f"s3://{BUCKET}/{original}", MediaFormat="wav", MediaSampleRateHertz=8000,
        Transcript={"TranscriptFileUri": _s3_uri(f"callscope/transcripts/{name}.json")}),
        {"TranscriptionJobName": name})

    outcome = _analyze(f"s3://{BUCKET}/incoming", "--out", str(tmp_path / "out"))

    assert outcome.exit_code == 0, outcome.output
    listed = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert uploaded.split(f"{BUCKET}/")[1] not in listed  # the job read the original object
    result = json.loads((tmp_path / "out" / "day1" / "call.json").read_text())  # the keys' folders are kept
    info = result["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
    assert info["MediaOriginalUri"] == f"s3://{BUCKET}/{original}"
    assert Path(info["MediaFileUri"]).read_bytes() == call.read_bytes()  # the local copy the dashboard plays


def test_an_s3_location_without_recordings_is_one_line(aws, tmp_path):
    outcome = _analyze(f"s3://{BUCKET}/nothing-here/", "--out", str(tmp_path / "out"))
    assert outcome.exit_code == 2
    assert f"s3://{BUCKET}/nothing-here/: has no recordings" in outcome.output and "Traceback" not in outcome.output


def test_the_job_kind_follows_the_channels_and_a_stereo_copy_of_a_mono_call_counts_as_mono(tmp_path):
    from dataclasses import replace

    import numpy as np

    from callscope.audio.decode import decode
    from callscope.options import AmazonTranscribeOptions
    from callscope.transcription.amazon import AmazonTranscribeService

    stereo = decode(_clip(STEREO, tmp_path / "stereo.wav", 10.0))
    mono = decode(_clip(MONO, tmp_path / "mono.wav", 10.0))
    copied = replace(mono, samples=np.vstack([mono.samples, mono.samples]))  # the same signal on both channels
    service = AmazonTranscribeService(AmazonTranscribeOptions(bucket=BUCKET))
    assert [service.uses_call_analytics(audio) for audio in (stereo, mono, copied)] == [True, False, False]
    request = service.request_for("s3://b/k.wav", service.uses_call_analytics(copied), service.separate_channels(copied))
    assert isinstance(request, TranscribeJobRequest) and request.show_speaker_labels
    assert not request.channel_identification
    forced = AmazonTranscribeService(AmazonTranscribeOptions(bucket=BUCKET, api="standard"))
    on_stereo = forced.request_for("s3://b/k.wav", forced.uses_call_analytics(stereo), forced.separate_channels(stereo))
    assert isinstance(on_stereo, TranscribeJobRequest) and on_stereo.channel_identification


@pytest.mark.parametrize("code, message, kind", [
    ("AccessDeniedException", "User is not authorized to perform: transcribe:StartTranscriptionJob", "access_denied"),
    ("BadRequestException", "The sample rate 4000 is not supported. Check the sample rate and try again.",
     "bad_request"),
])
def test_a_service_error_on_start_is_one_line_for_that_call(aws, tmp_path, code, message, kind):
    s3, stubber = aws
    call = _clip(MONO, tmp_path / "calls" / "refused.wav", 4.0)
    sha, media = _media(call)
    name = job_name(sha, TranscribeJobRequest(media, language_code="en-US", show_speaker_labels=True))
    for _ in range(2):  # the start pass, then the call's own turn, each try to start the job
        stubber.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND, 400,
                                 expected_params={"TranscriptionJobName": name})
        stubber.add_client_error("start_transcription_job", code, message, 400,
                                 expected_params=_standard_expected(name, media))

    outcome = _analyze(str(call.parent), "--out", str(tmp_path / "out"))

    assert outcome.exit_code == 1 and "Traceback" not in outcome.output
    (failure,) = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert failure["kind"] == kind and failure["file"] == str(call)
    assert failure["error"].startswith(f"Amazon Transcribe StartTranscriptionJob {name}: {code}: {message}")
    assert "\n" not in failure["error"]


def test_language_identification_asks_among_the_options_and_the_output_keeps_the_locale_found(aws, tmp_path):
    s3, stubber = aws
    call = _clip(STEREO, tmp_path / "calls" / "which-language.wav", 36.0)
    sha, media = _media(call)
    name = job_name(sha, CallAnalyticsJobRequest(media, identify_language=True, language_options=("en-US", "en-GB")))
    output = f"callscope/transcripts/{name}.json"
    _put_json(s3, output, json.loads(CALL_ANALYTICS.read_text()) | {"LanguageCode": "en-GB"})
    # No LanguageCode: the service identifies the language among the options.
    _expect_call_analytics_start(stubber, name, media, output, {"LanguageOptions": ["en-US", "en-GB"]})
    stubber.add_response("get_call_analytics_job", {"CallAnalyticsJob": {
        "CallAnalyticsJobName": name, "CallAnalyticsJobStatus": "COMPLETED", "LanguageCode": "en-GB",
        "Media": {"MediaFileUri": media}, "MediaFormat": "wav", "MediaSampleRateHertz": 8000,
        "Transcript": {"TranscriptFileUri": _s3_uri(output)}}}, {"CallAnalyticsJobName": name})

    outcome = _analyze(str(call), "--out", str(tmp_path / "out"), "--language-code", "auto",
                       "--language-options", "en-US,en-GB", "--transcribe-role-arn", ROLE)

    assert outcome.exit_code == 0, outcome.output
    result = json.loads((tmp_path / "out" / "which-language.json").read_text())
    assert result["ConversationAnalytics"]["LanguageCode"] == "en-GB"
    assert validation_errors(result) == []


def test_an_s3_input_works_with_the_local_models_too(fake_aws, tmp_path):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(_clip(MONO, tmp_path / "call.wav", 6.0)), BUCKET, "calls/call.wav")
    outcome = CliRunner().invoke(main, ["analyze", f"s3://{BUCKET}/calls/call.wav", "--out", str(tmp_path / "out"),
                                        "--diarizer", "none", "--sentiment", "none", "--entities", "none",
                                        "--insights", "none", "--quiet"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads((tmp_path / "out" / "call.json").read_text())
    assert result["SpeechSegments"] and validation_errors(result) == []
    assert result["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["TranscribeApiType"] == "standard"
