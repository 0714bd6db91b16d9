"""Train the local sentiment classifier: callscope/models/sentiment_logreg.json.

Embeds bench/data/sentiment/train.jsonl with the shipped MiniLM encoder (the one that runs in
callscope, so training and use see the same embeddings), picks the regularisation C and the class
weighting by stratified 5-fold cross-validation on the training set alone (the held-out test.jsonl is
never read here), fits a multinomial logistic regression and writes its weights as JSON.

Cross-validation scores the label the PCA output carries, not the argmax: the reference's rule
(negative when P(neg) >= 0.4, else positive when P(pos) >= 0.4) reads the probabilities themselves,
so their calibration (which class weighting changes) matters as much as their order.

    python tools/train_sentiment.py [--encoder PATH.onnx] [--out callscope/models/sentiment_logreg.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from callscope.enrichment.sentiment import sentiment_label, signed_sentiment
from callscope.enrichment.sentiment_model import CLASSES, CLASSIFIER_FILE, ENCODER_FILE, MiniLMEncoder, model_file
from callscope.model import SentimentScores

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "bench" / "data" / "sentiment" / "train.jsonl"
C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
WEIGHTS = (None, "balanced")


def pca_labels(probabilities: np.ndarray) -> np.ndarray:
    """The class the PCA output gives each row of probabilities (CLASSES order)."""
    return np.array([CLASSES.index(sentiment_label(signed_sentiment(SentimentScores(*row))))
                     for row in probabilities.tolist()])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", type=Path, default=model_file(ENCODER_FILE))
    parser.add_argument("--out", type=Path, default=model_file(CLASSIFIER_FILE))
    args = parser.parse_args()

    rows = read_jsonl(TRAIN)
    embeddings = MiniLMEncoder(args.encoder).embed([row["text"] for row in rows])
    labels = np.array([CLASSES.index(row["label"]) for row in rows])

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = {}
    for weight in WEIGHTS:
        for c in C_GRID:
            model = LogisticRegression(C=c, class_weight=weight, max_iter=2000)
            probabilities = cross_val_predict(model, embeddings, labels, cv=folds, method="predict_proba")
            scores[c, weight] = f1_score(labels, pca_labels(probabilities), average="macro")
            print(f"C={c:<5} class_weight={weight}: cross-validated macro-F1 {scores[c, weight]:.3f}")
    best_c, best_weight = max(scores, key=scores.get)
    model = LogisticRegression(C=best_c, class_weight=best_weight, max_iter=2000).fit(embeddings, labels)
    assert list(model.classes_) == [0, 1, 2]

    args.out.write_text(json.dumps({
        "classes": list(CLASSES),
        "coef": np.round(model.coef_.astype(float), 6).tolist(),
        "intercept": np.round(model.intercept_.astype(float), 6).tolist(),
        "C": best_c,
        "class_weight": best_weight,
        "cv_macro_f1_pca_rule": round(float(scores[best_c, best_weight]), 4),
        "train_rows": len(rows),
        "train_sha256": sha256(TRAIN),
        "encoder": args.encoder.name,
        "encoder_sha256": sha256(args.encoder),
    }, indent=1) + "\n", encoding="utf-8")
    print(f"C={best_c}, class_weight={best_weight}: wrote {args.out}")


if __name__ == "__main__":
    main()
