"""Small helpers shared by the backends: JSON text out of a model's free-text answer, the schema
instruction for backends that cannot force it."""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def strip_fences(text: str) -> str:
    """The answer without a Markdown code fence around it: models that ignore JSON mode often
    answer "```json ... ```"; anything else is left for the runner's validation to judge."""
    text = text.strip()
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


def schema_instruction(schema: dict) -> str:
    """Appended to the system prompt where the backend could not pass the schema itself."""
    return ("Answer with one JSON object, and nothing else, that matches this JSON Schema:\n"
            + json.dumps(schema, ensure_ascii=False))
