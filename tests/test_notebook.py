"""notebooks/post_call_analytics.ipynb, executed top to bottom in a kernel of this venv, offline.

The notebook ends each section with a `SUMMARY {json}` line; the checks read those and the cells' outputs
(tables, charts), found by the cell tags the notebook sets.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # importing sagemaker.mlops needs a region
pytest.importorskip("sagemaker.mlops", reason="the pipelines extra (SageMaker Python SDK v3) is not installed")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from tests.conftest import DATA  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
NOTEBOOK = REPOSITORY / "notebooks" / "post_call_analytics.ipynb"

STEPS = {  # the model build
    "PackageModels": "Processing",
    "PrepareLabelled": "Processing", "DiarizeLabelled": "Processing", "TranscribeLabelled": "Processing",
    "EnrichLabelled": "Processing", "Evaluate": "Processing", "CheckWERAndDER": "Condition",
    "RegisterDiarizationModel": "RegisterModel", "RegisterTranscriptionModel": "RegisterModel",
    "MetricsOutOfBounds": "Fail",
}
BATCH_STEPS = {"Prepare": "Processing", "Diarize": "Processing", "Transcribe": "Processing", "Enrich": "Processing"}

# Loaded by every Python process the notebook starts (its kernel, the pipeline's processing steps): a
# connection or name lookup to anything but this machine is refused and written to a log the test reads.
_NETWORK_GUARD = '''
import os, socket

_LOG = os.environ["CALLSCOPE_NETWORK_LOG"]
_LOCAL = {None, "", "localhost", "0.0.0.0", "::", "::1", "ip6-localhost", socket.gethostname()}


def _local(host):
    host = host.decode() if isinstance(host, bytes) else host
    return host in _LOCAL or str(host).startswith("127.")


def _refuse(what):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}: {what}\\n")
    raise OSError(f"network access refused by tests/test_notebook.py: {what}")


_getaddrinfo, _connect, _connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _refuse(f"look up {host}")
    return _getaddrinfo(host, *args, **kwargs)


def _checked(address, family):
    if family in (socket.AF_INET, socket.AF_INET6) and not _local(address[0]):
        _refuse(f"connect to {address}")


def connect(self, address):
    _checked(address, self.family)
    return _connect(self, address)


def connect_ex(self, address):
    _checked(address, self.family)
    return _connect_ex(self, address)


socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = getaddrinfo, connect, connect_ex
'''


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after running every cell, and the network accesses attempted meanwhile."""
    root = tmp_path_factory.mktemp("notebook")
    # A kernelspec for this interpreter, found first on JUPYTER_PATH: the kernel is this venv's Python.
    kernel = root / "jupyter" / "kernels" / "python3"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (callscope test)", "language": "python",
    }))
    guard = root / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(_NETWORK_GUARD)
    network_log = root / "network.log"
    network_log.touch()
    (root / "tmp").mkdir()
    environment = {
        "JUPYTER_PATH": str(root / "jupyter"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": str(root / "ipython"), "TMPDIR": str(root / "tmp"),
        "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "CALLSCOPE_TEST_DATA": str(DATA),
        "CALLSCOPE_NETWORK_LOG": str(network_log),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(guard), os.environ.get("PYTHONPATH")])),
    }
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        client = NotebookClient(notebook, kernel_name="python3", timeout=300, allow_errors=False,
                                resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    return notebook, network_log.read_text(), root / "tmp"


def _cell(notebook, tag: str):
    (cell,) = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    return cell


def _stdout(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs
                   if output.output_type == "stream" and output.name == "stdout")


def _summary(notebook, tag: str) -> dict:
    (line,) = [line for line in _stdout(_cell(notebook, tag)).splitlines() if line.startswith("SUMMARY ")]
    return json.loads(line.removeprefix("SUMMARY "))


def _outputs_of_type(cell, mime: str) -> list:
    return [output.data[mime] for output in cell.outputs if output.output_type in ("display_data", "execute_result")
            and mime in output.data]


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")


def test_the_call_has_two_speakers_with_roles_a_transcript_and_talk_time(executed):
    notebook, _, _ = executed
    summary = _summary(notebook, "summary-call")
    assert summary["file"] == "pyannote-sample.wav" and summary["duration_secs"] == pytest.approx(30.0, abs=0.1)
    speakers = summary["speakers"]
    assert [speaker["label"] for speaker in speakers] == ["spk_0", "spk_1"]
    assert sorted(speaker["role"] for speaker in speakers) == ["Agent", "Customer"]
    assert all(0.5 <= speaker["role_confidence"] <= 1.0 for speaker in speakers)
    # Both talk, and each (with the quiet time) fits in the call; together they may not: when both
    # talk at once (1.9 s of the sample) that time is each one's talk time.
    assert set(summary["talk_time_secs"]) == {"spk_0", "spk_1"}
    assert all(seconds > 3.0 for seconds in summary["talk_time_secs"].values())
    assert all(seconds + summary["non_talk_secs"] <= summary["duration_secs"] + 0.5
               for seconds in summary["talk_time_secs"].values())

    (speaker_table,) = _outputs_of_type(_cell(notebook, "speakers"), "text/html")
    assert speaker_table.count("<tr>") == 1 + 2 and "spk_0" in speaker_table and "spk_1" in speaker_table
    (transcript,) = _outputs_of_type(_cell(notebook, "transcript"), "text/html")
    assert transcript.count("<tr>") == 1 + summary["turns"] and summary["turns"] >= 4
    # What the two say in the sample (sample.stm); tiny.en's exact words vary by processor, so most, not all.
    said = [name for name in ("Chicago", "New Jersey", "Texas", "Yankee", "Diane", "Sheila") if name in transcript]
    assert len(said) >= 4, said


def test_charts_are_drawn_and_sentiment_is_not_pretended(executed):
    notebook, _, _ = executed
    (loudness,) = _outputs_of_type(_cell(notebook, "loudness-chart"), "image/png")
    assert len(loudness) > 1000
    sentiment_cell = _cell(notebook, "sentiment-chart")
    assert len(_outputs_of_type(sentiment_cell, "image/png")) == 1
    summary = _summary(notebook, "summary-call")
    said = _stdout(sentiment_cell)
    if summary["sentiment_available"]:
        assert "No turn sentiment" not in said
    else:  # what callscope writes today: placeholders, and the notebook says so
        assert "No turn sentiment" in said and "talk time per speaker instead" in said


def test_the_pipeline_definition_lists_every_step_and_parameter(executed):
    notebook, _, _ = executed
    summary = _summary(notebook, "pipeline-steps")
    assert summary["steps"] == STEPS and summary["batch_steps"] == BATCH_STEPS
    assert {"LabelledSet", "OutputPrefix", "MaxWER", "MaxDER"} <= set(summary["parameters"])
    assert "InputCalls" in summary["batch_parameters"]
    (steps_table, batch_table, _parameters) = _outputs_of_type(_cell(notebook, "pipeline-steps"), "text/html")
    assert all(name in steps_table for name in STEPS) and all(name in batch_table for name in BATCH_STEPS)


def test_the_local_run_evaluates_and_passes_the_gate(executed):
    notebook, _, _ = executed
    summary = _summary(notebook, "evaluation")
    assert summary["ran"] is True
    assert set(summary["steps"]) == set(STEPS)
    assert summary["steps"]["MetricsOutOfBounds"] == "Skipped"
    assert all(status == "Succeeded" for name, status in summary["steps"].items() if name != "MetricsOutOfBounds")
    assert summary["batch_steps"] == {name: "Succeeded" for name in BATCH_STEPS}
    metrics = summary["metrics"]
    # tiny.en's WER and the embedded diarizer's DER on the pyannote sample (as tests/test_pipeline_local_run.py)
    assert 0.05 < metrics["wer"] < 0.30 and 0.03 < metrics["der"] < 0.10
    assert metrics["cpwer"] >= metrics["wer"]
    assert {"pyannote-sample.json", "pyannote-sample.rttm", "pyannote-sample.txt"} <= set(summary["results"])
    assert summary["result_speakers"] == ["spk_0", "spk_1"] and summary["result_turns"] >= 4
    (metrics_table,) = _outputs_of_type(_cell(notebook, "evaluation"), "text/html")
    assert "WER" in metrics_table and "cpWER" in metrics_table and "DER" in metrics_table


def test_nothing_goes_to_aws_or_the_network_and_nothing_is_left_behind(executed):
    notebook, network, tmp = executed
    aws = _cell(notebook, "aws")
    assert "pipeline.upsert(role_arn=" in aws.source and ".start(parameters=" in aws.source
    assert _stdout(aws).strip() == "RUN_ON_AWS is False: nothing was sent to AWS."
    assert network == ""
    assert not list(tmp.glob("callscope-notebook-*"))  # the last cell removes the notebook's working folder


def test_the_build_registers_two_pending_packages_which_once_approved_the_batch_run_reads(executed):
    notebook, _, _ = executed
    summary = _summary(notebook, "registry")
    packages = summary["packages"]
    assert sorted(package["group"] for package in packages) == ["callscope-diarization", "callscope-transcription"]
    assert all(package["status_before"] == "PendingManualApproval" for package in packages)
    assert summary["approved"] == ["Approved", "Approved"]
    for package in packages:
        assert {"WER", "DER", "WhisperModel", "Diarizer", "ComputeType", "BeamSize", "Commit"} <= set(
            package["metadata"])
    # the batch pipeline, built from the registry, reads exactly the approved archives
    data = {package["group"].rsplit("-", 1)[1]: package["model_data"] for package in packages}
    assert summary["batch_reads"] == {"Diarize": data["diarization"], "Transcribe": data["transcription"]}
    (listing, batch_steps) = _outputs_of_type(_cell(notebook, "registry"), "text/html")
    assert listing.count("PendingManualApproval") == 2 and "Succeeded" in batch_steps


def test_the_serving_cell_invokes_the_server_with_the_example_call(executed):
    notebook, _, _ = executed
    summary = _summary(notebook, "serving")
    assert summary["ping"]["status"] == "ok" and summary["status"] == 200
    assert summary["duration"] == pytest.approx(30.0, abs=0.2) and summary["words"] > 40
