"""SRT and WebVTT subtitles: one cue per readable piece of a turn, prefixed by the speaker."""

from __future__ import annotations

from dataclasses import dataclass

from callscope.model import Conversation, Word

# Cues longer than this are hard to read on screen: split long turns at word boundaries.
_MAX_CUE_CHARS = 84
_MAX_CUE_SECS = 7.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def cues(conversation: Conversation) -> list[Cue]:
    result = []
    for turn in conversation.turns:
        name = conversation.speaker(turn.speaker).display_text
        for words in _split(turn.words):
            text = "".join(word.text for word in words).strip()
            result.append(Cue(words[0].start, max(word.end for word in words), f"{name}: {text}"))
    return result


def to_srt(conversation: Conversation) -> str:
    blocks = [
        f"{index}\n{_timestamp(cue.start, ',')} --> {_timestamp(cue.end, ',')}\n{cue.text}\n"
        for index, cue in enumerate(cues(conversation), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(conversation: Conversation) -> str:
    blocks = [
        f"{_timestamp(cue.start, '.')} --> {_timestamp(cue.end, '.')}\n{cue.text}\n" for cue in cues(conversation)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def _split(words: list[Word]) -> list[list[Word]]:
    pieces: list[list[Word]] = [[]]
    for word in words:
        current = pieces[-1]
        length = sum(len(item.text) for item in current) + len(word.text)
        if current and (length > _MAX_CUE_CHARS or word.end - current[0].start > _MAX_CUE_SECS):
            pieces.append([])
        pieces[-1].append(word)
    return pieces


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
