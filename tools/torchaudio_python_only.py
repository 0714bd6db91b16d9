"""Let pyannote.audio import on a CPU-only machine whose torchaudio wheel was built for CUDA.

The registry's torchaudio (2.11) is a CUDA build for a different torch than the CPU torch 2.13
used here, so its compiled extension fails to load (`libc10_cuda.so` missing) and with it
`import torchaudio`, and so `import pyannote.audio`. What pyannote.audio uses of torchaudio on
pre-loaded waveforms (Kaldi filterbanks, MFCC transforms) is plain Python on torch. torchaudio
itself runs without its extension when the library files are absent (it supports that for
packaged deployments), so this moves them aside, into `lib/disabled/`, only when they fail to load.

    python tools/torchaudio_python_only.py     # in the environment to repair; idempotent
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path


def _imports_cleanly() -> tuple[bool, str]:
    probe = subprocess.run([sys.executable, "-c", "import torchaudio"], capture_output=True, text=True)
    lines = probe.stderr.strip().splitlines()
    return probe.returncode == 0, lines[-1] if lines else ""


def main() -> int:
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or spec.origin is None:
        print("torchaudio is not installed: nothing to do")
        return 0
    works, error = _imports_cleanly()
    if works:
        print("torchaudio imports as installed: nothing to do")
        return 0
    library_dir = Path(spec.origin).parent / "lib"
    if "Could not load this library" not in error:
        print(f"torchaudio fails for another reason, left alone: {error}", file=sys.stderr)
        return 1
    aside = library_dir / "disabled"
    aside.mkdir(exist_ok=True)
    for library in library_dir.glob("*.so"):
        library.rename(aside / library.name)
    works, error = _imports_cleanly()
    if not works:
        print(f"torchaudio still fails without its extension: {error}", file=sys.stderr)
        return 1
    print(f"torchaudio now runs without its compiled extension (moved to {aside})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
