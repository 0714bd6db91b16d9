"""Ask about this call: a question and the call's transcript go to the configured LLM backend (the
insight backends: openai, bedrock, llamacpp), which answers from the transcript alone.

The transcript is the document's text (already redacted when the call was analysed with --redact),
one line per turn with its time, so the model can say when something was said. A call longer than
the backend's context is cut to the part that fits, and the answer says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from callscope.dashboard.documents import CallView
from callscope.errors import CallscopeError
from callscope.insights import LLMBackend
from callscope.insights.transcript import chunk_lines
from callscope.time_axis import clock

MAX_QUESTION = 500  # characters
NO_BACKEND_HINT = ("no LLM backend: start the dashboard with one to ask about calls, e.g. callscope serve "
                   "--insights openai --llm-url http://localhost:11434/v1 --llm-model llama3.1")
# Of the backend's context: room for the instructions, the question and the answer.
_RESERVED_TOKENS = 1024
SYSTEM = ("You answer questions about one recorded customer-service call, using only its transcript. "
          "Each line is [time] Speaker: words. Quote or cite times where it helps. If the transcript does not "
          "say, answer that it does not say; never invent details. Answer in at most five sentences.")
ANSWER_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
                 "additionalProperties": False}


class QuestionError(CallscopeError):
    """The question cannot be asked (empty, too long)."""


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    backend: str  # the backend's name: "openai:llama3.1"
    read_until: float | None  # None: the model read the whole call; else the time its part ends


def transcript_lines(view: CallView) -> list[tuple[float, str]]:
    """(end time, line) per turn with words: the English translation where the turn has one."""
    lines = []
    for turn in view.turns:
        text = " ".join((turn.translation or turn.text).split())
        if text:
            lines.append((turn.end, f"[{clock(turn.start)}] {turn.role}: {text}"))
    return lines


def ask(backend: LLMBackend, view: CallView, question: str) -> Answer:
    """The backend's answer; QuestionError for a question that cannot be asked, InsightBackendError
    (one line) when the backend fails."""
    question = " ".join(question.split())
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION:
        raise QuestionError(f"the question is longer than {MAX_QUESTION} characters")
    lines = transcript_lines(view)
    if not lines:
        raise QuestionError("the call has no words to ask about")
    budget = max(backend.context_tokens - _RESERVED_TOKENS, 256)
    chunks = chunk_lines([line for _, line in lines], budget)
    part = chunks[0]
    # cut short: the model reads up to the end of the last whole turn in the part that fits
    read_until = None if len(chunks) == 1 else next(
        (end for end, line in reversed(lines) if line in part), lines[0][0])
    note = "" if read_until is None else f"\n(The call continues after {clock(read_until)}: only this part fits.)"
    prompt = "Transcript:\n" + "\n".join(part) + note + f"\n\nQuestion: {question}"
    reply = backend.complete_json(SYSTEM, prompt, ANSWER_SCHEMA)
    try:
        answer = str(json.loads(reply)["answer"]).strip()
    except (ValueError, KeyError, TypeError):
        answer = reply.strip()  # a model that ignored the schema still said something: show it as text
    return Answer(question, answer, backend.name, read_until)
