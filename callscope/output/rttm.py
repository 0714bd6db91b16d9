"""RTTM: who spoke when, one SPEAKER line per speech region (the format DER scorers read)."""

from __future__ import annotations

from pathlib import PurePath

from callscope.inputs.source import is_chat
from callscope.model import Conversation
from callscope.turns import speech_regions

# Regions are the speaker's words with pauses under this bridged: finer than merged turns,
# which may hold up to 3 s of silence.
_BRIDGE_SECS = 0.5


def to_rttm(conversation: Conversation) -> str:
    if is_chat(conversation):
        return ""  # who spoke when in audio: a chat has no audio (the file is written, empty)
    file_id = PurePath(conversation.source.path).stem.replace(" ", "_")
    lines = []
    all_words = conversation.words
    for speaker in conversation.speakers:
        words = [word for word in all_words if word.speaker == speaker.label]
        for region in speech_regions(words, _BRIDGE_SECS):
            lines.append((region.start, rttm_line(file_id, region.start, region.duration, speaker.label)))
    return "".join(line + "\n" for _, line in sorted(lines))


def rttm_line(file_id: str, start: float, duration: float, speaker: str) -> str:
    return f"SPEAKER {file_id} 1 {start:.3f} {duration:.3f} <NA> <NA> {speaker} <NA> <NA>"
