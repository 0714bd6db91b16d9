"""Enrichment of a 10-minute call, all enrichers together (issue 5's goal: under 2 s here).

The turns of a real call (the demo call, transcribed and diarized by callscope) are repeated, shifted
in time, until the call lasts 10 minutes; then every enricher runs on it: PII redaction, sentiment,
entities, issues, categories. Models are loaded and warmed on the real call first: the figure is the
enrichment of one more call in a running batch, not model loading (reported apart).

    .venv/bin/python bench/bench_enrichment.py --repeat 5 --out docs/bench-results-enrichment.json
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

from callscope.analysis.call import analyze_call
from callscope.analysis.engines import load_engines
from callscope.enrichment import enrich
from callscope.model import Turn
from callscope.options import AnalyzeOptions, EnrichmentOptions

DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CALL = DATA / "guidance_conversation_analysis" / "demo-call.mp3"
TARGET_SECS = 600.0


def ten_minutes(conversation):
    """The call's turns repeated, each copy shifted by the call's length, up to TARGET_SECS."""
    length = conversation.source.duration
    turns: list[Turn] = []
    copies = int(TARGET_SECS // length) + 1
    for index in range(copies):
        for turn in conversation.turns:
            shifted = [replace(word, start=word.start + index * length, end=word.end + index * length)
                       for word in turn.words]
            if shifted[-1].end > TARGET_SECS:
                break
            turns.append(replace(copy.deepcopy(turn), words=shifted))
    long_call = copy.deepcopy(conversation)
    long_call.turns = turns
    long_call.source = replace(conversation.source, duration=TARGET_SECS)
    return long_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    options = AnalyzeOptions(enrichment=EnrichmentOptions(redact=True))
    started = time.perf_counter()
    engines = load_engines(options)
    conversation = analyze_call(CALL, engines.transcriber, options, diarizer=engines.diarizer)
    warm = time.perf_counter()
    enrich(copy.deepcopy(conversation), engines.enrichers)  # loads every model once
    loaded = time.perf_counter() - warm
    long_call = ten_minutes(conversation)
    per_enricher: dict[str, list[float]] = {enricher.aspect: [] for enricher in engines.enrichers}
    totals = []
    for _ in range(args.repeat):
        call = copy.deepcopy(long_call)
        total = 0.0
        for enricher in sorted(engines.enrichers,
                               key=lambda e: ("pii", "sentiment", "entities", "issues", "categories").index(e.aspect)):
            tick = time.perf_counter()
            enricher.enrich(call)
            spent = time.perf_counter() - tick
            per_enricher[enricher.aspect].append(spent)
            total += spent
        totals.append(total)
    result = {
        "call": CALL.name, "turns": len(long_call.turns), "words": len(long_call.words), "audio_secs": TARGET_SECS,
        "model_load_and_first_call_secs": round(loaded, 2), "setup_secs": round(warm - started, 2),
        "total_secs": {"best": round(min(totals), 3), "median": round(statistics.median(totals), 3)},
        "per_enricher_median_secs": {name: round(statistics.median(times), 3) for name, times in per_enricher.items()},
        "enrichers": {enricher.aspect: enricher.name for enricher in engines.enrichers},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "repeat": args.repeat,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
