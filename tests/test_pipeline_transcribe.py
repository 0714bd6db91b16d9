"""The pipeline's steps with Asr=transcribe (Amazon Transcribe instead of the local models), run
in-process on real audio under the processing contract: Transcribe stubbed by botocore's Stubber on a
real client (every request checked against the service model and the exact parameters expected), S3
in moto. The local pipeline runner runs steps as subprocesses, out of moto's reach: hence in-process.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from callscope.audio.decode import file_sha256  # noqa: E402
from callscope.aws.transcribe_requests import TranscribeJobRequest, job_name  # noqa: E402
from callscope.flags import options_from_flags  # noqa: E402
from callscope.options import AnalyzeOptions  # noqa: E402
from callscope.output.pca import validation_errors  # noqa: E402
from callscope.sagemaker_steps import diarize, enrich, transcribe  # noqa: E402
from callscope.sagemaker_steps.bundle import CallBundle, bundles_in  # noqa: E402
from callscope.sagemaker_steps.contract import ROOT_VARIABLE  # noqa: E402
from callscope.sagemaker_steps.step import LOCAL_S3_VARIABLE, analysis_arguments, options_from  # noqa: E402
from tests.test_analyze_transcribe import (  # noqa: E402
    BUCKET,
    FINISHED,
    MONO,
    NOT_FOUND,
    REGION,
    WORDS,
    _clip,
    _s3_uri,
    _standard_document,
)

PREFIX = "cs/transcribe"  # what the pipeline passes as --s3-prefix (base job prefix "cs")
FLAGS = ["--asr", "transcribe", "--s3-bucket", BUCKET, "--s3-prefix", PREFIX]


@pytest.fixture
def aws(fake_aws, monkeypatch):
    """moto's S3 with the bucket; a stubbed Transcribe client the steps' service is made with, whose
    waits between polls are recorded instead of slept."""
    from callscope.transcription.amazon import AmazonTranscribeService

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    client = boto3.client("transcribe", region_name=REGION)
    waits: list[float] = []
    monkeypatch.setattr("callscope.transcription.amazon.AmazonTranscribeService",
                        partial(AmazonTranscribeService, transcribe_client=client, sleep=waits.append))
    monkeypatch.delenv(LOCAL_S3_VARIABLE, raising=False)
    with Stubber(client) as stubber:
        yield s3, stubber, waits
        stubber.assert_no_pending_responses()  # every expected call was made


def _bundles(root: Path, bundles: list[CallBundle]) -> None:
    folder = root / "opt" / "ml" / "processing" / "input" / "bundles"
    folder.mkdir(parents=True)
    for bundle in bundles:
        bundle.write(folder)


def _output(root: Path, channel: str) -> Path:
    return root / "opt" / "ml" / "processing" / "output" / channel


def _run_step(monkeypatch, root: Path, main, *arguments: str) -> None:
    """A step's entry point, as its processing job runs it, with the processing folders under `root`."""
    monkeypatch.setenv(ROOT_VARIABLE, str(root))
    main(list(arguments))


def _name(path: Path) -> str:
    return job_name(file_sha256(path), TranscribeJobRequest("s3://any/media.wav", language_code="en-US",
                                                            show_speaker_labels=True))


def _expect_start(stubber, name: str, media: str) -> None:
    """Not there yet, so started: the exact request (speaker labels, our output bucket and key)."""
    stubber.add_client_error("get_transcription_job", "BadRequestException", NOT_FOUND, 400,
                             expected_params={"TranscriptionJobName": name})
    stubber.add_response("start_transcription_job", {"TranscriptionJob": {
        "TranscriptionJobName": name, "TranscriptionJobStatus": "IN_PROGRESS", "Media": {"MediaFileUri": media}}}, {
        "TranscriptionJobName": name, "Media": {"MediaFileUri": media}, "LanguageCode": "en-US",
        "Settings": {"ShowSpeakerLabels": True, "MaxSpeakerLabels": 2},
        "OutputBucketName": BUCKET, "OutputKey": f"{PREFIX}/transcripts/{name}.json"})


