"""A call bundle: one tar file per call holding its audio and every step's result so far.

Processing steps shard their input across instances by S3 object (ShardedByS3Key); keeping each
call in one object is what guarantees a step sees a call's audio together with its earlier results.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".call.tar"
_MANIFEST = "call.json"
_AUDIO_PREFIX = "audio"


@dataclass
class CallBundle:
    source: str  # the call's path relative to the input prefix, e.g. "2024/05/call-17.wav"
    audio: bytes
    results: dict[str, dict] = field(default_factory=dict)  # step name -> its JSON result
    uri: str = ""  # where the call came from (its S3 URI), for the results' MediaFileUri

    @property
    def audio_suffix(self) -> str:
        return Path(self.source).suffix.lower()

    @property
    def name(self) -> str:
        """A flat, unique file name for the bundle: the source path with its folders joined by '__'."""
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.source.replace("/", "__")) + SUFFIX

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        temporary = path.with_name(path.name + ".part")
        with tarfile.open(temporary, "w") as archive:
            _add(archive, _MANIFEST, json.dumps({"source": self.source, "uri": self.uri}).encode())
            _add(archive, _AUDIO_PREFIX + self.audio_suffix, self.audio)
            for step, result in self.results.items():
                _add(archive, f"{step}.json", json.dumps(result).encode())
        temporary.replace(path)  # a killed step never leaves half a bundle behind
        return path

    @classmethod
    def read(cls, path: Path) -> CallBundle:
        with tarfile.open(path) as archive:
            members = {member.name: archive.extractfile(member).read()
                       for member in archive.getmembers() if member.isfile()}
        manifest = json.loads(members.pop(_MANIFEST))
        audio = next(members.pop(name) for name in list(members) if name.startswith(_AUDIO_PREFIX))
        results = {Path(name).stem: json.loads(data) for name, data in members.items() if name.endswith(".json")}
        return cls(manifest["source"], audio, results, manifest.get("uri", ""))

    @staticmethod
    def read_source(path: Path) -> str:
        """The call's source path alone, without reading its audio."""
        with tarfile.open(path) as archive:
            return json.loads(archive.extractfile(_MANIFEST).read())["source"]


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def bundles_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*" + SUFFIX)) if folder.is_dir() else []
