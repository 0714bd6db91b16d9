"""`python -m callscope.serving KIND` (or `callscope-serve KIND`): start the inference server of one model kind.

SageMaker passes no arguments to `serve`; it configures containers through the environment, so
every option has an environment variable: SM_MODEL_DIR, SAGEMAKER_BIND_TO_PORT, CALLSCOPE_THREADS,
CALLSCOPE_DEVICE, CALLSCOPE_READ_TIMEOUT, CALLSCOPE_ENDPOINT, CALLSCOPE_CONCURRENCY. A flag given on the
command line wins.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

from callscope.serving import KINDS
from callscope.serving.server import ServerConfig, log, serve


def _parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="callscope-serve", description="SageMaker-style inference server (/ping, /invocations).")
    parser.add_argument("kind", choices=KINDS)
    # String defaults pass through `type` too, so a bad environment value is a usage error, not a traceback.
    parser.add_argument("--host", default=ServerConfig.host)
    parser.add_argument("--port", type=int, default=env("SAGEMAKER_BIND_TO_PORT", str(ServerConfig.port)),
                        help="port (SAGEMAKER_BIND_TO_PORT, else 8080)")
    parser.add_argument("--model-dir", type=Path, default=Path(env("SM_MODEL_DIR", "/opt/ml/model")),
                        help="model directory (SM_MODEL_DIR, else /opt/ml/model)")
    parser.add_argument("--threads", type=int, default=env("CALLSCOPE_THREADS", "0"),
                        help="CPU threads for the model (CALLSCOPE_THREADS, else 0: every core)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=env("CALLSCOPE_DEVICE", "auto"),
                        help="where the model runs (CALLSCOPE_DEVICE, else auto: a GPU when there is one)")
    parser.add_argument("--max-body-mb", type=int, default=ServerConfig.max_body_bytes // 2**20,
                        help="largest request body; larger calls go by S3 URI")
    parser.add_argument("--endpoint", choices=("async", "realtime"), default=env("CALLSCOPE_ENDPOINT", "async"),
                        help="the endpoint type serving it (CALLSCOPE_ENDPOINT, else async): realtime refuses bodies "
                             "over InvokeEndpoint's 6 MB in one line")
    parser.add_argument("--concurrency", type=_positive, default=env("CALLSCOPE_CONCURRENCY", "1"),
                        help="invocations run at once, the endpoint's MaxConcurrentInvocationsPerInstance "
                             "(CALLSCOPE_CONCURRENCY, else 1)")
    parser.add_argument("--read-timeout", type=_seconds, default=env("CALLSCOPE_READ_TIMEOUT",
                                                                      f"{ServerConfig.read_timeout_s:g}"),
                        help="seconds a client may send nothing before it is dropped (CALLSCOPE_READ_TIMEOUT, "
                             "else 60)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds above 0")
    return seconds


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.kind == "diarization":
        from callscope.serving.diarization import load
    else:
        from callscope.serving.transcription import load
    if not args.model_dir.is_dir():
        log(f"model directory {args.model_dir} not found: using the model that ships with callscope")
    config = ServerConfig(host=args.host, port=args.port, max_body_bytes=args.max_body_mb * 2**20,
                          read_timeout_s=args.read_timeout, realtime=args.endpoint == "realtime",
                          concurrency=args.concurrency)
    return serve(config, partial(load, args.model_dir, threads=args.threads, device=args.device,
                                 concurrency=args.concurrency))


if __name__ == "__main__":
    sys.exit(main())
