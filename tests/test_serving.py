"""The inference servers of the SageMaker containers, run as real processes on real calls.

Each server starts once per module (`python -m callscope.serving KIND` on a free port, an empty
model directory: the models that ship with callscope); S3 URIs are served by moto on loopback.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.asr_checks import JFK_TEXT, JFK_WER, word_error_rate
from tests.conftest import JFK, PYANNOTE_SAMPLE, fake_aws_variables

BUCKET = "calls"
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """(status, parsed JSON body, raw body text) of one request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, json.loads(text), text
    finally:
        connection.close()


def _post_json(port: int, payload: dict) -> tuple[int, dict, str]:
    return _request(port, "POST", "/invocations", json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


class Server:
    """A `python -m callscope.serving` process; its stderr goes to a file (a pipe could fill and block it)."""

    def __init__(self, kind: str, model_dir: Path, log: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.log = log
        self.ping_statuses: list[int] = []
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callscope.serving", kind, "--port", str(self.port), "--host", "127.0.0.1",
                 "--model-dir", str(model_dir), "--threads", "2"],
                stdout=subprocess.DEVNULL, stderr=stderr, env={**os.environ, **env},
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                status = _request(self.port, "GET", "/ping")[0]
            except OSError:  # not listening yet
                time.sleep(0.05)
                continue
            self.ping_statuses.append(status)
            if status == 200:
                return
            time.sleep(0.05)
        raise AssertionError(f"no 200 from /ping within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> int:
        self.process.terminate()  # SIGTERM, as docker stop and SageMaker send
        return self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on loopback holding the two sample calls; yields the environment that reaches it."""
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    env = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}", **fake_aws_variables(REGION)}  # for the servers' env
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL_S3"], region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=BUCKET)
    client.upload_file(str(JFK), BUCKET, "2024/jfk.flac")
    client.upload_file(str(JFK), BUCKET, "2024/jfk-without-suffix")  # the format comes from its first bytes
    client.upload_file(str(PYANNOTE_SAMPLE), BUCKET, "2024/sample.wav")
    yield env
    moto.stop()


def _start(kind: str, tmp_path_factory, env: dict[str, str]):
    folder = tmp_path_factory.mktemp(kind)
    (folder / "model").mkdir()  # empty: the models that ship with callscope
    server = Server(kind, folder / "model", folder / "stderr.log", env)
    try:
        server.wait_ready()
    except AssertionError:
        server.process.kill()
        raise
    return server


@pytest.fixture(scope="module")
def transcription(tmp_path_factory, s3):
    server = _start("transcription", tmp_path_factory, s3)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def diarization(tmp_path_factory, s3):
    server = _start("diarization", tmp_path_factory, s3)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def sample_diarized(diarization) -> dict:
    status, result, _ = _request(diarization.port, "POST", "/invocations", PYANNOTE_SAMPLE.read_bytes(),
                                 {"Content-Type": "audio/wav"})
    assert status == 200, result
    return result


# --- health checks -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["transcription", "diarization"])
def test_ping_is_503_while_loading_then_200_with_the_model_name(kind, request):
    server = request.getfixturevalue(kind)
    assert set(server.ping_statuses[:-1]) <= {503}  # every answer before the model was loaded
    status, body, _ = _request(server.port, "GET", "/ping")
    assert status == 200
    assert body["model"] == ("faster-whisper:tiny.en" if kind == "transcription" else "diarization:embedded")


def test_ping_and_invocations_answer_503_until_the_model_loads():
    """In process, with a loader held back, so the loading state is seen for certain."""
    from callscope.serving.server import ModelServer, ServerConfig

    class Echo:
        name, fields = "echo", frozenset()

        def invoke(self, invocation):
            return {"bytes": invocation.audio.stat().st_size}

    release = threading.Event()

    def loader():
        release.wait(10)
        return Echo()

    server = ModelServer(ServerConfig(host="127.0.0.1", port=0))
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    loading = threading.Thread(target=server.load, args=(loader,), daemon=True)
    loading.start()
    try:
        assert _request(port, "GET", "/ping")[:2] == (503, {"status": "loading"})
        status, body, _ = _request(port, "POST", "/invocations", b"RIFF", {"Content-Type": "audio/wav"})
        assert (status, body) == (503, {"error": "model is still loading"})
        release.set()
        loading.join(10)
        assert _request(port, "GET", "/ping")[:2] == (200, {"status": "ok", "model": "echo"})
        assert _request(port, "POST", "/invocations", b"RIFF", {"Content-Type": "audio/wav"})[:2] == (200, {"bytes": 4})
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_a_model_that_cannot_load_stops_the_server_with_one_line(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.bin").write_bytes(b"not a CTranslate2 model")
    server = Server("transcription", tmp_path / "model", tmp_path / "stderr.log", {})
    assert server.process.wait(timeout=60) == 1
    failures = [line for line in server.log.read_text().splitlines() if "model failed to load" in line]
    assert len(failures) == 1 and "cannot load Whisper model" in failures[0]
    assert "Traceback" not in server.log.read_text()


# --- transcription -----------------------------------------------------------------------------

def test_transcription_of_base64_audio(transcription):
    status, result, _ = _post_json(transcription.port, {"audio_base64": _b64(JFK)})
    assert status == 200, result
    assert word_error_rate(result["text"], JFK_TEXT) <= JFK_WER
    assert result["language"] == "en" and result["transcriber"] == "faster-whisper:tiny.en"
    assert result["duration"] == pytest.approx(11.0, abs=0.1)
    words = [word for group in result["groups"] for word in group]
    assert all(word["speaker"] == "spk_0" and word["end"] >= word["start"] for word in words)


@pytest.mark.parametrize("content_type", ["audio/flac", "application/octet-stream"])
def test_transcription_of_raw_audio_bytes(transcription, content_type):
    status, result, _ = _request(transcription.port, "POST", "/invocations", JFK.read_bytes(),
                                 {"Content-Type": content_type})
    assert status == 200, result
    assert word_error_rate(result["text"], JFK_TEXT) <= JFK_WER


@pytest.mark.parametrize("key", ["2024/jfk.flac", "2024/jfk-without-suffix"])
def test_transcription_of_an_s3_object(transcription, key):
    status, result, _ = _post_json(transcription.port, {"audio_s3_uri": f"s3://{BUCKET}/{key}"})
    assert status == 200, result
    assert word_error_rate(result["text"], JFK_TEXT) <= JFK_WER  # the object itself was fetched


def test_transcription_with_the_diarization_servers_timeline(transcription, sample_diarized):
    timeline = {key: sample_diarized[key] for key in ("diarizer", "segments")}
    status, result, _ = _post_json(transcription.port, {"audio_s3_uri": f"s3://{BUCKET}/2024/sample.wav",
                                                        "timeline": timeline})
    assert status == 200, result
    assert result["separation"] == "diarization"
    assert result["speakers"] == ["spk_0", "spk_1"]
    assert {word["speaker"] for group in result["groups"] for word in group} == {"spk_0", "spk_1"}


# --- diarization -------------------------------------------------------------------------------

def test_diarization_of_the_two_speaker_sample(sample_diarized, tmp_path):
    from callscope.evaluation.diarization import score_annotations
    from callscope.evaluation.rttm import read_rttm

    assert sample_diarized["diarizer"] == "embedded"
    assert sample_diarized["speakers"] == ["spk_0", "spk_1"]
    assert sample_diarized["duration"] == pytest.approx(30.0, abs=0.1)
    rttm = sample_diarized["rttm"]
    assert len(rttm.splitlines()) == len(sample_diarized["segments"])
    (tmp_path / "hypothesis.rttm").write_text(rttm)
    (hypothesis,) = read_rttm(tmp_path / "hypothesis.rttm").values()
    (reference,) = read_rttm(PYANNOTE_SAMPLE.with_suffix(".rttm")).values()
    (score,) = score_annotations(reference, hypothesis, collars=(0.0,))
    assert score.der < 0.10, score  # as the library: 0.062 at collar 0 (docs/BENCHMARKS.md)


def test_diarization_from_s3_names_the_recording_and_takes_a_speaker_count(diarization):
    status, result, _ = _post_json(diarization.port, {"audio_s3_uri": f"s3://{BUCKET}/2024/sample.wav", "speakers": 1})
    assert status == 200, result
    assert result["speakers"] == ["spk_0"]
    assert {line.split()[1] for line in result["rttm"].splitlines()} == {"sample"}


def test_diarization_parameters_of_raw_audio_come_from_sagemakers_custom_attributes(diarization):
    status, result, _ = _request(diarization.port, "POST", "/invocations", PYANNOTE_SAMPLE.read_bytes(),
                                 {"Content-Type": "audio/wav", "X-Amzn-SageMaker-Custom-Attributes": "speakers=1"})
    assert status == 200, result
    assert result["speakers"] == ["spk_0"]


# --- bad requests ------------------------------------------------------------------------------

def _assert_one_line_error(status: int, body: dict, text: str, expected_status: int, fragment: str) -> None:
    assert status == expected_status, body
    assert list(body) == ["error"]
    assert fragment in body["error"]
    assert "\n" not in body["error"] and "Traceback" not in text


@pytest.mark.parametrize("payload, fragment", [
    ({"audio_base64": "not base64!"}, "not valid base64"),
    ({"audio_base64": base64.b64encode(b"plain text, not audio").decode()}, "audio_base64: not a readable audio file"),
    ({"audio_s3_uri": f"s3://{BUCKET}/2024/missing.wav"}, f"s3://{BUCKET}/2024/missing.wav: no such object"),
    ({"audio_s3_uri": "s3://no-such-bucket/call.wav"}, "s3://no-such-bucket/call.wav: no such"),
    ({"audio_s3_uri": "https://example.com/call.wav"}, "must look like s3://bucket/key"),
    ({"audio_base64": "AAAA", "audio_s3_uri": f"s3://{BUCKET}/2024/jfk.flac"}, "exactly one of"),
    ({"audio_base64": _b64(JFK), "langauge": "en"}, "unknown field 'langauge'"),
    ({"audio_base64": _b64(JFK), "language": "English please"}, "language must be"),
    ({"audio_base64": _b64(JFK), "timeline": {"segments": [{"from": 1}]}}, "timeline must be"),
])
def test_bad_transcription_requests_are_400_with_one_line(transcription, payload, fragment):
    _assert_one_line_error(*_post_json(transcription.port, payload), 400, fragment)


@pytest.mark.parametrize("payload, fragment", [
    ({"audio_base64": _b64(JFK), "speakers": 0}, "speakers must be a whole number >= 1"),
    ({"audio_base64": _b64(JFK), "min_speakers": 3, "max_speakers": 2}, "1 <= min <= max"),
    ({"audio_base64": _b64(JFK), "speakers": 2, "max_speakers": 3}, "either speakers or"),
])
def test_bad_diarization_requests_are_400_with_one_line(diarization, payload, fragment):
    _assert_one_line_error(*_post_json(diarization.port, payload), 400, fragment)


@pytest.mark.parametrize("body, content_type, status, fragment", [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"[1, 2]", "application/json", 400, "must be a JSON object"),
    (b"", "audio/wav", 400, "empty request body"),
    (b"RIFF....WAVEfmt garbage", "audio/wav", 400, "request body: not a readable audio file"),
    (b"x=1", "application/x-www-form-urlencoded", 415, "unsupported Content-Type"),
])
def test_unreadable_bodies_are_refused_with_one_line(transcription, body, content_type, status, fragment):
    _assert_one_line_error(*_request(transcription.port, "POST", "/invocations", body, {"Content-Type": content_type}),
                           status, fragment)


def test_unknown_paths_and_methods_answer_json(transcription):
    _assert_one_line_error(*_request(transcription.port, "GET", "/nothing"), 404, "no such path")
    _assert_one_line_error(*_request(transcription.port, "DELETE", "/invocations"), 501, "Unsupported method")


def test_one_log_line_per_request_on_stderr(transcription):
    before = transcription.log.read_text().count("\n")
    _post_json(transcription.port, {"audio_base64": "not base64!"})
    lines = transcription.log.read_text().splitlines()[before:]
    assert len(lines) == 1
    assert "POST /invocations 400" in lines[0] and "not valid base64" in lines[0]


def test_diarization_runs_a_pyannote_pipeline_found_in_the_model_directory(tmp_path, s3):
    """A pipeline directory (config.yaml) selects pyannote.audio; its weights are random, so only the shape counts."""
    pytest.importorskip("pyannote.audio")
    from tests.pyannote_pipeline_factory import build_pipeline_directory

    build_pipeline_directory(tmp_path / "model")
    server = Server("diarization", tmp_path / "model", tmp_path / "stderr.log", {**s3, "CALLSCOPE_DEVICE": "cpu"})
    try:
        server.wait_ready(timeout=120)
        assert _request(server.port, "GET", "/ping")[1]["model"] == "diarization:pyannote"
        status, result, _ = _post_json(server.port, {"audio_s3_uri": f"s3://{BUCKET}/2024/jfk.flac", "speakers": 2})
        assert status == 200, result
        assert result["diarizer"] == "pyannote" and result["duration"] == pytest.approx(11.0, abs=0.1)
        assert all(0 <= s["start"] <= s["end"] <= 11.1 for s in result["segments"])
        assert len(result["rttm"].splitlines()) == len(result["segments"])
    finally:
        assert server.stop() == 0


def test_behind_a_real_time_endpoint_a_body_over_invoke_endpoints_limit_is_one_line(tmp_path_factory, s3):
    """A real-time endpoint's InvokeEndpoint takes 6 MB: a larger body is refused unread, saying what to do;
    a call within it is answered."""
    server = _start("diarization", tmp_path_factory, {**s3, "CALLSCOPE_ENDPOINT": "realtime"})
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
            connection.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n"
                               b"Content-Length: 7340032\r\n\r\n")  # 7 MB announced, none sent
            reply = connection.makefile("rb").read().decode()
        status_line, _, body = reply.partition("\r\n\r\n")
        assert status_line.startswith("HTTP/1.0 413") or status_line.startswith("HTTP/1.1 413")
        assert json.loads(body) == {"error": "request body of 7340032 bytes is over the 6 MB a real-time endpoint "
                                             "takes (InvokeEndpoint's limit): use the asynchronous endpoint, or "
                                             "pass an S3 URI"}
        status, answer, _ = _request(server.port, "POST", "/invocations", JFK.read_bytes(),
                                     {"Content-Type": "audio/flac"})
        assert status == 200 and answer["duration"] > 10
    finally:
        assert server.stop() == 0


# --- concurrency ---------------------------------------------------------------------------------

def _two_at_once(port: int) -> list[tuple[int, dict, str]]:
    """The 30 s sample twice, both requests sent together: the second arrives while the first runs."""
    answers: list[tuple[int, dict, str]] = []
    threads = [threading.Thread(target=lambda: answers.append(
        _post_json(port, {"audio_s3_uri": f"s3://{BUCKET}/2024/sample.wav"}))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


def test_one_invocation_at_a_time_by_default(transcription):
    before = transcription.log.read_text().count("\n")
    answers = _two_at_once(transcription.port)
    assert [status for status, _, _ in answers] == [200, 200]
    assert "at once" not in "".join(transcription.log.read_text().splitlines(keepends=True)[before:])


def test_with_concurrency_two_invocations_run_at_once_and_both_answer(tmp_path_factory, s3):
    """CALLSCOPE_CONCURRENCY, as deploy/endpoints.yml sets it from MaxConcurrentInvocationsPerInstance."""
    server = _start("transcription", tmp_path_factory, {**s3, "CALLSCOPE_CONCURRENCY": "2"})
    try:
        answers = _two_at_once(server.port)
        assert [status for status, _, _ in answers] == [200, 200]
        for _, result, _ in answers:
            assert result["duration"] == pytest.approx(30.0, abs=0.2) and len(result["text"].split()) > 40
        assert "POST /invocations 200" in server.log.read_text()
        assert "(2 at once)" in server.log.read_text()
    finally:
        assert server.stop() == 0


def test_concurrency_must_be_a_whole_number_of_at_least_one(tmp_path):
    result = subprocess.run([sys.executable, "-m", "callscope.serving", "transcription", "--concurrency", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'0' is not a whole number of at least 1" in result.stderr and "Traceback" not in result.stderr
