"""Axes whose tick labels read one way per axis, with room between them and the title.

pyqtgraph formats each tick on its own: a log axis from 0.001 to 1000 reads "0.01, 0.1,
1, 10¹, 10²" and a linear one mixes "5e-05" with "0.0001". Here every label of an axis
uses one notation, chosen from the axis range: plain numbers while every value on the
axis has a short plain form (between ``PLAIN_LOW`` and ``PLAIN_HIGH``), powers of ten
("10⁻⁵", "2·10⁻⁵") otherwise. The title also gets a few pixels of its own, so long tick
labels never touch it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg

__all__ = ["PLAIN_HIGH", "PLAIN_LOW", "TITLE_GAP", "StudyAxis", "format_values",
           "plain_number", "power_of_ten", "study_axes", "tick_labels"]

PLAIN_LOW = 1e-3  # smallest magnitude written as a plain number ("0.001")
PLAIN_HIGH = 1e5  # magnitudes from here on read better as powers of ten
TITLE_GAP = 6  # pixels between the tick labels and the axis title
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plain_number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits without an exponent: 0.002, 20000."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    exponent = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - exponent)
    text = f"{round(value, decimals):.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def power_of_ten(value: float, digits: int = 3) -> str:
    """``value`` as a power of ten: 10⁻⁵, 2·10⁻⁵, −3.5·10⁶."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10.0**exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.999 rounded up to 10
        mantissa /= 10
        exponent += 1
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    text = plain_number(mantissa, digits)
    if text == "1":
        return power
    if text == "-1":
        return "−" + power
    return f"{text.replace('-', '−')}·{power}"


def _plain_range(magnitudes: Sequence[float]) -> bool:
    """True when every non-zero magnitude has a short plain form."""
    nonzero = [m for m in magnitudes if m > 0 and math.isfinite(m)]
    return all(PLAIN_LOW * (1 - 1e-9) <= m < PLAIN_HIGH for m in nonzero)


def format_values(values: Sequence[Any], digits: int = 4) -> list[str]:
    """Labels for a list of values shown together (grid ticks, an axis' two ends): numbers
    all plain or all powers of ten; anything else as its text."""
    numbers = [float(v) for v in values
               if isinstance(v, int | float) and not isinstance(v, bool)]
    plain = _plain_range([abs(v) for v in numbers])
    out = []
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(plain_number(float(v), digits) if plain else power_of_ten(float(v), digits))
        else:
            out.append(str(v))
    return out


def tick_labels(values: Sequence[float], *, log: bool, spacing: float,
                view: tuple[float, float]) -> list[str]:
    """Tick labels of one level of an axis showing ``view`` (log10 units on a log axis).

    The notation depends on the view only, so every level (major and minor ticks) of the
    axis agrees. Linear plain labels take their decimals from the tick spacing, like
    pyqtgraph's; values within rounding noise of zero read "0"."""
    lo, hi = sorted(view)
    if log:
        plain = _plain_range([10.0 ** lo, 10.0 ** hi])
        numbers = [10.0 ** v for v in values]
        return [plain_number(v) if plain else power_of_ten(v) for v in numbers]
    largest = max(abs(lo), abs(hi))
    plain = largest == 0 or PLAIN_LOW <= largest < PLAIN_HIGH
    tiny = abs(spacing) * 1e-6
    out = []
    for v in values:
        v = 0.0 if abs(v) <= tiny else float(v)
        if not plain:
            out.append(power_of_ten(v))
        elif v == 0:
            out.append("0")
        else:
            places = max(0, math.ceil(-math.log10(abs(spacing)))) if spacing > 0 else 3
            out.append(f"{v:.{places}f}".replace("-", "−"))
    return out


class StudyAxis(pg.AxisItem):
    """An AxisItem with consistent tick labels (see the module docstring), no SI
    prefixes, and ``TITLE_GAP`` pixels between its tick labels and its title."""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float,
                    spacing: float | None) -> list[str]:
        # a log axis' minor level comes without a spacing (its ticks are not evenly spaced)
        step = 0.0 if spacing is None else spacing * scale
        return tick_labels([v * scale for v in values], log=bool(self.logMode), spacing=step,
                           view=(float(self.range[0]), float(self.range[1])))

    def _updateWidth(self) -> None:
        super()._updateWidth()
        self._add_title_gap(vertical=True)

    def _updateHeight(self) -> None:
        super()._updateHeight()
        self._add_title_gap(vertical=False)

    def _add_title_gap(self, vertical: bool) -> None:
        fixed = self.fixedWidth if vertical else self.fixedHeight
        titled = self.label is not None and self.label.isVisible()
        if fixed is not None or not titled or not self.isVisible():
            return
        if vertical:
            width = self.maximumWidth() + TITLE_GAP
            self.setMaximumWidth(width)
            self.setMinimumWidth(width)
        else:
            height = self.maximumHeight() + TITLE_GAP
            self.setMaximumHeight(height)
            self.setMinimumHeight(height)


def study_axes(*names: str) -> dict[str, StudyAxis]:
    """``axisItems`` for a PlotItem: a StudyAxis at each named side."""
    return {name: StudyAxis(name) for name in names}
