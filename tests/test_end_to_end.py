"""The two calls the first issue names, through the real CLI and the bundled tiny.en model.

tiny.en's words differ a little between processors: what is asked of them here holds on every machine
(each side's words are close to that side's frozen transcript, conftest.FROZEN); tests of the text
rules on these calls read the frozen transcripts themselves."""

from __future__ import annotations

import json
import math
import re

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.model import Role
from callscope.output.pca import validation_errors
from tests.asr_checks import joined, side_texts, word_error_rate
from tests.conftest import (
    AUTO_REPAIRS,
    DEMO_CALL,
    FROZEN_AUTO_REPAIRS,
    FROZEN_DEMO_CALL,
    FROZEN_PCA_MONO,
    JFK,
    PCA_MONO,
)

CALLS = {"auto": AUTO_REPAIRS, "demo": DEMO_CALL}
FROZEN = {"auto": FROZEN_AUTO_REPAIRS, "demo": FROZEN_DEMO_CALL}
# A side's words against the frozen transcript: this machine's differ by a few words from those
# (0 where they were written), the other side's are another text (WER about 0.9 and more).
# The frozen sides are tiny.en's words on one machine with the transcription settings of the time;
# since issue 15's settings (levelled VAD, faster-whisper's VAD silences) the noisy customer side of
# the demo call differs from them by 0.39 (and from the agent's side by 0.92), so the bound is 0.5.
SAME_SIDE_WER = 0.5


@pytest.fixture(scope="module")
def analyzed(stereo_calls_analyzed):
    return stereo_calls_analyzed


def _document(out, key):
    return json.loads((out / f"{CALLS[key].stem}.json").read_text())


def _spoken(segments: list[dict]) -> list[dict]:
    """The segments with words: speech the recogniser gave no words for is a segment too (SpeechWithoutWords)."""
    return [segment for segment in segments if not segment.get("SpeechWithoutWords")]


@pytest.mark.parametrize("key", CALLS)
def test_every_output_is_written(analyzed, key):
    out, _ = analyzed
    for suffix in (".json", ".rttm", ".srt", ".vtt", ".txt"):
        assert (out / f"{CALLS[key].stem}{suffix}").stat().st_size > 0


@pytest.mark.parametrize("key", CALLS)
def test_pca_document_matches_schema(analyzed, key):
    out, _ = analyzed
    assert validation_errors(_document(out, key)) == []


@pytest.mark.parametrize("key", CALLS)
def test_channels_become_agent_and_customer(analyzed, key):
    document = _document(analyzed[0], key)
    labels = {item["Speaker"]: item["DisplayText"] for item in document["ConversationAnalytics"]["SpeakerLabels"]}
    # channel 0 is the customer, channel 1 the agent; spk_N is channel N
    assert labels == {"spk_0": "Customer", "spk_1": "Agent"}
    segments = document["SpeechSegments"]
    assert {segment["SegmentSpeaker"] for segment in segments} == {"spk_0", "spk_1"}
    starts = [segment["SegmentStartTime"] for segment in segments]
    assert starts == sorted(starts)
    # Both calls open with the agent's greeting, then the customer answers.
    assert _spoken(segments)[0]["SegmentSpeaker"] == "spk_1"
    assert _spoken(segments)[1]["SegmentSpeaker"] == "spk_0"


@pytest.mark.parametrize("key", CALLS)
def test_each_channels_words_land_on_its_side(analyzed, key):
    segments = _document(analyzed[0], key)["SpeechSegments"]
    expected = side_texts(FROZEN[key])
    for label, role, other in (("spk_0", Role.CUSTOMER, Role.AGENT), ("spk_1", Role.AGENT, Role.CUSTOMER)):
        said = joined(segment["OriginalText"] for segment in segments if segment["SegmentSpeaker"] == label)
        assert word_error_rate(said, expected[role]) < SAME_SIDE_WER < word_error_rate(said, expected[other]), role


@pytest.mark.parametrize("key", CALLS)
def test_same_speaker_segments_are_merged_under_three_seconds(analyzed, key):
    segments = _spoken(_document(analyzed[0], key)["SpeechSegments"])
    for previous, current in zip(segments, segments[1:]):
        if previous["SegmentSpeaker"] == current["SegmentSpeaker"]:
            assert current["SegmentStartTime"] - previous["SegmentEndTime"] >= 3.0


