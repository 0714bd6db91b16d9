"""Every word gets a speaker; which speaker of a mono call is the agent."""

from __future__ import annotations

import json

import pytest

from callscope.inputs.load import load_transcript
from callscope.model import Role, Turn, Word
from callscope.speakers.assign import SpeakerSegment, assign_speakers
from callscope.speakers.roles import RolePhrases, detect_roles
from tests.conftest import FROZEN_AUTO_REPAIRS, FROZEN_DEMO_CALL, FROZEN_PCA_MONO


def _word(start: float, end: float, text: str = " w") -> Word:
    return Word(text, start, end, 0.9, "")


def test_each_word_goes_to_the_speaker_overlapping_it_most():
    segments = [SpeakerSegment(0.0, 2.0, "A"), SpeakerSegment(1.8, 4.0, "B")]
    words = assign_speakers([_word(0.5, 1.0), _word(1.7, 2.4), _word(3.0, 3.5)], segments)
    assert [word.speaker for word in words] == ["A", "B", "B"]


def test_words_outside_every_segment_go_to_the_nearest_one():
    segments = [SpeakerSegment(1.0, 2.0, "A"), SpeakerSegment(10.0, 12.0, "B")]
    words = assign_speakers([_word(0.0, 0.4), _word(2.5, 3.0), _word(8.0, 9.5), _word(20.0, 21.0)], segments)
    assert [word.speaker for word in words] == ["A", "A", "B", "B"]
    assert all(word.speaker for word in words)


def test_long_segments_before_a_word_are_still_found():
    segments = [SpeakerSegment(0.0, 100.0, "A")] + [SpeakerSegment(t, t + 0.5, "B") for t in range(5, 95, 5)]
    assert assign_speakers([_word(97.0, 97.5)], segments)[0].speaker == "A"


def test_words_in_overlapped_speech_go_to_the_speaker_whose_sentence_goes_on():
    # The PCA mono call at 37.5 s: the agent's segment runs into the customer's "I bought the car last season".
    segments = [SpeakerSegment(35.5, 35.8, "agent"), SpeakerSegment(37.53, 38.44, "agent"),
                SpeakerSegment(37.81, 39.08, "customer")]
    times = [(35.49, 36.15), (37.94, 38.02), (38.02, 38.24), (38.24, 38.42), (38.42, 38.58), (38.58, 38.88),
             (38.88, 39.21)]
    words = assign_speakers([_word(start, end) for start, end in times], segments)
    assert [word.speaker for word in words] == ["agent"] + ["customer"] * 6


def test_overlapped_words_after_a_pause_keep_the_larger_overlap():
    segments = [SpeakerSegment(0.0, 2.0, "A"), SpeakerSegment(1.2, 5.0, "B")]
    words = assign_speakers([_word(1.0, 1.9), _word(3.0, 3.5)], segments)  # 1.1 s pause between the words
    assert [word.speaker for word in words] == ["A", "B"]


def test_assignment_keeps_text_and_times():
    word = Word(" hello", 1.0, 1.4, 0.8, "spk_0")
    (assigned,) = assign_speakers([word], [SpeakerSegment(0.0, 5.0, "spk_1")])
    assert (assigned.text, assigned.start, assigned.end, assigned.confidence, assigned.speaker) == (
        " hello", 1.0, 1.4, 0.8, "spk_1")


@pytest.mark.parametrize("frozen, agent", [(FROZEN_AUTO_REPAIRS, "spk_1"), (FROZEN_DEMO_CALL, "spk_1"),
                                           (FROZEN_PCA_MONO, "spk_0")], ids=["auto-repairs", "demo-call", "pca-mono"])
