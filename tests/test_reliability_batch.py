"""Batch reliability (issue 14): no result overwrites another, no process outlives the run, a run that
cannot start exits 2, every folder problem is a warning, file names cannot drive the terminal, and the
console speaks of what each command did (turns for chats, each worker's stage with --jobs 2)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from contextlib import suppress
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.analysis.batch import STATE_DIR, discover
from callscope.cli import main
from tests.conftest import PYANNOTE_SAMPLE

FAST = ("--sentiment", "none", "--entities", "none", "--issues", "none", "--no-categories", "--diarizer", "none")
CHAT_FIXTURES = Path(__file__).parent / "data" / "chat_inputs"
STAGES = ("decoding", "transcribing", "analysing", "enriching", "insights")


def _clip(target: Path, start: float = 8.0, seconds: float = 3.0, source: Path = PYANNOTE_SAMPLE) -> Path:
    """`seconds` of a real recording from `start`, as a WAV file of its own (sample.wav speaks from 6.7 s on)."""
    with wave.open(str(source)) as reader:
        rate, params = reader.getframerate(), reader.getparams()
        reader.setpos(int(start * rate))
        frames = reader.readframes(int(seconds * rate))
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames)
    return target


def _analyze(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["analyze", *args], env=env)


def _done_records(out: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in (out / STATE_DIR / "done").glob("*.json")]


# ---- item 2: no result may overwrite another ----------------------------------------------------


def test_two_inputs_with_one_name_keep_both_results_and_a_rerun_skips_both(tmp_path):
    first = _clip(tmp_path / "a" / "x.wav", start=8.0)
    second = _clip(tmp_path / "b" / "x.wav", start=18.0)
    out = tmp_path / "r"
    result = _analyze(str(first), str(second), "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    for folder, source in (("a", first), ("b", second)):
        document = json.loads((out / folder / "x.json").read_text())
        assert (document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["MediaFileUri"]
                == str(source))
    records = _done_records(out)
    written = [record["result"]["outputs"] for record in records]
    assert len(records) == 2 and not set(written[0]) & set(written[1]), "each record names the files its call wrote"
    assert all(Path(path).is_file() for outputs in written for path in outputs)

    again = _analyze(str(first), str(second), "--out", str(out), *FAST)
    assert again.exit_code == 0 and "0 analysed, 2 already done, 0 failed" in again.output


def test_outputs_mirror_the_inputs_below_their_common_folder(tmp_path):
    calls = tmp_path / "calls"
    for name in ("monday/x.wav", "y.wav"):
        _clip(calls / name)
    other = _clip(tmp_path / "more" / "x.wav")
    out = tmp_path / "out"
    assert [job.stem for job in discover([calls], out)] == [out / "monday" / "x", out / "y"]  # one folder: as before
    assert [job.stem for job in discover([other], out)] == [out / "x"]  # one file: its name
    assert [job.stem for job in discover([calls / "y.wav", calls / "monday" / "x.wav"], out)] == [
        out / "y", out / "monday" / "x"]
    assert [job.stem for job in discover([calls, other], out)] == [
        out / "calls" / "monday" / "x", out / "calls" / "y", out / "more" / "x"]


def test_copies_of_s3_inputs_beside_local_ones_are_never_mirrored_into_the_state_folder(tmp_path):
    out = tmp_path / "out"
    local = _clip(tmp_path / "calls" / "x.wav")
    # as analyze s3://... copies them
    fetched = _clip(out / STATE_DIR / "s3" / "bucket" / "incoming" / "day1" / "y.wav")
    stems = [job.stem for job in discover([tmp_path / "calls", out / STATE_DIR / "s3" / "bucket" / "incoming"], out)]
    assert stems == [out / "x", out / "day1" / "y"]
    assert local.is_file() and fetched.is_file()


def test_outputs_that_would_still_collide_refuse_the_run_in_one_line(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    clip = _clip(tmp_path / "clip.wav")
    for name in ("x.wav", "x.flac", "x.wav.flac"):  # x.wav and x.flac keep their extension: x.wav, as x.wav.flac
        shutil.copy(clip, calls / name)
    out = tmp_path / "out"
    result = _analyze(str(calls), "--out", str(out))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "x.wav.flac" in lines[0] and "Traceback" not in result.output
    assert not out.exists() or not list(out.rglob("*.json"))


# ---- item 3: no process outlives the run --------------------------------------------------------


def _process_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) for every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table, found, frontier = _process_table(), set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "int"])
def test_workers_and_the_resource_tracker_end_with_their_parent(tmp_path, stop):
    calls = tmp_path / "calls"
    for number in range(4):
        _clip(calls / f"call{number}.wav", start=6.5 + number * 5.5, seconds=7.0)
    out, done = tmp_path / "out", tmp_path / "out" / STATE_DIR / "done"
    log = (tmp_path / "log").open("wb")
    parent = subprocess.Popen(
        [sys.executable, "-m", "callscope.cli", "analyze", str(calls), "--out", str(out), "--jobs", "2", *FAST],
        stdout=log, stderr=log, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not (done.is_dir() and any(done.glob("*.json"))):
            assert parent.poll() is None, (tmp_path / "log").read_text()
            assert time.monotonic() < deadline, "no call finished in time"
            time.sleep(0.05)
        children = _descendants(parent.pid)
        assert len(children) >= 2, "the workers run in processes of their own"
        assert parent.poll() is None and len(list(done.glob("*.json"))) < 4, "the stop must land mid-run"
        os.kill(parent.pid, stop)
        stopped = time.monotonic()
        while any(_alive(pid) for pid in children) and time.monotonic() < stopped + 8:
            time.sleep(0.05)
        assert not [pid for pid in children if _alive(pid)], "a worker or the resource tracker outlived the run"
        parent.wait(timeout=30)
        if stop != signal.SIGKILL:
            assert parent.returncode != 0, "a stopped run does not report success"
            assert not list(out.rglob("*.part")), "no partial file is left"
            assert len(list(done.glob("*.json"))) < 4, "the workers stopped rather than finishing every call"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)  # whatever is left of the run's process group
        with suppress(subprocess.TimeoutExpired):
            parent.wait(timeout=10)
        log.close()


# ---- item 5: a run that cannot start, folder problems, names that would drive the terminal ------


def test_a_folder_without_inputs_exits_2_in_one_line(tmp_path):
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "notes.md").write_text("# no calls here\n")
    result = _analyze(str(tmp_path / "calls"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and str(tmp_path / "calls") in result.output


def test_a_store_that_is_not_a_database_exits_2_in_one_line(tmp_path):
    store = tmp_path / "notes.db"
    store.write_text("these are notes, not a database\n" * 100)
    result = _analyze(str(_clip(tmp_path / "x.wav")), "--out", str(tmp_path / "out"), "--store", str(store))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(store) in lines[0] and "Traceback" not in result.output
    assert store.read_text().startswith("these are notes")


def test_link_loops_in_a_folder_are_one_warning_each_and_the_rest_is_analysed(tmp_path):
    calls = tmp_path / "calls"
    _clip(calls / "sub" / "x.wav")
    (calls / "sub" / "back").symlink_to("..")  # a folder link to its own ancestor
    (calls / "itself.wav").symlink_to("itself.wav")  # a link to itself
    result = _analyze(str(calls), "--out", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 0, result.output
    assert "1 analysed, 0 already done, 0 failed" in result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, result.output
    assert any("back" in line for line in warnings) and any("itself.wav" in line for line in warnings)
    assert (tmp_path / "out" / "sub" / "x.json").is_file()


def _discover_as_nobody(folder: Path, out: Path) -> dict:
    """discover() in a child process that, run as root, becomes nobody first: chmod 000 does not stop root."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            warnings: list[str] = []
            jobs = discover([folder], out, warn=warnings.append)
            answer = {"sources": [str(job.source) for job in jobs], "warnings": warnings}
        except BaseException as error:
            answer = {"error": repr(error)}
        with os.fdopen(write, "w") as stream:
            stream.write(json.dumps(answer))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as stream:
        answer = json.loads(stream.read() or '{"error": "no answer"}')
    os.waitpid(child, 0)
    return answer


