"""Recordings with human transcripts: each audio file beside a reference of the same name, as
NIST STM (speakers and times: speaker-attributed WER), SRT subtitles or plain text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from callscope.audio.decode import AUDIO_EXTENSIONS
from callscope.errors import CallscopeError
from callscope.evaluation.rttm import EvaluationInputError
from callscope.evaluation.words import ReferenceSegment, read_stm

REFERENCE_SUFFIXES = (".stm", ".srt", ".txt")  # preferred in this order when a recording has several
NO_SPEAKER = "-"  # the speaker of references that do not say who spoke
_SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{1,3})\s*-->\s*(\d+):(\d\d):(\d\d)[,.](\d{1,3})")


@dataclass(frozen=True)
class LabelledRecording:
    audio: Path
    reference_path: Path
    reference: tuple[ReferenceSegment, ...]
    reference_sha256: str  # of the reference file's bytes: a corrected transcript is a new file to score

    @property
    def name(self) -> str:
        return self.audio.name

    @property
    def has_speakers(self) -> bool:
        """Whether speaker-attributed WER means something: the reference names two speakers or more."""
        return len({segment.speaker for segment in self.reference} - {NO_SPEAKER}) >= 2


@dataclass(frozen=True)
class LabelledFolder:
    recordings: tuple[LabelledRecording, ...]
    unlabelled: tuple[Path, ...]  # audio without a reference: not scored, listed
    problems: tuple[str, ...]  # "path: why" for references that cannot be read


def find_labelled(folder: Path) -> LabelledFolder:
    """Every recording under folder (recursively) that has a reference beside it."""
    if not folder.is_dir():
        raise CallscopeError(f"{folder}: no such folder")
    recordings, unlabelled, problems = [], [], []
    for audio in sorted(path for path in folder.rglob("*") if path.suffix.lower() in AUDIO_EXTENSIONS
                        and path.is_file()
                        and not any(part.startswith(".") for part in path.relative_to(folder).parts)):
        reference = next((audio.with_suffix(suffix) for suffix in REFERENCE_SUFFIXES
                          if audio.with_suffix(suffix).is_file()), None)
        if reference is None:
            unlabelled.append(audio)
            continue
        try:
            recordings.append(read_reference(audio, reference))
        except CallscopeError as error:
            problems.append(str(error))
    return LabelledFolder(tuple(recordings), tuple(unlabelled), tuple(problems))


def read_reference(audio: Path, reference: Path) -> LabelledRecording:
    try:
        data = reference.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationInputError(
            reference, f"cannot read the reference: {getattr(error, 'strerror', None) or error}") from None
    suffix = reference.suffix.lower()
    if suffix == ".stm":
        segments = _stm_session(reference, audio.stem)
    elif suffix == ".srt":
        segments = _srt(reference, text, audio.stem)
    else:
        segments = [ReferenceSegment(audio.stem, NO_SPEAKER, 0.0, 0.0, " ".join(text.split()))]
    if not any(segment.text.strip() for segment in segments):
        raise EvaluationInputError(reference, "the reference has no words")
    return LabelledRecording(audio, reference, tuple(segments), hashlib.sha256(data).hexdigest())


def _stm_session(path: Path, stem: str) -> list[ReferenceSegment]:
    segments = read_stm(path)
    sessions = {segment.session for segment in segments}
    if stem in sessions:
        return [segment for segment in segments if segment.session == stem]
    if len(sessions) == 1:  # one session, named otherwise ("sample" for sample.wav, or a call id)
        return [ReferenceSegment(stem, s.speaker, s.start, s.end, s.text) for s in segments]
    raise EvaluationInputError(path, f"{len(sessions)} sessions and none is named '{stem}'")


def _srt(path: Path, text: str, stem: str) -> list[ReferenceSegment]:
    """SRT cues; a cue whose text starts with "Name:" names its speaker."""
    segments = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        timing = next((index for index, line in enumerate(lines) if _SRT_TIME.search(line)), None)
        if timing is None:
            raise EvaluationInputError(path, f"a cue without a time line: {lines[0][:40] if lines else ''!r}")
        h1, m1, s1, f1, h2, m2, s2, f2 = _SRT_TIME.search(lines[timing]).groups()
        start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(f1.ljust(3, "0")) / 1000
        end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(f2.ljust(3, "0")) / 1000
        words = " ".join(lines[timing + 1:])
        speaker, said = NO_SPEAKER, words
        named = re.match(r"^([A-Z][\w .'-]{0,40}):\s+(.*)$", words)
        if named:
            speaker, said = named.group(1).strip(), named.group(2)
        segments.append(ReferenceSegment(stem, speaker, start, end, re.sub(r"<[^>]+>", "", said)))
    return segments
