"""The SQLite store, `callscope load` and `callscope search` on real PCA documents: callscope's own
(Conversations serialised by to_pca_json) and the reference system's sample, in real SQLite files."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.model import (
    AudioSource,
    CallMetadata,
    CategoryMatch,
    Conversation,
    Entity,
    Role,
    Speaker,
    TextSpan,
    TimeSpan,
    Turn,
    Word,
)
from callscope.output.pca import to_pca, to_pca_json
from callscope.store import NotAPcaDocument, SearchQuery, SqliteStore, StoreError
from callscope.store.base import CallFigures, TalkFigures
from tests.conftest import PCA_REFERENCE_JSON

AGENT, CUSTOMER = "spk_1", "spk_0"
SPEAKERS = [Speaker(CUSTOMER, Role.CUSTOMER, channel=0), Speaker(AGENT, Role.AGENT, channel=1)]


def _turn(speaker: str, start: float, text: str, sentiment: float | None = None, **extra) -> Turn:
    words = [Word(f" {token}", start + i * 0.3, start + i * 0.3 + 0.25, 0.9, speaker)
             for i, token in enumerate(text.split())]
    return Turn(speaker, words, sentiment=sentiment, **extra)


def _call(guid: str, when: datetime, agent: str = "ChrisL", customer_start: float = 0.0,
          customer_end: float = 0.0, text: str = "my card is lost", language: str = "en",
          entities: tuple[tuple[str, str], ...] = (), categories: tuple[str, ...] = ()) -> Conversation:
    """A 100 s call: the customer's first-quarter and last-quarter sentiment set the change."""
    found = [Entity(kind, value, 0, len(value), 0.9) for kind, value in entities]
    turns = [
        _turn(AGENT, 1.0, "Thank you for calling, how can I help?", 3.0),
        _turn(CUSTOMER, 5.0, f"Hello, {text}", customer_start, entities=found),
        _turn(AGENT, 50.0, "I will send you a new card today.", 0.2,
              action_items=[TextSpan("I will send you a new card today.", 0, 33)]),
        _turn(CUSTOMER, 90.0, "Thanks, bye.", customer_end),
    ]
    source = AudioSource(f"{guid}.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, 100.0)
    return Conversation(source, list(SPEAKERS), turns, language,
                        metadata=CallMetadata(guid=guid, agent=agent, customer="Cust1", conversation_time=when),
                        categories=[CategoryMatch(name, (TimeSpan(5.0, 6.0),)) for name in categories],
                        processed_at=when)


def _write(directory: Path, conversation: Conversation) -> Path:
    path = directory / f"{conversation.metadata.guid}.json"
    path.write_text(to_pca_json(conversation), encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path):
    with SqliteStore(tmp_path / "calls.db") as opened:
        yield opened


@pytest.fixture
def calls():
    return sample_calls()


def sample_calls() -> list[Conversation]:
    """Three calls that every filter tells apart (also used by the DynamoDB store's tests)."""
    return [
        _call("g1", datetime(2025, 2, 19, 6, 0), agent="ChrisL", customer_start=-4.0, customer_end=4.0,
              text="I lost my card in Paris", entities=(("LOCATION", "Paris"),), categories=("lost_card",)),
        _call("g2", datetime(2025, 2, 20, 6, 0), agent="Ann", customer_start=4.0, customer_end=-3.0,
              text="the bill is wrong again", language="fr", categories=("billing", "complaint")),
        _call("g3", datetime(2025, 2, 21, 6, 0), agent="ChrisL", customer_start=-3.0, customer_end=-3.0,
              text="please change my address", entities=(("PERSON", "Paris"), ("PERSON", "Bob"))),
    ]


def _guids(store: SqliteStore, **filters) -> list[str]:
    return [record.guid for record in store.search(SearchQuery(**filters)).records]


def test_put_get_and_upsert_by_guid(store, calls):
    record = store.put(to_pca(calls[0]), "/results/g1.json")
    assert store.get("g1") == record
    assert (record.agent, record.customer, record.language, record.duration) == ("ChrisL", "Cust1", "en-US", 100.0)
    assert record.conversation_time == datetime(2025, 2, 19, 6, 0)
    assert record.customer_sentiment_change > 0 and record.customer_sentiment is not None
    assert record.agent_sentiment > 0
    assert record.categories == ("lost_card",) and record.entities == {"LOCATION": ("Paris",)}
    assert record.action_items == ("I will send you a new card today.",) and not record.redacted
    assert "lost my card" in store.transcript("g1")

    again = replace(calls[0], metadata=replace(calls[0].metadata, agent="Zoe"), categories=[])
    store.put(to_pca(again), "/results/g1.json")
    assert store.count() == 1
    assert store.get("g1").agent == "Zoe" and store.get("g1").categories == ()
    assert _guids(store, category="lost_card") == [] and _guids(store, agent="Zoe") == ["g1"]
    assert store.get("missing") is None


def test_the_reference_sample_is_stored_under_its_file_name(store):
    document = json.loads(PCA_REFERENCE_JSON.read_text())
    record = store.put(document, str(PCA_REFERENCE_JSON))
    assert record.guid == "pca_output_testfile"  # its GUID is the placeholder "None"
    assert record.categories == ()  # the sample's only category has 0 instances
    assert record.entities["ORGANIZATION"] == ("Networks abc",)
    assert (record.customer_sentiment, record.customer_sentiment_change) == (1.7, -2.5)
    # its agent (spk_0) starts at 0.74 s while the customer talks until 3.7 s
    assert record.talk == TalkFigures(agent_seconds=9.879, customer_seconds=19.56, non_talk_seconds=0.0,
                                      interruptions=1, agent_interruptions=1, interruption_seconds=2.96)
    assert store.get(record.guid) == record


def test_a_document_whose_times_are_no_numbers_is_stored_without_talk_figures(store):
    document = json.loads(PCA_REFERENCE_JSON.read_text())
    document["SpeechSegments"][1]["SegmentStartTime"] = "soon"
    assert store.put(document, "edited.json").talk is None
    document = json.loads(PCA_REFERENCE_JSON.read_text())
    document["ConversationAnalytics"]["SpeakerTime"] = ["spk_0"]
    record = store.put(document, "edited.json")
    assert record.talk is None and store.get(record.guid) == record


def test_a_store_made_before_talk_figures_gains_their_columns(tmp_path):
    path = tmp_path / "old.db"
    with SqliteStore(path) as opened:
        opened.put(json.loads(PCA_REFERENCE_JSON.read_text()), str(PCA_REFERENCE_JSON))
    with sqlite3.connect(path) as old:  # the calls table as callscope 0.x made it
        for column in ("agent_talk", "customer_talk", "non_talk", "interruptions", "agent_interruptions",
                       "interruption_time"):
            old.execute(f"ALTER TABLE calls DROP COLUMN {column}")
    with SqliteStore(path) as opened:
        assert opened.get("pca_output_testfile").talk is None  # kept calls say they lack the figures
        opened.put(json.loads(PCA_REFERENCE_JSON.read_text()), str(PCA_REFERENCE_JSON))
        assert opened.get("pca_output_testfile").talk.interruptions == 1


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, ["g3", "g2", "g1"]),
    ({"since": datetime(2025, 2, 20)}, ["g3", "g2"]),
    ({"until": datetime(2025, 2, 21)}, ["g2", "g1"]),
    ({"agent": "ChrisL"}, ["g3", "g1"]),
    ({"sentiment_change": "improving"}, ["g1"]),
    ({"sentiment_change": "worsening"}, ["g2"]),
    ({"entity_value": "paris"}, ["g3", "g1"]),
    ({"entity_type": "location", "entity_value": "PARIS"}, ["g1"]),
    ({"entity_type": "PERSON"}, ["g3"]),
    ({"category": "billing"}, ["g2"]),
    ({"language": "fr"}, ["g2"]),
    ({"text": "card Paris"}, ["g1"]),
    ({"text": "address"}, ["g3"]),
    ({"text": 'AND "NEAR*'}, []),  # FTS syntax in user text is just words
    ({"agent": "ChrisL", "since": datetime(2025, 2, 20)}, ["g3"]),
])
def test_each_filter(store, calls, filters, expected):
    for conversation in calls:
        store.put(to_pca(conversation), f"{conversation.metadata.guid}.json")
    assert _guids(store, **filters) == expected
    assert store.count(SearchQuery(**filters)) == len(expected)
    # the overview's figures: the same calls, in the same order, the same fields as their records
    assert store.figures(SearchQuery(**filters, limit=1)) == [CallFigures.of(store.get(guid)) for guid in expected]


