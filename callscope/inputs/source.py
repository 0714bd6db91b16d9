"""Where a conversation that was never decoded from audio came from.

`TranscriptSource` is an `AudioSource` (so every stage and serializer accepts it) with what a
transcript input adds: its format, whether it is a chat or a call, and whether its times are real.
Audio facts it cannot know stay empty: sample_rate 0, channels 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from callscope.model import AudioSource, Conversation

# Formats, as written to SourceInformation.TranscriptSourceInfo.SourceFormat.
CHAT_TEXT = "chat-text"  # "Customer: ..." / "Agent: ..." lines
CHAT_JSON = "chat-json"  # {"messages": [...]} or a list of messages
CONNECT_CHAT = "connect-chat"  # Amazon Connect chat transcript (Transcript[] with AbsoluteTime)
TRANSCRIBE = "transcribe"  # Amazon Transcribe job output (results.items)
CALL_ANALYTICS = "transcribe-call-analytics"  # Transcribe Call Analytics / Contact Lens voice output

CHAT_FORMATS = frozenset({CHAT_TEXT, CHAT_JSON, CONNECT_CHAT})


@dataclass(frozen=True)
class TranscriptSource(AudioSource):
    format: str = CHAT_TEXT
    # True when some message had no timestamp: its times were estimated (see callscope.inputs.timing).
    synthetic_times: bool = False
    job_name: str = ""  # the Transcribe job, when the document names it
    # Analytics the source computed itself and that callscope keeps ("sentiment", "issues", "categories").
    provided: frozenset[str] = frozenset()

    @property
    def channel(self) -> str:
        """"CHAT" or "VOICE", as Contact Lens and Call Analytics name the channel."""
        return "CHAT" if self.format in CHAT_FORMATS else "VOICE"


def transcript_source(conversation: Conversation) -> TranscriptSource | None:
    source = conversation.source
    return source if isinstance(source, TranscriptSource) else None


def is_chat(conversation: Conversation) -> bool:
    """A chat has no audio: loudness, talk time and silence do not exist for it."""
    source = transcript_source(conversation)
    return source is not None and source.channel == "CHAT"
