"""Bad input and missing extras on the command line are one line and an exit code, never a traceback
(issue 14): out-of-range times and page sizes, the `eval` and `pipelines` extras really missing (their
imports fail in a fresh interpreter), and the flags as README.md shows them."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from callscope.cli import main
from callscope.output.pca import to_pca
from callscope.store import SearchQuery, SqliteStore
from tests.conftest import DATA, JFK, fake_aws_environment
from tests.test_store import _call

BIN = Path(sys.executable).parent
CHAT = DATA / "guidance_conversation_analysis" / "customer_chat_sample.txt"

# Imported first by every interpreter started with its folder on PYTHONPATH: a finder that makes the
# imports of the modules named in $CALLSCOPE_TEST_MISSING fail as they do when the package is not installed.
SITECUSTOMIZE = '''
import os
import sys
from importlib.abc import MetaPathFinder

MISSING = set(filter(None, os.environ.get("CALLSCOPE_TEST_MISSING", "").split(",")))


class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in MISSING:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
'''


def run_without(tmp_path: Path, missing: list[str], command: list[str], cwd: Path | None = None
                ) -> subprocess.CompletedProcess:
    """A console script of this environment run as if the packages `missing` were not installed."""
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {**os.environ, "PYTHONPATH": str(shim), "CALLSCOPE_TEST_MISSING": ",".join(missing)}
    return subprocess.run([str(BIN / command[0]), *command[1:]], capture_output=True, text=True, env=env,
                          cwd=cwd or tmp_path, timeout=300)


def one_line_error(output: str) -> str:
    """The only line of output, which must be an error; fails on a traceback or anything more."""
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


@pytest.fixture
def store_path(tmp_path) -> Path:
    path = tmp_path / "calls.db"
    with SqliteStore(path) as store:
        for guid, day in (("old", 19), ("new", 20)):
            store.put(to_pca(_call(guid, datetime(2025, 2, day, 6, 0))), f"{guid}.json")
    return path


# --- item 5: times and page sizes out of range ---------------------------------------------------

@pytest.mark.parametrize(("option", "value"), [
    ("--since", "800000d"),  # before year 1
    ("--since", "99999999999d"),  # more days than a timedelta holds
    ("--until", "800000d"),
    ("--limit", "9223372036854775807"),  # SQLite's largest integer: one more overflows
])
def test_search_values_out_of_range_are_one_line(store_path, option, value):
    outcome = CliRunner().invoke(main, ["search", "--store", str(store_path), option, value])
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    errors = [line for line in outcome.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and option in errors[0] and value in errors[0], outcome.output


def test_report_since_out_of_range_is_one_line(store_path, tmp_path):
    outcome = CliRunner().invoke(main, ["report", "negative", "--store", str(store_path), "--since", "800000d",
                                        "--out", str(tmp_path / "x.csv")])
    assert outcome.exit_code == 2 and "800000d" in outcome.output and "Traceback" not in outcome.output
    assert not (tmp_path / "x.csv").exists()


def test_a_continuation_token_with_an_id_past_sqlite_s_integers_is_one_line(store_path):
    token = base64.urlsafe_b64encode(json.dumps(["2025-02-20 06:00:00", 10 ** 30]).encode()).decode()
    outcome = CliRunner().invoke(main, ["search", "--store", str(store_path), "--continuation", token])
    assert outcome.exit_code == 1 and "continuation token" in one_line_error(outcome.output)


def test_a_huge_limit_reads_every_call_from_the_sqlite_store(store_path):
    with SqliteStore(store_path) as store:
        page = store.search(SearchQuery(limit=2 ** 63 - 1))
    assert [record.guid for record in page.records] == ["new", "old"] and page.continuation is None


# --- item 5: extras that are not installed -------------------------------------------------------

@pytest.mark.parametrize("command", [["eval", "asr", "labelled", "--diarizer", "none"],
                                     ["eval", "heal", "labelled", "--held-out", "other*"],
                                     ["leaderboard", "--update", "labelled"]])
def test_scoring_without_the_eval_extra_is_one_line(tmp_path, command):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    shutil.copy(JFK, labelled / JFK.name)
    (labelled / "jfk.txt").write_text("And so my fellow Americans\n")
    done = run_without(tmp_path, ["jiwer"], ["callscope", *command, "--lab", str(tmp_path / "lab.db")])
    assert done.returncode == 2, done.stderr
    line = one_line_error(done.stderr)
    assert "jiwer" in line and "callscope[eval]" in line


@pytest.mark.parametrize(("missing", "command"), [
    (["sagemaker"], ["get-pipeline-definition"]),
    (["sagemaker"], ["run-pipeline", "--role-arn", "arn:aws:iam::000000000000:role/r", "--no-start"]),
    (["boto3", "botocore"], ["run-pipeline", "--role-arn", "arn:aws:iam::000000000000:role/r", "--no-start"]),
    (["sagemaker"], ["run-pipeline-locally"]),
    (["boto3", "botocore"], ["promote-models", "--model-package-group-name", "callscope", "--stage", "staging",
                             "--region", "eu-west-1"]),
])
def test_pipeline_scripts_without_the_pipelines_extra_are_one_line(tmp_path, missing, command):
    done = run_without(tmp_path, missing, command)
    assert done.returncode == 2, (done.stdout, done.stderr)
    line = one_line_error(done.stderr)
    assert any(name in line for name in missing) and "callscope[pipelines]" in line


@pytest.fixture
def dynamodb_endpoint(monkeypatch):
    """moto's DynamoDB on a free loopback port, with dummy credentials: nothing reaches AWS."""
    server_module = pytest.importorskip("moto.server")
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    fake_aws_environment(monkeypatch, "eu-west-1", no_config_files=True)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_a_huge_limit_reads_every_call_from_the_dynamodb_store(dynamodb_endpoint):
    """DynamoDB's Query takes a 32-bit Limit (moto does not check it): the store asks for its batch size at most."""
    from callscope.store.dynamodb import open_dynamodb_store
    from tests.test_store_dynamodb import Requests

    with open_dynamodb_store(f"dynamodb://huge-limit?endpoint_url={dynamodb_endpoint}&create=1") as store:
        for guid, day in (("old", 19), ("new", 20)):
            store.put(to_pca(_call(guid, datetime(2025, 2, day, 6, 0))), f"{guid}.json")
        requests = Requests(store.client)
        page = store.search(SearchQuery(limit=2 ** 63 - 1))
    assert [record.guid for record in page.records] == ["new", "old"] and page.continuation is None
    assert all(0 < query["Limit"] <= 2 ** 31 - 1 for query in requests.named("Query")) and requests.named("Query")


