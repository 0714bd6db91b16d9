"""Words heard on another party's line: crosstalk on channel calls.

On a channel call each party has a channel, but a line can carry the other party's voice too: echo,
a handset's microphone near the speaker, a recording made from a mix. Whisper writes that speech on
both channels, so the transcript says it twice, once by the wrong speaker (issue 15: the dev set's
stereo call, cut from one mono recording with overlapping turns, said "And And I'm I'm Sheila"; a
call whose lines carry each other 12 dB down had the whole of one party's speech on both). A word
is left out of a channel when
- another channel wrote the same word at the same time, louder (a copy: the louder is the speaker's
  own line; between copies equally loud, the one Whisper was surer of stays, then the earlier
  channel's), or
- another channel is ECHO_DB or more louder over the word's span (an echo, whatever words Whisper
  heard in it).
Levels are compared with each channel brought to one level (callscope.audio.vad), so lines recorded
with different gains compare as the speakers sound on them.
"""

from __future__ import annotations

import math
from bisect import bisect_left

import numpy as np

from callscope.audio.levels import span_rms
from callscope.audio.vad import vad_level_gain
from callscope.model import Word

# Two words are one sound when they overlap by this share of the shorter one.
SAME_SOUND_OVERLAP = 0.5
# Whisper's word times are approximate and often zero-length: each word's span is widened by this
# much either side before the overlap and the level are measured.
WORD_MARGIN = 0.1
# A word this much quieter on its own line than on another line speaking at the same time is that
# line's echo. Echo on phone lines is 20-40 dB down; a speaker's own quiet "yes" on their own
# microphone is not this far below the other party.
ECHO_DB = 12.0


def drop_crosstalk(groups: list[list[Word]], signals: dict[str, np.ndarray]) -> list[list[Word]]:
    """`groups` (each word with its channel's speaker) without the words that are another channel's
    speech; a group left without words stays, empty."""
    # Each channel brought to one level is its level in dB plus this offset (no copy of the signal).
    offsets = {label: 20 * math.log10(vad_level_gain(signal)) for label, signal in signals.items()}
    order = {label: index for index, label in enumerate(signals)}
    words = sorted((word for group in groups for word in group), key=lambda word: word.start)
    starts = [word.start for word in words]
    longest = max((word.end - word.start for word in words), default=0.0)
    levels = {id(word): {label: _level(word, signal, offsets[label]) for label, signal in signals.items()}
              for word in words}
    echoes: set[int] = set()
    for word in words:
        heard = levels[id(word)]
        mine = heard[word.speaker]
        if any(level - mine >= ECHO_DB for label, level in heard.items() if label != word.speaker):
            echoes.add(id(word))
            continue
        first = bisect_left(starts, word.start - longest - 2 * WORD_MARGIN)
        for other in words[first:]:
            if other.start > word.end + 2 * WORD_MARGIN:
                break
            if (other.speaker != word.speaker and _same_time(word, other) and word.letters
                    and word.letters == other.letters
                    and (levels[id(other)][other.speaker], other.confidence, -order[other.speaker])
                    > (mine, word.confidence, -order[word.speaker])):
                echoes.add(id(word))
                break
    return [[word for word in group if id(word) not in echoes] for group in groups]


def _level(word: Word, signal: np.ndarray, offset: float) -> float:
    """The level (dB, to 0.1 dB) of the word's span, widened by WORD_MARGIN, in `signal` raised by `offset` dB."""
    rms = span_rms(signal, word.start, word.end, WORD_MARGIN)
    return round(20 * math.log10(max(rms, 1e-10)) + offset, 1)


def _same_time(one: Word, other: Word) -> bool:
    start, end = max(one.start, other.start) - WORD_MARGIN, min(one.end, other.end) + WORD_MARGIN
    shorter = min(one.end - one.start, other.end - other.start) + 2 * WORD_MARGIN
    return end - start >= SAME_SOUND_OVERLAP * shorter