def test_customer_sentiment_bounds(store, calls):
    for conversation in calls:
        store.put(to_pca(conversation), "x.json")
    scores = {guid: store.get(guid).customer_sentiment for guid in ("g1", "g2", "g3")}
    assert scores["g3"] < scores["g1"] < scores["g2"]
    middle = scores["g1"]
    assert set(_guids(store, customer_sentiment_below=middle)) == {g for g, s in scores.items() if s < middle}
    assert set(_guids(store, customer_sentiment_above=middle)) == {g for g, s in scores.items() if s > middle}


def test_pagination_walks_every_row_once_newest_first(store):
    base = to_pca(_call("x", datetime(2025, 1, 1)))
    for index in range(23):
        document = json.loads(json.dumps(base))
        document["ConversationAnalytics"]["GUID"] = f"call-{index:02d}"
        # pairs of calls share a time: the page boundary must not lose or repeat one of them
        document["ConversationAnalytics"]["ConversationTime"] = str(datetime(2025, 1, 1, index // 2))
        store.put(document, f"{index}.json")
    seen, token, pages = [], None, 0
    while True:
        page = store.search(SearchQuery(limit=5, continuation=token))
        seen += [record.conversation_time for record in page.records]
        guids = [record.guid for record in page.records]
        pages += 1
        token = page.continuation
        if token is None:
            break
    assert pages == 5 and len(seen) == 23 and seen == sorted(seen, reverse=True)
    assert store.count() == 23
    with pytest.raises(StoreError):
        store.search(SearchQuery(continuation="not-a-token"))
    assert guids  # the last page is not empty


def test_bad_documents_are_refused_with_a_reason(store):
    with pytest.raises(NotAPcaDocument, match="ConversationAnalytics"):
        store.put({"results": []}, "x.json")
    with pytest.raises(NotAPcaDocument, match="ConversationTime"):
        store.put({"ConversationAnalytics": {"ConversationTime": "yesterday"}, "SpeechSegments": []}, "x.json")
    assert store.count() == 0


def _writer(path: str, worker: int, count: int) -> None:
    with SqliteStore(path) as store:
        for index in range(count):
            conversation = _call(f"w{worker}-{index}", datetime(2025, 3, 1, worker, index))
            store.put(to_pca(conversation), f"w{worker}-{index}.json")


def test_parallel_writer_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")  # fresh processes, as analyze --jobs starts them
    workers = [context.Process(target=_writer, args=(path, worker, 15)) for worker in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    with SqliteStore(path) as store:
        assert store.count() == 60
        assert store.count(SearchQuery(text="card")) == 60


def _results(tmp_path: Path, calls) -> Path:
    results = tmp_path / "results"
    (results / "nested").mkdir(parents=True)
    (results / ".callscope" / "done").mkdir(parents=True)
    _write(results, calls[0])
    _write(results / "nested", calls[1])
    _write(results, calls[2])
    shutil.copy(PCA_REFERENCE_JSON, results / "nested")
    (results / "corrupt.json").write_text('{"ConversationAnalytics": ', encoding="utf-8")
    (results / "failures.json").write_text('{"errors": []}', encoding="utf-8")
    (results / "malformed.json").write_text('{"ConversationAnalytics": {}, "SpeechSegments": 3}', encoding="utf-8")
    (results / ".callscope" / "done" / "state.json").write_text("{", encoding="utf-8")
    return results


def test_load_reports_bad_files_and_loads_the_rest(tmp_path, calls):
    results = _results(tmp_path, calls)
    store_path = tmp_path / "store.db"
    outcome = CliRunner().invoke(main, ["load", str(results), "--store", str(store_path)])
    assert outcome.exit_code == 1, outcome.output
    lines = outcome.output.splitlines()
    assert any(line.startswith("failed") and "corrupt.json: cannot read JSON" in line for line in lines)
    assert any(line.startswith("failed") and "malformed.json: SpeechSegments" in line for line in lines)
    assert any(line.startswith("skipped") and "failures.json: not a PCA document" in line for line in lines)
    assert "state.json" not in outcome.output and "Traceback" not in outcome.output
    assert lines[-1].startswith("4 loaded, 1 skipped, 2 failed")
    with SqliteStore(store_path) as store:
        assert store.count() == 4 and store.get("g2").path.endswith("nested/g2.json")

    again = CliRunner().invoke(main, ["load", str(results)], env={"CALLSCOPE_STORE": str(store_path)})
    assert again.exit_code == 1 and "(4 calls in" in again.output  # re-loading replaces


def test_load_of_good_files_exits_zero(tmp_path, calls):
    _write(tmp_path, calls[0])
    outcome = CliRunner().invoke(main, ["load", str(tmp_path), "--store", str(tmp_path / "s.db")])
    assert outcome.exit_code == 0 and "1 loaded, 0 skipped, 0 failed" in outcome.output


def test_search_command_json_and_table(tmp_path, calls):
    store_path = tmp_path / "store.db"
    CliRunner().invoke(main, ["load", str(_results(tmp_path, calls)), "--store", str(store_path)])
    check_search_command(str(store_path))
    bad = CliRunner().invoke(main, ["search", "--store", str(store_path), "--since", "last tuesday"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def check_search_command(store: str) -> None:
    """`callscope search --store STORE` on the calls of `_results` (also run on the DynamoDB store)."""
    runner = CliRunner()

    def search(*args: str) -> list[dict]:
        outcome = runner.invoke(main, ["search", "--store", store, "--json", *args])
        assert outcome.exit_code == 0, outcome.output
        return [json.loads(line) for line in outcome.output.splitlines()]

    assert [row["guid"] for row in search("--agent", "ChrisL")] == ["g3", "g1"]
    assert [row["guid"] for row in search("--entity", "LOCATION=paris")] == ["g1"]
    assert [row["guid"] for row in search("--entity", "Networks abc")] == ["pca_output_testfile"]
    assert [row["guid"] for row in search("--sentiment-change", "worsening", "--language", "fr")] == ["g2"]
    assert [row["guid"] for row in search("--category", "billing", "--text", "bill wrong")] == ["g2"]
    assert [row["guid"] for row in search("--since", "2025-02-20T12:00", "--until", "2025-02-22")] == ["g3"]
    assert search("--since", "24h") == []  # every call is older
    first = search("--limit", "2")
    assert len(first) == 3 and "continuation" in first[-1]
    rest = search("--limit", "2", "--continuation", first[-1]["continuation"])
    assert [row["guid"] for row in first[:2] + rest] == ["g3", "g2", "g1", "pca_output_testfile"]
    assert search("--agent", "ChrisL")[0]["path"].endswith("results/g3.json")

    table = runner.invoke(main, ["search", "--store", store, "--customer-sentiment-below", "5"])
    assert table.exit_code == 0 and "g1" in table.output and "4 calls" in table.output
    token = runner.invoke(main, ["search", "--store", store, "--continuation", "zz"])
    assert token.exit_code == 1 and "Traceback" not in token.output and "continuation token" in token.output


def test_a_file_that_is_not_a_database_is_one_line(tmp_path):
    (tmp_path / "notdb.db").write_text("hello, not SQLite" * 100)
    outcome = CliRunner().invoke(main, ["search", "--store", str(tmp_path / "notdb.db")])
    assert outcome.exit_code == 1 and "notdb.db: cannot open the store" in outcome.output
