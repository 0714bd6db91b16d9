"""The flags only `callscope analyze --asr transcribe` takes (Amazon Transcribe instead of the local
models; the ones the SageMaker steps share are in callscope.flags), and the settings they make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import click

from callscope.cli.params import parse_duration
from callscope.options import AmazonTranscribeOptions

_DEFAULTS = AmazonTranscribeOptions()


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(code.strip() for code in (value or "").split(",") if code.strip())


_FLAGS = (
    click.option("--aws-region", default=None, help="--asr transcribe: the region (default: the AWS configuration's)."),
    click.option("--language-options", default=None, metavar="CODE,...",
                 help="--asr transcribe with --language-code auto: the languages the calls may be in."),
    click.option("--vocabulary-filter", default=None, help="--asr transcribe: a vocabulary filter's name."),
    click.option("--vocabulary-filter-method", type=click.Choice(["mask", "remove", "tag"]), default="mask",
                 show_default=True),
    click.option("--pii-types", default=None, metavar="TYPE,...",
                 help="--asr transcribe --redact: the PII types Transcribe redacts, e.g. NAME,SSN (default: all)."),
    click.option("--transcribe-kms-key", default=None, help="--asr transcribe: KMS key for Call Analytics results."),
    click.option("--transcribe-summary", is_flag=True,
                 help="--asr transcribe: Call Analytics' generative call summary (kept as the ContactSummary)."),
    click.option("--transcribe-timeout", callback=parse_duration, default="2:00:00", show_default=True,
                 help="--asr transcribe: how long to wait for one job (it goes on running; a re-run picks it up)."),
)


def amazon_transcribe_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the flags to a click command; they arrive as keyword arguments for `transcribe_settings`."""
    for flag in reversed(_FLAGS):
        command = flag(command)
    return command


def transcribe_settings(flags: dict[str, Any]) -> AmazonTranscribeOptions:
    """The settings these flags make; the shared ones (callscope.flags.TRANSCRIBE_FLAGS) are added, and
    all checked, by options_from_values."""
    return replace(_DEFAULTS, region=flags["aws_region"], language_options=_codes(flags["language_options"]),
                   vocabulary_filter_name=flags["vocabulary_filter"],
                   vocabulary_filter_method=flags["vocabulary_filter_method"],
                   pii_entity_types=_codes(flags["pii_types"]), output_kms_key_id=flags["transcribe_kms_key"],
                   generative_summary=flags["transcribe_summary"], timeout_secs=flags["transcribe_timeout"])
