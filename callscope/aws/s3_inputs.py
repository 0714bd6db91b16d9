"""`callscope analyze s3://bucket/calls/ --asr transcribe`: recordings that are already in S3.

Each recording under the URI is copied once into a local folder (decoding, loudness and the
redacted audio need the file here; a copy of the same size is not fetched again), and its S3 URI
is remembered by content, so the Transcribe job reads the original object instead of an upload.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from callscope.audio.decode import AUDIO_EXTENSIONS, file_sha256
from callscope.aws.errors import AwsServiceError, aws_errors, service_error


@dataclass
class S3Recordings:
    paths: list[Path] = field(default_factory=list)  # local copies: folders (a prefix) or files (a key)
    media_uris: dict[str, str] = field(default_factory=dict)  # sha256 of each copy → its s3:// URI


def is_s3_uri(text: str) -> bool:
    return text.startswith("s3://")


def fetch_recordings(uris: list[str], folder: Path, s3_client: Any) -> S3Recordings:
    """Copy the recordings under each s3://bucket/prefix (or the one object s3://bucket/key.wav) into
    `folder`/<bucket>/<key>. Raises AwsServiceError (one line naming the URI) when S3 refuses."""
    fetched = S3Recordings()
    for uri in uris:
        bucket, _, prefix = uri[len("s3://"):].partition("/")
        if not bucket:
            raise AwsServiceError(uri, "not an S3 location: give s3://bucket/prefix/", "bad_request")
        single = PurePosixPath(prefix).suffix.lower() in AUDIO_EXTENSIONS
        if prefix and not single and not prefix.endswith("/"):
            prefix += "/"  # s3://b/calls is the folder calls/, not calls2/ as well
        keys = [prefix] if single else _audio_keys(s3_client, uri, bucket, prefix)
        if not keys:
            raise AwsServiceError(uri, "has no recordings (looked for " + ", ".join(sorted(AUDIO_EXTENSIONS)) + ")",
                                  "not_found")
        for key in keys:
            local = _copy(s3_client, uri, bucket, key, folder)
            fetched.media_uris[file_sha256(local)] = f"s3://{bucket}/{key}"
        fetched.paths.append(folder / bucket / prefix if not single else folder / bucket / keys[0])
    return fetched


def _audio_keys(s3_client: Any, uri: str, bucket: str, prefix: str) -> list[str]:
    errors = aws_errors()
    keys: list[str] = []
    try:
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])
                     if PurePosixPath(item["Key"]).suffix.lower() in AUDIO_EXTENSIONS]
    except errors as error:
        raise service_error(error, uri, "listing the recordings") from None
    return sorted(keys)


def _copy(s3_client: Any, uri: str, bucket: str, key: str, folder: Path) -> Path:
    local = folder / bucket / key
    errors = aws_errors()
    try:
        size = s3_client.head_object(Bucket=bucket, Key=key)["ContentLength"]
        if local.is_file() and local.stat().st_size == size:
            return local  # fetched by an earlier run
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(local.name + ".part")
        s3_client.download_file(bucket, key, str(partial))
        os.replace(partial, local)  # never a half-copied recording under the real name
    except errors as error:
        raise service_error(error, uri, f"copying s3://{bucket}/{key}") from None
    return local
