"""PII: spoken forms found, other numbers kept, every output file redacted, audio silenced,
and the Amazon Comprehend backend's request and offset mapping."""

from __future__ import annotations

import json
import logging
import wave

import numpy as np
import pytest

from callscope.enrichment import enrich
from callscope.enrichment.pii import PiiRedactor, PiiSpan, detect_pii, redact_words, redacted_time_spans
from callscope.enrichment.pii.base import WordText, split_words
from callscope.enrichment.pii.comprehend import ComprehendPiiDetector
from callscope.enrichment.pii.spoken import normalise
from callscope.enrichment.pii_audio import merge_spans, write_redacted_audio
from callscope.enrichment.text_pieces import split_with_offsets
from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word
from callscope.output.writers import SERIALIZERS
from tests.conftest import AUTO_REPAIRS, DEMO_CALL


@pytest.fixture(scope="module")
def detector():
    """presidio with the spaCy model, loaded once for the module (a few seconds)."""
    from callscope.enrichment.pii.local import LocalPiiDetector

    return LocalPiiDetector()


def _pii_words(detector, *turns: str) -> list[set[str]]:
    """Each turn's redacted words (stripped), detected with the turns as one call."""
    words = [split_words(turn) for turn in turns]
    found = detector.detect(words)
    return [{turn_words[index].strip() for span in spans for index in range(span.first, span.last + 1)}
            for turn_words, spans in zip(words, found)]


# --- the normaliser (no model needed) -------------------------------------------------------------

@pytest.mark.parametrize("spoken, written", [
    ("four one one one, one one one one", "4111 1111"),
    ("two oh six, double four nine, triple seven one", "206 449 7771"),
    ("It expires oh nine twenty six.", "It expires 0926."),
    ("March third, nineteen eighty five", "March 3rd 1985"),
    ("one hundred and twelve dollars", "112 dollars"),
    ("Sure, it's K O W A L S K I.", "Sure, it's Kowalski."),
    ("D as in David, U, A, R, T as in Tom, E.", "Duarte."),
    ("It's david dash lee at company dot net.", "It's david-lee@company.net."),
    ("Ben dot harris ninety one at gmail dot com", "ben.harris91@gmail.com"),
    ("Oh, okay. B R O O K S", "Oh, okay. Brooks"),
])
def test_spoken_forms_are_normalised(spoken, written):
    assert normalise(spoken).text == written


def test_normalised_offsets_map_back_to_the_original_words():
    original = " My card is four one one one, one one one one please."
    normalised = normalise(original)
    begin = normalised.text.index("4111")
    end = begin + len("4111 1111")
    first, last = normalised.original_range(begin, end)
    assert original[first:last] == "four one one one, one one one one"
    text = WordText(split_words(original))
    assert [text.words[index] for index in text.words_in(first, last)][0] == " four"


def test_glued_whisper_words_are_taken_whole():
    # Whisper spells a name as " D", "-A", "-V": a span over part of them takes them all.
    text = WordText([" it's", " D", "-A", "-V", "-E", " okay"])
    assert list(text.words_in(text.text.index("A"), text.text.index("V") + 1)) == [1, 2, 3, 4]


# --- detection -----------------------------------------------------------------------------------

@pytest.mark.parametrize("turn, pii", [
    ("Yeah, it's four one one one, one one one one, one one one one, one one one one.",
     "four one one one, one one one one, one one one one, one one one one.".split()),
    ("My email is david dash lee at company dot net.", "david dash lee at company dot net.".split()),
    ("Call me at two oh six, double four nine, triple seven one.",
     "two oh six, double four nine, triple seven one.".split()),
    ("Sure, my social is five one two, four four, eight eight seven six.",
     "five one two, four four, eight eight seven six.".split()),
    ("My date of birth is March third, nineteen eighty five.", "March third, nineteen eighty five.".split()),
    ("It expires oh nine twenty six.", "oh nine twenty six.".split()),
    ("It's one twenty three Main Street, Springfield, Illinois, six two seven oh four.",
     "one twenty three Main Street, Springfield, Illinois, six two seven oh four.".split()),
    ("Hi, my name is David Lee and I have a question.", {"David", "Lee"}),
    ("hi my name is peter schmidt and i need to update my card", {"peter", "schmidt"}),
])
def test_spoken_pii_is_found(detector, turn, pii):
    assert _pii_words(detector, turn)[0] == set(pii)


