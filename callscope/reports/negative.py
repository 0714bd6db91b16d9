"""The negative-calls report: stored calls whose customer sentiment fell below a threshold, as CSV.

Every matching call is read, page after page, until the store says no page follows (a report that
stopped at the first page would silently drop calls on a busy day). Rows are worst first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from callscope.store.base import CallRecord, SearchQuery, Store
from callscope.store.walk import PAGE_SIZE, every_record

DEFAULT_THRESHOLD = -1.0

CSV_COLUMNS = ("guid", "conversation_time", "agent", "customer", "duration", "language", "customer_sentiment",
               "agent_sentiment", "customer_sentiment_change", "categories", "summary", "action_items", "link")
_TEXT_COLUMNS = frozenset({"guid", "agent", "customer", "language", "categories", "summary", "action_items"})
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): transcripts and
# file names are not trusted, so such text cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class NegativeCallsCriteria:
    """Which calls the report lists: customer sentiment strictly below threshold, in [since, until)."""

    threshold: float = DEFAULT_THRESHOLD
    since: datetime | None = None
    until: datetime | None = None
    agent: str = ""
    category: str = ""


@dataclass(frozen=True)
class NegativeCall:
    """One row of the report: the stored call and where a person opens it."""

    record: CallRecord
    link: str


@dataclass(frozen=True)
class NegativeCallsReport:
    criteria: NegativeCallsCriteria
    calls: list[NegativeCall]  # worst customer sentiment first, then newest first
    pages: int  # store pages read

    @property
    def count(self) -> int:
        return len(self.calls)


def call_link(record: CallRecord, link_base: str | None) -> str:
    """`<link_base>/calls/<guid>` (the dashboard's call page), else the path of the call's PCA JSON."""
    if link_base:
        return f"{link_base.rstrip('/')}/calls/{quote(record.guid, safe='')}"
    return record.path


def find_negative_calls(store: Store, criteria: NegativeCallsCriteria, link_base: str | None = None,
                        page_size: int = PAGE_SIZE) -> NegativeCallsReport:
    """Every stored call matching criteria (callscope.store.walk), worst first."""
    query = SearchQuery(since=criteria.since, until=criteria.until, agent=criteria.agent, category=criteria.category,
                        customer_sentiment_below=criteria.threshold)
    walk = every_record(store, query, page_size)
    records = list(walk.records)
    # Stable sorts: worst score first, then newest, then by GUID.
    records.sort(key=lambda record: record.guid)
    records.sort(key=lambda record: record.conversation_time or datetime.min, reverse=True)
    records.sort(key=lambda record: record.customer_sentiment if record.customer_sentiment is not None else 0.0)
    return NegativeCallsReport(criteria, [NegativeCall(record, call_link(record, link_base)) for record in records],
                               walk.pages)


def csv_row(call: NegativeCall) -> dict[str, str]:
    record = call.record
    row = {
        "guid": record.guid,
        "conversation_time": format_time(record.conversation_time, seconds=True),
        "agent": record.agent,
        "customer": record.customer,
        "duration": _number(record.duration),
        "language": record.language,
        "customer_sentiment": _number(record.customer_sentiment),
        "agent_sentiment": _number(record.agent_sentiment),
        "customer_sentiment_change": _number(record.customer_sentiment_change),
        "categories": "; ".join(record.categories),
        "summary": record.summary,
        "action_items": " | ".join(record.action_items),
        "link": call.link,
    }
    return {key: _cell(value) if key in _TEXT_COLUMNS else value for key, value in row.items()}


def report_csv(report: NegativeCallsReport) -> bytes:
    """The report as UTF-8 CSV (RFC 4180: comma, double quotes, CRLF), header first even with no rows."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for call in report.calls:
        writer.writerow(csv_row(call))
    return buffer.getvalue().encode("utf-8")


def format_time(moment: datetime | None, seconds: bool = False) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{round(float(value), 2) + 0.0:.2f}".rstrip("0").rstrip(".")  # 100, 1.7, -3.25 (never -0)
    return "0" if text == "-0" else text


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text
