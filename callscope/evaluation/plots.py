"""The accuracy lab's drawings as standalone SVG: WER per configuration (`callscope leaderboard
--plot`) and reference against hypothesis speaker timelines (`callscope eval diarization --plot`).

Plain SVG written here, no charting library: it opens in any browser offline, and the dashboard
draws its charts the same way. Text from files (labels, speakers) is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from callscope.time_axis import Axis

if TYPE_CHECKING:  # the timelines need pyannote.core; the WER bars (leaderboard) do not
    from pyannote.core import Annotation

WIDTH = 960
LABEL_WIDTH = 220  # left column: configuration or row names
ROW_HEIGHT = 26
# Okabe-Ito: told apart with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


class PlotError(ValueError):
    """A plot that cannot be written (one line: the path and the problem)."""


@dataclass(frozen=True)
class SpeakerRows:
    """One file's reference and hypothesis, drawn as two rows on one time axis."""

    name: str
    reference: Annotation
    hypothesis: Annotation


def check_plot_path(path: Path) -> None:
    """Before any work: the plot is SVG, into a folder that exists."""
    if path.suffix.lower() != ".svg":
        raise PlotError(f"{path}: the plot is written as SVG; give a file name ending in .svg")
    if not path.parent.is_dir():
        raise PlotError(f"{path}: folder {path.parent} does not exist")


def write_plot(svg: str, path: Path) -> None:
    check_plot_path(path)
    try:
        path.write_text(svg, encoding="utf-8")
    except OSError as error:
        raise PlotError(f"{path}: cannot write the plot ({error.strerror or error})") from None


def wer_bars(bars: list[tuple[str, float]], title: str) -> str:
    """Horizontal bars, one per (label, WER as a fraction), in the order given (best first)."""
    top, plot_width = 48, WIDTH - LABEL_WIDTH - 90
    height = top + ROW_HEIGHT * max(len(bars), 1) + 36
    longest = max((rate for _, rate in bars), default=0.0) or 1.0
    scale = plot_width / longest
    parts = [_header(height, title)]
    for row, (label, rate) in enumerate(bars):
        y = top + row * ROW_HEIGHT
        length = round(rate * scale, 2)
        parts.append(
            f'<g class="bar"><title>{escape(label)}: WER {rate:.1%}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{escape(_short(label, 34))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" height="{ROW_HEIGHT - 8}" '
            f'fill="{PALETTE[0] if row else PALETTE[2]}" data-wer="{rate:.6f}"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}">{rate:.1%}</text></g>')
    axis_y = top + ROW_HEIGHT * max(len(bars), 1) + 4
    parts.append(f'<line x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + plot_width}" y2="{axis_y}" '
                 'stroke="#888"/>')
    parts.append(f'<text x="{LABEL_WIDTH}" y="{axis_y + 18}" class="note">WER (pooled: errors over reference '
                 'words, lower is better)</text>')
    return "".join(parts) + "</svg>\n"


def speaker_timelines(files: list[SpeakerRows], mapping_of) -> str:
    """Per file, a reference row and a hypothesis row on one time axis; each hypothesis speaker takes
    the colour of the reference speaker `mapping_of(reference, hypothesis)` (hypothesis label →
    reference label) maps it to, so a confusion shows as a change of colour."""
    block = 2 * ROW_HEIGHT + 52
    height = 40 + block * len(files)
    parts = [_header(height, "Who spoke when: reference and hypothesis")]
    for index, rows in enumerate(files):
        top = 40 + index * block
        duration = max(rows.reference.get_timeline().extent().end if rows.reference else 0.0,
                       rows.hypothesis.get_timeline().extent().end if rows.hypothesis else 0.0) or 1.0
        axis = Axis(LABEL_WIDTH, WIDTH - 20, duration)
        colours = {label: PALETTE[n % len(PALETTE)] for n, label in enumerate(sorted(rows.reference.labels()))}
        mapped = mapping_of(rows.reference, rows.hypothesis)
        unmapped = [label for label in sorted(rows.hypothesis.labels()) if mapped.get(label) not in colours]
        hypothesis_colours = {label: colours[mapped[label]] for label in rows.hypothesis.labels()
                              if mapped.get(label) in colours}
        hypothesis_colours |= {label: PALETTE[(len(colours) + n) % len(PALETTE)] for n, label in enumerate(unmapped)}
        parts.append(f'<text x="8" y="{top + 12}" class="file">{escape(rows.name)}</text>')
        for row, (name, annotation, palette) in enumerate((("reference", rows.reference, colours),
                                                            ("hypothesis", rows.hypothesis, hypothesis_colours))):
            y = top + 18 + row * ROW_HEIGHT
            parts.append(f'<g class="row" data-row="{name}"><text x="{LABEL_WIDTH - 8}" y="{y + 17}" '
                         f'text-anchor="end">{name}</text>')
            # Each speaker in a lane of the row (by colour, so mapped speakers share a lane): overlapped
            # speech shows as two lanes at once instead of one rectangle hiding another.
            lanes = {colour: lane for lane, colour in enumerate(sorted(set(palette.values()), key=PALETTE.index))}
            lane_height = (ROW_HEIGHT - 8) / max(len(lanes), 1)
            for segment, _, label in annotation.itertracks(yield_label=True):
                x = axis.x(segment.start)
                width = max(round(axis.x(segment.end) - x, 2), 0.5)
                top_y = round(y + 4 + lanes[palette[label]] * lane_height, 2)
                parts.append(f'<rect x="{x}" y="{top_y}" width="{width}" height="{round(lane_height, 2)}" '
                             f'fill="{palette[label]}" data-speaker={quoteattr(str(label))}>'
                             f'<title>{escape(str(label))}: {segment.start:.2f}-{segment.end:.2f} s</title></rect>')
            parts.append("</g>")
        axis_y = top + 18 + 2 * ROW_HEIGHT + 4
        parts.append(_time_axis(axis, axis_y))
    return "".join(parts) + "</svg>\n"


def _header(height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">'
            '<style>.title{font-size:15px;font-weight:bold}.file{font-weight:bold}.note{fill:#555}</style>'
            f'<rect width="{WIDTH}" height="{height}" fill="white"/>'
            f'<text x="8" y="22" class="title">{escape(title)}</text>')


def _time_axis(axis: Axis, y: float) -> str:
    ticks = [f'<line x1="{axis.left}" y1="{y}" x2="{axis.right}" y2="{y}" stroke="#888"/>']
    for x, label in axis.ticks():
        ticks.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 4}" stroke="#888"/>'
                     f'<text x="{x}" y="{y + 16}" text-anchor="middle" class="note">{label}</text>')
    return "".join(ticks)


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
