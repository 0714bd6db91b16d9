"""Click parameter parsers shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from callscope.errors import CallscopeError

if TYPE_CHECKING:
    from callscope.transcription.vocabulary import Vocabulary


def parse_duration(_ctx, _param, value: str) -> float:
    """Seconds, or H:MM:SS."""
    try:
        parts = [float(part) for part in value.split(":")]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not seconds or H:MM:SS") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def read_vocabulary(path: Path | None) -> Vocabulary | None:
    """The --vocabulary file, read now: one that cannot be read is one line and exit code 2."""
    if path is None:
        return None
    from callscope.transcription.vocabulary import load_vocabulary

    try:
        return load_vocabulary(path)
    except CallscopeError as error:
        raise click.BadParameter(str(error), param_hint="'--vocabulary'") from None


def llm_options(function):
    """`--llm-model`, `--llm-url`, `--llm-region`: the LLM of an `--insights` backend (analyze, serve)."""
    for option in reversed((
        click.option("--llm-model", default=None, help="The LLM: Bedrock model id, served model name, or .gguf path."),
        click.option("--llm-url", default=None, help="Base URL of an OpenAI-compatible endpoint (--insights openai)."),
        click.option("--llm-region", default=None, help="AWS region of Bedrock (--insights bedrock)."),
    )):
        function = option(function)
    return function
