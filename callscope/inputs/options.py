"""Options for transcript inputs (chats and Transcribe documents)."""

from __future__ import annotations

from dataclasses import dataclass, field

from callscope.inputs.roles import RoleMap


@dataclass(frozen=True)
class ChatOptions:
    roles: RoleMap = field(default_factory=RoleMap)
    # Times for messages without a timestamp (callscope.inputs.timing): a message lasts as long as
    # saying it would (150 words a minute, at least `min_message_secs`) and the next one follows
    # `message_gap_secs` later, so a chat's quarters split its text as a call's split its speech.
    seconds_per_word: float = 0.4
    min_message_secs: float = 1.0
    message_gap_secs: float = 1.0
