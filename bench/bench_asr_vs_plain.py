"""callscope's words against plain faster-whisper's with the same model, on every labelled dev-set
recording, in one process (issue 15).

    python bench/bench_asr_vs_plain.py --out docs/bench-asr-vs-plain.json
    python bench/bench_asr_vs_plain.py --ablate            # also each guard, one at a time
    python bench/bench_asr_vs_plain.py --devset /tmp/devset --files sample_   # a built set, some files

Systems, per file (the dev set of bench/devset.py, built in a temporary folder unless --devset names
one):
1. `plain`: faster-whisper as its README shows it: `WhisperModel(<the same model dir>, int8,
   cpu_threads=2).transcribe(faster_whisper.decode_audio(path), language="en", beam_size=5,
   vad_filter=True, word_timestamps=True)`, every other setting faster-whisper's default (a stereo
   file is mixed to mono by decode_audio).
2. `transcriber`: callscope's FasterWhisperTranscriber (default TranscriptionOptions, 2 threads) on
   the tracks `analyze` gives it: callscope's decode, one track per channel of a stereo call.
3. `analyze` run 1 and run 2: the whole default `analyze` path (callscope.analysis.call.analyze_call with
   the default engines: embedded diarizer, enrichers, insights), scored on its turns' words.
WER after Whisper's English normaliser, with the project's scorer (callscope.evaluation.words), on
every system's words in the order of their timestamps (so a stereo call's two channels interleave as
they were spoken, whatever each system's segments); pooled WER sums errors and reference words over files.
The temperature each segment was decoded at is recorded (a segment above 0 came from faster-whisper's
sampling fallback).

--ablate adds the transcriber with one of callscope's choices changed at a time (decode, VAD
silence, conditioning, hallucination threshold, temperature, its own word filters), and --nonspeech
(on by default) the words per minute each system writes on 60 s of noise, a tone and synthetic
music. Speeds are printed but were measured on a shared 2-core machine: compare them only within a run.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from devset import DATA, build_devset  # noqa: E402

from callscope.accuracy.references import LabelledRecording, find_labelled  # noqa: E402
from callscope.audio.decode import SAMPLE_RATE, decode  # noqa: E402
from callscope.errors import InputError  # noqa: E402
from callscope.evaluation.words import ReferenceSegment, WordErrors, score_transcript  # noqa: E402
from callscope.options import AnalyzeOptions, TranscriptionOptions  # noqa: E402
from callscope.speakers.channels import split_speakers  # noqa: E402

THREADS = 2
TOLERANCE = 0.005  # callscope may trail plain faster-whisper by half a point on a file (issue 15)


@dataclass
class Run:
    """One system's words on one file."""

    segments: list[ReferenceSegment]
    temperatures: list[float]
    seconds: float
    errors: WordErrors | None = None

    @property
    def text(self) -> str:
        return " ".join(segment.text.strip() for segment in sorted(self.segments, key=lambda s: (s.start, s.end)))

    def to_dict(self) -> dict:
        return {"wer": self.errors.to_dict() if self.errors else None, "seconds": round(self.seconds, 2),
                "temperatures": self.temperatures, "sampled_segments": sum(t > 0 for t in self.temperatures),
                "text": self.text}


def in_time_order(words: list[ReferenceSegment]) -> list[ReferenceSegment]:
    """Words sorted by start time, consecutive words of one speaker joined into one segment (so the
    normaliser sees phrases: "twenty five" is 25)."""
    joined: list[ReferenceSegment] = []
    for word in sorted(words, key=lambda item: (item.start, item.end)):
        if joined and joined[-1].speaker == word.speaker:
            last = joined[-1]
            joined[-1] = ReferenceSegment(last.session, last.speaker, last.start, word.end, last.text + word.text)
        else:
            joined.append(word)
    return joined


class RecordingModel:
    """Wraps a WhisperModel: records each segment's temperature and can override transcribe()'s
    keyword arguments (for the ablations), without touching callscope's code."""

    def __init__(self, model) -> None:
        self.inner = model
        self.overrides: dict = {}
        self.temperatures: list[float] = []

    def transcribe(self, audio, **kwargs):
        kwargs.update(self.overrides)
        segments, info = self.inner.transcribe(audio, **kwargs)

        def consumed() -> Iterator:
            for segment in segments:
                self.temperatures.append(float(segment.temperature))
                yield segment

        return consumed(), info

    def __getattr__(self, name):
        return getattr(self.inner, name)


