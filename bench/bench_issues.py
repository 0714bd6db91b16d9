"""Precision and recall of the local issue / action-item / outcome rules on hand-labelled turns.

bench/data/issues/ holds two sets of contact-centre turns (JSONL: id, role, text and, per class,
the labelled sentences, copied verbatim from the text). `dev.jsonl` is the set the patterns were
tuned on; `heldout.jsonl` was not used for tuning. A detected span counts as right when it overlaps
a labelled sentence of the same class (each label counted once); see bench/data/issues/README.md.

    python bench/bench_issues.py                          # held-out set, table on stdout
    python bench/bench_issues.py --set dev --errors       # what the rules miss or add on the dev set
    python bench/bench_issues.py --set both --speed --out docs/bench-results-issues.json

`--speed` also times the local text enrichment (spaCy entities, then these rules) on a call made of
150 of the labelled turns, the length of a 10-minute call, after loading the spaCy model once.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from callscope.enrichment.issues import CLASSES, IssuePatterns, LocalIssues, detect
from callscope.enrichment.sentences import sentence_spans
from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word

DATA = Path(__file__).resolve().parent / "data" / "issues"


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positives / max(self.true_positives + self.false_positives, 1)

    @property
    def recall(self) -> float:
        return self.true_positives / max(self.true_positives + self.false_negatives, 1)

    @property
    def f1(self) -> float:
        return 2 * self.precision * self.recall / max(self.precision + self.recall, 1e-9)


def load(name: str) -> list[dict]:
    path = DATA / f"{name}.jsonl"
    turns = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for turn in turns:
        for kind in CLASSES:
            for label in turn[kind]:
                if label not in turn["text"]:
                    sys.exit(f"{path}: {turn['id']}: label {label!r} is not in the text")
    return turns


def evaluate(turns: list[dict], patterns: IssuePatterns) -> dict[str, Counts]:
    counts = {kind: Counts() for kind in CLASSES}
    for turn in turns:
        found = detect(turn["text"], Role(turn["role"]), patterns)
        for kind in CLASSES:
            gold = [(turn["text"].index(label), turn["text"].index(label) + len(label)) for label in turn[kind]]
            unmatched = list(gold)
            for span in found[kind]:
                hit = next((g for g in unmatched if span.begin < g[1] and g[0] < span.end), None)
                if hit is None:
                    counts[kind].false_positives += 1
                    counts[kind].errors.append(f"FP {turn['id']} {turn['role']}: {span.text}")
                else:
                    unmatched.remove(hit)
                    counts[kind].true_positives += 1
            for begin, end in unmatched:
                counts[kind].false_negatives += 1
                counts[kind].errors.append(f"FN {turn['id']} {turn['role']}: {turn['text'][begin:end]}")
    return counts


def describe(turns: list[dict]) -> dict[str, int]:
    sentences = [(turn, turn["text"][b:e]) for turn in turns for b, e in sentence_spans(turn["text"])]
    labelled = {kind: sum(len(turn[kind]) for turn in turns) for kind in CLASSES}
    negatives = sum(1 for turn, sentence in sentences
                    if not any(label in sentence or sentence in label for kind in CLASSES for label in turn[kind]))
    return {"turns": len(turns), "sentences": len(sentences), "sentences_without_label": negatives, **labelled}


def speed(turns: list[dict], repeat: int = 3) -> dict[str, float]:
    """Seconds for entities and for issues on one call of 150 turns (best of `repeat`), and the model load."""
    from callscope.enrichment.entities import LocalEntities
    from callscope.enrichment.spacy_model import load_spacy

    started = time.perf_counter()
    load_spacy()
    loaded = time.perf_counter() - started
    enrichers = {"entities": LocalEntities(), "issues": LocalIssues()}
    best = {name: float("inf") for name in enrichers}
    for _ in range(repeat):
        conversation = _call(turns[:150])
        for name, enricher in enrichers.items():
            started = time.perf_counter()
            enricher.enrich(conversation)
            best[name] = min(best[name], time.perf_counter() - started)
    words = sum(len(turn.words) for turn in conversation.turns)
    return {"turns": len(conversation.turns), "words": words, "load_spacy_model": round(loaded, 3),
            **{name: round(seconds, 4) for name, seconds in best.items()},
            "total_enrichment": round(sum(best.values()), 4)}


def _call(turns: list[dict]) -> Conversation:
    """A conversation of the labelled turns, one speaker per role, 4 s a turn."""
    labels = {"AGENT": "spk_1", "CUSTOMER": "spk_0"}
    built = []
    for index, turn in enumerate(turns):
        words = [Word(f" {word}", index * 4.0, index * 4.0 + 3.5, 0.9, labels[turn["role"]])
                 for word in turn["text"].split()]
        built.append(Turn(labels[turn["role"]], words))
    source = AudioSource("bench.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, len(turns) * 4.0)
    speakers = [Speaker("spk_0", Role.CUSTOMER, 0), Speaker("spk_1", Role.AGENT, 1)]
    return Conversation(source, speakers, built, "en")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("heldout", "dev", "both"), default="heldout")
    parser.add_argument("--errors", action="store_true", help="list false positives and negatives")
    parser.add_argument("--speed", action="store_true", help="also time local entities and issues on 150 turns")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    patterns = IssuePatterns.load()
    results = {}
    for name in (("dev", "heldout") if args.set == "both" else (args.set,)):
        turns = load(name)
        started = time.perf_counter()
        counts = evaluate(turns, patterns)
        elapsed = time.perf_counter() - started
        results[name] = {
            "data": describe(turns),
            "seconds": round(elapsed, 4),
            "classes": {kind: {"precision": round(c.precision, 3), "recall": round(c.recall, 3), "f1": round(c.f1, 3),
                               "true_positives": c.true_positives, "false_positives": c.false_positives,
                               "false_negatives": c.false_negatives} for kind, c in counts.items()},
        }
        print(f"\n{name}: {results[name]['data']}  ({elapsed * 1000:.1f} ms)")
        print(f"{'class':<14}{'precision':>10}{'recall':>8}{'F1':>7}{'TP':>5}{'FP':>5}{'FN':>5}")
        for kind, c in counts.items():
            print(f"{kind:<14}{c.precision:>10.3f}{c.recall:>8.3f}{c.f1:>7.3f}"
                  f"{c.true_positives:>5}{c.false_positives:>5}{c.false_negatives:>5}")
        if args.errors:
            for kind, c in counts.items():
                for line in c.errors:
                    print(f"  [{kind}] {line}")
    timing = None
    if args.speed:
        timing = speed(load("dev") + load("heldout"))
        print(f"\nspeed (seconds, best of 3): {timing}")
    if args.out:
        document = {"machine": f"{platform.machine()} {platform.system()} {platform.release()}, "
                               f"Python {platform.python_version()}",
                    "command": " ".join(["python", "bench/bench_issues.py", *sys.argv[1:]]),
                    "matching": "a detected span is right when it overlaps a labelled sentence of its class",
                    "results": results, "speed": timing}
        args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
