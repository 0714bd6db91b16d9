"""Labelled multi-speaker "meeting" clips for counting speakers (issue 15), built at run time.

Nothing here ships or is stored: every clip is cut, at run time, from the real recordings in
../shared/data (or $CALLSCOPE_TEST_DATA) into a folder the caller gives. A clip is 30 s of real
speech of 2, 3 or 4 DIFFERENT real people, one utterance after another with short pauses and some
overlaps, so its reference (who spoke when, RTTM) follows exactly from the construction.

Voices (one real person each, single-speaker speech only):
- `diane`, `sheila`: pyannote_sample/sample.wav, cut by its gold RTTM, overlapped speech left out;
- `jfk`: faster_whisper_tests/jfk.flac;
- `mit`: the English half (0-29 s) of faster_whisper_tests/multilingual.mp3;
- `demo_customer`, `demo_agent`: the two channels of guidance_conversation_analysis/demo-call.mp3;
- `repairs_customer`, `repairs_agent`: the two channels of lca_auto_repairs/Auto_Repairs_40...wav.
On the one-party-per-channel calls a channel's speech is taken only where the other channel is
silent (Silero VAD on both), so crosstalk never enters another voice's utterances.
Left out: hotwords.mp3 (3.8 s, and whether its speaker is multilingual.mp3's is unknown), the
German half of multilingual.mp3 (same file, speaker not certain to be the same), the two
utterances of stereo_diarization.wav (speakers unknown), pca_samples (two parties, no reference).

Utterances are the voice's Silero VAD regions (threshold 0.5, 300 ms pauses, 30 ms padding) or gold
turns, longer ones cut into equal pieces of at most 5 s. Each voice's utterances are split by time
into two halves: calibration clips draw from the first half, held-out clips from the second, so a
held-out clip never repeats audio a calibration clip used. Within a clip no utterance is used twice:
a voice with little speech (jfk 7.6 s, diane and sheila about 11 s in all) may fall silent early.

Each clip: speakers take turns (the one with least speech so far goes next, with some randomness;
never the same speaker twice in a row), each utterance at that voice's level (-26 dBFS +- 4 dB per
voice, +-1 dB per utterance); 80% of turns follow a pause of 0.15-0.8 s, 20% start 0.3-1.0 s before
the previous utterance ends (overlap, at most half the shorter utterance). Cut at 30 s, or 0.5 s
after the last utterance where the voices run out of speech first. Written as
16 kHz 16-bit WAV ("wide": the sources' own bandwidth, 8 kHz calls upsampled) and as 8 kHz G.711
mu-law WAV after a 300-3400 Hz band-pass ("phone": every voice through the same telephone channel,
so bandwidth no longer tells the 8 kHz calls' voices from the others).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench.devset` when run as a script

from bench.devset import telephone_band, write_pcm  # noqa: E402
from callscope.audio.decode import SAMPLE_RATE, decode  # noqa: E402

DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CLIP_SECS = 30.0
MAX_UTTERANCE_SECS = 5.0
MIN_UTTERANCE_SECS = 0.5
VAD = {"threshold": 0.5, "min_silence_duration_ms": 300, "speech_pad_ms": 30, "min_speech_duration_ms": 100}
SPLITS = ("calibration", "held_out")
VOICES = ("diane", "sheila", "jfk", "mit", "demo_customer", "demo_agent", "repairs_customer", "repairs_agent")


@dataclass(frozen=True)
class Utterance:
    start: float  # seconds in the source recording (which half it came from)
    samples: np.ndarray  # 16 kHz float32


@dataclass(frozen=True)
class ClipFile:
    name: str
    split: str
    band: str  # "wide" (16 kHz) or "phone" (8 kHz mu-law)
    path: str
    rttm: str
    speakers: tuple[str, ...]
    seed: int
    speech_secs: dict  # per speaker
    overlap_secs: float


# --- voices ----------------------------------------------------------------------------------

def _speech_regions(signal: np.ndarray) -> list[tuple[int, int]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    regions = get_speech_timestamps(np.ascontiguousarray(signal, np.float32), VadOptions(**VAD),
                                    sampling_rate=SAMPLE_RATE)
    return [(region["start"], region["end"]) for region in regions]


def _pieces(signal: np.ndarray, regions: list[tuple[int, int]]) -> list[Utterance]:
    """Regions as utterances; longer ones cut into equal pieces of at most MAX_UTTERANCE_SECS."""
    out = []
    for start, end in regions:
        count = int(np.ceil((end - start) / (MAX_UTTERANCE_SECS * SAMPLE_RATE)))
        bounds = np.linspace(start, end, count + 1).astype(int)
        out += [Utterance(first / SAMPLE_RATE, signal[first:last]) for first, last in zip(bounds[:-1], bounds[1:])
                if last - first >= MIN_UTTERANCE_SECS * SAMPLE_RATE]
    return out


def _alone(regions: list[tuple[int, int]], others: list[tuple[int, int]], margin: int) -> list[tuple[int, int]]:
    """Parts of `regions` at least `margin` samples away from every region of `others`."""
    out = []
    for start, end in regions:
        pieces = [(start, end)]
        for other_start, other_end in others:
            low, high = other_start - margin, other_end + margin
            pieces = [part for first, last in pieces
                      for part in ((first, min(last, low)), (max(first, high), last)) if part[1] > part[0]]
        out += pieces
    return out


def _gold_turns(path: Path) -> dict[str, list[tuple[int, int]]]:
    turns: dict[str, list[tuple[int, int]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        start, duration = float(fields[3]), float(fields[4])
        turns.setdefault(fields[7], []).append((int(start * SAMPLE_RATE), int((start + duration) * SAMPLE_RATE)))
    return turns


def load_voices(data: Path = DATA) -> dict[str, list[Utterance]]:
    """Each real speaker's single-speaker utterances, 16 kHz."""
    voices = {}
    sample = decode(data / "pyannote_sample" / "sample.wav").samples[0]
    turns = _gold_turns(data / "pyannote_sample" / "sample.rttm")
    for name, label in (("diane", "speaker90"), ("sheila", "speaker91")):
        others = [turn for other, spans in turns.items() if other != label for turn in spans]
        voices[name] = _pieces(sample, _alone(turns[label], others, 0))
    jfk = decode(data / "faster_whisper_tests" / "jfk.flac").samples[0]
    voices["jfk"] = _pieces(jfk, _speech_regions(jfk))
    english = decode(data / "faster_whisper_tests" / "multilingual.mp3").samples[0][: int(29.0 * SAMPLE_RATE)]
    voices["mit"] = _pieces(english, _speech_regions(english))
    for prefix, path in (("demo", data / "guidance_conversation_analysis" / "demo-call.mp3"),
                         ("repairs", data / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav")):
        channels = decode(path).samples
        regions = [_speech_regions(channel) for channel in channels]
        for index, role in enumerate(("customer", "agent")):
            clean = _alone(regions[index], regions[1 - index], int(0.2 * SAMPLE_RATE))
            voices[f"{prefix}_{role}"] = _pieces(channels[index], clean)
    return voices


def half(utterances: list[Utterance], split: str) -> list[Utterance]:
    """The utterances of the first (calibration) or second (held-out) half of a voice's speech time."""
    ordered = sorted(utterances, key=lambda item: item.start)
    spoken = np.cumsum([len(item.samples) for item in ordered])
    first = [item for item, upto in zip(ordered, spoken) if upto - len(item.samples) / 2 <= spoken[-1] / 2]
    return first if split == SPLITS[0] else ordered[len(first):]


# --- clips -----------------------------------------------------------------------------------

def build_clip(pools: dict[str, list[Utterance]], seed: int, secs: float = CLIP_SECS) -> tuple[np.ndarray, Annotation]:
    """A `secs` long 16 kHz clip of the voices in `pools` taking turns, and its reference."""
    rng = np.random.default_rng(seed)
    names = list(pools)
    level_db = {name: -26.0 + rng.uniform(-4, 4) for name in names}
    queues = {name: list(rng.permutation(len(pools[name]))) for name in names}
    spoken = dict.fromkeys(names, 0.0)
    length = int(secs * SAMPLE_RATE)
    signal = np.zeros(length, np.float64)
    reference = Annotation()
    cursor, last, previous_secs = rng.uniform(0.2, 0.6), None, 0.0
    while cursor < secs - MIN_UTTERANCE_SECS:
        speaker = _next_speaker([name for name in names if queues[name]], spoken, last, rng)
        if speaker is None:
            break
        utterance = pools[speaker][queues[speaker].pop()].samples
        utterance_secs = len(utterance) / SAMPLE_RATE
        if last is not None and rng.random() < 0.2:
            cursor -= min(rng.uniform(0.3, 1.0), 0.5 * min(previous_secs, utterance_secs))
        first = int(cursor * SAMPLE_RATE)
        piece = _at_level(utterance, level_db[speaker] + rng.uniform(-1, 1))[: length - first]
        signal[first : first + len(piece)] += piece
        segment = Segment(first / SAMPLE_RATE, (first + len(piece)) / SAMPLE_RATE)
        reference[segment, reference.new_track(segment)] = speaker
        spoken[speaker] += len(piece) / SAMPLE_RATE
        cursor, last, previous_secs = segment.end + rng.uniform(0.15, 0.8), speaker, utterance_secs
    signal = signal[: min(length, int((reference.get_timeline().extent().end + 0.5) * SAMPLE_RATE))]
    peak = float(np.abs(signal).max())
    if peak > 0.95:
        signal *= 0.95 / peak
    return signal.astype(np.float32), reference


def _next_speaker(names: list[str], spoken: dict[str, float], last: str | None, rng) -> str | None:
    """Usually the speaker with the least speech so far, sometimes any other; never `last` again.
    `names`: the voices with utterances left (none is ever repeated: a voice may fall silent)."""
    candidates = [name for name in names if name != last] or names  # the last voice left goes on alone
    if not candidates:
        return None
    if rng.random() < 0.7:
        return min(candidates, key=lambda name: (spoken[name], rng.random()))
    return candidates[int(rng.integers(len(candidates)))]


def _at_level(samples: np.ndarray, level_db: float) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) + 1e-12
    return samples.astype(np.float64) * (10 ** (level_db / 20) / rms)


def _write_rttm(reference: Annotation, uri: str, path: Path) -> None:
    lines = [f"SPEAKER {uri} 1 {segment.start:.3f} {segment.duration:.3f} <NA> <NA> {label} <NA> <NA>"
             for segment, _, label in reference.itertracks(yield_label=True)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def clip_plan(split: str, counts=(2, 3, 4), per_count: int = 5) -> list[tuple[str, tuple[str, ...], int]]:
    """(name, voices, seed) of each clip: a fixed seed per split, count and index; the voices drawn at
    random among those used least so far in the split, so every voice appears about equally often."""
    used = dict.fromkeys(VOICES, 0)
    plan = []
    for count in counts:
        for index in range(per_count):
            seed = 1000 * SPLITS.index(split) + 100 * count + index
            rng = np.random.default_rng(seed)
            voices = tuple(sorted(sorted(VOICES, key=lambda name: (used[name], rng.random()))[:count]))
            for name in voices:
                used[name] += 1
            plan.append((f"{split[:3]}-{count}spk-{index}", voices, seed))
    return plan


def build_meetings(out: Path, data: Path = DATA, splits=SPLITS, counts=(2, 3, 4), per_count: int = 5,
                   bands=("wide", "phone")) -> list[ClipFile]:
    """Write every clip of the plan (WAV + RTTM per band) into `out`; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    voices = load_voices(data)
    written = []
    for split in splits:
        pools = {name: half(utterances, split) for name, utterances in voices.items()}
        for name, speakers, seed in clip_plan(split, counts, per_count):
            signal, reference = build_clip({speaker: pools[speaker] for speaker in speakers}, seed)
            overlap = reference.get_overlap().duration()
            for band in bands:
                uri = f"{name}-{band}"
                path = out / f"{uri}.wav"
                if band == "wide":
                    write_pcm(path, signal, SAMPLE_RATE, "pcm_s16le")
                else:
                    write_pcm(path, telephone_band(signal, SAMPLE_RATE), 8000, "pcm_mulaw")
                rttm = out / f"{uri}.rttm"
                _write_rttm(reference, uri, rttm)
                written.append(ClipFile(uri, split, band, str(path), str(rttm), speakers, seed,
                                        {label: round(reference.label_duration(label), 2) for label in speakers},
                                        round(overlap, 2)))
    (out / "manifest.json").write_text(json.dumps([asdict(item) for item in written], indent=1), encoding="utf-8")
    return written


if __name__ == "__main__":
    for item in build_meetings(Path(sys.argv[1])):
        print(item.name, item.speakers, item.speech_secs, item.overlap_secs)
