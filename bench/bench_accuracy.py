"""The accuracy lab's goals, measured in one run (issue 8):

1. the leaderboard's WER of each bundled model (tiny.en, base) over the labelled recordings;
2. self-heal: a vocabulary learnt from the misses on some recordings of a domain lowers WER on
   held-back recordings of the same domain, and does not raise it on recordings of other domains.

    python bench/bench_accuracy.py                    # tables on stdout
    python bench/bench_accuracy.py --out docs/bench-accuracy.json

Recordings (built in a temporary folder from ../shared/data, nothing is shipped):
- real: jfk.flac (exact reference), the pyannote sample (gold STM, two speakers), hotwords.mp3 cut
  in two at 2.2 s ("Then you go into your ComfyUI folder" | "again in the ComfyUI"; silver
  references: the term is the one the source's tests assert, the words are what base and tiny.en
  agree on with the term as a hotword);
- insurance: eight sentences full of the jargon of ../shared/data/lca_auto_repairs/cv-sample.txt,
  spoken by espeak-ng (synthetic speech, exact references; skipped when espeak-ng is missing).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from callscope.accuracy.evaluate import evaluate
from callscope.accuracy.lab import Lab
from callscope.accuracy.leaderboard import build_leaderboard
from callscope.accuracy.references import find_labelled
from callscope.accuracy.self_heal import judge, learn_vocabulary
from callscope.accuracy.whisper_system import whisper_asr
from callscope.audio.decode import decode
from callscope.audio.wav import write_wav
from callscope.transcription.vocabulary import vocabulary_of

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
INSURANCE = [
    "The adjuster said the subrogation claim covers the annuitant and the beneficiary.",
    "Your whole life insurance policy has an endorsement for AD&D coverage.",
    "As the policyholder, you can ask the actuary about the indemnity and the deductible.",
    "The underwriting team checked the fiduciary duty on the universal life insurance plan.",
    "Babu asked whether the reinsurance treaty changes the subrogation rules.",
    "The annuitant named a new beneficiary after the endorsement was signed.",
    "An uninsured driver hit the policyholder, so the adjuster opened a claim.",
    "Term life insurance has no endowment value, the actuary explained.",
]


def build(root: Path) -> dict[str, Path]:
    """Three folders of labelled recordings: hotwords, insurance, other (jfk and the pyannote sample)."""
    folders = {name: root / name for name in ("hotwords", "insurance", "other")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    shutil.copy(DATA / "faster_whisper_tests" / "jfk.flac", folders["other"] / "jfk.flac")
    (folders["other"] / "jfk.txt").write_text(JFK_TEXT + "\n")
    shutil.copy(DATA / "pyannote_sample" / "sample.wav", folders["other"] / "sample.wav")
    shutil.copy(DATA / "pyannote_sample" / "sample.stm", folders["other"] / "sample.stm")
    mono = decode(DATA / "faster_whisper_tests" / "hotwords.mp3").samples.mean(axis=0)
    for name, start, end, text in [("hotwords_1", 0.0, 2.2, "Then you go into your ComfyUI folder"),
                                   ("hotwords_2", 2.2, 4.0, "again in the ComfyUI.")]:
        write_wav(folders["hotwords"] / f"{name}.wav", mono[int(start * 16000):int(end * 16000)], 16000)
        (folders["hotwords"] / f"{name}.txt").write_text(text + "\n")
    if shutil.which("espeak-ng"):
        for number, sentence in enumerate(INSURANCE, start=1):
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w",
                            str(folders["insurance"] / f"insurance_{number}.wav"), sentence], check=True)
            (folders["insurance"] / f"insurance_{number}.txt").write_text(sentence + "\n")
    else:
        print("espeak-ng not found (apt-get install espeak-ng): the insurance set is skipped", file=sys.stderr)
        del folders["insurance"]
    return folders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Also write the figures as JSON.")
    args = parser.parse_args()
    figures: dict = {}
    with tempfile.TemporaryDirectory() as scratch:
        folders = build(Path(scratch))
        recordings = {name: find_labelled(folder).recordings for name, folder in folders.items()}
        with Lab(Path(scratch) / "lab.db") as lab:
            # 1. The bundled models on every recording.
            keys: dict[str, set] = {}
            key_of: dict[str, tuple[str, str]] = {}  # file name → (audio, reference) SHA-256
            systems = {model: whisper_asr(model=model) for model in ("tiny.en", "base")}  # each loads once
            for asr in systems.values():
                for name, items in recordings.items():
                    report = evaluate(lab, asr, list(items))
                    keys[name] = report.keys
                    key_of.update(report.key_of)
            board = build_leaderboard(lab)
            print(f"Leaderboard over {len(board.files)} recordings")
            print("| model | WER | cpWER (pyannote sample) | transcription s |")
            print("|---|---:|---:|---:|")
            figures["leaderboard"] = []
            for standing in board.ranked:
                print(f"| {standing.config.label} | {_pct(standing.pooled.rate)} | "
                      f"{_pct(standing.pooled_cpwer.rate) if standing.pooled_cpwer else ''} | {standing.seconds:.1f} |")
                figures["leaderboard"].append({"config": standing.config.label, "wer": standing.pooled.rate,
                                               "cpwer": standing.pooled_cpwer.rate if standing.pooled_cpwer else None,
                                               "per_file": standing.per_file, "seconds": round(standing.seconds, 2)})

            # 2. Self-heal per domain: learn on the training half, judge on the held-out half and elsewhere.
            figures["self_heal"] = []
            splits = {"hotwords": ({"hotwords_1.wav"}, {"hotwords_2.wav"}),
                      "insurance": ({f"insurance_{n}.wav" for n in range(1, 5)},
                                    {f"insurance_{n}.wav" for n in range(5, 9)})}
            print("\nSelf-heal (tiny.en): WER before → after the learnt vocabulary")
            print("| domain | learnt | training | held out (same domain) | elsewhere (other recordings) | kept |")
            print("|---|---|---:|---:|---:|---|")
            base = systems["tiny.en"]
            base_id = base.settings.fingerprint()
            for domain, (train_names, held_names) in splits.items():
                if domain not in recordings:
                    continue
                train = {key_of[name] for name in train_names}
                held = {key_of[name] for name in held_names}
                words = learn_vocabulary(lab, base_id, train)
                healed = base.with_vocabulary(vocabulary_of(words, name=f"{domain}-learnt"))
                for items in recordings.values():
                    evaluate(lab, healed, list(items))
                outcome = judge(lab, base_id, healed.settings.fingerprint(), train, held, words)
                elsewhere = set().union(*(keys[name] for name in recordings if name != domain))
                before = _pooled(lab, base_id, elsewhere)
                after = _pooled(lab, healed.settings.fingerprint(), elsewhere)
                print(f"| {domain} | {', '.join(words)} | {_pct(outcome.base_train.rate)} → "
                      f"{_pct(outcome.healed_train.rate)} | {_pct(outcome.base_held_out.rate)} → "
                      f"{_pct(outcome.healed_held_out.rate)} | {_pct(before)} → {_pct(after)} | "
                      f"{'yes' if outcome.kept else 'no'} |")
                figures["self_heal"].append({
                    "domain": domain, "learnt": words, "training": [outcome.base_train.rate, outcome.healed_train.rate],
                    "held_out": [outcome.base_held_out.rate, outcome.healed_held_out.rate],
                    "elsewhere": [before, after], "kept": outcome.kept})
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def _pooled(lab: Lab, config_id: str, scope: set) -> float | None:
    board = build_leaderboard(lab, scope)
    return next((s.pooled.rate for s in board.ranked if s.config.id == config_id), None)


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


if __name__ == "__main__":
    sys.exit(main())
