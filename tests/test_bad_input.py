"""Bad recordings in a batch, through the real `callscope analyze` command.

Every bad file must fail alone, with one line naming the file and its problem (on the terminal and
in failures.jsonl), while a good call in the same batch is still analysed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from callscope.audio.decode import decode
from callscope.cli import main
from callscope.errors import InputError
from tests import conftest
from tests.asr_checks import JFK_TEXT, JFK_WER, word_error_rate
from tests.audio_factory import load_clip, wav_header_only, write_audio, write_long_silence_flac

OUTPUT_SUFFIXES = (".json", ".rttm", ".srt", ".vtt", ".txt")
CALLSCOPE = Path(sys.executable).parent / "callscope"


# ---- helpers ------------------------------------------------------------------------------------


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()  # click >= 8.2 keeps stderr apart by default


def _streams(result) -> tuple[str, str]:
    try:
        return result.stdout, result.stderr
    except ValueError:  # stderr mixed into output
        return result.output, result.output


def _analyze(inputs: list[Path], out: Path, *extra: str):
    result = _runner().invoke(main, ["analyze", *map(str, inputs), "--out", str(out), *extra])
    stdout, stderr = _streams(result)
    return result.exit_code, stdout, stderr


def _failures(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]


def _assert_good_outputs(out: Path, stem: str) -> None:
    for suffix in OUTPUT_SUFFIXES:
        path = out / f"{stem}{suffix}"
        assert path.is_file() and path.stat().st_size > 0, f"missing output {path.name}"
    pca = json.loads((out / f"{stem}.json").read_text())
    text = " ".join(item["OriginalText"] for item in pca["SpeechSegments"])
    assert word_error_rate(text, JFK_TEXT) <= JFK_WER  # the whole clip, not exact words (they vary by processor)


def _assert_one_line_failure(record: dict, kind: str, problem: str) -> None:
    assert record["kind"] == kind, record
    assert record["error"] and "\n" not in record["error"] and "\r" not in record["error"]
    assert problem in record["error"].lower(), record
    assert "Traceback" not in record["error"]


def _assert_reported_once(name: str, error: str, stdout: str, stderr: str) -> None:
    """The per-call line on stderr names the file and its problem, once."""
    lines = [line for line in stderr.splitlines() if name in line]
    assert len(lines) == 1, f"{name}: {lines!r}"
    assert lines[0].startswith("failed") and lines[0].endswith(f"{name}: {error}")
    assert any(name in line and "failed" in line for line in stdout.splitlines())  # summary table


def _good_clip(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(conftest.JFK, folder / "jfk.flac"))


# ---- the bad inputs -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ten_hour_flac(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("long") / "ten_hours.flac"
    started = time.perf_counter()
    write_long_silence_flac(path, hours=10)
    assert time.perf_counter() - started < 30, "generating the 10-hour file got slow"
    import av

    with av.open(str(path)) as container:  # really 10 hours, as the FLAC header says
        stream = container.streams.audio[0]
        assert float(stream.duration * stream.time_base) == pytest.approx(36000.0)
    return path


def _speech_mp3(path: Path) -> Path:
    return write_audio(path, load_clip(conftest.JFK)[None], 16000, "libmp3lame")


def _cut_to_third(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _make_bad_inputs(folder: Path, ten_hours: Path) -> dict[str, tuple[str, str]]:
    """Writes the bad files; returns {file name: (kind, words its error must contain)}."""
    folder.mkdir(parents=True, exist_ok=True)
    speech = load_clip(conftest.JFK)[None]

    (folder / "empty.wav").write_bytes(b"")

    _cut_to_third(write_audio(folder / "cut_wav.wav", speech, 16000, "pcm_s16le"))
    _cut_to_third(_speech_mp3(folder / "cut_mp3.mp3"))

    garbled = bytearray(_speech_mp3(folder / "garbled.mp3").read_bytes())
    sixth = len(garbled) // 6
    noise = np.random.default_rng(7).integers(0, 256, size=2 * sixth, dtype=np.uint8).tobytes()
    garbled[len(garbled) // 2 - sixth : len(garbled) // 2 + sixth] = noise
    (folder / "garbled.mp3").write_bytes(bytes(garbled))

    (folder / "letter.wav").write_text("Dear customer,\nthis is a text file, not a recording.\n")
    wav_header_only(folder / "no_samples.wav")
    write_audio(folder / "quiet.wav", np.zeros((1, 5 * 16000), np.float32), 16000, "pcm_s16le")
    shutil.copy(ten_hours, folder / "ten_hours.flac")

    return {
        "empty.wav": ("empty", "empty file (0 bytes)"),
        "cut_wav.wav": ("truncated", "truncated: the header promises 11.0 s"),
        "cut_mp3.mp3": ("truncated", "truncated: the header promises 11.0 s"),
        # FFmpeg's MP3 decoder stops with AVERROR_INVALIDDATA inside the garbage: "corrupt".
        "garbled.mp3": ("corrupt", "corrupt audio data at"),
        "letter.wav": ("not_audio", "not a readable audio file"),
        "no_samples.wav": ("zero_length", "zero length"),
        "quiet.wav": ("silent", "silent"),
        "ten_hours.flac": ("too_long", "too long: 10:00:00 exceeds the limit of 4:00:00"),
    }


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory, ten_hour_flac):
    root = tmp_path_factory.mktemp("bad_batch")
    folder = root / "calls"
    expected = _make_bad_inputs(folder, ten_hour_flac)
    _good_clip(folder)
    (folder / "notes.txt").write_text("not a call\n")  # ignored by the folder scan
    unknown = root / "notes.xyz"
    unknown.write_bytes(b"\x00\x01 some bytes")
    missing = root / "gone.wav"
    expected["notes.xyz"] = ("unsupported_type", "unsupported file type '.xyz'")
    expected["gone.wav"] = ("not_found", "file not found")
    out = root / "out"
    exit_code, stdout, stderr = _analyze([folder, unknown, missing], out)
    return exit_code, stdout, stderr, out, expected


# ---- tests --------------------------------------------------------------------------------------


def test_bad_batch_exits_1_and_still_analyses_the_good_call(bad_batch) -> None:
    exit_code, stdout, stderr, out, expected = bad_batch
    assert exit_code == 1, stdout + stderr
    # Several inputs: outputs mirror them below their common folder (the folder "calls" and two files beside it).
    _assert_good_outputs(out / "calls", "jfk")
    assert f"1 analysed, 0 already done, {len(expected)} failed" in stdout
    for name in expected:  # no output is written for a failed call, wherever it would have gone
        assert not list(out.rglob(Path(name).with_suffix(".json").name))


def test_bad_batch_output_has_no_traceback(bad_batch) -> None:
    _, stdout, stderr, _, _ = bad_batch
    assert "Traceback" not in stdout + stderr
    assert "internal error" not in stdout + stderr


def test_failures_jsonl_lists_each_bad_file_once(bad_batch) -> None:
    _, _, _, out, expected = bad_batch
    records = _failures(out)
    assert sorted(Path(record["file"]).name for record in records) == sorted(expected)
    assert set(records[0]) == {"file", "error", "kind"}


@pytest.mark.parametrize(
    "name",
    ["empty.wav", "cut_wav.wav", "cut_mp3.mp3", "garbled.mp3", "letter.wav", "no_samples.wav", "quiet.wav",
     "ten_hours.flac", "notes.xyz", "gone.wav"],
)
def test_bad_file_fails_with_its_kind_on_one_line(bad_batch, name: str) -> None:
    _, stdout, stderr, out, expected = bad_batch
    kind, problem = expected[name]
    (record,) = [record for record in _failures(out) if Path(record["file"]).name == name]
    _assert_one_line_failure(record, kind, problem)
    _assert_reported_once(name, record["error"], stdout, stderr)


def test_folder_scan_ignores_non_audio_files(bad_batch) -> None:
    _, stdout, stderr, out, _ = bad_batch
    assert "notes.txt" not in stdout + stderr
    assert all(Path(record["file"]).name != "notes.txt" for record in _failures(out))


def test_all_good_batch_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    _good_clip(folder)
    (folder / "notes.txt").write_text("agenda\n")
    (folder / "sub").mkdir()
    (folder / "sub" / "readme.md").write_text("# not audio\n")
    out = tmp_path / "out"
    exit_code, stdout, stderr = _analyze([folder], out)
    assert exit_code == 0, stdout + stderr
    _assert_good_outputs(out, "jfk")
    assert not (out / "failures.jsonl").exists()
    assert "1 analysed, 0 already done, 0 failed" in stdout
    assert "notes.txt" not in stdout + stderr and "readme.md" not in stdout + stderr
    assert "Traceback" not in stdout + stderr


def test_ten_hour_file_is_refused_before_decoding(ten_hour_flac: Path, tmp_path: Path) -> None:
    # Decoding 10 h of audio would take minutes and ~2.3 GB at 16 kHz; refusing reads the header.
    started = time.perf_counter()
    with pytest.raises(InputError) as raised:
        decode(ten_hour_flac)
    assert time.perf_counter() - started < 2.0
    assert raised.value.kind == "too_long"

    started = time.perf_counter()
    exit_code, stdout, stderr = _analyze([ten_hour_flac], tmp_path / "out")
    elapsed = time.perf_counter() - started  # includes loading the model
    assert exit_code == 1
    assert elapsed < 10.0, f"refusing the 10-hour file took {elapsed:.1f} s"
    (record,) = _failures(tmp_path / "out")
    _assert_one_line_failure(record, "too_long", "too long: 10:00:00")


def test_missing_file_given_explicitly(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "call.wav"
    exit_code, stdout, stderr = _analyze([missing], tmp_path / "out")
    assert exit_code == 1
    (record,) = _failures(tmp_path / "out")
    assert record["file"] == str(missing)
    _assert_one_line_failure(record, "not_found", "file not found")
    _assert_reported_once("call.wav", record["error"], stdout, stderr)
    assert "Traceback" not in stdout + stderr


# ---- unreadable files ---------------------------------------------------------------------------
#
# Root reads a 0o000 file anyway. Dropping to another user (setpriv --reuid=65534) is not possible
# here: the venv's interpreter lives under /root (mode 0700). Instead the command runs as root
# without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH, so the permission bits of root's own 0o000 file
# apply to it exactly as to any user.

_DROP_READ_OVERRIDE = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


@pytest.fixture(scope="module")
def unreadable_dir():
    root = Path(tempfile.mkdtemp(prefix="callscope-unreadable-"))
    root.chmod(0o777)
    locked = root / "locked.wav"
    write_audio(locked, load_clip(conftest.JFK, seconds=3.0)[None], 16000, "pcm_s16le")
    locked.chmod(0o000)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv is missing: cannot make a file unreadable")
        prefix = _DROP_READ_OVERRIDE
    probe = subprocess.run([*prefix, "cat", str(locked)], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("could not make a file unreadable on this machine")
    yield root, locked, prefix
    locked.chmod(0o600)
    shutil.rmtree(root, ignore_errors=True)


def _run_cli(prefix: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, str(CALLSCOPE), "analyze", *args], capture_output=True, text=True, timeout=120
    )


def test_decode_refuses_unreadable_file(unreadable_dir) -> None:
    _, locked, prefix = unreadable_dir
    code = (
        "import sys; from pathlib import Path; from callscope.audio.decode import decode\n"
        "from callscope.errors import InputError\n"
        "try:\n    decode(Path(sys.argv[1]))\nexcept InputError as e:\n    print(e.kind); print(e)\n"
    )
    done = subprocess.run([*prefix, sys.executable, "-c", code, str(locked)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["unreadable", f"{locked}: cannot read file: permission denied"]


@pytest.fixture(scope="module")
def unreadable_batch(unreadable_dir):
    root, locked, prefix = unreadable_dir
    folder = root / "calls"
    folder.mkdir()
    folder.chmod(0o777)
    os.link(locked, folder / "locked.wav")
    _good_clip(folder).chmod(0o644)
    out = root / "out"
    done = _run_cli(prefix, str(folder), "--out", str(out))
    return done, out, folder / "locked.wav"


def test_unreadable_file_in_folder_fails_alone(unreadable_batch) -> None:
    done, out, locked = unreadable_batch
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    _assert_good_outputs(out, "jfk")
    (record,) = _failures(out)
    assert record["file"] == str(locked)
    assert record["error"] and "\n" not in record["error"]
    assert "permission denied" in record["error"].lower()
    _assert_reported_once("locked.wav", record["error"], done.stdout, done.stderr)


def test_unreadable_file_in_folder_has_kind_unreadable(unreadable_batch) -> None:
    _, out, _ = unreadable_batch
    (record,) = _failures(out)
    assert record["kind"] == "unreadable"


def test_unreadable_and_missing_files_given_explicitly(unreadable_dir, tmp_path: Path) -> None:
    root, locked, prefix = unreadable_dir
    out = root / "explicit-out"
    missing = root / "missing.wav"
    done = _run_cli(prefix, str(locked), str(missing), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    records = {Path(record["file"]).name: record for record in _failures(out)}
    assert sorted(records) == ["locked.wav", "missing.wav"]
    _assert_one_line_failure(records["missing.wav"], "not_found", "file not found")
    _assert_one_line_failure(records["locked.wav"], "unreadable", "permission denied")
    for name, record in records.items():
        _assert_reported_once(name, record["error"], done.stdout, done.stderr)
