"""The accuracy lab on real recordings through real models: `callscope eval asr`, the leaderboard in a real
SQLite file, custom vocabularies (Transcribe tables and word lists) and self-heal.

tiny.en's words differ a little between processors, so what the model path is asked holds on every
machine (bounds, agreement between output, files and lab); what depends on exact words (which terms
self-heal learns, whether they win) is judged on words frozen from one run (conftest.FROZEN)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner
from spacy.lang.en.stop_words import STOP_WORDS

from callscope.accuracy.evaluate import evaluate
from callscope.accuracy.lab import Lab
from callscope.accuracy.references import find_labelled, read_reference
from callscope.accuracy.scoring import score_recording
from callscope.accuracy.self_heal import judge, learn_vocabulary
from callscope.accuracy.systems import AsrSettings
from callscope.audio.decode import decode
from callscope.audio.wav import write_wav
from callscope.cli import main
from callscope.evaluation.words import ReferenceSegment
from callscope.options import TranscriptionOptions
from callscope.transcription.base import RecognisedWord
from callscope.transcription.vocabulary import VocabularyError, apply_display_forms, load_vocabulary, vocabulary_of
from callscope.transcription.whisper import FasterWhisperTranscriber
from tests.conftest import DATA, FROZEN, JFK, PYANNOTE_SAMPLE

SVG = {"svg": "http://www.w3.org/2000/svg"}

HOTWORDS = DATA / "faster_whisper_tests" / "hotwords.mp3"
CV_SAMPLE = DATA / "lca_auto_repairs" / "cv-sample.txt"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
# hotwords.mp3 says "Then you go into your ComfyUI folder again in the ComfyUI" (4 s); cut at 2.2 s, between
# "folder" and "again", it makes two recordings of one domain: one to learn from, one held out.
HOTWORD_HALVES = [("hotwords_1", 0.0, 2.2, "Then you go into your ComfyUI folder"),
                  ("hotwords_2", 2.2, 4.0, "again in the ComfyUI.")]
HELD_OUT = "hotwords_2"  # self-heal learns from the others and is judged on this one too


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    return make_labelled(tmp_path_factory.mktemp("labelled"))


def make_labelled(folder: Path) -> Path:
    """Four labelled recordings (and one without a reference) in `folder`; also what
    tests/data/self_heal/freeze.py transcribes."""
    shutil.copy(JFK, folder / JFK.name)
    (folder / "jfk.txt").write_text(JFK_TEXT + "\n")
    shutil.copy(PYANNOTE_SAMPLE, folder / "sample.wav")
    shutil.copy(PYANNOTE_SAMPLE.with_suffix(".stm"), folder / "sample.stm")
    mono = decode(HOTWORDS).samples.mean(axis=0)
    for name, start, end, text in HOTWORD_HALVES:
        write_wav(folder / f"{name}.wav", mono[int(start * 16000):int(end * 16000)], 16000)
        (folder / f"{name}.txt").write_text(text + "\n")
    shutil.copy(JFK, folder / "no_reference.flac")  # listed as unlabelled, not scored
    return folder


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


# --- references and scoring ---------------------------------------------------------------------

def test_references_in_stm_srt_and_text_are_found_beside_their_recordings(labelled, tmp_path):
    found = find_labelled(labelled)
    assert [r.name for r in found.recordings] == ["hotwords_1.wav", "hotwords_2.wav", "jfk.flac", "sample.wav"]
    assert [path.name for path in found.unlabelled] == ["no_reference.flac"]
    sample = next(r for r in found.recordings if r.name == "sample.wav")
    assert sample.has_speakers and {s.speaker for s in sample.reference} == {"Diane", "Sheila"}
    (tmp_path / "call.wav").touch()
    (tmp_path / "call.srt").write_text("1\n00:00:01,000 --> 00:00:02,500\nAgent: Hello, <i>how</i> can I help?\n\n"
                                       "2\n00:00:03,000 --> 00:00:04,000\nCustomer: My card is lost.\n")
    srt = read_reference(tmp_path / "call.wav", tmp_path / "call.srt")
    assert [(s.speaker, s.start, s.end, s.text) for s in srt.reference] == [
        ("Agent", 1.0, 2.5, "Hello, how can I help?"), ("Customer", 3.0, 4.0, "My card is lost.")]
    assert srt.has_speakers


def test_a_broken_reference_is_reported_and_the_others_are_scored(tmp_path):
    shutil.copy(JFK, tmp_path / "good.flac")
    (tmp_path / "good.txt").write_text(JFK_TEXT)
    shutil.copy(JFK, tmp_path / "bad.flac")
    (tmp_path / "bad.srt").write_text("1\nno time line here\n")
    found = find_labelled(tmp_path)
    assert [r.name for r in found.recordings] == ["good.flac"]
    assert len(found.problems) == 1 and "bad.srt" in found.problems[0] and "time line" in found.problems[0]


def test_the_normaliser_takes_fillers_as_whole_words_and_keeps_yeah(tmp_path):
    (tmp_path / "a.txt").write_text("Yeah, I'm going to the umbrella stand.")
    reference = read_reference(tmp_path / "a.wav", tmp_path / "a.txt")
    def score(text: str):
        return score_recording([ReferenceSegment("a", "x", 0, 1, text)], reference)

    # "um" is a filler and goes as a whole word; "umbrella" keeps its "um"; "I'm" is "I am".
    assert score("yeah um, I am going to the umbrella stand").wer.errors == 0
    # "yeah" stays "yeah": a system that wrote "ye" made an error (a normaliser that cut fillers out of
    # words would score it right).
    wrong = score("ye I'm going to the brella stand")
    assert wrong.wer.substitutions == 2
    assert [(m.written, m.heard) for m in wrong.misses] == [("Yeah", "ye"), ("umbrella", "brella")]


def test_missed_words_say_what_was_heard_instead_and_where():
    reference = [ReferenceSegment("h", "-", 0, 0, "Then you go into your ComfyUI folder.")]
    from callscope.accuracy.scoring import missed_words

    misses = missed_words([ReferenceSegment("h", "x", 0, 1, "then you go into your comfy eye folder")], reference)
    assert [(m.written, m.kind, m.heard, m.context) for m in misses] == [
        ("ComfyUI", "substituted", "comfy eye", "go into your [comfyui] folder")]


# --- vocabularies -------------------------------------------------------------------------------

def test_the_transcribe_vocabulary_table_is_read():
    vocabulary = load_vocabulary(CV_SAMPLE)
    entries = {entry.display_as: entry for entry in vocabulary.entries}
    assert len(vocabulary) == 30  # 31 rows: "babu" twice, one entry
    assert entries["Babu"].spoken == (("babu",), ("ba", "boo"), ("baboo",)) and entries["Babu"].ipa == "b ɑ b u"
    assert entries["AD&D"].spoken == (("a", "d", "and", "d"),)
    assert entries["policyholder"].spoken == (("policy", "holder"),)
    assert entries["rewards card"].spoken == (("rewards", "card"),)
    assert vocabulary.hotwords().startswith("rewards card, checking account, which account, paid-in, Endowment, Babu")


@pytest.mark.parametrize("content, message", [
    ("Phrase\tSounds\tIPA\tDisplayAs\nrewards-card\t\t\trewards card\n", "line 1: the header must be"),
    ("Phrase\tSoundsLike\tIPA\tDisplayAs\nrewards card\t\t\tRewards\n", "line 2: 'rewards card': a Phrase joins"),
    ("\n\n", "has no entries"),
])
def test_a_bad_vocabulary_is_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "vocab.txt"
    path.write_text(content)
    with pytest.raises(VocabularyError, match=message) as raised:
        load_vocabulary(path)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)
    outcome = _invoke("analyze", str(JFK), "--out", str(tmp_path / "out"), "--vocabulary", str(path))
    assert outcome.exit_code == 2 and message.split(":")[-1].strip()[:20] in outcome.output


def test_recognised_phrases_become_their_display_form_keeping_times():
    words = tuple(RecognisedWord(text, float(i), i + 0.5, 0.9) for i, text in enumerate(
        [" The", " policy", " holder,", " has", " a", " d", " and", " d.", " Ba", " boo", " and", " term", " life."]))
    rewritten = apply_display_forms(words, load_vocabulary(CV_SAMPLE))
    assert "".join(word.text for word in rewritten) == " The policyholder, has AD&D. Babu and Term life."
    policyholder = rewritten[1]
    assert (policyholder.start, policyholder.end) == (1.0, 2.5)  # spans the two words it replaced
    assert [(w.text, w.start) for w in rewritten[-2:]] == [(" Term", 11.0), (" life.", 12.0)]  # word for word


def test_a_vocabulary_makes_whisper_write_the_term_and_changes_nothing_where_it_is_not_said():
    def text(path: Path, vocabulary) -> str:
        transcriber = FasterWhisperTranscriber(TranscriptionOptions(vocabulary=vocabulary))
        mono = decode(path).samples.mean(axis=0)
        return "".join(word.text for segment in transcriber.transcribe(mono).segments for word in segment.words)

    terms = vocabulary_of(["ComfyUI"], "terms.txt")
    assert "ComfyUI" not in text(HOTWORDS, None)
    assert "ComfyUI" in text(HOTWORDS, terms)  # twice here; how often varies with the processor
    # Where the term is not said the plain pass is kept: the hotwords' bias (and the term Whisper
    # copies from its prompt onto the end of a clip) never reaches the transcript.
    assert text(JFK, terms) == text(JFK, None)


# --- eval asr, the leaderboard, self-heal -------------------------------------------------------

@pytest.fixture(scope="module")
def lab_path(labelled, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lab") / "lab.db"
    outcome = _invoke("eval", "asr", str(labelled), "--lab", str(path))
    assert outcome.exit_code == 0, outcome.output
    return path


def test_eval_asr_scores_every_labelled_recording_into_the_lab(lab_path):
    with Lab(lab_path) as lab:
        (config,) = lab.configs()
        results = {row.file: row for row in lab.results(config.id)}
    assert config.label == "tiny.en"
    assert set(results) == {"hotwords_1.wav", "hotwords_2.wav", "jfk.flac", "sample.wav"}
    # Bounds, not exact counts: tiny.en's words vary a little between processors.
    assert results["jfk.flac"].wer.rate <= 0.1 and results["jfk.flac"].wer.reference_words == 22
    sample = results["sample.wav"]
    assert 0.05 < sample.wer.rate < 0.3 and sample.cpwer is not None and sample.cpwer.rate >= sample.wer.rate
    assert results["hotwords_1.wav"].wer.errors >= 1  # "ComfyUI" is not a word tiny.en knows


def test_a_rerun_transcribes_nothing_and_misses_are_kept(labelled, lab_path):
    outcome = _invoke("eval", "asr", str(labelled), "--lab", str(lab_path), "--top", "3")
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.count("reused") == 4 and "scored   " not in outcome.output
    with Lab(lab_path) as lab:
        (config,) = lab.configs()
        counts = Counter(miss.written for _, miss in lab.misses([config.id]))
    assert "ComfyUI" in counts  # tiny.en cannot write it unaided; which other words it misses varies by processor
    # The most missed words shown are the stored misses, counted, most first.
    line = " ".join(outcome.output.split()).split("Most missed reference words: ", 1)[1]
    shown = [(word, int(count)) for word, count in re.findall(r"(?:^|; )(\S+) x(\d+) \(heard:", line)]
    assert len(shown) == 3 and all(counts[word] == count for word, count in shown)
    assert [count for _, count in shown] == sorted(counts.values(), reverse=True)[:3]


def test_the_leaderboard_ranks_configurations_and_says_when_one_is_not_better(labelled, lab_path, tmp_path):
    lab_copy = tmp_path / "lab.db"
    shutil.copy(lab_path, lab_copy)
    worse = _invoke("eval", "asr", str(labelled), "--lab", str(lab_copy), "--beam-size", "1", "--no-vad")
    board = _invoke("leaderboard", "--lab", str(lab_copy), "--json")
    ranked = json.loads(board.output)["ranked"]
    assert [entry["label"] for entry in ranked] in (["tiny.en", "tiny.en beam_size=1 vad=False"],
                                                    ["tiny.en beam_size=1 vad=False", "tiny.en"])
    assert ranked[0]["wer"]["rate"] <= ranked[1]["wer"]["rate"]
    # Which one wins depends on tiny.en's words on this processor (both at 15.83% with generic kernels,
    # a tie the leaderboard breaks by speed); the verdict follows the WERs: a tie is not better.
    rate = {entry["label"]: entry["wer"]["rate"] for entry in ranked}
    if rate["tiny.en beam_size=1 vad=False"] < rate["tiny.en"]:
        assert "better than every past configuration" in worse.output.replace("\n", " ")
    else:
        assert "NOT better than tiny.en" in worse.output.replace("\n", " ")
    # --plot draws the same ranking: one bar per configuration, best first, as long as its WER.
    plotted = _invoke("leaderboard", "--lab", str(lab_copy), "--plot", str(tmp_path / "wer.svg"))
    assert plotted.exit_code == 0, plotted.output
    bars = ElementTree.parse(tmp_path / "wer.svg").getroot().findall(".//svg:g[@class='bar']", SVG)
    assert [bar.find("svg:text", SVG).text for bar in bars] == [entry["label"] for entry in ranked]
    drawn = [float(bar.find("svg:rect", SVG).get("data-wer")) for bar in bars]
    assert drawn == pytest.approx([entry["wer"]["rate"] for entry in ranked], abs=1e-6)
    widths = [float(bar.find("svg:rect", SVG).get("width")) for bar in bars]
    assert widths[0] <= widths[1] and widths[1] == pytest.approx(max(widths))
    refused = _invoke("leaderboard", "--lab", str(lab_copy), "--plot", str(tmp_path / "wer.png"))
    assert refused.exit_code == 2 and "wer.png: the plot is written as SVG" in refused.output


def test_new_audio_updates_every_configuration_scoring_only_what_is_missing(labelled, lab_path, tmp_path):
    folder = tmp_path / "grown"
    shutil.copytree(labelled, folder)
    lab_copy = tmp_path / "lab.db"
    shutil.copy(lab_path, lab_copy)
    assert _invoke("eval", "asr", str(labelled), "--lab", str(lab_copy), "--beam-size", "2").exit_code == 0
    shutil.copy(JFK, folder / "jfk_again.flac")
    (folder / "jfk_again.txt").write_text(JFK_TEXT.replace("Americans", "citizens"))
    outcome = _invoke("leaderboard", "--lab", str(lab_copy), "--update", str(folder))
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.count("scored   jfk_again.flac") == 2  # once per configuration
    assert outcome.output.count("reused") == 8
    assert "Leaderboard over 5 recording(s)" in outcome.output
    with sqlite3.connect(lab_copy) as db:
        assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 10


class FrozenAsr:
    """An AsrSystem that answers with what tiny.en wrote for the labelled recordings on one machine,
    with one vocabulary (FROZEN / self-heal-hypotheses.json; "" for none), so that what self-heal
    learns and keeps is decided on the same words everywhere."""

    def __init__(self, vocabulary: str) -> None:
        self.settings = AsrSettings("frozen", "tiny.en", {"vocabulary": vocabulary})
        self._segments = json.loads((FROZEN / "self-heal-hypotheses.json").read_text())[vocabulary]

    def transcribe(self, audio: Path, sha256: str, speakers: bool) -> list[ReferenceSegment]:
        return [ReferenceSegment(audio.stem, speaker, start, end, text)
                for speaker, start, end, text in self._segments[audio.name]]


def test_self_heal_learns_the_missed_terms_and_keeps_a_vocabulary_only_because_it_wins(labelled, tmp_path):
    recordings = find_labelled(labelled).recordings
    with Lab(tmp_path / "lab.db") as lab:
        base = evaluate(lab, FrozenAsr(""), recordings)
        held_out = {key for name, key in base.key_of.items() if name.startswith(HELD_OUT)}
        train = base.keys - held_out
        learnt = learn_vocabulary(lab, base.config_id, train)
        # Heard as "comfy. I", "fold" and "deep" in the training files. Not learnt: "in" (heard "and": a
        # stop word), words only deleted ("though"), and the held-out file's "curfew eye".
        assert sorted(learnt) == ["ComfyUI", "beep", "folder"]
        outcomes = {}
        for words in (learnt, ["ComfyUI"]):
            healed = evaluate(lab, FrozenAsr(", ".join(words)), recordings)
            outcomes[len(words)] = judge(lab, base.config_id, healed.config_id, train, held_out, words)
        # The same three words judged with sample.wav held out: a gain on the training files does
        # not keep a vocabulary that makes the held-out file worse.
        sample = {base.key_of["sample.wav"]}
        swapped = judge(lab, base.config_id, evaluate(lab, FrozenAsr(", ".join(learnt)), recordings).config_id,
                        base.keys - sample, sample, learnt)
    assert swapped.healed_train.rate < swapped.base_train.rate
    assert swapped.healed_held_out.rate > swapped.base_held_out.rate and not swapped.kept
    everything, comfyui = outcomes[3], outcomes[1]
    # All three right the held-out file, but with them "Neither did I." became "I need the design." in
    # sample.wav, which costs more on the training files than the hotwords files gain: not kept.
    assert everything.healed_held_out.errors == 0 < everything.base_held_out.errors
    assert everything.healed_train.rate > everything.base_train.rate and not everything.kept
    # "ComfyUI" alone changes only the hotwords files ("Another again in the ComfyUI" held out: one
    # error instead of three): better on both sides, kept.
    assert comfyui.healed_train.rate < comfyui.base_train.rate
    assert comfyui.healed_held_out.errors < comfyui.base_held_out.errors and comfyui.kept


def test_eval_heal_writes_the_vocabulary_exactly_when_it_says_it_is_kept(labelled, lab_path, tmp_path):
    """The model path, end to end. What tiny.en misses, so what is learnt and whether it wins, differs
    between processors (judged on frozen words above); on every machine the verdict, the file and the
    lab agree."""
    lab_copy, learnt = tmp_path / "lab.db", tmp_path / "learnt.txt"
    shutil.copy(lab_path, lab_copy)
    outcome = _invoke("eval", "heal", str(labelled), "--held-out", f"{HELD_OUT}*", "--lab", str(lab_copy),
                      "--out", str(learnt))
    assert outcome.exit_code == 0, outcome.output
    text = " ".join(outcome.output.split())
    said = re.search(r"Learnt (\d+) word\(s\): (.*?)(?: \.\.\.)? tiny\.en ", text)
    assert said, text  # tiny.en never writes "ComfyUI" unaided: something is always learnt
    assert "training recordings (3): WER " in text and "held out (1): " in text
    kept = "Kept: the vocabulary wins" in text
    assert kept != ("Not kept: " in text) and learnt.exists() == kept
    with Lab(lab_copy) as lab:
        (healed,) = [config for config in lab.configs() if config.settings.settings["vocabulary"]]
        assert len(lab.results(healed.id)) == 4  # every recording, the held-out one too
    if kept:
        words = learnt.read_text().split("\n")[:-1]
        assert len(words) == int(said[1]) and ", ".join(words[:20]) == said[2]
        assert not STOP_WORDS & {word.lower() for word in words}


def test_self_heal_needs_a_held_out_set_that_is_not_everything(labelled, lab_path):
    outcome = _invoke("eval", "heal", str(labelled), "--held-out", "*.nothing", "--lab", str(lab_path))
    assert outcome.exit_code == 1 and "must match some recordings" in outcome.output


def test_transcribe_engine_needs_a_bucket(labelled, tmp_path):
    outcome = _invoke("eval", "asr", str(labelled), "--engine", "transcribe", "--lab", str(tmp_path / "lab.db"))
    assert outcome.exit_code == 2 and "--engine transcribe needs --s3-bucket" in outcome.output


def test_analyze_with_a_vocabulary_writes_the_term_and_names_the_vocabulary(tmp_path):
    (tmp_path / "terms.txt").write_text("# product names\nComfyUI\n")
    outcome = _invoke("analyze", str(HOTWORDS), "--out", str(tmp_path / "out"), "--vocabulary",
                      str(tmp_path / "terms.txt"), "--diarizer", "none", "-q")
    assert outcome.exit_code == 0, outcome.output
    document = json.loads((tmp_path / "out" / "hotwords.json").read_text())
    assert "ComfyUI" in " ".join(segment["OriginalText"] for segment in document["SpeechSegments"])
    info = document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]
    assert info["VocabularyName"] == "terms.txt"


def test_a_recording_that_cannot_be_read_is_one_line_and_the_others_are_ranked(tmp_path):
    shutil.copy(JFK, tmp_path / "jfk.flac")
    (tmp_path / "jfk.txt").write_text(JFK_TEXT)
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "broken.txt").write_text("hello there")
    outcome = _invoke("eval", "asr", str(tmp_path), "--lab", str(tmp_path / "lab.db"), "--diarizer", "none")
    assert outcome.exit_code == 1 and "Traceback" not in outcome.output
    failed = [line for line in outcome.output.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and failed[0].count("broken.wav") == 1 and "not a readable audio file" in failed[0]
    assert re.search(r"WER \d+\.\d\d%: the only configuration scored on these recordings so far", outcome.output)
