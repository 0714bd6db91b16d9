"""Click parameter parsers shared by the commands."""

from __future__ import annotations

import click


def parse_duration(_ctx, _param, value: str) -> float:
    """Seconds, or H:MM:SS."""
    try:
        parts = [float(part) for part in value.split(":")]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not seconds or H:MM:SS") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds
