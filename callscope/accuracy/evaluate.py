"""`callscope eval asr`: a configuration over a folder of labelled recordings, scoring only what
the lab does not have yet; bad files are reported and skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from callscope.accuracy.lab import Lab
from callscope.accuracy.references import LabelledRecording
from callscope.accuracy.scoring import score_recording
from callscope.accuracy.systems import AsrSystem
from callscope.audio.decode import file_sha256
from callscope.errors import CallscopeError, InputError


@dataclass
class EvaluationReport:
    config_id: str
    scored: list[str] = field(default_factory=list)  # files transcribed and scored in this run
    reused: list[str] = field(default_factory=list)  # files the lab already had for this configuration
    failed: list[str] = field(default_factory=list)  # "path: why"
    key_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # file name → its key, files with a result

    @property
    def keys(self) -> set[tuple[str, str]]:
        """(audio, reference) SHA-256 of the files this configuration has a result for: a file that failed is
        not in scope, or it would keep the configuration off its own leaderboard."""
        return set(self.key_of.values())


def evaluate(lab: Lab, system: AsrSystem, recordings: list[LabelledRecording],
             on_file: Callable[[str, str], None] | None = None) -> EvaluationReport:
    """on_file(status, line) is told each file as it goes: "scored", "reused" or "failed"."""
    config_id = lab.add_config(system.settings, getattr(system, "vocabulary", None))
    report = EvaluationReport(config_id)
    tell = on_file or (lambda status, line: None)
    for recording in recordings:
        try:
            audio_sha256 = file_sha256(recording.audio)
        except OSError as error:
            report.failed.append(f"{recording.audio}: cannot read: {error.strerror or error}")
            tell("failed", report.failed[-1])
            continue
        if lab.has_result(config_id, audio_sha256, recording.reference_sha256):
            report.key_of[recording.name] = (audio_sha256, recording.reference_sha256)
            report.reused.append(recording.name)
            tell("reused", recording.name)
            continue
        started = time.perf_counter()
        try:
            hypothesis = system.transcribe(recording.audio, audio_sha256, recording.has_speakers)
        except InputError as error:  # it names the file already
            report.failed.append(str(error))
            tell("failed", report.failed[-1])
            continue
        except CallscopeError as error:
            report.failed.append(f"{recording.audio}: {error}")
            tell("failed", report.failed[-1])
            continue
        score = score_recording(hypothesis, recording)
        lab.record(config_id, audio_sha256, recording.reference_sha256, recording.name, str(recording.audio),
                   str(recording.reference_path), score, time.perf_counter() - started)
        report.key_of[recording.name] = (audio_sha256, recording.reference_sha256)
        report.scored.append(recording.name)
        tell("scored", f"{recording.name}: WER {_percent(score.wer.rate)}")
    return report


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
