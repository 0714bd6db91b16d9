"""`callscope import transcribe RESULT.json...`: Amazon Transcribe and Call Analytics results to PCA JSON,
without calling AWS. What Transcribe computed is kept; callscope's analytics fill what it lacks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callscope.errors import CallscopeError


@click.group(name="import")
def import_group() -> None:
    """Results of other systems as PCA JSON."""


@import_group.command(name="transcribe")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("callscope-results"),
              show_default=True, help="Folder for the PCA JSON (and .rttm, .srt, .vtt, .txt) of each result.")
@click.option("--force", is_flag=True, help="Convert again results already converted with the same settings.")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary.")
def import_transcribe(results: tuple[Path, ...], out_dir: Path, force: bool, quiet: bool) -> None:
    """Convert Amazon Transcribe results (standard jobs, Call Analytics, Contact Lens) into PCA JSON:
    their words, times, confidences, speakers or channels, and what Call Analytics computed (turn
    sentiment, loudness, interruptions, non-talk time, categories, issues, action items, outcomes,
    its call summary). A file that is no Transcribe result is one line; the others are converted."""
    from callscope.analysis.batch import CallResult
    from callscope.cli.analyze_progress import run_analyze
    from callscope.cli.console_text import printable
    from callscope.errors import InputError
    from callscope.inputs.load import json_format, read_json
    from callscope.inputs.source import CALL_ANALYTICS, TRANSCRIBE
    from callscope.options import AnalyzeOptions

    files = [path for result in results for path in (sorted(result.rglob("*.json")) if result.is_dir() else [result])]
    accepted: list[Path] = []
    refused: list[CallResult] = []  # failed calls of the run: in its lines, its table, its count and failures.jsonl
    for path in files:
        try:
            document = read_json(path)  # the reader and format detection `analyze` uses
        except InputError as error:
            refused.append(CallResult(str(path), "failed", error=f"cannot read JSON: {error.problem}",
                                      error_kind=error.kind))
            continue
        if json_format(document) in (TRANSCRIBE, CALL_ANALYTICS):
            accepted.append(path)
        else:
            refused.append(CallResult(str(path), "failed", error="not an Amazon Transcribe or Call Analytics result",
                                      error_kind="not_transcribe"))
    if not accepted:
        for result in refused:
            click.echo(f"failed  {printable(result.source)}: {printable(result.error)}", err=True)
        raise click.ClickException("no Amazon Transcribe result to convert")
    try:
        failed = run_analyze(accepted, out_dir, AnalyzeOptions(), force=force, quiet=quiet,
                             command="callscope import transcribe", failed_before=refused)
    except CallscopeError as error:
        raise click.ClickException(printable(str(error))) from None
    sys.exit(1 if failed else 0)
