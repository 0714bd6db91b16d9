"""`callscope analyze --store`: a real recording and a real chat through the real pipeline, into a real
SQLite store, searchable as soon as the batch ends; a bad file does not stop the others."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.store import SearchQuery, SqliteStore
from tests.conftest import DATA, JFK

SAMPLE_CHAT = DATA / "guidance_conversation_analysis" / "customer_chat_sample.txt"
FAST = ("--entities", "none", "--issues", "none", "--diarizer", "none")


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calls")
    shutil.copy(JFK, folder / JFK.name)
    shutil.copy(SAMPLE_CHAT, folder / SAMPLE_CHAT.name)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    return folder


@pytest.fixture(scope="module")
def analysed(calls, tmp_path_factory):
    out, store_path = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("store") / "calls.db"
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(out), "--store", str(store_path), *FAST])
    return out, store_path, result


def test_each_analysed_call_lands_in_the_store_and_the_bad_file_is_reported(analysed):
    out, store_path, result = analysed
    assert result.exit_code == 1, result.output  # the broken recording failed
    assert "2 analysed, 0 already done, 1 failed" in result.output
    assert f"2 stored in {store_path}" in result.output.replace("\n", "")
    with SqliteStore(store_path) as store:
        assert store.count() == 2
        jfk, chat = _by_file(store, "jfk.json"), _by_file(store, "customer_chat_sample.json")
        assert jfk.path == str(out / "jfk.json") and jfk.duration == pytest.approx(11.0, abs=0.1)
        assert store.get(jfk.guid) == jfk
        assert chat.customer_sentiment is not None and chat.customer_sentiment < 0  # an angry customer
        said = _longest_word(out / "jfk.json")  # tiny.en's words for the clip vary a little by processor
        assert [r.file for r in store.search(SearchQuery(text=said)).records] == ["jfk.json"]
        assert [r.file for r in store.search(SearchQuery(text="damaged return")).records] == [chat.file]


def test_a_rerun_puts_calls_already_done_into_a_new_store_from_the_environment(analysed, calls, tmp_path):
    out, _, _ = analysed
    store_path = tmp_path / "fresh.db"
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(out), *FAST],
                                env={"CALLSCOPE_STORE": str(store_path)})
    assert "0 analysed, 2 already done, 1 failed" in result.output, result.output
    with SqliteStore(store_path) as store:
        assert {r.file for r in store.search(SearchQuery()).records} == {"jfk.json", "customer_chat_sample.json"}


def _longest_word(document: Path) -> str:
    """The longest word of a PCA document's transcript ("Americans" in the JFK clip)."""
    segments = json.loads(document.read_text())["SpeechSegments"]
    return max(re.findall(r"[A-Za-z]+", " ".join(segment["OriginalText"] for segment in segments)), key=len)


def _by_file(store: SqliteStore, name: str):
    found = [record for record in store.search(SearchQuery()).records if record.file == name]
    assert len(found) == 1, name
    return found[0]


def test_a_store_that_cannot_open_stops_before_any_analysis(calls, tmp_path):
    out = tmp_path / "out"
    (tmp_path / "not-a-db.db").write_bytes(b"this is not SQLite" * 100)
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(out),
                                       "--store", str(tmp_path / "not-a-db.db"), *FAST])
    assert result.exit_code != 0
    assert "not-a-db.db: cannot open the store" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_a_call_the_store_refuses_keeps_its_files_and_gets_a_warning(calls, tmp_path):
    store_path = tmp_path / "refusing.db"
    SqliteStore(store_path).close()
    with sqlite3.connect(store_path) as db:  # a real SQLite error on every insert
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON calls BEGIN SELECT RAISE(ABORT, 'no room'); END")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(out), "--store", str(store_path), *FAST])
    assert "2 analysed, 0 already done, 1 failed" in result.output and "Traceback" not in result.output
    assert result.output.count("not stored: ") == 2 and "no room" in result.output
    assert "0 stored in" in result.output
    assert (out / "jfk.json").is_file() and (out / "customer_chat_sample.json").is_file()