@pytest.mark.parametrize("key", CALLS)
def test_turn_analytics_are_computed_from_audio_and_words(analyzed, key):
    document = _document(analyzed[0], key)
    analytics = document["ConversationAnalytics"]
    duration = float(analytics["Duration"])
    assert duration == pytest.approx({"auto": 245.38, "demo": 275.39}[key], abs=0.05)
    for segment in document["SpeechSegments"]:
        length = segment["SegmentEndTime"] - segment["SegmentStartTime"]
        # one loudness score per started second, speech well above the silence floor
        assert len(segment["LoudnessScores"]) == max(1, math.ceil(length - 1e-6))
        assert max(segment["LoudnessScores"]) > 40
        words = segment["WordConfidence"]
        assert "".join(word["Text"] for word in words) == segment["OriginalText"]
        assert segment.get("SpeechWithoutWords") or not words[0]["Text"].startswith(" ")
        assert all(0.0 <= w["Confidence"] <= 1.0 and w["StartTime"] <= w["EndTime"] for w in words)
    confidences = [w["Confidence"] for s in document["SpeechSegments"] for w in s["WordConfidence"]]
    job = analytics["SourceInformation"][0]["TranscribeJobInfo"]
    assert job["AverageWordConfidence"] == pytest.approx(sum(confidences) / len(confidences), abs=1e-3)
    assert job["ChannelIdentification"] == 1 and job["MediaSampleRateHertz"] == 8000

    talk = analytics["SpeakerTime"]
    assert 30 < talk["spk_0"]["TotalTimeSecs"] < duration and 30 < talk["spk_1"]["TotalTimeSecs"] < duration
    quiet = talk["NonTalkTime"]
    assert quiet["TotalTimeSecs"] == pytest.approx(sum(i["DurationSecs"] for i in quiet["Instances"]), abs=0.01)
    for instance in quiet["Instances"]:
        assert instance["DurationSecs"] >= 2.0
        # nobody says a word inside a quiet period
        for segment in document["SpeechSegments"]:
            for word in segment["WordConfidence"]:
                assert word["EndTime"] <= instance["BeginOffsetSecs"] or word["StartTime"] >= instance["EndOffsetSecs"]


def test_interruptions_start_inside_the_other_speakers_words(analyzed):
    segments = _document(analyzed[0], "demo")["SpeechSegments"]
    interrupting = [s for s in segments if s["SegmentInterruption"]]
    assert interrupting, "the demo call has overlapping speech"
    for segment in interrupting:
        others = [w for s in segments if s["SegmentSpeaker"] != segment["SegmentSpeaker"] for w in s["WordConfidence"]]
        start = segment["SegmentStartTime"]
        assert any(w["StartTime"] < start and w["EndTime"] - start >= 0.2 for w in others)


def test_every_turn_gets_sentiment_that_agrees_with_its_flags_and_trends(analyzed):
    document = _document(analyzed[0], "demo")
    segments = document["SpeechSegments"]
    scored = [s for s in segments if s["BaseSentimentScores"] != []]
    # Turns under 8 characters get no sentiment (the reference's rule); all others do.
    assert scored == [s for s in segments if len(s["OriginalText"]) >= 8]
    for segment in scored:
        base = segment["BaseSentimentScores"]
        assert abs(sum(base.values()) - 5.0) < 0.01  # probabilities scaled by 5
        polar = segment["SentimentScore"] >= 2.0
        assert segment["SentimentIsPositive"] + segment["SentimentIsNegative"] == int(polar)
        if segment["SentimentIsNegative"]:
            assert segment["SentimentScore"] == base["Negative"]
        elif segment["SentimentIsPositive"]:
            assert segment["SentimentScore"] == base["Positive"]
    # Five clearly negative turns (up to 4.4 of 5) and eight category rules fire on this machine: a
    # few words' difference on another cannot take them all away.
    assert any(s["SentimentIsNegative"] for s in scored), "a lost-card call with no negative turn"
    trends = document["ConversationAnalytics"]["SentimentTrends"]
    assert set(trends) == {"spk_0", "spk_1"}
    for trend in trends.values():
        assert [q["Quarter"] for q in trend["SentimentPerQuarter"]] == [1, 2, 3, 4]
        assert -5.0 <= trend["SentimentScore"] <= 5.0
    assert document["ConversationAnalytics"]["CategoriesDetected"], "no default category rule fired"


