"""Reading a PCA document defensively: a field of the wrong type reads as absent, never as an error
(the document may come from another tool or be edited by hand)."""

from __future__ import annotations

import math
from typing import Any


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, (int, float)) and value != 0) or value in ("1", "true", "True")


def as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