def test_agent_is_found_from_what_they_say_on_real_calls(frozen, agent):
    # Real transcripts, frozen (tiny.en's words vary between processors), whose truth is known: the
    # stereo calls' agent channel is spk_1; in the diarized mono call spk_0 answers "Thank you for
    # calling big Jim's auto. This is Travis." The detector sees only the text.
    customer = "spk_0" if agent == "spk_1" else "spk_1"
    decision = detect_roles(load_transcript(frozen).turns, ["spk_0", "spk_1"])
    assert decision.roles == {agent: Role.AGENT, customer: Role.CUSTOMER}
    assert decision.confidence > 0.9
    assert "agent: thank you for calling" in decision.evidence[agent]


def _turn(speaker: str, start: float, text: str) -> Turn:
    words = [Word(f" {token}", start + i * 0.3, start + i * 0.3 + 0.25, 0.9, speaker)
             for i, token in enumerate(text.split())]
    return Turn(speaker, words)


def test_roles_do_not_depend_on_who_speaks_first():
    turns = [
        _turn("spk_0", 0.0, "Hello?"),
        _turn("spk_1", 2.0, "Hi, this is Dana from Acme, thank you for calling, how can I help you today?"),
        _turn("spk_0", 8.0, "I'm calling because I was charged twice on my bill."),
    ]
    decision = detect_roles(turns, ["spk_0", "spk_1"])
    assert decision.roles == {"spk_0": Role.CUSTOMER, "spk_1": Role.AGENT}


def test_without_evidence_the_first_speaker_is_the_agent_with_low_confidence():
    turns = [_turn("spk_1", 0.0, "Good morning."), _turn("spk_0", 2.0, "Morning.")]
    decision = detect_roles(turns, ["spk_0", "spk_1"])
    assert decision.roles == {"spk_0": Role.CUSTOMER, "spk_1": Role.AGENT}
    assert decision.confidence == 0.5


def test_phrases_and_company_names_are_configurable(tmp_path):
    phrases_file = tmp_path / "phrases.json"
    phrases_file.write_text(json.dumps({"agent": {"welcome to": 2.0}, "customer": {}, "company_names": ["Globex"]}))
    phrases = RolePhrases.load(phrases_file)
    turns = [_turn("spk_0", 0.0, "Welcome to Globex support."), _turn("spk_1", 3.0, "Thank you for calling me back.")]
    assert detect_roles(turns, ["spk_0", "spk_1"], phrases).roles["spk_0"] == Role.AGENT
    # with the shipped phrases, "thank you for calling" wins instead
    assert detect_roles(turns, ["spk_0", "spk_1"]).roles["spk_1"] == Role.AGENT


def test_single_speaker_has_no_role():
    decision = detect_roles([_turn("spk_0", 0.0, "Thank you for calling.")], ["spk_0"])
    assert decision.roles == {"spk_0": Role.UNKNOWN}


def test_inferred_roles_and_confidence_appear_in_the_pca_document():
    from callscope.model import AudioSource, Conversation, Speaker
    from callscope.output.pca import to_pca, validation_errors
    from callscope.speakers.roles import apply_roles

    turns = [
        _turn("spk_0", 0.0, "Thank you for calling Acme, how can I help?"),
        _turn("spk_1", 4.0, "I'm calling because my card was stolen."),
    ]
    speakers = [Speaker("spk_0", Role.UNKNOWN), Speaker("spk_1", Role.UNKNOWN)]
    speakers = apply_roles(speakers, detect_roles(turns, ["spk_0", "spk_1"]))
    source = AudioSource("call.wav", "00" * 32, "wav", "pcm_s16le", 8000, 1, 10.0)
    document = to_pca(Conversation(source=source, speakers=speakers, turns=turns, language="en",
                                   speaker_separation="diarization"))
    labels = document["ConversationAnalytics"]["SpeakerLabels"]
    assert [(label["Speaker"], label["DisplayText"]) for label in labels] == [("spk_0", "Agent"), ("spk_1", "Customer")]
    assert all(0.5 < label["RoleConfidence"] <= 1 for label in labels)
    assert "agent: thank you for calling" in labels[0]["RoleEvidence"]
    assert validation_errors(document) == []
