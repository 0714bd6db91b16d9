"""A time axis for drawings: seconds to x, ticks at round steps, labelled as a clock. The
dashboard's call charts and the accuracy lab's plots share it."""

from __future__ import annotations

from dataclasses import dataclass

NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass
class Axis:
    """x: seconds → px across [left, right]."""

    left: float
    right: float
    duration: float

    def x(self, seconds: float) -> float:
        return round(self.left + min(max(seconds, 0.0), self.duration) / self.duration * (self.right - self.left), 2)

    def ticks(self, most: int = 10) -> list[tuple[float, str]]:
        step = next((s for s in NICE_STEPS if self.duration / s <= most), NICE_STEPS[-1])
        count = int(self.duration // step)
        return [(self.x(i * step), clock(i * step)) for i in range(count + 1)]


def clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
