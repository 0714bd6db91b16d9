"""How much speech faster-whisper's Silero VAD keeps, as the level of one recording changes, and
with callscope's levelling (callscope.audio.vad) in front of it (issue 15).

    python bench/bench_vad_level.py --devset /tmp/devset --out /tmp/vad-level.json

Per dev-set file (bench/devset.py; a stereo file mixed to mono and each channel alone) and per
non-speech clip (60 s of noise, a tone, synthetic music; bench/bench_asr_vs_plain.py), the seconds
the VAD keeps with 300 ms silences (TRANSCRIPTION_VAD):
- `as given`, and the same samples scaled to a quiet (x0.01) and a very quiet (x0.003) copy;
- levelled to each of several targets (the 99.9th percentile of |x| brought to it), and what
  callscope's default levelling keeps on the loud, quiet and very quiet copy (one figure each: the
  levelling makes them one signal unless the gain cap is reached).
Seconds of gold speech are given where the set has an RTTM; the jfk and mit clips are continuous
speech (their duration less leading and trailing silence is close to it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_asr_vs_plain import nonspeech_clips, unlevelled_chunks  # noqa: E402
from devset import build_devset  # noqa: E402

from callscope.audio import vad  # noqa: E402
from callscope.audio.decode import decode  # noqa: E402
from callscope.evaluation.rttm import read_rttm  # noqa: E402

# Pauses of 300 ms split, as the channels' speech regions use (callscope.speakers.regions) and as
# transcription did when this was measured; transcription now uses faster-whisper's 2 s.
TRANSCRIPTION_VAD = {"min_silence_duration_ms": 300}
TARGETS = (0.03, 0.06, 0.1, 0.125, 0.25, 0.5, 1.0)
QUIET_SCALES = (0.01, 0.003)
AUDIO = (".wav", ".mp3", ".flac")


def kept_seconds(samples: np.ndarray, gain: float = 1.0) -> float:
    chunks = unlevelled_chunks(samples * gain, **TRANSCRIPTION_VAD)
    return round(sum(chunk.end - chunk.start for chunk in chunks) / vad.SAMPLE_RATE, 2)


def levelled_seconds(samples: np.ndarray) -> float:
    chunks = vad.speech_chunks(samples, **TRANSCRIPTION_VAD)
    return round(sum(chunk.end - chunk.start for chunk in chunks) / vad.SAMPLE_RATE, 2)


def gold_speech_seconds(rttm: Path) -> float | None:
    """Seconds in which anyone speaks, by the gold RTTM beside the file (None without one)."""
    if not rttm.exists():
        return None
    return round(sum(annotation.get_timeline().support().duration() for annotation in read_rttm(rttm).values()), 2)


def signals(devset: Path, scratch: Path) -> list[tuple[str, np.ndarray, float | None]]:
    found = []
    for path in sorted(p for p in devset.iterdir() if p.suffix in AUDIO):
        samples = decode(path).samples  # (channels, samples)
        gold = gold_speech_seconds(path.with_suffix(".rttm"))
        if len(samples) > 1:
            found.append((f"{path.stem} (mix)", samples.mean(axis=0), gold))
            found += [(f"{path.stem} (channel {index})", channel, None) for index, channel in enumerate(samples)]
        else:
            found.append((path.stem, samples[0], gold))
    for name, path in nonspeech_clips(scratch).items():
        found.append((name, decode(path).samples[0], 0.0))
    return found


def measure(name: str, samples: np.ndarray, gold: float | None) -> dict:
    loud = float(np.percentile(np.abs(samples), vad.LOUD_PERCENTILE))
    row = {"file": name, "seconds": round(samples.size / vad.SAMPLE_RATE, 1), "gold_speech": gold,
           "p99.9": round(loud, 4), "as_given": kept_seconds(samples)}
    row.update({f"x{scale}": kept_seconds(samples, scale) for scale in QUIET_SCALES})
    row.update({f"target {target}": kept_seconds(samples, target / loud if loud else 1.0) for target in TARGETS})
    row["levelled"] = levelled_seconds(samples)
    row.update({f"levelled x{scale}": levelled_seconds(samples * scale) for scale in QUIET_SCALES})
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devset", type=Path, default=None,
                        help="a folder built by bench/devset.py (default: build one)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        devset = args.devset
        if devset is None:
            devset = Path(scratch) / "devset"
            build_devset(devset)
        rows = []
        for name, samples, gold in signals(devset, Path(scratch)):
            rows.append(measure(name, samples, gold))
            print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps({"target_level": vad.TARGET_LEVEL, "loud_percentile": vad.LOUD_PERCENTILE,
                                        "max_gain": vad.MAX_GAIN, "vad": TRANSCRIPTION_VAD, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