def test_side_outputs_agree_with_the_pca_document(analyzed):
    out, _ = analyzed
    stem = CALLS["demo"].stem
    document = _document(out, "demo")
    lines = (out / f"{stem}.txt").read_text().splitlines()
    assert len(lines) == len(_spoken(document["SpeechSegments"]))
    assert lines[0].startswith("Agent: ") and lines[1].startswith("Customer: ")

    rttm = [line.split() for line in (out / f"{stem}.rttm").read_text().splitlines()]
    assert {row[7] for row in rttm} == {"spk_0", "spk_1"}
    assert all(row[0] == "SPEAKER" and row[1] == stem and float(row[4]) > 0 for row in rttm)

    vtt = (out / f"{stem}.vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n")
    cue_times = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})", vtt)
    assert len(cue_times) >= len(document["SpeechSegments"])
    srt = (out / f"{stem}.srt").read_text()
    assert srt.startswith("1\n00:00:0") and " --> " in srt and "Agent: " in srt


@pytest.fixture(scope="module")
def mono_call(tmp_path_factory):
    out = tmp_path_factory.mktemp("mono")
    result = CliRunner().invoke(main, ["analyze", str(PCA_MONO), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / f"{PCA_MONO.stem}.json").read_text())


def test_mono_call_is_diarized_into_agent_and_customer(mono_call):
    analytics = mono_call["ConversationAnalytics"]
    labels = {label["Speaker"]: label for label in analytics["SpeakerLabels"]}
    assert {label["DisplayText"] for label in labels.values()} == {"Agent", "Customer"}
    agent = next(label for label in labels.values() if label["DisplayText"] == "Agent")
    assert agent["RoleConfidence"] > 0.5 and agent["RoleEvidence"]  # found from what was said, not a guess
    segments = _spoken(mono_call["SpeechSegments"])
    assert {segment["SegmentSpeaker"] for segment in segments} == set(labels)
    # Diarization and roles together put each party's words on its side (the frozen transcript's
    # sides; tests/test_speaker_roles.py checks the roles on those words).
    expected = side_texts(FROZEN_PCA_MONO)
    for role, other in ((Role.AGENT, Role.CUSTOMER), (Role.CUSTOMER, Role.AGENT)):
        said = joined(segment["OriginalText"] for segment in segments
                      if labels[segment["SegmentSpeaker"]]["DisplayText"].upper() == role.value)
        assert word_error_rate(said, expected[role]) < SAME_SIDE_WER < word_error_rate(said, expected[other]), role
    # the agent answers the call ("Thank you for calling big Jim's auto")
    assert segments[0]["SegmentSpeaker"] == agent["Speaker"]
    # speakers alternate: same-speaker neighbours only when 3 s or more apart
    for previous, current in zip(segments, segments[1:]):
        if previous["SegmentSpeaker"] == current["SegmentSpeaker"]:
            assert current["SegmentStartTime"] - previous["SegmentEndTime"] >= 3.0
    talk = analytics["SpeakerTime"]
    assert all(talk[label]["TotalTimeSecs"] > 30 for label in labels)
    assert analytics["SourceInformation"][0]["TranscribeJobInfo"]["ChannelIdentification"] == 0
    assert validation_errors(mono_call) == []


def test_mono_call_metadata_from_the_file_name(mono_call):
    analytics = mono_call["ConversationAnalytics"]
    assert analytics["GUID"] == "000"
    assert analytics["Agent"] == "ChrisL"
    assert analytics["ConversationTime"] == "2025-02-19 06:01:22"


def test_without_diarizer_a_mono_call_has_one_speaker_labelled_as_such(tmp_path):
    result = CliRunner().invoke(main, ["analyze", str(JFK), "--out", str(tmp_path), "--diarizer", "none"])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "jfk.json").read_text())
    assert document["ConversationAnalytics"]["SpeakerLabels"] == [
        {"Speaker": "spk_0", "DisplayText": "Speaker (mono, not diarized)"}
    ]
    assert validation_errors(document) == []