def _expect_poll(s3, stubber, name: str, media: str, outcome: dict) -> None:
    """Polled once, to `outcome` (a TranscriptionJob's status and what comes with it)."""
    output_key = f"{PREFIX}/transcripts/{name}.json"
    if outcome["TranscriptionJobStatus"] == "COMPLETED":
        s3.put_object(Bucket=BUCKET, Key=output_key, Body=json.dumps(_standard_document(name, WORDS)).encode())
        outcome = {**outcome, "Transcript": {"TranscriptFileUri": _s3_uri(output_key)}}
    stubber.add_response("get_transcription_job", {"TranscriptionJob": {
        "TranscriptionJobName": name, "Media": {"MediaFileUri": media}, **outcome}}, {"TranscriptionJobName": name})


COMPLETED = {"TranscriptionJobStatus": "COMPLETED", "MediaFormat": "wav", "MediaSampleRateHertz": 8000,
             "CompletionTime": FINISHED}


def test_a_call_in_s3_is_transcribed_from_there_and_enriched_into_valid_pca_json(aws, tmp_path, monkeypatch):
    s3, stubber, waits = aws
    call = _clip(MONO, tmp_path / "calls" / MONO.name, 12.0)
    source = f"2025/02/{call.name}"
    uri = f"s3://{BUCKET}/incoming/{source}"  # where prepare found it: Transcribe reads it there
    s3.put_object(Bucket=BUCKET, Key=f"incoming/{source}", Body=call.read_bytes())
    name = _name(call)
    _expect_start(stubber, name, uri)
    _expect_poll(s3, stubber, name, uri, COMPLETED)
    _bundles(tmp_path / "transcribe", [CallBundle(source, call.read_bytes(), uri=uri)])

    _run_step(monkeypatch, tmp_path / "transcribe", transcribe.main, *FLAGS)

    assert waits == []  # started ahead of its turn, and done by then
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/media/")  # nothing uploaded again
    (passed_on,) = bundles_in(_output(tmp_path / "transcribe", "bundles"))
    result = CallBundle.read(passed_on).results["transcribe"]
    assert result["document"] == _standard_document(name, WORDS)
    assert (result["job"]["name"], result["job"]["api_type"], result["job"]["media_uri"]) == (name, "standard", uri)

    enrich_root = tmp_path / "enrich"
    _bundles(enrich_root, [CallBundle.read(passed_on)])
    _run_step(monkeypatch, enrich_root, enrich.main, *FLAGS, "--insights", "none")

    document = json.loads((_output(enrich_root, "results") / Path(source).with_suffix(".json")).read_text())
    assert validation_errors(document) == []
    info = document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
    assert (info["TranscribeApiType"], info["TranscriptionJobName"]) == ("standard", name)
    assert (info["MediaFileUri"], info["MediaOriginalUri"]) == (uri, uri)
    assert info["CompletionTime"] == str(FINISHED)
    assert document["ConversationAnalytics"]["Agent"] == "ChrisL"  # the file name's metadata, as for any call
    segments = document["SpeechSegments"]
    assert [segment["SegmentSpeaker"] for segment in segments] == ["spk_0", "spk_1"]
    assert segments[0]["DisplayText"].lower().startswith("thank you for calling")
    # Loudness measured on the recording (a standard job gives none), one score per second.
    assert [len(segment["LoudnessScores"]) for segment in segments] == [3, 2]
    # A standard job computes no analytics: callscope's enrichers and roles fill them in.
    assert "greeting_given" in segments[0]["CategoriesDetected"] and segments[1]["SentimentIsNegative"] == 1
    assert {label["Speaker"]: label["DisplayText"] for label in document["ConversationAnalytics"]["SpeakerLabels"]} == {
        "spk_0": "Agent", "spk_1": "Customer"}
    assert not list(_output(enrich_root, "results").glob("failures-*"))