def test_context_from_the_previous_turn(detector):
    found = _pii_words(detector, "And the last four of your social?", "Two two four one.",
                       "Can you spell your last name?", "Sure, it's d a v i d s o n.",
                       "And the CVV on the back?", "Seven three eight.")
    assert found == [set(), {"Two", "two", "four", "one."}, set(), {"d", "a", "v", "i", "s", "o", "n."},
                     set(), {"Seven", "three", "eight."}]


def test_a_name_found_once_is_redacted_wherever_it_is_said(detector):
    """The auto-repairs call as tiny.en wrote it on one processor: the surname after "My last name is"
    is not found in its own turn, "Mr. Tilly" two turns on is; every capitalised mention goes."""
    found = _pii_words(detector, "Oh, I'm so sorry. Jack, what was your last name?",
                       "Thank you. Sure. My last name is that's the Tilly",
                       "Okay, wonderful. Thank you, Mr. Tilly. We can see the tilly fields too.")
    assert "Tilly" in found[1] and "Tilly." in found[2]
    assert "tilly" not in found[2]  # lower case: a word, not the name
    assert {"Sure.", "Thank", "you."}.isdisjoint(found[1])


@pytest.mark.parametrize("turn", [
    "I see a charge of forty nine ninety nine from yesterday at three fifteen PM.",
    "Press one for billing or two for technical support.",
    "I see order number four five seven eight nine two, twelve units at nineteen ninety nine each.",
    "We're open until nine PM Eastern, and from eight to five on weekends.",
    "Your plan is the 500 megabit plan at 79 dollars a month, installed in 2019.",
    "Oh, okay. I ordered twelve units though, not three.",
    "Then it's ten percent off, so one hundred and eight per user per year.",
])
def test_numbers_that_are_not_pii_are_kept(detector, turn):
    assert _pii_words(detector, turn) == [set()]


# --- redaction of a whole conversation -------------------------------------------------------------

_CALL = [
    ("spk_1", "Thank you for calling Northwind Bank, my name is Jessica."),
    ("spk_0", "Hi, this is Robert Alvarez, my card is four one one one, one one one one, one one one one, "
              "one one one one."),
    ("spk_1", "And your email?"),
    ("spk_0", "It's robert dot alvarez at fabrikam dot com."),
    ("spk_1", "And the last four of your social?"),
    ("spk_0", "Two two four one. I also bought twelve units at nineteen ninety nine."),
]
_SECRETS = ["Jessica", "Robert", "Alvarez", "four one one one", "fabrikam", "Two two four one"]


def _conversation() -> Conversation:
    turns, clock = [], 0.0
    for speaker, text in _CALL:
        words = []
        for word in split_words(" " + text):
            words.append(Word(word, clock, clock + 0.25, 0.9, speaker))
            clock += 0.3
        turns.append(Turn(speaker, words))
        clock += 1.0
    source = AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, clock)
    return Conversation(source, [Speaker("spk_0", Role.CUSTOMER, 0), Speaker("spk_1", Role.AGENT, 1)], turns, "en")


def test_redaction_removes_pii_from_every_output_file(detector, caplog):
    conversation = _conversation()
    caplog.set_level(logging.DEBUG)
    enrich(conversation, [PiiRedactor(detector)])
    assert conversation.redacted and conversation.enrichment["pii"] == "local:presidio+spoken"
    for suffix, serialize in SERIALIZERS.items():
        output = serialize(conversation)
        for secret in _SECRETS:
            assert secret.lower() not in output.lower(), f"{secret!r} survives in {suffix}"
    assert "[PII]" in SERIALIZERS[".txt"](conversation)
    document = json.loads(SERIALIZERS[".json"](conversation))
    assert document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["RedactedTranscript"] is True
    # What is not PII stays, and nothing logged the original text.
    assert "twelve units at nineteen ninety nine." in conversation.turns[-1].text
    assert not any(secret.lower() in caplog.text.lower() for secret in _SECRETS)


