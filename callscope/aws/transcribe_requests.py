"""What an Amazon Transcribe batch job is asked to do: typed, validated requests (standard and Call
Analytics), their idempotent job names and their Start*Job parameters.

    >>> request = TranscribeJobRequest("s3://bucket/media/abc.wav", language_code="en-US",
    ...                                output_bucket="bucket", output_key="transcripts")
    >>> name = job_name(sha256, request)             # doctest: +SKIP

A CallAnalyticsJobRequest (stereo calls: channel 1 AGENT, channel 0 CUSTOMER unless told
otherwise; PII redaction, generative summary, ...) gets its name from the same `job_name`.

A job's name is derived from the audio's sha256 and the settings that change the transcript, so a
re-run finds the job it started before (finished, or still running) instead of paying for another.
Settings the service cannot take together are refused (TranscribeRequestError) before anything is sent.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Union

from callscope.aws.errors import TranscribeRequestError

JOB_NAME_PATTERN = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")  # the service model's TranscriptionJobName
_FILTER_METHODS = ("mask", "remove", "tag")
_ROLES = ("AGENT", "CUSTOMER")  # the service model's ParticipantRole
_REDACTION_OUTPUTS = ("redacted", "redacted_and_unredacted")  # RedactionOutput
_ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso-{0,1}[a-z]{0,1}):iam::[0-9]{0,63}:role/"
                       r"[A-Za-z0-9:_/+=,@.-]{0,1024}$")  # DataAccessRoleArn
_KMS_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,2048}$")  # KMSKeyId
_RESOURCE_NAME = re.compile(r"^[0-9a-zA-Z._-]{1,200}$")  # VocabularyName, VocabularyFilterName, ModelName
# Where the request's fields say nothing about the transcript itself: not part of the job name.
_NOT_SETTINGS = ("media_uri", "output_bucket", "output_key")


@dataclass(frozen=True)
class TranscribeJobRequest:
    """What a standard transcription job is asked to do. Give a language code, or identify_language
    (optionally among language_options). Speaker labels and channel identification exclude each other.

    Redaction: redaction_output "redacted" (only a redacted transcript) or "redacted_and_unredacted"
    (both; read_result(..., redacted=True) reads the redacted one); pii_entity_types limits what is
    redacted (default: all PII). Sent as StartTranscriptionJob's ContentRedaction."""

    media_uri: str  # s3://bucket/key
    language_code: str | None = None  # "en-US"
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str = "mask"
    language_model_name: str | None = None
    show_speaker_labels: bool = False
    max_speakers: int = 2
    channel_identification: bool = False
    output_bucket: str | None = None
    output_key: str | None = None  # "dir/file.json" or a folder "dir" (the file is then dir/<job>.json)
    redaction_output: str | None = None  # "redacted" | "redacted_and_unredacted": PII redaction on
    pii_entity_types: tuple[str, ...] = ()  # e.g. ("NAME", "CREDIT_DEBIT_NUMBER"); () is all PII

    def __post_init__(self) -> None:
        # Lists are accepted and kept as tuples (the request stays hashable, and an empty list is
        # the default, so it leaves the job name unchanged).
        for name in ("language_options", "pii_entity_types"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self._problem()
        if problem:
            raise TranscribeRequestError(self.media_uri, problem)

    def _problem(self) -> str:
        if not self.media_uri.startswith("s3://"):
            return "Amazon Transcribe reads media from S3: the media URI must start with s3://"
        if bool(self.language_code) == self.identify_language:
            return "give either a language code or identify_language"
        if self.language_options and not self.identify_language:
            return "language options are for language identification"
        customised = self.vocabulary_name or self.vocabulary_filter_name or self.language_model_name
        if self.identify_language and customised:  # the service wants these per language then
            return "a custom vocabulary, filter or language model needs a language code, not language identification"
        if self.show_speaker_labels and self.channel_identification:
            return "speaker labels and channel identification cannot both be on"
        if not 2 <= self.max_speakers <= 30:
            return f"max_speakers is {self.max_speakers}: Amazon Transcribe allows 2 to 30"
        if self.vocabulary_filter_method not in _FILTER_METHODS:
            return f"vocabulary filter method {self.vocabulary_filter_method!r} is not one of {_FILTER_METHODS}"
        if self.output_key and not self.output_bucket:
            return "an output key needs an output bucket"
        return _redaction_problem(self.redaction_output, self.pii_entity_types)

    def settings(self) -> dict[str, Any]:
        """The fields that change the transcript, where they differ from the defaults (so a new
        field added later leaves the names of earlier jobs unchanged)."""
        return _settings(self, _NOT_SETTINGS)


def _redaction_problem(redaction_output: str | None, pii_entity_types: tuple[str, ...]) -> str:
    """What is wrong with a request's PII redaction settings (standard and Call Analytics alike)."""
    if redaction_output is not None and redaction_output not in _REDACTION_OUTPUTS:
        return f"redaction output {redaction_output!r} is not one of {_REDACTION_OUTPUTS}"
    if pii_entity_types:
        if not redaction_output:
            return "PII entity types need redaction (a redaction_output)"
        bad = [kind for kind in pii_entity_types if not re.fullmatch(r"[A-Z][A-Z_]*", str(kind))]
        if bad:
            return f"PII entity type {bad[0]!r} is not an Amazon Transcribe PiiEntityType (e.g. NAME, SSN, ALL)"
        if len(set(pii_entity_types)) != len(pii_entity_types):
            return "a PII entity type is given twice"
        if "ALL" in pii_entity_types and len(pii_entity_types) > 1:
            return "PII entity type ALL already covers the others"
    return ""


def _settings(request: Any, not_settings: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dataclass's fields that differ from their defaults, as JSON-ready values."""
    return {item.name: _plain(value) for item in fields(request) if item.name not in not_settings
            and (value := getattr(request, item.name)) != item.default}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(part) for part in value]
    if is_dataclass(value) and not isinstance(value, type):
        return _settings(value)
    return value


@dataclass(frozen=True)
class LanguageIdSetting:
    """With language identification, the custom vocabulary / filter / language model to use when
    the call turns out to be in `language` (Call Analytics' LanguageIdSettings)."""

    language: str  # "en-US"
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    language_model_name: str | None = None

    def params(self) -> dict[str, str]:
        names = {"VocabularyName": self.vocabulary_name, "VocabularyFilterName": self.vocabulary_filter_name,
                 "LanguageModelName": self.language_model_name}
        return {key: value for key, value in names.items() if value}


@dataclass(frozen=True)
class CallAnalyticsJobRequest:
    """What a Call Analytics (post-call) job is asked to do.

    Language: give a language code (sent, as StartCallAnalyticsJob has no LanguageCode, as a
    one-code Settings.LanguageOptions, the way the reference starts its jobs), or identify_language,
    optionally among two or more language_options; custom vocabularies / filters / language models
    then go per language in language_id_settings.

    Channels: stereo calls with the agent on channel 1 and the customer on channel 0 by default
    (ids 0 and 1 only, one role each); `()` sends no ChannelDefinitions.

    Output: output_location is s3://bucket, s3://bucket/folder/ or s3://bucket/folder/name.json
    (with a bucket or folder the service names the file after the job; read_result follows the URI
    the finished job reports). The transcript is written to our own bucket by the service under the
    IAM role data_access_role_arn (trusting
    transcribe.amazonaws.com; s3:GetObject, s3:ListBucket, s3:PutObject and, for a KMS key,
    kms:GenerateDataKey*/kms:Decrypt): the StartCallAnalyticsJob API reference lists the role among
    the parameters a request must include, although the SDK's service model leaves it optional, so an
    output location without a role is refused here. Without an output location the service keeps the
    transcript in its own bucket, which read_result cannot read.

    Redaction: redaction_output "redacted" (only a redacted transcript) or "redacted_and_unredacted"
    (both; read_result(..., redacted=True) reads the redacted one); pii_entity_types limits what is
    redacted (default: all PII)."""

    media_uri: str  # s3://bucket/key
    output_location: str | None = None
    data_access_role_arn: str | None = None
    output_kms_key_id: str | None = None
    channel_definitions: tuple[tuple[int, str], ...] = ((1, "AGENT"), (0, "CUSTOMER"))
    language_code: str | None = None
    identify_language: bool = False
    language_options: tuple[str, ...] = ()
    language_id_settings: tuple[LanguageIdSetting, ...] = ()
    vocabulary_name: str | None = None
    vocabulary_filter_name: str | None = None
    vocabulary_filter_method: str = "mask"
    language_model_name: str | None = None
    redaction_output: str | None = None  # "redacted" | "redacted_and_unredacted": PII redaction on
    pii_entity_types: tuple[str, ...] = ()  # e.g. ("NAME", "CREDIT_DEBIT_NUMBER"); () is all PII
    generative_summary: bool = False

    # Where the audio and the transcript live, and who may write it: not part of the job name.
    NOT_SETTINGS: ClassVar[tuple[str, ...]] = ("media_uri", "output_location", "data_access_role_arn",
                                               "output_kms_key_id")

    def __post_init__(self) -> None:
        # Lists are accepted and kept as tuples (the request stays hashable); the channels are kept
        # AGENT first, so the same channels in another order are the same request (and job name).
        channels = tuple(tuple(channel) if isinstance(channel, (tuple, list)) else (channel,)
                         for channel in self.channel_definitions)
        order = {role: index for index, role in enumerate(_ROLES)}
        channels = tuple(sorted(channels, key=lambda channel: order.get(channel[-1] if channel else "", 2)))
        object.__setattr__(self, "channel_definitions", channels)
        for name in ("language_options", "language_id_settings", "pii_entity_types"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self._problem()
        if problem:
            raise TranscribeRequestError(self.media_uri, problem)

    def _problem(self) -> str:  # noqa: C901 - one check per line reads best
        if not self.media_uri.startswith("s3://"):
            return "Amazon Transcribe reads media from S3: the media URI must start with s3://"
        channel_problem = _channel_problem(self.channel_definitions)
        if channel_problem:
            return channel_problem
        if bool(self.language_code) == self.identify_language:
            return "give either a language code or identify_language"
        if self.language_options and not self.identify_language:
            return "language options are for language identification (a known language is language_code)"
        if len(self.language_options) == 1 or len(set(self.language_options)) != len(self.language_options):
            return "language identification needs two or more different language options (or none)"
        if self.identify_language and (self.vocabulary_name or self.vocabulary_filter_name or self.language_model_name):
            return ("a custom vocabulary, filter or language model needs a language code; with language "
                    "identification give them per language in language_id_settings")
        if not all(isinstance(setting, LanguageIdSetting) for setting in self.language_id_settings):
            return "language_id_settings take LanguageIdSetting entries"
        if self.language_id_settings:
            languages = [setting.language for setting in self.language_id_settings]
            if not self.identify_language:
                return "language_id_settings are for language identification (with a language code use the names)"
            if len(set(languages)) != len(languages):
                return "language_id_settings name a language twice"
            if self.language_options and set(languages) - set(self.language_options):
                return f"language_id_settings for {sorted(set(languages) - set(self.language_options))} " \
                       "not among the language options"
            if not all(setting.params() for setting in self.language_id_settings):
                return "a language_id_settings entry names no vocabulary, filter or language model"
        names = [self.vocabulary_name, self.vocabulary_filter_name, self.language_model_name,
                 *(name for setting in self.language_id_settings for name in setting.params().values())]
        bad = [name for name in names if name and not _RESOURCE_NAME.fullmatch(name)]
        if bad:
            return f"{bad[0]!r} is not a valid Amazon Transcribe resource name (0-9 a-z A-Z . _ -, at most 200)"
        if self.vocabulary_filter_method not in _FILTER_METHODS:
            return f"vocabulary filter method {self.vocabulary_filter_method!r} is not one of {_FILTER_METHODS}"
        if self.vocabulary_filter_method != "mask" and not self._filtered():
            return "a vocabulary filter method needs a vocabulary filter"
        redaction_problem = _redaction_problem(self.redaction_output, self.pii_entity_types)
        if redaction_problem:
            return redaction_problem
        if self.output_location is not None:
            location = re.fullmatch(r"s3://([^/]+)(/.*)?", self.output_location)
            if not location or not (location.group(2) in (None, "/") or location.group(2).endswith(("/", ".json"))):
                return ("an output location is s3://bucket, s3://bucket/folder/ or s3://bucket/folder/name.json, "
                        f"not {self.output_location}")
            if not self.data_access_role_arn:
                return ("an output location needs a data access role ARN (an IAM role Amazon Transcribe "
                        "assumes to read the media and write the output)")
        if self.data_access_role_arn and not _ROLE_ARN.fullmatch(self.data_access_role_arn):
            return f"{self.data_access_role_arn} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        if self.output_kms_key_id:
            if not self.output_location:
                return "an output KMS key is for an output location of ours"
            if not _KMS_KEY.fullmatch(self.output_kms_key_id):
                return f"{self.output_kms_key_id!r} is not a KMS key id, alias or ARN"
        return ""

    def _filtered(self) -> bool:
        return bool(self.vocabulary_filter_name
                    or any(setting.vocabulary_filter_name for setting in self.language_id_settings))

    def settings(self) -> dict[str, Any]:
        """The fields that change the transcript and analytics, where they differ from the defaults."""
        return _settings(self, self.NOT_SETTINGS)


def _channel_problem(channels: tuple[tuple[Any, ...], ...]) -> str:
    if len(channels) > 2:
        return f"{len(channels)} channel definitions: Call Analytics takes two channels (0 and 1)"
    for channel in channels:
        if len(channel) != 2:
            return f"channel definition {channel!r} is not (channel id, role)"
        channel_id, role = channel
        if not isinstance(channel_id, int) or isinstance(channel_id, bool) or channel_id not in (0, 1):
            return f"channel id {channel_id!r} is not 0 or 1 (Call Analytics takes two channels)"
        if role not in _ROLES:
            return f"participant role {role!r} is not AGENT or CUSTOMER"
    if len({channel[0] for channel in channels}) != len(channels):
        return "two channel definitions for the same channel"
    if len({channel[1] for channel in channels}) != len(channels):
        return "two channels with the same participant role"
    return ""


JobRequest = Union[TranscribeJobRequest, CallAnalyticsJobRequest]


def job_name(sha256: str, request: JobRequest) -> str:
    """`callscope-<audio>-<settings>` (`callscope-ca-...` for Call Analytics): same audio and settings,
    same name; valid for Transcribe."""
    audio = re.sub(r"[^0-9a-zA-Z]", "", sha256)[:16]
    if not audio:
        raise ValueError("job_name needs the audio's sha256")
    blob = json.dumps(request.settings(), sort_keys=True)
    prefix = "callscope-ca" if isinstance(request, CallAnalyticsJobRequest) else "callscope"
    return f"{prefix}-{audio}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


def start_params(request: TranscribeJobRequest, name: str) -> dict[str, Any]:
    """The StartTranscriptionJob parameters for the request."""
    params: dict[str, Any] = {"TranscriptionJobName": name, "Media": {"MediaFileUri": request.media_uri}}
    if request.identify_language:
        params["IdentifyLanguage"] = True
        if request.language_options:
            params["LanguageOptions"] = list(request.language_options)
    else:
        params["LanguageCode"] = request.language_code
    settings: dict[str, Any] = {}
    if request.vocabulary_name:
        settings["VocabularyName"] = request.vocabulary_name
    if request.vocabulary_filter_name:
        settings["VocabularyFilterName"] = request.vocabulary_filter_name
        settings["VocabularyFilterMethod"] = request.vocabulary_filter_method
    if request.show_speaker_labels:
        settings["ShowSpeakerLabels"] = True
        settings["MaxSpeakerLabels"] = request.max_speakers
    if request.channel_identification:
        settings["ChannelIdentification"] = True
    if settings:
        params["Settings"] = settings
    if request.language_model_name:
        params["ModelSettings"] = {"LanguageModelName": request.language_model_name}
    if request.output_bucket:
        params["OutputBucketName"] = request.output_bucket
    if request.output_key:
        params["OutputKey"] = request.output_key
    if request.redaction_output:
        params["ContentRedaction"] = _content_redaction(request)
    return params


def _content_redaction(request: JobRequest) -> dict[str, Any]:
    """ContentRedaction (the same shape in StartTranscriptionJob and in StartCallAnalyticsJob's Settings)."""
    redaction: dict[str, Any] = {"RedactionType": "PII", "RedactionOutput": request.redaction_output}
    if request.pii_entity_types:
        redaction["PiiEntityTypes"] = list(request.pii_entity_types)
    return redaction


def call_analytics_params(request: CallAnalyticsJobRequest, name: str) -> dict[str, Any]:
    """The StartCallAnalyticsJob parameters for the request."""
    params: dict[str, Any] = {"CallAnalyticsJobName": name, "Media": {"MediaFileUri": request.media_uri}}
    if request.output_location:
        params["OutputLocation"] = request.output_location
    if request.output_kms_key_id:
        params["OutputEncryptionKMSKeyId"] = request.output_kms_key_id
    if request.data_access_role_arn:
        params["DataAccessRoleArn"] = request.data_access_role_arn
    settings: dict[str, Any] = {}
    if request.vocabulary_name:
        settings["VocabularyName"] = request.vocabulary_name
    if request.vocabulary_filter_name:
        settings["VocabularyFilterName"] = request.vocabulary_filter_name
    if request._filtered():
        settings["VocabularyFilterMethod"] = request.vocabulary_filter_method
    if request.language_model_name:
        settings["LanguageModelName"] = request.language_model_name
    if request.redaction_output:
        settings["ContentRedaction"] = _content_redaction(request)
    if request.language_code:
        settings["LanguageOptions"] = [request.language_code]
    elif request.language_options:
        settings["LanguageOptions"] = list(request.language_options)
    if request.language_id_settings:
        settings["LanguageIdSettings"] = {setting.language: setting.params()
                                          for setting in request.language_id_settings}
    if request.generative_summary:
        settings["Summarization"] = {"GenerateAbstractiveSummary": True}
    if settings:
        params["Settings"] = settings
    if request.channel_definitions:
        params["ChannelDefinitions"] = [{"ChannelId": channel_id, "ParticipantRole": role}
                                        for channel_id, role in request.channel_definitions]
    return params
