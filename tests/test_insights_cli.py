"""`callscope analyze --insights openai` end to end: the sample chat, every shipped prompt asked of an
OpenAI-compatible endpoint (a real HTTP server on loopback), the answers in the PCA JSON."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from callscope.cli import main
from tests.conftest import DATA

CHAT = DATA / "guidance_conversation_analysis" / "customer_chat_sample.txt"


def _answer_for(schema: dict) -> object:
    """The smallest answer that satisfies a JSON schema: what a well-behaved model returns."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        return {name: _answer_for(schema["properties"][name]) for name in schema.get("required", [])}
    if kind == "array":
        return [_answer_for(schema["items"])] if schema.get("minItems") else []
    if kind == "boolean":
        return True
    if kind in ("number", "integer"):
        return schema.get("minimum", 0)
    return "the customer's return label never arrived"


class _Endpoint(BaseHTTPRequestHandler):
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        schema = body["response_format"]["json_schema"]["schema"]
        reply = {"id": "x", "object": "chat.completion", "model": body["model"], "choices": [
            {"index": 0, "finish_reason": "stop",
             "message": {"role": "assistant", "content": json.dumps(_answer_for(schema))}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def endpoint():
    _Endpoint.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Endpoint.requests
    server.shutdown()


def test_the_sample_chat_gets_llm_insights_from_an_openai_compatible_endpoint(tmp_path, endpoint):
    url, requests = endpoint
    shutil.copy(CHAT, tmp_path / CHAT.name)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", str(tmp_path / CHAT.name), "--out", str(out), "--quiet",
                                       "--insights", "openai", "--llm-url", url, "--llm-model", "test-model"])
    assert result.exit_code == 0, result.output
    analytics = json.loads((out / f"{CHAT.stem}.json").read_text())["ConversationAnalytics"]
    insights = analytics["Insights"]
    assert insights and all(item["Backend"] == "openai:test-model" and not item["Error"] for item in insights)
    # One request per prompt, each to the chat-completions route, with the chat's own words in it.
    assert len(requests) == len(insights)
    assert {request["path"] for request in requests} == {"/v1/chat/completions"}
    for request in requests:
        assert "arrived damaged" in " ".join(message["content"] for message in request["body"]["messages"])
    assert analytics["Summary"], "the answers should fill the Summary panel"
