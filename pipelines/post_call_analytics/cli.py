"""Console scripts, as in the SageMaker project templates:

    get-pipeline-definition --module-name pipelines.model_build.pipeline --kwargs '{...}'
    run-pipeline --module-name pipelines.model_build.pipeline --role-arn ARN --kwargs '{...}'
    run-pipeline-locally --module-name pipelines.model_build.pipeline \
        --param LabelledSet=../shared/data/pyannote_sample
    run-pipeline-locally --param InputCalls=examples/calls --kwargs '{"approved": {...}}'

The default module is the batch pipeline (pipelines.post_call_analytics.pipeline), which runs the
latest Approved models: building it asks the model registry, unless `approved` names them.

`--kwargs` is a JSON object of get_pipeline's keyword arguments (region, role, default_bucket, ...).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from pipelines.post_call_analytics.extra import missing_extra

_DEFAULT_MODULE = "pipelines.post_call_analytics.pipeline"
# Building a definition needs a role and a bucket but no AWS call when both are given.
_OFFLINE_KWARGS = {"region": "us-east-1", "role": "arn:aws:iam::000000000000:role/callscope-local",
                   "default_bucket": "callscope-local"}


def _pipeline(module_name: str, kwargs: dict):
    os.environ.setdefault("AWS_DEFAULT_REGION", kwargs.get("region", "us-east-1"))  # sagemaker.mlops needs one
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            _fail(f"--module-name {module_name}: no such module")
        raise
    from callscope.errors import CallscopeError

    try:
        return module.get_pipeline(**kwargs)
    except CallscopeError as error:  # no Approved model, approved models named wrongly
        _fail(str(error))


@contextmanager
def _pipelines_extra() -> Iterator[None]:
    """Without the `pipelines` extra, one line naming it and exit 2."""
    try:
        yield
    except ModuleNotFoundError as error:
        message = missing_extra(error)
        if message is None:
            raise
        _fail(message)


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--module-name", default=_DEFAULT_MODULE, help="module with get_pipeline()")
    parser.add_argument("--kwargs", type=json.loads, default={}, help="get_pipeline's arguments as a JSON object")
    return parser


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def get_pipeline_definition(argv: list[str] | None = None) -> None:
    parser = _common(argparse.ArgumentParser(description="Print (or write) the pipeline definition JSON."))
    parser.add_argument("--file-name", type=Path, default=None, help="write here instead of printing")
    args = parser.parse_args(argv)
    with _pipelines_extra():
        definition = json.dumps(json.loads(_pipeline(args.module_name, args.kwargs).definition()), indent=2)
    if args.file_name:
        args.file_name.write_text(definition + "\n")
    else:
        print(definition)


def run_pipeline(argv: list[str] | None = None) -> None:
    parser = _common(argparse.ArgumentParser(description="Create or update the pipeline, then start an execution."))
    parser.add_argument("--role-arn", required=True, help="the role SageMaker Pipelines runs as")
    parser.add_argument("--tags", type=json.loads, default=[], help='[{"Key": ..., "Value": ...}]')
    parser.add_argument("--parameters", type=json.loads, default={}, help="execution parameters, name -> value")
    parser.add_argument("--no-start", action="store_true", help="only create or update the pipeline")
    parser.add_argument("--wait", action="store_true",
                        help="wait for the execution to end; exit 1 unless it Succeeded (CI: a failed model build "
                             "fails the build)")
    parser.add_argument("--wait-timeout", type=float, default=4 * 3600.0, help="seconds to wait at most")
    args = parser.parse_args(argv)
    with _pipelines_extra():
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pipeline = _pipeline(args.module_name, {"role": args.role_arn, **args.kwargs})
            response = pipeline.upsert(role_arn=args.role_arn, tags=args.tags)
            print(f"pipeline: {response['PipelineArn']}")
            if not args.no_start:
                execution = pipeline.start(parameters=args.parameters or None)
                arn = execution.arn if hasattr(execution, "arn") else str(execution)
                print(f"execution: {arn}")
                if args.wait:
                    _wait(pipeline.sagemaker_session.sagemaker_client, arn, args.wait_timeout)
        except (ClientError, BotoCoreError) as error:
            _fail(str(error).splitlines()[0])


def _wait(client, arn: str, timeout_secs: float) -> None:
    from pipelines.post_call_analytics.execution import wait_for_execution

    outcome = wait_for_execution(client, arn, timeout_secs=timeout_secs)
    if not outcome.succeeded:
        print(f"error: execution {outcome.status.lower()}: {outcome.detail}", file=sys.stderr)
        sys.exit(1)


def run_pipeline_locally(argv: list[str] | None = None) -> None:
    parser = _common(argparse.ArgumentParser(
        description="Run the pipeline definition on this machine: each step as a local process, or in its "
                    "image with --in-images."))
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a pipeline parameter (S3 URIs map under --s3-root; local paths work too)")
    parser.add_argument("--s3-root", type=Path, default=Path("pipeline-local/s3"), help="folder standing for S3")
    parser.add_argument("--workdir", type=Path, default=Path("pipeline-local/work"), help="each step's processing root")
    parser.add_argument("--in-images", metavar="ENGINE", nargs="?", const="docker",
                        help="run each step in its image (the definition's ImageUri, e.g. set by --param "
                             "TranscriptionImageUri=...) with this container engine command (default docker; "
                             "e.g. 'podman --runtime runc'), as SageMaker local mode does")
    args = parser.parse_args(argv)
    from pipelines.post_call_analytics.local_run import LocalPipelineFailure, LocalPipelineRunner

    parameters = {}
    for item in args.param:
        name, separator, value = item.partition("=")
        if not separator:
            _fail(f"--param {item!r} is not NAME=VALUE")
        parameters[name] = _typed(value)
    with _pipelines_extra():
        definition = json.loads(_pipeline(args.module_name, {**_OFFLINE_KWARGS, **args.kwargs}).definition())
    try:
        engine = shlex.split(args.in_images) if args.in_images else None
        run = LocalPipelineRunner(definition, args.s3_root, args.workdir, engine=engine).run(parameters)
    except LocalPipelineFailure as error:
        _fail(str(error))
    for step in run.steps:
        print(f"{step.status:10s} {step.name:28s} {step.seconds:7.1f} s")
    print(f"execution {run.execution_id}: results under {args.s3_root} and the local paths given")


def _typed(value: str):
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value
