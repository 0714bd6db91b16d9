"""The `callscope` command line. Heavy libraries are imported inside commands so `--help` is fast."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from callscope import __version__
from callscope.errors import CallscopeError
from callscope.model import Role
from callscope.options import (
    BUNDLED_MODEL,
    DEFAULT_CHANNELS,
    AnalyzeOptions,
    ChannelDefinition,
    DecodeOptions,
    FilenameMetadataOptions,
    SpeakerOptions,
    TranscriptionOptions,
)

_DEFAULT_NAMES = FilenameMetadataOptions()


def _parse_channels(_ctx, _param, value: str | None) -> tuple[ChannelDefinition, ...]:
    """"0=CUSTOMER,1=AGENT" → channel definitions."""
    if not value:
        return DEFAULT_CHANNELS
    definitions = []
    for item in value.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*=\s*(agent|customer)\s*", item, re.IGNORECASE)
        if not match:
            raise click.BadParameter(f"'{item}' is not CHANNEL=ROLE, e.g. 0=CUSTOMER,1=AGENT")
        definitions.append(ChannelDefinition(int(match[1]), Role(match[2].upper())))
    return tuple(definitions)


def _parse_duration(_ctx, _param, value: str) -> float:
    """Seconds, or H:MM:SS."""
    try:
        parts = [float(part) for part in value.split(":")]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not seconds or H:MM:SS") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="callscope")
def main() -> None:
    """Post-call analytics: call recordings in, AWS PCA-format results out."""


@main.command()
# readable=False: an unreadable file is one failed call, reported with the others, not a usage error.
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("callscope-results"),
              show_default=True, help="Folder for results (created if missing).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Calls analysed in parallel; CPU threads are shared among them.")
@click.option("--force", is_flag=True, help="Analyse again calls already done with the same settings.")
@click.option("--model", default=BUNDLED_MODEL, show_default=True,
              help="Whisper model: the bundled tiny.en, a CTranslate2 model directory, or a hub name.")
@click.option("--compute-type", default="int8", show_default=True, help="CTranslate2 compute type.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--beam-size", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--language", default="en", show_default=True, help="Spoken language, or 'auto' to detect it.")
@click.option("--no-vad", is_flag=True, help="Transcribe without voice activity detection.")
@click.option("--threads", type=click.IntRange(min=0), default=0, help="CPU threads (0: all cores).")
@click.option("--channels", callback=_parse_channels, default=None,
              help="Who is on which channel of stereo calls.  [default: 0=CUSTOMER,1=AGENT]")
@click.option("--max-duration", callback=_parse_duration, default="4:00:00", show_default=True,
              help="Refuse calls longer than this (seconds or H:MM:SS).")
@click.option("--guid-pattern", default=_DEFAULT_NAMES.guid_pattern, show_default=True,
              help="Regex over the file name for the call GUID.")
@click.option("--agent-pattern", default=_DEFAULT_NAMES.agent_pattern, show_default=True)
@click.option("--cust-pattern", default=_DEFAULT_NAMES.customer_pattern, show_default=True)
@click.option("--datetime-pattern", default=_DEFAULT_NAMES.datetime_pattern, show_default=True)
@click.option("--datetime-format", default=_DEFAULT_NAMES.datetime_format, show_default=True,
              help="strptime format of the datetime groups joined by spaces.")
@click.option("--location", default=_DEFAULT_NAMES.location, show_default=True,
              help="TZ database name written as ConversationLocation.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
def analyze(paths: tuple[Path, ...], out_dir: Path, jobs: int, force: bool, model: str, compute_type: str,
            device: str, beam_size: int, language: str, no_vad: bool, threads: int,
            channels: tuple[ChannelDefinition, ...], max_duration: float, guid_pattern: str, agent_pattern: str,
            cust_pattern: str, datetime_pattern: str, datetime_format: str, location: str, quiet: bool) -> None:
    """Analyse call recordings (files or folders, searched recursively).

    Writes per call <name>.json (PCA format), .rttm, .srt, .vtt and .txt into --out.
    """
    from callscope.runner import run_analyze

    options = AnalyzeOptions(
        decode=DecodeOptions(max_duration_secs=max_duration),
        speakers=SpeakerOptions(channels=channels),
        transcription=TranscriptionOptions(
            model=model, device=device, compute_type=compute_type, cpu_threads=threads, beam_size=beam_size,
            language=None if language == "auto" else language, vad=not no_vad,
        ),
        filename_metadata=FilenameMetadataOptions(
            guid_pattern=guid_pattern, agent_pattern=agent_pattern, customer_pattern=cust_pattern,
            datetime_pattern=datetime_pattern, datetime_format=datetime_format, location=location,
        ),
    )
    try:
        failed = run_analyze(list(paths), out_dir, options, jobs=jobs, force=force, quiet=quiet)
    except CallscopeError as error:
        click.echo(f"callscope: error: {error}", err=True)
        sys.exit(2)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check PCA JSON files against the output schema shipped with callscope."""
    import json

    from callscope.output.pca import validation_errors

    bad = 0
    for path in files:
        try:
            errors = validation_errors(json.loads(path.read_text()))
        except ValueError as error:
            errors = [f"not JSON: {error}"]
        if errors:
            bad += 1
            for error in errors:
                click.echo(f"{path}: {error}")
        else:
            click.echo(f"{path}: valid")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
