"""The checks every input file gets before it is read (recordings, chats, transcripts): each problem
is one InputError naming the file. And the walk of input folders, which names what it cannot read."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator
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


def files_under(folder: Path, warn: Callable[[str], None], skip: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Every file below `folder`, links to folders followed; folders named in `skip` are not entered.

    What cannot be walked (an unreadable folder, a link that leads back to a folder above it, a link to
    itself or to nothing) is one warning line, and the walk goes on: a batch never loses a folder silently.
    """
    above: dict[str, frozenset[tuple[int, int]]] = {}  # folder → the folders (device, inode) it lies in
    try:
        above[str(folder)] = frozenset({_identity(os.stat(folder))})
    except OSError as error:
        warn(f"{folder}: cannot read folder: {_reason(error)}; skipped")
        return

    def unreadable(error: OSError) -> None:
        warn(f"{error.filename}: cannot read folder: {_reason(error)}; skipped")

    for root, folders, files in os.walk(folder, onerror=unreadable, followlinks=True):
        ancestors = above.pop(root, frozenset())
        folders[:] = [name for name in sorted(folders) if name not in skip
                      and _enter(os.path.join(root, name), ancestors, above, warn)]
        for name in sorted(files):
            path = Path(root, name)
            if _is_file(path, warn):
                yield path


def _enter(path: str, ancestors: frozenset[tuple[int, int]], above: dict[str, frozenset[tuple[int, int]]],
           warn: Callable[[str], None]) -> bool:
    """Whether to walk into `path`: not when it is one of the folders it lies in (a link loop)."""
    try:
        identity = _identity(os.stat(path))
    except OSError as error:
        warn(f"{path}: cannot read folder: {_reason(error)}; skipped")
        return False
    if identity in ancestors:
        warn(f"{path}: link loop (it leads back to a folder it is in); skipped")
        return False
    above[path] = ancestors | {identity}
    return True


def _is_file(path: Path, warn: Callable[[str], None]) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError as error:
        if error.errno == errno.ELOOP:
            warn(f"{path}: link loop (the link leads back to itself); skipped")
        elif path.is_symlink():
            warn(f"{path}: broken link (what it points to does not exist); skipped")
        else:
            warn(f"{path}: cannot read: {_reason(error)}; skipped")
        return False


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()
