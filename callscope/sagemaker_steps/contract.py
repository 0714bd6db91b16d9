"""The SageMaker processing contract: inputs under /opt/ml/processing/input/<name>, outputs under
/opt/ml/processing/output/<name>, the cluster in /opt/ml/config/resourceconfig.json.

`CALLSCOPE_PROCESSING_ROOT` moves all of it under another directory, so the same step runs on a
laptop or in CI exactly as in a processing job (the local pipeline runner sets it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT_VARIABLE = "CALLSCOPE_PROCESSING_ROOT"
CONTAINER_PREFIX = "/opt/ml/processing"


def root() -> Path:
    return Path(os.environ.get(ROOT_VARIABLE, "/"))


def local_path(container_path: str) -> Path:
    """Where `container_path` (an absolute /opt/ml/... path) lies under the processing root."""
    return root() / container_path.lstrip("/")


def input_dir(name: str) -> Path:
    return local_path(f"{CONTAINER_PREFIX}/input/{name}")


def output_dir(name: str) -> Path:
    path = local_path(f"{CONTAINER_PREFIX}/output/{name}")
    path.mkdir(parents=True, exist_ok=True)
    return path


def host_name() -> str:
    """This instance's name in the processing cluster ("algo-1", ...); "local" outside one.

    Every instance uploads its output folder to the same S3 prefix, so per-instance files (the
    failure lists) carry the host name to never overwrite each other.
    """
    try:
        return json.loads(local_path("/opt/ml/config/resourceconfig.json").read_text())["current_host"]
    except (OSError, ValueError, KeyError):
        return "local"
