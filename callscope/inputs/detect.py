"""Which files in a scanned folder are transcript inputs.

A folder holds more than calls: notes, logs, configuration, callscope's own results. A `.txt` is
taken when it reads as a chat whose speakers include a known role (callscope.inputs.chat_text.
looks_like_chat); a `.json` when it is a recognised chat export or Transcribe document — never a
PCA results document. Files of a callscope output set (a `.txt` or `.json` with `.rttm`, `.srt`
and `.vtt` of the same name beside it) are results, not inputs. Files named on the command line
are not judged here: they are analysed, and fail with a one-line reason if they are no transcript.
"""

from __future__ import annotations

from pathlib import Path

from callscope.errors import InputError
from callscope.inputs.chat_text import looks_like_chat
from callscope.inputs.load import (
    MAX_TRANSCRIPT_BYTES,
    PCA_OUTPUT,
    TRANSCRIPT_EXTENSIONS,
    json_format,
    read_json,
    read_text,
)
from callscope.inputs.roles import RoleMap

_HEAD_BYTES = 64 * 1024
_OUTPUT_SIDECARS = (".rttm", ".srt", ".vtt")


def is_transcript_candidate(path: Path, roles: RoleMap = RoleMap()) -> bool:
    suffix = path.suffix.lower()
    if suffix not in TRANSCRIPT_EXTENSIONS or is_callscope_output(path):
        return False
    try:
        size = path.stat().st_size
        if size == 0 or size > MAX_TRANSCRIPT_BYTES:
            return False
        if suffix == ".txt":
            return looks_like_chat(read_text(path, limit=_HEAD_BYTES), roles)
        return json_format(read_json(path)) not in (None, PCA_OUTPUT)
    except (InputError, OSError, RecursionError):
        return False


def is_callscope_output(path: Path) -> bool:
    return all(path.with_suffix(suffix).exists() for suffix in _OUTPUT_SIDECARS)
