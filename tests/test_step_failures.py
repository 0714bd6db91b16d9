"""A SageMaker step whose calls mostly fail fails itself (--max-failed-fraction, the pipelines'
MaxFailedFraction), after listing every failure; below the bound it lists them and succeeds."""

from __future__ import annotations

import json

import pytest

from callscope.sagemaker_steps import diarize
from callscope.sagemaker_steps.bundle import CallBundle
from callscope.sagemaker_steps.contract import ROOT_VARIABLE
from tests.conftest import JFK

PROCESSING = ("opt", "ml", "processing")


@pytest.fixture
def two_broken_of_three(tmp_path, monkeypatch):
    bundles = tmp_path.joinpath(*PROCESSING, "input", "bundles")
    bundles.mkdir(parents=True)
    CallBundle("good.flac", JFK.read_bytes()).write(bundles)
    for name in ("broken-1.wav", "broken-2.wav"):
        CallBundle(name, b"RIFF\x00\x00\x00\x00WAVEnot audio at all").write(bundles)
    monkeypatch.setenv(ROOT_VARIABLE, str(tmp_path))
    return tmp_path.joinpath(*PROCESSING, "output", "bundles")


def test_more_failed_calls_than_allowed_fail_the_step_in_one_line(two_broken_of_three, capsys):
    with pytest.raises(SystemExit) as stopped:
        diarize.main(["--diarizer", "none"])  # the default bound: half the calls
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error == ("callscope: error: diarize: 2 of 3 calls failed, more than --max-failed-fraction 0.5 allows "
                     "(failures-diarize-local.jsonl)")
    listed = (two_broken_of_three / "failures-diarize-local.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["file"] for line in listed) == ["broken-1.wav", "broken-2.wav"]


def test_within_the_bound_the_step_lists_its_failures_and_succeeds(two_broken_of_three, capsys):
    diarize.main(["--diarizer", "none", "--max-failed-fraction", "0.7"])
    assert "1 done, 0 already done, 2 failed" in capsys.readouterr().out
    assert [path.name for path in two_broken_of_three.glob("*.call.tar")] == ["good.flac.call.tar"]
