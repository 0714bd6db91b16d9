"""Sentiment benchmark: the shipped local model (MiniLM + logistic regression) against VADER, on the
held-out turns of bench/data/sentiment/test.jsonl (never used for training or tuning).

Command (from the repository root; needs the `local` extra and `pip install vaderSentiment`):

    .venv/bin/python bench/bench_sentiment.py --out docs/bench-results-sentiment.json
    .venv/bin/python bench/bench_sentiment.py --fp32 /tmp/minilm_fp32.onnx /tmp/logreg_fp32.json

Labels per system, 3 classes:
- vader: compound >= 0.05 positive, <= -0.05 negative, else neutral (VADER's documented thresholds).
- local: the label the PCA output carries (`LocalSentiment`: negative when P(neg) x 5 >= 2.0, else
  positive when P(pos) x 5 >= 2.0, else neutral); the plain argmax is stored too.
- local-fp32 (with --fp32 ENCODER CLASSIFIER): the same with the unquantised encoder, to check int8.

Speed: model loading once; one turn at a time (the mean over all test turns); a 10-minute call of
150 turns (the test texts, cycled) through `LocalSentiment.enrich`, best and median of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.enrichment.sentiment import LocalSentiment, sentiment_label  # noqa: E402
from callscope.enrichment.sentiment_model import (  # noqa: E402
    CLASSES,
    LogisticHead,
    MiniLMEncoder,
    SentimentModel,
    load_sentiment_model,
)
from callscope.model import AudioSource, Conversation, Role, Speaker, Turn, Word  # noqa: E402

TEST = ROOT / "bench" / "data" / "sentiment" / "test.jsonl"
CALL_TURNS = 150  # a 10-minute call: ~4 s a turn


def scores(truth: list[str], predicted: list[str]) -> dict:
    matrix = {t: {p: 0 for p in CLASSES} for t in CLASSES}
    for t, p in zip(truth, predicted):
        matrix[t][p] += 1
    f1 = {}
    for label in CLASSES:
        tp = matrix[label][label]
        precision = tp / max(sum(matrix[t][label] for t in CLASSES), 1)
        recall = tp / max(sum(matrix[label].values()), 1)
        f1[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted)) / len(truth), 4),
        "macro_f1": round(sum(f1.values()) / len(f1), 4),
        "f1": {label: round(value, 4) for label, value in f1.items()},
        "confusion": matrix,  # rows: true label, columns: predicted
    }


def vader_labels(texts: list[str]) -> tuple[list[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    begin = time.perf_counter()
    compounds = [analyzer.polarity_scores(text)["compound"] for text in texts]
    seconds = time.perf_counter() - begin
    labels = ["positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral" for c in compounds]
    return labels, seconds


def model_labels(model: SentimentModel, texts: list[str]) -> dict:
    conversation = make_call(texts)
    LocalSentiment(model).enrich(conversation)
    argmax = [CLASSES[row.argmax()] for row in model.probabilities(texts)]
    return {"pca_rule": [sentiment_label(turn.sentiment) for turn in conversation.turns], "argmax": argmax}


def make_call(texts: list[str]) -> Conversation:
    """A two-party call whose turns carry `texts`, 4 s each."""
    turns = []
    for index, text in enumerate(texts):
        start = 4.0 * index
        words = text.split()
        step = 3.5 / len(words)
        turns.append(Turn(speaker=f"spk_{index % 2}", words=[
            Word(f" {word}", start + i * step, start + (i + 1) * step, 0.9, f"spk_{index % 2}")
            for i, word in enumerate(words)]))
    source = AudioSource("bench.wav", "0" * 64, "wav", "pcm_s16le", 8000, 2, 4.0 * len(texts))
    speakers = [Speaker("spk_0", Role.AGENT, 0), Speaker("spk_1", Role.CUSTOMER, 1)]
    return Conversation(source=source, speakers=speakers, turns=turns, language="en")


def timing(texts: list[str], repeat: int) -> dict:
    load_sentiment_model.cache_clear()  # time a fresh load, not the cached model
    begin = time.perf_counter()
    model = load_sentiment_model()
    load = time.perf_counter() - begin
    enricher = LocalSentiment(model)
    enricher.enrich(make_call(texts[:4]))  # onnxruntime allocates on its first runs: not timed
    begin = time.perf_counter()
    for text in texts:
        model.probabilities([text])
    per_turn = (time.perf_counter() - begin) / len(texts)
    call_texts = [texts[i % len(texts)] for i in range(CALL_TURNS)]
    runs = []
    for _ in range(repeat):
        call = make_call(call_texts)
        begin = time.perf_counter()
        enricher.enrich(call)
        runs.append(time.perf_counter() - begin)
    _, vader_seconds = vader_labels(call_texts)
    return {
        "load_model_s": round(load, 3),
        "per_turn_ms_one_at_a_time": round(per_turn * 1000, 2),
        "call_turns": CALL_TURNS,
        "call_best_s": round(min(runs), 3),
        "call_median_s": round(statistics.median(runs), 3),
        "call_runs_s": [round(run, 3) for run in runs],
        "vader_call_s": round(vader_seconds, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fp32", nargs=2, type=Path, metavar=("ENCODER", "CLASSIFIER"))
    args = parser.parse_args()

    rows = [json.loads(line) for line in TEST.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts, truth = [row["text"] for row in rows], [row["label"] for row in rows]
    result: dict = {
        "test_set": str(TEST.relative_to(ROOT)),
        "turns": len(rows),
        "labels": {label: truth.count(label) for label in CLASSES},
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "systems": {},
    }
    vader, _ = vader_labels(texts)
    result["systems"]["vader"] = scores(truth, vader)
    local = model_labels(load_sentiment_model(), texts)
    result["systems"]["local"] = scores(truth, local["pca_rule"]) | {"argmax": scores(truth, local["argmax"])}
    if args.fp32:
        fp32 = SentimentModel(MiniLMEncoder(args.fp32[0]), LogisticHead.load(args.fp32[1]))
        labels = model_labels(fp32, texts)
        result["systems"]["local-fp32"] = (scores(truth, labels["pca_rule"])
                                           | {"argmax": scores(truth, labels["argmax"])})
    result["speed"] = timing(texts, args.repeat)
    result["errors"] = [
        {"id": row["id"], "text": row["text"], "label": row["label"], "local": got}
        for row, got in zip(rows, local["pca_rule"]) if got != row["label"]
    ]

    for name, system in result["systems"].items():
        print(f"{name:<11} accuracy {system['accuracy']:.3f}  macro-F1 {system['macro_f1']:.3f}  "
              f"confusion (rows true pos/neg/neu) {[list(row.values()) for row in system['confusion'].values()]}")
    speed = result["speed"]
    print(f"load {speed['load_model_s']} s; {speed['per_turn_ms_one_at_a_time']} ms/turn one at a time; "
          f"{CALL_TURNS}-turn call {speed['call_best_s']} s best, {speed['call_median_s']} s median; "
          f"VADER {speed['vader_call_s']} s")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
