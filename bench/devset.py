"""A labelled development set for ASR benchmarks: real recordings with exact references, and
telephone-channel versions of each with the reference carried over (issue 15).

    python bench/devset.py /tmp/devset                  # builds the set, prints what it wrote
    python -c "from bench.devset import build_devset; build_devset(Path('/tmp/devset'))"

Nothing is copied into the package: the set is built in the folder given, from ../shared/data
(or $CALLSCOPE_TEST_DATA). Every audio file has a reference of the same name beside it, the way
callscope's accuracy lab finds them (callscope.accuracy.references.find_labelled): `<name>.stm`
(speakers and times) or `<name>.txt`; two-speaker files also get `<name>.rttm` (who spoke when) for
diarization. `manifest.json` lists every file with how it was made.

Sources (references as exact as the data allow; read ../shared/data/SOURCES.md):
- `sample`: pyannote_sample/sample.wav (30 s, 16 kHz, two speakers), gold STM and RTTM.
- `jfk`: faster_whisper_tests/jfk.flac (11 s), exact reference (refs.tsv).
- `mit`: the English half of faster_whisper_tests/multilingual.mp3 (0-30 s; the German half
  follows after 1.9 s of digital silence), reference the MIT License permission paragraph as
  refs.tsv says. The spoken text leaves out the parenthesis `(the "Software")`: tiny.en and base
  both write it without it, and so does the reference here.
Left out: stereo_diarization.wav (its two utterances overlap in time and refs.tsv gives whisper-tiny's
output, not a checked transcript) and hotwords.mp3 (only one term is known).

Variants of each source (8 kHz ones go through a 300-3400 Hz telephone band-pass first):
- `orig`: the source as it is (its own format and rate);
- `mulaw`: 8 kHz G.711 mu-law WAV, normalised to full scale (loud, as phone systems' AGC leaves calls);
- `u8`: 8 kHz 8-bit unsigned PCM WAV, normalised to full scale;
- `mp3`: 8 kHz MP3 at 16 kbit/s, normalised to full scale;
- `hot`: 8 kHz mu-law WAV driven 6 dB past full scale and clipped there (a hot line: FFmpeg's float
  resampler overshoots full scale most on such square-topped waveforms);
- `noise`: 8 kHz 16-bit WAV with seeded white noise (band-passed like the speech) at 10 dB SNR
  against the active speech level (20 ms frames within 40 dB of the loudest);
- `stereo` (two-speaker sources only): 8 kHz 16-bit stereo WAV, one party per channel (channel 0
  the first speaker of the STM, channel 1 the other), cut from the mono source by the gold RTTM
  turns widened by 0.1 s, with 10 ms fades; normalised to full scale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
MIT_TEXT = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and "
    "associated documentation files, to deal in the Software without restriction, including without "
    "limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies "
    "of the Software, and to permit persons to whom the Software is furnished to do so, subject to the "
    "following conditions: The above copyright notice and this permission notice shall be included in all "
    "copies or substantial portions of the Software."
)
MIT_END_SECS = 30.0  # the English half of multilingual.mp3 ends at 29.1 s; German starts at 31.0 s
TELEPHONE_RATE = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)
MP3_BIT_RATE = 16000
NOISE_SNR_DB = 10.0
FULL_SCALE_PEAK = 1.0  # the loud variants' peak: full scale (int16 32767, u8 255)
TURN_PAD_SECS = 0.1
FADE_SECS = 0.01
HOT_GAIN_DB = 6.0  # the hot variant: this far over full scale, then clipped
VARIANTS = ("orig", "mulaw", "u8", "mp3", "hot", "noise", "stereo")


@dataclass(frozen=True)
class DevFile:
    audio: str  # file name in the set's folder
    reference: str  # its reference file (.stm or .txt)
    rttm: str | None  # who spoke when, for two-speaker sources
    source: str  # sample, jfk, mit
    variant: str  # one of VARIANTS
    sample_rate: int
    channels: int
    codec: str
    detail: str  # how it was made, in words
    seed: int | None = None  # the noise's


@dataclass(frozen=True)
class _Source:
    name: str
    rate: int
    samples: np.ndarray  # mono float32 at `rate`
    original: Path | None  # copied as the `orig` variant (None: written from `samples`)
    stm: list[tuple[str, float, float, str]] | None  # (speaker, start, end, text)
    text: str | None  # plain reference when there is no STM
    rttm: list[tuple[float, float, str]] | None  # (start, duration, speaker)


def build_devset(out: Path, data: Path = DATA, variants: tuple[str, ...] = VARIANTS) -> list[DevFile]:
    """Write the set into `out` (created; files already there are overwritten) and return its files."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[DevFile] = []
    for source in _sources(data):
        for variant in variants:
            made = _make_variant(out, source, variant)
            if made is not None:
                files.append(made)
    (out / "manifest.json").write_text(json.dumps({
        "built_from": str(data), "files": [asdict(item) for item in files],
    }, indent=2) + "\n")
    return files


