"""Amazon Transcribe as a system under test in the accuracy lab: a standard job, optionally with a
custom vocabulary or a custom language model, its result turned into timed segments.

Audio goes to s3://<bucket>/<prefix>/media/<sha256><suffix> (skipped when already there), results to
s3://<bucket>/<prefix>/transcripts/<job>.json. Job names come from the audio and the settings, so a
re-run of the lab reuses the jobs it already paid for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callscope.accuracy.systems import AsrSettings
from callscope.aws.clients import s3_client as make_s3_client
from callscope.aws.clients import transcribe_client as make_transcribe_client
from callscope.aws.s3_objects import read_result, upload_media
from callscope.aws.transcribe_requests import TranscribeJobRequest, job_name
from callscope.aws.transcribe_runs import PollPolicy, run_job
from callscope.errors import CallscopeError
from callscope.evaluation.words import ReferenceSegment, segments_from_conversation
from callscope.inputs.transcribe import TranscribeFormatError, conversation_from_transcribe
from callscope.options import AnalyzeOptions


@dataclass
class TranscribeAsr:
    """An AsrSystem backed by Amazon Transcribe standard jobs (clients made on first use unless given)."""

    bucket: str
    prefix: str = "callscope-accuracy"
    region: str | None = None
    language_code: str = "en-US"
    vocabulary_name: str | None = None
    language_model_name: str | None = None
    max_speakers: int = 2
    transcribe_client: Any = None  # a boto3 "transcribe" client
    s3_client: Any = None  # a boto3 "s3" client
    media_uris: Mapping[str, str] = field(default_factory=dict)  # file name or sha256 → s3:// URI already there
    poll: PollPolicy = PollPolicy()
    sleep: Callable[[float], None] = time.sleep
    options: AnalyzeOptions = field(default_factory=AnalyzeOptions)
    settings: AsrSettings = field(init=False)

    def __post_init__(self) -> None:
        settings: dict[str, Any] = {"language": self.language_code, "vocabulary": self.vocabulary_name or ""}
        if self.max_speakers != 2:  # only when not the default, so default rows keep their fingerprint
            settings["max_speakers"] = self.max_speakers
        self.settings = AsrSettings(engine="amazon-transcribe", model=self.language_model_name or "standard",
                                    settings=settings)

    def transcribe(self, audio: Path, sha256: str, speakers: bool) -> list[ReferenceSegment]:
        """The recording's segments (session: its stem); with speakers, Transcribe's speaker labels.
        Raises CallscopeError (one line, naming the file) when the job or its result fails."""
        audio = Path(audio)
        request = TranscribeJobRequest(
            self._media_uri(audio, sha256), language_code=self.language_code,
            vocabulary_name=self.vocabulary_name, language_model_name=self.language_model_name,
            show_speaker_labels=speakers, max_speakers=self.max_speakers, output_bucket=self.bucket)
        name = job_name(sha256, request)
        request = replace(request, output_key=self._key("transcripts", f"{name}.json"))
        job = run_job(self._transcribe(), request, name, self.poll, self.sleep, subject=str(audio))
        document = read_result(self._s3(), job, subject=str(audio))
        try:
            conversation = conversation_from_transcribe(document, audio.name, options=self.options, sha256=sha256)
        except TranscribeFormatError as error:
            if error.kind == "no_speech":  # nothing recognised is a result: every reference word is missed
                return []
            raise CallscopeError(f"{audio}: Amazon Transcribe job {name}: {error}") from None
        return segments_from_conversation(conversation)

    def _media_uri(self, audio: Path, sha256: str) -> str:
        known = self.media_uris.get(sha256) or self.media_uris.get(audio.name)
        return known or upload_media(self._s3(), audio, self.bucket, self._key("media"), sha256)

    def _key(self, *parts: str) -> str:
        return "/".join(part.strip("/") for part in (self.prefix, *parts) if part.strip("/"))

    def _transcribe(self) -> Any:
        if self.transcribe_client is None:
            self.transcribe_client = make_transcribe_client(self.region)
        return self.transcribe_client

    def _s3(self) -> Any:
        if self.s3_client is None:
            self.s3_client = make_s3_client(self.region)
        return self.s3_client
