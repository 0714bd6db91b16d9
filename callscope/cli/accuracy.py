"""The accuracy lab's commands: `callscope eval asr`, `eval misses`, `eval heal` and `callscope leaderboard`
(docs/ACCURACY.md)."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

import click

from callscope.cli.flags import flag_options
from callscope.cli.params import read_vocabulary
from callscope.errors import CallscopeError
from callscope.flags import flag_named

SYSTEM_FLAGS = ("model", "beam-size", "compute-type", "vad", "language", "diarizer", "threads")
LAB_HELP = "The lab's SQLite file (default: $CALLSCOPE_LAB, else callscope-accuracy.db here)."


def lab_option(function):
    return click.option("--lab", "lab_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        envvar="CALLSCOPE_LAB", help=LAB_HELP)(function)


def system_options(function):
    """The configuration under test: flags of `callscope analyze` (callscope.flags), and a vocabulary file."""
    function = click.option("--vocabulary", "vocabulary_file", type=click.Path(exists=True, dir_okay=False,
                                                                               path_type=Path),
                            default=None, help="Custom vocabulary: an Amazon Transcribe table (Phrase, SoundsLike, "
                                               "IPA, DisplayAs) or a word list, one a line.")(function)
    # Only the embedded diarizer or none: the lab scores what installs from the package registries.
    flags = [flag_named(name) for name in SYSTEM_FLAGS]
    return flag_options(*flags, choices={"diarizer": ("embedded", "none")})(function)


def _whisper_system(model: str, beam_size: int, compute_type: str, vad: bool, language: str,
                    vocabulary_file: Path | None, diarizer: str, threads: int):
    """The configuration the flags describe; a vocabulary file that cannot be read is one line."""
    from callscope.accuracy.whisper_system import whisper_asr

    return whisper_asr(model=model, beam_size=beam_size, compute_type=compute_type, vad=vad, language=language,
                       vocabulary=read_vocabulary(vocabulary_file), diarizer=diarizer, threads=threads)


def _require_scoring() -> None:
    """Scoring needs the `eval` extra: without it, one line and exit 2 before any recording is transcribed."""
    from callscope.evaluation.words import _libraries  # the scorer's own imports, so the check cannot drift

    try:
        _libraries()
    except CallscopeError as error:
        click.echo(f"callscope: error: {error}", err=True)
        sys.exit(2)


def _open_lab(path: Path | None):
    from callscope.accuracy.lab import DEFAULT_LAB, Lab

    try:
        return Lab(path or Path(DEFAULT_LAB))
    except CallscopeError as error:
        raise click.ClickException(str(error)) from None


def _labelled(folder: Path, console):
    from rich.markup import escape

    from callscope.accuracy.references import find_labelled

    try:
        found = find_labelled(folder)
    except CallscopeError as error:
        raise click.ClickException(str(error)) from None
    for problem in found.problems:
        console.print(f"[red]failed[/red]   {escape(problem)}")
    if found.unlabelled:
        console.print(f"[dim]{len(found.unlabelled)} recording(s) without a reference (.stm, .srt or .txt of the "
                      f"same name) left out: {escape(', '.join(path.name for path in found.unlabelled[:5]))}"
                      f"{' ...' if len(found.unlabelled) > 5 else ''}[/dim]")
    if not found.recordings:
        raise click.ClickException(f"{folder}: no recording with a reference (.stm, .srt or .txt of the same name)")
    return found


def _run(lab, system, recordings, console):
    from rich.markup import escape

    from callscope.accuracy.evaluate import evaluate

    styles = {"scored": "green", "reused": "dim", "failed": "red"}
    console.print(f"[bold]{escape(system.settings.label())}[/bold]")
    return evaluate(lab, system, list(recordings), on_file=lambda status, line: console.print(
        f"[{styles[status]}]{status:8s}[/{styles[status]}] {escape(line)}"))


@click.command(name="asr")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@system_options
@click.option("--engine", type=click.Choice(["faster-whisper", "transcribe"]), default="faster-whisper",
              show_default=True, help="The local models, or Amazon Transcribe standard jobs (needs the aws extra).")
@click.option("--s3-bucket", default=None, help="--engine transcribe: the bucket for audio and results.")
@click.option("--s3-prefix", default="callscope-accuracy", show_default=True)
@click.option("--aws-region", default=None, help="--engine transcribe: the region (default: the AWS configuration's).")
@click.option("--language-code", default="en-US", show_default=True, help="--engine transcribe: the language.")
@click.option("--transcribe-vocabulary", default=None, help="--engine transcribe: a custom vocabulary's name.")
@click.option("--language-model", default=None, help="--engine transcribe: a custom language model's name.")
@lab_option
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True, help="Most missed words shown.")
@click.option("--json", "as_json", is_flag=True, help="The scores as one JSON document.")
def eval_asr(folder: Path, model: str, beam_size: int, compute_type: str, vad: bool, language: str,
             vocabulary_file: Path | None, diarizer: str, threads: int, engine: str, s3_bucket: str | None,
             s3_prefix: str, aws_region: str | None, language_code: str, transcribe_vocabulary: str | None,
             language_model: str | None, lab_path: Path | None, top: int, as_json: bool) -> None:
    """Word error rates of a speech recognition configuration over FOLDER: recordings with human
    transcripts beside them (<name>.stm, .srt or .txt). Scores go into the lab; recordings it already
    scored with the same configuration are not transcribed again."""
    from rich.console import Console

    _require_scoring()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if engine == "transcribe":
            if not s3_bucket:
                raise click.UsageError("--engine transcribe needs --s3-bucket (where the audio and results go)")
            from callscope.accuracy.transcribe_system import TranscribeAsr

            system = TranscribeAsr(bucket=s3_bucket, prefix=s3_prefix, region=aws_region, language_code=language_code,
                                   vocabulary_name=transcribe_vocabulary, language_model_name=language_model)
        else:
            system = _whisper_system(model, beam_size, compute_type, vad, language, vocabulary_file, diarizer,
                                     threads)
    except CallscopeError as error:
        raise click.ClickException(str(error)) from None
    found = _labelled(folder, console)
    with _open_lab(lab_path) as lab:
        report = _run(lab, system, found.recordings, console)
        _print_scores(lab, report, top, as_json)
    if report.failed:
        sys.exit(1)


def _print_scores(lab, report, top: int, as_json: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from callscope.accuracy.leaderboard import build_leaderboard, verdict
    from callscope.evaluation.words import WordErrors

    rows = [row for row in lab.results(report.config_id) if (row.audio_sha256, row.reference_sha256) in report.keys]
    board = build_leaderboard(lab, report.keys) if report.keys else None
    misses = Counter()
    heard: dict[str, Counter] = {}
    for _, miss in lab.misses([report.config_id], files=report.keys):
        misses[miss.written] += 1
        heard.setdefault(miss.written, Counter())[miss.heard or "(nothing)"] += 1
    pooled = sum((row.wer for row in rows), WordErrors(0, 0, 0, 0, 0)) if rows else None
    judgement = verdict(board, report.config_id) if board else "nothing scored"
    if as_json:
        click.echo(json.dumps({
            "config": report.config_id, "files": [{"file": row.file, "wer": row.wer.to_dict(),
                                                   "cpwer": row.cpwer.rate if row.cpwer else None} for row in rows],
            "pooled": pooled.to_dict() if pooled else None, "verdict": judgement,
            "missed_words": [{"word": word, "count": count, "heard": dict(heard[word])}
                             for word, count in misses.most_common(top)],
            "failed": report.failed}, indent=2))
        return
    console = Console(highlight=False)
    table = Table("file", "WER", "subs", "dels", "ins", "ref words", "cpWER", title=f"configuration {report.config_id}",
                  title_justify="left")
    for row in rows:
        table.add_row(escape(row.file), _percent(row.wer.rate), str(row.wer.substitutions), str(row.wer.deletions),
                      str(row.wer.insertions), str(row.wer.reference_words),
                      _percent(row.cpwer.rate) if row.cpwer else "")
    if pooled:
        table.add_row("[bold]pooled[/bold]", f"[bold]{_percent(pooled.rate)}[/bold]", str(pooled.substitutions),
                      str(pooled.deletions), str(pooled.insertions), str(pooled.reference_words), "")
    console.print(table)
    if misses and top:
        console.print("Most missed reference words: " + "; ".join(
            f"{escape(word)} x{count} (heard: {escape(', '.join(h for h, _ in heard[word].most_common(2)))})"
            for word, count in misses.most_common(top)))
    console.print(judgement)


@click.command(name="misses")
@lab_option
@click.option("--config", "config_id", default=None, help="One configuration's id (a prefix is enough); default: all.")
@click.option("--top", type=click.IntRange(min=1), default=30, show_default=True)
def eval_misses(lab_path: Path | None, config_id: str | None, top: int) -> None:
    """The reference words the lab's configurations got wrong, most often first, with examples."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    with _open_lab(lab_path) as lab:
        config = lab.config(config_id) if config_id else None
        if config_id and config is None:
            raise click.ClickException(f"no configuration {config_id} in {lab.path}")
        found = lab.misses([config.id] if config else None)
    counts, examples, files = Counter(), {}, {}
    for file, miss in found:
        counts[miss.written] += 1
        examples.setdefault(miss.written, (miss.heard or "(nothing)", miss.context))
        files.setdefault(miss.written, set()).add(file)
    table = Table("word", "missed", "files", "heard", "example")
    for word, count in counts.most_common(top):
        heard, context = examples[word]
        table.add_row(escape(word), str(count), str(len(files[word])), escape(heard), escape(context))
    Console(highlight=False).print(table)


