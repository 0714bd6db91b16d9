"""`callscope eval diarization`: DER and JER of RTTM files through pyannote.metrics."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.evaluation.diarization import evaluate_rttm, score_annotations
from callscope.evaluation.rttm import EvaluationInputError, read_rttm
from tests.conftest import DATA, STEREO_TWO_UTTERANCES

SAMPLE_RTTM = DATA / "pyannote_sample" / "sample.rttm"


def _segments(path=SAMPLE_RTTM) -> list[tuple[str, str, float, float, str]]:
    """(file-id, ..., start, end, speaker) of every SPEAKER line, read with plain string splitting."""
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            rows.append((fields[1], fields[2], start, start + duration, fields[7]))
    return rows


def _write(path, rows) -> None:
    path.write_text("".join(
        f"SPEAKER {file_id} {channel} {start:.3f} {end - start:.3f} <NA> <NA> {speaker} <NA> <NA>\n"
        for file_id, channel, start, end, speaker in rows
    ))


def _merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _length(intervals) -> float:
    return sum(end - start for start, end in intervals)


def _intersection(a, b) -> float:
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def _score(tmp_path, rows, collar=0.0):
    hypothesis = tmp_path / "hypothesis.rttm"
    _write(hypothesis, rows)
    report = evaluate_rttm(hypothesis, SAMPLE_RTTM)
    assert len(report.files) == 1
    return report.files[0].at(collar)


def test_sample_has_two_speakers_with_overlap():
    # The premises of the tests below.
    rows = _segments()
    speakers = {row[4] for row in rows}
    assert len(speakers) == 2
    a, b = (_merge([(s, e) for *_, s, e, spk in rows if spk == name]) for name in sorted(speakers))
    assert _intersection(a, b) > 0.5


def test_reference_against_itself_is_perfect():
    report = evaluate_rttm(SAMPLE_RTTM, SAMPLE_RTTM)
    for score in report.files[0].scores + report.pooled:
        assert score.der == 0 and score.jer == 0
        assert score.miss == score.false_alarm == score.confusion == 0
    expected_speech = sum(end - start for *_, start, end, _ in _segments())
    assert report.pooled_at(0.0).reference_speech_secs == pytest.approx(expected_speech, abs=1e-6)
    # The collar removes scored time around reference boundaries.
    assert report.pooled_at(0.25).reference_speech_secs < expected_speech - 1


def test_swapped_speaker_labels_score_zero(tmp_path):
    rows = _segments()
    names = sorted({row[4] for row in rows})
    swap = {names[0]: names[1], names[1]: names[0]}
    score = _score(tmp_path, [(f, c, s, e, swap[spk]) for f, c, s, e, spk in rows])
    assert score.der == 0 and score.jer == 0


def test_one_speaker_for_everything_confuses_the_second_speakers_own_speech(tmp_path):
    rows = _segments()
    names = sorted({row[4] for row in rows})
    per_speaker = {name: _merge([(s, e) for *_, s, e, spk in rows if spk == name]) for name in names}
    totals = {name: _length(per_speaker[name]) for name in names}
    first, second = sorted(names, key=totals.get, reverse=True)
    overlap = _intersection(per_speaker[first], per_speaker[second])
    reference_speech = totals[first] + totals[second]

    union = _merge([(s, e) for *_, s, e, _ in rows])
    score = _score(tmp_path, [(rows[0][0], "1", s, e, "everyone") for s, e in union])
    # The one hypothesis speaker maps to the first speaker; the second speaker's speech alone is
    # confusion, the second speaker's overlapped speech is missed (one voice found for two).
    assert score.confusion == pytest.approx((totals[second] - overlap) / reference_speech, abs=1e-3)
    assert score.miss == pytest.approx(overlap / reference_speech, abs=1e-3)
    assert score.false_alarm == pytest.approx(0, abs=1e-9)
    assert score.confusion > 0.1


def test_shortened_segments_miss_speech_only_outside_the_collar(tmp_path):
    rows = _segments()
    assert min(end - start for *_, start, end, _ in rows) > 0.2
    shortened = [(f, c, s + 0.1, e - 0.1, spk) for f, c, s, e, spk in rows]
    hypothesis = tmp_path / "hypothesis.rttm"
    _write(hypothesis, shortened)
    report = evaluate_rttm(hypothesis, SAMPLE_RTTM)
    no_collar, collar = report.files[0].at(0.0), report.files[0].at(0.25)
    assert no_collar.miss > 0.05 and no_collar.der > 0.05
    # 0.1 s at each edge is inside the ±0.125 s of a 0.25 collar.
    assert collar.miss == pytest.approx(0, abs=1e-6)
    assert collar.der == pytest.approx(0, abs=1e-6)
    assert collar.false_alarm == pytest.approx(0, abs=1e-6)


def _pooled_der_printed(output: str, collar: str) -> float:
    for line in output.splitlines():
        cells = line.split()
        if "pooled" in line and collar in cells:
            return float(cells[cells.index(collar) + 1])
    # The second pooled row has no name: the line after the pooled line.
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if "pooled" in line)
    cells = lines[index + 1].split()
    assert cells[0] == collar
    return float(cells[1])


def test_cli_file_pair_prints_der_and_writes_the_same_json(tmp_path):
    rows = _segments()
    hypothesis = tmp_path / "hypothesis.rttm"
    _write(hypothesis, [(f, c, s + 0.05, e, spk) for f, c, s, e, spk in rows])
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(main, ["eval", "diarization", str(hypothesis), str(SAMPLE_RTTM), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "DER" in result.output and "JER" in result.output
    document = json.loads(out.read_text())
    assert [file["file_id"] for file in document["files"]] == ["sample"]
    for collar, label in ((0.0, "0"), (0.25, "0.25")):
        (pooled,) = [score for score in document["pooled"]["scores"] if score["collar"] == collar]
        assert _pooled_der_printed(result.output, label) == pytest.approx(100 * pooled["der"], abs=0.006)
    assert document["pooled"]["scores"][0]["der"] > 0.01
    assert document["files"][0]["scores"] == document["pooled"]["scores"]


def test_cli_folder_pair_pools_files_and_lists_unmatched(tmp_path):
    rows = _segments()
    hyp_dir, ref_dir = tmp_path / "hyp", tmp_path / "ref"
    (hyp_dir / "sub").mkdir(parents=True)
    (ref_dir / "sub").mkdir(parents=True)
    # call1: perfect; call2: shortened (missed speech); paired by file-id across sub-folders.
    _write(ref_dir / "call1.rttm", [("call1", *row[1:]) for row in rows])
    _write(hyp_dir / "sub" / "whatever.rttm", [("call1", *row[1:]) for row in rows])
    _write(ref_dir / "sub" / "call2.rttm", [("call2", *row[1:]) for row in rows])
    _write(hyp_dir / "call2.rttm", [("call2", f, s + 0.1, e - 0.1, spk) for _, f, s, e, spk in rows])
    _write(hyp_dir / "stray.rttm", [("stray", "1", 0.0, 1.0, "x")])
    _write(ref_dir / "lonely.rttm", [("lonely", "1", 0.0, 1.0, "y")])
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(main, ["eval", "diarization", str(hyp_dir), str(ref_dir), "--json", str(out)])
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert [file["file_id"] for file in document["files"]] == ["call1", "call2"]
    assert document["pooled"]["files"] == 2
    assert [entry["file_id"] for entry in document["unmatched"]["hypothesis"]] == ["stray"]
    assert [entry["file_id"] for entry in document["unmatched"]["reference"]] == ["lonely"]
    assert "stray" in result.output and "lonely" in result.output and "Not scored" in result.output

    call1, call2 = ([score for score in file["scores"] if score["collar"] == 0.0][0] for file in document["files"])
    pooled = document["pooled"]["scores"][0]
    assert call1["der"] == 0 and call2["miss"] > 0.05
    # Pooled: total error time over total reference speech, not the mean of the rates.
    assert pooled["reference_speech_secs"] == pytest.approx(call1["reference_speech_secs"] * 2)
    assert pooled["der"] == pytest.approx(call2["der"] / 2)
    assert _pooled_der_printed(result.output, "0") == pytest.approx(100 * pooled["der"], abs=0.006)


def test_malformed_rttm_is_one_line_error_naming_file_and_line(tmp_path):
    lines = SAMPLE_RTTM.read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split()[3], "1O.57")  # letter O for zero
    bad = tmp_path / "bad.rttm"
    bad.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["eval", "diarization", str(bad), str(SAMPLE_RTTM)])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    assert f"{bad}:3:" in message and "1O.57" in message
    assert "Traceback" not in result.output

    short = tmp_path / "short.rttm"
    short.write_text("SPEAKER sample 1 0.5\n")
    with pytest.raises(EvaluationInputError, match=re.escape(f"{short}:1:")):
        read_rttm(short)


def test_missing_or_mismatched_inputs_exit_2(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["eval", "diarization", str(tmp_path / "nope.rttm"), str(SAMPLE_RTTM)])
    assert missing.exit_code == 2 and "nope.rttm" in missing.stderr and len(missing.stderr.splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in ([str(empty), str(empty)], [str(tmp_path), str(SAMPLE_RTTM)]):
        result = runner.invoke(main, ["eval", "diarization", *args])
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.output


def test_rttm_written_by_callscope_analyze_scores_perfectly_against_itself(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(STEREO_TWO_UTTERANCES), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    rttm = out / f"{STEREO_TWO_UTTERANCES.stem}.rttm"
    annotations = read_rttm(rttm)
    assert list(annotations) == [STEREO_TWO_UTTERANCES.stem]
    annotation = annotations[STEREO_TWO_UTTERANCES.stem]
    assert len(annotation.labels()) == 2 and annotation.get_timeline().duration() > 1
    for score in score_annotations(annotation, annotation):
        assert score.der == 0 and score.jer == 0 and score.reference_speech_secs > 0
    cli = CliRunner().invoke(main, ["eval", "diarization", str(rttm), str(rttm), "--json", str(tmp_path / "s.json")])
    assert cli.exit_code == 0, cli.output
    assert all(score["der"] == 0 for score in json.loads((tmp_path / "s.json").read_text())["pooled"]["scores"])


def test_cli_plot_draws_reference_and_hypothesis_rows_in_the_mapped_speakers_colours(tmp_path):
    """The sample with its speakers renamed (they map back one-to-one), the last turn given to a third
    speaker: one row each, a rectangle per segment, a renamed speaker in its reference speaker's colour."""
    from xml.etree import ElementTree

    rows = _segments()
    names = {"speaker90": "A", "speaker91": "B"}
    renamed = [(f, c, s, e, names[spk]) for f, c, s, e, spk in rows[:-1]] + [(*rows[-1][:4], "C")]
    hypothesis = tmp_path / "hypothesis.rttm"
    _write(hypothesis, renamed)
    plot = tmp_path / "who.svg"
    result = CliRunner().invoke(main, ["eval", "diarization", str(hypothesis), str(SAMPLE_RTTM), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    svg = {"svg": "http://www.w3.org/2000/svg"}
    drawn = {row.get("data-row"): [(rect.get("data-speaker"), rect.get("fill"))
                                   for rect in row.findall("svg:rect", svg)]
             for row in ElementTree.parse(plot).getroot().findall(".//svg:g[@class='row']", svg)}
    assert [speaker for speaker, _ in drawn["reference"]] == [row[4] for row in rows]
    assert [speaker for speaker, _ in drawn["hypothesis"]] == [row[4] for row in renamed]
    colour = dict(drawn["reference"])
    hypothesis_colour = dict(drawn["hypothesis"])
    assert hypothesis_colour["A"] == colour["speaker90"] and hypothesis_colour["B"] == colour["speaker91"]
    assert colour["speaker90"] != colour["speaker91"] and hypothesis_colour["C"] not in colour.values()


def test_cli_plot_must_be_svg_and_is_refused_before_scoring(tmp_path):
    result = CliRunner().invoke(main, ["eval", "diarization", str(SAMPLE_RTTM), str(SAMPLE_RTTM),
                                       "--plot", str(tmp_path / "who.png")])
    assert result.exit_code == 2
    assert result.output.strip() == f"callscope: error: {tmp_path / 'who.png'}: the plot is written as SVG; " \
                                    "give a file name ending in .svg"
