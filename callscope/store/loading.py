"""`callscope load`: every PCA JSON under a folder into a store; a bad file is reported and skipped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from callscope.errors import CallscopeError, first_line
from callscope.store.base import Store
from callscope.store.records import is_pca_like, record_from_pca

STATE_DIR = ".callscope"  # callscope analyze's own bookkeeping (callscope.analysis.batch.STATE_DIR)


@dataclass
class LoadReport:
    loaded: int = 0
    skipped: list[str] = field(default_factory=list)  # "path: why": JSON that is not a PCA document
    failed: list[str] = field(default_factory=list)  # "path: why": corrupt or malformed


def pca_candidates(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*.json")):
        if path.is_file() and STATE_DIR not in path.relative_to(directory).parts:
            yield path


def load_directory(store: Store, directory: Path, on_problem: Callable[[str, str], None] | None = None
                   ) -> LoadReport:
    """on_problem(kind, line) is told each skip ("skipped") or failure ("failed") as it happens."""
    report = LoadReport()

    def note(kind: str, path: Path, why: str) -> None:
        line = f"{path}: {why}"
        (report.skipped if kind == "skipped" else report.failed).append(line)
        if on_problem:
            on_problem(kind, line)

    for path in pca_candidates(directory):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            note("failed", path, f"cannot read JSON: {first_line(error)}")
            continue
        except RecursionError:  # the parser recurses per level: thousands of [ or { exhaust the stack
            note("failed", path, "cannot read JSON: nested too deeply")
            continue
        if not is_pca_like(document):
            note("skipped", path, "not a PCA document")
            continue
        try:
            store.put_call(record_from_pca(document, str(path)))
        except CallscopeError as error:
            note("failed", path, str(error))
            continue
        report.loaded += 1
    return report
