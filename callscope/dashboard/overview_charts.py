"""The overview's charts as geometry (numbers, text and links); templates/_overview_charts.html draws
them as inline SVG, server-side, so the page needs no script and no CDN."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from callscope.dashboard.overview import Overview, Period
from callscope.time_axis import NICE_STEPS, clock

Link = Callable[..., str]  # filters to add (name=value) → the call list's URL with them
_COUNT_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
_MOST_LABELS = 12  # x labels under the per-day bars, at most
_MOST_CATEGORIES = 12
_MOST_BINS = 8
_WIDEST_BAR = 56.0  # px


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    href: str = ""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    css: str = "tick"
    anchor: str = "middle"


@dataclass
class Drawing:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    label: str  # what the chart shows, for screen readers
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y of horizontal grid lines
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css, "x,y x,y ...")
    dots: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, css, title


def calls_per_period(overview: Overview, link: Link) -> Drawing:
    """One bar per day (or week), linked to the list of that day's calls."""
    drawing = Drawing(560, 210, left=36, right=552, top=10, bottom=182,
                      label=f"Calls per {overview.period_name}")
    peak = max((period.calls for period in overview.periods), default=0)
    top = _count_axis(drawing, peak)
    slot = (drawing.right - drawing.left) / max(len(overview.periods), 1)
    every = math.ceil(len(overview.periods) / _MOST_LABELS)
    for index, period in enumerate(overview.periods):
        x = drawing.left + index * slot
        height = (drawing.bottom - drawing.top) * period.calls / top if top else 0.0
        name = _period_name(period)
        width = min(max(slot * 0.7, 1.0), _WIDEST_BAR)  # a few days do not make slabs
        drawing.bars.append(Bar(
            round(x + (slot - width) / 2, 2), round(drawing.bottom - height, 2), round(width, 2),
            round(height, 2), "calls", f"{name}: {_calls(period.calls)}",
            link(since=period.start.isoformat(), until=period.end.isoformat()) if period.calls else ""))
        if index % every == 0:
            drawing.labels.append(Label(round(x + slot / 2, 2), drawing.bottom + 16, _label(period)))
    return drawing


def sentiment_per_period(overview: Overview) -> Drawing:
    """Average customer and agent sentiment per day, on the -5..5 scale; a day without calls breaks the line."""
    drawing = Drawing(560, 210, left=36, right=552, top=10, bottom=182,
                      label=f"Average customer and agent sentiment per {overview.period_name}")

    def y(value: float) -> float:
        return round(drawing.top + (5.0 - value) / 10.0 * (drawing.bottom - drawing.top), 2)

    for value in (5, 2.5, 0, -2.5, -5):
        drawing.grid.append(y(value))
        drawing.labels.append(Label(drawing.left - 6, y(value) + 3, f"{value:+g}" if value else "0", anchor="end"))
    slot = (drawing.right - drawing.left) / max(len(overview.periods), 1)
    every = math.ceil(len(overview.periods) / _MOST_LABELS)
    for role in ("customer", "agent"):
        run: list[str] = []
        for index, period in enumerate(overview.periods):
            value = getattr(period, f"{role}_sentiment")
            if value is None:
                drawing.lines += [(role, " ".join(run))] if len(run) > 1 else []
                run = []
                continue
            x = round(drawing.left + (index + 0.5) * slot, 2)
            run.append(f"{x},{y(value)}")
            drawing.dots.append((x, y(value), role, f"{_period_name(period)}: {role} {value:+.2f}"))
        drawing.lines += [(role, " ".join(run))] if len(run) > 1 else []
    for index, period in enumerate(overview.periods):
        if index % every == 0:
            drawing.labels.append(Label(round(drawing.left + (index + 0.5) * slot, 2), drawing.bottom + 16,
                                        _label(period)))
    return drawing


def category_frequencies(overview: Overview, link: Link) -> Drawing:
    """The most frequent categories as horizontal bars, each linked to its calls."""
    shown = overview.categories[:_MOST_CATEGORIES]
    peak = max((count for _, count in shown), default=0)
    return _named_bars("Calls per category", left=190, right=510, rows=[
        (_shortened(name, 24), count / peak, "category", str(count), f"{name}: {_calls(count)}", link(category=name))
        for name, count in shown])


