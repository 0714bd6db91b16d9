"""Reading a model's answer: the first JSON object in its text, checked against the prompt's schema.

Models wrap JSON in code fences or put a sentence before it even when asked not to; the first
complete JSON object in the text is taken. Problems come back as one line, which the runner sends
back to the model in its one retry.
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
MAX_PROBLEMS = 3  # told to the model in the retry
MAX_PROBLEM_CHARS = 400


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text` (fences, prose around it ignored), or None."""
    start = text.find("{")
    while start != -1:
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def read_answer(text: str, schema: dict[str, Any]) -> tuple[Any, str]:
    """(value, "") for an answer that holds a JSON object matching `schema`; (None, problem) otherwise."""
    value = first_json_object(text)
    if value is None:
        snippet = " ".join(text.split())[:120]
        return None, f"no JSON object in the answer ({snippet!r})" if snippet else "the answer was empty"
    problem = schema_problem(value, schema)
    return (None, problem) if problem else (value, "")


def schema_problem(value: Any, schema: dict[str, Any]) -> str:
    """The first way `value` breaks `schema`, as one line ("" when it matches)."""
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda error: list(error.absolute_path))
    if not errors:
        return ""
    problems = [f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
                for error in errors[:MAX_PROBLEMS]]
    more = f" (and {len(errors) - MAX_PROBLEMS} more)" if len(errors) > MAX_PROBLEMS else ""
    return " ".join(("; ".join(problems) + more).split())[:MAX_PROBLEM_CHARS]
