"""Errors a user can act on. Each renders as one line naming the file and the problem."""

from __future__ import annotations

from dataclasses import dataclass


class CallscopeError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class CallError(CallscopeError):
    """One call cannot be analysed (its file, its AWS job, its request): `subject` (the file or job)
    and `problem` on one line, `kind` a short stable code for scripts reading failures.jsonl. A batch
    records it and goes on with the other calls (CallFailure.of)."""

    def __init__(self, subject: str, problem: str, kind: str) -> None:
        super().__init__(f"{subject}: {problem}")
        self.subject = subject
        self.problem = problem
        self.kind = kind


class InputError(CallError):
    """The input file cannot be analysed (empty, corrupt, silent, too long, ...)."""

    def __init__(self, path: str, problem: str, kind: str = "bad_input") -> None:
        super().__init__(path, problem, kind)
        self.path = path


@dataclass(frozen=True)
class CallFailure:
    """How a failed call is reported, the same way by the local batch and by the SageMaker steps."""

    problem: str
    kind: str

    @classmethod
    def of(cls, error: Exception) -> CallFailure:
        """A CallError as it says; a file system error as io_error; anything else (a bug or an unforeseen
        input) as internal_error, so that the batch keeps going. Errors that concern the whole run
        (ModelError, KeyboardInterrupt) are for the caller to let through before asking."""
        if isinstance(error, CallError):
            return cls(error.problem, error.kind)
        if isinstance(error, OSError):
            return cls(f"cannot read or write {error.filename or 'a file'}: {error.strerror or error}", "io_error")
        return cls(f"internal error: {type(error).__name__}: {error}", "internal_error")


class ModelError(CallscopeError):
    """A model could not be found or loaded."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message (library errors can run to many lines)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class InsightBackendError(CallscopeError):
    """An insight backend (Bedrock, an OpenAI-compatible endpoint, llama.cpp) could not answer."""