# --- systems -----------------------------------------------------------------------------------

def run_plain(model: RecordingModel, path: Path) -> Run:
    from faster_whisper import decode_audio

    model.temperatures = []
    began = time.perf_counter()
    segments, _ = model.transcribe(decode_audio(str(path)), language="en", beam_size=5, vad_filter=True,
                                   word_timestamps=True)
    kept = [ReferenceSegment(path.stem, "-", w.start, w.end, w.word) for s in segments for w in s.words or ()]
    return Run(kept, list(model.temperatures), time.perf_counter() - began)


def callscope_tracks(path: Path, how: str = "callscope") -> list[tuple[str, np.ndarray]]:
    """The tracks analyze transcribes (label, samples), from callscope's decode or another one."""
    audio = decode(path)
    if how == "clip":
        audio = replace(audio, samples=np.clip(audio.samples, -1.0, 1.0))
    elif how == "scale":  # the whole call scaled down by its overshoot, when there is one
        audio = replace(audio, samples=audio.samples / max(1.0, float(np.abs(audio.samples).max())))
    elif how in ("fw", "fw_unclipped"):  # faster-whisper's s16 decode, one array per channel, as callscope splits them
        from faster_whisper import decode_audio

        channels = decode_audio(str(path), split_stereo=audio.samples.shape[0] == 2)
        samples = np.stack(channels) if isinstance(channels, tuple) else channels[None, :]
        samples = samples[:, : audio.samples.shape[1]]
        samples = np.pad(samples, ((0, 0), (0, audio.samples.shape[1] - samples.shape[1])))
        # fw_unclipped: faster-whisper's decode unless it reached full scale (clipped), callscope's then
        if how == "fw" or float(np.abs(samples).max()) < 32767 / 32768:
            audio = replace(audio, samples=samples)
    layout = split_speakers(audio, AnalyzeOptions().speakers)
    return [(track.speaker.label, track.samples) for track in layout.tracks]


def run_transcriber(transcriber, path: Path, tracks: list[tuple[str, np.ndarray]]) -> Run:
    transcriber.model.temperatures = []
    began = time.perf_counter()
    kept = []
    for label, samples in tracks:
        for segment in transcriber.transcribe(samples).segments:
            kept += [ReferenceSegment(path.stem, label, word.start, word.end, word.text) for word in segment.words]
    return Run(kept, list(transcriber.model.temperatures), time.perf_counter() - began)


def run_analyze(engines, options: AnalyzeOptions, path: Path) -> Run:
    from callscope.analysis.call import analyze_call

    engines.transcriber.model.temperatures = []
    began = time.perf_counter()
    try:
        conversation = analyze_call(path, engines.transcriber, options, diarizer=engines.diarizer,
                                    enrichers=engines.enrichers, translator=engines.translator,
                                    insights=engines.insights)
        kept = [ReferenceSegment(path.stem, turn.speaker, word.start, word.end, word.text)
                for turn in conversation.turns for word in turn.words]
    except InputError as error:
        if error.kind != "no_speech":
            raise
        kept = []
    return Run(kept, list(engines.transcriber.model.temperatures), time.perf_counter() - began)


# --- ablations ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant:
    """The transcriber with one thing changed."""

    name: str
    what: str
    # callscope, clip (callscope's, clipped to ±1), scale (callscope's, divided by its peak when over
    # 1) or fw (faster-whisper's decode_audio, s16)
    decode: str = "callscope"
    options: dict = field(default_factory=dict)  # TranscriptionOptions fields
    overrides: dict = field(default_factory=dict)  # transcribe() keyword arguments, forced
    patches: dict = field(default_factory=dict)  # callscope.transcription.whisper globals


def _never(*_args, **_kwargs) -> bool:
    return False


class _NoMatch:
    def search(self, _text):
        return None


