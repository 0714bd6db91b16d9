"""Give every recognised word a speaker from a diarization (who spoke when).

Each word goes to the speaker whose speech overlaps it most; a word outside every speech region
(diarizers and recognisers disagree at turn edges) goes to the nearest region. No word is left
without a speaker, a known complaint about other open-source pipelines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace

from callscope.model import Word


@dataclass(frozen=True)
class SpeakerSegment:
    """A stretch of time in which one speaker talks (overlapping speech gives overlapping segments)."""

    start: float
    end: float
    speaker: str


def assign_speakers(words: list[Word], segments: list[SpeakerSegment]) -> list[Word]:
    """Return the words with `speaker` set from `segments`; unchanged when there are none."""
    if not segments:
        return list(words)
    ordered = sorted(segments, key=lambda segment: segment.start)
    starts = [segment.start for segment in ordered]
    longest = max(segment.end - segment.start for segment in ordered)
    return [replace(word, speaker=_speaker_for(word, ordered, starts, longest)) for word in words]


def _speaker_for(word: Word, segments: list[SpeakerSegment], starts: list[float], longest: float) -> str:
    # Segments that can overlap the word start before its end and no earlier than `longest` before it.
    last = bisect_right(starts, word.end)
    first = bisect_right(starts, word.start - longest - 1e-9)
    overlap: dict[str, float] = {}
    for segment in segments[first:last]:
        shared = min(segment.end, word.end) - max(segment.start, word.start)
        if shared > 0:
            overlap[segment.speaker] = overlap.get(segment.speaker, 0.0) + shared
    if overlap:
        return max(overlap, key=overlap.__getitem__)
    middle = (word.start + word.end) / 2
    return min(segments, key=lambda segment: _distance(middle, segment)).speaker


def _distance(point: float, segment: SpeakerSegment) -> float:
    if point < segment.start:
        return segment.start - point
    return max(0.0, point - segment.end)
