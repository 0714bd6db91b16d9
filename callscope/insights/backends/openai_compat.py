"""Any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio, ...).

POST {base_url}/chat/completions with the answer's JSON Schema as
`response_format: {"type": "json_schema", "json_schema": {"name": "answer", "schema": ..., "strict": true}}`.
Servers differ in what they accept there: OpenAI answers 400 for a schema outside its strict subset
(every property required, additionalProperties false), older servers know only
`{"type": "json_object"}` (400 or 422; llama-cpp-python's own server 500). On such an answer, or any
error that names response_format, the backend therefore retries with json_object and the schema
in the system prompt; when that succeeds it keeps to json_object for the instance's later prompts
(`schema_fallback=False` turns this off; when both fail, the first error is reported).

stdlib urllib only: no HTTP client dependency for one POST. The API key is read from an environment
variable (OPENAI_API_KEY unless named otherwise), never from a flag, and sent as a Bearer token;
local servers need none. 429 and 5xx answers and timeouts are retried with exponential backoff
(Retry-After honoured), at most `retries` times; other failures raise at once.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from callscope.errors import InsightBackendError, first_line
from callscope.insights.backends._json import schema_instruction, strip_fences

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_WAIT_S = 30.0  # cap on one wait, whatever Retry-After says


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes
    retry_after: float | None = None


class OpenAICompatBackend:
    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY", timeout: float = 120.0,
                 retries: int = 3, backoff: float = 1.0, max_tokens: int = 2048, temperature: float = 0.0,
                 context_tokens: int = 8192, schema_fallback: bool = True) -> None:
        if not base_url:
            raise InsightBackendError("openai: an endpoint URL is needed (--llm-url), e.g. http://localhost:11434/v1")
        if not model:
            raise InsightBackendError("openai: a model name is needed (--llm-model)")
        if not base_url.startswith(("http://", "https://")):
            raise InsightBackendError(f"openai: the endpoint URL must start with http:// or https://: {base_url}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.name = f"openai:{model}"
        self.context_tokens = context_tokens
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.schema_fallback = schema_fallback
        self._json_schema_mode = True  # False once the server has refused json_schema
        self._lock = threading.Lock()

    def body(self, system: str, prompt: str, schema: dict, json_schema: bool = True) -> dict:
        """The request body; with json_schema=False the fallback: json_object, schema in the prompt."""
        if json_schema:
            response_format = {"type": "json_schema",
                               "json_schema": {"name": "answer", "schema": schema, "strict": True}}
        else:
            system = f"{system}\n\n{schema_instruction(schema)}"
            response_format = {"type": "json_object"}
        return {"model": self.model,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
                "temperature": self.temperature, "max_tokens": self.max_tokens, "response_format": response_format}

    def complete_json(self, system: str, prompt: str, schema: dict) -> str:
        json_schema = self._json_schema_mode
        reply = self._post(self.body(system, prompt, schema, json_schema))
        if json_schema and self.schema_fallback and _refuses_json_schema(reply):
            fallback = self._post(self.body(system, prompt, schema, json_schema=False))
            if fallback.status == 200:  # json_schema was the problem: skip it from now on
                with self._lock:
                    self._json_schema_mode = False
                reply = fallback
        if reply.status != 200:
            raise InsightBackendError(f"{self.name}: HTTP {reply.status} from {self.url}: {_error_detail(reply.body)}")
        return self._content(reply.body)

    def _content(self, body: bytes) -> str:
        try:
            message = json.loads(body)["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise InsightBackendError(f"{self.name}: not a chat completion from {self.url}: {body[:120]!r}") from None
        if message.get("refusal"):
            raise InsightBackendError(f"{self.name}: the model refused: {first_line(Exception(message['refusal']))}")
        content = message.get("content") or ""
        if not content.strip():
            raise InsightBackendError(f"{self.name}: empty answer from {self.url}")
        return strip_fences(content)

    def _post(self, body: dict) -> HttpReply:
        """One POST, retried on 429/5xx/timeouts; a reply with any other status is returned."""
        for attempt in range(self.retries + 1):
            reply = None
            try:
                reply = self._post_once(body)
                if reply.status not in RETRY_STATUS or _names_response_format(reply.body):
                    return reply
                problem = f"HTTP {reply.status}: {_error_detail(reply.body)}"
            except (TimeoutError, socket.timeout):
                problem = f"no answer within {self.timeout:g} s"
            except urllib.error.URLError as error:
                reason = error.reason
                if not isinstance(reason, (TimeoutError, socket.timeout)):  # refused, unknown host: fail fast
                    detail = first_line(Exception(reason))
                    raise InsightBackendError(f"{self.name}: cannot reach {self.url}: {detail}") from None
                problem = f"no answer within {self.timeout:g} s"
            except OSError as error:  # connection reset mid-answer
                problem = first_line(error)
            if attempt < self.retries:
                wait = self.backoff * 2 ** attempt
                if reply is not None and reply.retry_after is not None:
                    wait = max(wait, reply.retry_after)
                time.sleep(min(wait, MAX_WAIT_S))
        raise InsightBackendError(f"{self.name}: {self.url} failed after {self.retries + 1} attempts: {problem}")

    def _post_once(self, body: dict) -> HttpReply:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env, "").strip()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return HttpReply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return HttpReply(error.code, error.read(), _retry_after(error.headers.get("Retry-After")))


def _names_response_format(body: bytes) -> bool:
    """An error about the request's response_format: not transient whatever its status (llama-cpp-python's
    server answers 500 for its own validation errors)."""
    return b"response_format" in body or b"json_schema" in body


def _refuses_json_schema(reply: HttpReply) -> bool:
    """Worth retrying with json_object: a validation error (400, 422), or any error naming response_format."""
    return reply.status in (400, 422) or (reply.status != 200 and _names_response_format(reply.body))


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: rare from these servers, use our own backoff
        return None


def _error_detail(body: bytes) -> str:
    """The server's error message ({"error": {"message": ...}} in OpenAI's shape), on one line: lines
    joined, not cut at the first (validation errors put the cause on the second)."""
    try:
        error = json.loads(body).get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    text = " ".join((str(message) if message else body.decode("utf-8", "replace")).split())
    return (text[:300] + "...") if len(text) > 300 else text or "(empty body)"
