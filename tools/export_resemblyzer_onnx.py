"""Re-create callscope/models/resemblyzer_ge2e.onnx from the Resemblyzer wheel on PyPI.

Needs, in a separate venv: pip install torch==2.13.0 onnx Resemblyzer==0.1.4 webrtcvad-wheels
(Resemblyzer's webrtcvad fails to import on new setuptools; webrtcvad-wheels provides the module).

    python tools/export_resemblyzer_onnx.py callscope/models/resemblyzer_ge2e.onnx
"""

import sys

import numpy as np
import onnxruntime
import torch
from resemblyzer import VoiceEncoder


def main(path: str) -> None:
    encoder = VoiceEncoder("cpu", verbose=False).eval()
    example = torch.randn(4, 160, 40)
    torch.onnx.export(
        encoder, (example,), path, input_names=["mels"], output_names=["embeds"],
        dynamic_axes={"mels": {0: "batch", 1: "frames"}, "embeds": {0: "batch"}}, opset_version=17, dynamo=False,
    )
    check = torch.randn(8, 160, 40)
    with torch.no_grad():
        expected = encoder(check).numpy()
    got = onnxruntime.InferenceSession(path).run(None, {"mels": check.numpy()})[0]
    print(f"max abs difference to torch: {np.abs(expected - got).max():.2e}")


if __name__ == "__main__":
    main(sys.argv[1])
