"""The checks every input file gets before it is read (recordings, chats, transcripts): each problem
is one InputError naming the file."""

from __future__ import annotations

from pathlib import Path

from callscope.errors import InputError


def check_input_file(path: Path, what: str, suffixes: frozenset[str] | None = None) -> None:
    """Fail early, with a plain reason, on what is not a readable, non-empty file of the given types."""
    name = str(path)
    if not path.exists():
        raise InputError(name, "file not found", "not_found")
    if path.is_dir():
        raise InputError(name, f"is a directory, not {what}", "not_a_file")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InputError(name, f"unsupported file type '{path.suffix or '(none)'}'", "unsupported_type")
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise InputError(name, f"cannot read file: {(error.strerror or str(error)).lower()}", "unreadable") from None
    if path.stat().st_size == 0:
        raise InputError(name, "empty file (0 bytes)", "empty")
