"""`callscope analyze --redact` on a real call: no PII in any output file, and a copy of the recording
in which the redacted words are silent."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from callscope.audio.decode import SAMPLE_RATE, decode
from callscope.cli import main
from tests.conftest import AUTO_REPAIRS


@pytest.fixture(scope="module")
def redacted(tmp_path_factory, stereo_calls_analyzed):
    calls = tmp_path_factory.mktemp("calls")
    shutil.copy(AUTO_REPAIRS, calls / AUTO_REPAIRS.name)
    out = tmp_path_factory.mktemp("redacted")
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(out), "--redact", "--quiet"])
    assert result.exit_code == 0, result.output
    plain_out, _ = stereo_calls_analyzed
    return out, plain_out


def _names_said(document: dict) -> set[str]:
    """The people's names the unredacted analysis found (its PERSON entities)."""
    return {value for entity in document["ConversationAnalytics"]["CustomEntities"] if entity["Name"] == "PERSON"
            for value in entity["Values"]}


def test_no_name_survives_in_any_output(redacted):
    out, plain_out = redacted
    stem = AUTO_REPAIRS.stem
    plain = json.loads((plain_out / f"{stem}.json").read_text())
    names = _names_said(plain)
    assert names, "the unredacted call should mention people by name"
    document = json.loads((out / f"{stem}.json").read_text())
    assert document["ConversationAnalytics"]["SourceInformation"][0]["TranscribeJobInfo"]["RedactedTranscript"] is True
    assert "[PII]" in (out / f"{stem}.txt").read_text()
    for suffix in (".json", ".txt", ".srt", ".vtt", ".rttm"):
        text = (out / f"{stem}{suffix}").read_text()
        leaked = [name for name in names if re.search(rf"\b{re.escape(name)}\b", text)]
        assert not leaked, f"{suffix} still says {leaked}"


def test_the_redacted_recording_is_silent_where_the_pii_was(redacted):
    out, _ = redacted
    stem = AUTO_REPAIRS.stem
    document = json.loads((out / f"{stem}.json").read_text())
    spans = sorted((word["StartTime"], word["EndTime"]) for segment in document["SpeechSegments"]
                   for word in segment["WordConfidence"] if "[PII]" in word["Text"])
    assert spans
    original = decode(AUTO_REPAIRS).samples
    copy = decode(out / f"{stem}.redacted.wav").samples
    assert copy.shape == original.shape
    for start, end in spans:
        window = slice(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE))
        assert np.abs(copy[:, window]).max() < 1e-3, (start, end)
    # Between two redactions (clear of the padding) the recording is unchanged, up to 16-bit rounding.
    start, end = max(((a_end + 0.2, b_start - 0.2) for (_, a_end), (b_start, _) in zip(spans, spans[1:])),
                     key=lambda gap: gap[1] - gap[0])
    window = slice(int(start * SAMPLE_RATE), int(end * SAMPLE_RATE))
    assert end - start > 2 and np.abs(copy[:, window] - original[:, window]).max() < 1e-3
