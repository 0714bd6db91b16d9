"""Amazon Bedrock through the Converse API: one request shape for every model id.

Structured output is forced with tool use: one tool, "answer", whose input schema is the answer's
JSON Schema, and `toolChoice` naming it; the tool call's input is the answer. Converse rejects a
specific toolChoice for models without it ("This model doesn't support the toolConfig.toolChoice.tool
field") and tool use altogether for some (Titan text, older Llama); the backend then steps down once
per model, remembered for later prompts: tool offered without toolChoice, then no tools with the
schema in the system prompt. A model that answers in text instead of calling the tool gets that
text back (without a Markdown fence); the runner validates it either way.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from callscope.errors import InsightBackendError, first_line
from callscope.insights.backends._json import schema_instruction, strip_fences

TOOL_NAME = "answer"
# How the schema is forced, strongest first; the backend moves down this list on ValidationException.
MODES = ("tool", "auto", "prompt")


class BedrockBackend:
    def __init__(self, model_id: str, client: Any = None, region: str | None = None, max_tokens: int = 2048,
                 temperature: float = 0.0, context_tokens: int = 32_000, timeout: float = 120.0) -> None:
        if not model_id:
            raise InsightBackendError("bedrock: a model id is needed (--llm-model)")
        self.model_id = model_id
        self.name = f"bedrock:{model_id}"
        self.context_tokens = context_tokens
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._client = client
        self._region = region
        self._timeout = timeout
        self._mode = MODES[0]
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
                from botocore.config import Config
                from botocore.exceptions import BotoCoreError
            except ImportError:
                raise InsightBackendError("bedrock: boto3 is not installed: pip install 'callscope[aws]'") from None
            # Adaptive retries: Bedrock throttles per account and model, and a batch asks many prompts.
            config = Config(retries={"mode": "adaptive", "max_attempts": 6}, read_timeout=self._timeout)
            try:
                self._client = boto3.client("bedrock-runtime", region_name=self._region, config=config)
            except BotoCoreError as error:  # NoRegionError, unknown profile, ...
                raise InsightBackendError(f"{self.name}: {_botocore_message(error)}") from None
        return self._client

    def request(self, system: str, prompt: str, schema: dict, mode: str = "tool") -> dict:
        """The Converse request for one prompt, in the given mode (see MODES)."""
        request: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": [{"role": "user", "content": [{"text": prompt}]}],
            "system": [{"text": system if mode != "prompt" else f"{system}\n\n{schema_instruction(schema)}"}],
            "inferenceConfig": {"maxTokens": self.max_tokens, "temperature": self.temperature},
        }
        if mode != "prompt":
            tool = {"toolSpec": {"name": TOOL_NAME, "description": "Give the answer in this structure.",
                                 "inputSchema": {"json": schema}}}
            request["toolConfig"] = {"tools": [tool]}
            if mode == "tool":
                request["toolConfig"]["toolChoice"] = {"tool": {"name": TOOL_NAME}}
        return request

    def complete_json(self, system: str, prompt: str, schema: dict) -> str:
        client = self.client  # first: it says how to install boto3 where it is missing
        from botocore.exceptions import BotoCoreError, ClientError

        while True:
            mode = self._mode
            try:
                response = client.converse(**self.request(system, prompt, schema, mode))
            except ClientError as error:
                if _steps_down(error, mode):
                    with self._lock:  # concurrent prompts: step down once, not past the next mode
                        if self._mode == mode:
                            self._mode = MODES[MODES.index(mode) + 1]
                    continue
                raise InsightBackendError(f"{self.name}: {_client_error_message(error, self.model_id)}") from None
            except BotoCoreError as error:
                raise InsightBackendError(f"{self.name}: {_botocore_message(error)}") from None
            return answer_text(response, self.name)


def answer_text(response: dict, name: str) -> str:
    """The tool call's input as JSON text, else the text blocks joined (a model that ignored the tool)."""
    content = response.get("output", {}).get("message", {}).get("content", [])
    for block in content:
        tool_use = block.get("toolUse")
        if tool_use and tool_use.get("name") == TOOL_NAME:
            return json.dumps(tool_use.get("input"), ensure_ascii=False)
    text = "".join(block["text"] for block in content if "text" in block).strip()
    if not text:
        raise InsightBackendError(f"{name}: no answer in the response (stopReason {response.get('stopReason')})")
    return strip_fences(text)


def _steps_down(error: Any, mode: str) -> bool:
    """A ValidationException saying this model lacks toolChoice (or tool use), in a mode below which
    there is one to try."""
    if error.response.get("Error", {}).get("Code") != "ValidationException" or mode == MODES[-1]:
        return False
    message = error.response["Error"].get("Message", "").lower()
    if mode == "tool":
        return "toolchoice" in message or "tool use" in message or "tool_use" in message
    return "tool use" in message or "tool_use" in message or "toolconfig" in message


def _client_error_message(error: Any, model_id: str) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = first_line(error.response.get("Error", {}).get("Message", "") or error)
    if code == "AccessDeniedException":
        return (f"access denied ({message}): enable access to {model_id} in the Bedrock console and allow "
                "bedrock:InvokeModel for it")
    if code == "ResourceNotFoundException" or "model identifier is invalid" in message.lower():
        return f"model not found: {model_id} ({message}); check the id and the region"
    if code == "ThrottlingException":
        return f"throttled after retries ({message}): lower the concurrency or raise the quota"
    if code == "ValidationException":
        return f"request rejected ({message})"
    return f"{code or 'error'}: {message}"


def _botocore_message(error: Exception) -> str:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use a role"
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --llm-region or set AWS_DEFAULT_REGION"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach Bedrock ({first_line(error)}): check the region and the network"
    return first_line(error)
