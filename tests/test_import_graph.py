"""The package's modules import each other without circles (issue 16): every import statement counts,
at module level, inside functions and under TYPE_CHECKING alike."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "callscope"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, package: str, modules: set[str]) -> set[str]:
    """The callscope modules a file imports: `from a.b import c` is a.b.c when c is a module, else a.b."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            found.update(submodules or {base})
    return found & modules


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imported(ast.parse(path.read_text()), package, set(files)) - {name}
    return graph


def test_the_graph_sees_imports_of_every_kind():
    graph = import_graph()
    assert "callscope.options" in graph["callscope.analysis.call"]  # module level
    assert "callscope.transcription.language_id" in graph["callscope.transcription.whisper"]  # in a function
    assert "callscope.enrichment.categories.loader" in graph["callscope.options"]  # under TYPE_CHECKING


def test_no_module_imports_itself_through_others():
    try:
        TopologicalSorter(import_graph()).prepare()
    except CycleError as error:
        raise AssertionError(f"import circle: {' -> '.join(error.args[1])}") from None