# --- sources ---------------------------------------------------------------------------------

def _sources(data: Path) -> list[_Source]:
    sample_dir = data / "pyannote_sample"
    tests = data / "faster_whisper_tests"
    rate, sample = read_mono(sample_dir / "sample.wav")
    jfk_rate, jfk = read_mono(tests / "jfk.flac")
    mit_rate, mit = read_mono(tests / "multilingual.mp3")
    _check_jfk_reference(tests / "refs.tsv")
    return [
        _Source("sample", rate, sample, sample_dir / "sample.wav", _read_stm(sample_dir / "sample.stm"), None,
                _read_rttm(sample_dir / "sample.rttm")),
        _Source("jfk", jfk_rate, jfk, tests / "jfk.flac", None, JFK_TEXT, None),
        _Source("mit", mit_rate, mit[: int(MIT_END_SECS * mit_rate)], None, None, MIT_TEXT, None),
    ]


def _check_jfk_reference(refs: Path) -> None:
    for line in refs.read_text().splitlines()[1:]:
        fields = line.split("\t")
        if fields[0] == "jfk.flac" and fields[2] != JFK_TEXT:
            raise SystemExit(f"{refs}: jfk's reference is not the one this set was built for")


def read_mono(path: Path) -> tuple[int, np.ndarray]:
    """(rate, mono float32 samples) at the file's own rate, channels averaged, as FFmpeg decodes it."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(stream):
            frame.pts = None
            chunks += [out.to_ndarray()[0] for out in resampler.resample(frame)]
        chunks += [out.to_ndarray()[0] for out in resampler.resample(None)]
    return rate, np.concatenate(chunks).astype(np.float32)


def _read_stm(path: Path) -> list[tuple[str, float, float, str]]:
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 5 and not line.startswith(";;"):
            rows.append((fields[2], float(fields[3]), float(fields[4]), " ".join(fields[5:])))
    return rows


def _read_rttm(path: Path) -> list[tuple[float, float, str]]:
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            rows.append((float(fields[3]), float(fields[4]), fields[7]))
    return rows


# --- variants --------------------------------------------------------------------------------

def _make_variant(out: Path, source: _Source, variant: str) -> DevFile | None:
    stem = f"{source.name}_{variant}"
    if variant == "orig":
        if source.original is not None:
            audio = out / f"{stem}{source.original.suffix}"
            shutil.copyfile(source.original, audio)
        else:
            audio = out / f"{stem}.wav"
            write_pcm(audio, source.samples[None, :], source.rate, "pcm_s16le")
        return _finish(out, source, variant, audio, source.rate, 1, _codec_of(audio), "the source as it is")
    if variant == "stereo" and source.rttm is None:
        return None
    telephone = telephone_band(source.samples, source.rate)
    if variant == "mulaw":
        audio = write_pcm(out / f"{stem}.wav", _peak(telephone)[None, :], TELEPHONE_RATE, "pcm_mulaw")
        detail = "8 kHz band-passed, peak at full scale, G.711 mu-law WAV"
    elif variant == "u8":
        audio = write_pcm(out / f"{stem}.wav", _peak(telephone)[None, :], TELEPHONE_RATE, "pcm_u8")
        detail = "8 kHz band-passed, peak at full scale, 8-bit unsigned WAV"
    elif variant == "mp3":
        audio = write_mp3(out / f"{stem}.mp3", _peak(telephone)[None, :], TELEPHONE_RATE, MP3_BIT_RATE)
        detail = f"8 kHz band-passed, peak at full scale, MP3 {MP3_BIT_RATE // 1000} kbit/s"
    elif variant == "hot":
        hot = _peak(telephone) * np.float32(10 ** (HOT_GAIN_DB / 20))
        audio = write_pcm(out / f"{stem}.wav", hot[None, :], TELEPHONE_RATE, "pcm_mulaw")
        detail = f"8 kHz band-passed, {HOT_GAIN_DB:g} dB past full scale and clipped, G.711 mu-law WAV"
    elif variant == "noise":
        seed = int.from_bytes(hashlib.sha256(stem.encode()).digest()[:4], "little")
        noisy = add_noise(telephone, NOISE_SNR_DB, seed, TELEPHONE_RATE)
        audio = write_pcm(out / f"{stem}.wav", _peak(noisy, 0.9)[None, :], TELEPHONE_RATE, "pcm_s16le")
        return _finish(out, source, variant, audio, TELEPHONE_RATE, 1, "pcm_s16le",
                       f"8 kHz band-passed, white noise (band-passed) at {NOISE_SNR_DB:g} dB SNR, peak 0.9, 16-bit WAV",
                       seed)
    elif variant == "stereo":
        channels = _split_by_speaker(source)
        scale = FULL_SCALE_PEAK / max(float(np.abs(channels).max()), 1e-9)
        audio = write_pcm(out / f"{stem}.wav", channels * scale, TELEPHONE_RATE, "pcm_s16le")
        order = _stm_speakers(source)
        return _finish(out, source, variant, audio, TELEPHONE_RATE, 2, "pcm_s16le",
                       f"8 kHz band-passed, channel 0 {order[0]}, channel 1 {order[1]}"
                       f" (RTTM turns +{TURN_PAD_SECS} s), "
                       "peak at full scale, 16-bit stereo WAV")
    else:
        raise ValueError(f"unknown variant {variant!r}")
    codec = {"mulaw": "pcm_mulaw", "hot": "pcm_mulaw", "u8": "pcm_u8", "mp3": "mp3"}[variant]
    return _finish(out, source, variant, audio, TELEPHONE_RATE, 1, codec, detail)


def _finish(out: Path, source: _Source, variant: str, audio: Path, rate: int, channels: int, codec: str,
            detail: str, seed: int | None = None) -> DevFile:
    stem = audio.stem
    if source.stm is not None:
        reference = out / f"{stem}.stm"
        reference.write_text("".join(f"{stem} 1 {speaker} {start:.3f} {end:.3f} {text}\n"
                                     for speaker, start, end, text in source.stm))
    else:
        reference = out / f"{stem}.txt"
        reference.write_text(source.text + "\n")
    rttm = None
    if source.rttm is not None:
        rttm = out / f"{stem}.rttm"
        rttm.write_text("".join(f"SPEAKER {stem} 1 {start:.3f} {duration:.3f} <NA> <NA> {speaker} <NA> <NA>\n"
                                for start, duration, speaker in source.rttm))
    return DevFile(audio.name, reference.name, rttm.name if rttm else None, source.name, variant, rate, channels,
                   codec, detail, seed)


def _codec_of(path: Path) -> str:
    with av.open(str(path)) as container:
        return container.streams.audio[0].codec_context.name


def _stm_speakers(source: _Source) -> list[str]:
    return list(dict.fromkeys(speaker for speaker, *_ in source.stm))


def _split_by_speaker(source: _Source) -> np.ndarray:
    """Two 8 kHz channels, each the telephone-band source where the RTTM says its speaker talks."""
    telephone = telephone_band(source.samples, source.rate)
    order = _stm_speakers(source)
    rttm_to_stm = _map_rttm_speakers(source)
    gains = np.zeros((len(order), telephone.size), dtype=np.float32)
    fade = int(FADE_SECS * TELEPHONE_RATE)
    for start, duration, speaker in source.rttm:
        first = max(int((start - TURN_PAD_SECS) * TELEPHONE_RATE), 0)
        last = min(int((start + duration + TURN_PAD_SECS) * TELEPHONE_RATE), telephone.size)
        envelope = np.ones(last - first, dtype=np.float32)
        ramp = np.linspace(0.0, 1.0, min(fade, envelope.size), dtype=np.float32)
        envelope[: ramp.size] = ramp
        envelope[envelope.size - ramp.size:] = np.minimum(envelope[envelope.size - ramp.size:], ramp[::-1])
        row = gains[order.index(rttm_to_stm[speaker])]
        row[first:last] = np.maximum(row[first:last], envelope)
    return telephone[None, :] * gains


def _map_rttm_speakers(source: _Source) -> dict[str, str]:
    """Each RTTM speaker → the STM speaker whose words overlap its turns most."""
    overlap: dict[tuple[str, str], float] = {}
    for start, duration, who in source.rttm:
        for speaker, s_start, s_end, _ in source.stm:
            shared = min(start + duration, s_end) - max(start, s_start)
            if shared > 0:
                overlap[who, speaker] = overlap.get((who, speaker), 0.0) + shared
    mapping = {}
    for who in {who for _, _, who in source.rttm}:
        candidates = {speaker: seconds for (rttm, speaker), seconds in overlap.items() if rttm == who}
        mapping[who] = max(candidates, key=candidates.get)
    if len(set(mapping.values())) != len(mapping):
        raise SystemExit("the RTTM speakers do not map one-to-one onto the STM speakers")
    return mapping


# --- signal helpers --------------------------------------------------------------------------

def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 through FFmpeg's resampler (swr, its defaults), as a phone system's would."""
    if from_rate == to_rate:
        return np.asarray(samples, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32)[None, :],
                                       format="fltp", layout="mono")
    frame.sample_rate = from_rate
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=to_rate)
    parts = [out.to_ndarray()[0] for out in resampler.resample(frame)]
    parts += [out.to_ndarray()[0] for out in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32)


