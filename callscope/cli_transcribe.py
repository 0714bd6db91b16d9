"""The flags of `callscope analyze --asr transcribe` (Amazon Transcribe instead of the local models),
and the options they make. Kept apart from cli.py: they only matter with --asr transcribe."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from callscope.options import TRANSCRIBE_APIS, AmazonTranscribeOptions

_DEFAULTS = AmazonTranscribeOptions()


def _duration(_ctx, _param, value: str) -> float:
    from callscope.cli import _parse_duration

    return _parse_duration(_ctx, _param, value)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(code.strip() for code in (value or "").split(",") if code.strip())


_FLAGS = (
    click.option("--asr", type=click.Choice(["whisper", "transcribe"]), default="whisper", show_default=True,
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
    click.option("--transcribe-timeout", callback=_duration, default="2:00:00", show_default=True,
                 help="--asr transcribe: how long to wait for one job (it goes on running; a re-run picks it up)."),
)


def amazon_transcribe_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the flags to a click command; they arrive as keyword arguments for `transcribe_options`."""
    for flag in reversed(_FLAGS):
        command = flag(command)
    return command


def transcribe_options(flags: dict[str, Any], *, language: str, redact: bool, max_speakers: int,
                       vocabulary_file: Path | None) -> AmazonTranscribeOptions:
    """The options of --asr transcribe; click.UsageError (one line) for flags that cannot go together."""
    if flags["asr"] != "transcribe":
        return _DEFAULTS
    if not flags["s3_bucket"]:
        raise click.UsageError("--asr transcribe needs --s3-bucket (where the recordings and results go)")
    if vocabulary_file is not None:
        raise click.UsageError("--vocabulary is a word list for Whisper; with --asr transcribe name a custom "
                               "vocabulary of your account with --transcribe-vocabulary")
    code = _language_code(flags["language_code"], language)
    names = (flags["transcribe_vocabulary"], flags["vocabulary_filter"], flags["language_model"])
    if code is None and any(names):
        raise click.UsageError("a custom vocabulary, vocabulary filter or language model needs one language: "
                               "give --language-code CODE, not auto")
    if flags["language_options"] and code is not None:
        raise click.UsageError("--language-options are for --language-code auto")
    if flags["pii_types"] and not redact:
        raise click.UsageError("--pii-types needs --redact")
    return AmazonTranscribeOptions(
        bucket=flags["s3_bucket"], prefix=flags["s3_prefix"], region=flags["aws_region"], api=flags["transcribe_api"],
        language_code=code, language_options=_codes(flags["language_options"]),
        vocabulary_name=flags["transcribe_vocabulary"], vocabulary_filter_name=flags["vocabulary_filter"],
        vocabulary_filter_method=flags["vocabulary_filter_method"], language_model_name=flags["language_model"],
        redact=redact, pii_entity_types=tuple(code.upper() for code in _codes(flags["pii_types"])),
        data_access_role_arn=flags["transcribe_role_arn"], output_kms_key_id=flags["transcribe_kms_key"],
        generative_summary=flags["transcribe_summary"], max_speakers=min(max(max_speakers, 2), 30),
        timeout_secs=flags["transcribe_timeout"],
    )


def _language_code(given: str | None, language: str) -> str | None:
    """Amazon Transcribe wants a locale (en-US), callscope's --language is ISO 639-1 (en) or auto."""
    chosen = given or ("auto" if language == "auto" else language)
    if chosen == "auto":
        return None
    if chosen == "en":
        return "en-US"
    if "-" not in chosen:
        raise click.UsageError(f"Amazon Transcribe needs a locale for '{chosen}': give --language-code, e.g. "
                               f"{chosen}-{chosen.upper()} or {chosen}-US (or auto to identify the language)")
    return chosen
