"""Speech regions: who spoke when, as the diarizer (mono calls) or voice activity detection on each
channel (channel calls) found it, checked against the recognised words.

RTTM, talk time and non-talk time are built from these regions rather than from word timings, so a
stretch of speech the recogniser gave no words for still counts as speech (issue 15).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

import numpy as np

from callscope.audio.vad import speech_chunks
from callscope.model import SpeechRegion, TimeSpan, Word
from callscope.speakers.assign import SpeakerSegment
from callscope.turns import merge_spans

SAMPLE_RATE = 16000
# Silero VAD (faster-whisper's) on one party's channel: the settings the diarization bench derives
# its channel references with (bench/bench_diarization.py, REFERENCE_VAD), chosen there before any
# system was scored; tight padding, as RTTM scores edges.
CHANNEL_VAD = {"threshold": 0.5, "min_silence_duration_ms": 300, "speech_pad_ms": 30, "min_speech_duration_ms": 100}
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


def vad_regions(samples: np.ndarray, speaker: str) -> list[SpeechRegion]:
    """Speech in one party's signal (16 kHz), by faster-whisper's Silero VAD at callscope's level."""
    return [SpeechRegion(round(chunk.start / SAMPLE_RATE, 3), round(chunk.end / SAMPLE_RATE, 3), speaker)
            for chunk in speech_chunks(samples, **CHANNEL_VAD)]


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

    With `own_signals` (one channel per speaker) each speaker's speech is the union of their regions
    and their words' spans (pauses under WORD_BRIDGE_SECS bridged, as the RTTM of words was): Silero
    misses short or quiet turns that the recogniser hears on the channel. On one shared signal only
    words outside every region add speech: where the diarizer found speech, who speaks is its call,
    and bridging there filled its pauses (0.2 to 10 DER points more on the bench's mono calls).
    """
    wordless = set(uncovered(regions, words, own_signals))
    marked = [SpeechRegion(region.start, region.end, region.speaker, region in wordless) for region in regions]
    added = _channel_word_speech(regions, words) if own_signals else _speech_of_stray_words(regions, words)
    return _sorted([*marked, *added])


def _channel_word_speech(regions: list[SpeechRegion], words: list[Word]) -> list[SpeechRegion]:
    """Each speaker's bridged word spans, less what their own regions already cover."""
    added = []
    for speaker in dict.fromkeys(word.speaker for word in words):
        covered = merge_spans(TimeSpan(region.start, region.end) for region in regions if region.speaker == speaker)
        spoken = merge_spans([TimeSpan(word.start, word.end) for word in words if word.speaker == speaker],
                             WORD_BRIDGE_SECS)
        added += [SpeechRegion(piece.start, piece.end, speaker) for piece in _outside(spoken, covered)]
    return added


def _speech_of_stray_words(regions: list[SpeechRegion], words: list[Word]) -> list[SpeechRegion]:
    """The bridged spans of the words that no region (of anyone) overlaps, per speaker."""
    speech = _SpanIndex(merge_spans(TimeSpan(region.start, region.end) for region in regions))
    stray: dict[str, list[TimeSpan]] = {}
    for word in words:
        if not speech.overlaps(word.start, word.end):
            stray.setdefault(word.speaker, []).append(TimeSpan(word.start, word.end))
    return [SpeechRegion(span.start, span.end, speaker)
            for speaker, spans in stray.items() for span in merge_spans(spans, WORD_BRIDGE_SECS)
            if span.end > span.start]


def _outside(spans: list[TimeSpan], covered: list[TimeSpan]) -> list[TimeSpan]:
    """The parts of `spans` that no span of `covered` holds (both sorted and disjoint: one pass)."""
    pieces, first = [], 0
    for span in spans:
        while first < len(covered) and covered[first].end <= span.start:
            first += 1
        cursor = span.start
        for item in covered[first:]:
            if item.start >= span.end:
                break
            if item.start > cursor:
                pieces.append(TimeSpan(cursor, item.start))
            cursor = max(cursor, item.end)
        if cursor < span.end:
            pieces.append(TimeSpan(cursor, span.end))
    return pieces


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
