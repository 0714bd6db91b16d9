"""Transcriptions side by side: several signals at once on a transcriber with several workers."""

from __future__ import annotations

import ctypes
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from callscope.transcription.base import Transcriber, TranscriptionResult

_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def workers_of(transcriber: Transcriber) -> int:
    """How many transcriptions the transcriber runs at once (FasterWhisperTranscriber on a CPU: 2)."""
    return getattr(transcriber, "workers", 1)


def transcribe_each(transcriber: Transcriber, signals: list[np.ndarray]) -> list[TranscriptionResult]:
    """Each signal's words, in order: side by side on a transcriber with several workers, one after
    the other otherwise. The words are the same."""
    workers = min(workers_of(transcriber), len(signals))
    if workers <= 1:
        return [transcriber.transcribe(signal) for signal in signals]
    with ThreadPoolExecutor(workers, thread_name_prefix="transcribe") as pool:
        return list(pool.map(transcriber.transcribe, signals))


@cache
def share_malloc_arenas() -> None:
    """Let glibc keep at most ARENAS malloc arenas in this process, unless MALLOC_ARENA_MAX says otherwise.

    glibc gives each thread that allocates its own arena (up to 8 per core) and keeps what is freed
    there: with two Whisper workers and the diarizer running side by side, one process's peak over
    four sample calls rose from 0.92 to 1.42 GB; with two arenas it was 1.04-1.09 GB
    (bench/bench_memory.py, docs/BENCHMARKS.md). Nothing happens where the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt)
        pass
