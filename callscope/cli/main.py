"""The `callscope` command line: the group and its commands, one module per command group.
Heavy libraries are imported inside commands so `--help` is fast."""

from __future__ import annotations

import click

from callscope import __version__
from callscope.cli.accuracy import eval_asr, eval_heal, eval_misses, leaderboard
from callscope.cli.analyze import analyze
from callscope.cli.eval import eval_group
from callscope.cli.imports import import_group
from callscope.cli.report import report
from callscope.cli.serve import serve
from callscope.cli.store import load, search
from callscope.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="callscope")
def main() -> None:
    """Post-call analytics: call recordings in, AWS PCA-format results out."""


for command in (analyze, validate, load, search, report, serve, leaderboard, import_group, eval_group):
    main.add_command(command)
# eval diarization | words, and the accuracy lab's eval asr | misses | heal (docs/ACCURACY.md)
for command in (eval_asr, eval_misses, eval_heal):
    eval_group.add_command(command)
