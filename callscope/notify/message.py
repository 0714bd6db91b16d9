"""The notice sent to every target: a subject, a plain-text body and the same facts as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callscope.reports.negative import NegativeCallsReport, format_time
from callscope.reports.publish import PublishedReport

DEFAULT_LISTED = 20  # calls listed in a notice; the report has them all


@dataclass(frozen=True)
class NoticeCall:
    guid: str
    time: datetime | None
    agent: str
    customer_sentiment: float | None
    agent_sentiment: float | None
    summary: str  # its first line
    link: str

    def as_json(self) -> dict[str, Any]:
        return {"guid": self.guid, "conversation_time": self.time.isoformat(sep=" ") if self.time else None,
                "agent": self.agent, "customer_sentiment": self.customer_sentiment,
                "agent_sentiment": self.agent_sentiment, "summary": self.summary, "link": self.link}


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str  # plain text: e-mail body, SNS message
    count: int
    threshold: float
    since: datetime | None
    until: datetime | None
    report_location: str  # local path or s3://bucket/key
    report_link: str  # local path or presigned URL
    report_expires_at: datetime | None
    calls: tuple[NoticeCall, ...]  # the first ones of the report (worst first)

    def as_json(self) -> dict[str, Any]:
        return {
            "event": "callscope.report.negative_calls",
            "subject": self.subject, "text": self.body,
            "count": self.count, "threshold": self.threshold,
            "window": {"since": _iso(self.since), "until": _iso(self.until)},
            "report": {"location": self.report_location, "link": self.report_link,
                       "expires_at": self.report_expires_at.isoformat() if self.report_expires_at else None},
            "calls_listed": len(self.calls),
            "calls": [call.as_json() for call in self.calls],
        }


def window_text(since: datetime | None, until: datetime | None) -> str:
    if since and until:
        return f"between {format_time(since)} and {format_time(until)}"
    if since:
        return f"since {format_time(since)}"
    if until:
        return f"before {format_time(until)}"
    return "at any time"


def build_notice(report: NegativeCallsReport, published: PublishedReport, listed: int = DEFAULT_LISTED) -> Notice:
    criteria = report.criteria
    count = report.count
    window = window_text(criteria.since, criteria.until)
    subject = (f"callscope: {count} negative call{'s' if count != 1 else ''} {window}" if count
               else f"callscope: no negative calls {window}")
    calls = tuple(NoticeCall(call.record.guid, call.record.conversation_time, call.record.agent,
                             call.record.customer_sentiment, call.record.agent_sentiment,
                             _first_line(call.record.summary), call.link) for call in report.calls[:max(listed, 0)])
    lines = [f"{count or 'No'} call{'s' if count != 1 else ''} with customer sentiment below {criteria.threshold:g} "
             f"{window}{_filters(criteria.agent, criteria.category)}.",
             f"Report: {published.link}"]
    if published.expires_at:
        lines.append(f"(the link works until {published.expires_at.strftime('%Y-%m-%d %H:%M')} UTC)")
    if calls:
        lines.append("")
    for call in calls:
        lines.append(f"{format_time(call.time) or '(no time)'}  {call.agent or '(no agent)'}  "
                     f"customer {_score(call.customer_sentiment)}  {call.summary or '(no summary)'}")
        lines.append(f"    {call.link}")
    if count > len(calls):
        lines += ["", f"... and {count - len(calls)} more in the report."]
    return Notice(subject, "\n".join(lines) + "\n", count, criteria.threshold, criteria.since, criteria.until,
                  published.location, published.link, published.expires_at, calls)


def _filters(agent: str, category: str) -> str:
    parts = ([f"agent {agent}"] if agent else []) + ([f"category {category}"] if category else [])
    return f" ({', '.join(parts)})" if parts else ""


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else None
