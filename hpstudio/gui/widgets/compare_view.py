"""Side-by-side view of several studies: best-so-far curves and a summary table.

The curves come ready-made from :mod:`hpstudio.core.compare`; this module only draws
them, one colour per study, against trial number and against elapsed (busy) time, so
"which search got there sooner" can be read both in trials and in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets
from PySide6.QtCore import Qt

from hpstudio.core.compare import BestCurve, step_points

__all__ = ["CompareView", "study_color"]

# Colour-blind-safe palette (Okabe & Ito), then pyqtgraph's hue wheel for more studies.
_PALETTE = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233),
            (213, 94, 0), (240, 228, 66), (0, 0, 0))
TABLE_HEADERS = ("Study", "Best score", "Trials", "Complete", "Busy time")


def study_color(index: int, count: int) -> tuple[int, int, int]:
    if index < len(_PALETTE):
        return _PALETTE[index]
    color = pg.intColor(index, hues=max(count, 9))
    return color.red(), color.green(), color.blue()


class CompareView(QtWidgets.QDialog):
    """Best-so-far curves of two or more studies, plus best score, trials and time each."""

    def __init__(self, curves: Sequence[BestCurve], *, metric: str = "score",
                 warnings: Sequence[str] = (), parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.setWindowTitle("Compare studies: " + ", ".join(c.name for c in curves))
        self.curves = list(curves)
        self.warnings = list(warnings)

        self.warning_label = QtWidgets.QLabel(self)
        self.warning_label.setObjectName("compareWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("QLabel { color: #b34700; }")
        self.warning_label.setText("\n".join(f"⚠ {w}" for w in self.warnings))
        self.warning_label.setVisible(bool(self.warnings))

        self.by_number = self._make_plot("Trial number", metric)
        self.by_time = self._make_plot("Elapsed (busy) time", metric, units="s")
        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.addTab(self.by_number, "By trial")
        self.tabs.addTab(self.by_time, "By time")
        self.number_items: list[pg.PlotDataItem] = []
        self.time_items: list[pg.PlotDataItem] = []
        for index, curve in enumerate(self.curves):
            pen = pg.mkPen(study_color(index, len(self.curves)), width=2)
            label = f"#{curve.study_id} {curve.name}"
            x, y = step_points(curve.number, curve.best_by_number)
            self.number_items.append(self.by_number.plot(x, y, pen=pen, name=label))
            x, y = step_points(curve.elapsed, curve.best_by_elapsed)
            self.time_items.append(self.by_time.plot(x, y, pen=pen, name=label))

        self.table = QtWidgets.QTableWidget(len(self.curves), len(TABLE_HEADERS), self)
        self.table.setObjectName("compareTable")
        self.table.setHorizontalHeaderLabels(list(TABLE_HEADERS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        best = max((c.best_score for c in self.curves if math.isfinite(c.best_score)),
                   default=math.nan)
        for row, curve in enumerate(self.curves):
            cells = (f"#{curve.study_id} {curve.name}", _score(curve.best_score),
                     str(curve.n_trials), str(curve.n_complete), _duration(curve.busy_seconds))
            for column, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if column == 0:
                    item.setForeground(pg.mkColor(study_color(row, len(self.curves))))
                if column == 1 and curve.best_score == best:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMaximumHeight(self.table.verticalHeader().length()
                                    + self.table.horizontalHeader().height() + 6)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close,
                                             self)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(820, 620)

    def _make_plot(self, x_label: str, metric: str, units: str | None = None) -> pg.PlotWidget:
        widget = pg.PlotWidget(self)
        item = widget.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setLabel("bottom", x_label, units=units)
        item.setLabel("left", f"best {metric} so far")
        item.getAxis("left").enableAutoSIPrefix(False)  # scores read as they are, not x0.001
        item.addLegend(offset=(-10, 10))
        return widget

    def table_rows(self) -> list[list[str]]:
        """The summary table as text, row by row (what a user would copy)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(820, 620)


def _score(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.6g}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
