"""WER and speaker-attributed cpWER of the real pipeline's transcript of the pyannote sample."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.evaluation.words import (
    ReferenceSegment,
    evaluate_words,
    read_pca_hypothesis,
    read_stm,
    score_transcript,
    segments_from_conversation,
)
from tests.conftest import DATA, PYANNOTE_SAMPLE

SAMPLE_STM = DATA / "pyannote_sample" / "sample.stm"


@pytest.fixture(scope="module")
def conversation(transcriber):
    """sample.wav through analyze_call with the session's tiny.en and the embedded diarizer."""
    from callscope.analysis.call import analyze_call
    from callscope.speakers.embedded import EmbeddedDiarizer

    return analyze_call(PYANNOTE_SAMPLE, transcriber, diarizer=EmbeddedDiarizer(threads=2))


@pytest.fixture(scope="module")
def pca_json(conversation, tmp_path_factory):
    """The PCA JSON the pipeline writes for that call: `<out>/sample.json`."""
    from callscope.output.writers import write_outputs

    stem = tmp_path_factory.mktemp("out") / "sample"
    write_outputs(conversation, stem)
    return stem.with_suffix(".json")


def test_read_stm_on_the_sample():
    segments = read_stm(SAMPLE_STM)
    assert len(segments) == 13
    assert segments[0] == ReferenceSegment("sample", "Diane", 6.68, 7.16, "Hello?")
    assert segments[-1] == ReferenceSegment(
        "sample", "Diane", 28.445, 29.987, "Oh, I don't hear that in New Jersey now.")
    assert {segment.speaker for segment in segments} == {"Diane", "Sheila"}
    assert all(segment.session == "sample" for segment in segments)


def test_stm_labels_comments_and_excluded_regions(tmp_path):
    stm = tmp_path / "call.stm"
    stm.write_text(";; a comment\n\ncall A spk1 0 1.5 <o,f0,female> Hello there\n"
                   "call A excluded_region 1.5 2 ignore_time_segment_in_scoring\ncall B spk2 2 3\n")
    assert read_stm(stm) == [ReferenceSegment("call", "spk1", 0.0, 1.5, "Hello there"),
                             ReferenceSegment("call", "spk2", 2.0, 3.0, "")]


def test_reference_against_itself_and_relabelled(tmp_path):
    reference = read_stm(SAMPLE_STM)
    perfect = score_transcript(reference, reference)
    assert perfect.wer.errors == perfect.cpwer.errors == 0 and perfect.wer.reference_words == 87
    renamed = [dataclasses.replace(s, speaker={"Diane": "spk_1", "Sheila": "spk_0"}[s.speaker]) for s in reference]
    score = score_transcript(renamed, reference)
    assert score.cpwer.errors == 0 and score.speaker_assignment == (("spk_0", "Sheila"), ("spk_1", "Diane"))


def test_pipeline_transcript_scores_wer_and_cpwer(conversation):
    reference = read_stm(SAMPLE_STM)
    hypothesis = segments_from_conversation(conversation)
    assert {segment.speaker for segment in hypothesis} == {"spk_0", "spk_1"}
    score = score_transcript(hypothesis, reference)
    print(f"WER {score.wer} cpWER {score.cpwer} {score.speaker_assignment}")
    assert score.wer.reference_words == score.cpwer.reference_words == 87
    assert 0 < score.wer.rate < 0.35
    assert score.cpwer.rate >= score.wer.rate
    assert score.wer.errors == score.wer.substitutions + score.wer.deletions + score.wer.insertions
    assert {reference for _, reference in score.speaker_assignment} == {"Diane", "Sheila"}
    assert score.missed_speakers == score.false_alarm_speakers == ()

    # cpWER does not care what the speakers are called ...
    swap = {"spk_0": "spk_1", "spk_1": "spk_0"}
    swapped = score_transcript([dataclasses.replace(s, speaker=swap[s.speaker]) for s in hypothesis], reference)
    assert swapped.cpwer == score.cpwer and swapped.wer == score.wer
    assert swapped.speaker_assignment == tuple(sorted((swap[h], r) for h, r in score.speaker_assignment))

    # ... but it does who said what: one speaker for everything leaves the other's words unmatched.
    merged = score_transcript([dataclasses.replace(s, speaker="spk_0") for s in hypothesis], reference)
    assert merged.wer == score.wer
    assert merged.cpwer.rate > score.wer.rate + 0.3
    assert len(merged.missed_speakers) == 1


def test_cli_on_the_pipelines_pca_json(pca_json, conversation, tmp_path):
    # The JSON carries what the pipeline's turns say, times rounded to the millisecond.
    assert read_pca_hypothesis(pca_json) == [dataclasses.replace(s, start=round(s.start, 3), end=round(s.end, 3))
                                             for s in segments_from_conversation(conversation)]
    report_path = tmp_path / "words.json"
    result = CliRunner().invoke(main, ["eval", "words", str(pca_json), str(SAMPLE_STM), "--json", str(report_path)])
    assert result.exit_code == 0, result.output
    assert "WER" in result.output and "cpWER" in result.output and "Diane" in result.output
    expected = score_transcript(segments_from_conversation(conversation), read_stm(SAMPLE_STM))
    document = json.loads(report_path.read_text())
    assert document["files"][0]["file_id"] == "sample"
    assert document["pooled"]["wer"]["rate"] == pytest.approx(expected.wer.rate)
    assert document["pooled"]["cpwer"]["rate"] == pytest.approx(expected.cpwer.rate)
    assert f"{100 * expected.cpwer.rate:.2f}" in result.output


def test_folders_pair_by_name_and_pool(pca_json, tmp_path):
    hyps, refs = tmp_path / "hyp", tmp_path / "ref"
    (hyps / ".callscope").mkdir(parents=True)
    refs.mkdir()
    (hyps / "sample.json").write_text(pca_json.read_text())
    (hyps / ".callscope" / "state.json").write_text("{}")  # callscope's state folder is not a hypothesis
    (hyps / "other.json").write_text(pca_json.read_text())
    (refs / "sample.stm").write_text(SAMPLE_STM.read_text())
    (refs / "third.stm").write_text(SAMPLE_STM.read_text().replace("sample ", "third "))
    report = evaluate_words(hyps, refs)
    assert [item.file_id for item in report.files] == ["sample"]
    assert report.pooled_cpwer == report.files[0].score.cpwer
    assert [entry.file_id for entry in report.unmatched_hypotheses] == ["other"]
    assert [entry.file_id for entry in report.unmatched_references] == ["third"]


def test_malformed_stm_is_one_line_error_naming_file_and_line(pca_json, tmp_path):
    bad = tmp_path / "bad.stm"
    bad.write_text("sample 1 Diane 6.68 7.16 Hello?\nsample 1 Sheila seven 8.155 Hello?\n")
    result = CliRunner().invoke(main, ["eval", "words", str(pca_json), str(bad)])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0, result.output
    assert f"{bad}:2:" in result.output and "start 'seven' is not a number" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_bad_hypothesis_and_missing_inputs_exit_2(tmp_path):
    (tmp_path / "folder").mkdir()
    not_pca = tmp_path / "sample.json"
    not_pca.write_text('{"ConversationAnalytics": {}}')
    for args, message in (([str(not_pca), str(SAMPLE_STM)], "no SpeechSegments"),
                          ([str(tmp_path / "nope.json"), str(SAMPLE_STM)], "no such file or folder"),
                          ([str(tmp_path / "folder"), str(SAMPLE_STM)], "give two files or two folders")):
        result = CliRunner().invoke(main, ["eval", "words", *args])
        assert result.exit_code == 2 and message in result.output, result.output
