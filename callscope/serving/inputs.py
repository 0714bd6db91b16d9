"""What an /invocations request carries: its audio (inline, raw bytes or an S3 URI) and its parameters."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from callscope.audio.decode import AUDIO_EXTENSIONS
from callscope.errors import CallscopeError, first_line

AUDIO_FIELDS = frozenset({"audio_base64", "audio_s3_uri"})
# A request is a few levels deep (a timeline's segments are 4); far deeper JSON would only exhaust the
# recursion limit of whatever walks it later (json.dumps in an error message, the model's checks).
MAX_NESTING = 32
# SageMaker passes InvokeEndpoint's CustomAttributes in this header: parameters of raw-audio requests.
ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"

# callscope's decoder accepts files by extension (FFmpeg then probes the bytes), so a request's audio
# is saved under a suffix taken from, in turn: the S3 key, the Content-Type, the file's first bytes.
_SUFFIX_BY_TYPE = {
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
    "audio/flac": ".flac", "audio/x-flac": ".flac", "audio/mpeg": ".mp3", "audio/mp3": ".mp3",
    "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a",
    "audio/aac": ".aac", "audio/webm": ".webm", "audio/amr": ".amr", "audio/aiff": ".aiff",
    "audio/x-aiff": ".aiff", "audio/basic": ".au",
}
_MAGIC = ((0, b"fLaC", ".flac"), (0, b"OggS", ".ogg"), (0, b"ID3", ".mp3"), (4, b"ftyp", ".m4a"),
          (0, b"\x1a\x45\xdf\xa3", ".webm"), (0, b"#!AMR", ".amr"), (0, b"FORM", ".aiff"), (0, b".snd", ".au"))
# S3 error codes that mean the request named an object this server cannot read.
_S3_CLIENT_CODES = {"404": "no such object", "NoSuchKey": "no such object", "NoSuchBucket": "no such bucket",
                    "403": "access denied", "AccessDenied": "access denied"}


class RequestError(CallscopeError):
    """The request itself is wrong (HTTP 400, or `status`); the message is one line for the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Invocation:
    audio: Path  # the request's audio, saved in a temporary directory
    source: str  # where the audio came from ("request body", "audio_base64", the S3 URI): errors name it
    name: str  # a file id for outputs such as RTTM: the S3 key's stem, else "audio"
    parameters: dict[str, Any] = field(default_factory=dict)


class S3Fetcher:
    """Downloads `s3://bucket/key` objects with one boto3 client, made on first use.

    boto3 reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, so tests can point it at a local S3.
    """

    def __init__(self) -> None:
        self._client = None
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe; the client they make is

    def _s3(self):
        with self._lock:
            if self._client is None:
                try:
                    import boto3
                except ImportError:
                    raise CallscopeError("S3 URIs need boto3: pip install 'callscope[aws]'") from None
                self._client = boto3.client("s3")
        return self._client

    def fetch(self, uri: str, target: Path) -> None:
        bucket, key = parse_s3_uri(uri)
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._s3().download_file(bucket, key, str(target))
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _S3_CLIENT_CODES:
                raise RequestError(f"{uri}: {_S3_CLIENT_CODES[code]}") from None
            raise CallscopeError(f"{uri}: S3 error {code or first_line(error)}") from None
        except BotoCoreError as error:  # no credentials, endpoint unreachable: the server's problem
            raise CallscopeError(f"{uri}: {first_line(error)}") from None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise RequestError(f"audio_s3_uri must look like s3://bucket/key, got '{uri[:200]}'")
    return bucket, key


def read_invocation(body: bytes, content_type: str, attributes: str, workdir: Path, fetcher: S3Fetcher) -> Invocation:
    """The audio and parameters of a request; RequestError when they cannot be read."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        return _from_json(body, workdir, fetcher)
    if media_type.startswith("audio/") or media_type == "application/octet-stream":
        if not body:
            raise RequestError("empty request body: send audio bytes")
        path = _save(body, workdir, _SUFFIX_BY_TYPE.get(media_type))
        return Invocation(path, "request body", "audio", parse_attributes(attributes))
    raise RequestError(
        f"unsupported Content-Type '{media_type or '(none)'}': send application/json, audio/* or "
        "application/octet-stream", status=415)


def parse_attributes(header: str) -> dict[str, str]:
    """`speakers=2;language=en` (`;` or `,` between pairs) as a dict; anything else in it is ignored."""
    pairs = (item.partition("=") for item in header.replace(",", ";").split(";"))
    return {name.strip(): value.strip() for name, sign, value in pairs if sign and name.strip()}


def integer(parameters: dict[str, Any], name: str, minimum: int = 1) -> int | None:
    """An optional whole-number parameter (a JSON number, or digits from the attributes header)."""
    value = parameters.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RequestError(f"{name} must be a whole number >= {minimum}, got {json.dumps(value)[:40]}")
    return value


def _from_json(body: bytes, workdir: Path, fetcher: S3Fetcher) -> Invocation:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(f"request body is not valid JSON ({first_line(error)})") from None
    except RecursionError:  # the parser recurses per level: thousands of [ or { exhaust the stack
        raise RequestError(f"request JSON nested deeper than {MAX_NESTING} levels") from None
    if _nesting(data) > MAX_NESTING:
        raise RequestError(f"request JSON nested deeper than {MAX_NESTING} levels")
    if not isinstance(data, dict):
        raise RequestError("request body must be a JSON object")
    given = AUDIO_FIELDS & data.keys()
    if len(given) != 1:
        raise RequestError("give exactly one of audio_base64 or audio_s3_uri")
    parameters = {name: value for name, value in data.items() if name not in AUDIO_FIELDS}
    if "audio_base64" in data:
        return Invocation(_save(_decode_base64(data["audio_base64"]), workdir), "audio_base64", "audio", parameters)
    uri = data["audio_s3_uri"]
    if not isinstance(uri, str):
        raise RequestError("audio_s3_uri must be a string")
    _, key = parse_s3_uri(uri)
    key_path = PurePosixPath(key)
    download = workdir / f"download{key_path.suffix.lower() if key_path.suffix.lower() in AUDIO_EXTENSIONS else ''}"
    fetcher.fetch(uri, download)
    if download.suffix:
        return Invocation(download, uri, key_path.stem or "audio", parameters)
    with open(download, "rb") as handle:
        path = download.rename(workdir / f"audio{_sniff(handle.read(64))}")
    return Invocation(path, uri, key_path.stem or "audio", parameters)


def _nesting(value: Any) -> int:
    """How many arrays and objects deep `value` goes, counted without recursion (stops past MAX_NESTING)."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_NESTING:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _decode_base64(text: Any) -> bytes:
    if not isinstance(text, str) or not text:
        raise RequestError("audio_base64 must be a non-empty string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("audio_base64 is not valid base64") from None


def _save(data: bytes, workdir: Path, suffix: str | None = None) -> Path:
    path = workdir / f"audio{suffix or _sniff(data)}"
    path.write_bytes(data)
    return path


def _sniff(head: bytes) -> str:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav"
    for offset, magic, suffix in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return suffix
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame header
        return ".mp3"
    return ".wav"  # unknown: FFmpeg probes the bytes and the decoder says why it cannot read them