def test_consecutive_pii_words_become_one_token_with_their_times(detector):
    conversation = _conversation()
    card_turn = conversation.turns[1]
    first, last = card_turn.words[8], card_turn.words[23]  # " four" ... " one."
    PiiRedactor(detector, token="[{type}]").enrich(conversation)
    texts = [word.text for word in conversation.turns[1].words]
    assert texts == [" Hi,", " this", " is", " [NAME],", " my", " card", " is", " [CREDIT_DEBIT_NUMBER]."]
    card = conversation.turns[1].words[-1]
    assert (card.start, card.end) == (first.start, last.end)
    assert (first.start, last.end) in redacted_time_spans(conversation, "[{type}]")
    assert redacted_time_spans(conversation) == []  # no "[PII]" words


def test_detect_only_leaves_the_text_and_carries_no_pii(detector):
    conversation = _conversation()
    before = [turn.text for turn in conversation.turns]
    findings = detect_pii(conversation, detector)
    assert [turn.text for turn in conversation.turns] == before and not conversation.redacted
    assert {finding.type for finding in findings} >= {"NAME", "CREDIT_DEBIT_NUMBER", "EMAIL", "SSN"}
    assert all(finding.start < finding.end for finding in findings)
    assert not any(secret.lower() in repr(findings).lower() for secret in _SECRETS)


def test_translations_are_redacted_too(detector):
    conversation = _conversation()
    conversation.turns[3].translation = "My email is robert dot alvarez at fabrikam dot com, thanks."
    PiiRedactor(detector).enrich(conversation)
    assert conversation.turns[3].translation == "My email is [PII], thanks."


def test_redact_words_keeps_spacing_and_punctuation():
    texts = [" It's", " D", "-A", "-V", "-E.", " Thanks."]
    words = [Word(text, index, index + 0.5, 0.9, "spk_0") for index, text in enumerate(texts)]
    redacted = redact_words(words, [PiiSpan("NAME", 1, 4, 0.9)])
    assert [word.text for word in redacted] == [" It's", " [PII].", " Thanks."]
    assert (redacted[1].start, redacted[1].end) == (1, 4.5)


# --- audio ----------------------------------------------------------------------------------------

