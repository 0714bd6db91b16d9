"""Turn rules, talk time, loudness, file-name metadata and the output schema."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import numpy as np
import pytest

from callscope.analytics.loudness import loudness_per_second
from callscope.analytics.talk_time import non_talk_periods, speaker_talk_time
from callscope.metadata import metadata_from_filename
from callscope.model import TimeSpan, Word
from callscope.options import FilenameMetadataOptions, TurnOptions
from callscope.output.pca import validation_errors
from callscope.turns import build_turns, split_at_pauses
from tests.conftest import PCA_REFERENCE_JSON


def _words(speaker: str, *spans: tuple[float, float]) -> list[Word]:
    return [Word(f" w{index}", start, end, 0.9, speaker) for index, (start, end) in enumerate(spans)]


def test_same_speaker_segments_merge_only_under_three_seconds():
    agent = split_at_pauses(_words("spk_1", (0, 1), (3.5, 4), (7.5, 8)), pause_secs=1.0)
    assert len(agent) == 3
    turns = build_turns(agent, TurnOptions())
    # 1.0 → 3.5 is 2.5 s: merged; 4.0 → 7.5 is 3.5 s: a new turn
    assert [(turn.start, turn.end) for turn in turns] == [(0, 4), (7.5, 8)]


def test_other_speaker_in_between_prevents_merging():
    segments = split_at_pauses(_words("spk_1", (0, 1), (2.5, 3)), 1.0) + split_at_pauses(_words("spk_0", (1.2, 2)), 1.0)
    turns = build_turns(segments, TurnOptions())
    assert [turn.speaker for turn in turns] == ["spk_1", "spk_0", "spk_1"]


def test_mono_segments_are_not_merged():
    segments = split_at_pauses(_words("spk_0", (0, 1), (2.5, 3)), 1.0)
    assert len(build_turns(segments, TurnOptions(), merge=False)) == 2


def test_interruption_needs_the_other_speaker_mid_word():
    first = split_at_pauses(_words("spk_1", (0, 1), (1, 2.0)), 1.0)
    barge_in = split_at_pauses(_words("spk_0", (1.5, 2.5)), 1.0)  # 0.5 s before spk_1 finishes its word
    polite = split_at_pauses(_words("spk_0", (1.95, 2.5)), 1.0)  # 0.05 s overlap: word-timing jitter
    assert [t.interruption for t in build_turns(first + barge_in, TurnOptions())] == [False, True]
    assert [t.interruption for t in build_turns(first + polite, TurnOptions())] == [False, False]


def test_talk_time_and_non_talk_time():
    words = _words("spk_1", (1, 2), (2.3, 3)) + _words("spk_0", (6, 7))
    talk = speaker_talk_time(words, ["spk_0", "spk_1"], pause_secs=1.0)
    assert talk == {"spk_0": pytest.approx(1.0), "spk_1": pytest.approx(2.0)}
    quiet = non_talk_periods(words, duration=10.0, min_secs=2.0)
    # 0-1 is shorter than 2 s; 3-6 and 7-10 count
    assert quiet == [TimeSpan(3, 6), TimeSpan(7, 10.0)]


def test_loudness_is_db_above_minus_100_dbfs_per_second():
    rate = 16000
    tone = 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 440 * np.arange(rate * 2) / rate)  # RMS 0.1 = -20 dBFS
    signal = np.concatenate([tone, np.zeros(rate)]).astype(np.float32)
    scores = loudness_per_second(signal, 0.5, 3.0)
    assert scores[0] == pytest.approx(80.0, abs=0.05)
    assert scores[1] == pytest.approx(80.0 - 20 * np.log10(np.sqrt(2)), abs=0.1)  # half tone, half silence
    assert scores[2] == 0.0  # the last, partial second is digital silence
    assert len(scores) == 3
    assert loudness_per_second(signal, 2.0, 3.0) == [0.0]


def test_filename_metadata_in_the_reference_convention():
    name = "Auto0_GUID_000_AGENT_ChrisL_CUST_C1234_DT_2025-02-19T06-01-22_Mono.wav"
    metadata = metadata_from_filename(name, "ab" * 32)
    assert (metadata.guid, metadata.agent, metadata.customer) == ("000", "ChrisL", "C1234")
    assert metadata.conversation_time == datetime(2025, 2, 19, 6, 1, 22)


def test_filename_metadata_patterns_are_configurable_and_guid_falls_back_to_content():
    options = FilenameMetadataOptions(agent_pattern=r"agent-([a-z]+)", datetime_pattern=r"(\d{8})",
                                      datetime_format="%Y%m%d")
    metadata = metadata_from_filename("call_agent-maria_20240131.mp3", "cd" * 32, options)
    assert metadata.agent == "maria" and metadata.conversation_time == datetime(2024, 1, 31)
    again = metadata_from_filename("other-name.wav", "cd" * 32, options)
    assert metadata.guid == again.guid != metadata_from_filename("x.wav", "ef" * 32, options).guid


def test_impossible_date_in_a_name_is_ignored():
    assert metadata_from_filename("x_2025-13-45T99-00-00.wav", "00" * 32).conversation_time is None


def test_reference_output_validates_against_the_shipped_schema():
    assert validation_errors(json.loads(PCA_REFERENCE_JSON.read_text())) == []


@pytest.mark.parametrize(
    "path, value",
    [
        (("SpeechSegments", 0, "SegmentSpeaker"), "speaker1"),
        (("SpeechSegments", 0, "TextEdited"), "no"),
        (("ConversationAnalytics", "Duration"), 28.67),
        (("SpeechSegments", 1, "WordConfidence", 0, "Confidence"), 1.5),
        (("ConversationAnalytics", "SentimentTrends", "spk_0", "SentimentPerQuarter", 0, "Quarter"), 5),
        (("SpeechSegments", 0, "SegmentSpeakr"), "spk_0"),
    ],
)
def test_schema_rejects_broken_documents(path, value):
    document = copy.deepcopy(json.loads(PCA_REFERENCE_JSON.read_text()))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert validation_errors(document)


def test_schema_ships_inside_the_package():
    from importlib import resources

    assert resources.files("callscope.schemas").joinpath("pca.schema.json").is_file()
