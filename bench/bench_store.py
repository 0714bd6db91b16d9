"""Query times of the SQLite store over 10,000 synthetic calls (issue 7: the dashboard's filtered
list must answer in under 200 ms).

    python bench/bench_store.py                 # 10,000 calls in a temporary file, table on stdout
    python bench/bench_store.py --calls 50000 --repeat 20

The calls are PCA documents callscope writes (to_pca of built Conversations): 40 agents, times
spread over 90 days, random customer sentiment, 0-3 of 8 categories, entities from a small pool
and a 20-turn transcript drawn from a 200-word vocabulary. Each query is the first page (50 rows)
as the dashboard asks for it, plus its count; the median of --repeat runs is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from callscope.model import (
    AudioSource,
    CallMetadata,
    CategoryMatch,
    Conversation,
    Entity,
    Role,
    Speaker,
    TimeSpan,
    Turn,
    Word,
)
from callscope.output.pca import to_pca
from callscope.store import SearchQuery, SqliteStore
from callscope.store.records import record_from_pca

SPEAKERS = [Speaker("spk_0", Role.CUSTOMER, channel=0), Speaker("spk_1", Role.AGENT, channel=1)]
CATEGORIES = ["lost_card", "billing", "complaint", "cancellation", "upsell", "fraud", "address_change", "escalation"]
ENTITIES = [("PERSON", "Bob"), ("PERSON", "Alice"), ("LOCATION", "Paris"), ("LOCATION", "Berlin"),
            ("ORGANIZATION", "Acme"), ("DATE", "today")]
START = datetime(2025, 1, 1)


def synthetic_call(rng: random.Random, index: int, vocabulary: list[str]) -> dict:
    turns = []
    for number in range(20):
        speaker = SPEAKERS[number % 2].label
        tokens = rng.choices(vocabulary, k=12)
        words = [Word(f" {token}", number * 5 + i * 0.3, number * 5 + i * 0.3 + 0.25, 0.9, speaker)
                 for i, token in enumerate(tokens)]
        entities = [Entity(kind, value, 0, len(value), 0.9) for kind, value in rng.sample(ENTITIES, 1)] \
            if number == 1 else []
        turns.append(Turn(speaker, words, sentiment=rng.uniform(-5, 5), entities=entities))
    source = AudioSource(f"call-{index}.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, 100.0)
    when = START + timedelta(seconds=rng.randrange(90 * 86400))
    conversation = Conversation(
        source, list(SPEAKERS), turns, rng.choice(["en", "en", "en", "fr", "de"]),
        metadata=CallMetadata(guid=f"call-{index:06d}", agent=f"agent{rng.randrange(40):02d}", customer="c",
                              conversation_time=when),
        categories=[CategoryMatch(name, (TimeSpan(1, 2),)) for name in rng.sample(CATEGORIES, rng.randrange(4))],
        processed_at=when)
    return to_pca(conversation)


QUERIES = {
    "newest page, no filter": SearchQuery(),
    "last 7 days": SearchQuery(since=START + timedelta(days=83)),
    "agent": SearchQuery(agent="agent07"),
    "customer sentiment < -2": SearchQuery(customer_sentiment_below=-2),
    "worsening": SearchQuery(sentiment_change="worsening"),
    "category": SearchQuery(category="fraud"),
    "entity type=value": SearchQuery(entity_type="LOCATION", entity_value="paris"),
    "language": SearchQuery(language="de"),
    "text (2 words)": SearchQuery(text="word17 word42"),
    "dashboard combo": SearchQuery(since=START + timedelta(days=30), customer_sentiment_below=0,
                                   sentiment_change="worsening", category="complaint"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--store", type=Path, default=None, help="Keep the store here (default: a temp file).")
    parser.add_argument("--out", type=Path, default=None, help="Also write the figures as JSON.")
    args = parser.parse_args()

    rng = random.Random(7)
    vocabulary = [f"word{i}" for i in range(200)]
    with tempfile.TemporaryDirectory() as scratch:
        path = args.store or Path(scratch) / "bench.db"
        started = time.perf_counter()
        documents = [synthetic_call(rng, index, vocabulary) for index in range(args.calls)]
        built = time.perf_counter() - started
        with SqliteStore(path) as store:
            started = time.perf_counter()
            for index, document in enumerate(documents):
                store.put_call(record_from_pca(document, f"call-{index}.json"))
            loaded = time.perf_counter() - started
            print(f"{args.calls} calls: built in {built:.1f} s, stored in {loaded:.1f} s "
                  f"({args.calls / loaded:.0f} calls/s, one transaction each); FTS5: {store.full_text}")
            results = {}
            print(f"{'query':28} {'page ms':>8} {'count ms':>9} {'matches':>8}")
            for name, query in QUERIES.items():
                page_ms = _median_ms(lambda: store.search(query), args.repeat)
                count_ms = _median_ms(lambda: store.count(query), args.repeat)
                matches = store.count(query)
                results[name] = {"page_ms": round(page_ms, 2), "count_ms": round(count_ms, 2), "matches": matches}
                print(f"{name:28} {page_ms:8.2f} {count_ms:9.2f} {matches:8d}")
            token = store.search(SearchQuery(limit=50)).continuation
            deep_ms = _median_ms(lambda: store.search(SearchQuery(limit=50, continuation=token)), args.repeat)
            print(f"{'second page (keyset)':28} {deep_ms:8.2f}")
            results["report"] = _bench_report(store, path, args.repeat)
    if args.out:
        args.out.write_text(json.dumps({"calls": args.calls, "store_s": round(loaded, 2), "queries": results},
                                       indent=2) + "\n")
    return 0


def _bench_report(store: SqliteStore, path: Path, repeat: int) -> dict:
    """`callscope report negative` over the whole 90 days: every store page walked and the CSV written,
    against one plain SELECT of the same rows written by csv.writer (the floor for any report)."""
    import csv
    import io
    import sqlite3

    from callscope.reports import NegativeCallsCriteria, find_negative_calls, report_csv

    print(f"{'report negative':28} {'ms':>8} {'plain SQL':>9} {'rows':>8} {'ratio':>6}")
    figures = {}
    for threshold in (-2.0, 0.0, 5.0):
        report = find_negative_calls(store, NegativeCallsCriteria(threshold=threshold))

        def plain() -> None:
            with sqlite3.connect(path) as db:
                rows = db.execute("SELECT guid, conversation_time, agent, customer, customer_sentiment,"
                                  " agent_sentiment,"
                                  " summary, action_items, path FROM calls WHERE customer_sentiment < ?"
                                  " ORDER BY customer_sentiment", (threshold,)).fetchall()
            csv.writer(io.StringIO()).writerows(rows)

        ours = _median_ms(lambda: report_csv(find_negative_calls(store, NegativeCallsCriteria(threshold=threshold))),
                          max(repeat // 3, 3))
        floor = _median_ms(plain, max(repeat // 3, 3))
        name = f"threshold {threshold:g}"
        figures[name] = {"ms": round(ours, 1), "plain_sql_ms": round(floor, 1), "rows": report.count,
                         "pages": report.pages}
        print(f"{name:28} {ours:8.1f} {floor:9.1f} {report.count:8d} {ours / floor:6.1f}")
    return figures


def _median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    sys.exit(main())
