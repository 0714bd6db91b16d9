"""Chart geometry for the call page: numbers only; templates/charts.html draws them as inline SVG.

Nothing here is text from the call except speaker roles, which the template escapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callscope.dashboard.documents import CallView, sentiment_class
from callscope.time_axis import Axis


@dataclass
class Point:
    x: float
    y: float
    role_class: str
    turn: int
    start: float
    value: float | None
    css: str = ""


@dataclass
class Chart:
    width: int
    height: int
    top: float
    bottom: float
    left: float
    right: float
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # (role_class, "x,y x,y ...")
    bars: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x, y, w, h, class
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, text, class
    zero: float = 0.0


def _sentiment_y(chart: Chart, value: float) -> float:
    return round(chart.top + (5.0 - max(min(value, 5.0), -5.0)) / 10.0 * (chart.bottom - chart.top), 2)


def _sentiment_frame(width: int, height: int) -> Chart:
    chart = Chart(width, height, top=8, bottom=height - 22, left=34, right=width - 8)
    chart.y_ticks = [(_sentiment_y(chart, v), f"{v:+g}" if v else "0") for v in (5, 2.5, 0, -2.5, -5)]
    chart.zero = _sentiment_y(chart, 0)
    return chart


def sentiment_per_turn(view: CallView) -> Chart:
    """One point per turn at its middle, at its signed sentiment (unscored turns on the zero line)."""
    chart = _sentiment_frame(860, 190)
    axis = Axis(chart.left, chart.right, view.duration)
    chart.x_ticks = axis.ticks()
    lines: dict[str, list[str]] = {}
    for turn in view.turns:
        value = turn.sentiment
        point = Point(axis.x((turn.start + turn.end) / 2), _sentiment_y(chart, value or 0.0), turn.role_class,
                      turn.index, turn.start, value, sentiment_class(value))
        chart.points.append(point)
        lines.setdefault(turn.role_class + " " + turn.speaker, []).append(f"{point.x},{point.y}")
    chart.lines = [(key.split(" ")[0], " ".join(points)) for key, points in lines.items() if len(points) > 1]
    return chart


def sentiment_per_quarter(view: CallView) -> Chart:
    """Each speaker's SentimentPerQuarter: a line over quarters 1-4."""
    chart = _sentiment_frame(420, 190)
    span = chart.right - chart.left

    def x(quarter: int) -> float:
        return round(chart.left + (quarter - 0.5) / 4 * span, 2)

    chart.x_ticks = [(x(q), f"Q{q}") for q in range(1, 5)]
    for speaker in view.speakers:
        if not speaker.quarters:
            continue
        points = [Point(x(q), _sentiment_y(chart, score), speaker.role_class, -1, 0.0, score, sentiment_class(score))
                  for q, score in speaker.quarters]
        chart.points += points
        chart.lines.append((speaker.role_class, " ".join(f"{p.x},{p.y}" for p in points)))
    return chart


def loudness(view: CallView) -> Chart:
    """LoudnessScores: one bar per second of each turn (0-100), coloured by speaker role."""
    chart = Chart(860, 120, top=8, bottom=98, left=34, right=852)
    axis = Axis(chart.left, chart.right, view.duration)
    chart.x_ticks = axis.ticks()
    chart.y_ticks = [(round(chart.bottom - v / 100 * (chart.bottom - chart.top), 2), str(v)) for v in (0, 50, 100)]
    for turn in view.turns:
        for second, value in enumerate(turn.loudness):
            begin = turn.start + second
            finish = min(begin + 1.0, max(turn.end, begin + 0.2))
            height = max(min(value, 100.0), 0.0) / 100 * (chart.bottom - chart.top)
            x0, x1 = axis.x(begin), axis.x(finish)
            chart.bars.append((x0, round(chart.bottom - height, 2), max(round(x1 - x0 - 0.3, 2), 0.8), round(height, 2),
                               turn.role_class))
    return chart


def talk_time(view: CallView) -> Chart:
    """Seconds of speech per speaker and of non-talk time, as bars against the call's duration."""
    rows = [(s.role + (f" ({s.label})" if s.label != s.role else ""), s.talk_time, s.role_class)
            for s in view.speakers if s.talk_time is not None]
    if view.non_talk_time is not None:
        rows.append(("Non-talk time", view.non_talk_time, "silence"))
    chart = Chart(420, 12 + 30 * max(len(rows), 1), top=6, bottom=0, left=150, right=330)
    for index, (name, seconds, css) in enumerate(rows):
        y = chart.top + index * 30
        width = round(min(seconds / view.duration, 1.0) * (chart.right - chart.left), 2)
        chart.bars.append((chart.left, y + 4, max(width, 1.0), 18, css))
        chart.labels.append((chart.left - 8, y + 17, name, "name"))
        share = f"{seconds:.1f} s ({seconds / view.duration:.0%})"
        chart.labels.append((chart.left + width + 6, y + 17, share, "value"))
    return chart
