"""Overfitting and the one-standard-error rule.

Left: train score against CV score per trial, with the y = x diagonal; trials far
below it fit the training folds much better than unseen data. Right: the best
trials ranked by mean CV score with standard-error bars (std over folds /
sqrt(k)); the ones within one standard error of the best are marked, since the
simplest of those is usually the safer pick.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from hpstudio.core.analysis import one_standard_error_mask, within_one_standard_error
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.axes import study_axes
from hpstudio.gui.plots.base import HIGHLIGHT_PEN, PlotBase, plain_axes, set_label
from hpstudio.gui.plots.items import FastScatter, finite_bounds

__all__ = ["OverfittingPlot", "within_one_standard_error"]

RANKED_LIMIT = 200  # the head of the ranking is what the rule is about
NO_TRAIN_SCORES = ("no train scores: tick \"also score the training folds\" under "
                   "Cross-validation and metric (train_score = true in [scoring]) and run "
                   "the study again to see train against CV scores")
ONE_SE_BRUSH = (230, 120, 20, 230)


def _missing(c: TrialTable, complete: np.ndarray, trained: np.ndarray) -> str:
    """What this plot cannot show for the study, and why ("" when nothing is missing)."""
    if len(complete) and not np.isfinite(c.standard_error[complete]).any():
        return "no per-fold scores (imported), so no standard errors"
    if len(complete) and not len(trained):
        return "no train scores were kept"
    return ""


class OverfittingPlot(PlotBase):
    """Train vs CV scatter, and the ranked CV scores with the one-SE set marked."""

    title = "Overfitting"

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ranked_limit = RANKED_LIMIT
        self.info = QtWidgets.QLabel(self)
        self.info.setWordWrap(True)
        self.toolbar.addWidget(self.info, 1)
        self.widget = pg.GraphicsLayoutWidget(self)
        lay = self.widget.ci

        self.tt_plot = plain_axes(
            lay.addPlot(row=0, col=0, axisItems=study_axes("left", "bottom")))
        self.tt_plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.tt_plot.setTitle("train vs CV score")
        dashed = QtCore.Qt.PenStyle.DashLine
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen((120, 120, 120), style=dashed))
        self.tt_scatter = FastScatter(size=6)
        self.tt_highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        self.tt_plot.addItem(self.diagonal)
        self.tt_plot.addItem(self.tt_scatter)
        self.tt_plot.getViewBox().addItem(self.tt_highlight, ignoreBounds=True)
        self.no_train = pg.TextItem(NO_TRAIN_SCORES, color=(90, 90, 90), anchor=(0.5, 0.5))
        self.no_train.setTextWidth(260)
        self.tt_plot.getViewBox().addItem(self.no_train, ignoreBounds=True)
        self.no_train.hide()

        self.rank_plot = plain_axes(
            lay.addPlot(row=0, col=1, axisItems=study_axes("left", "bottom")))
        self.rank_plot.setMenuEnabled(False, enableViewBoxMenu=True)
        self.rank_plot.setLabel("bottom", "rank")
        self.errors = pg.ErrorBarItem(x=np.empty(0), y=np.empty(0), pen=pg.mkPen((90, 90, 90)))
        self.rank_other = FastScatter(size=6)
        self.rank_one_se = FastScatter(size=7, brush=ONE_SE_BRUSH)
        self.threshold = pg.InfiniteLine(
            angle=0, movable=False,
            pen=pg.mkPen(ONE_SE_BRUSH[:3], style=dashed),
        )
        self.rank_highlight = FastScatter(size=16, pen=HIGHLIGHT_PEN, brush=None, clickable=False)
        for item in (self.errors, self.rank_other, self.rank_one_se):
            self.rank_plot.addItem(item)
        self.rank_plot.getViewBox().addItem(self.threshold, ignoreBounds=True)
        self.rank_plot.getViewBox().addItem(self.rank_highlight, ignoreBounds=True)
        for h in (self.tt_highlight, self.rank_highlight):
            h.setZValue(10)

        self.tt_scatter.sigClicked.connect(self._on_tt_clicked)
        self.rank_other.sigClicked.connect(self._on_rank_other_clicked)
        self.rank_one_se.sigClicked.connect(self._on_rank_one_se_clicked)
        self._set_view(self.widget, lay)
        self._add_export_to_menu(self.tt_plot.getViewBox())
        self._add_export_to_menu(self.rank_plot.getViewBox())

        self._tt_rows = np.empty(0, dtype=np.int64)
        self._rank_rows = np.empty(0, dtype=np.int64)
        self._rank_marked = np.empty(0, dtype=bool)
        self._diag_bounds: tuple[float, float] | None = None
        self._one_se = np.empty(0, dtype=bool)  # over all trials
        self._rank_other_pos = np.empty(0, dtype=np.int64)
        self._rank_one_se_pos = np.empty(0, dtype=np.int64)

    def set_columns(self, columns: TrialTable, metric: str = "score") -> None:
        super().set_columns(columns, metric)
        self._rank_rows = np.empty(0, dtype=np.int64)  # nothing drawn is reusable
        self._diag_bounds = None

    def _refresh(self) -> None:
        c = self.columns
        set_label(self.tt_plot, "left", f"CV {self.metric_name}")
        set_label(self.tt_plot, "bottom", f"train {self.metric_name}")
        set_label(self.rank_plot, "left", f"mean CV {self.metric_name} ± SE")
        test, train, ok = c.test, c.col("train"), c.complete
        # -- train vs test
        rows = np.flatnonzero(ok & np.isfinite(train))
        self._tt_rows = rows
        self.tt_scatter.setData(train[rows], test[rows])
        b = finite_bounds(np.concatenate([train[rows], test[rows]]))
        if b != self._diag_bounds:  # unchanged items are not repainted
            self._diag_bounds = b
            ends = [] if b is None else [b[0], b[1]]
            self.diagonal.setData(ends, ends)
        # -- ranked with one-SE rule
        se = c.standard_error
        one_se = one_standard_error_mask(test, se, ok)
        self._one_se = one_se
        complete = np.flatnonzero(ok)
        order = complete[np.argsort(-test[complete], kind="stable")]
        head = order[: max(self.ranked_limit, 0)]
        n_se = int(one_se.sum())
        text = (f"{n_se} trial(s) within one standard error of the best · "
                f"top {len(head)} of {len(complete)} ranked")
        no_folds = _missing(c, complete, rows)
        imported = no_folds.startswith("no per-fold")  # nothing a setting could bring back
        missing = len(complete) > 0 and len(rows) == 0 and not imported
        self.no_train.setVisible(missing)
        if missing:
            (x0, x1), (y0, y1) = self.tt_plot.getViewBox().viewRange()
            self.no_train.setPos((x0 + x1) / 2, (y0 + y1) / 2)
            text = f"{text} · {NO_TRAIN_SCORES}"
        if imported:  # no per-fold scores, so no standard errors nor train scores
            text = f"top {len(head)} of {len(complete)} ranked · {no_folds}"
        self.info.setText(text)
        if np.array_equal(head, self._rank_rows) and np.array_equal(
            one_se[head], self._rank_marked
        ):
            return  # a new trial outside the top: the ranked plot stays as drawn
        self._rank_rows = head
        rank = np.arange(1, len(head) + 1, dtype=float)
        y = test[head]
        err = np.nan_to_num(se[head])
        self.errors.setData(x=rank, y=y, top=err, bottom=err, beam=0.4)
        marked = one_se[head]
        self._rank_marked = marked
        self._rank_one_se_pos = np.flatnonzero(marked)
        self._rank_other_pos = np.flatnonzero(~marked)
        self.rank_one_se.setData(rank[marked], y[marked])
        self.rank_other.setData(rank[~marked], y[~marked])
        if len(head):
            best = head[0]
            self.threshold.setPos(test[best] - np.nan_to_num(se[best]))
            self.threshold.show()
        else:
            self.threshold.hide()

    def _apply_selection(self) -> None:
        row = self.columns.index_of(self.selected)
        empty = (np.empty(0), np.empty(0))
        tt = np.flatnonzero(self._tt_rows == row) if row is not None else []
        if len(tt):
            x, y = self.tt_scatter.getData()
            i = int(tt[0])
            self.tt_highlight.setData(x[i : i + 1], y[i : i + 1])
        else:
            self.tt_highlight.setData(*empty)
        rk = np.flatnonzero(self._rank_rows == row) if row is not None else []
        if len(rk):
            i = int(rk[0])
            self.rank_highlight.setData(
                np.array([i + 1.0]), self.columns.test[self._rank_rows[i : i + 1]]
            )
        else:
            self.rank_highlight.setData(*empty)

    def _on_tt_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._tt_rows[index]))

    def _on_rank_other_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._rank_rows[self._rank_other_pos[index]]))

    def _on_rank_one_se_clicked(self, _item: object, index: int) -> None:
        self._emit_clicked(int(self._rank_rows[self._rank_one_se_pos[index]]))

    # -- inspection -------------------------------------------------------------------
    def train_test(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(trial numbers, train scores, CV scores) of the scatter."""
        x, y = self.tt_scatter.getData()
        return self.columns.number[self._tt_rows], x.copy(), y.copy()

    def ranked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(trial numbers, mean CV scores, standard errors), best first."""
        rows = self._rank_rows
        return (self.columns.number[rows], self.columns.test[rows],
                self.columns.standard_error[rows])

    def one_se_numbers(self) -> set[int]:
        return set(self.columns.number[self._one_se].tolist())

    def highlighted(self) -> tuple[np.ndarray, np.ndarray]:
        return self.tt_highlight.getData()

    def highlighted_rank(self) -> tuple[np.ndarray, np.ndarray]:
        return self.rank_highlight.getData()
