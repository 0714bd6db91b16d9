"""Model packages: the models a run uses as one `model.tar.gz`, what the SageMaker model registry
registers (ModelDataUrl), SageMaker hosting unpacks into /opt/ml/model, and the processing steps read
from their model channel. Its files sit at the top of the archive, as the servers expect them, with a
manifest (callscope-model.json) saying what it holds and each file's sha256."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from callscope.errors import ModelError

ARCHIVE = "model.tar.gz"
MANIFEST = "callscope-model.json"
WHISPER = "whisper"  # a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json, ...)
EMBEDDED_DIARIZER = "embedded-diarizer"  # the embedded diarizer's two ONNX models
PYANNOTE = "pyannote"  # a pyannote.audio pipeline directory (config.yaml and its models)


@dataclass(frozen=True)
class ModelManifest:
    kind: str  # WHISPER, EMBEDDED_DIARIZER or PYANNOTE
    name: str  # what the user named: "tiny.en", a directory's name, ...
    files: dict[str, str] = field(default_factory=dict)  # path in the archive -> sha256

    @classmethod
    def read(cls, folder: Path) -> ModelManifest:
        try:
            data = json.loads((folder / MANIFEST).read_text())
            return cls(data["kind"], data["name"], dict(data.get("files", {})))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"{folder}: not a callscope model package (no readable {MANIFEST}: {error})") from None


def pack(files: dict[str, Path], kind: str, name: str, target: Path) -> ModelManifest:
    """Write `files` (path in the archive -> file) and their manifest as `target` (a model.tar.gz)."""
    manifest = ModelManifest(kind, name, {arcname: _sha256(path) for arcname, path in sorted(files.items())})
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    with tarfile.open(partial, "w:gz") as archive:
        for arcname, path in sorted(files.items()):
            archive.add(path, arcname=arcname, recursive=False)
        text = json.dumps(asdict(manifest), indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(text)
        archive.addfile(info, io.BytesIO(text))
    partial.replace(target)
    return manifest


def files_under(folder: Path) -> dict[str, Path]:
    """Every file below `folder`, by its path relative to it (a model directory, as packed)."""
    return {path.relative_to(folder).as_posix(): path for path in sorted(folder.rglob("*")) if path.is_file()}


def unpack(archive: Path, into: Path) -> ModelManifest:
    """Extract a model package into `into` and check every file against its manifest; ModelError (one
    line) for an archive that is not one, or a file that does not match."""
    try:
        with tarfile.open(archive) as opened:
            _extract_files_only(opened, into)
    except (OSError, tarfile.TarError) as error:
        raise ModelError(f"{archive}: not a readable model package ({error})") from None
    manifest = ModelManifest.read(into)
    for arcname, digest in manifest.files.items():
        path = into / arcname
        if not path.is_file() or _sha256(path) != digest:
            raise ModelError(f"{archive}: {arcname} is missing or differs from the package's manifest")
    return manifest


def _extract_files_only(opened: tarfile.TarFile, into: Path) -> None:
    """Regular files and folders only, every one inside `into`: no absolute or `..` paths, links or
    devices. Python 3.11.4+ has this as the "data" filter; Debian 12's Python 3.11.2 does not."""
    if hasattr(tarfile, "data_filter"):
        opened.extractall(into, filter="data")
        return
    root = into.resolve()
    members = opened.getmembers()
    for member in members:
        target = (root / member.name).resolve()
        if not (member.isfile() or member.isdir()) or not target.is_relative_to(root):
            raise tarfile.TarError(f"{member.name}: not a plain file inside the package")
    opened.extractall(into, members=members)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

