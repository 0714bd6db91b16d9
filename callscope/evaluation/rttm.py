"""Read RTTM (who spoke when) and UEM (which time to score) files into pyannote.core objects.

A small reader of our own rather than pyannote.database's `load_rttm`, so that a bad line is
reported as `file:line: problem`, one line a user can act on.
"""

from __future__ import annotations

import math
from pathlib import Path

from pyannote.core import Annotation, Segment, Timeline

from callscope.errors import CallscopeError

# Record types of the NIST RTTM format. Only SPEAKER lines say who spoke when; the others are
# valid and ignored.
_RTTM_TYPES = frozenset({
    "SPEAKER", "SPKR-INFO", "SEGMENT", "NOSCORE", "NO_RT_METADATA", "LEXEME", "NON-LEX", "NON-SPEECH",
    "FILLER", "EDIT", "IP", "END-OF-SENTENCE", "SU", "CB", "A/P",
})


class EvaluationInputError(CallscopeError):
    """A reference, hypothesis or UEM file that cannot be scored; renders as `file[:line]: problem`."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise EvaluationInputError(path, "no such file") from None
    except UnicodeDecodeError:
        raise EvaluationInputError(path, "not a text file (not UTF-8)") from None
    except OSError as error:
        raise EvaluationInputError(path, f"cannot read: {error.strerror or error}") from None


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith((";;", "#"))


def _seconds(path: Path, number: int, field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise EvaluationInputError(path, f"{field} '{text}' is not a number", number) from None
    if not math.isfinite(value) or value < 0:
        raise EvaluationInputError(path, f"{field} '{text}' is not a time in seconds >= 0", number)
    return value


def read_rttm(path: str | Path) -> dict[str, Annotation]:
    """The SPEAKER lines of an RTTM file, as one Annotation per file-id (in order of appearance).

    A file with no SPEAKER line (nobody spoke, or a system that found no speech) gives
    `{}`. Raises EvaluationInputError naming the file and line of a malformed line.
    """
    path = Path(path)
    annotations: dict[str, Annotation] = {}
    for number, line in enumerate(_lines(path), start=1):
        if _is_comment(line):
            continue
        fields = line.split()
        if fields[0] not in _RTTM_TYPES:
            raise EvaluationInputError(path, f"not an RTTM line (unknown type '{fields[0][:40]}')", number)
        if fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise EvaluationInputError(
                path, f"SPEAKER line has {len(fields)} fields, expected at least 8 "
                "(SPEAKER file-id channel start duration <NA> <NA> speaker ...)", number)
        file_id, start_text, duration_text, speaker = fields[1], fields[3], fields[4], fields[7]
        start = _seconds(path, number, "start", start_text)
        duration = _seconds(path, number, "duration", duration_text)
        annotation = annotations.setdefault(file_id, Annotation(uri=file_id))
        if duration == 0:
            continue  # an empty region: nothing to score
        segment = Segment(start, start + duration)
        # A new track per line: two identical lines for two speakers must both count.
        annotation[segment, annotation.new_track(segment)] = speaker
    return annotations


def read_uem(path: str | Path) -> dict[str, Timeline]:
    """A UEM file (`file-id channel start end` per line): the scored time of each file-id."""
    path = Path(path)
    segments: dict[str, list[Segment]] = {}
    for number, line in enumerate(_lines(path), start=1):
        if _is_comment(line):
            continue
        fields = line.split()
        if len(fields) != 4:
            raise EvaluationInputError(
                path, f"UEM line has {len(fields)} fields, expected 4 (file-id channel start end)", number)
        start = _seconds(path, number, "start", fields[2])
        end = _seconds(path, number, "end", fields[3])
        if end < start:
            raise EvaluationInputError(path, f"end {fields[3]} is before start {fields[2]}", number)
        segments.setdefault(fields[0], []).append(Segment(start, end))
    return {file_id: Timeline(segments=parts, uri=file_id).support() for file_id, parts in segments.items()}
