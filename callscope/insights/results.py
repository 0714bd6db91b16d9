"""Insight values as the text the Summary panel shows."""

from __future__ import annotations

from typing import Any

SUMMARY_NAME = "summary"  # the insight whose text becomes ContactSummary's OverallSummary


def display_text(value: Any) -> str:
    """A readable rendering of an answer: "Positive (0.82)", "Passed", "Failed: <evidence>",
    "Yes: <evidence>", a bullet list of action items, the text of a one-field answer; any other
    object as "Key: value; ..."."""
    if isinstance(value, dict):
        return _object_text(value)
    if isinstance(value, list):
        return "\n".join(f"- {display_text(item)}" for item in value) if value else "None"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def _object_text(value: dict[str, Any]) -> str:
    if "sentiment" in value and isinstance(value.get("confidence"), (int, float)):
        return f"{value['sentiment']} ({float(value['confidence']):.2f})"
    if isinstance(value.get("passed"), bool):
        evidence = str(value.get("evidence", "")).strip()
        return "Passed" if value["passed"] else f"Failed: {evidence}" if evidence else "Failed"
    if set(value) == {"owner", "text"}:
        return f"{str(value['owner']).capitalize()}: {value['text']}"
    flags = [key for key, item in value.items() if isinstance(item, bool)]
    others = [key for key in value if key not in flags and key != "evidence"]
    if len(flags) == 1 and not others:  # {"resolved": true, "evidence": "..."}
        evidence = str(value.get("evidence", "")).strip()
        answer = "Yes" if value[flags[0]] else "No"
        return f"{answer}: {evidence}" if evidence else answer
    if len(others) == 1:  # {"summary": ...}, {"category": ..., "evidence": ...}, {"items": [...]}
        return display_text(value[others[0]])
    return "; ".join(f"{key.replace('_', ' ').capitalize()}: {display_text(item)}" for key, item in value.items())