@click.command()
@lab_option
@click.option("--update", "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Score every faster-whisper configuration of the lab on FOLDER's recordings it has not seen, "
                   "then rank over that folder.")
@click.option("--per-file", is_flag=True, help="A WER column per recording.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the ranked configurations' pooled WER as bars, as SVG.")
def leaderboard(lab_path: Path | None, folder: Path | None, per_file: bool, as_json: bool,
                plot_path: Path | None) -> None:
    """Configurations ranked by pooled WER over the same recordings (every recording any of them was
    scored on, or FOLDER's with --update)."""
    from rich.console import Console

    from callscope.accuracy.leaderboard import build_leaderboard
    from callscope.evaluation.plots import PlotError, check_plot_path, wer_bars, write_plot

    if plot_path is not None:
        try:
            check_plot_path(plot_path)
        except PlotError as error:
            click.echo(f"callscope: error: {error}", err=True)
            sys.exit(2)
    if folder is not None:
        _require_scoring()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    failed = False
    with _open_lab(lab_path) as lab:
        scope = None
        if folder is not None:
            found = _labelled(folder, console)
            scope = set()
            for config in lab.configs():
                system = _system_for(lab, config, console)
                if system is None:
                    continue
                report = _run(lab, system, found.recordings, console)
                scope |= report.keys
                failed = failed or bool(report.failed)
        board = build_leaderboard(lab, scope)
    _print_board(board, per_file, as_json)
    if plot_path is not None:
        bars = [(standing.config.label, standing.pooled.rate or 0.0) for standing in board.ranked]
        try:
            write_plot(wer_bars(bars, f"WER per configuration over {len(board.files)} recording(s)"), plot_path)
        except PlotError as error:
            click.echo(f"callscope: error: {error}", err=True)
            sys.exit(2)
        console.print(f"Plot: {plot_path}")
    if failed:
        sys.exit(1)


