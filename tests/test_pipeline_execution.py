"""Waiting for a pipeline execution (`run-pipeline --wait`, which CI uses): the requests sent, the
status changes said, and a failed or stopped execution failing the command in one line. A botocore
Stubber stands in for SageMaker."""

from __future__ import annotations

import pytest

boto3 = pytest.importorskip("boto3", reason="needs the aws extra")
from botocore.stub import Stubber  # noqa: E402

from pipelines.post_call_analytics.execution import wait_for_execution  # noqa: E402

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/callscope-model-build/execution/abc123"


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    with Stubber(sagemaker) as stubber:
        yield sagemaker, stubber
        stubber.assert_no_pending_responses()


def _statuses(stubber: Stubber, *statuses: str) -> None:
    for status in statuses:
        stubber.add_response("describe_pipeline_execution", {"PipelineExecutionStatus": status},
                             {"PipelineExecutionArn": ARN})


def test_a_succeeded_execution_is_waited_for_and_each_change_said(client):
    sagemaker, stubber = client
    _statuses(stubber, "Executing", "Executing", "Succeeded")
    said, slept = [], []
    outcome = wait_for_execution(sagemaker, ARN, poll_secs=30, echo=said.append, sleep=slept.append)
    assert outcome.succeeded and outcome.detail == ""
    assert said == ["execution executing (0 s)", "execution succeeded (60 s)"] and slept == [30, 30]


def test_a_failed_execution_names_its_failed_steps(client):
    sagemaker, stubber = client
    _statuses(stubber, "Executing", "Failed")
    stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": [
        {"StepName": "PackageModels", "StepStatus": "Succeeded"},
        {"StepName": "MetricsOutOfBounds", "StepStatus": "Failed",
         "FailureReason": "WER 0.41 (at most 0.35 ) or DER 0.06 (at most 0.25 ) out of bounds: models not registered"},
    ]}, {"PipelineExecutionArn": ARN})
    outcome = wait_for_execution(sagemaker, ARN, echo=lambda line: None, sleep=lambda secs: None)
    assert (outcome.succeeded, outcome.status) == (False, "Failed")
    assert outcome.detail == ("MetricsOutOfBounds: WER 0.41 (at most 0.35 ) or DER 0.06 (at most 0.25 ) out of "
                              "bounds: models not registered")


def test_a_wait_that_runs_out_says_so(client):
    sagemaker, stubber = client
    _statuses(stubber, "Executing", "Executing", "Executing")
    outcome = wait_for_execution(sagemaker, ARN, poll_secs=30, timeout_secs=60, echo=lambda line: None,
                                 sleep=lambda secs: None)
    assert (outcome.status, outcome.detail) == ("TimedOut", "still executing after 60 s")


def test_run_pipeline_wait_exits_1_with_one_line_unless_it_succeeded(client, capsys):
    from pipelines.post_call_analytics.cli import _wait

    sagemaker, stubber = client
    _statuses(stubber, "Stopped")
    stubber.add_response("list_pipeline_execution_steps", {"PipelineExecutionSteps": [
        {"StepName": "TranscribeLabelled", "StepStatus": "Stopped"}]}, {"PipelineExecutionArn": ARN})
    with pytest.raises(SystemExit) as stopped:
        _wait(sagemaker, ARN, timeout_secs=60)
    assert stopped.value.code == 1
    assert capsys.readouterr().err.strip() == "error: execution stopped: TranscribeLabelled: Stopped"