def test_a_failed_job_is_one_failure_line_and_the_next_call_goes_through(aws, tmp_path, monkeypatch):
    s3, stubber, _ = aws
    bad = _clip(MONO, tmp_path / "calls" / "bad.wav", 8.0, start=12.0)
    good = _clip(MONO, tmp_path / "calls" / "good.wav", 8.0)
    # A local run of the pipeline: the bundles' S3 URIs are folders on this machine, so each call is
    # uploaded to the bucket (content-addressed) for Transcribe to read.
    monkeypatch.setenv(LOCAL_S3_VARIABLE, str(tmp_path / "s3"))
    media = {path: f"s3://{BUCKET}/{PREFIX}/media/{file_sha256(path)}.wav" for path in (bad, good)}
    reason = "The media format that you specified doesn't match the detected media format.\nCheck the media format."
    # Both jobs are started before either is waited for: they run side by side in the service.
    _expect_start(stubber, _name(bad), media[bad])
    _expect_start(stubber, _name(good), media[good])
    _expect_poll(s3, stubber, _name(bad), media[bad], {"TranscriptionJobStatus": "FAILED", "FailureReason": reason})
    _expect_poll(s3, stubber, _name(good), media[good], COMPLETED)
    _bundles(tmp_path / "transcribe", [CallBundle(path.name, path.read_bytes(), uri=f"s3://calls/{path.name}")
                                       for path in (bad, good)])

    _run_step(monkeypatch, tmp_path / "transcribe", transcribe.main, *FLAGS)

    out = _output(tmp_path / "transcribe", "bundles")
    failures = [json.loads(line) for line in (out / "failures-transcribe-local.jsonl").read_text().splitlines()]
    assert failures == [{"file": "bad.wav", "step": "transcribe", "kind": "job_failed", "error": (
        f"Amazon Transcribe job {_name(bad)} failed: The media format that you specified doesn't match the "
        "detected media format. (delete the job to try again)")}]
    (passed_on,) = bundles_in(out)
    assert CallBundle.read(passed_on).results["transcribe"]["job"]["name"] == _name(good)
    uploaded = s3.get_object(Bucket=BUCKET, Key=media[good].removeprefix(f"s3://{BUCKET}/"))["Body"].read()
    assert uploaded == good.read_bytes()


def test_diarize_passes_the_calls_on_without_a_diarizer(tmp_path, monkeypatch):
    def no_diarizer(options):
        raise AssertionError("no diarizer may be loaded with --asr transcribe")

    monkeypatch.setattr(diarize, "load_diarizer", no_diarizer)
    call = _clip(MONO, tmp_path / "call.wav", 4.0)
    bundle = CallBundle("call.wav", call.read_bytes(), uri="s3://calls/call.wav")
    _bundles(tmp_path / "diarize", [bundle])

    _run_step(monkeypatch, tmp_path / "diarize", diarize.main, *FLAGS)

    (passed_on,) = bundles_in(_output(tmp_path / "diarize", "bundles"))
    assert CallBundle.read(passed_on) == bundle  # no timeline: Amazon Transcribe labels the speakers


def _options(*arguments: str) -> AnalyzeOptions:
    import argparse

    return options_from(analysis_arguments(argparse.ArgumentParser()).parse_args(list(arguments)))


def test_the_steps_options_with_and_without_transcribe():
    # Whisper (the default): the options the steps always built, whatever the Transcribe flags say.
    assert _options() == _options("--s3-bucket", "b", "--language-code", "fr") == options_from_flags()
    chosen = _options(*FLAGS, "--transcribe-api", "standard", "--language-code", "es-US", "--transcribe-role-arn",
                      "arn:aws:iam::123456789012:role/t", "--transcribe-vocabulary", "terms", "--language-model", "clm",
                      "--speakers", "auto", "--max-speakers", "40")
    assert chosen.asr == "transcribe"
    service = chosen.amazon_transcribe
    assert (service.bucket, service.prefix, service.api, service.language_code) == (BUCKET, PREFIX, "standard", "es-US")
    assert (service.data_access_role_arn, service.vocabulary_name, service.language_model_name) == (
        "arn:aws:iam::123456789012:role/t", "terms", "clm")
    assert service.max_speakers == 30  # the service's most
    defaults = _options(*FLAGS).amazon_transcribe  # the pipeline's "" parameters are none
    assert (defaults.data_access_role_arn, defaults.vocabulary_name, defaults.language_model_name) == (None,) * 3
    assert _options(*FLAGS, "--language-code", "auto").amazon_transcribe.language_code is None


@pytest.mark.parametrize("flags, message", [
    (["--asr", "transcribe"], "--asr transcribe needs --s3-bucket"),
    ([*FLAGS, "--language-code", "en"], "Amazon Transcribe needs a locale for 'en'"),
    ([*FLAGS, "--language-code", "auto", "--transcribe-vocabulary", "v"], "needs one language"),
])
def test_settings_that_cannot_go_together_stop_the_step_with_one_line(tmp_path, monkeypatch, capsys, flags, message):
    with pytest.raises(SystemExit) as stopped:
        _run_step(monkeypatch, tmp_path, transcribe.main, *flags)
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1
