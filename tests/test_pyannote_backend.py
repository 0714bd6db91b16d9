"""The pyannote.audio diarization backend, run through pyannote.audio itself on real audio.

The pipeline directory is built by tests/pyannote_pipeline_factory.py (pyannote's architectures,
untrained weights: the real ones are gated on the hub). So these tests check what callscope does
with pyannote (loading from a directory, the waveform and speaker counts it passes, telemetry,
errors, how its answer becomes speakers on words), not how well pyannote's models diarize.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from callscope.audio.decode import decode
from callscope.audio.wav import write_wav
from callscope.cli import main
from callscope.errors import ModelError
from callscope.options import PyannoteOptions
from callscope.speakers.diarization import SpeakerCount
from callscope.speakers.pyannote_backend import PyannoteDiarizer, speaker_arguments
from tests.conftest import PYANNOTE_SAMPLE

pytest.importorskip("pyannote.audio", reason="the pyannote extra is not installed")


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory):
    from tests.pyannote_pipeline_factory import build_pipeline_directory

    return build_pipeline_directory(tmp_path_factory.mktemp("pyannote-pipeline"))


@pytest.fixture(scope="module")
def diarizer(pipeline_dir):
    return PyannoteDiarizer(PyannoteOptions(pipeline=str(pipeline_dir)))


@pytest.fixture(scope="module")
def sample():
    """10 s of the pyannote sample in which both speakers talk: one window of the pipeline, quick on CPU."""
    return decode(PYANNOTE_SAMPLE).samples[0][6 * 16000 : 16 * 16000]


@pytest.fixture(scope="module")
def sample_wav(sample, tmp_path_factory):
    return write_wav(tmp_path_factory.mktemp("clip") / "clip.wav", sample, 16000)


class RecordingPipeline:
    """Wraps the real pipeline to see exactly what callscope sends it."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.calls: list[tuple[object, dict]] = []

    def __call__(self, audio, **arguments):
        self.calls.append((audio, arguments))
        return self.pipeline(audio, **arguments)


def test_loads_a_local_directory_with_telemetry_off(diarizer):
    from pyannote.audio.telemetry.metrics import is_metrics_enabled

    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "0"
    assert not is_metrics_enabled()
    assert type(diarizer.pipeline).__name__ == "SpeakerDiarization"


def test_passes_the_waveform_and_the_exact_speaker_count(diarizer, sample, monkeypatch):
    import torch

    recorder = RecordingPipeline(diarizer.pipeline)
    monkeypatch.setattr(diarizer, "pipeline", recorder)
    for speakers in (2, 1):
        segments = diarizer.diarize(sample, SpeakerCount(exact=speakers))
        assert len({segment.speaker for segment in segments}) == speakers
        assert all(0 <= segment.start < segment.end <= len(sample) / 16000 + 0.05 for segment in segments)
    audio, arguments = recorder.calls[0]
    assert {"waveform", "sample_rate"} <= set(audio) and "audio" not in audio  # pre-loaded, never a path
    assert isinstance(audio["waveform"], torch.Tensor) and tuple(audio["waveform"].shape) == (1, len(sample))
    assert audio["sample_rate"] == 16000
    assert arguments == {"num_speakers": 2}
    assert recorder.calls[1][1] == {"num_speakers": 1}


def test_auto_count_passes_the_bounds():
    assert speaker_arguments(SpeakerCount(exact=None, minimum=2, maximum=4)) == {"min_speakers": 2, "max_speakers": 4}


def test_analyze_with_the_pyannote_diarizer_gives_every_word_a_speaker(pipeline_dir, sample_wav, tmp_path):
    result = CliRunner().invoke(main, [
        "analyze", str(sample_wav), "--out", str(tmp_path), "--diarizer", "pyannote",
        "--pyannote-pipeline", str(pipeline_dir), "--speakers", "2",
    ])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "clip.json").read_text())
    segments = document["SpeechSegments"]
    assert segments and {segment["SegmentSpeaker"] for segment in segments} <= {"spk_0", "spk_1"}
    words = [word for segment in segments for word in segment["WordConfidence"]]
    assert words and all("Text" in word for word in words)
    assert document["ConversationAnalytics"]["SpeakerLabels"]
    # Untrained models make every speaker talk all the time, so which one gets the words is arbitrary.
    assert (tmp_path / "clip.rttm").read_text().startswith("SPEAKER clip 1 ")


def test_a_broken_pipeline_directory_is_one_clear_error(tmp_path):
    (tmp_path / "config.yaml").write_text("pipeline: {name: pyannote.audio.pipelines.NoSuchPipeline}\n")
    with pytest.raises(ModelError, match=f"cannot load pyannote pipeline '{tmp_path}'"):
        PyannoteDiarizer(PyannoteOptions(pipeline=str(tmp_path)))


def test_an_unreachable_hub_pipeline_is_one_clear_error(offline_hub_cache):
    with pytest.raises(ModelError) as raised:
        PyannoteDiarizer(PyannoteOptions(pipeline="pyannote/speaker-diarization-community-1"))
    assert "pyannote/speaker-diarization-community-1" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_cli_reports_a_pipeline_that_cannot_load_in_one_line(tmp_path):
    (tmp_path / "pipe").mkdir()
    (tmp_path / "pipe" / "config.yaml").write_text("pipeline: {name: pyannote.audio.pipelines.NoSuchPipeline}\n")
    result = CliRunner().invoke(main, [
        "analyze", str(PYANNOTE_SAMPLE), "--out", str(tmp_path / "out"), "--diarizer", "pyannote",
        "--pyannote-pipeline", str(tmp_path / "pipe"),
    ])
    assert result.exit_code != 0
    assert "cannot load pyannote pipeline" in result.output
    assert "Traceback" not in result.output
