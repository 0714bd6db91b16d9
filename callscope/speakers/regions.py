"""Speech regions: who spoke when, as the diarizer (mono calls) or the speech detector on each channel
(channel calls: segmentation-3.0, callscope.speakers.segmentation) found it, checked against the
recognised words.

RTTM, talk time and non-talk time are built from these regions rather than from word timings, so a
stretch of speech the recogniser gave no words for still counts as speech (issue 15).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

import numpy as np

from callscope.model import SpeechRegion, TimeSpan, Word
from callscope.speakers.assign import SpeakerSegment
from callscope.speakers.segmentation import Segmentation
from callscope.turns import merge_spans

# Words outside the regions add speech, their pauses under this bridged (as the RTTM of words was
# before regions).
WORD_BRIDGE_SECS = 0.5
# A region shorter than this (a diarizer's or VAD's blip at a boundary, often 10-30 ms) cannot hold a
# word: it is neither transcribed again nor called speech without words (it stays a region).
SHORTEST_WORD_SECS = 0.2
# A word a region's second transcription writes is one the call's transcription already has when
# that word (same letters) is there less than this many seconds away: Whisper's word times drift, so
# a diarizer region between two words' times can hold a word already written (the MIT clip's
# telephone copies said "merge, Publish. publish, Distribute. distribute": 0.13 s apart, issue 15).
# A word said twice has a pause between (the sample's two "Hello?": 0.41 s).
REPEATED_WORD_SECS = 0.3
# Whisper stretches a word over a pause at most a few seconds; 30 s is ample.
_LONGEST_WORD_SECS = 30.0


def timeline_regions(segments: Iterable[SpeakerSegment]) -> list[SpeechRegion]:
    """The diarizer's segments as regions, each speaker's touching or overlapping segments joined."""
    by_speaker: dict[str, list[TimeSpan]] = {}
    for segment in segments:
        by_speaker.setdefault(segment.speaker, []).append(TimeSpan(float(segment.start), float(segment.end)))
    return _sorted(SpeechRegion(span.start, span.end, speaker)
                   for speaker, spans in by_speaker.items() for span in merge_spans(spans))


def detected_regions(samples: np.ndarray, speaker: str, segmentation: Segmentation) -> list[SpeechRegion]:
    """Speech in one party's signal (16 kHz), as the segmentation model hears it."""
    return [SpeechRegion(span.start, span.end, speaker) for span in segmentation.speech_spans(samples)]


def uncovered(regions: list[SpeechRegion], words: list[Word], own_signals: bool) -> list[SpeechRegion]:
    """The regions long enough for a word that no word overlaps (with `own_signals`, no word of the
    region's speaker, heard on their own channel): speech the recogniser wrote nothing for."""
    index = _WordIndex(words)
    return [region for region in regions if region.duration >= SHORTEST_WORD_SECS
            and not any(not own_signals or word.speaker == region.speaker for word in index.overlapping(region))]


def not_yet_written(recovered: list[Word], written: list[Word], own_signals: bool) -> list[Word]:
    """The words of a region's second transcription that are not a word already written nearby
    (with `own_signals`, by the same speaker: another channel's word is another line's)."""
    index = _WordIndex(written)
    return [word for word in recovered
            if not any(other.letters == word.letters and (not own_signals or other.speaker == word.speaker)
                       for other in index.overlapping(SpeechRegion(word.start - REPEATED_WORD_SECS,
                                                                   word.end + REPEATED_WORD_SECS, word.speaker)))]


def with_words(regions: list[SpeechRegion], words: list[Word], own_signals: bool) -> list[SpeechRegion]:
    """`regions` with `without_words` set on those still `uncovered`, plus the speech of the words
    outside them: what the recogniser heard is speech too.

    Only words outside the regions add speech (their spans, pauses under WORD_BRIDGE_SECS bridged):
    where the diarizer or the speech detector found speech, its edges stand. Whisper's word times run
    into pauses: bridging inside the diarizer's speech added 0.2 to 10 DER points on the bench's mono
    calls; joining each channel's words to its regions, 1.5 points on the sample's channels. With
    `own_signals` (one channel per speaker) only a speaker's own regions hold their words; on one
    shared signal any region does (who speaks there is the diarizer's call).
    """
    wordless = set(uncovered(regions, words, own_signals))
    marked = [SpeechRegion(region.start, region.end, region.speaker, region in wordless) for region in regions]
    if not own_signals:
        return _sorted([*marked, *_speech_of_stray_words(regions, words)])
    added = []
    for speaker in dict.fromkeys(word.speaker for word in words):
        added += _speech_of_stray_words([region for region in regions if region.speaker == speaker],
                                        [word for word in words if word.speaker == speaker])
    return _sorted([*marked, *added])


def _speech_of_stray_words(regions: list[SpeechRegion], words: list[Word]) -> list[SpeechRegion]:
    """The bridged spans of the words that none of `regions` overlaps, per speaker."""
    speech = _SpanIndex(merge_spans(TimeSpan(region.start, region.end) for region in regions))
    stray: dict[str, list[TimeSpan]] = {}
    for word in words:
        if not speech.overlaps(word.start, word.end):
            stray.setdefault(word.speaker, []).append(TimeSpan(word.start, word.end))
    return [SpeechRegion(span.start, span.end, speaker)
            for speaker, spans in stray.items() for span in merge_spans(spans, WORD_BRIDGE_SECS)
            if span.end > span.start]


def _meets(start: float, end: float, span_start: float, span_end: float) -> bool:
    """Whether a word (start, end) overlaps a span; a word without duration, whether the span holds it."""
    if end <= start:
        return span_start <= start <= span_end
    return max(start, span_start) < min(end, span_end)


def _sorted(regions: Iterable[SpeechRegion]) -> list[SpeechRegion]:
    return sorted(regions, key=lambda region: (region.start, region.end, region.speaker))


class _WordIndex:
    """Words by start time, to find those overlapping a stretch without scanning them all."""

    def __init__(self, words: list[Word]) -> None:
        self.words = sorted(words, key=lambda word: word.start)
        self.starts = [word.start for word in self.words]

    def overlapping(self, region: SpeechRegion) -> list[Word]:
        first = bisect_left(self.starts, region.start - _LONGEST_WORD_SECS)
        last = bisect_left(self.starts, region.end)
        return [word for word in self.words[first:last] if _meets(word.start, word.end, region.start, region.end)]


class _SpanIndex:
    """Disjoint sorted spans, to ask whether a stretch overlaps any of them."""

    def __init__(self, spans: list[TimeSpan]) -> None:
        self.spans = spans
        self.ends = [span.end for span in spans]

    def overlaps(self, start: float, end: float) -> bool:
        position = bisect_left(self.ends, start)
        while position < len(self.spans) and self.spans[position].start < end:
            if _meets(start, end, self.spans[position].start, self.spans[position].end):
                return True
            position += 1
        return False
