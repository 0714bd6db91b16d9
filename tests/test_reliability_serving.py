"""Hostile and broken clients of the inference server, `callscope load` and `--notify` targets (issue 14).

The server runs in this process on 127.0.0.1 with a stand-in model, so what reaches the model and
what the server writes to stderr (captured by capfd) can both be checked.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from callscope.serving.server import ModelServer, ServerConfig

DEEP = 100_000  # far past Python's recursion limit


class Recorder:
    """A model that records what reaches it and can hold an answer back until released."""

    name = "recorder"
    fields = frozenset({"timeline"})

    def __init__(self, hold: threading.Event | None = None) -> None:
        self.calls: list[dict] = []
        self.hold = hold

    def invoke(self, invocation) -> dict:
        self.calls.append(invocation.parameters)
        if self.hold is not None:
            self.hold.wait(10)
        return {"bytes": invocation.audio.stat().st_size}


@contextmanager
def serving(model: Recorder, **config) -> Iterator[int]:
    """The server on a free loopback port with `model` loaded; yields the port."""
    server = ModelServer(ServerConfig(host="127.0.0.1", port=0, **config))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.load(lambda: model)
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _exchange(port: int, data: bytes, half_close: bool = False, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send raw bytes and read until the server closes the connection: (everything read, seconds it took)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as client:
        client.sendall(data)
        if half_close:
            client.shutdown(socket.SHUT_WR)  # "no more bytes are coming"
        started, answer = time.monotonic(), b""
        while chunk := client.recv(65536):  # socket.timeout past `timeout`: the server never closed it
            answer += chunk
        return answer, time.monotonic() - started


def _status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _post(path: str, body: bytes, content_type: str, length: int | None = None) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n").encode() + body


def _ping(port: int) -> int:
    answer, _ = _exchange(port, b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    return _status_and_body(answer)[0]


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# --- the inference server ----------------------------------------------------------------------

@pytest.mark.parametrize("depth", [DEEP, 200])
def test_deeply_nested_json_is_400_with_one_line(depth, capfd):
    nested = b"[" * depth + b"]" * depth
    body = b'{"audio_base64": "AAAA", "timeline": ' + nested + b"}"
    model = Recorder()
    with serving(model) as port:
        status, payload = _status_and_body(_exchange(port, _post("/invocations", body, "application/json"))[0])
        assert _ping(port) == 200  # still serving
    assert status == 400, payload
    assert list(payload) == ["error"] and "nested" in payload["error"] and "\n" not in payload["error"]
    assert model.calls == []
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_shorter_than_its_content_length_is_400_and_never_decoded(capfd):
    model = Recorder()
    with serving(model) as port:
        answer, _ = _exchange(port, _post("/invocations", b"RIFF....WAVE", "audio/wav", length=1000), half_close=True)
    status, payload = _status_and_body(answer)
    assert status == 400, payload
    assert "12 of 1000 bytes" in payload["error"]
    assert model.calls == []
    assert "Traceback" not in capfd.readouterr().err


def test_stalled_clients_are_dropped_after_the_read_timeout(capfd):
    model = Recorder()
    stalls = {
        "silent": b"",
        "headers": b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le",
        "body": _post("/invocations", b'{"audio_base64": "AA', "application/json", length=100),
    }
    dropped: list[tuple[str, bytes, float]] = []  # (stall, what the client got, seconds until the close)

    def stall(kind: str) -> None:
        dropped.append((kind, *_exchange(port, stalls[kind], timeout=5)))  # socket.timeout: never dropped

    with serving(model, read_timeout_s=0.5) as port:
        clients = [threading.Thread(target=stall, args=(kind,)) for kind in stalls for _ in range(5)]
        for client in clients:
            client.start()
        assert _ping(port) == 200  # stalled clients do not block the others
        for client in clients:
            client.join(10)
        assert sorted(kind for kind, _, _ in dropped) == sorted(list(stalls) * 5), "a stalled client was never dropped"
        assert all(seconds < 4 for _, _, seconds in dropped)
        for kind, answer, _ in dropped:
            if kind == "body":
                status, payload = _status_and_body(answer)
                assert status == 408 and "0.5 s" in payload["error"]
        assert _wait_for(lambda: not _handlers()), "handler threads left behind"
    assert model.calls == []
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if "POST /invocations 408" in line]) == 5
    assert len([line for line in err.splitlines() if "headers stalled" in line]) == 5
    assert len(err.splitlines()) == 1 + 5 + 5  # the model's loading, then nothing for the silent ones


@pytest.mark.parametrize("close", ["reset", "close"])
def test_a_client_that_leaves_before_its_reply_leaves_no_traceback(close, capfd):
    release = threading.Event()
    model = Recorder(hold=release)
    with serving(model) as port:
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        client.sendall(_post("/invocations", b"RIFF....WAVE", "audio/wav"))
        assert _wait_for(lambda: model.calls), "the request never reached the model"
        if close == "reset":  # an abortive close: RST instead of FIN
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        time.sleep(0.1)  # the close reaches the server before its reply goes out
        release.set()
        assert _wait_for(lambda: not _handlers()), "the request's handler never finished"
        assert _ping(port) == 200
    err = capfd.readouterr().err
    assert "POST /invocations 200" in err
    assert "Traceback" not in err and "Exception occurred" not in err


def _handlers() -> list[threading.Thread]:
    """The server's threads still handling a connection (socketserver names them after their target)."""
    return [thread for thread in threading.enumerate() if "process_request_thread" in thread.name]


