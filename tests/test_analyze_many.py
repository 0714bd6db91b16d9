"""The UI-free batch (callscope.analysis.batch.analyze_many) and the one-call entry point
(callscope.analysis.call.analyze): chats and transcripts, recordings alike, with what a UI draws from."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from callscope.analysis.batch import analyze_many, discover
from callscope.flags import options_from_values
from callscope.options import Backend, EnrichmentOptions
from tests.conftest import JFK

FIXTURES = Path(__file__).parent / "data" / "chat_inputs"
# Only what the test is about: no diarizer, no enrichment.
FAST = replace(options_from_values({"diarizer": "none"}), enrichment=EnrichmentOptions(
    sentiment=Backend.NONE, entities=Backend.NONE, issues=Backend.NONE, categories=Backend.NONE))


def test_a_recording_and_a_chat_come_out_of_one_batch_with_their_stages_heard(tmp_path):
    calls_dir = tmp_path / "calls"
    calls_dir.mkdir()
    shutil.copy(FIXTURES / "chat_timestamps.txt", calls_dir / "chat.txt")
    shutil.copy(JFK, calls_dir / "jfk.flac")
    calls = discover([calls_dir], tmp_path / "out")
    statuses, stages, warnings = [], [], []
    results = list(analyze_many(calls, FAST, tmp_path / "out", on_status=statuses.append,
                                on_stage=lambda worker, call, stage: stages.append((worker, call.source.name, stage)),
                                warnings=warnings))
    assert sorted((Path(result.source).name, result.status) for result in results) == [
        ("chat.txt", "done"), ("jfk.flac", "done")]
    assert statuses == ["loading models (tiny.en)"] and warnings == []
    assert (None, "chat.txt", "reading") in stages  # a chat skips the audio stages
    assert {(None, "jfk.flac", "decoding"), (None, "jfk.flac", "transcribing")} <= set(stages)
    document = json.loads((tmp_path / "out" / "jfk.json").read_text())
    assert document["SpeechSegments"] and all(s["OriginalText"] for s in document["SpeechSegments"])  # speech found
    # A second run finds both done and analyses nothing again.
    again = list(analyze_many(calls, FAST, tmp_path / "out"))
    assert [result.status for result in again] == ["skipped", "skipped"]
