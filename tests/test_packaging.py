"""What users install: the schema ships, the sample calls and tests do not."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_the_schema_and_no_sample_audio(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("callscope-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "callscope/schemas/pca.schema.json" in names
    assert "callscope/speakers/role_phrases.json" in names
    assert {"callscope/models/segmentation-3.0.onnx", "callscope/models/resemblyzer_ge2e.onnx"} <= set(names)
    assert {"callscope/models/minilm_l6_v2_f16.onnx", "callscope/models/minilm_tokenizer.json",
            "callscope/models/sentiment_logreg.json", "callscope/enrichment/issue_patterns.yaml",
            "callscope/enrichment/categories/default_rules.yaml"} <= set(names)
    assert "callscope/cli/main.py" in names
    assert not [name for name in names if name.endswith((".wav", ".mp3", ".flac"))]
    assert not [name for name in names if name.startswith(("tests/", "examples/", "bench/"))]
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "callscope = callscope.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
