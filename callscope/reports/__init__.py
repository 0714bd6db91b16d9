"""Scheduled reports over the store: `callscope report negative` (see docs/REPORTS.md)."""

from callscope.reports.negative import (
    CSV_COLUMNS,
    NegativeCall,
    NegativeCallsCriteria,
    NegativeCallsReport,
    call_link,
    find_negative_calls,
    report_csv,
)
from callscope.reports.publish import PublishedReport, PublishError, parse_expires, publish

__all__ = ["CSV_COLUMNS", "NegativeCall", "NegativeCallsCriteria", "NegativeCallsReport", "PublishError",
           "PublishedReport", "call_link", "find_negative_calls", "parse_expires", "publish", "report_csv"]
