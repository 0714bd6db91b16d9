"""buildspec.yml: its shape, and a dry run of its commands in bash with aws/docker/pip/... stubbed.

The dry run executes every phase's commands in one bash shell, as CodeBuild (buildspec 0.2) does,
with stub executables first on PATH that only record their arguments; so the quoting of the
run-pipeline JSON, the image tags and the order of the steps are checked as bash sees them.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the dev extra (moto[server])")

ROOT = Path(__file__).resolve().parents[1]
BUILDSPEC = ROOT / "buildspec.yml"
SETUP = ROOT / "setup.py"
PIPELINE_MODULE = "pipelines.model_build.pipeline"
# Console scripts the buildspec may call: the pipeline's two (as in the SageMaker project templates)
# and promotion's. Anything else it runs must be a tool of the CodeBuild image.
PROJECT_SCRIPTS = {"run-pipeline", "get-pipeline-definition", "promote-models"}
IMAGE_TOOLS = {"aws", "docker", "pip", "python"}  # stubbed in the dry run
SHELL_TOOLS = {"export", ":", "echo", "cut", "["}
# Scripts of this repository the buildspec runs (really run in the dry run, with the tools stubbed)
REPOSITORY_SCRIPTS = {"containers/push_image.sh"}
DOCKERFILES = {"diarization": "containers/diarization/Dockerfile",
               "transcription": "containers/transcription/Dockerfile"}
FAKE_ENV = {
    "AWS_REGION": "eu-west-1",
    "CODEBUILD_BUILD_ARN": "arn:aws:codebuild:eu-west-1:111122223333:build/callscope:0f1e2d3c",
    "CODEBUILD_RESOLVED_SOURCE_VERSION": "4f2a9c0d1b7e3a5c6d8e9f00112233445566778a",
    "SAGEMAKER_PIPELINE_ROLE_ARN": "arn:aws:iam::111122223333:role/callscope-pipeline",
    "ARTIFACT_BUCKET": "callscope-artifacts-111122223333",
}
REGISTRY = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
COMMIT = FAKE_ENV["CODEBUILD_RESOLVED_SOURCE_VERSION"]


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(BUILDSPEC.read_text(encoding="utf-8"))


def commands(spec: dict, phase: str) -> list[str]:
    return list(spec["phases"][phase]["commands"])


def all_commands(spec: dict) -> list[str]:
    return [command for phase in ("install", "pre_build", "build", "post_build")
            if phase in spec["phases"] for command in commands(spec, phase)]


def console_scripts() -> dict[str, str]:
    """setup.py's console_scripts, name -> "module:function", read without running setup.py."""
    tree = ast.parse(SETUP.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points":
            entry_points = ast.literal_eval(node.value)
            return {name.strip(): target.strip()
                    for name, target in (line.split("=", 1) for line in entry_points.get("console_scripts", []))}
    return {}


def module_path(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def defines_function(module: str, function: str) -> bool:
    path = module_path(module)
    if not path.is_file():
        return False
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function
               for node in tree.body)


# --- shape -----------------------------------------------------------------------------------------


def test_version_phases_and_runtime(spec):
    assert str(spec["version"]) == "0.2"
    assert {"install", "pre_build", "build"} <= set(spec["phases"])
    assert str(spec["phases"]["install"]["runtime-versions"]["python"]) == "3.11"
    # a failed phase stops the build: no push, no pipeline run after failing tests
    for phase in ("install", "pre_build", "build"):
        assert spec["phases"][phase].get("on-failure") == "ABORT", phase
    assert 'pip install -c constraints.txt -e ".[local,dashboard,dev,pipelines]"' in commands(spec, "install")
    assert "pipeline-definition.json" in spec["artifacts"]["files"]


def test_env_variables(spec):
    variables = spec["env"]["variables"]
    assert {"SAGEMAKER_PROJECT_NAME", "SAGEMAKER_PIPELINE_NAME", "MODEL_PACKAGE_GROUP_NAME",
            "BASE_JOB_PREFIX", "ECR_REPOSITORY_PREFIX"} <= set(variables)
    assert all(isinstance(value, str) for value in variables.values())  # CodeBuild wants strings
    # no default for these two: the install phase stops at once, naming them, if the project lacks them
    text = "\n".join(commands(spec, "install"))
    for name in ("SAGEMAKER_PIPELINE_ROLE_ARN", "ARTIFACT_BUCKET"):
        assert name not in variables
        assert "${%s:?" % name in text


def test_every_command_is_an_image_tool_or_a_declared_console_script(spec):
    called = set()
    for command in all_commands(spec):
        for part in command.replace("\\\n", " ").replace("|", "\n").splitlines():
            if part.strip() and not part.strip().startswith("#"):
                called.add(part.split()[0])
    unknown = called - IMAGE_TOOLS - SHELL_TOOLS - PROJECT_SCRIPTS - REPOSITORY_SCRIPTS
    assert not unknown, f"commands that are neither CodeBuild image tools nor project scripts: {unknown}"
    assert {"run-pipeline", "get-pipeline-definition"} <= called

    declared = console_scripts()
    for script in sorted(called & PROJECT_SCRIPTS):
        if script in declared:
            module, _, function = declared[script].partition(":")
            assert defines_function(module, function), f"{script} = {declared[script]}: no such function"
            continue
        # Written in parallel with this file: until a module under pipelines/ defines the script's
        # function, only its name is checked (PROJECT_SCRIPTS); once one does, setup.py must declare it.
        written = [path.relative_to(ROOT).as_posix() for path in sorted((ROOT / "pipelines").rglob("*.py"))
                   if defines_function(".".join(path.relative_to(ROOT).with_suffix("").parts),
                                       script.replace("-", "_"))]
        assert not written, (f"buildspec calls {script}: {written} define {script.replace('-', '_')}() "
                             "but setup.py's console_scripts do not declare it")


def test_promote_models_is_declared():
    assert console_scripts().get("promote-models") == "pipelines.post_call_analytics.promote:main"


def test_dockerfiles_exist_and_each_image_is_published_by_the_script(spec):
    publishes = [command.split() for command in commands(spec, "build")
                 if command.startswith("containers/push_image.sh")]
    referenced = {args[1] for args in publishes}
    assert referenced == set(DOCKERFILES.values())
    assert [path for path in referenced if not (ROOT / path).is_file()] == []
    for script in REPOSITORY_SCRIPTS:
        assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"


# --- dry run ---------------------------------------------------------------------------------------

STUB = """#!/usr/bin/env bash
# One write per call: `aws ecr get-login-password | docker login` runs two stubs at once, and
# several small writes each interleaved their records ("...amazonaws.comaws").
entry="$(basename "$0")"; for arg in "$@"; do entry+=$'\\x1f'"$arg"; done
printf '%s\\x1e' "$entry" >> "$STUB_LOG"
# STUB_FAIL: prefixes, separated by "|", of the calls that fail (exit 1)
IFS='|' read -ra fails <<< "${STUB_FAIL:-}"
for fail in "${fails[@]}"; do
  if [ -n "$fail" ] && [[ "$(basename "$0") $*" == "$fail"* ]]; then exit 1; fi
done
case "$(basename "$0") $1" in
  "aws ecr") echo fake-ecr-password ;;
  "get-pipeline-definition "*)
    while [ $# -gt 0 ]; do
      if [ "$1" = --file-name ]; then echo '{"Version": "2020-12-01", "Steps": []}' > "$2"; fi
      shift
    done ;;
  "docker login") cat > /dev/null ;;
esac
"""


def dry_run(
    spec: dict, tmp_path: Path, **env_changes: str | None
) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    for name in IMAGE_TOOLS | PROJECT_SCRIPTS:
        (stubs / name).write_text(STUB)
        (stubs / name).chmod(0o755)
    work = tmp_path / "src"
    work.mkdir(exist_ok=True)
    for script in REPOSITORY_SCRIPTS:  # the checkout CodeBuild runs in
        (work / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / script, work / script)
    log = tmp_path / "calls.log"
    log.write_text("")
    script = "set -e\n" + "\n".join(all_commands(spec)) + "\n"
    env = {"PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp_path),
           "STUB_LOG": str(log), "CODEBUILD_SRC_DIR": str(work),
           **{name: str(value) for name, value in spec["env"]["variables"].items()}, **FAKE_ENV}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = subprocess.run([bash, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=60)
    return result, recorded_calls(log)


def recorded_calls(log: Path) -> list[list[str]]:
    """What the stubs recorded: each call as its program's name and arguments, in order."""
    return [entry.split("\x1f") for entry in log.read_text().split("\x1e") if entry]


def index_of(calls: list[list[str]], *prefix: str) -> int:
    for index, call in enumerate(calls):
        if call[: len(prefix)] == list(prefix):
            return index
    raise AssertionError(f"never called: {' '.join(prefix)}\n{calls}")


def option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


NEW_ACCOUNT = "aws ecr describe-repositories|aws ecr describe-images"  # no repository, no image yet


def test_dry_run_tests_before_push_and_tags_images_with_the_commit(spec, tmp_path):
    result, calls = dry_run(spec, tmp_path, STUB_FAIL=NEW_ACCOUNT)
    assert result.returncode == 0, result.stderr

    images = {kind: f"{REGISTRY}/callscope-{kind}:{COMMIT}" for kind in DOCKERFILES}
    tests = index_of(calls, "python", "-m", "pytest")
    sync = index_of(calls, "aws", "s3", "sync")
    login = index_of(calls, "docker", "login")
    assert calls[login][1:] == ["login", "--username", "AWS", "--password-stdin", REGISTRY]
    assert calls[sync][-2] == f"s3://{FAKE_ENV['ARTIFACT_BUCKET']}/test-data/"
    assert sync < tests
    for kind, dockerfile in DOCKERFILES.items():
        build = index_of(calls, "docker", "build", "-f", dockerfile)
        push = index_of(calls, "docker", "push", images[kind])
        assert option(calls[build], "-t") == images[kind]
        assert tests < build < push and login < push
    run = index_of(calls, "run-pipeline")
    assert run > max(index_of(calls, "docker", "push", image) for image in images.values())

    definition = index_of(calls, "get-pipeline-definition")
    for call in (calls[run], calls[definition]):
        assert option(call, "--module-name") == PIPELINE_MODULE
        kwargs = json.loads(option(call, "--kwargs"))
        assert kwargs == {
            "region": FAKE_ENV["AWS_REGION"],
            "role": FAKE_ENV["SAGEMAKER_PIPELINE_ROLE_ARN"],
            "default_bucket": FAKE_ENV["ARTIFACT_BUCKET"],
            "pipeline_name": spec["env"]["variables"]["SAGEMAKER_PIPELINE_NAME"],
            "model_package_group_name": spec["env"]["variables"]["MODEL_PACKAGE_GROUP_NAME"],
            "base_job_prefix": spec["env"]["variables"]["BASE_JOB_PREFIX"],
            "diarization_image_uri": images["diarization"],
            "transcription_image_uri": images["transcription"],
            "transcription_gpu_image_uri": f"{images['transcription']}-gpu",
            "commit": COMMIT,  # recorded on the model packages it registers
        }
    assert option(calls[run], "--role-arn") == FAKE_ENV["SAGEMAKER_PIPELINE_ROLE_ARN"]
    assert "--wait" in calls[run]  # a failed model build fails the build
    tags = {tag["Key"]: tag["Value"] for tag in json.loads(option(calls[run], "--tags"))}
    assert tags["callscope:commit"] == COMMIT
    assert option(calls[definition], "--file-name") == "pipeline-definition.json"
    assert json.loads((tmp_path / "src" / "pipeline-definition.json").read_text())["Steps"] == []


def test_dry_run_creates_missing_repositories_with_scan_on_push_and_builds_the_gpu_image(spec, tmp_path):
    result, calls = dry_run(spec, tmp_path, STUB_FAIL=NEW_ACCOUNT)
    assert result.returncode == 0, result.stderr
    created = [call for call in calls if call[:3] == ["aws", "ecr", "create-repository"]]
    assert {option(call, "--repository-name") for call in created} == {"callscope-diarization",
                                                                     "callscope-transcription"}
    for call in created:
        assert option(call, "--image-scanning-configuration") == "scanOnPush=true"
        assert option(call, "--image-tag-mutability") == "IMMUTABLE"
    gpu_image = f"{REGISTRY}/callscope-transcription:{COMMIT}-gpu"
    build = calls[index_of(calls, "docker", "build", "-f", DOCKERFILES["transcription"], "-t", gpu_image)]
    assert option(build, "--build-arg") == "GPU=1" and build[-1] == "."
    assert index_of(calls, "docker", "push", gpu_image) > calls.index(build)


def test_dry_run_skips_images_whose_tag_is_already_in_ecr(spec, tmp_path):
    """A rebuild of a commit (every repository and tag found): nothing built or pushed, the pipeline still runs."""
    result, calls = dry_run(spec, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [call for call in calls if call[:2] in (["docker", "build"], ["docker", "push"])]
    assert not [call for call in calls if call[:3] == ["aws", "ecr", "create-repository"]]
    checked = [call for call in calls if call[:3] == ["aws", "ecr", "describe-images"]]
    assert {option(call, "--image-ids") for call in checked} == {f"imageTag={COMMIT}", f"imageTag={COMMIT}-gpu"}
    assert result.stdout.count("is already in ECR") == 3
    index_of(calls, "run-pipeline")


@pytest.mark.parametrize("project_id", [None, "p-abc123xyz"])
def test_dry_run_tags_the_pipeline_for_its_sagemaker_project(spec, tmp_path, project_id):
    result, calls = dry_run(spec, tmp_path, SAGEMAKER_PROJECT_ID=project_id)
    assert result.returncode == 0, result.stderr
    tags = {tag["Key"]: tag["Value"] for tag in json.loads(option(calls[index_of(calls, "run-pipeline")], "--tags"))}
    assert tags["callscope:commit"] == COMMIT
    if project_id is None:
        assert not [key for key in tags if key.startswith("sagemaker:")]
    else:
        assert tags["sagemaker:project-id"] == project_id
        assert tags["sagemaker:project-name"] == spec["env"]["variables"]["SAGEMAKER_PROJECT_NAME"]


def test_dry_run_stops_when_tests_fail(spec, tmp_path):
    """With bash's -e standing in for CodeBuild's per-command check and on-failure: ABORT."""
    result, calls = dry_run(spec, tmp_path, STUB_FAIL="python -m pytest")
    assert result.returncode != 0
    assert index_of(calls, "python", "-m", "pytest") == len(calls) - 1  # nothing after the tests
    assert not [call for call in calls if call[0] in ("docker", "run-pipeline")]


@pytest.mark.parametrize("name", ["SAGEMAKER_PIPELINE_ROLE_ARN", "ARTIFACT_BUCKET"])
def test_dry_run_requires_project_variables(spec, tmp_path, name):
    result, calls = dry_run(spec, tmp_path, **{name: None})
    assert result.returncode != 0
    assert name in result.stderr
    assert calls == []  # stopped before installing anything


def test_kwargs_match_get_pipeline(spec, tmp_path):
    path = module_path(PIPELINE_MODULE)
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not written yet")
    function = next((node for node in ast.parse(path.read_text(encoding="utf-8")).body
                     if isinstance(node, ast.FunctionDef) and node.name == "get_pipeline"), None)
    assert function is not None, "pipeline module defines no get_pipeline"
    result, calls = dry_run(spec, tmp_path)
    kwargs = set(json.loads(option(calls[index_of(calls, "run-pipeline")], "--kwargs")))
    arguments = function.args
    names = [arg.arg for arg in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
    positional = arguments.posonlyargs + arguments.args
    required = {arg.arg for arg in positional[: len(positional) - len(arguments.defaults)]}
    required |= {arg.arg for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is None}
    assert required <= kwargs, f"get_pipeline needs {required - kwargs}"
    if arguments.kwarg is None:
        assert kwargs <= set(names), f"get_pipeline takes no {kwargs - set(names)}"