def _read_wav(path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as stream:
        samples = np.frombuffer(stream.readframes(stream.getnframes()), dtype="<i2")
        return samples.reshape(-1, stream.getnchannels()).T, stream.getframerate()


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


SPANS = [(12.4, 13.1), (40.0, 41.5), (41.52, 42.0)]


def test_audio_redaction_silences_the_spans_on_every_channel(tmp_path):
    result = write_redacted_audio(AUTO_REPAIRS, SPANS, tmp_path / "redacted.wav")
    original, rate = _read_wav(AUTO_REPAIRS)
    redacted, redacted_rate = _read_wav(result.path)
    assert (redacted_rate, redacted.shape) == (rate, original.shape) == (8000, (2, original.shape[1]))
    # Padded by 50 ms; spans that then touch are merged.
    assert [bound for span in result.spans for bound in span] == pytest.approx([12.35, 13.15, 39.95, 42.05])
    inside = np.zeros(original.shape[1], dtype=bool)
    for start, end in result.spans:
        inside[round(start * rate):round(end * rate)] = True
        assert _rms(original[:, round(start * rate):round(end * rate)]) > 50  # there was sound to remove
    assert _rms(redacted[:, inside]) == 0.0
    assert np.array_equal(redacted[:, ~inside], original[:, ~inside])


def test_audio_redaction_beeps_an_mp3_at_its_own_sample_rate(tmp_path):
    import av

    result = write_redacted_audio(DEMO_CALL, [(5.0, 6.0)], tmp_path / "redacted.wav", mode="beep", padding=0.0)
    redacted, rate = _read_wav(result.path)
    with av.open(str(DEMO_CALL)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16p", layout="stereo", rate=stream.codec_context.sample_rate)
        original = np.concatenate([out.to_ndarray() for frame in container.decode(stream)
                                   for out in resampler.resample(frame)], axis=1)
    assert rate == 8000 and redacted.shape[0] == 2
    beep = redacted[:, 5 * rate:6 * rate].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(beep[0]))
    assert np.fft.rfftfreq(rate, 1 / rate)[spectrum.argmax()] == pytest.approx(1000, abs=2)
    assert _rms(beep) == pytest.approx(0.3 * 32767 / np.sqrt(2), rel=0.01)
    assert np.array_equal(redacted[:, :5 * rate], original[:, :5 * rate])
    assert np.array_equal(redacted[:, 6 * rate:original.shape[1]], original[:, 6 * rate:])


def test_a_redacted_conversation_silences_its_recording(detector, tmp_path):
    from dataclasses import replace

    from callscope.enrichment.pii_audio import redact_audio

    conversation = _conversation()
    conversation.source = replace(conversation.source, path=str(AUTO_REPAIRS))
    PiiRedactor(detector).enrich(conversation)
    result = redact_audio(conversation, tmp_path / "call.redacted.wav")
    assert len(result.spans) >= 4  # names, card, e-mail, last four
    redacted, rate = _read_wav(result.path)
    for start, end in redacted_time_spans(conversation):
        assert _rms(redacted[:, round(start * rate):round(end * rate)]) == 0.0


def test_merge_spans_pads_and_joins():
    assert merge_spans([(2.0, 3.0), (0.02, 0.5), (3.05, 4.0)], padding=0.05) == [(0.0, 0.55), (1.95, 4.05)]


# --- Amazon Comprehend ---------------------------------------------------------------------------

@pytest.fixture
def comprehend():
    import botocore.session
    from botocore.stub import Stubber

    session = botocore.session.get_session()
    client = session.create_client("comprehend", region_name="us-east-1", aws_access_key_id="testing",
                                   aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


def test_comprehend_request_and_offsets_map_to_words(comprehend):
    client, stubber = comprehend
    words = [" My", " name", " is", " Maria", " Lopez,", " born", " on", " May", " 3rd,", " 1985.", " Call",
             " Monday."]
    text = "My name is Maria Lopez, born on May 3rd, 1985. Call Monday."
    def entity(kind: str, covered: str, score: float) -> dict:
        return {"Score": score, "Type": kind, "BeginOffset": text.index(covered),
                "EndOffset": text.index(covered) + len(covered)}

    stubber.add_response("detect_pii_entities", {"Entities": [
        entity("NAME", "Maria Lopez", 0.99), entity("DATE_TIME", "May 3rd, 1985", 0.98),
        entity("DATE_TIME", "Monday", 0.97),  # a plain date: kept
        {"Score": 0.2, "Type": "PHONE", "BeginOffset": 0, "EndOffset": 2},  # below min_score
    ]}, expected_params={"Text": text, "LanguageCode": "en"})
    spans = ComprehendPiiDetector(client).detect([words])
    assert spans == [[PiiSpan("NAME", 3, 4, 0.99), PiiSpan("DATE_OF_BIRTH", 7, 9, 0.98)]]


def test_comprehend_redacts_a_conversation_the_same_way(comprehend):
    client, stubber = comprehend
    conversation = _conversation()
    for turn in conversation.turns:
        text = turn.text
        entities = []
        if "Alvarez" in text:
            entities.append({"Score": 0.9, "Type": "NAME", "BeginOffset": text.index("Robert"),
                             "EndOffset": text.index("Alvarez") + len("Alvarez")})
        stubber.add_response("detect_pii_entities", {"Entities": entities},
                             expected_params={"Text": text, "LanguageCode": "en"})
    PiiRedactor(ComprehendPiiDetector(client)).enrich(conversation)
    assert conversation.turns[1].text.startswith("Hi, this is [PII], my card")
    assert conversation.redacted


def test_comprehend_text_limit_splits_at_whitespace():
    text = "  " + "word " * 30 + "é" * 3
    chunks = split_with_offsets(text, limit=40)
    assert all(len(chunk.encode("utf-8")) <= 40 for _, chunk in chunks)
    assert all(text[offset:offset + len(chunk)] == chunk for offset, chunk in chunks)
    assert " ".join(chunk for _, chunk in chunks) == text.strip()


def test_comprehend_refuses_unsupported_languages():
    with pytest.raises(ValueError, match="en, es only"):
        ComprehendPiiDetector(client=object(), language="de")


def test_a_missing_spacy_model_is_a_one_line_error():
    from callscope.enrichment.pii.local import LocalPiiDetector, LocalPiiOptions
    from callscope.errors import ModelError

    with pytest.raises(ModelError) as error:
        LocalPiiDetector(LocalPiiOptions(spacy_model="no_such_spacy_model"))
    assert "\n" not in str(error.value)
