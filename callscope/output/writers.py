"""Every output file of one call, written atomically: a killed run never leaves half a file."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.model import Conversation
from callscope.options import AudioRedaction
from callscope.output.pca import to_pca_json
from callscope.output.rttm import to_rttm
from callscope.output.subtitles import to_srt, to_vtt
from callscope.output.transcript import to_text

if TYPE_CHECKING:
    from callscope.options import AnalyzeOptions

SERIALIZERS: dict[str, Callable[[Conversation], str]] = {
    ".json": to_pca_json,
    ".rttm": to_rttm,
    ".srt": to_srt,
    ".vtt": to_vtt,
    ".txt": to_text,
}


_PARTIAL_SUFFIX = ".part"


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write the whole file or nothing: a reader never sees half of it. Text is UTF-8; bytes are
    written as they are (a CSV's own line endings are kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's PID in the name lets a later run tell a killed writer's leftovers from a live one's.
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=_PARTIAL_SUFFIX
    )
    try:
        with (os.fdopen(handle, "wb") if isinstance(content, bytes) else
              os.fdopen(handle, "w", encoding="utf-8")) as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_stale_partial_files(directory: Path) -> int:
    """Delete temporary files left by writers that were killed mid-write; return how many."""
    removed = 0
    for partial in directory.rglob(f".*{_PARTIAL_SUFFIX}"):
        match = re.search(r"\.(\d+)\.[^.]*\.part$", partial.name)
        if match and not _process_alive(int(match[1])):
            partial.unlink(missing_ok=True)
            removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


REDACTED_AUDIO_SUFFIX = ".redacted.wav"


def output_paths(stem: Path, redacted_audio: bool = False) -> list[Path]:
    suffixes = [*SERIALIZERS, *([REDACTED_AUDIO_SUFFIX] if redacted_audio else [])]
    return [stem.with_name(stem.name + suffix) for suffix in suffixes]


def write_outputs(conversation: Conversation, stem: Path,
                  redacted_audio: RedactedAudioRequest | None = None) -> list[Path]:
    """Write `<stem>.json`, `.rttm`, `.srt`, `.vtt` and `.txt` (and `.redacted.wav` when asked); return their paths."""
    written = []
    for suffix, serialize in SERIALIZERS.items():
        path = stem.with_name(stem.name + suffix)
        write_atomic(path, serialize(conversation))
        written.append(path)
    if redacted_audio is not None and conversation.redacted:
        written.append(_write_redacted_audio(conversation, stem.with_name(stem.name + REDACTED_AUDIO_SUFFIX),
                                             redacted_audio))
    return written


@dataclass(frozen=True)
class RedactedAudioRequest:
    """A copy of the recording with the redacted words' time spans silenced or beeped."""

    source: Path  # the original recording
    mode: AudioRedaction = AudioRedaction.SILENCE
    token: str = "[PII]"  # how the redacted words read in the transcript


def redacted_audio_request(source: Path, options: AnalyzeOptions) -> RedactedAudioRequest | None:
    """What redacted copy of the recording to write, if any (with --redact, unless its audio is off)."""
    chosen = options.enrichment
    if not chosen.redact or chosen.redact_audio == AudioRedaction.NONE:
        return None
    return RedactedAudioRequest(source, chosen.redact_audio, chosen.redaction_token)


def _write_redacted_audio(conversation: Conversation, target: Path, request: RedactedAudioRequest) -> Path:
    from callscope.enrichment.pii.redact import redacted_time_spans
    from callscope.enrichment.pii_audio import write_redacted_audio

    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.",
                                         suffix=_PARTIAL_SUFFIX)
    os.close(handle)
    try:
        write_redacted_audio(request.source, redacted_time_spans(conversation, request.token), temporary, request.mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
