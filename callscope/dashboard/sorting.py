"""The call list's column sorts. Newest first is the store's own order (keyset pages); any other sort
reads every matching call's figures (Store.figures) and orders them here, so every store sorts the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callscope.store.base import CallFigures

NEWEST = "-time"


@dataclass(frozen=True)
class Column:
    """A sortable column: its key, and the direction its first click sorts in."""

    key: Callable[[CallFigures], Any]
    first: str  # "" ascending, "-" descending


COLUMNS: dict[str, Column] = {
    "time": Column(lambda record: record.conversation_time, "-"),
    "agent": Column(lambda record: record.agent.casefold(), ""),
    "customer": Column(lambda record: record.customer.casefold(), ""),
    "language": Column(lambda record: record.language.casefold(), ""),
    "duration": Column(lambda record: record.duration, "-"),
    # worst first is one click: the first click on a sentiment sorts ascending
    "customer_sentiment": Column(lambda record: record.customer_sentiment, ""),
    "change": Column(lambda record: record.customer_sentiment_change, ""),
}


class SortError(ValueError):
    pass


def parse_sort(value: str) -> tuple[str, bool]:
    """(column, descending) of "column" or "-column"; SortError naming the columns otherwise."""
    name = value.removeprefix("-")
    if name not in COLUMNS:
        raise SortError(f"sort '{value}' is not one of {', '.join(COLUMNS)} (a leading - sorts descending)")
    return name, value.startswith("-")


def sorted_records(records: list[CallFigures], sort: str) -> list[CallFigures]:
    """Records in the sort's order; calls without the value last whichever the direction, ties newest first."""
    name, descending = parse_sort(sort)
    key = COLUMNS[name].key
    ordered = sorted(records, key=lambda record: (record.conversation_time or datetime.min, record.guid), reverse=True)
    present = [record for record in ordered if key(record) is not None]
    missing = [record for record in ordered if key(record) is None]
    return sorted(present, key=key, reverse=descending) + missing


def link_sort(current: str, name: str) -> str:
    """The sort a column header's link asks for: its first direction, or the other one when it is the current sort."""
    column, descending = parse_sort(current)
    if column == name:
        return name if descending else "-" + name
    return COLUMNS[name].first + name
