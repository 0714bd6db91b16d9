"""From chat messages (any chat format) to the Conversation model.

Each message is one turn (a chat already says who wrote what, so nothing is merged or split); its
text is cut at whitespace into Words with confidence 1.0, spread evenly over the message's
stretch, so every serializer that reads words works unchanged. Speakers are spk_0, spk_1, ... in
the order they first write; their role comes from the role map, or, when no name maps to a role,
from what they write (the same phrase rules as diarized mono calls).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from callscope.errors import InputError
from callscope.inputs.options import ChatOptions
from callscope.inputs.source import TranscriptSource
from callscope.inputs.timing import message_stretches
from callscope.metadata import metadata_from_filename
from callscope.model import Conversation, Role, Speaker, Turn, Word
from callscope.options import AnalyzeOptions
from callscope.speakers.roles import apply_roles, detect_roles


@dataclass(frozen=True)
class ChatMessage:
    speaker: str  # identity: a name, a participant id or a role, as the format gives it
    display_name: str
    role: Role
    text: str
    time: float | None = None  # seconds (of the day, or since the epoch); None: no timestamp
    gap_before: float = 0.0  # elapsed time a note before it gave ("[15 minutes later]")
    absolute: bool = False  # `time` is since the epoch (a real date), not a time of day


def conversation_from_messages(
    path: Path, messages: list[ChatMessage], source_format: str, sha256: str,
    options: AnalyzeOptions, chat: ChatOptions, warnings: list[str] | None = None,
) -> Conversation:
    """Raises InputError when there is no message with text."""
    messages = [message for message in messages if message.text.split()]
    if not messages:
        raise InputError(str(path), "no messages with text", "no_messages")
    stretches = message_stretches(
        [message.time for message in messages], [len(message.text.split()) for message in messages],
        [message.gap_before for message in messages], chat,
    )
    labels: dict[str, str] = {}
    speakers: list[Speaker] = []
    for message in messages:
        if message.speaker not in labels:
            labels[message.speaker] = f"spk_{len(labels)}"
            speakers.append(Speaker(labels[message.speaker], message.role, display_name=message.display_name))
    turns = []
    for message, stretch in zip(messages, stretches):
        label = labels[message.speaker]
        turns.append(Turn(speaker=label, words=_words(message.text, stretch.start, stretch.end, label)))
    speakers = _infer_roles(speakers, turns, options)
    warnings = list(warnings or [])
    untimed = sum(message.time is None for message in messages)
    if 0 < untimed < len(messages):
        warnings.append(f"{untimed} of {len(messages)} messages have no timestamp: their times are estimated")
    metadata = metadata_from_filename(path.name, sha256, options.filename_metadata)
    first = messages[0]
    if metadata.conversation_time is None and first.absolute and first.time is not None:
        started = datetime.fromtimestamp(first.time, timezone.utc).replace(tzinfo=None)
        metadata = replace(metadata, conversation_time=started)
    source = TranscriptSource(
        path=str(path), sha256=sha256, container="chat", codec=source_format, sample_rate=0, channels=0,
        duration=stretches[-1].end, format=source_format, synthetic_times=untimed > 0,
    )
    return Conversation(
        source=source, speakers=speakers, turns=turns, language=options.transcription.language or "en",
        metadata=metadata, speaker_separation="channels",  # each message's author is known exactly
        transcriber=f"chat:{source_format}", processed_at=datetime.now(), warnings=warnings,
    )


def _words(text: str, start: float, end: float, speaker: str) -> list[Word]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return [
        Word(" " + token, round(start + index * step, 3), round(start + (index + 1) * step, 3), 1.0, speaker)
        for index, token in enumerate(tokens)
    ]


def _infer_roles(speakers: list[Speaker], turns: list[Turn], options: AnalyzeOptions) -> list[Speaker]:
    """Names that say nothing about roles ("John", "Jane"): decide from what they write, keeping the names."""
    if len(speakers) < 2 or any(speaker.role is not Role.UNKNOWN for speaker in speakers):
        return speakers
    decision = detect_roles(turns, [speaker.label for speaker in speakers], options.role_phrases)
    decided = apply_roles(speakers, decision)
    return [replace(new, display_name=old.display_name) for old, new in zip(speakers, decided)]
