"""Peak memory of one `callscope analyze` process over a batch of real calls, beside plain
faster-whisper transcribing the same files in one process (issue 15: under 1.2 GB).

    python bench/bench_memory.py                          # the default set of calls below
    python bench/bench_memory.py --python /tmp/demovenv/bin/python --out /tmp/memory.json

Each system runs in a fresh child process of the given interpreter (use the default install's, as a
user gets it: `pip install callscope`, no torch); its peak resident set size is the kernel's
(`wait4`'s ru_maxrss), so native memory (ONNX Runtime, CTranslate2) counts. Default calls: the two
of examples/calls (stereo MP3 at 8 kHz, 16 kHz mono WAV) and, from ../shared/data, the 8 kHz stereo
auto-repairs call and the PCA mono call, copied into one folder, analysed with default settings
(`--jobs 1`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", ROOT.parent / "shared" / "data"))
CALLS = [
    ROOT / "examples" / "calls" / "demo-call.mp3",
    ROOT / "examples" / "calls" / "pyannote-sample.wav",
    DATA / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav",
    DATA / "pca_samples" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav",
]
GOAL_BYTES = 1.2e9
# Plain faster-whisper as its README shows it, with the model callscope uses by default.
PLAIN = """
import sys
from faster_whisper import WhisperModel, decode_audio
from callscope.options import TranscriptionOptions
from callscope.transcription.models import resolve_model
model = WhisperModel(resolve_model(TranscriptionOptions().model), device="cpu", compute_type="int8")
for path in sys.argv[1:]:
    segments, _ = model.transcribe(decode_audio(path), language="en", beam_size=5, vad_filter=True,
                                   word_timestamps=True)
    print(path, sum(len(segment.words) for segment in segments))
"""


def peak_of(command: list[str]) -> dict:
    """Run `command`; its peak RSS (bytes) and wall time (s)."""
    began = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    error = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:3]} failed: {error.strip().splitlines()[-1] if error.strip() else status}")
    return {"peak_bytes": usage.ru_maxrss * 1024, "seconds": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="the interpreter of the install to measure")
    parser.add_argument("calls", nargs="*", type=Path, default=CALLS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "calls"
        folder.mkdir()
        for call in args.calls:
            shutil.copy(call, folder / call.name)
        files = sorted(str(path) for path in folder.iterdir())
        analyze = peak_of([args.python, "-c", "from callscope.cli import main; main()", "analyze", str(folder),
                           "--out", str(Path(scratch) / "out"), "--quiet"])
        plain = peak_of([args.python, "-c", PLAIN, *files])
    figures = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": args.python},
        "calls": [call.name for call in args.calls],
        "analyze": analyze, "plain": plain,
        "ratio": round(analyze["peak_bytes"] / plain["peak_bytes"], 2),
        "goal_met": analyze["peak_bytes"] < GOAL_BYTES,
    }
    for name in ("analyze", "plain"):
        print(f"{name:8s} peak {figures[name]['peak_bytes'] / 1e9:.3f} GB"
              f" ({figures[name]['peak_bytes'] / 2**20:.0f} MiB)"
              f"  {figures[name]['seconds']} s")
    print(f"analyze / plain peak: {figures['ratio']}; under 1.2 GB: {figures['goal_met']}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
