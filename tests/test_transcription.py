"""faster-whisper backend: words and timings, hallucination guards, and where models come from."""

from __future__ import annotations

import shutil

import ctranslate2
import numpy as np
import pytest
from click.testing import CliRunner

from callscope.audio.decode import SAMPLE_RATE, decode
from callscope.cli import main
from callscope.errors import ModelError
from callscope.options import TranscriptionOptions
from callscope.transcription import whisper
from callscope.transcription.models import bundled_model_path, resolve_model
from callscope.transcription.parallel import transcribe_each
from callscope.transcription.whisper import FasterWhisperTranscriber, resolve_device
from tests.asr_checks import JFK_TEXT, JFK_WER, word_error_rate
from tests.conftest import JFK


@pytest.fixture(scope="module")
def jfk_mono():
    return decode(JFK).samples.mean(axis=0)


def test_words_have_timestamps_and_probabilities(transcriber, jfk_mono):
    result = transcriber.transcribe(jfk_mono)
    words = [word for segment in result.segments for word in segment.words]
    assert word_error_rate("".join(word.text for word in words), JFK_TEXT) <= JFK_WER
    assert result.language == "en"
    assert all(0 <= w.start <= w.end <= 11.1 and 0 < w.probability <= 1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_two_whisper_workers_where_there_are_two_threads_on_the_cpu():
    assert TranscriptionOptions(cpu_threads=2).workers_on("cpu") == 2
    assert TranscriptionOptions(cpu_threads=1).workers_on("cpu") == 1
    assert TranscriptionOptions(cpu_threads=8).workers_on("cuda") == 1
    # "auto" is the device resolve_device picks
    expected = 1 if resolve_device("auto") == "cuda" else 2
    assert FasterWhisperTranscriber(TranscriptionOptions(device="auto", cpu_threads=2)).workers == expected


def test_auto_picks_cuda_only_where_a_gpu_is_seen_and_the_cuda_libraries_load(monkeypatch):
    """A CPU image on a GPU instance sees the GPU (the driver) but has no cuBLAS or cuDNN: the CPU, there."""
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)  # a GPU instance, seen by the driver
    monkeypatch.setattr(whisper, "CUDA_LIBRARIES", ("libc.so.6",))  # libraries this machine has
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(whisper, "CUDA_LIBRARIES", ("libc.so.6", "libcublas-not-in-this-image.so.12"))
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 0)
    monkeypatch.setattr(whisper, "CUDA_LIBRARIES", ("libc.so.6",))
    assert resolve_device("auto") == "cpu" and resolve_device("cuda") == "cuda"  # asked for: as given


def test_signals_transcribed_side_by_side_get_the_words_they_get_one_by_one(transcriber, jfk_mono):
    # Two workers share one model: running at once must not mix their words up (stereo channels
    # and wordless speech regions are transcribed this way).
    signals = [jfk_mono[: 6 * SAMPLE_RATE], jfk_mono[5 * SAMPLE_RATE :]]
    one_by_one = [transcriber.transcribe(signal) for signal in signals]
    side_by_side = transcribe_each(transcriber, signals)

    def words(result):
        return [(word.text, word.start, word.end) for segment in result.segments for word in segment.words]

    assert all(words(result) for result in one_by_one)
    assert [words(result) for result in side_by_side] == [words(result) for result in one_by_one]


def test_no_words_are_invented_in_a_long_silence(transcriber, jfk_mono):
    silence = np.zeros(20 * SAMPLE_RATE, dtype=np.float32)
    words = [w for s in transcriber.transcribe(np.concatenate([jfk_mono, silence, jfk_mono])).segments for w in s.words]
    assert not [w for w in words if 11.5 < w.start < 30.5], "words placed in the silent gap"
    # Both copies are still transcribed, each whole (int8 decoding may vary a word between runs).
    for part in ([w for w in words if w.start <= 11.5], [w for w in words if w.start >= 30.5]):
        assert word_error_rate("".join(w.text for w in part), JFK_TEXT) <= JFK_WER


def test_noise_without_speech_gives_no_words(transcriber):
    noise = (np.random.default_rng(0).standard_normal(10 * SAMPLE_RATE) * 0.01).astype(np.float32)
    assert transcriber.transcribe(noise).segments == []


def test_default_model_is_the_bundled_tiny_en():
    path = bundled_model_path()
    assert path is not None and (path / "model.bin").is_file()
    assert resolve_model("tiny.en") == str(path)


def test_model_directory_and_hub_names_are_passed_on(tmp_path):
    assert resolve_model(str(bundled_model_path())) == str(bundled_model_path())
    assert resolve_model("Systran/faster-whisper-small") == "Systran/faster-whisper-small"
    assert resolve_model("small") == "small"
    (tmp_path / "empty-model").mkdir()
    with pytest.raises(ModelError, match="has no model.bin"):
        resolve_model(str(tmp_path / "empty-model"))
    with pytest.raises(ModelError, match="not found"):
        resolve_model("./no/such/model")


def _hub_cache(root, repo: str):
    """A Hugging Face hub cache holding `repo`, as a download would have left it."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("0123abcd")
    shutil.copytree(bundled_model_path(), folder / "snapshots" / "0123abcd")


def test_hub_name_loads_through_the_hub_client(offline_hub_cache, jfk_mono):
    # Users with a network name hub models; here the hub client finds the model in its cache.
    _hub_cache(offline_hub_cache, "Systran/faster-whisper-tiny.en")
    transcriber = FasterWhisperTranscriber(TranscriptionOptions(model="Systran/faster-whisper-tiny.en"))
    words = [w for s in transcriber.transcribe(jfk_mono).segments for w in s.words]
    assert word_error_rate("".join(w.text for w in words), JFK_TEXT) <= JFK_WER


def test_unavailable_hub_model_is_a_one_line_error(tmp_path, offline_hub_cache):
    result = CliRunner().invoke(main, ["analyze", str(JFK), "--out", str(tmp_path / "out"), "--model", "small"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "error" in line]
    assert lines == [lines[0]] and lines[0].startswith("callscope: error: cannot load Whisper model 'small'")
    assert "Traceback" not in result.output


def test_unavailable_model_with_parallel_jobs_stops_with_one_line(tmp_path, offline_hub_cache):
    calls = tmp_path / "calls"
    calls.mkdir()
    for name in ("a.flac", "b.flac"):
        shutil.copy(JFK, calls / name)
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(tmp_path / "out"), "--jobs", "2",
                                       "--model", "small"])
    assert result.exit_code == 2
    assert "callscope: error: cannot load Whisper model 'small'" in result.output
    assert "Traceback" not in result.output
