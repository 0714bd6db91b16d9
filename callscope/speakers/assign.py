"""Give every recognised word a speaker from a diarization (who spoke when).

Each word goes to the speaker whose speech overlaps it most; a word outside every speech region
(diarizers and recognisers disagree at turn edges) goes to the nearest region. A word inside
overlapped speech, where two speakers cover it about equally, goes to whichever of them says the
nearest clear word of the same unbroken run of speech: the recogniser transcribes the speaker whose
sentence goes on, so "I bought the | car last season" is not split between two people. No word is
left without a speaker, a known complaint about other open-source pipelines.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace

from callscope.model import Word

_AMBIGUOUS = 0.5  # a second speaker covering at least half as much as the first: overlapped speech
_PAUSE_SECS = 0.3  # a gap this long between words ends a run of speech


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
    overlaps = [_overlaps(word, ordered, starts, longest) for word in words]
    clear = [_clear_speaker(overlap) for overlap in overlaps]
    speakers = []
    for index, (word, overlap) in enumerate(zip(words, overlaps)):
        if clear[index] is not None:
            speakers.append(clear[index])
        elif overlap:
            neighbour = _nearest_clear_neighbour(words, clear, index)
            speakers.append(neighbour if neighbour in overlap else max(overlap, key=overlap.__getitem__))
        else:
            middle = (word.start + word.end) / 2
            speakers.append(min(ordered, key=lambda segment: _distance(middle, segment)).speaker)
    return [replace(word, speaker=speaker) for word, speaker in zip(words, speakers)]


def _overlaps(word: Word, segments: list[SpeakerSegment], starts: list[float], longest: float) -> dict[str, float]:
    """Seconds of the word each speaker's speech covers."""
    # Segments that can overlap the word start before its end and no earlier than `longest` before it.
    last = bisect_right(starts, word.end)
    first = bisect_right(starts, word.start - longest - 1e-9)
    overlap: dict[str, float] = {}
    for segment in segments[first:last]:
        shared = min(segment.end, word.end) - max(segment.start, word.start)
        if shared > 0:
            overlap[segment.speaker] = overlap.get(segment.speaker, 0.0) + shared
    return overlap


def _clear_speaker(overlap: dict[str, float]) -> str | None:
    """The speaker of a word one speaker clearly covers most; None in overlapped speech or outside speech."""
    if not overlap:
        return None
    ranked = sorted(overlap.values(), reverse=True)
    if len(ranked) > 1 and ranked[1] >= _AMBIGUOUS * ranked[0]:
        return None
    return max(overlap, key=overlap.__getitem__)


def _nearest_clear_neighbour(words: list[Word], clear: list[str | None], index: int) -> str | None:
    """The speaker of the closest clearly-attributed word reachable without a pause, either side."""
    best: tuple[float, str] | None = None
    for step in (-1, 1):
        position = index
        while 0 <= position + step < len(words):
            before, after = sorted((words[position], words[position + step]), key=lambda word: word.start)
            if after.start - before.end > _PAUSE_SECS:
                break
            position += step
            if clear[position] is not None:
                distance = abs(words[position].start - words[index].start)
                if best is None or distance < best[0]:
                    best = (distance, clear[position])
                break
    return best[1] if best else None


def _distance(point: float, segment: SpeakerSegment) -> float:
    if point < segment.start:
        return segment.start - point
    return max(0.0, point - segment.end)
