"""The embedded diarizer on real speech, scored against the gold reference of the pyannote sample."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pyannote.core import Annotation, Segment

from callscope.audio.decode import decode
from callscope.cli import main
from callscope.evaluation.diarization import DiarizationScorer
from callscope.evaluation.rttm import read_rttm
from callscope.speakers.diarization import SpeakerCount
from tests.conftest import DATA, JFK, PYANNOTE_SAMPLE


@pytest.fixture(scope="module")
def diarizer():
    from callscope.speakers.embedded import EmbeddedDiarizer

    return EmbeddedDiarizer(threads=2)


@pytest.fixture(scope="module")
def sample():
    return decode(PYANNOTE_SAMPLE).samples[0]


def _score(segments):
    (reference,) = read_rttm(DATA / "pyannote_sample" / "sample.rttm").values()
    hypothesis = Annotation()
    for segment in segments:
        hypothesis[Segment(segment.start, segment.end)] = segment.speaker
    return {score.collar: score for score in DiarizationScorer().add(reference, hypothesis)}


def test_der_on_the_gold_sample_is_under_ten_percent(diarizer, sample):
    segments = diarizer.diarize(sample, SpeakerCount(exact=2))
    assert {segment.speaker for segment in segments} == {"SPEAKER_00", "SPEAKER_01"}
    scores = _score(segments)
    assert scores[0.0].der < 0.10, scores[0.0]
    assert scores[0.25].der < scores[0.0].der


def test_automatic_count_finds_the_two_speakers(diarizer, sample):
    segments = diarizer.diarize(sample, SpeakerCount(exact=None, minimum=1, maximum=4))
    assert len({segment.speaker for segment in segments}) == 2
    assert _score(segments)[0.0].der < 0.10


def test_overlapped_speech_yields_two_speakers_at_once(diarizer, sample):
    segments = diarizer.diarize(sample, SpeakerCount(exact=2))
    overlaps = [
        (a, b) for a in segments for b in segments
        if a.speaker < b.speaker and min(a.end, b.end) - max(a.start, b.start) > 0.2
    ]
    assert overlaps, "the sample has overlapped speech (see sample.rttm) and the segmentation model marks it"


def test_silence_and_too_short_audio_give_no_speakers(diarizer):
    import numpy as np

    assert diarizer.diarize(np.zeros(100, np.float32)) == []
    assert diarizer.diarize(np.zeros(16000 * 12, np.float32)) == []


def test_speaker_count_options_are_checked(tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(JFK), "--out", str(tmp_path), "--speakers", "two"])
    assert result.exit_code == 2 and "not a number" in result.output
    result = CliRunner().invoke(
        main, ["analyze", str(JFK), "--out", str(tmp_path), "--speakers", "auto", "--min-speakers", "3", "--max-speakers", "2"]
    )
    assert result.exit_code == 2 and "1 <= min <= max" in result.output
