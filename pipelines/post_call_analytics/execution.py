"""Waiting for a pipeline execution, as CI does after `run-pipeline --wait`: a build is green only when
the model-build execution Succeeded. Plain boto3 (a SageMaker client), so it is testable with a stub."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

FINISHED = ("Succeeded", "Failed", "Stopped")


@dataclass(frozen=True)
class ExecutionOutcome:
    status: str  # Succeeded, Failed, Stopped, or TimedOut (still running when the wait ended)
    detail: str  # for a failure: the failed steps and their reasons, else ""

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"


def wait_for_execution(client, arn: str, *, poll_secs: float = 30.0, timeout_secs: float = 4 * 3600.0,
                       echo: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep
                       ) -> ExecutionOutcome:
    """Poll the execution until it ends (or `timeout_secs` pass), saying each change of status."""
    waited, said = 0.0, ""
    while True:
        status = client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        if status != said:
            echo(f"execution {status.lower()} ({waited:.0f} s)")
            said = status
        if status in FINISHED:
            return ExecutionOutcome(status, "" if status == "Succeeded" else _failed_steps(client, arn))
        if waited >= timeout_secs:
            return ExecutionOutcome("TimedOut", f"still {status.lower()} after {waited:.0f} s")
        sleep(poll_secs)
        waited += poll_secs


def _failed_steps(client, arn: str) -> str:
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    failed = [f"{step['StepName']}: {step.get('FailureReason', step['StepStatus'])}" for step in steps
              if step.get("StepStatus") in ("Failed", "Stopped")]
    return "; ".join(failed) or "no step says why"
