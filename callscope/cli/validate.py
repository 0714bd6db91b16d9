"""`callscope validate`: PCA JSON files checked against the shipped output schema."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check PCA JSON files against the output schema shipped with callscope."""
    import json

    from callscope.cli.console_text import printable
    from callscope.output.pca import validation_errors

    bad = 0
    for path in files:
        try:
            errors = validation_errors(json.loads(path.read_text()))
        except ValueError as error:
            errors = [f"not JSON: {error}"]
        except RecursionError:  # deeper than the parser (or the schema check) can follow
            errors = ["not a PCA document: nested too deeply"]
        if errors:
            bad += 1
            for error in errors:
                click.echo(f"{printable(str(path))}: {printable(error)}")
        else:
            click.echo(f"{printable(str(path))}: valid")
    sys.exit(1 if bad else 0)
