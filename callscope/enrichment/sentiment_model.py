"""The local sentiment model: all-MiniLM-L6-v2 sentence embeddings (ONNX) + a logistic regression.

Everything is shipped in callscope/models (see NOTICE.md): the ONNX encoder (fp16-stored weights), its tokenizer and
the classifier's weights, trained by tools/train_sentiment.py on bench/data/sentiment/train.jsonl.
Only onnxruntime, tokenizers and numpy run: no torch, nothing downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from callscope.errors import ModelError, first_line
from callscope.models import cpu_session, model_file

ENCODER_FILE = "minilm_l6_v2_f16.onnx"
TOKENIZER_FILE = "minilm_tokenizer.json"
CLASSIFIER_FILE = "sentiment_logreg.json"
CLASSES = ("positive", "negative", "neutral")  # column order of every probability array here
MAX_TOKENS = 256  # the model's max_seq_length in sentence-transformers
WINDOW_STRIDE = 32  # tokens shared by consecutive windows of a longer text
BATCH_SIZE = 32
BATCH_TOKENS = 1024  # padded tokens in one batch at most (see _token_batches)


class MiniLMEncoder:
    """Text -> L2-normalised 384-d embedding, as SentenceTransformer('all-MiniLM-L6-v2').encode.

    A text longer than MAX_TOKENS is embedded window by window and the windows averaged, weighted by
    their token counts (sentence-transformers would silently drop the rest)."""

    def __init__(self, onnx_path: Path | None = None, tokenizer_path: Path | None = None,
                 threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        onnx_path = onnx_path or model_file(ENCODER_FILE)
        tokenizer_path = tokenizer_path or model_file(TOKENIZER_FILE)
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
            self._session = cpu_session(onnx_path, threads)
        except Exception as error:  # onnxruntime and tokenizers raise their own exception types
            raise ModelError(
                f"sentiment encoder cannot be loaded from {onnx_path.parent}: {first_line(error)}") from None
        self._tokenizer.enable_truncation(MAX_TOKENS, stride=WINDOW_STRIDE)
        self._tokenizer.no_padding()  # padded per batch below, to the longest window in it

    def embed(self, texts: list[str]) -> np.ndarray:
        windows, owners = [], []
        for index, encoding in enumerate(self._tokenizer.encode_batch(texts)):
            for window in [encoding, *encoding.overflowing]:
                windows.append(window.ids)
                owners.append(index)
        vectors = self._embed_windows(windows)
        lengths = np.array([len(ids) for ids in windows], dtype=np.float32)
        sums = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        np.add.at(sums, np.array(owners), vectors * lengths[:, None])
        return sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(min=1e-12)

    def _embed_windows(self, windows: list[list[int]]) -> np.ndarray:
        # Length-sorted batches: a call's turns run from 3 to 256 tokens, and padding every turn to the
        # longest one would cost more than the extra session runs.
        order = sorted(range(len(windows)), key=lambda index: len(windows[index]))
        out = np.zeros((len(windows), 384), dtype=np.float32)
        for batch in _token_batches(order, [len(window) for window in windows]):
            width = max(len(windows[index]) for index in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                ids[row, :len(windows[index])] = windows[index]
            feeds = {"input_ids": ids, "attention_mask": (ids != 0).astype(np.int64),
                     "token_type_ids": np.zeros_like(ids)}
            out[batch] = self._session.run(None, feeds)[0]
        return out


def _token_batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of `order` (sorted by length) of at most BATCH_SIZE windows and BATCH_TOKENS padded
    tokens. Attention memory grows with the square of the width, and ONNX Runtime keeps its peak: 32 turns
    of 230 tokens in one batch held 400 MB more and ran 6x slower than batches of 4 (a diarized 278 s call)."""
    batches: list[list[int]] = []
    for index in order:  # widths only grow along `order`, so the newest window sets the batch's width
        if batches and len(batches[-1]) < BATCH_SIZE and (len(batches[-1]) + 1) * lengths[index] <= BATCH_TOKENS:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


@dataclass(frozen=True)
class LogisticHead:
    """A multinomial logistic regression over embeddings; rows of `coef` follow CLASSES."""

    coef: np.ndarray  # (3, 384)
    intercept: np.ndarray  # (3,)

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        logits = embeddings @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    @classmethod
    def load(cls, path: Path | None = None) -> LogisticHead:
        path = path or model_file(CLASSIFIER_FILE)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if tuple(data["classes"]) != CLASSES:
                raise ValueError(f"classes {data['classes']}, expected {list(CLASSES)}")
            return cls(np.asarray(data["coef"], dtype=np.float32), np.asarray(data["intercept"], dtype=np.float32))
        except (OSError, ValueError, KeyError) as error:
            raise ModelError(f"{path}: not a sentiment classifier ({first_line(error)})") from None


class SentimentModel:
    """Texts -> (n, 3) class probabilities in CLASSES order."""

    def __init__(self, encoder: MiniLMEncoder, head: LogisticHead) -> None:
        self.encoder = encoder
        self.head = head

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(CLASSES)), dtype=np.float32)
        return self.head.probabilities(self.encoder.embed(texts))


@lru_cache(maxsize=1)
def load_sentiment_model() -> SentimentModel:
    """The shipped model, loaded once per process (~0.3 s)."""
    return SentimentModel(MiniLMEncoder(), LogisticHead.load())
