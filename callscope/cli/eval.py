"""`callscope eval diarization | words`: score callscope's output (or any system's) against reference
annotations. The accuracy lab adds `eval asr | misses | heal` to the same group (cli_accuracy)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from callscope.errors import CallscopeError


@click.group(name="eval")
def eval_group() -> None:
    """Score callscope's output (or any system's) against reference annotations."""


@eval_group.command(name="diarization")
# Existence is checked by the command so that a missing path is one line and exit code 2.
@click.argument("hypothesis", type=click.Path(path_type=Path))
@click.argument("reference", type=click.Path(path_type=Path))
@click.option("--uem", type=click.Path(path_type=Path), default=None,
              help="UEM file (file-id channel start end) of the time to score; file-ids it does not list "
                   "are scored from the first to the last segment of reference or hypothesis.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every number to this JSON file (rates as fractions: 0.1 = 10%).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw each file's reference and hypothesis speaker timelines, one row each, as SVG "
                   "(hypothesis speakers in the colour of the reference speaker they are mapped to).")
def eval_diarization(hypothesis: Path, reference: Path, uem: Path | None, json_path: Path | None,
                     plot_path: Path | None) -> None:
    """Diarization error rate (DER) and Jaccard error rate (JER) of HYPOTHESIS RTTM against REFERENCE RTTM.

    HYPOTHESIS and REFERENCE are two RTTM files, or two folders of .rttm files (searched
    recursively) paired by RTTM file-id, then by file name; files without a partner are listed
    and not scored. Prints per file and pooled over all files (total error time over total
    reference speech): DER with its parts, missed speech, false alarm and speaker confusion, as
    percentages of reference speech (overlapped speech included, speakers mapped one-to-one
    optimally), and JER.

    Both are given at collar 0 and at collar 0.25. The collar is pyannote.metrics' collar: the
    TOTAL width in seconds left out of scoring around every reference segment boundary, so 0.25
    leaves out 0.125 s on each side of each boundary (md-eval's -c 0.125).

    Exit code 0, or 2 with a one-line error (missing file, malformed RTTM line with its number).
    """
    try:
        from callscope.evaluation.diarization import evaluate_rttm
        from callscope.evaluation.rttm import EvaluationInputError
    except ImportError as error:
        click.echo(f"callscope: error: {error.name or error} is not installed: pip install 'callscope[local]'",
                   err=True)
        sys.exit(2)
    from callscope.evaluation.plots import PlotError, check_plot_path

    try:
        if plot_path is not None:
            check_plot_path(plot_path)
        report = evaluate_rttm(hypothesis, reference, uem=uem)
        _print_diarization_report(report)
        _write_json(report, json_path)
        if plot_path is not None:
            _plot_diarization(report, plot_path)
    except (EvaluationInputError, PlotError) as error:
        click.echo(f"callscope: error: {error}", err=True)
        sys.exit(2)
    sys.exit(0)


def _plot_diarization(report, plot_path: Path) -> None:
    from pyannote.metrics.diarization import DiarizationErrorRate

    from callscope.evaluation.plots import SpeakerRows, speaker_timelines, write_plot
    from callscope.evaluation.rttm import read_rttm

    def annotation(entry):
        return read_rttm(Path(entry.path))[entry.file_id]

    files = [SpeakerRows(item.file_id, annotation(item.reference), annotation(item.hypothesis))
             for item in report.files]
    write_plot(speaker_timelines(files, DiarizationErrorRate().optimal_mapping), plot_path)
    click.echo(f"Plot: {plot_path}")


def _print_diarization_report(report) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=True)

    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.2f}"

    table = Table(title="callscope eval diarization (% of reference speech)", title_justify="left",
                  box=box.SIMPLE_HEAD)
    table.add_column("file", no_wrap=True, overflow="ellipsis", max_width=24)
    for column in ("collar", "DER", "miss", "FA", "conf.", "JER", "speech s"):
        table.add_column(column, justify="right", no_wrap=True)

    def add_rows(name: str, scores, style: str = "") -> None:
        for index, score in enumerate(scores):
            table.add_row(
                name if index == 0 else "", f"{score.collar:g}", percent(score.der), percent(score.miss),
                percent(score.false_alarm), percent(score.confusion), percent(score.jer),
                f"{score.reference_speech_secs:.1f}", style=style,
            )

    for item in report.files:
        add_rows(escape(item.file_id), item.scores)
    table.add_section()
    add_rows(f"pooled ({len(report.files)} file{'s' if len(report.files) != 1 else ''})", report.pooled, "bold")
    console.print(table)
    for side, partner, entries in (("hypothesis", "reference", report.unmatched_hypotheses),
                                   ("reference", "hypothesis", report.unmatched_references)):
        if entries:
            console.print(f"[yellow]Not scored[/yellow]: {len(entries)} {side} file-id"
                          f"{'s' if len(entries) != 1 else ''} without a {partner}:")
            for entry in entries:
                console.print(f"  {escape(entry.file_id)}  ({escape(entry.path)})")


@eval_group.command(name="words")
@click.argument("hypothesis", type=click.Path(path_type=Path))
@click.argument("reference", type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write every number to this JSON file (rates as fractions: 0.1 = 10%).")
def eval_words(hypothesis: Path, reference: Path, json_path: Path | None) -> None:
    """Word error rate (WER) and speaker-attributed cpWER of HYPOTHESIS transcripts against REFERENCE STM.

    HYPOTHESIS is a PCA JSON file as callscope writes it (or an STM file), REFERENCE a NIST STM
    file (session channel speaker start end [<label>] text); or two folders, paired by name
    (<name>.json with the STM session or file <name>). Both sides are normalised with Whisper's
    English normaliser. WER ignores speakers; cpWER maps hypothesis speakers one-to-one onto
    reference speakers with the fewest errors and counts words given to the wrong speaker as
    errors. Prints per file and pooled (total errors over total reference words), with
    substitutions, deletions and insertions, and the speaker mapping.

    Exit code 0, or 2 with a one-line error (missing file, malformed STM line with its number).
    """
    try:
        from callscope.evaluation.words import evaluate_words
    except ImportError as error:
        click.echo(f"callscope: error: {error.name or error} is not installed: pip install 'callscope[eval]'",
                   err=True)
        sys.exit(2)
    try:
        report = evaluate_words(hypothesis, reference)
    except CallscopeError as error:  # bad input, or the `eval` extra missing
        click.echo(f"callscope: error: {error}", err=True)
        sys.exit(2)
    _print_words_report(report)
    _write_json(report, json_path)
    sys.exit(0)


def _print_words_report(report) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(soft_wrap=True)
    table = Table(title="callscope eval words (% of reference words)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("file", no_wrap=True, overflow="ellipsis", max_width=24)
    for column in ("", "%", "errors", "S", "D", "I", "words"):
        table.add_column(column, justify="right", no_wrap=True)

    def add_rows(name: str, wer, cpwer, style: str = "") -> None:
        for index, (label, errors) in enumerate((("WER", wer), ("cpWER", cpwer))):
            rate = "n/a" if errors.rate is None else f"{100 * errors.rate:.2f}"
            table.add_row(name if index == 0 else "", label, rate, str(errors.errors), str(errors.substitutions),
                          str(errors.deletions), str(errors.insertions), str(errors.reference_words), style=style)

    for item in report.files:
        add_rows(escape(item.file_id), item.score.wer, item.score.cpwer)
    table.add_section()
    files = len(report.files)
    add_rows(f"pooled ({files} file{'s' if files != 1 else ''})", report.pooled_wer, report.pooled_cpwer, "bold")
    console.print(table)
    console.print("Speakers (hypothesis → reference):")
    for item in report.files:
        score = item.score
        parts = [f"{escape(h)} → {escape(r)}" for h, r in score.speaker_assignment]
        parts += [f"{escape(h)} → none" for h in score.false_alarm_speakers]
        parts += [f"none → {escape(r)}" for r in score.missed_speakers]
        console.print(f"  {escape(item.file_id)}: {', '.join(parts) or 'no words on either side'}")
    for side, partner, entries in (("hypothesis", "reference", report.unmatched_hypotheses),
                                   ("reference", "hypothesis", report.unmatched_references)):
        if entries:
            console.print(f"[yellow]Not scored[/yellow]: {len(entries)} {side} file"
                          f"{'s' if len(entries) != 1 else ''} without a {partner}:")
            for entry in entries:
                console.print(f"  {escape(entry.file_id)}  ({escape(entry.path)})")


def _write_json(report, json_path: Path | None) -> None:
    """--json: every number of the report (exit code 2, one line, when the file cannot be written)."""
    if json_path is None:
        return
    import json

    from callscope.output.writers import write_atomic

    try:
        write_atomic(json_path, json.dumps(report.to_dict(), indent=2) + "\n")
    except OSError as error:
        click.echo(f"callscope: error: {json_path}: cannot write: {error.strerror or error}", err=True)
        sys.exit(2)
