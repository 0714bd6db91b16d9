"""Moments as users write them in filters: "24h", "30m", "7d", "2w" back from now, or an ISO date and time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone


def parse_moment(value: str | None, before: datetime | None = None) -> datetime | None:
    """A duration back from `before` (default: now), or an ISO date and time (naive; UTC if it has a
    zone). ValueError (one line) for anything else."""
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", value)
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
        try:
            return (before or datetime.now()) - timedelta(**{unit: float(match[1])})
        except OverflowError:  # more than a timedelta holds, or a moment before year 1
            raise ValueError(f"'{value}' reaches back before the year 1") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a duration (24h, 7d) or an ISO date and time") from None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
