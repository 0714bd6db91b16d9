"""`callscope analyze` as a user sees it: a progress bar, a line per call, a summary table."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from callscope.analysis.batch import CallJob, CallResult, analyze_many, discover, write_failures
from callscope.cli.console_text import shown
from callscope.errors import CallscopeError
from callscope.inputs.load import is_transcript_path
from callscope.options import AnalyzeOptions
from callscope.output.writers import remove_stale_partial_files
from callscope.store.analyzed import store_call_outputs
from callscope.store.base import Store

if TYPE_CHECKING:
    pass

_STATUS_STYLE = {"done": "green", "skipped": "dim", "failed": "bold red"}


class NoInputs(CallscopeError):
    """Nothing to analyse under the paths given: the run cannot start (exit 2)."""


def run_analyze(
    inputs: list[Path], out_dir: Path, options: AnalyzeOptions, jobs: int = 1, force: bool = False,
    quiet: bool = False, store: Store | None = None, command: str = "callscope analyze",
    failed_before: list[CallResult] | None = None,
) -> int:
    """Analyse every call under `inputs`; return the number of failed calls.

    With a store, every call done (or already done) is put into it as its result comes in: the
    parent process writes, so workers need no store connection, and a re-run fills what is missing.
    `failed_before` are inputs the command refused before the run (counted and listed with the rest);
    `command` titles the summary. Raises NoInputs (or OutputClash) when the run cannot start; a run
    stopped by SIGINT or SIGTERM stops its workers, prints its summary and exits 128 + the signal.
    """
    # Progress and per-call lines go to stderr, the summary to stdout; lines never wrap (one
    # call, one line, even in a narrow CI log).
    console = Console(stderr=True, soft_wrap=True)
    summary = Console(soft_wrap=True)
    calls = discover(inputs, out_dir, options.chat.roles,
                     warn=lambda line: console.print(f"[yellow]warning:[/yellow] {shown(line)}"))
    if not calls:
        raise NoInputs("No recordings, chats or transcripts found in: " + ", ".join(str(path) for path in inputs))
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partial_files(out_dir)  # litter of a killed run; its results were never complete
    results: list[CallResult] = list(failed_before or [])
    run_warnings: list[str] = []  # about the run, not one call
    stored = 0
    progress = Progress(
        TextColumn("[bold]{task.description}"), *(_RunRowOnly(column) for column in
                                                 (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())),
        console=console, disable=quiet, transient=True,
    )
    with progress, _stop_signals() as stopped:
        task = progress.add_task("analysing", total=len(calls), run=True)
        workers = _WorkerRows(progress)
        if not quiet:
            for result in results:
                progress.console.print(_status_line(result))

        def show(worker: int | None, call: CallJob, stage: str) -> None:
            if worker is None:  # this process: the main row says what it does
                progress.update(task, description=f"{shown(call.source.name)}: {escape(stage)}")
            else:
                workers.show(worker, call, stage)

        def show_status(text: str) -> None:
            progress.update(task, description=escape(text))

        stream = analyze_many(calls, options, out_dir, jobs=jobs, force=force, on_stage=show, on_status=show_status,
                              warnings=run_warnings)
        try:
            with closing(stream):  # however the loop ends, the workers end with it, not after their calls
                for result in stream:
                    results.append(result)
                    workers.finished(result)
                    if store is not None and result.status != "failed":
                        stored += _store(store, result)
                    if not quiet:
                        progress.console.print(_status_line(result))
                    progress.advance(task)
        except KeyboardInterrupt:
            remove_stale_partial_files(out_dir)  # what a stopped writer left
            console.print("[yellow]Interrupted: finished calls are saved; run the same command again to resume.")
            stopped.signal = stopped.signal or signal.SIGINT
    for warning in run_warnings:
        console.print(f"[yellow]warning:[/yellow] {shown(warning)}")
    failures_file = write_failures(out_dir, results)
    summary.print(_summary_table(results, command))
    counts = {status: sum(result.status == status for result in results) for status in _STATUS_STYLE}
    summary.print(
        f"{counts['done']} analysed, {counts['skipped']} already done, {counts['failed']} failed. "
        f"Results in [bold]{shown(str(out_dir))}[/bold]"
    )
    if store is not None:
        summary.print(f"{stored} stored in [bold]{shown(store.location)}[/bold]")
    if failures_file:
        summary.print(f"Failures listed in [bold]{shown(str(failures_file))}[/bold]")
    if stopped.signal:
        raise SystemExit(128 + stopped.signal)  # a stopped run reports it, as a shell does
    return counts["failed"]


class _Stopped:
    signal: int = 0


@contextmanager
def _stop_signals() -> Iterator[_Stopped]:
    """SIGTERM (a scheduler, `kill`) stops the run as Ctrl-C does: a KeyboardInterrupt, so the workers
    are ended and no file is left half-written; by default it would end this process alone, at once."""
    stopped = _Stopped()

    def stop(signum: int, _frame) -> None:
        stopped.signal = signum
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield stopped
        return
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGTERM, previous)


class _RunRowOnly(ProgressColumn):
    """The bar, count and time belong to the run's row; a worker's row is its description alone."""

    def __init__(self, column: ProgressColumn) -> None:
        super().__init__()
        self.column = column

    def render(self, task: Task) -> RenderableType:
        return self.column.render(task) if task.fields.get("run") else Text("")


class _WorkerRows:
    """With --jobs N, a progress row per worker: its current call and stage, as --jobs 1 shows."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.rows: dict[int, TaskID] = {}  # worker pid → its row
        self.calls: dict[int, str] = {}  # worker pid → the call it works on

    def show(self, worker: int, call: CallJob, stage: str) -> None:
        if worker not in self.rows:
            self.rows[worker] = self.progress.add_task("", total=None, run=False)
        self.calls[worker] = str(call.source)
        label = f"  worker {list(self.rows).index(worker) + 1}: "
        self.progress.update(self.rows[worker], description=f"{label}{shown(call.source.name)}: {escape(stage)}")

    def finished(self, result: CallResult) -> None:
        for worker, source in self.calls.items():
            if source == result.source:
                label = f"  worker {list(self.rows).index(worker) + 1}: "
                self.progress.update(self.rows[worker], description=f"{label}waiting for a call")


