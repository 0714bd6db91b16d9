"""Which files the dashboard may read: only regular files inside its data directory, and as a call's
recording only audio.

Every path is resolved (symlinks followed, `..` collapsed) before it is compared with the resolved
data directory, so neither a `..` in a stored path, an absolute path in a crafted PCA document nor a
symlink pointing out of the directory reaches a file outside it. A MediaFileUri may name any file
there (the store's own SQLite file, another call's JSON): it plays only when its name is an audio
file's and FFmpeg decodes audio from it with the demuxer that name implies.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import unquote, urlparse

from callscope.output.writers import REDACTED_AUDIO_SUFFIX

# extension → (media type, FFmpeg demuxer): the recordings `callscope analyze` reads (audio.decode.AUDIO_EXTENSIONS).
# The demuxer is named, not probed from the content, so a file cannot pass as another format (a playlist
# pointing elsewhere, say).
AUDIO_FORMATS = {
    ".wav": ("audio/wav", "wav"), ".wave": ("audio/wav", "wav"), ".mp3": ("audio/mpeg", "mp3"),
    ".flac": ("audio/flac", "flac"), ".ogg": ("audio/ogg", "ogg"), ".oga": ("audio/ogg", "ogg"),
    ".opus": ("audio/ogg", "ogg"), ".m4a": ("audio/mp4", "mp4"), ".mp4": ("audio/mp4", "mp4"),
    ".mov": ("video/quicktime", "mov"), ".aac": ("audio/aac", "aac"), ".webm": ("audio/webm", "webm"),
    ".mkv": ("audio/x-matroska", "matroska"), ".wma": ("audio/x-ms-wma", "asf"), ".amr": ("audio/amr", "amr"),
    ".aiff": ("audio/aiff", "aiff"), ".aif": ("audio/aiff", "aiff"), ".au": ("audio/basic", "au"),
}


class OutsideDataDir(Exception):
    """The file exists but lies outside the data directory (or is no regular file)."""


def inside(candidate: str | os.PathLike[str], *roots: Path) -> Path | None:
    """candidate, resolved, when it is an existing regular file inside one of roots (each resolved); else None."""
    try:
        resolved = Path(candidate).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a NUL in the name
        return None
    if not any(resolved.is_relative_to(root.resolve()) for root in roots) or not resolved.is_file():
        return None
    return resolved


def is_audio(path: Path) -> bool:
    """path (an existing file) has an audio file's name and FFmpeg decodes audio from it."""
    known = AUDIO_FORMATS.get(path.suffix.lower())
    if known is None:
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    return _decodes_audio(str(path), known[1], stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)  # per file version: players ask for a recording again and again (Range requests)
def _decodes_audio(path: str, demuxer: str, _mtime_ns: int, _size: int) -> bool:
    import av

    try:
        with av.open(path, format=demuxer, options={"protocol_whitelist": "file"}) as container:
            stream = next(iter(container.streams.audio), None)
            return stream is not None and next(iter(container.decode(stream)), None) is not None
    except (av.error.FFmpegError, OSError, ValueError, EOFError, UnicodeDecodeError):
        return False


def exists(candidate: str | os.PathLike[str]) -> bool:
    try:
        return Path(candidate).exists()
    except (OSError, ValueError):
        return False


def locate(root: Path, stored: str, bases: list[Path]) -> Path:
    """A stored path (absolute, or relative to one of bases) → the file inside root.

    Raises FileNotFoundError when no candidate exists, OutsideDataDir when one exists but is outside root.
    """
    path = Path(stored)
    candidates = [path] if path.is_absolute() else [base / path for base in bases]
    outside = False
    for candidate in candidates:
        found = inside(candidate, root)
        if found is not None:
            return found
        outside = outside or exists(candidate)
    if outside:
        raise OutsideDataDir(stored)
    raise FileNotFoundError(stored)


def audio_candidates(document: Any, json_path: Path, redacted: bool, bases: tuple[Path, ...] = ()) -> list[Path]:
    """Where the recording of a call may be, best first.

    A redacted call plays only its redacted copy `<stem>.redacted.wav` beside the JSON: the original
    would let the redacted words be heard. Otherwise the recording named by MediaFileUri (a local path,
    absolute, or relative to the JSON's folder or to one of bases: `callscope analyze calls/` writes
    the path as given, from the folder it ran in), then a file of that name beside the JSON.
    """
    if redacted:
        return [json_path.with_name(json_path.name.removesuffix(".json") + REDACTED_AUDIO_SUFFIX)]
    uri = media_file_uri(document)
    if not uri:
        return []
    candidates: list[Path] = []
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        candidates.append(Path(unquote(parsed.path)))
    elif not parsed.scheme or len(parsed.scheme) == 1:  # a plain path (or a Windows drive letter)
        local = Path(uri)
        candidates += [local] if local.is_absolute() else [json_path.parent / local, *(base / local for base in bases)]
    name = media_file_name(document)
    if name:
        candidates.append(json_path.parent / name)
    return list(dict.fromkeys(candidates))


def media_file_name(document: Any) -> str:
    """The recording's file name alone (no folders), or "" when the document names none."""
    uri = media_file_uri(document)
    parsed = urlparse(uri)
    name = _file_name(parsed.path if parsed.scheme and len(parsed.scheme) > 1 else uri)
    return "" if name in (".", "..") else name


def media_file_uri(document: Any) -> str:
    try:
        sources = document["ConversationAnalytics"]["SourceInformation"]
        info = sources[0]["TranscribeJobInfo"]
        uri = info.get("MediaFileUri") or info.get("MediaOriginalUri") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""
    return uri if isinstance(uri, str) else ""


def _file_name(path: str) -> str:
    # The last part, whichever separator the machine that wrote the document used.
    return PureWindowsPath(PurePosixPath(path).name).name if path else ""