def test_the_read_timeout_comes_from_the_flag_or_the_environment(monkeypatch, tmp_path, capsys):
    from callscope.serving import __main__ as entry

    started: list[ServerConfig] = []
    monkeypatch.setattr(entry, "serve", lambda config, loader: started.append(config) or 0)
    model_dir = ["--model-dir", str(tmp_path)]
    assert entry.main(["transcription", *model_dir]) == 0
    monkeypatch.setenv("CALLSCOPE_READ_TIMEOUT", "2.5")
    assert entry.main(["transcription", *model_dir]) == 0
    assert entry.main(["transcription", *model_dir, "--read-timeout", "7"]) == 0
    assert [config.read_timeout_s for config in started] == [60.0, 2.5, 7.0]
    for bad in ("0", "soon", "nan"):
        with pytest.raises(SystemExit) as stopped:
            entry.main(["transcription", *model_dir, "--read-timeout", bad])
        assert stopped.value.code == 2
        assert f"'{bad}' is not a number of seconds above 0" in capsys.readouterr().err


# --- callscope load and the transcript readers on deeply nested JSON ------------------------------

def _deep_json(path):
    path.write_text("[" * DEEP + "]" * DEEP, encoding="utf-8")
    return path


def test_load_reports_a_deeply_nested_file_in_one_line_and_loads_the_rest(tmp_path):
    import shutil

    from click.testing import CliRunner

    from callscope.cli import main
    from callscope.store import SqliteStore
    from tests.conftest import PCA_REFERENCE_JSON

    results = tmp_path / "results"
    results.mkdir()
    _deep_json(results / "a-deep.json")  # first in the folder's order: the files after it must still load
    shutil.copy(PCA_REFERENCE_JSON, results / "b-call.json")
    outcome = CliRunner().invoke(main, ["load", str(results), "--store", str(tmp_path / "calls.db")])
    assert outcome.exit_code == 1, outcome.output  # a failed file, as for any corrupt JSON
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit), outcome.exception
    failed = [line for line in outcome.output.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and "a-deep.json" in failed[0] and "nested" in failed[0]
    assert outcome.output.splitlines()[-1].startswith("1 loaded, 0 skipped, 1 failed")
    assert "Traceback" not in outcome.output
    with SqliteStore(tmp_path / "calls.db") as store:
        assert store.count() == 1


def test_transcript_readers_refuse_a_deeply_nested_file_in_one_line(tmp_path):
    from callscope.errors import InputError
    from callscope.inputs.detect import is_transcript_candidate
    from callscope.inputs.load import load_transcript

    deep = _deep_json(tmp_path / "chat.json")
    with pytest.raises(InputError) as caught:
        load_transcript(deep)
    assert caught.value.path == str(deep) and "nested" in caught.value.problem and "\n" not in str(caught.value)
    assert not is_transcript_candidate(deep)  # a folder scan passes it over