def telephone_band(samples: np.ndarray, rate: int) -> np.ndarray:
    """8 kHz, 300-3400 Hz (4th-order Butterworth band-pass, zero phase)."""
    from scipy.signal import butter, sosfiltfilt

    narrow = resample(samples, rate, TELEPHONE_RATE)
    sos = butter(4, TELEPHONE_BAND_HZ, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    return sosfiltfilt(sos, narrow).astype(np.float32)


def _peak(samples: np.ndarray, peak: float = FULL_SCALE_PEAK) -> np.ndarray:
    return (samples * (peak / max(float(np.abs(samples).max()), 1e-9))).astype(np.float32)


def active_power(samples: np.ndarray, rate: int, frame_secs: float = 0.02, range_db: float = 40.0) -> float:
    """Mean power of the frames within `range_db` of the loudest frame: the speech level."""
    size = int(frame_secs * rate)
    frames = samples[: samples.size // size * size].astype(np.float64).reshape(-1, size)
    power = np.mean(frames**2, axis=1)
    return float(power[power >= power.max() * 10 ** (-range_db / 10)].mean())


def add_noise(samples: np.ndarray, snr_db: float, seed: int, rate: int) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    noise = np.random.default_rng(seed).standard_normal(samples.size)
    sos = butter(4, TELEPHONE_BAND_HZ, btype="bandpass", fs=rate, output="sos")
    noise = sosfiltfilt(sos, noise)
    noise *= np.sqrt(active_power(samples, rate) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def _quantise_s16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def write_pcm(path: Path, samples: np.ndarray, rate: int, codec: str) -> Path:
    """(channels, n) float samples as a WAV with `codec` (pcm_s16le, pcm_mulaw, pcm_u8): clipped to
    full scale and rounded to 16 bits first, so every encoder starts from the same integers."""
    samples = np.atleast_2d(samples)
    layout = {1: "mono", 2: "stereo"}[samples.shape[0]]
    pcm = _quantise_s16(samples)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        _encode(container, stream, np.ascontiguousarray(pcm.T.reshape(1, -1)), "s16", layout, rate)
    return path


def write_mp3(path: Path, samples: np.ndarray, rate: int, bit_rate: int) -> Path:
    samples = np.atleast_2d(samples)
    layout = {1: "mono", 2: "stereo"}[samples.shape[0]]
    pcm = _quantise_s16(samples)
    with av.open(str(path), "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout=layout)
        stream.codec_context.bit_rate = bit_rate
        _encode(container, stream, np.ascontiguousarray(pcm.T.reshape(1, -1)), "s16", layout, rate)
    return path


def _encode(container, stream, interleaved: np.ndarray, fmt: str, layout: str, rate: int, chunk: int = 4096) -> None:
    channels = 2 if layout == "stereo" else 1
    for start in range(0, interleaved.shape[1], chunk * channels):
        frame = av.AudioFrame.from_ndarray(interleaved[:, start:start + chunk * channels], format=fmt, layout=layout)
        frame.sample_rate = rate
        frame.pts = start // channels
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to build the set in")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared sample data (default: %(default)s)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated (default: all)")
    args = parser.parse_args(argv)
    variants = tuple(item.strip() for item in args.variants.split(",") if item.strip())
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")
    if not args.data.is_dir():
        print(f"{args.data}: no such folder (set CALLSCOPE_TEST_DATA)", file=sys.stderr)
        return 2
    files = build_devset(args.out, args.data, variants)
    for item in files:
        print(f"{item.audio:28} {item.reference:22} {item.detail}")
    print(f"{len(files)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
