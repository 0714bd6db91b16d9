"""From timed words per speaker to the ordered turns of a conversation.

As in the reference system: each speaker's speech is cut into segments at pauses, all segments are
sorted by start time, and consecutive segments of one speaker less than 3.0 s apart are merged.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from callscope.model import TimeSpan, Turn, Word
from callscope.options import TurnOptions

# Whisper stretches a word over a following pause at most a few seconds; 30 s is ample.
_LONGEST_WORD_SECS = 30.0


def split_at_pauses(words: list[Word], pause_secs: float) -> list[Turn]:
    """Words of one recogniser segment → segments, cut where the speaker pauses or changes
    (a diarized mono segment may hold several speakers)."""
    segments: list[Turn] = []
    current: list[Word] = []
    for word in words:
        if current and (word.speaker != current[-1].speaker or word.start - current[-1].end >= pause_secs):
            segments.append(Turn(speaker=current[0].speaker, words=current))
            current = []
        current.append(word)
    if current:
        segments.append(Turn(speaker=current[0].speaker, words=current))
    return segments


def merge_same_speaker(segments: list[Turn], gap_secs: float) -> list[Turn]:
    """Merge consecutive segments (in start order) of one speaker less than `gap_secs` apart."""
    merged: list[Turn] = []
    for segment in sorted(segments, key=lambda turn: turn.start):
        last = merged[-1] if merged else None
        if last is not None and last.speaker == segment.speaker and segment.start - last.end < gap_secs:
            last.words.extend(segment.words)
        else:
            merged.append(Turn(speaker=segment.speaker, words=list(segment.words)))
    return merged


def mark_interruptions(turns: list[Turn], overlap_secs: float) -> None:
    """A turn interrupts when it starts while another speaker still has at least `overlap_secs`
    of a word left to say."""
    words = sorted((word for turn in turns for word in turn.words), key=lambda word: word.start)
    starts = [word.start for word in words]
    for turn in turns:
        # Only words starting shortly before the turn can still be running when it starts.
        first = bisect_left(starts, turn.start - _LONGEST_WORD_SECS)
        last = bisect_left(starts, turn.start)
        turn.interruption = any(
            word.speaker != turn.speaker and word.end - turn.start >= overlap_secs for word in words[first:last]
        )


def build_turns(segments: list[Turn], options: TurnOptions, merge: bool = True) -> list[Turn]:
    """Order segments into turns. `merge=False` keeps them apart: on an undiarized mono call one
    "speaker" is really everyone, and merging would glue different people's sentences together."""
    if merge:
        turns = merge_same_speaker(segments, options.merge_gap_secs)
    else:
        turns = sorted(segments, key=lambda turn: turn.start)
    mark_interruptions(turns, options.interruption_overlap_secs)
    return turns


def speech_regions(words: list[Word], bridge_secs: float) -> list[TimeSpan]:
    """The union of the words' spans, bridging pauses shorter than `bridge_secs`."""
    return merge_spans([TimeSpan(word.start, word.end) for word in words], bridge_secs)


def merge_spans(spans: Iterable[TimeSpan], bridge_secs: float = 0.0) -> list[TimeSpan]:
    """The union of `spans`, in time order, bridging gaps shorter than `bridge_secs` (0: only
    spans that overlap or touch join)."""
    merged: list[TimeSpan] = []
    for span in sorted(spans, key=lambda item: item.start):
        if merged and (span.start <= merged[-1].end or span.start - merged[-1].end < bridge_secs):
            if span.end > merged[-1].end:
                merged[-1] = TimeSpan(merged[-1].start, span.end)
        else:
            merged.append(TimeSpan(span.start, span.end))
    return merged
