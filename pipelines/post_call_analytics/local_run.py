"""Run a pipeline definition on this machine: debug a pipeline before paying for it.

Reads the definition JSON SageMaker would get, resolves its parameters, execution variables, step
properties, `Std:Join` and `Std:JsonGet`, and runs each processing step's entry point (processing/*.py)
as a local process under the processing contract (CALLSCOPE_PROCESSING_ROOT), or, given a container
engine (`engine`: docker, or podman with its options), inside the step's own image as SageMaker would:
its ContainerEntrypoint and arguments, /opt/ml/processing mounted from the step's folder, no network.
S3 URIs map to folders under `s3_root` (s3://bucket/key -> s3_root/bucket/key); a parameter may also
be a local path. With Asr=transcribe the steps call the real Amazon Transcribe (the machine's AWS
credentials), uploading each call to TranscribeBucket, since the run's S3 URIs exist only here.
Condition steps are evaluated; register steps call `create_model_package` when given a SageMaker client
(moto in tests) and are otherwise recorded; a fail step raises LocalPipelineFailure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.sagemaker_steps.step import LOCAL_S3_VARIABLE
from pipelines.post_call_analytics.layout import ENTRYPOINT_DIR

REPOSITORY = Path(__file__).resolve().parents[2]
_STEP_PROPERTY = re.compile(r"Steps\.([^.]+)\.(.+)")
_OUTPUT_PROPERTY = re.compile(r"ProcessingOutputConfig\.Outputs\['([^']+)'\]\.S3Output\.S3Uri")


class LocalPipelineFailure(RuntimeError):
    """A step failed, or the pipeline reached a fail step; the message says which and why."""


@dataclass
class StepRun:
    name: str
    type: str
    status: str  # "Succeeded", "Failed", "Skipped" (branch not taken)
    seconds: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)  # processing channel -> resolved URI
    property_files: dict[str, Any] = field(default_factory=dict)
    request: dict = field(default_factory=dict)  # what a register step sent (or would send)
    log: str = ""


@dataclass
class LocalRun:
    execution_id: str
    parameters: dict[str, Any]
    steps: list[StepRun]

    def step(self, name: str) -> StepRun:
        return next(step for step in self.steps if step.name == name)


class LocalPipelineRunner:
    def __init__(self, definition: dict, s3_root: Path, workdir: Path, code_dir: Path = REPOSITORY / "processing",
                 sagemaker_client=None, python: str = sys.executable, echo=print,
                 engine: list[str] | None = None) -> None:
        self.definition, self.s3_root, self.workdir, self.code_dir = (definition, Path(s3_root), Path(workdir),
                                                                      Path(code_dir))
        self.sagemaker_client, self.python, self.echo = sagemaker_client, python, echo
        self.engine = engine  # a container engine's command: each step runs in its image
        self.runs: dict[str, StepRun] = {}

    # ---- expressions -------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return join["On"].join(_text(self.resolve(item)) for item in join["Values"])
        if set(value) == {"Std:JsonGet"}:
            document = self.resolve(value["Std:JsonGet"]["PropertyFile"])
            for key in value["Std:JsonGet"]["Path"].split("."):
                document = document[key]
            return document
        return {key: self.resolve(item) for key, item in value.items()}

    def _get(self, path: str) -> Any:
        if path.startswith("Parameters."):
            return self.parameters[path.removeprefix("Parameters.")]
        if path.startswith("Execution."):
            return {"PipelineExecutionId": self.execution_id, "PipelineName": "local",
                    "PipelineExecutionArn": f"local/{self.execution_id}"}[path.removeprefix("Execution.")]
        match = _STEP_PROPERTY.fullmatch(path)
        if match and match[1] in self.runs:
            run, rest = self.runs[match[1]], match[2]
            if rest.startswith("PropertyFiles."):
                return run.property_files[rest.removeprefix("PropertyFiles.")]
            output = _OUTPUT_PROPERTY.fullmatch(rest)
            if output:
                return run.outputs[output[1]]
        raise LocalPipelineFailure(f"cannot resolve {path!r} locally")

    def local(self, uri: str) -> Path:
        """Where an S3 URI (or a local path) lives on this machine."""
        if uri.startswith("s3://"):
            return self.s3_root / uri.removeprefix("s3://")
        return Path(uri)

    # ---- steps -------------------------------------------------------------------------------

    def run(self, parameters: dict[str, Any] | None = None, execution_id: str | None = None) -> LocalRun:
        self.execution_id = execution_id or time.strftime("local-%Y%m%d-%H%M%S")
        self.parameters = {p["Name"]: p.get("DefaultValue") for p in self.definition["Parameters"]}
        unknown = set(parameters or {}) - set(self.parameters)
        if unknown:
            raise LocalPipelineFailure(f"unknown pipeline parameter(s): {', '.join(sorted(unknown))}")
        self.parameters.update(parameters or {})
        for step in _in_dependency_order(self.definition["Steps"]):
            self._run_step(step)
        return LocalRun(self.execution_id, dict(self.parameters), list(self.runs.values()))

    def _run_step(self, step: dict) -> None:
        kind = step["Type"]
        started = time.perf_counter()
        if kind == "Processing":
            run = self._processing(step)
        elif kind == "Condition":
            run = self._condition(step)
        elif kind == "RegisterModel":
            run = self._register(step)
        elif kind == "Fail":
            message = _text(self.resolve(step["Arguments"].get("ErrorMessage", "")))
            self.runs[step["Name"]] = StepRun(step["Name"], kind, "Failed")
            raise LocalPipelineFailure(f"{step['Name']}: {message}")
        else:
            raise LocalPipelineFailure(f"{step['Name']}: step type {kind} cannot run locally")
        run.seconds = round(time.perf_counter() - started, 2)
        self.runs[step["Name"]] = run

    def _processing(self, step: dict) -> StepRun:
        arguments = self.resolve(step["Arguments"])
        root = self.workdir / self.execution_id / step["Name"]
        shutil.rmtree(root, ignore_errors=True)
        for channel in arguments.get("ProcessingInputs", []):
            _copy(self.local(channel["S3Input"]["S3Uri"]), _under(root, channel["S3Input"]["LocalPath"]))
        outputs = {o["OutputName"]: o["S3Output"]
                   for o in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])}
        for output in outputs.values():
            _under(root, output["LocalPath"]).mkdir(parents=True, exist_ok=True)
        app = arguments["AppSpecification"]
        step_arguments = [_text(a) for a in app.get("ContainerArguments", [])]
        if self.engine:
            command, environment = self._in_image(app, step_arguments, arguments.get("Environment", {}), root)
        else:
            command = [self._local_entrypoint(part) for part in app["ContainerEntrypoint"]] + step_arguments
            environment = {**os.environ, **arguments.get("Environment", {}), "CALLSCOPE_PROCESSING_ROOT": str(root),
                           LOCAL_S3_VARIABLE: str(self.s3_root)}
        self.echo(f"{step['Name']}: {' '.join(app['ContainerEntrypoint'][1:] + step_arguments)}")
        try:
            finished = subprocess.run(command, env=environment, capture_output=True, text=True)
        except OSError as error:  # no such engine or interpreter: the step cannot start at all
            raise LocalPipelineFailure(f"{step['Name']}: cannot run {command[0]}: {error.strerror}") from None
        log = finished.stdout + finished.stderr
        (root / "log.txt").write_text(log)
        if finished.returncode != 0:
            last = (log.strip().splitlines() or ["no output"])[-1]
            raise LocalPipelineFailure(f"{step['Name']} failed (exit {finished.returncode}): {last}")
        run = StepRun(step["Name"], "Processing", "Succeeded", log=log)
        for name, output in outputs.items():
            run.outputs[name] = output["S3Uri"]
            _copy(_under(root, output["LocalPath"]), self.local(output["S3Uri"]))
        for prop in step.get("PropertyFiles", []):
            source = _under(root, outputs[prop["OutputName"]]["LocalPath"]) / prop["FilePath"]
            run.property_files[prop["PropertyFileName"]] = json.loads(source.read_text())
        return run

    def _in_image(self, app: dict, step_arguments: list[str], step_environment: dict[str, str],
                  root: Path) -> tuple[list[str], dict[str, str]]:
        """The engine's `run` of the step's image, as a processing job runs it: the step's folder as
        /opt/ml/processing, the folder standing for S3 at the same path inside, no network."""
        processing = _under(root, "/opt/ml/processing")
        s3_root = self.s3_root.resolve()
        s3_root.mkdir(parents=True, exist_ok=True)  # a bind mount's source must exist
        entrypoint, *entrypoint_arguments = app["ContainerEntrypoint"]
        command = [*self.engine, "run", "--rm", "--network", "none",
                   "--volume", f"{processing.resolve()}:/opt/ml/processing",
                   "--volume", f"{s3_root}:{s3_root}:ro",
                   "--env", f"{LOCAL_S3_VARIABLE}={s3_root}",
                   *[option for name, value in step_environment.items() for option in ("--env", f"{name}={value}")],
                   "--entrypoint", entrypoint, app["ImageUri"], *entrypoint_arguments, *step_arguments]
        return command, dict(os.environ)

    def _local_entrypoint(self, part: str) -> str:
        if part == "python3":
            return self.python
        if part.startswith(ENTRYPOINT_DIR + "/"):
            return str(self.code_dir / part.removeprefix(ENTRYPOINT_DIR + "/"))
        return part

    def _condition(self, step: dict) -> StepRun:
        arguments = step["Arguments"]
        passed = all(_compare(c["Type"], self.resolve(c["LeftValue"]), self.resolve(c["RightValue"]))
                     for c in arguments["Conditions"])
        self.echo(f"{step['Name']}: {'true' if passed else 'false'}")
        taken, skipped = ((arguments["IfSteps"], arguments["ElseSteps"]) if passed
                          else (arguments["ElseSteps"], arguments["IfSteps"]))
        for branch_step in skipped:
            self.runs[branch_step["Name"]] = StepRun(branch_step["Name"], branch_step["Type"], "Skipped")
        run = StepRun(step["Name"], "Condition", "Succeeded", property_files={"Outcome": passed})
        self.runs[step["Name"]] = run
        for branch_step in _in_dependency_order(taken):
            self._run_step(branch_step)
        return run

    def _register(self, step: dict) -> StepRun:
        request = self.resolve(step["Arguments"])
        request.pop("SkipModelValidation", None)
        metrics = request.get("ModelMetrics", {})
        request["ModelMetrics"] = {key: value for key, value in metrics.items() if value}
        if self.sagemaker_client is not None:
            response = self.sagemaker_client.create_model_package(**request)
            self.echo(f"{step['Name']}: registered {response['ModelPackageArn']}")
        else:
            self.echo(f"{step['Name']}: would register a package in {request['ModelPackageGroupName']}")
        return StepRun(step["Name"], "RegisterModel", "Succeeded", request=request)


def _in_dependency_order(steps: list[dict]) -> list[dict]:
    """Steps ordered so each comes after the steps its arguments reference or it depends on."""
    names = {step["Name"] for step in steps}
    needs = {step["Name"]: ({n for n in re.findall(r"Steps\.([^.\"']+)\.", json.dumps(step)) if n in names}
                            | set(step.get("DependsOn", [])))
             for step in steps}
    ordered: list[dict] = []
    done: set[str] = set()
    while len(ordered) < len(steps):
        ready = [step for step in steps if step["Name"] not in done and needs[step["Name"]] <= done]
        if not ready:
            raise LocalPipelineFailure("the pipeline's steps depend on each other in a cycle")
        ordered += ready
        done |= {step["Name"] for step in ready}
    return ordered


def _compare(kind: str, left: Any, right: Any) -> bool:
    operations = {
        "LessThanOrEqualTo": lambda a, b: a <= b, "LessThan": lambda a, b: a < b,
        "GreaterThanOrEqualTo": lambda a, b: a >= b, "GreaterThan": lambda a, b: a > b,
        "Equals": lambda a, b: a == b,
    }
    if kind not in operations:
        raise LocalPipelineFailure(f"condition type {kind} cannot be evaluated locally")
    return operations[kind](left, right)


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _under(root: Path, container_path: str) -> Path:
    return root / container_path.lstrip("/")


def _copy(source: Path, target: Path) -> None:
    """S3 prefix semantics: a folder's contents, or one file, land in `target` (a folder)."""
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    elif source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / source.name)
    else:
        raise LocalPipelineFailure(f"{source} does not exist (no object under that prefix)")
