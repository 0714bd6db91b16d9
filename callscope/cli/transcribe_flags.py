"""The flags of `callscope analyze --asr transcribe` (Amazon Transcribe instead of the local models),
and the options they make. Kept apart from analyze.py: they only matter with --asr transcribe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from callscope.cli.params import parse_duration
from callscope.options import ASR_ENGINES, TRANSCRIBE_APIS, AmazonTranscribeOptions, transcribe_options_from_flags
from callscope.speakers.diarization import SpeakerCount

_DEFAULTS = AmazonTranscribeOptions()


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(code.strip() for code in (value or "").split(",") if code.strip())


_FLAGS = (
    click.option("--asr", type=click.Choice(ASR_ENGINES), default="whisper", show_default=True,
                 help="Who writes the words: faster-whisper here, or Amazon Transcribe jobs (needs the aws extra, "
                      "AWS credentials and --s3-bucket; docs/TRANSCRIBE.md)."),
    click.option("--s3-bucket", default=None, help="--asr transcribe: the bucket for the recordings and results."),
    click.option("--s3-prefix", default=_DEFAULTS.prefix, show_default=True,
                 help="--asr transcribe: key prefix (media/ and transcripts/ go under it)."),
    click.option("--aws-region", default=None, help="--asr transcribe: the region (default: the AWS configuration's)."),
    click.option("--transcribe-api", type=click.Choice(TRANSCRIBE_APIS), default="auto", show_default=True,
                 help="auto: Call Analytics for stereo calls, a standard job with speaker labels for mono ones."),
    click.option("--language-code", default=None, metavar="CODE|auto",
                 help="--asr transcribe: the language, a locale such as en-US, or auto to identify it "
                      "(default: en-US; auto with --language auto)."),
    click.option("--language-options", default=None, metavar="CODE,...",
                 help="--asr transcribe with --language-code auto: the languages the calls may be in."),
    click.option("--transcribe-vocabulary", default=None, help="--asr transcribe: a custom vocabulary's name."),
    click.option("--vocabulary-filter", default=None, help="--asr transcribe: a vocabulary filter's name."),
    click.option("--vocabulary-filter-method", type=click.Choice(["mask", "remove", "tag"]), default="mask",
                 show_default=True),
    click.option("--language-model", default=None, help="--asr transcribe: a custom language model's name."),
    click.option("--pii-types", default=None, metavar="TYPE,...",
                 help="--asr transcribe --redact: the PII types Transcribe redacts, e.g. NAME,SSN (default: all)."),
    click.option("--transcribe-role-arn", default=None,
                 help="--asr transcribe: IAM role Call Analytics writes the results to --s3-bucket with."),
    click.option("--transcribe-kms-key", default=None, help="--asr transcribe: KMS key for Call Analytics results."),
    click.option("--transcribe-summary", is_flag=True,
                 help="--asr transcribe: Call Analytics' generative call summary (kept as the ContactSummary)."),
    click.option("--transcribe-timeout", callback=parse_duration, default="2:00:00", show_default=True,
                 help="--asr transcribe: how long to wait for one job (it goes on running; a re-run picks it up)."),
)


def amazon_transcribe_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the flags to a click command; they arrive as keyword arguments for `transcribe_options`."""
    for flag in reversed(_FLAGS):
        command = flag(command)
    return command


def transcribe_options(flags: dict[str, Any], *, language: str, redact: bool, speaker_count: SpeakerCount,
                       vocabulary_file: Path | None) -> AmazonTranscribeOptions:
    """The options of --asr transcribe; ValueError (one line) for flags that cannot go together."""
    if flags["asr"] != "transcribe":
        return _DEFAULTS
    if vocabulary_file is not None:
        raise ValueError("--vocabulary is a word list for Whisper; with --asr transcribe name a custom "
                         "vocabulary of your account with --transcribe-vocabulary")
    return transcribe_options_from_flags(
        bucket=flags["s3_bucket"], prefix=flags["s3_prefix"], language_code=flags["language_code"], language=language,
        speaker_count=speaker_count, language_options=_codes(flags["language_options"]),
        vocabulary_name=flags["transcribe_vocabulary"], vocabulary_filter_name=flags["vocabulary_filter"],
        pii_types=_codes(flags["pii_types"]), redact=redact, region=flags["aws_region"], api=flags["transcribe_api"],
        vocabulary_filter_method=flags["vocabulary_filter_method"], language_model_name=flags["language_model"],
        data_access_role_arn=flags["transcribe_role_arn"], output_kms_key_id=flags["transcribe_kms_key"],
        generative_summary=flags["transcribe_summary"], timeout_secs=flags["transcribe_timeout"])
