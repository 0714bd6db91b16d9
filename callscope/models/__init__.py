"""The models callscope ships (see NOTICE.md), and the one way their ONNX sessions are made."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime


def model_file(name: str, directory: Path | None = None) -> Path:
    """A model file installed with callscope, or the one of that name in `directory` (an unpacked model
    package, callscope.model_package); ModelError (one line) when the directory lacks it."""
    if directory is None:
        return Path(str(resources.files("callscope.models").joinpath(name)))
    path = Path(directory) / name
    if not path.is_file():
        raise ModelError(f"{directory}: no {name} in the model package")
    return path


def cpu_session(path: Path, threads: int | None = None) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU on `threads` threads (None: ONNX Runtime's default)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # No busy-waiting between runs: on a shared 2-core machine (or with --jobs) spinning threads made
    # a 150-turn call's sentiment 2x slower (1.1-1.4 s against 0.6-0.75 s, measured under load), and
    # they take the core that a Whisper worker running beside the diarizer needs; the diarizer alone
    # is as fast without (16.8-17.6 s against 16.1-18.4 s on a 278 s call, two threads).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No memory arena: ONNX Runtime's arena keeps the largest input's buffers for the life of the
    # process. With it on, the three sessions a default analyze holds (sentiment and the diarizer's
    # two) raised the peak of one process over four sample calls from 889 to 1,138 MiB
    # (bench/bench_memory.py; faster-whisper's own Silero VAD session is created the same way).
    options.enable_cpu_mem_arena = False
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
