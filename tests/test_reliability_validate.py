"""Issue 14, item 5: `validate` and `load` on hostile files: one line each, names printed escaped."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from callscope.cli import main
from tests.conftest import PCA_REFERENCE_JSON

DEEP = "[" * 100_000 + "]" * 100_000


def test_validate_a_deeply_nested_file_is_one_line_and_the_others_are_still_checked(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    good = tmp_path / "good.json"
    shutil.copy(PCA_REFERENCE_JSON, good)
    result = CliRunner().invoke(main, ["validate", str(deep), str(good)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.splitlines()
    assert f"{deep}: not a PCA document: nested too deeply" in lines
    assert any(line.startswith(f"{good}: ") for line in lines)
    assert "Traceback" not in result.output


def test_validate_and_load_print_control_characters_in_names_escaped(tmp_path):
    folder = tmp_path / "calls"
    folder.mkdir()
    hostile = folder / "call\x1b[2Jname\nfake.json"
    hostile.write_text(json.dumps({"not": "pca"}))
    validated = CliRunner().invoke(main, ["validate", str(hostile)])
    loaded = CliRunner().invoke(main, ["load", str(folder), "--store", str(tmp_path / "calls.db")])
    for result in (validated, loaded):
        assert "\x1b" not in result.output
        assert "call\\x1b[2Jname\\nfake.json" in result.output