def _store(store: Store, result: CallResult) -> bool:
    """Whether the call went into the store. One that fails loses no analysis: the call's files are
    written, with a warning, and `callscope load` can add it later."""
    try:
        store_call_outputs(store, result.outputs)
    except CallscopeError as error:
        result.warnings.append(f"not stored: {error}")
        return False
    return True


def _is_text(result: CallResult) -> bool:
    """A chat or a transcript: turns to count, no audio to time."""
    return is_transcript_path(Path(result.source))


def _status_line(result: CallResult) -> str:
    # File names and errors are text, not markup, nor terminal control: "call[red].wav" prints as it is.
    style, source = _STATUS_STYLE[result.status], shown(result.source)
    if result.status == "failed":
        return f"[{style}]failed[/{style}]  {source}: {shown(result.error)}"
    line = f"[{style}]{result.status:6s}[/{style}]  {source}"
    if result.status == "done":
        amount = f"{result.turns} turns" if _is_text(result) else f"{result.duration:.0f} s of audio"
        line += f" ({amount} in {result.elapsed:.1f} s)"
    return line + "".join(f"\n        [yellow]warning:[/yellow] {shown(warning)}" for warning in result.warnings)


def _summary_table(results: list[CallResult], title: str = "callscope analyze") -> Table:
    # Full errors and warnings are in the per-call lines and failures.jsonl; the table keeps to
    # short columns so it fits an 80-column terminal. Audio columns only where there is audio.
    audio = any(not _is_text(result) for result in results)
    table = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("call", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("status", no_wrap=True)
    for column in (("audio s", "speakers", "turns", "speed") if audio else ("speakers", "turns")):
        table.add_column(column, justify="right", no_wrap=True)
    for result in results:
        status = f"[{_STATUS_STYLE[result.status]}]{result.status}"
        if result.error_kind:
            status += f": {escape(result.error_kind)}"
        elif result.warnings:
            status += f" ({len(result.warnings)} warning{'s' if len(result.warnings) > 1 else ''})"
        counts = [str(result.speakers or ""), str(result.turns or "")]
        if audio:
            timed = result.status == "done" and not _is_text(result)
            seconds = f"{result.duration:.1f}" if result.duration and not _is_text(result) else ""
            speed = f"{result.duration / result.elapsed:.1f}x" if timed and result.elapsed else ""
            counts = [seconds, *counts, speed]
        table.add_row(shown(Path(result.source).name), status, *counts)
    return table
