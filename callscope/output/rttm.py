"""RTTM: who spoke when, one SPEAKER line per speech region (the format DER scorers read)."""

from __future__ import annotations

from pathlib import PurePath

from callscope.inputs.source import is_chat
from callscope.model import Conversation
from callscope.turns import speech_regions

# Without speech regions (transcripts, Amazon Transcribe), regions are each speaker's words with
# pauses under this bridged: finer than merged turns, which may hold up to 3 s of silence.
_BRIDGE_SECS = 0.5


def to_rttm(conversation: Conversation) -> str:
    """The call's speech regions (the diarizer's or the VAD's, speech without words included), or
    without them its words' spans."""
    if is_chat(conversation):
        return ""  # who spoke when in audio: a chat has no audio (the file is written, empty)
    file_id = PurePath(conversation.source.path).stem.replace(" ", "_")
    if conversation.speech_regions:
        spans = [(region.start, region.duration, region.speaker) for region in conversation.speech_regions]
    else:
        words = conversation.words
        spans = [(region.start, region.duration, speaker.label) for speaker in conversation.speakers
                 for region in speech_regions([word for word in words if word.speaker == speaker.label], _BRIDGE_SECS)]
    return "".join(rttm_line(file_id, start, duration, speaker) + "\n" for start, duration, speaker in sorted(spans))


def rttm_line(file_id: str, start: float, duration: float, speaker: str) -> str:
    return f"SPEAKER {file_id} 1 {start:.3f} {duration:.3f} <NA> <NA> {speaker} <NA> <NA>"
