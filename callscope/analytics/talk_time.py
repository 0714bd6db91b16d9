"""Talk time per speaker and quiet (non-talk) periods, from speech regions (or word timings)."""

from __future__ import annotations

from collections.abc import Sequence

from callscope.model import SpeechRegion, TimeSpan, Word
from callscope.turns import merge_spans


def speaker_talk_time(words: list[Word], speakers: list[str], pause_secs: float,
                      regions: Sequence[SpeechRegion] = ()) -> dict[str, float]:
    """Seconds each speaker talked: the time their speech regions cover, as the RTTM says. Without
    regions (chats, transcripts) the words' spans, with the pauses under `pause_secs` between words
    included (the regions of a diarizer or VAD already hold a phrase's short pauses: bridging them
    too counted 1.2 s more than the gold 24.4 s of the pyannote sample)."""
    spans = _speech_by_speaker(words, regions)
    bridge = 0.0 if regions else pause_secs
    return {speaker: sum(span.duration for span in merge_spans(spans.get(speaker, []), bridge))
            for speaker in speakers}


def non_talk_periods(words: list[Word], duration: float, min_secs: float,
                     regions: Sequence[SpeechRegion] = ()) -> list[TimeSpan]:
    """Periods of at least `min_secs` in which nobody speaks (no speech region and no word: a word's
    time may run past the region it is in), including before the first speech and after the last."""
    busy = merge_spans([TimeSpan(item.start, item.end) for item in (*regions, *words)], min_secs)
    edges = [0.0] + [point for region in busy for point in (region.start, region.end)] + [duration]
    quiet = [TimeSpan(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]
    return [span for span in quiet if span.duration >= min_secs]


def _speech_by_speaker(words: list[Word], regions: Sequence[SpeechRegion]) -> dict[str, list[TimeSpan]]:
    spans: dict[str, list[TimeSpan]] = {}
    for item in regions or words:
        spans.setdefault(item.speaker, []).append(TimeSpan(item.start, item.end))
    return spans