def test_a_pipeline_module_that_does_not_exist_is_one_line(tmp_path):
    done = subprocess.run([str(BIN / "get-pipeline-definition"), "--module-name", "no_such_pipeline_module"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and "no_such_pipeline_module" in one_line_error(done.stderr)


# --- item 7: the flags as README.md shows them ---------------------------------------------------

@pytest.mark.parametrize("flags", [["--insights"], ["--insights", "--quiet"], ["--insights", "embedded"]])
def test_insights_alone_means_the_default_backend(tmp_path, flags):
    """README.md: "Insights (`--insights`) ... `embedded` (the default)"."""
    shutil.copy(CHAT, tmp_path / CHAT.name)
    out = tmp_path / "out"
    outcome = CliRunner().invoke(main, ["analyze", str(tmp_path / CHAT.name), "--out", str(out), *flags])
    assert outcome.exit_code == 0, outcome.output
    insights = json.loads((out / f"{CHAT.stem}.json").read_text())["ConversationAnalytics"]["Insights"]
    assert insights and all(item["Backend"].startswith("embedded") for item in insights)


def test_insights_with_a_value_still_picks_the_backend(tmp_path):
    shutil.copy(CHAT, tmp_path / CHAT.name)
    outcome = CliRunner().invoke(main, ["analyze", str(tmp_path / CHAT.name), "--out", str(tmp_path / "out"),
                                        "--insights", "none"])
    assert outcome.exit_code == 0, outcome.output
    analytics = json.loads((tmp_path / "out" / f"{CHAT.stem}.json").read_text())["ConversationAnalytics"]
    assert not analytics.get("Insights")
    wrong = CliRunner().invoke(main, ["analyze", str(tmp_path / CHAT.name), "--insights", "gpt"])
    assert wrong.exit_code == 2 and "'gpt' is not one of" in wrong.output
