"""English translations of the turns spoken in another language, from their audio.

Whisper's translate task on each turn's own stretch of its speaker's track, with the turn's language
given and no VAD (with VAD, base often answers in the source language). Every answer is checked
with an English stop-word heuristic (`english.looks_english`); one that fails is asked again with
an English prompt, and a turn that still gets no English keeps `translation=None`, so analytics read
its original text, and comes back flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from callscope.audio.decode import SAMPLE_RATE
from callscope.errors import ModelError
from callscope.model import Turn
from callscope.transcription.english import looks_english

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# Word timestamps can clip a turn's first and last sounds.
PAD_SECS = 0.25
# Said before the audio on a retry: Whisper continues in the prompt's language.
_ENGLISH_PROMPT = "Here is the conversation, translated into English."
# Whisper base loops when translating ("to multiply, to multiply, ..."). Blocking repeated 3-grams
# stops that at no cost; temperature fallback also did, at 3x the time (measured on multilingual.mp3).
_NO_REPEAT_NGRAM = 3


@dataclass(frozen=True)
class TranslationOutcome:
    turn: int  # index into the turns given
    start: float  # the turn's start (s), for messages
    language: str  # the turn's (source) language
    attempts: int
    text: str  # the last answer, English or not
    english: bool  # it passed the check and is the turn's translation

    @property
    def warning(self) -> str:
        """One line for Conversation.warnings when the turn was left untranslated."""
        return (f"turn at {self.start:.1f}s ({self.language}): no English translation after "
                f"{self.attempts} attempts; analytics read the original text")


class AudioTranslator:
    """Translates with an already loaded multilingual Whisper model (the transcriber's)."""

    def __init__(
        self, model: WhisperModel, beam_size: int = 5, attempts: int = 2,
        is_english: Callable[[str], bool] = looks_english,
    ) -> None:
        if not model.model.is_multilingual:
            raise ModelError("translation needs a multilingual Whisper model (--model base), not an English-only one")
        self.model = model
        self.beam_size = beam_size
        self.attempts = attempts
        self.is_english = is_english

    def translate(self, tracks: Mapping[str, np.ndarray], turns: list[Turn]) -> list[TranslationOutcome]:
        """Set `translation` on every turn whose language is known and not English.

        `tracks` maps each speaker label to its 16 kHz samples (the channel, or the mono signal for
        every diarized speaker). Returns one outcome per turn translated, flagged when not English.
        """
        outcomes = []
        for index, turn in enumerate(turns):
            if turn.language in ("", "en"):
                continue
            samples = tracks[turn.speaker]
            low = max(0, int((turn.start - PAD_SECS) * SAMPLE_RATE))
            high = min(len(samples), int((turn.end + PAD_SECS) * SAMPLE_RATE))
            outcome = self._translate_span(samples[low:high], turn.language, index, turn.start)
            turn.translation = outcome.text if outcome.english else None
            outcomes.append(outcome)
        return outcomes

    def _translate_span(self, samples: np.ndarray, language: str, index: int, start: float) -> TranslationOutcome:
        text = ""
        for attempt in range(1, self.attempts + 1):
            segments, _ = self.model.transcribe(
                samples, task="translate", language=language, beam_size=self.beam_size, vad_filter=False,
                temperature=0.0, no_repeat_ngram_size=_NO_REPEAT_NGRAM, condition_on_previous_text=False,
                initial_prompt=_ENGLISH_PROMPT if attempt > 1 else None,
            )
            text = " ".join(segment.text.strip() for segment in segments).strip()
            if self.is_english(text) and text != _ENGLISH_PROMPT:  # an echoed prompt is no translation
                return TranslationOutcome(index, start, language, attempt, text, english=True)
        return TranslationOutcome(index, start, language, self.attempts, text, english=False)
