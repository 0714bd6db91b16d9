"""`--asr transcribe`: a recording's words from an Amazon Transcribe job instead of the local models.

A stereo call gets a Call Analytics job with the channel definitions of the options (channel 1
AGENT, channel 0 CUSTOMER unless told otherwise); a mono call, or a stereo file whose channels
carry the same signal, a standard job with speaker labels (AmazonTranscribeOptions.api can force
either). The recording is uploaded to s3://<bucket>/<prefix>/media/<sha256><suffix> unless it is
there already (or its S3 URI is known), the result goes to s3://<bucket>/<prefix>/transcripts/<job>.json.
Job names come from the audio and the settings, so a re-run reuses the jobs it paid for.

    >>> service = AmazonTranscribeService(AmazonTranscribeOptions(bucket="my-bucket"))  # doctest: +SKIP
    >>> transcript = service.transcribe(path, decoded_audio)                            # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callscope.audio.decode import DecodedAudio
from callscope.aws.clients import s3_client, transcribe_client
from callscope.aws.errors import AwsServiceError, aws_errors, service_error
from callscope.aws.job_info import transcription_job
from callscope.aws.s3_objects import read_result, upload_media
from callscope.aws.transcribe_requests import CallAnalyticsJobRequest, JobRequest, TranscribeJobRequest, job_name
from callscope.aws.transcribe_runs import PollPolicy, run_job, start_job
from callscope.errors import InputError
from callscope.model import TranscriptionJob
from callscope.options import AmazonTranscribeOptions, SpeakerOptions, TranscribeApi
from callscope.speakers.channels import is_fake_stereo

# Errors on which starting the remaining jobs ahead is pointless: each call then starts its own job
# in its turn (and reports the error, one line, if it persists).
_STOP_STARTING = ("limit_exceeded", "throttled", "access_denied", "aws_unavailable")


def stops_starting(error: AwsServiceError) -> bool:
    return error.kind in _STOP_STARTING


@dataclass(frozen=True)
class ServiceTranscript:
    """A finished job's result document (standard or Call Analytics JSON) and what its description says."""

    document: dict[str, Any]
    job: TranscriptionJob