def _system_for(lab, config, console):
    """A configuration of the lab, ready to run again; None (said why) for one that cannot be."""
    from rich.markup import escape

    from callscope.accuracy.whisper_system import whisper_asr

    settings = config.settings
    if settings.engine != "faster-whisper":
        console.print(f"[yellow]skipped[/yellow] {escape(config.label)}: {settings.engine} configurations are "
                      "scored with their own command")
        return None
    values = settings.settings
    vocabulary = lab.vocabulary(values["vocabulary"]) if values.get("vocabulary") else None
    if values.get("vocabulary") and vocabulary is None:
        console.print(f"[yellow]skipped[/yellow] {escape(config.label)}: its vocabulary is not in the lab")
        return None
    system = whisper_asr(model=settings.model, beam_size=values["beam_size"], compute_type=values["compute_type"],
                         vad=values["vad"], language=values["language"], vocabulary=vocabulary,
                         diarizer=values["diarizer"])
    if system.settings.fingerprint() != config.id:  # a setting this version no longer reads the same way
        console.print(f"[yellow]skipped[/yellow] {escape(config.label)}: cannot rebuild it exactly")
        return None
    return system


def _print_board(board, per_file: bool, as_json: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if as_json:
        click.echo(json.dumps({
            "files": sorted(board.files.values()),
            "ranked": [{"config": s.config.id, "label": s.config.label, "wer": s.pooled.to_dict(),
                        "cpwer": s.pooled_cpwer.rate if s.pooled_cpwer else None, "per_file": s.per_file,
                        "seconds": round(s.seconds, 2)} for s in board.ranked],
            "incomplete": [{"config": c.id, "label": c.label, "files_covered": n} for c, n in board.incomplete]},
            indent=2))
        return
    console = Console(highlight=False)
    names = sorted(board.files.values())
    shown = names if per_file else []
    table = Table("#", "configuration", "id", "WER", "cpWER", *(escape(name) for name in shown), "seconds",
                  title=f"Leaderboard over {len(names)} recording(s): {escape(', '.join(names[:8]))}"
                        f"{' ...' if len(names) > 8 else ''}", title_justify="left")
    for place, standing in enumerate(board.ranked, start=1):
        table.add_row(str(place), escape(standing.config.label), standing.config.id, _percent(standing.pooled.rate),
                      _percent(standing.pooled_cpwer.rate) if standing.pooled_cpwer else "",
                      *(_percent(standing.per_file.get(name)) for name in shown), f"{standing.seconds:.1f}")
    console.print(table)
    for config, covered in board.incomplete:
        console.print(f"[yellow]not ranked[/yellow] {escape(config.label)} ({config.id}): scored on {covered} of "
                      f"{len(names)} recordings; `callscope leaderboard --update FOLDER` scores the rest")


@click.command(name="heal")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--held-out", "held_out", multiple=True, required=True, metavar="GLOB",
              help="Recordings (file name patterns) kept out of learning and used to judge it. Repeatable.")
