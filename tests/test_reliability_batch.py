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

from callscope.batch import STATE_DIR, discover
from callscope.cli import main
from tests.conftest import JFK, PYANNOTE_SAMPLE

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
        assert document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["MediaFileUri"] == str(source)
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
