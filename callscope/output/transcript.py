"""Plain transcript, one turn a line: "Agent: ..." / "Customer: ..."."""

from __future__ import annotations

from callscope.model import Conversation


def to_text(conversation: Conversation) -> str:
    return "".join(
        f"{conversation.speaker(turn.speaker).display_text}: {turn.text}\n" for turn in conversation.turns
    )
