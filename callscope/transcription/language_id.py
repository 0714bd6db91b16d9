"""The language of every stretch of a call transcribed with no language given.

Whisper decodes 30-s windows in one language. faster-whisper 1.2's `multilingual=True` re-detects it
per window but its segments do not say which it found, and a window holding both sides of a switch
comes out wrong: measured, English then German in one window gave the English and dropped the
German. So the language is found first, per utterance (Silero VAD), and each run of utterances in
one language is decoded on its own with that language. A call in one language is one run: the same
single pass as with the language given.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from callscope.audio.decode import SAMPLE_RATE
from callscope.transcription.base import RecognisedSegment, TranscriptionResult

if TYPE_CHECKING:
    from faster_whisper import WhisperModel


class LanguageRecogniser(Protocol):
    """What language identification needs of a transcriber (FasterWhisperTranscriber is one): its
    Whisper model, and a pass over samples in a language chosen by the caller."""

    model: WhisperModel

    def recognise(self, samples: np.ndarray, language: str | None) -> TranscriptionResult: ...


# Measured with whisper base on 160 segments of 3 English calls: under 2 s ("Okay.", "Yes.") the
# language id is noise (zh, ja, it, ...); from 2 s on no other language scored above 0.77, while
# the German utterances of multilingual.mp3 scored 0.99 and more.
MIN_SECS = 2.0
CONFIDENT = 0.8
# A switch scored below this is confirmed with a full (padded) encoder pass first.
SURE = 0.95
# The first 10 s tell the language; the encoder's cost grows with the length it sees.
DETECT_SECS = 10.0
# A short utterance takes the language of the nearest judged one at most this far away.
NEIGHBOUR_SECS = 15.0
# Utterances: speech split at pauses of 300 ms (as transcription's VAD), padded 100 ms.
_UTTERANCE_VAD = {"min_silence_duration_ms": 300, "speech_pad_ms": 100}


@dataclass(frozen=True)
class Utterance:
    start: float
    end: float
    language: str = ""


class SpanLanguageDetector:
    """Whisper's language identification on a stretch of samples."""

    def __init__(self, model: WhisperModel) -> None:
        self.model = model

    def quick(self, samples: np.ndarray, start: float, end: float) -> tuple[str, float]:
        """On the stretch's own features (at most DETECT_SECS), not padded to 30 s: a fraction of a
        full encoder pass, and reliable from MIN_SECS of speech on."""
        import ctranslate2

        span = samples[int(start * SAMPLE_RATE) : int(min(end, start + DETECT_SECS) * SAMPLE_RATE)]
        features = self.model.feature_extractor(span)[:, :-1]
        storage = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
        token, probability = self.model.model.detect_language(storage)[0][0]
        return token[2:-2], float(probability)  # "<|de|>" -> "de"

    def padded(self, samples: np.ndarray, start: float, end: float) -> tuple[str, float]:
        """Padded to 30 s, as Whisper was trained: a full encoder pass, kept for confirming a switch."""
        span = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        language, probability, _ = self.model.detect_language(audio=span)
        return language, float(probability)


def utterances(samples: np.ndarray) -> list[Utterance]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions(**_UTTERANCE_VAD))
    return [Utterance(chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE) for chunk in chunks]


def label_utterances(
    spans: list[Utterance], detector: SpanLanguageDetector, samples: np.ndarray
) -> tuple[list[Utterance], str]:
    """Each utterance with its language, and the call's: the one with most judged speech, else
    Whisper's own pick on the first 30 s of speech."""
    judged: dict[int, str] = {}
    unsure: set[int] = set()
    spoken: Counter[str] = Counter()
    for index, span in enumerate(spans):
        if span.end - span.start < MIN_SECS:
            continue
        language, probability = detector.quick(samples, span.start, span.end)
        if probability >= CONFIDENT:
            judged[index] = language
            spoken[language] += span.end - span.start
            if probability < SURE:
                unsure.add(index)
    call = spoken.most_common(1)[0][0] if spoken else detector.padded(samples, spans[0].start, spans[-1].end)[0]
    for index in sorted(unsure):
        if judged[index] != call:
            # A switch changes the text and triggers translation: confirm it the costlier, surer way.
            confirmed, probability = detector.padded(samples, spans[index].start, spans[index].end)
            judged[index] = confirmed if probability >= CONFIDENT else call
    labelled = [replace(span, language=_language_near(index, spans, judged, call)) for index, span in enumerate(spans)]
    return labelled, call


def _language_near(index: int, spans: list[Utterance], judged: dict[int, str], default: str) -> str:
    if index in judged:
        return judged[index]
    span = spans[index]
    gaps = {other: max(0.0, span.start - spans[other].end, spans[other].start - span.end) for other in judged}
    nearest = min(gaps, key=gaps.__getitem__, default=None)
    return judged[nearest] if nearest is not None and gaps[nearest] <= NEIGHBOUR_SECS else default


def language_runs(spans: list[Utterance], duration: float) -> list[Utterance]:
    """Consecutive utterances in one language joined; the runs cover 0..duration, cut halfway
    through the pause between languages."""
    runs: list[Utterance] = []
    for span in spans:
        if runs and runs[-1].language == span.language:
            runs[-1] = replace(runs[-1], end=span.end)
        else:
            if runs:
                middle = (runs[-1].end + span.start) / 2
                runs[-1] = replace(runs[-1], end=middle)
                span = replace(span, start=middle)
            runs.append(span)
    if runs:
        runs[0] = replace(runs[0], start=0.0)
        runs[-1] = replace(runs[-1], end=duration)
    return runs


def transcribe_detecting_languages(transcriber: LanguageRecogniser, samples: np.ndarray) -> TranscriptionResult:
    """Every segment with its language, and the call's language (the one spoken longest)."""
    duration = len(samples) / SAMPLE_RATE
    detector = SpanLanguageDetector(transcriber.model)
    spans = utterances(samples)
    if not spans:
        return transcriber.recognise(samples, None)
    labelled, call = label_utterances(spans, detector, samples)
    runs = language_runs(labelled, duration)
    if len(runs) == 1:
        return transcriber.recognise(samples, call)
    segments = [segment for run in runs for segment in _decode_run(transcriber, samples, run)]
    return TranscriptionResult(segments, call)


def _decode_run(transcriber: LanguageRecogniser, samples: np.ndarray, run: Utterance) -> list[RecognisedSegment]:
    low, high = int(run.start * SAMPLE_RATE), int(run.end * SAMPLE_RATE)
    offset = low / SAMPLE_RATE
    shifted = []
    for segment in transcriber.recognise(samples[low:high], run.language).segments:
        words = tuple(replace(word, start=word.start + offset, end=word.end + offset) for word in segment.words)
        shifted.append(replace(segment, words=words, language=run.language))
    return shifted