def test_an_unreadable_sub_folder_is_one_warning_and_the_rest_is_found():
    root = Path(tempfile.mkdtemp(prefix="callscope-unreadable-"))  # under /tmp, which nobody may enter
    try:
        calls, locked = root / "calls", root / "calls" / "locked"
        _clip(calls / "ok.wav")
        _clip(locked / "x.wav")
        for path in (root, calls):
            path.chmod(0o755)
        (calls / "ok.wav").chmod(0o644)
        locked.chmod(0o000)
        answer = _discover_as_nobody(calls, root / "out")
    finally:
        (root / "calls" / "locked").chmod(0o755)
        shutil.rmtree(root)
    assert "error" not in answer, answer
    assert answer["sources"] == [str(calls / "ok.wav")]
    (warning,) = answer["warnings"]
    assert str(locked) in warning


def test_control_characters_in_file_names_are_printed_escaped(tmp_path):
    calls = tmp_path / "calls"
    red = _clip(calls / "red\x1b[31m.wav")
    (calls / "two\nlines.wav").write_bytes(b"RIFF not really a wave file" * 10)
    (calls / "clear\x1b[2J.wav").symlink_to("clear\x1b[2J.wav")  # a warning naming it
    out = tmp_path / "out"
    result = _analyze(str(calls), "--out", str(out), *FAST)
    assert result.exit_code == 1, result.output
    assert "\x1b" not in result.output, "an escape sequence in a name reached the terminal"
    assert "red\\x1b[31m.wav" in result.output and "clear\\x1b[2J.wav" in result.output
    assert "two\\nlines.wav" in result.output
    for line in result.output.splitlines():  # the newline in the name breaks no line
        assert not line.startswith("lines.wav")
    (failure,) = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failure["file"] == str(calls / "two\nlines.wav")  # JSON keeps the real name
    document = json.loads((out / "red\x1b[31m.json").read_text())
    assert document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["MediaFileUri"] == str(red)


