"""Response times of `callscope serve` over HTTP, against a store of 10,000 calls (issue 7: under 200 ms).

    python bench/bench_dashboard.py                       # 10,000 calls, 50 requests per case
    python bench/bench_dashboard.py --calls 2000 --requests 20 --keep /tmp/dash-bench

The calls are PCA documents written by callscope (tests/test_store.py's `_call` and `_write`, varied:
40 agents, times over 90 days, customer sentiment from -5 to 5, 0-3 of 8 categories, an entity, one
of 5 languages, words from a 200-word vocabulary), loaded once with `callscope load` into a SQLite
file. The real server (`callscope serve`, a subprocess) is then asked each URL N times over one
keep-alive connection; the median and the 95th percentile are reported. The deep pages are reached
by following continuation tokens (page 100 of 50 rows: 5,000 calls in).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dashboard_server import Server  # noqa: E402
from tests.test_store import _call, _write  # noqa: E402

CATEGORIES = ["lost_card", "billing", "complaint", "cancellation", "upsell", "fraud", "address_change", "escalation"]
ENTITIES = [("PERSON", "Bob"), ("PERSON", "Alice"), ("LOCATION", "Paris"), ("LOCATION", "Berlin"),
            ("ORGANIZATION", "Acme"), ("DATE", "today")]
START = datetime(2025, 1, 1)


def build(folder: Path, calls: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    vocabulary = [f"word{i}" for i in range(200)] + ["card", "bill", "refund", "address", "cancel"]
    results = folder / "results"
    results.mkdir(parents=True, exist_ok=True)
    for index in range(calls):
        when = START + timedelta(seconds=rng.randrange(90 * 86400))
        _write(results, _call(
            f"call-{index:06d}", when, agent=f"agent{rng.randrange(40):02d}",
            customer_start=rng.uniform(-5, 5), customer_end=rng.uniform(-5, 5),
            text=" ".join(rng.choices(vocabulary, k=10)), language=rng.choice(["en", "en", "en", "fr", "de"]),
            entities=(rng.choice(ENTITIES),), categories=tuple(rng.sample(CATEGORIES, rng.randrange(4)))))
    return results


def timed(connection: http.client.HTTPConnection, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        begin = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        times.append((time.perf_counter() - begin) * 1000)
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}: {body[:300]!r}")
    return times


def get_json(connection: http.client.HTTPConnection, path: str):
    connection.request("GET", path)
    return json.loads(connection.getresponse().read())


def deep_token(connection: http.client.HTTPConnection, pages: int, query: str = "") -> str:
    token = ""
    for _ in range(pages - 1):
        path = f"/api/calls?limit=50{query}" + (f"&continuation={token}" if token else "")
        token = get_json(connection, path)["continuation"]
        if not token:
            raise SystemExit(f"fewer than {pages} pages of 50 calls{query}: use more --calls")
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50, help="requests per case")
    parser.add_argument("--keep", type=Path, default=None, help="build (or reuse) the data and store here")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="callscope-dashboard-bench-"))
    store = folder / "calls.db"
    if not store.exists():
        begin = time.perf_counter()
        results = build(folder, args.calls)
        written = time.perf_counter() - begin
        begin = time.perf_counter()
        loaded = subprocess.run([sys.executable, "-c", "from callscope.cli import main; main()", "load", str(results),
                                 "--store", str(store)], capture_output=True, text=True)
        if loaded.returncode:
            raise SystemExit(loaded.stdout + loaded.stderr)
        print(f"wrote {args.calls} PCA documents in {written:.0f} s; `callscope load`: "
              f"{time.perf_counter() - begin:.0f} s ({loaded.stdout.strip().splitlines()[-1]})", file=sys.stderr)

    server = Server("--store", str(store), "--data", str(folder))
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
        deep = deep_token(connection, 100)
        deep_agent = deep_token(connection, 3, "&agent=agent07")
        guid = get_json(connection, "/api/calls?limit=1&text=refund")["calls"][0]["guid"]
        cases = [
            ("API", "first page (50 calls)", "/api/calls"),
            ("API", "agent", "/api/calls?agent=agent07"),
            ("API", "customer sentiment below -2, worsening", "/api/calls?customer_sentiment_below=-2"
                                                               "&sentiment_change=worsening"),
            ("API", "category + language", "/api/calls?category=fraud&language=fr"),
            ("API", "entity", "/api/calls?entity=LOCATION%3DParis"),
            ("API", "text", "/api/calls?text=refund+card"),
            ("API", "since + until", "/api/calls?since=2025-02-01&until=2025-02-15"),
            ("API", "page 100 (continuation)", f"/api/calls?continuation={quote(deep)}"),
            ("API", "agent, page 3 (continuation)", f"/api/calls?agent=agent07&continuation={quote(deep_agent)}"),
            ("API", "one call", f"/api/calls/{guid}"),
            ("API", "its PCA document", f"/api/calls/{guid}/document"),
            ("API", "overview, every call", "/api/overview"),
            ("API", "overview, agent", "/api/overview?agent=agent07"),
            ("page", "overview, every call", "/overview"),
            ("page", "overview, agent", "/overview?agent=agent07"),
            ("page", "overview, 2 weeks", "/overview?since=2025-02-01&until=2025-02-15"),
            ("page", "call list, first page", "/calls"),
            ("page", "call list, agent", "/calls?agent=agent07"),
            ("page", "call list, sentiment below -2 + category", "/calls?customer_sentiment_below=-2&category=billing"),
            ("page", "call list, text", "/calls?text=refund+card"),
            ("page", "call list, entity", "/calls?entity=Paris"),
            ("page", "call list, page 100 (continuation)", f"/calls?continuation={quote(deep)}"),
            ("page", "call list, worst customer first", "/calls?sort=customer_sentiment"),
            ("page", "call list, agent, worst customer first", "/calls?agent=agent07&sort=customer_sentiment"),
            ("page", "call page", f"/calls/{guid}"),
        ]
        rows = []
        for kind, name, path in cases:
            timed(connection, path, 3)  # warm up
            times = sorted(timed(connection, path, args.requests))
            p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
            rows.append((kind, name, statistics.median(times), p95, path))
        connection.close()
    finally:
        server.stop()

    print(f"{args.calls} calls, {args.requests} requests per case, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}\n")
    print("| | request | median ms | p95 ms |\n|---|---|---:|---:|")
    for kind, name, median, p95, path in rows:
        print(f"| {kind} | {name} (`{path if len(path) < 70 else path[:60] + '…'}`) | {median:.1f} | {p95:.1f} |")
    worst = max(p95 for *_, p95, _ in rows)
    print(f"\nslowest p95: {worst:.1f} ms (goal: under 200 ms)")


if __name__ == "__main__":
    main()
