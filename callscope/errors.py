"""Errors a user can act on. Each renders as one line naming the file and the problem."""

from __future__ import annotations


class CallscopeError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class InputError(CallscopeError):
    """The input file cannot be analysed (empty, corrupt, silent, too long, ...).

    `kind` is a short stable code for scripts reading failures.jsonl.
    """

    def __init__(self, path: str, problem: str, kind: str = "bad_input") -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.kind = kind


class ModelError(CallscopeError):
    """A model could not be found or loaded."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (library errors can run to many lines)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class InsightBackendError(CallscopeError):
    """An insight backend (Bedrock, an OpenAI-compatible endpoint, llama.cpp) could not answer."""
