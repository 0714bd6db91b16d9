"""Insights: a summary, the call driver, sentiment with confidence, action items, resolution,
call-back, compliance checks — from an LLM or, by default, from rules that need no model.

An insight set is data: named prompts, each with the JSON Schema of its answer (prompts.py loads
them from YAML). A backend answers a prompt about a transcript with JSON text (`LLMBackend`); the
runner validates it against the schema, retries once with the validation error, and records a
failure as an `Insight` with an `error` rather than raising, so one bad answer never costs the
call's other results. The embedded default (`embedded.py`) answers the same prompts from the
enrichment the call already has (categories, issues, sentiment, phrases) without any model.
"""

from __future__ import annotations

from typing import Protocol


class LLMBackend(Protocol):
    """A chat model that answers with JSON. Backends use what they have to force it (Bedrock tool
    use, OpenAI-style response_format, a llama.cpp grammar)."""

    name: str  # recorded in Insight.backend: "bedrock:<model id>", "openai:<model>", "llamacpp:<file>"
    context_tokens: int  # how much transcript fits; longer calls are summarised in stages

    def complete_json(self, system: str, prompt: str, schema: dict) -> str:
        """The model's answer to `prompt`: JSON text meant to match `schema` (the runner checks it).

        Raises InsightBackendError (one line) when the backend cannot be reached or refuses.
        """
        ...