def call_lengths(overview: Overview) -> Drawing:
    """How many calls lasted how long: a histogram with round bin widths."""
    drawing = Drawing(560, 210, left=36, right=552, top=10, bottom=182, label="Distribution of call lengths")
    longest = max(overview.durations, default=0.0)
    width = next((step for step in NICE_STEPS if longest / step < _MOST_BINS), NICE_STEPS[-1])
    bins = [0] * (int(longest // width) + 1)
    for seconds in overview.durations:
        bins[min(int(seconds // width), len(bins) - 1)] += 1
    while len(bins) > 1 and bins[-1] == 0:
        bins.pop()
    top = _count_axis(drawing, max(bins))
    slot = (drawing.right - drawing.left) / len(bins)
    for index, count in enumerate(bins):
        height = (drawing.bottom - drawing.top) * count / top if top else 0.0
        span = f"{clock(index * width)}–{clock((index + 1) * width)}"
        drawing.bars.append(Bar(round(drawing.left + index * slot + slot * 0.08, 2), round(drawing.bottom - height, 2),
                                round(slot * 0.84, 2), round(height, 2), "length",
                                f"{span}: {_calls(count)}"))
        drawing.labels.append(Label(round(drawing.left + (index + 0.5) * slot, 2), drawing.bottom + 16, span))
    return drawing


def time_shares(overview: Overview) -> Drawing | None:
    """Agent talk, customer talk and non-talk time as shares of all call time."""
    shares = overview.time_shares
    if shares is None:
        return None
    return _named_bars("Talk and non-talk time as shares of call time", left=130, right=480, rows=[
        (name, share, css, f"{share:.0%}", f"{name}: {share:.0%} of call time", "")
        for name, share, css in (("Agent talk", shares.agent, "agent"), ("Customer talk", shares.customer, "customer"),
                                 ("Non-talk", shares.non_talk, "silence"))])


_ROW = 26  # px per named bar


def _named_bars(label: str, left: float, right: float,
                rows: list[tuple[str, float, str, str, str, str]]) -> Drawing:
    """Horizontal bars, one a row: (name, length as a fraction of the width, class, value written after
    the bar, tooltip, link)."""
    drawing = Drawing(560, 16 + _ROW * max(len(rows), 1), left=left, right=right, top=8, bottom=0, label=label)
    for index, (name, fraction, css, value, title, href) in enumerate(rows):
        y = drawing.top + index * _ROW
        width = round(min(fraction, 1.0) * (drawing.right - drawing.left), 2)
        drawing.bars.append(Bar(drawing.left, y + 4, max(width, 1.0), 18, css, title, href))
        drawing.labels.append(Label(drawing.left - 8, y + 17, name, "name", "end"))
        drawing.labels.append(Label(drawing.left + width + 6, y + 17, value, "value", "start"))
    return drawing


def _calls(count: int) -> str:
    return f"{count} call{'' if count == 1 else 's'}"


def _count_axis(drawing: Drawing, peak: int) -> int:
    """Grid lines at round counts up to at least `peak`; the axis' top count."""
    step = next((step for step in _COUNT_STEPS if peak / step <= 5), _COUNT_STEPS[-1])
    top = max(math.ceil(peak / step), 1) * step
    for count in range(0, top + 1, step):
        y = round(drawing.bottom - (drawing.bottom - drawing.top) * count / top, 2)
        drawing.grid.append(y)
        drawing.labels.append(Label(drawing.left - 6, y + 3, str(count), anchor="end"))
    return top


def _period_name(period: Period) -> str:
    """The period in a bar's tooltip: "Feb 19, 2025", "week of Feb 17, 2025", "Feb 2025"."""
    if period.kind == "month":
        return f"{period.start:%b %Y}"
    day = f"{period.start:%b} {period.start.day}, {period.start.year}"
    return day if period.kind == "day" else f"week of {day}"


def _label(period: Period) -> str:
    """The period under its bar: "Feb 19" (a day or the week from it) or "Feb 2025"."""
    return f"{period.start:%b %Y}" if period.kind == "month" else f"{period.start:%b} {period.start.day}"


def _shortened(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