def unlevelled_chunks(samples, **vad_options):
    """Silero VAD on the signal as it is (faster-whisper's own VAD filter), not levelled first."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from callscope.audio.vad import SpeechChunk

    found = get_speech_timestamps(np.ascontiguousarray(samples, np.float32), VadOptions(**vad_options))
    return [SpeechChunk(item["start"], item["end"]) for item in found if item["end"] > item["start"]]


def segmentation_chunks(samples, bridge_secs: float = 0.0, **_vad_options):
    """Speech by segmentation-3.0 (callscope's channel speech detector) instead of Silero: its spans
    joined across pauses under `bridge_secs`, padded by 0.4 s, and those then touching joined
    (faster-whisper's min_silence_duration_ms and speech_pad_ms)."""
    from callscope.audio.vad import SpeechChunk
    from callscope.speakers.segmentation import shared_segmentation
    from callscope.turns import merge_spans

    pad, length = 0.4, len(samples) / SAMPLE_RATE
    found = merge_spans(shared_segmentation(THREADS).speech_spans(samples), bridge_secs)
    spans = merge_spans(replace(span, start=max(0.0, span.start - pad), end=min(length, span.end + pad))
                        for span in found)
    return [SpeechChunk(int(span.start * SAMPLE_RATE), int(span.end * SAMPLE_RATE)) for span in spans]


def segmentation_chunks_2s(samples, **vad_options):
    return segmentation_chunks(samples, 2.0, **vad_options)


FAST_WHISPER_VAD = {}  # faster-whisper's own VadOptions (min_silence_duration_ms=2000)
ABLATIONS = [
    Variant("callscope", "the transcriber as shipped"),
    Variant("decode=clip", "callscope's decode clipped to ±1", decode="clip"),
    Variant("decode=fw", "faster-whisper's decode_audio (s16)", decode="fw"),
    Variant("decode=scale", "callscope's decode divided by its peak when that is over 1", decode="scale"),
    Variant("decode=fw_unclipped", "faster-whisper's decode_audio (s16) unless it reaches full scale",
            decode="fw_unclipped"),
    Variant("cond_prev=True", "condition_on_previous_text=True (faster-whisper's default)",
            options={"condition_on_previous_text": True}),
    Variant("vad=default", "faster-whisper's VAD parameters (2 s minimum silence)",
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("hst=None", "no hallucination_silence_threshold (faster-whisper's default)",
            options={"hallucination_silence_threshold": None}),
    Variant("temperature=0", "no sampling fallback (temperature 0 only)", overrides={"temperature": 0.0}),
    Variant("no_video_filter", "keep segments with video phrases", patches={"_VIDEO_HALLUCINATIONS": _NoMatch()}),
    Variant("no_silent_filter", "keep words under -60 dBFS", patches={"_is_silent": _never}),
    Variant("vad=off", "no VAD", options={"vad": False}),
    Variant("vad=segmentation", "speech chunks from segmentation-3.0 (padded 0.4 s) instead of Silero",
            patches={"speech_chunks": segmentation_chunks}),
    Variant("vad=segmentation_2s", "vad=segmentation with pauses under 2 s bridged (faster-whisper's 2 s)",
            patches={"speech_chunks": segmentation_chunks_2s}),
    Variant("vad_level=off", "the VAD on the signal as it is, not levelled (callscope.audio.vad)",
            patches={"speech_chunks": unlevelled_chunks}),
    Variant("fw_guards", "faster-whisper's conditioning, VAD and no hallucination threshold; callscope's decode",
            options={"condition_on_previous_text": True, "hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("vad=default+hst=None", "faster-whisper's VAD parameters and no hallucination threshold",
            options={"hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("vad=default+hst=None+fw", "faster-whisper's VAD parameters, no hallucination threshold, its decode",
            decode="fw", options={"hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("vad=500ms+hst=None", "VAD minimum silence 500 ms, no hallucination threshold",
            options={"hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": {"min_silence_duration_ms": 500}}),
    Variant("vad=1000ms+hst=None", "VAD minimum silence 1 s, no hallucination threshold",
            options={"hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": {"min_silence_duration_ms": 1000}}),
    Variant("fw_guards+fw", "fw_guards on faster-whisper's decode", decode="fw",
            options={"condition_on_previous_text": True, "hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("fw_guards+scale", "fw_guards on the scaled decode", decode="scale",
            options={"condition_on_previous_text": True, "hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("fw_guards+fw+t0", "fw_guards+fw, temperature 0 only", decode="fw",
            options={"condition_on_previous_text": True, "hallucination_silence_threshold": None},
            overrides={"temperature": 0.0}, patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD}),
    Variant("plain_settings", "faster-whisper's settings through the transcriber, fw decode, no filters",
            decode="fw", options={"condition_on_previous_text": True, "hallucination_silence_threshold": None},
            patches={"_VAD_PARAMETERS": FAST_WHISPER_VAD, "_VIDEO_HALLUCINATIONS": _NoMatch(), "_is_silent": _never}),
]


@contextmanager
def applied(transcriber, variant: Variant):
    from callscope.transcription import whisper

    saved_options = transcriber.options
    saved = {name: getattr(whisper, name) for name in variant.patches}
    transcriber.options = replace(saved_options, **variant.options)
    transcriber.model.overrides = dict(variant.overrides)
    for name, value in variant.patches.items():
        setattr(whisper, name, value)
    try:
        yield
    finally:
        transcriber.options = saved_options
        transcriber.model.overrides = {}
        for name, value in saved.items():
            setattr(whisper, name, value)


# --- non-speech ----------------------------------------------------------------------------------

def nonspeech_clips(folder: Path, seconds: float = 60.0) -> dict[str, Path]:
    """60 s each of white noise, a 1 kHz tone, and synthetic music (chords, a melody and drums), 16 kHz."""
    from devset import write_pcm

    rng = np.random.default_rng(15)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    noise = 0.3 * rng.standard_normal(t.size)
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
    music = np.zeros_like(t)
    beat = 0.5  # 120 bpm
    roots = [220.0, 174.61, 261.63, 196.0]  # A F C G
    for index in range(int(seconds / beat)):
        start = int(index * beat * SAMPLE_RATE)
        span = t[: int(beat * SAMPLE_RATE)]
        envelope = np.exp(-3 * span)
        root = roots[(index // 8) % 4]
        for ratio in (1.0, 1.25, 1.5):  # a major triad with harmonics
            for harmonic, weight in ((1, 1.0), (2, 0.4), (3, 0.2)):
                music[start:start + span.size] += (0.05 * weight * envelope
                                                   * np.sin(2 * np.pi * root * ratio * harmonic * span))
        note = root * 2 * [1, 9 / 8, 5 / 4, 3 / 2, 5 / 3][rng.integers(5)]
        music[start:start + span.size] += 0.12 * envelope * np.sin(2 * np.pi * note * span)
        if index % 2 == 0:  # kick
            kick = np.sin(2 * np.pi * (60 + 60 * np.exp(-30 * span)) * span) * np.exp(-12 * span)
            music[start:start + span.size] += 0.3 * kick
        else:  # snare: noise burst
            music[start:start + span.size] += 0.1 * rng.standard_normal(span.size) * np.exp(-25 * span)
    clips = {}
    for name, samples in (("noise", noise), ("tone", tone), ("music", music)):
        clips[name] = write_pcm(folder / f"nonspeech_{name}.wav", (samples / max(1.0, np.abs(samples).max()))[None, :],
                                SAMPLE_RATE, "pcm_s16le")
    return clips


# --- the run -------------------------------------------------------------------------------------

def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _pool(runs: list[Run]) -> WordErrors:
    total = WordErrors(0, 0, 0, 0, 0)
    for run in runs:
        total = total + run.errors
    return total


def _machine() -> dict:
    model = platform.processor()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    import av
    import ctranslate2
    import faster_whisper

    return {"cpu": model, "cores": __import__("os").cpu_count(), "python": platform.python_version(),
            "faster_whisper": faster_whisper.__version__, "ctranslate2": ctranslate2.__version__, "av": av.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=None,
                        help="a folder built by bench/devset.py (default: build one)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--files", default="", help="only files whose name contains one of these (comma-separated)")
    parser.add_argument("--runs", type=int, default=2, help="runs of analyze per file (default 2)")
    parser.add_argument("--no-analyze", action="store_true", help="skip the analyze runs")
    parser.add_argument("--ablate", action="store_true", help="also the transcriber with one choice changed at a time")
    parser.add_argument("--ablations", default="", help="only these ablations (comma-separated names)")
    parser.add_argument("--calls", action="store_true",
                        help="also the three unlabelled 8 kHz calls of the shared data: the transcriber twice "
                             "(same words?) and plain once, with the temperatures each decoded at")
    parser.add_argument("--calls-seconds", type=float, default=0.0, help="only the first seconds of each call (0: all)")
    parser.add_argument("--no-nonspeech", action="store_true", help="skip the noise/tone/music clips")
    parser.add_argument("--out", type=Path, default=None, help="also write every figure as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.devset
        if folder is None:
            folder = Path(scratch) / "devset"
            build_devset(folder, args.data)
        recordings = list(find_labelled(folder).recordings)
        wanted = [item for item in args.files.split(",") if item]
        if wanted:
            recordings = [r for r in recordings if any(item in r.name for item in wanted)]
        figures = run_all(recordings, args, Path(scratch))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def run_all(recordings: list[LabelledRecording], args, scratch: Path) -> dict:
    from faster_whisper import WhisperModel

    from callscope.analysis.engines import load_engines
    from callscope.transcription.models import resolve_model
    from callscope.transcription.whisper import FasterWhisperTranscriber

    options = AnalyzeOptions(transcription=TranscriptionOptions(cpu_threads=THREADS))
    model_path = resolve_model(options.transcription.model)
    plain = RecordingModel(WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=THREADS))
    transcriber = FasterWhisperTranscriber(options.transcription)
    transcriber.model = RecordingModel(transcriber.model)
    engines = None
    if not args.no_analyze and args.runs:
        engines = load_engines(options)
        engines.transcriber.model = RecordingModel(engines.transcriber.model)
    figures: dict = {"machine": _machine(), "model": model_path, "command": " ".join(sys.argv),
                     "settings": {"transcription": {k: v for k, v in vars(options.transcription).items()
                                                    if k != "vocabulary"}},
                     "files": {}}
    systems: dict[str, list[Run]] = {}

    def score(name: str, recording: LabelledRecording, run: Run) -> None:
        run.errors = score_transcript(in_time_order(run.segments), recording.reference).wer
        systems.setdefault(name, []).append(run)
        figures["files"].setdefault(recording.name, {})[name] = run.to_dict()

    for recording in recordings:
        path = recording.audio
        score("plain", recording, run_plain(plain, path))
        score("transcriber", recording, run_transcriber(transcriber, path, callscope_tracks(path)))
        for number in range(1, args.runs + 1 if engines else 1):
            score(f"analyze{number}", recording, run_analyze(engines, options, path))
        row = figures["files"][recording.name]
        print(f"{recording.name:22} " + "  ".join(f"{name} {_pct(row[name]['wer']['rate'])}"
                                                  f"{'*' if row[name]['sampled_segments'] else ''}" for name in row),
              flush=True)

    names = list(systems)
    print("\nWER per file (* = a segment came from the sampling fallback, temperature > 0)")
    print("| file | " + " | ".join(names) + " | analyze ≤ plain + 0.5 | runs identical |")
    print("|---|" + "---:|" * len(names) + "---|---|")
    for index, recording in enumerate(recordings):
        row = figures["files"][recording.name]
        cells = [f"{_pct(row[n]['wer']['rate'])}{'*' if row[n]['sampled_segments'] else ''}" for n in names]
        verdict = same = ""
        if "analyze1" in row:
            verdict = "yes" if row["analyze1"]["wer"]["rate"] <= row["plain"]["wer"]["rate"] + TOLERANCE else "**no**"
            same = "yes" if all(row[f"analyze{n}"]["text"] == row["analyze1"]["text"]
                                for n in range(1, args.runs + 1)) else "**no**"
        print(f"| {recording.name} | " + " | ".join(cells) + f" | {verdict} | {same} |")
    pooled = {name: _pool(runs) for name, runs in systems.items()}
    print("| **pooled** | " + " | ".join(f"**{_pct(pooled[n].rate)}**" for n in names) + " | | |")
    figures["pooled"] = {name: errors.to_dict() for name, errors in pooled.items()}
    figures["seconds_under_load"] = {name: round(sum(run.seconds for run in runs), 1) for name, runs in systems.items()}
    print("seconds per system (shared 2-core machine, under load):", figures["seconds_under_load"])

    if args.ablate:
        figures["ablations"] = ablate(transcriber, recordings, args)
    if args.calls:
        figures["calls"] = repeat_calls(plain, transcriber, args.data, args.calls_seconds, args.runs)
    if not args.no_nonspeech:
        figures["nonspeech"] = nonspeech(plain, transcriber, engines, options, scratch)
    return figures


def ablate(transcriber, recordings: list[LabelledRecording], args) -> dict:
    chosen = [item for item in args.ablations.split(",") if item]
    variants = [variant for variant in ABLATIONS if not chosen or variant.name in chosen]
    results: dict = {}
    print("\nAblations: the transcriber with one choice changed (WER per file, pooled)")
    tracks = {(r.name, how): callscope_tracks(r.audio, how) for r in recordings
              for how in {variant.decode for variant in variants}}
    for variant in variants:
        runs = []
        with applied(transcriber, variant):
            for recording in recordings:
                run = run_transcriber(transcriber, recording.audio, tracks[recording.name, variant.decode])
                run.errors = score_transcript(in_time_order(run.segments), recording.reference).wer
                runs.append(run)
        pooled = _pool(runs)
        results[variant.name] = {"what": variant.what, "pooled": pooled.to_dict(),
                                 "files": {r.name: run.to_dict() for r, run in zip(recordings, runs)}}
        sampled = sum(run.to_dict()["sampled_segments"] for run in runs)
        print(f"{variant.name:18} pooled {_pct(pooled.rate):>6}  sampled segments {sampled:3}  | "
              + " ".join(f"{_pct(run.errors.rate)}" for run in runs), flush=True)
    return results


CALLS = ("pca_samples/Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav",
         "lca_auto_repairs/Auto_Repairs_40_stereo_ch0customer_ch1agent.wav",
         "guidance_conversation_analysis/demo-call.mp3")


def repeat_calls(plain, transcriber, data: Path, seconds: float, runs: int) -> dict:
    """No references: whether two runs give the same words, and which temperatures were needed."""
    from faster_whisper import decode_audio

    results = {}
    print("\nUnlabelled calls: the transcriber run twice on the same tracks, plain once")
    for name in CALLS:
        path = data / name
        tracks = callscope_tracks(path)
        if seconds:
            tracks = [(label, samples[: int(seconds * SAMPLE_RATE)]) for label, samples in tracks]
        outcome = {"transcriber": [run_transcriber(transcriber, path, tracks) for _ in range(max(runs, 2))]}
        plain.temperatures = []
        audio = decode_audio(str(path))
        if seconds:
            audio = audio[: int(seconds * SAMPLE_RATE)]
        segments, _ = plain.transcribe(audio, language="en", beam_size=5, vad_filter=True, word_timestamps=True)
        words = [w for segment in segments for w in segment.words or ()]
        results[path.name] = {
            "transcriber": [run.to_dict() for run in outcome["transcriber"]],
            "identical": len({run.text for run in outcome["transcriber"]}) == 1,
            "plain": {"temperatures": list(plain.temperatures), "words": len(words)},
        }
        print(f"{path.name[:40]:40} identical {results[path.name]['identical']}  sampled segments "
              f"{[run.to_dict()['sampled_segments'] for run in outcome['transcriber']]} of "
              f"{[len(run.temperatures) for run in outcome['transcriber']]}; plain "
              f"{sum(t > 0 for t in plain.temperatures)} of {len(plain.temperatures)}", flush=True)
    return results


def nonspeech(plain, transcriber, engines, options, scratch: Path) -> dict:
    results = {}
    print("\nWords per minute on 60 s without speech")
    for name, path in nonspeech_clips(scratch).items():
        minutes = 1.0
        row = {"plain": run_plain(plain, path),
               "transcriber": run_transcriber(transcriber, path, callscope_tracks(path))}
        if engines is not None:
            row["analyze"] = run_analyze(engines, options, path)
        results[name] = {system: {"words_per_minute": len(run.text.split()) / minutes, "text": run.text[:300]}
                         for system, run in row.items()}
        print(f"{name:6} " + "  ".join(f"{system} {value['words_per_minute']:.0f}"
                                       for system, value in results[name].items()),
              flush=True)
    return results


if __name__ == "__main__":
    sys.exit(main())
