"""The VAD finds the same speech in a loud and a quiet recording (issue 15).

faster-whisper's Silero VAD is level-dependent: on band-passed 8 kHz speech normalised to full scale
(as a phone system's gain leaves many calls) it kept 7-10 s of 30 s of continuous speech, so plain
faster-whisper wrote 69-77% WER on the MIT-licence clip's telephone copies. callscope runs the VAD on
a copy brought to one level (callscope.audio.vad). These tests use bench/devset.py's telephone copies
of real speech; they assert what holds on any processor (seconds of speech kept, a WER bound).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.devset import build_devset
from callscope.audio import vad
from callscope.audio.decode import decode
from tests import conftest
from tests.asr_checks import word_error_rate

TRANSCRIPTION_VAD = {"min_silence_duration_ms": 300}


@pytest.fixture(scope="module")
def devset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("devset")
    build_devset(folder, conftest.DATA, variants=("orig", "mulaw", "u8"))
    return folder


def seconds(chunks: list[vad.SpeechChunk]) -> float:
    return sum(chunk.end - chunk.start for chunk in chunks) / vad.SAMPLE_RATE


def unlevelled_seconds(samples: np.ndarray) -> float:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(np.ascontiguousarray(samples, np.float32), VadOptions(**TRANSCRIPTION_VAD))
    return sum(item["end"] - item["start"] for item in found) / vad.SAMPLE_RATE


@pytest.mark.parametrize("variant", ["mulaw", "u8"])
def test_loud_telephone_speech_is_all_kept(devset: Path, variant: str) -> None:
    clean = decode(devset / "mit_orig.wav").samples[0]
    loud = decode(devset / f"mit_{variant}.wav").samples[0]
    assert float(np.abs(loud).max()) > 0.99  # full scale, as built
    kept, everything = (seconds(vad.speech_chunks(loud, **TRANSCRIPTION_VAD)),
                        seconds(vad.speech_chunks(clean, **TRANSCRIPTION_VAD)))
    assert everything > 27.0  # 30 s of continuous speech
    assert kept >= 0.9 * everything, f"levelled VAD kept {kept:.1f} s of {everything:.1f} s " \
                                     f"(unlevelled: {unlevelled_seconds(loud):.1f} s)"


@pytest.mark.parametrize("name", ["sample_mulaw.wav", "mit_u8.wav", "jfk_orig.flac"])
def test_the_level_of_a_recording_does_not_change_its_speech(devset: Path, name: str) -> None:
    samples = decode(devset / name).samples[0]
    found = {scale: seconds(vad.speech_chunks(samples * scale, **TRANSCRIPTION_VAD)) for scale in (1.0, 0.1, 0.01)}
    assert found[1.0] > 5.0
    assert max(found.values()) - min(found.values()) <= 0.5, found


def test_noise_and_a_tone_stay_without_speech() -> None:
    rng = np.random.default_rng(15)
    time = np.arange(30 * vad.SAMPLE_RATE) / vad.SAMPLE_RATE
    for signal in (0.3 * rng.standard_normal(time.size), 0.5 * np.sin(2 * np.pi * 1000 * time),
                   1e-4 * rng.standard_normal(time.size)):
        assert vad.speech_chunks(signal.astype(np.float32), **TRANSCRIPTION_VAD) == []


def test_a_silent_signal_is_left_as_it_is() -> None:
    assert vad.vad_level_gain(np.zeros(16000, np.float32)) == 1.0
    assert vad.vad_level_gain(np.full(16000, 1e-6, np.float32)) == vad.MAX_GAIN


def test_the_transcriber_hears_the_loud_telephone_copy(devset: Path, transcriber) -> None:
    from bench.devset import MIT_TEXT

    samples = decode(devset / "mit_mulaw.wav").samples[0]
    words = " ".join(word.text for segment in transcriber.transcribe(samples).segments for word in segment.words)
    # Here 2.4%; plain faster-whisper on the same file 76.5% (docs/BENCHMARKS.md).
    assert word_error_rate(words, MIT_TEXT) < 0.2, words
