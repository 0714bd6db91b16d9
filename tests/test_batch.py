"""Batch behaviour: skip what is done, --force, resume after a kill, parallel jobs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from callscope.analysis.batch import STATE_DIR, discover
from callscope.cli import main
from tests.asr_checks import LEFT_TEXT, RIGHT_TEXT, word_error_rate
from tests.conftest import JFK, PYANNOTE_SAMPLE, STEREO_TWO_UTTERANCES

SUFFIXES = (".json", ".rttm", ".srt", ".vtt", ".txt")


def _calls(folder: Path, *sources: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copy(source, folder / source.name)
    return folder


def _analyze(*args: str):
    return CliRunner().invoke(main, ["analyze", *args])


def _mtimes(out: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in out.iterdir() if path.is_file()}


def test_second_run_skips_done_calls_and_force_redoes_them(tmp_path):
    calls = _calls(tmp_path / "calls", JFK)
    out = tmp_path / "out"
    first = _analyze(str(calls), "--out", str(out))
    assert first.exit_code == 0, first.output
    before = _mtimes(out)
    assert set(before) == {f"jfk{suffix}" for suffix in SUFFIXES}

    second = _analyze(str(calls), "--out", str(out))
    assert second.exit_code == 0
    assert "0 analysed, 1 already done, 0 failed" in second.output
    assert _mtimes(out) == before

    forced = _analyze(str(calls), "--out", str(out), "--force")
    assert "1 analysed, 0 already done" in forced.output
    assert all(_mtimes(out)[name] > before[name] for name in before)


def test_changed_content_or_settings_are_analysed_again(tmp_path):
    calls = _calls(tmp_path / "calls", JFK)
    out = tmp_path / "out"
    _analyze(str(calls), "--out", str(out))
    # Same name, other recording: the content hash differs, so it is not "done".
    shutil.copy(PYANNOTE_SAMPLE, calls / "jfk.flac.tmp")
    os.replace(calls / "jfk.flac.tmp", calls / "jfk.flac")
    assert "1 analysed" in _analyze(str(calls), "--out", str(out)).output
    # Same recording, a setting that changes results: analysed again.
    assert "1 analysed" in _analyze(str(calls), "--out", str(out), "--beam-size", "1").output


def test_killed_run_resumes_with_only_the_unfinished_calls(tmp_path):
    calls = _calls(tmp_path / "calls", JFK, PYANNOTE_SAMPLE, STEREO_TWO_UTTERANCES)
    out = tmp_path / "out"
    done_dir = out / STATE_DIR / "done"
    process = subprocess.Popen(
        [sys.executable, "-m", "callscope.cli", "analyze", str(calls), "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (done_dir.is_dir() and any(done_dir.glob("*.json"))):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(done_dir.glob("*.json")))
    assert 1 <= finished < 3, "the kill must land between calls for this test to mean anything"
    # Whatever the kill interrupted, no output is half-written: every file is complete or absent.
    for path in [*out.glob("*.json"), *done_dir.glob("*.json")]:
        json.loads(path.read_text())

    resumed = _analyze(str(calls), "--out", str(out))
    assert resumed.exit_code == 0, resumed.output
    assert f"{3 - finished} analysed, {finished} already done, 0 failed" in resumed.output
    assert not list(out.rglob("*.part")), "the re-run clears what the killed writer left"
    for name in ("jfk", "sample", "stereo_diarization"):
        assert all((out / f"{name}{suffix}").is_file() for suffix in SUFFIXES)


def test_parallel_jobs_give_the_same_results_as_one_job(tmp_path):
    calls = _calls(tmp_path / "calls", JFK, STEREO_TWO_UTTERANCES)
    serial = _analyze(str(calls), "--out", str(tmp_path / "serial"))
    parallel = _analyze(str(calls), "--out", str(tmp_path / "parallel"), "--jobs", "2")
    assert serial.exit_code == 0 and parallel.exit_code == 0, parallel.output
    for name in ("jfk.txt", "stereo_diarization.txt"):
        assert (tmp_path / "parallel" / name).read_text() == (tmp_path / "serial" / name).read_text()


def test_folders_are_searched_recursively_and_mirrored_in_the_output(tmp_path):
    calls = tmp_path / "calls"
    _calls(calls / "monday", JFK)
    (calls / "monday" / "notes.txt").write_text("not a call")
    _calls(calls / "tuesday" / "late", STEREO_TWO_UTTERANCES)
    jobs = discover([calls], tmp_path / "out")
    assert [job.stem for job in jobs] == [
        tmp_path / "out" / "monday" / "jfk",
        tmp_path / "out" / "tuesday" / "late" / "stereo_diarization",
    ]


def test_same_name_in_two_formats_keeps_both_results(tmp_path):
    (tmp_path / "call.flac").write_bytes(JFK.read_bytes())
    (tmp_path / "call.wav").write_bytes(PYANNOTE_SAMPLE.read_bytes())
    stems = {job.stem.name for job in discover([tmp_path], tmp_path / "out")}
    assert stems == {"call.flac", "call.wav"}


def test_stereo_channels_follow_the_channel_definitions(tmp_path):
    calls = _calls(tmp_path / "calls", STEREO_TWO_UTTERANCES)
    default = _analyze(str(calls), "--out", str(tmp_path / "default"))
    swapped = _analyze(str(calls), "--out", str(tmp_path / "swapped"), "--channels", "0=AGENT,1=CUSTOMER")
    assert default.exit_code == 0 and swapped.exit_code == 0
    # left channel (0): the wizard sentence; right channel (1): the horizon sentence (refs.tsv). Each
    # side's words are near its sentence (a bound: tiny.en's words vary by processor), far from the other.
    for folder, left, right in (("default", "Customer", "Agent"), ("swapped", "Agent", "Customer")):
        said = _said_by((tmp_path / folder / "stereo_diarization.txt").read_text())
        assert word_error_rate(said[left], LEFT_TEXT) < 0.35 < word_error_rate(said[left], RIGHT_TEXT)
        assert word_error_rate(said[right], RIGHT_TEXT) < 0.5 < word_error_rate(said[right], LEFT_TEXT)


def _said_by(transcript: str) -> dict[str, str]:
    """Each speaker's words in a callscope .txt transcript ("Agent: ..." lines)."""
    said: dict[str, list[str]] = {}
    for line in transcript.splitlines():
        speaker, _, text = line.partition(": ")
        said.setdefault(speaker, []).append(text)
    return {speaker: " ".join(texts) for speaker, texts in said.items()}


def test_bad_channel_definition_is_a_usage_error(tmp_path):
    result = _analyze(str(JFK), "--out", str(tmp_path), "--channels", "0=BOSS")
    assert result.exit_code == 2
    assert "is not CHANNEL=ROLE" in result.output


def test_only_partial_files_of_dead_writers_are_removed(tmp_path):
    from callscope.output.writers import remove_stale_partial_files, write_atomic

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".call.json.{dead.pid}.abc123.part"
    live = tmp_path / f".call.srt.{os.getpid()}.def456.part"
    stale.write_text("{")
    live.write_text("1")
    write_atomic(tmp_path / "call.txt", "Agent: hello\n")
    assert remove_stale_partial_files(tmp_path) == 1
    assert not stale.exists() and live.exists()
    assert (tmp_path / "call.txt").read_text() == "Agent: hello\n"