@dataclass
class AmazonTranscribeService:
    """Runs one job per recording; clients are made on first use unless given (tests stub them)."""

    options: AmazonTranscribeOptions
    speakers: SpeakerOptions = field(default_factory=SpeakerOptions)
    transcribe_client: Any = None  # a boto3 "transcribe" client
    s3_client: Any = None  # a boto3 "s3" client
    media_uris: dict[str, str] = field(default_factory=dict)  # sha256 → s3:// URI of media already there
    sleep: Callable[[float], None] = time.sleep

    def check_bucket(self) -> None:
        """Stop before any call when the bucket cannot be reached (AwsServiceError, one line)."""
        errors = aws_errors()
        try:
            self._s3().head_bucket(Bucket=self.options.bucket)
        except errors as error:
            raise service_error(error, f"s3://{self.options.bucket}", "checking the bucket") from None

    def start(self, path: Path, audio: DecodedAudio) -> None:
        """Upload the recording and start its job without waiting: a batch starts every job first, so
        they run side by side in the service while the calls are taken one by one."""
        request, name = self._request(path, audio)
        start_job(self._transcribe(), request, name, subject=str(path))

    def transcribe(self, path: Path, audio: DecodedAudio,
                   on_wait: Callable[[str, float], None] | None = None) -> ServiceTranscript:
        """The finished job's result (its PII-redacted transcript when the job redacted). Raises
        AwsServiceError (one line naming the file) when the service, the job or its result fails.
        on_wait(status, seconds waited) is told before each wait for the job."""
        request, name = self._request(path, audio)
        poll = PollPolicy(timeout=self.options.timeout_secs)
        description = run_job(self._transcribe(), request, name, poll, self.sleep, subject=str(path),
                              on_wait=on_wait)
        redacted = bool((description.get("Transcript") or {}).get("RedactedTranscriptFileUri"))
        document = read_result(self._s3(), description, redacted=redacted, subject=str(path))
        return ServiceTranscript(document, transcription_job(description, redacted=redacted))

    def uses_call_analytics(self, audio: DecodedAudio) -> bool:
        api = self.options.api
        return api == TranscribeApi.ANALYTICS or (api == TranscribeApi.AUTO and self.separate_channels(audio))

    def separate_channels(self, audio: DecodedAudio) -> bool:
        """Whether each channel is a participant: stereo, and not the same signal twice.

        More channels than two that differ are refused: Transcribe identifies two channels at most, and
        a job would silently drop the others."""
        samples = audio.samples
        separate = samples.shape[0] > 1 and not is_fake_stereo(samples, self.speakers.fake_stereo_db)
        if separate and samples.shape[0] > 2:
            raise InputError(
                audio.source.path,
                f"has {samples.shape[0]} channels that differ; Amazon Transcribe separates two at most "
                "(analyse it with the local models, which give each channel its speaker)",
                "too_many_channels",
            )
        return separate

    def _request(self, path: Path, audio: DecodedAudio) -> tuple[JobRequest, str]:
        """The job's request and name; the recording is uploaded on the way when need be."""
        sha256 = audio.source.sha256
        # The channels are checked first: a recording Transcribe cannot separate is not uploaded.
        call_analytics, separate_channels = self.uses_call_analytics(audio), self.separate_channels(audio)
        media_uri = self.media_uris.get(sha256) or upload_media(
            self._s3(), path, self.options.bucket, self._key("media"), sha256)
        request = self.request_for(media_uri, call_analytics, separate_channels)
        name = job_name(sha256, request)
        output_key = self._key("transcripts", f"{name}.json")
        if isinstance(request, CallAnalyticsJobRequest):
            return replace(request, output_location=f"s3://{self.options.bucket}/{output_key}"), name
        return replace(request, output_bucket=self.options.bucket, output_key=output_key), name

    def request_for(self, media_uri: str, call_analytics: bool, separate_channels: bool) -> JobRequest:
        """The job request the options ask for (its output location is added by the caller).
        separate_channels: each channel is one participant (channel definitions, or channel
        identification for a standard job); otherwise the service labels the speakers."""
        chosen = self.options
        language = {"language_code": chosen.language_code, "identify_language": chosen.language_code is None,
                    "language_options": chosen.language_options}
        names = {"vocabulary_name": chosen.vocabulary_name, "vocabulary_filter_name": chosen.vocabulary_filter_name,
                 "vocabulary_filter_method": chosen.vocabulary_filter_method,
                 "language_model_name": chosen.language_model_name}
        redaction = {"redaction_output": "redacted" if chosen.redact else None,
                     "pii_entity_types": chosen.pii_entity_types if chosen.redact else ()}
        if call_analytics:
            channels = tuple((definition.channel, definition.role.value) for definition in self.speakers.channels)
            return CallAnalyticsJobRequest(
                media_uri, data_access_role_arn=chosen.data_access_role_arn,
                output_kms_key_id=chosen.output_kms_key_id, channel_definitions=channels if separate_channels else (),
                generative_summary=chosen.generative_summary, **language, **names, **redaction)
        return TranscribeJobRequest(
            media_uri, show_speaker_labels=not separate_channels, max_speakers=chosen.max_speakers,
            channel_identification=separate_channels, **language, **names, **redaction)

    def _key(self, *parts: str) -> str:
        return "/".join(part.strip("/") for part in (self.options.prefix, *parts) if part.strip("/"))

    def _transcribe(self) -> Any:
        if self.transcribe_client is None:
            self.transcribe_client = transcribe_client(self.options.region)
        return self.transcribe_client

    def _s3(self) -> Any:
        if self.s3_client is None:
            self.s3_client = s3_client(self.options.region)
        return self.s3_client
