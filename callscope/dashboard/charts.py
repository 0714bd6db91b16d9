"""Chart geometry for the call page: numbers only; templates/charts.html draws them as inline SVG.

Nothing here is text from the call except speaker roles, which the template escapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from callscope.dashboard.documents import CallView, sentiment_class
from callscope.time_axis import Axis, clock


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


@dataclass(frozen=True)
class Band:
    """A turn on the timeline: its speaker's lane, coloured by its sentiment."""

    x: float
    y: float
    width: float
    height: float
    css: str
    turn: int
    start: float
    title: str


@dataclass
class Timeline:
    """The call's story on one time axis: a lane per speaker with each turn as a band coloured by its
    sentiment, interruptions marked where they start, non-talk periods shaded across the lanes, and
    loudness below, each second's bar in its turn's sentiment colour."""

    width: int
    height: int
    left: float
    right: float
    lanes: list[tuple[float, str, str]] = field(default_factory=list)  # y of the lane's middle, role, role class
    bands: list[Band] = field(default_factory=list)
    silences: list[tuple[float, float, str]] = field(default_factory=list)  # x, width, title
    interruptions: list[tuple[float, float, int, float, str]] = field(default_factory=list)  # x, y, turn, start, title
    loudness: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x, y, w, h, class
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    loudness_top: float = 0.0
    loudness_bottom: float = 0.0


_LANE = 26  # px per speaker lane
_LOUDNESS = 56  # px of the loudness strip


def timeline(view: CallView) -> Timeline:
    speakers = [speaker for speaker in view.speakers if any(turn.speaker == speaker.label for turn in view.turns)]
    top = 6
    lanes_bottom = top + _LANE * max(len(speakers), 1)
    loudness_top = lanes_bottom + 10
    loudness_bottom = loudness_top + _LOUDNESS
    chart = Timeline(860, int(loudness_bottom + 22), left=96, right=852,
                     loudness_top=loudness_top, loudness_bottom=loudness_bottom)
    axis = Axis(chart.left, chart.right, view.duration)
    chart.x_ticks = axis.ticks()
    lane_of = {speaker.label: index for index, speaker in enumerate(speakers)}
    chart.lanes = [(top + _LANE * (index + 0.5), speaker.role, speaker.role_class)
                   for index, speaker in enumerate(speakers)]
    for begin, end in view.non_talk:
        chart.silences.append((axis.x(begin), max(axis.x(end) - axis.x(begin), 1.0),
                               f"no one speaks {clock(begin)}–{clock(end)} ({end - begin:.1f} s)"))
    for turn in view.turns:
        lane = lane_of.get(turn.speaker, 0)
        x0, x1 = axis.x(turn.start), axis.x(max(turn.end, turn.start))
        css = sentiment_class(turn.sentiment) if turn.sentiment is not None else "s-none"
        score = f"{turn.sentiment:+.1f}" if turn.sentiment is not None else "not scored"
        chart.bands.append(Band(x0, top + _LANE * lane + 4, max(round(x1 - x0, 2), 1.5), _LANE - 8, css, turn.index,
                                turn.start, f"{turn.role} {clock(turn.start)}–{clock(turn.end)}: sentiment {score}"))
        if turn.interruption:
            chart.interruptions.append((x0, top + _LANE * lane + 4, turn.index, turn.start,
                                        f"{turn.role} interrupts at {clock(turn.start)}"))
        for second, value in enumerate(turn.loudness):
            begin = turn.start + second
            finish = min(begin + 1.0, max(turn.end, begin + 0.2))
            height = max(min(value, 100.0), 0.0) / 100 * _LOUDNESS
            x0, x1 = axis.x(begin), axis.x(finish)
            chart.loudness.append((x0, round(loudness_bottom - height, 2), max(round(x1 - x0 - 0.3, 2), 0.8),
                                   round(height, 2), css))
    return chart
