"""Shared fixtures: real sample calls from ../shared/data and one Whisper model per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import browser, page  # noqa: F401  (the dashboard's page tests' fixtures)

if TYPE_CHECKING:
    from callscope.enrichment import Enricher
    from callscope.model import Conversation

DATA = Path(os.environ.get("CALLSCOPE_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
AUTO_REPAIRS = DATA / "lca_auto_repairs" / "Auto_Repairs_40_stereo_ch0customer_ch1agent.wav"
DEMO_CALL = DATA / "guidance_conversation_analysis" / "demo-call.mp3"
PCA_MONO = DATA / "pca_samples" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
PCA_REFERENCE_JSON = DATA / "pca_samples" / "pca_output_testfile.json"
JFK = DATA / "faster_whisper_tests" / "jfk.flac"
STEREO_TWO_UTTERANCES = DATA / "faster_whisper_tests" / "stereo_diarization.wav"
PYANNOTE_SAMPLE = DATA / "pyannote_sample" / "sample.wav"

# What tiny.en and the embedded diarizer made of three of those calls on one machine, frozen
# (tests/data/frozen_transcripts/README.md). The models' words differ a little between processors,
# so a test of text rules (categories, insights, entities, roles) reads these, not the model's output.
FROZEN = Path(__file__).resolve().parent / "data" / "frozen_transcripts"
FROZEN_DEMO_CALL = FROZEN / "demo-call.json"
FROZEN_AUTO_REPAIRS = FROZEN / "auto-repairs.json"
FROZEN_PCA_MONO = FROZEN / "pca-mono.json"


def pytest_collection_modifyitems(config, items):
    if not DATA.is_dir():
        raise pytest.UsageError(f"sample data not found at {DATA}: set CALLSCOPE_TEST_DATA")


@pytest.fixture(scope="session")
def transcriber():
    """The bundled tiny.en, loaded once for the whole test session."""
    from callscope.options import TranscriptionOptions
    from callscope.transcription.whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(TranscriptionOptions())


@pytest.fixture(scope="session")
def stereo_calls_analyzed(tmp_path_factory):
    """The two stereo sample calls through the real CLI, once per session: (output dir, output)."""
    import shutil

    from click.testing import CliRunner

    from callscope.cli import main

    folder = tmp_path_factory.mktemp("calls")
    for path in (AUTO_REPAIRS, DEMO_CALL):
        shutil.copy(path, folder / path.name)
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["analyze", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, result.output


# Real recordings under names in the reference system's convention, so the calls have agents and days.
NAMED_CALLS = {
    "Intro_GUID_101_AGENT_Ann_DT_2025-02-20T14-05-00.wav": PYANNOTE_SAMPLE,
    "Intro_GUID_102_AGENT_Raj_DT_2025-02-21T08-45-00.wav": PYANNOTE_SAMPLE,
    "Speech_GUID_103_AGENT_Raj_DT_2025-02-21T11-20-00.flac": JFK,
    "Intro_GUID_104_AGENT_Ann_DT_2025-02-24T09-00-00.wav": PYANNOTE_SAMPLE,
}


@pytest.fixture(scope="session")
def analysed_store(tmp_path_factory, stereo_calls_analyzed):
    """The named calls analysed by `callscope analyze`, the two stereo calls of the session and the
    reference system's own sample, loaded into one SQLite store: (store file, results folder)."""
    import shutil

    from click.testing import CliRunner

    from callscope.cli import main

    root = tmp_path_factory.mktemp("overview")
    calls, results = root / "calls", root / "results"
    calls.mkdir()
    for name, source in NAMED_CALLS.items():
        shutil.copy(source, calls / name)
    analysed = CliRunner().invoke(main, ["analyze", str(calls), "--out", str(results)])
    assert analysed.exit_code == 0, analysed.output
    stereo_out, _ = stereo_calls_analyzed
    for document in stereo_out.glob("*.json"):
        shutil.copy(document, results / document.name)
    shutil.copy(PCA_REFERENCE_JSON, results / PCA_REFERENCE_JSON.name)
    path = root / "calls.db"
    loaded = CliRunner().invoke(main, ["load", str(results), "--store", str(path)])
    assert loaded.exit_code == 0 and "7 loaded" in loaded.output, loaded.output
    return path, results


@pytest.fixture
def offline_hub_cache(tmp_path, monkeypatch):
    """An empty, offline Hugging Face cache under tmp_path.

    huggingface_hub reads HF_HUB_CACHE and HF_HUB_OFFLINE once, at import; another test (pyannote's)
    may have imported it already, so its constants are patched as well as the environment.
    """
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return tmp_path


def frozen_call(path: Path, enrichers: list[Enricher] | None = None) -> Conversation:
    """A frozen transcript read through callscope's input path, then enriched like a recording."""
    from callscope.analysis.call import analyze_transcript

    return analyze_transcript(path, enrichers=enrichers)


@pytest.fixture(autouse=True)
def fresh_boto3_default_session():
    """boto3's default session keeps the credentials it first found: a test's fake ones (moto) must not
    reach a later test that checks what happens without any (boto3.client() uses that session)."""
    yield
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None


def fake_aws_variables(region: str = "us-east-1") -> dict[str, str]:
    """The fake credentials and region that fake_aws_environment sets, as a dict (for a child process's env)."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": region, "AWS_EC2_METADATA_DISABLED": "true"}


def fake_aws_environment(patch: pytest.MonkeyPatch, region: str = "us-east-1", no_config_files: bool = False) -> None:
    """Fake credentials in region; no profile, instance metadata or endpoint override of the machine's.

    AWS_SECURITY_TOKEN goes too: botocore reads it before AWS_SESSION_TOKEN. With no_config_files, the machine's
    ~/.aws/config and ~/.aws/credentials are not read either.
    """
    for name, value in fake_aws_variables(region).items():
        patch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_TRANSCRIBE"):
        patch.delenv(name, raising=False)
    if no_config_files:
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")


@pytest.fixture(scope="module")
def mocked_aws():
    """Fake credentials and moto's mock_aws for a whole test module: nothing reaches AWS."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as patch:
        fake_aws_environment(patch)
        with mock_aws():
            yield


@pytest.fixture
def fake_aws(monkeypatch):
    """Fake credentials and moto's mock_aws for one test."""
    from moto import mock_aws

    fake_aws_environment(monkeypatch)
    with mock_aws():
        yield
