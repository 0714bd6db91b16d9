"""The overview page's figures: the state of every call that matches the filters, at a glance.

Computed here from every matching call's figures (Store.figures), so every store gives the same figures: calls
and average sentiment per day, category frequencies, call lengths, how call time was spent, and one row
per agent. An average is over the calls that have the value (SQL's AVG); talk figures come from calls
loaded by a callscope that keeps them (CallRecord.talk).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from callscope.reports.negative import DEFAULT_THRESHOLD
from callscope.store.base import CallFigures

# A call is negative when its customer sentiment is below the negative-calls report's default threshold.
NEGATIVE_BELOW = DEFAULT_THRESHOLD
# A span of calls up to this many days is shown a day each, up to MOST_WEEKS a week each, longer a month each.
MOST_DAYS = 92
MOST_WEEKS = 53


@dataclass(frozen=True)
class Period:
    """One bar of the calls-over-time chart: a day, a week from Monday, or a calendar month."""

    start: date
    kind: str  # "day", "week" or "month"
    calls: int
    customer_sentiment: float | None  # average over its calls with a score
    agent_sentiment: float | None

    @property
    def end(self) -> date:
        return _next_start(self.start, self.kind)


@dataclass(frozen=True)
class AgentFigures:
    agent: str  # "" for calls whose file name named no agent
    calls: int
    customer_sentiment: float | None
    agent_sentiment: float | None
    interruptions: int | None  # by the agent, over the calls with talk figures (None: none has them)
    negative_calls: int


@dataclass(frozen=True)
class TimeShares:
    """Shares of all call time (two people talking at once count for both, so they may pass 100%)."""

    agent: float
    customer: float
    non_talk: float
    calls: int  # the calls they come from (those with talk figures)


@dataclass(frozen=True)
class Overview:
    calls: int
    undated: int  # calls without a conversation time: in every figure except the per-day ones
    negative_calls: int
    customer_sentiment: float | None
    agent_sentiment: float | None
    periods: list[Period]  # oldest first, without gaps
    categories: list[tuple[str, int]]  # most frequent first
    durations: list[float]  # seconds, one per call
    time_shares: TimeShares | None
    interruptions: int | None  # over the calls with talk figures
    agents: list[AgentFigures]  # most calls first

    @property
    def period_name(self) -> str:
        return self.periods[0].kind if self.periods else "day"


def overview_of(records: list[CallFigures]) -> Overview:
    talked = [record.talk for record in records if record.talk]
    return Overview(
        calls=len(records),
        undated=sum(1 for record in records if record.conversation_time is None),
        negative_calls=sum(1 for record in records if _negative(record)),
        customer_sentiment=_mean(record.customer_sentiment for record in records),
        agent_sentiment=_mean(record.agent_sentiment for record in records),
        periods=_periods(records),
        categories=sorted(Counter(name for record in records for name in record.categories).items(),
                          key=lambda item: (-item[1], item[0].casefold())),
        durations=[record.duration for record in records],
        time_shares=_time_shares(records),
        interruptions=sum(talk.interruptions for talk in talked) if talked else None,
        agents=_agents(records),
    )


def _negative(record: CallFigures) -> bool:
    return record.customer_sentiment is not None and record.customer_sentiment < NEGATIVE_BELOW


def _mean(values) -> float | None:
    present = [value for value in values if value is not None]
    return fmean(present) if present else None


def _periods(records: list[CallFigures]) -> list[Period]:
    days = sorted({record.conversation_time.date() for record in records if record.conversation_time})
    if not days:
        return []
    span = (days[-1] - days[0]).days
    kind = "day" if span < MOST_DAYS else "week" if span < MOST_WEEKS * 7 else "month"
    grouped: dict[date, list[CallFigures]] = {}
    for record in records:
        if record.conversation_time:
            grouped.setdefault(_start_of(record.conversation_time.date(), kind), []).append(record)
    periods, start = [], _start_of(days[0], kind)
    while start <= days[-1]:
        calls = grouped.get(start, [])
        periods.append(Period(start, kind, len(calls), _mean(call.customer_sentiment for call in calls),
                              _mean(call.agent_sentiment for call in calls)))
        start = _next_start(start, kind)
    return periods


def _start_of(day: date, kind: str) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if kind == "month" else day


def _next_start(start: date, kind: str) -> date:
    if kind == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=7 if kind == "week" else 1)


def _time_shares(records: list[CallFigures]) -> TimeShares | None:
    talked = [record for record in records if record.talk and record.duration > 0]
    total = sum(record.duration for record in talked)
    if not total:
        return None
    return TimeShares(
        agent=sum(record.talk.agent_seconds for record in talked) / total,
        customer=sum(record.talk.customer_seconds for record in talked) / total,
        non_talk=sum(record.talk.non_talk_seconds for record in talked) / total,
        calls=len(talked),
    )


def _agents(records: list[CallFigures]) -> list[AgentFigures]:
    by_agent: dict[str, list[CallFigures]] = {}
    for record in records:
        by_agent.setdefault(record.agent, []).append(record)
    rows = []
    for agent, calls in by_agent.items():
        talked = [call.talk for call in calls if call.talk]
        rows.append(AgentFigures(
            agent=agent, calls=len(calls),
            customer_sentiment=_mean(call.customer_sentiment for call in calls),
            agent_sentiment=_mean(call.agent_sentiment for call in calls),
            interruptions=sum(talk.agent_interruptions for talk in talked) if talked else None,
            negative_calls=sum(1 for call in calls if _negative(call)),
        ))
    return sorted(rows, key=lambda row: (-row.calls, row.agent.casefold()))
