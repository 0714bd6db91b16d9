"""Speaker counting benchmark (issue 15): does `--speakers auto` find how many people speak?

    .venv/bin/python bench/bench_speaker_count.py --out /tmp/count.json
    .venv/bin/python bench/bench_speaker_count.py --compare docs/bench-results-speaker-count-before.json
    .venv/bin/python bench/bench_speaker_count.py --only hel- --no-calls     # held-out clips alone

Files, built at run time into a temporary folder (bench/meetings.py; nothing is stored):
- 30 "meeting" clips of 2, 3 and 4 different real speakers (5 per count and split): 15 calibration
  clips (the first half of each voice's speech) and 15 held-out clips (the second half, other voice
  combinations), each as 16 kHz WAV ("wide") and as 8 kHz mu-law after a telephone band-pass
  ("phone"): 60 files with exact references.
- the real two-party calls: pyannote_sample/sample.wav (gold RTTM; also as an 8 kHz mu-law
  telephone version), and, unless `--no-calls`, the two one-party-per-channel calls mixed to mono
  (reference: Silero VAD per channel, bench_diarization.channel_reference) and the PCA mono call
  (no reference: speakers found only).

Each file is decoded by callscope (`callscope.audio.decode`, 16 kHz) and diarized by
`EmbeddedDiarizer(threads=--threads)` with `SpeakerCount(exact=None)` (what `--speakers auto` gives,
default --min-speakers 1 --max-speakers 6) and with the true count given (`SpeakerCount(exact=n)`;
for the real calls that is `--speakers 2`, the default). DER (pyannote.metrics via
callscope.evaluation.diarization, overlap scored, whole file) at collar 0 and 0.25 (total width).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment, Timeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench.*` when run as a script

from bench.bench_diarization import callscope_code, channel_reference, package_versions, to_annotation  # noqa: E402
from bench.devset import telephone_band, write_pcm  # noqa: E402
from bench.meetings import DATA, build_meetings  # noqa: E402
from callscope.audio.decode import SAMPLE_RATE, decode  # noqa: E402
from callscope.evaluation.diarization import COLLAR_MEANING, DiarizationScorer  # noqa: E402
from callscope.evaluation.rttm import read_rttm  # noqa: E402
from callscope.speakers.diarization import SpeakerCount  # noqa: E402

COLLARS = (0.0, 0.25)
AUTO_REPAIRS = DATA / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav"
DEMO_CALL = DATA / "guidance_conversation_analysis" / "demo-call.mp3"
PCA_MONO = DATA / "pca_samples" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"


@dataclass(frozen=True)
class Item:
    name: str
    group: str  # calibration / held_out / call
    band: str
    path: Path
    speakers: int | None  # true count; None where unknown
    reference: Annotation | None
    mix_channels: bool = False


def _lscpu_model() -> str | None:
    try:
        done = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in done.stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return None


def meeting_items(folder: Path, only: list[str] | None) -> list[Item]:
    items = []
    for clip in build_meetings(folder):
        if only and not any(part in clip.name for part in only):
            continue
        (reference,) = read_rttm(Path(clip.rttm)).values()
        items.append(Item(clip.name, clip.split, clip.band, Path(clip.path), len(clip.speakers), reference))
    return items


def call_items(folder: Path, long_calls: bool) -> list[Item]:
    """The real two-party calls (and the PCA mono call, whose reference is unknown)."""
    sample = DATA / "pyannote_sample" / "sample.wav"
    (gold,) = read_rttm(DATA / "pyannote_sample" / "sample.rttm").values()
    phone = write_pcm(folder / "sample-phone.wav", telephone_band(decode(sample).samples[0], SAMPLE_RATE), 8000,
                      "pcm_mulaw")
    items = [Item("sample", "call", "wide", sample, 2, gold), Item("sample-phone", "call", "phone", phone, 2, gold)]
    if long_calls:
        for name, path in (("auto-repairs (mixed)", AUTO_REPAIRS), ("demo-call (mixed)", DEMO_CALL)):
            reference, _ = channel_reference(decode(path).samples, ("customer", "agent"), name)
            items.append(Item(name, "call", "phone", path, 2, reference, mix_channels=True))
        items.append(Item("pca-mono (no reference)", "call", "phone", PCA_MONO, 2, None))
    return items


def run_item(diarizer, item: Item) -> dict:
    channels = decode(item.path).samples
    signal = channels.mean(axis=0).astype(np.float32) if item.mix_channels else channels[0]
    duration = len(signal) / SAMPLE_RATE
    uem = Timeline([Segment(0, duration)])
    modes = {"auto": SpeakerCount(exact=None), "given": SpeakerCount(exact=item.speakers or 2)}
    row = {"file": item.name, "group": item.group, "band": item.band, "secs": round(duration, 2),
           "true_speakers": item.speakers}
    for mode, count in modes.items():
        started = time.perf_counter()
        hypothesis = to_annotation(diarizer.diarize(signal, count), item.name)
        row[mode] = {"speakers": len(hypothesis.labels()), "secs": round(time.perf_counter() - started, 2)}
        if item.reference is not None:
            scores = DiarizationScorer(COLLARS).add(item.reference, hypothesis, uem)
            row[mode].update({f"der_{collar}": round(score.der, 4) for collar, score in zip(COLLARS, scores)})
            row[mode]["confusion_0.0"] = round(scores[0].confusion, 4)
    return row


def summary(rows: list[dict]) -> dict:
    """Per group and band: clips whose count auto got right, and mean DER (collar 0) both ways."""
    out = {}
    for key in sorted({(row["group"], row["band"]) for row in rows}):
        chosen = [row for row in rows if (row["group"], row["band"]) == key and row["true_speakers"]]
        scored = [row for row in chosen if "der_0.0" in row["auto"]]

        def mean_der(mode: str) -> float | None:
            return round(float(np.mean([row[mode]["der_0.0"] for row in scored])), 4) if scored else None

        out[" ".join(key)] = {
            "files": len(chosen),
            "auto_count_right": sum(row["auto"]["speakers"] == row["true_speakers"] for row in chosen),
            "mean_der_0_auto": mean_der("auto"),
            "mean_der_0_given": mean_der("given"),
        }
    return out


def _der(part: dict, collar: str) -> str:
    return f"{part[collar]:.1%}" if collar in part else "-"


def print_table(rows: list[dict], before: dict[str, dict] | None) -> None:
    head = "| file | true | auto found | DER auto c0 / c0.25 | DER given count c0 / c0.25 |"
    if before:
        head += " before: auto found | before: DER auto c0 | before: DER given c0 |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for row in rows:
        line = (f"| {row['file']} | {row['true_speakers'] or '?'} | {row['auto']['speakers']} | "
                f"{_der(row['auto'], 'der_0.0')} / {_der(row['auto'], 'der_0.25')} | "
                f"{_der(row['given'], 'der_0.0')} / {_der(row['given'], 'der_0.25')} |")
        if before:
            old = before.get(row["file"])
            line += (f" {old['auto']['speakers']} | {_der(old['auto'], 'der_0.0')} | {_der(old['given'], 'der_0.0')} |"
                     if old else " - | - | - |")
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--compare", type=Path, help="a JSON of an earlier run: its counts and DER beside these")
    parser.add_argument("--only", nargs="+", metavar="TEXT", help="only the clips whose name contains one of these")
    parser.add_argument("--no-calls", action="store_true", help="leave out the real calls")
    parser.add_argument("--short-calls-only", action="store_true", help="only the 30 s sample of the real calls")
    parser.add_argument("--keep", type=Path, help="build the clips here (kept) instead of a temporary folder")
    parser.add_argument("--note", help="free text stored in the JSON")
    args = parser.parse_args()

    from callscope.speakers.embedded import EmbeddedDiarizer

    code = callscope_code()
    diarizer = EmbeddedDiarizer(threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="callscope-meetings-") as temporary:
        folder = args.keep or Path(temporary)
        items = meeting_items(folder, args.only)
        if not args.no_calls:
            items += call_items(folder, long_calls=not args.short_calls_only)
        rows = []
        for item in items:
            rows.append(run_item(diarizer, item))
            print(f"{item.name}: true {item.speakers}, auto {rows[-1]['auto']} given {rows[-1]['given']}",
                  file=sys.stderr)
    before = None
    if args.compare:
        before = {row["file"]: row for row in json.loads(args.compare.read_text(encoding="utf-8"))["rows"]}
    print_table(rows, before)
    totals = summary(rows)
    print(json.dumps(totals, indent=1))
    report = {
        "benchmark": "speaker counting with --speakers auto on real multi-speaker clips (issue 15)",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "collar_meaning": COLLAR_MEANING,
        "machine": {"cpu": _lscpu_model(), "cpus": os.cpu_count(), "threads": args.threads,
                    "python": platform.python_version(), "platform": platform.platform()},
        "packages": package_versions(),
        "callscope_code": code,
        "note": args.note,
        "summary": totals,
        "rows": rows,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