@click.option("--keywords", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Domain words to add to what is learnt, one a line.")
@click.option("--min-count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Learn a word missed at least this often.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("learnt-vocabulary.txt"),
              show_default=True, help="Where a vocabulary that wins is written (a word list).")
@system_options
@lab_option
def eval_heal(folder: Path, held_out: tuple[str, ...], keywords: Path | None, min_count: int, out_file: Path,
              model: str, beam_size: int, compute_type: str, vad: bool, language: str, vocabulary_file: Path | None,
              diarizer: str, threads: int, lab_path: Path | None) -> None:
    """Learn a vocabulary from the configuration's misses on FOLDER's training recordings, score it on
    all of them, and keep it (--out) only if it lowers WER on the training ones without raising it on
    the held-out ones."""
    from rich.console import Console
    from rich.markup import escape

    from callscope.accuracy.self_heal import judge, learn_vocabulary
    from callscope.transcription.vocabulary import vocabulary_of

    _require_scoring()
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    base = _whisper_system(model, beam_size, compute_type, vad, language, vocabulary_file, diarizer, threads)
    found = _labelled(folder, console)
    is_held_out = [any(fnmatch.fnmatch(r.name, pattern) or fnmatch.fnmatch(str(r.audio.relative_to(folder)), pattern)
                       for pattern in held_out) for r in found.recordings]
    if all(is_held_out) or not any(is_held_out):
        raise click.ClickException(f"--held-out {' '.join(held_out)} must match some recordings in {folder}, not "
                                   f"{'all' if all(is_held_out) else 'none'} of them")
    extra = keywords.read_text(encoding="utf-8").splitlines() if keywords else []
    with _open_lab(lab_path) as lab:
        base_report = _run(lab, base, found.recordings, console)
        keys = base_report.key_of
        train = {keys[r.name] for r, held in zip(found.recordings, is_held_out) if not held and r.name in keys}
        held = {keys[r.name] for r, h in zip(found.recordings, is_held_out) if h and r.name in keys}
        words = learn_vocabulary(lab, base_report.config_id, train, extra, min_count)
        if not words:
            console.print("Nothing to learn: the configuration missed no word worth a vocabulary on the training "
                          "recordings.")
            return
        console.print(f"Learnt {len(words)} word(s): {escape(', '.join(words[:20]))}"
                      f"{' ...' if len(words) > 20 else ''}")
        healed = base.with_vocabulary(vocabulary_of(words, name=out_file.name))
        healed_report = _run(lab, healed, found.recordings, console)
        outcome = judge(lab, base_report.config_id, healed_report.config_id, train, held, words)
    console = Console(highlight=False)
    console.print(f"training recordings ({len(train)}): WER {_percent(outcome.base_train.rate)} → "
                  f"{_percent(outcome.healed_train.rate)}; held out ({len(held)}): "
                  f"{_percent(outcome.base_held_out.rate)}"
                  f" → {_percent(outcome.healed_held_out.rate)}")
    if outcome.kept:
        out_file.write_text("\n".join(words) + "\n", encoding="utf-8")
        console.print(f"Kept: the vocabulary wins; written to {escape(str(out_file))} (use it with --vocabulary).")
    else:
        console.print("Not kept: the vocabulary did not lower WER on the training recordings without raising it on "
                      "the held-out ones.")


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.2%}"
