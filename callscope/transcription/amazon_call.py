"""A recording transcribed by Amazon Transcribe as a Conversation: the result document converted as
`callscope import transcribe` converts it (keeping what Call Analytics computed), then tied to the
recording itself, whose decoded audio gives what the document lacks (loudness for standard jobs,
the real duration for non-talk time)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.analytics.loudness import loudness_per_second
from callscope.analytics.talk_time import non_talk_periods
from callscope.audio.decode import DecodedAudio
from callscope.errors import InputError
from callscope.inputs.source import transcript_source
from callscope.inputs.transcribe import TranscribeFormatError, conversation_from_transcribe
from callscope.model import Conversation
from callscope.options import AnalyzeOptions
from callscope.transcription.amazon import ServiceTranscript


@dataclass
class ServiceConversation:
    conversation: Conversation
    provided: frozenset[str]  # analytics the service computed ("sentiment", "issues", "categories")
    origin: str  # who computed them, for Conversation.enrichment: "transcribe:call-analytics"


def conversation_from_service(path: Path, audio: DecodedAudio, transcript: ServiceTranscript,
                              options: AnalyzeOptions) -> ServiceConversation:
    """Raises InputError (one line naming the file) when the job recognised no words or its
    document cannot be read."""
    try:
        conversation = conversation_from_transcribe(transcript.document, str(path), options=options,
                                                    sha256=audio.source.sha256)
    except TranscribeFormatError as error:
        raise InputError(str(path), f"Amazon Transcribe job {transcript.job.name}: {error}", error.kind) from None
    document_source = transcript_source(conversation)
    provided = document_source.provided if document_source is not None else frozenset()
    origin = f"transcribe:{document_source.codec}" if document_source is not None else "transcribe"
    conversation.source = audio.source  # the recording, not the document: the dashboard plays it
    conversation.transcription_job = transcript.job
    conversation.redacted = conversation.redacted or transcript.job.redacted
    _measure_loudness(conversation, audio)
    if "NonTalkTime" not in (transcript.document.get("ConversationCharacteristics") or {}):
        # Silence up to the recording's real end, not only up to the last word.
        conversation.non_talk = non_talk_periods(conversation.words, audio.duration, options.turns.non_talk_min_secs)
    return ServiceConversation(conversation, provided, origin)


def _measure_loudness(conversation: Conversation, audio: DecodedAudio) -> None:
    """Loudness per second for turns the service gave none (standard jobs), on the speaker's own
    channel when the speakers are channels, else on the mix (made only when a turn needs it: Call
    Analytics gives every turn its loudness, and a 4-hour stereo mix is a large copy)."""
    channel_of = {speaker.label: speaker.channel for speaker in conversation.speakers}
    samples = audio.samples
    mix: np.ndarray | None = None
    for turn in conversation.turns:
        if turn.loudness_db:
            continue
        channel = channel_of.get(turn.speaker)
        if conversation.speaker_separation == "channels" and channel is not None and channel < samples.shape[0]:
            signal = samples[channel]
        else:
            if mix is None:
                mix = samples.mean(axis=0) if samples.shape[0] > 1 else samples[0]
            signal = mix
        turn.loudness_db = loudness_per_second(np.ascontiguousarray(signal, dtype=np.float32), turn.start, turn.end)
