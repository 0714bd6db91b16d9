"""End-to-end speed of `analyze` (default settings, one process) against plain faster-whisper on the
same calls in the same process (issue 15: at least 0.8 of plain's speed).

    python bench/bench_speed.py --repeat 2 --out /tmp/speed.json
    python bench/bench_speed.py --diarizer none   # mono calls then keep one speaker

Per call, alternately: plain faster-whisper as its README shows it (decode_audio, beam 5, VAD, word
timestamps, the same bundled model, int8, every core) and `analyze_call` with the default engines
(loaded once, before the first call, and the first call run once untimed so lazy loads are not
counted); the best of --repeat runs of each. Stage times come from analyze's own stage hook
(`diarizing` covers diarization and the speech regions' second transcriptions). The speed ratio is
plain's seconds over analyze's, summed over the calls.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_memory import CALLS  # noqa: E402


def plain_seconds(model, path: Path) -> float:
    from faster_whisper import decode_audio

    began = time.perf_counter()
    segments, _ = model.transcribe(decode_audio(str(path)), language="en", beam_size=5, vad_filter=True,
                                   word_timestamps=True)
    sum(len(segment.words) for segment in segments)  # the generator does the work
    return time.perf_counter() - began


def analyze_seconds(engines, options, path: Path) -> tuple[float, dict[str, float]]:
    from callscope.analysis.call import analyze_call

    marks: list[tuple[str, float]] = []
    began = time.perf_counter()
    analyze_call(path, engines.transcriber, options, on_stage=lambda stage: marks.append((stage, time.perf_counter())),
                 diarizer=engines.diarizer, enrichers=engines.enrichers, translator=engines.translator,
                 insights=engines.insights)
    ended = time.perf_counter()
    stages = {stage: round((marks[index + 1][1] if index + 1 < len(marks) else ended) - at, 2)
              for index, (stage, at) in enumerate(marks)}
    return ended - began, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("calls", nargs="*", type=Path, default=CALLS)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--diarizer", default=None, help="another diarizer than the default (e.g. none)")
    args = parser.parse_args()

    from faster_whisper import WhisperModel

    from callscope.analysis.engines import load_engines
    from callscope.options import AnalyzeOptions
    from callscope.transcription.models import resolve_model

    options = AnalyzeOptions() if args.diarizer is None else AnalyzeOptions(diarizer=args.diarizer)
    plain = WhisperModel(resolve_model(options.transcription.model), device="cpu", compute_type="int8",
                         cpu_threads=options.transcription.threads)
    engines = load_engines(options)
    analyze_seconds(engines, options, args.calls[0])  # lazy model loads, not timed
    rows = []
    for path in args.calls:
        plains, analyses = [], []
        for _ in range(args.repeat):
            plains.append(plain_seconds(plain, path))
            analyses.append(analyze_seconds(engines, options, path))
        best = min(analyses, key=lambda item: item[0])
        rows.append({"call": path.name, "plain_s": round(min(plains), 2), "analyze_s": round(best[0], 2),
                     "stages": best[1], "ratio": round(min(plains) / best[0], 2)})
        print(json.dumps(rows[-1]), flush=True)
    total_plain, total_analyze = sum(row["plain_s"] for row in rows), sum(row["analyze_s"] for row in rows)
    summary = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                           "load_average": os.getloadavg()},
               "threads": options.transcription.threads, "whisper_workers": engines.transcriber.workers,
               "diarizer": options.diarizer, "calls": rows,
               "plain_s": round(total_plain, 2), "analyze_s": round(total_analyze, 2),
               "ratio": round(total_plain / total_analyze, 2)}
    print(f"plain {total_plain:.1f} s, analyze {total_analyze:.1f} s: analyze at {summary['ratio']} of plain's speed")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
