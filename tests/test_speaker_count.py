"""`--speakers auto` on real speech: meetings of three and of two real people.

Each meeting is cut from recordings of different people (JFK; the English half of
multilingual.mp3; Sheila of the pyannote sample, where her gold turns say she speaks alone), taking
turns with 0.4 s pauses, each utterance at the same level. The automatic count takes one more
speaker while every two voices are less alike than 0.84 (0.95 for the second) and, from the third
on, each speaks 2.5 s alone (embedded.CountCriterion). Margins measured on an AMD EPYC: in the
three-people meeting the three voices are at most 0.56 alike (bar 0.84) and a fourth would be 0.95
alike to one of them; in the two-people meeting the two are 0.54 alike (bar 0.95) and a third would
be 0.95 alike (bar 0.84). These meetings were picked for that margin: JFK + MIT alone, or JFK +
Sheila, give a third voice 0.83-0.84 alike, right at the bar (docs/BENCHMARKS.md, "Counting
speakers"). The pyannote sample itself is tests/test_diarization.py's.
"""

from __future__ import annotations

import numpy as np
import pytest

from callscope.audio.decode import SAMPLE_RATE, decode
from callscope.speakers.diarization import SpeakerCount
from tests.conftest import DATA, JFK, PYANNOTE_SAMPLE

MULTILINGUAL = DATA / "faster_whisper_tests" / "multilingual.mp3"
# Utterances (seconds) of one speaker each: JFK's four phrases (Silero VAD), the MIT licence read
# in English cut in 4 s pieces, Sheila's turns of sample.rttm where Diane is silent.
JFK_SPANS = [(0.29, 2.27), (3.30, 4.38), (5.41, 7.65), (8.19, 10.53)]
MIT_SPANS = [(1.8, 5.8), (5.8, 9.8), (9.8, 13.8), (13.8, 17.8)]
SHEILA_SPANS = [(14.70, 17.92), (21.78, 24.80), (24.80, 27.85), (7.55, 8.32)]


@pytest.fixture(scope="module")
def diarizer():
    from callscope.speakers.embedded import EmbeddedDiarizer

    return EmbeddedDiarizer(threads=2)


def _utterances(path, spans: list[tuple[float, float]]) -> list[np.ndarray]:
    samples = decode(path).samples[0]
    return [samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)] for start, end in spans]


def _meeting(voices: list[list[np.ndarray]], pause_secs: float = 0.4, level_db: float = -26.0) -> np.ndarray:
    """The voices taking turns (first utterance of each, then the second, ...), at one level."""
    pause = np.zeros(int(pause_secs * SAMPLE_RATE), np.float32)
    parts = [pause]
    for turn in range(max(len(utterances) for utterances in voices)):
        for utterances in voices:
            if turn < len(utterances):
                piece = utterances[turn].astype(np.float64)
                piece *= 10 ** (level_db / 20) / (np.sqrt(np.mean(piece**2)) + 1e-12)
                parts += [piece.astype(np.float32), pause]
    return np.concatenate(parts)


def test_auto_finds_the_three_people_of_a_meeting(diarizer):
    meeting = _meeting([
        _utterances(JFK, JFK_SPANS), _utterances(MULTILINGUAL, MIT_SPANS), _utterances(PYANNOTE_SAMPLE, SHEILA_SPANS)
    ])
    auto = {segment.speaker for segment in diarizer.diarize(meeting, SpeakerCount(exact=None))}
    assert len(auto) == 3, auto


def test_auto_finds_the_two_people_of_a_conversation(diarizer):
    conversation = _meeting([_utterances(MULTILINGUAL, MIT_SPANS), _utterances(PYANNOTE_SAMPLE, SHEILA_SPANS)])
    auto = {segment.speaker for segment in diarizer.diarize(conversation, SpeakerCount(exact=None))}
    assert len(auto) == 2, auto


def test_count_bounds_are_kept(diarizer):
    meeting = _meeting([_utterances(MULTILINGUAL, MIT_SPANS), _utterances(JFK, JFK_SPANS)])
    at_least_three = {segment.speaker for segment in diarizer.diarize(meeting, SpeakerCount(None, 3, 6))}
    at_most_one = {segment.speaker for segment in diarizer.diarize(meeting, SpeakerCount(None, 1, 1))}
    assert len(at_least_three) == 3 and len(at_most_one) == 1