# ---- item 7: the console says what the command did ----------------------------------------------


def test_import_transcribe_counts_refused_files_and_titles_its_table(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(CHAT_FIXTURES / "call_analytics.json", results / "call.json")
    (results / "chat.json").write_text((CHAT_FIXTURES / "chat_export.json").read_text())
    outcome = CliRunner().invoke(main, ["import", "transcribe", str(results), "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 1
    assert "1 failed" in outcome.output and "0 failed" not in outcome.output
    assert "callscope import transcribe" in outcome.output and "callscope analyze" not in outcome.output
    assert "audio s" not in outcome.output and "speed" not in outcome.output
    failures = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert [Path(failure["file"]).name for failure in failures] == ["chat.json"]


def test_chats_are_reported_in_turns_not_seconds_of_audio(tmp_path):
    chat = tmp_path / "chat.txt"
    chat.write_text("Customer: Hello, my order is late.\nAgent: Sorry, let me check that for you.\n"
                    "Customer: Thanks.\n")
    result = _analyze(str(chat), "--out", str(tmp_path / "out"), *FAST)
    assert result.exit_code == 0, result.output
    assert re.search(r"chat\.txt \(3 turns in [\d.]+ s\)", result.output), result.output
    assert "of audio" not in result.output and "audio s" not in result.output and "speed" not in result.output


def test_parallel_workers_show_each_calls_stage(tmp_path):
    calls = tmp_path / "calls"
    for number in range(2):
        _clip(calls / f"call{number}.wav", start=8.0 + number * 10.0, seconds=6.0)
    # A terminal, as far as the progress display can tell: it draws its live lines into the output.
    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "200"}
    result = _analyze(str(calls), "--out", str(tmp_path / "out"), "--jobs", "2", *FAST, env=terminal)
    assert result.exit_code == 0, result.output
    for number in range(2):
        assert re.search(rf"call{number}\.wav: ({'|'.join(STAGES)})", result.output), result.output
