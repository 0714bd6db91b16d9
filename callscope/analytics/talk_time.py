"""Talk time per speaker and quiet (non-talk) periods, from word timings."""

from __future__ import annotations

from callscope.model import TimeSpan, Word
from callscope.turns import speech_regions


def speaker_talk_time(words: list[Word], speakers: list[str], pause_secs: float) -> dict[str, float]:
    """Seconds each speaker talked: their speech regions, ordinary pauses between words included."""
    return {
        speaker: sum(
            region.duration
            for region in speech_regions([word for word in words if word.speaker == speaker], pause_secs)
        )
        for speaker in speakers
    }


def non_talk_periods(words: list[Word], duration: float, min_secs: float) -> list[TimeSpan]:
    """Periods of at least `min_secs` in which nobody speaks, including before the first word and
    after the last."""
    busy = speech_regions(words, min_secs)
    edges = [0.0] + [point for region in busy for point in (region.start, region.end)] + [duration]
    quiet = [TimeSpan(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]
    return [span for span in quiet if span.duration >= min_secs]
