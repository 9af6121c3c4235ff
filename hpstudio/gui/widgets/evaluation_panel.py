"""The Statistics dock: is the best trial really better, and what nested CV estimates.

"Is the best really better?" compares the best trial of the shown metric with the next
ones on their per-split scores: the corrected repeated k-fold t-test of Nadeau and
Bengio (one-sided p, and p times the number of comparisons) and the Bayesian comparison
with a region of practical equivalence (the probability that the best is better, that
the two are practically equivalent, that the other is better), as in scikit-learn's
gallery example on comparing models with grid search. The split sizes it needs come from
splitting the study's data again, in the background, once per study.

"Nested cross-validation" shows the study's stored nested CV result: the unbiased
estimate (mean ± std over the outer folds) and, per outer fold, the candidate its inner
search chose, its inner score and its score on the outer test part.

Work runs only while the dock is on screen (like the Answers dock), off the GUI thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hpstudio.core.errors import HpstudioError
from hpstudio.core.significance import DEFAULT_ROPE
from hpstudio.core.top_comparison import DEFAULT_TOP, TopComparison, compare_top
from hpstudio.core.trials import TrialTable
from hpstudio.gui.background import run_in_background
from hpstudio.gui.session import StudySession

__all__ = ["EvaluationPanel", "Source"]

#: Gives the repository to read (usable from any thread) and the shown study's id, or
#: None when no stored study is shown.
Source = Callable[[], "tuple[Any, int] | None"]
_DELAY_MS = 300  # live trials arrive in bursts: recompute once they pause


@dataclass(frozen=True)
class _Answer:
    comparison: TopComparison | None
    comparison_note: str
    nested: Any  # NestedResult | None
    sizes: tuple[np.ndarray, np.ndarray] | None


class EvaluationPanel(QWidget):
    """The comparison of the top trials and the nested CV of the shown study."""

    def __init__(self, session: StudySession, source: Source,
                 allowed_packages: Callable[[], tuple[str, ...]] = tuple,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._source = source
        self._allowed = allowed_packages
        self._on_screen = True
        self._running = False
        self._pending = False
        self._sizes: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
        self._generation = 0
        self._shown_generation = -1

        self.compare_title = QLabel("<b>Is the best really better?</b>")
        self.top_spin = QSpinBox()
        self.top_spin.setRange(2, 50)
        self.top_spin.setValue(DEFAULT_TOP)
        self.top_spin.setPrefix("compare the top ")
        self.rope_spin = QDoubleSpinBox()
        self.rope_spin.setDecimals(4)
        self.rope_spin.setRange(0.0, 1e6)
        self.rope_spin.setSingleStep(0.005)
        self.rope_spin.setValue(DEFAULT_ROPE)
        self.rope_spin.setPrefix("equivalent within ±")
        self.rope_spin.setToolTip("Region of practical equivalence, in score units: "
                                  "differences smaller than this do not matter")
        controls = QHBoxLayout()
        controls.addWidget(self.compare_title, 1)
        controls.addWidget(self.top_spin)
        controls.addWidget(self.rope_spin)
        self.compare_table = _table()
        self.compare_summary = QLabel()
        self.compare_summary.setWordWrap(True)
        self.nested_title = QLabel("<b>Nested cross-validation</b>")
        self.nested_summary = QLabel()
        self.nested_summary.setWordWrap(True)
        self.nested_table = _table()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(controls)
        layout.addWidget(self.compare_summary)
        layout.addWidget(self.compare_table, 1)
        layout.addWidget(self.nested_title)
        layout.addWidget(self.nested_summary)
        layout.addWidget(self.nested_table, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_DELAY_MS)
        self._timer.timeout.connect(self._compute)
        self.top_spin.valueChanged.connect(lambda _v: self.refresh())
        self.rope_spin.valueChanged.connect(lambda _v: self.refresh())
        session.reset.connect(self.refresh)
        session.metricChanged.connect(self.refresh)
        session.appended.connect(lambda _first, _count: self.refresh(later=True))
        self._answer: _Answer | None = None
        self._clear()

    # ----- when to work -------------------------------------------------------------------
    def set_on_screen(self, on_screen: bool) -> None:
        """Told by its dock whether its tab is the one shown."""
        self._on_screen = on_screen
        if on_screen and self._shown_generation != self._generation:
            self._compute()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._shown_generation != self._generation:
            self._compute()

    def refresh(self, later: bool = False) -> None:
        """Compute again (the study, its trials, the metric or a setting changed; or a run
        stored its nested CV)."""
        self._generation += 1
        if later:
            self._timer.start()
        else:
            self._timer.stop()
            self._compute()

    @property
    def settled(self) -> bool:
        """True when what is shown is the answer for the current study and settings."""
        return not self._running and self._shown_generation == self._generation

    # ----- working ----------------------------------------------------------------------
    def _compute(self) -> None:
        if not (self._on_screen and self.isVisible()):
            return
        if self._running:
            self._pending = True
            return
        generation = self._generation
        found = self._source()
        table = self.session.table
        metric = self.session.shown_metric or table.refit
        top = _top_table(self.session.view, table, metric, self.top_spin.value())
        rope = self.rope_spin.value()
        allowed = tuple(self._allowed())
        sizes = None if found is None else self._sizes.get((found[1], str(found[0].path)))
        self._running = True

        def work() -> _Answer:
            return _answer(found, top, metric, rope, allowed, sizes)

        run_in_background(self, work,
                          lambda answer, error: self._done(generation, found, answer, error))

    def _done(self, generation: int, found: Any, answer: _Answer | None,
              error: BaseException | None) -> None:
        self._running = False
        if error is not None:
            answer = _Answer(None, f"cannot tell: {error}", None, None)
        if answer is not None and found is not None and answer.sizes is not None:
            self._sizes[(found[1], str(found[0].path))] = answer.sizes
        if answer is not None:
            self._show(answer)
            self._shown_generation = generation
        if self._pending or generation != self._generation:
            self._pending = False
            self._compute()

    # ----- showing ----------------------------------------------------------------------
    def _clear(self) -> None:
        self.compare_summary.setText("no study shown")
        _fill(self.compare_table, [])
        self.nested_summary.setText("")
        _fill(self.nested_table, [])

    def _show(self, answer: _Answer) -> None:
        self._answer = answer
        comparison = answer.comparison
        if comparison is None:
            self.compare_summary.setText(answer.comparison_note)
            _fill(self.compare_table, [])
        else:
            self.compare_summary.setText(
                f"{comparison.summary()}. Trial {comparison.best} (mean "
                f"{comparison.best_mean:.4g}) against the next ones on {comparison.n_splits} "
                f"splits: corrected t-test (Nadeau-Bengio, one-sided p; p·k for the "
                f"{len(comparison.rows)} comparisons) and Bayesian probabilities.")
            _fill(self.compare_table, comparison.lines())
        nested = answer.nested
        if nested is None:
            self.nested_summary.setText(
                "This study has no nested CV. Tick \"nested CV\" under Cross-validation and "
                "metric (or add [cv] outer = { folds = 5 }) for an unbiased estimate of the "
                "tuned model.")
            _fill(self.nested_table, [])
            return
        self.nested_summary.setText(
            f"Unbiased estimate: {nested.describe()}, {nested.outer} around the whole "
            f"search; the search's own best mean is optimistic. The inner searches chose "
            f"{nested.distinct_choices()} distinct parameter setting(s) ({nested.rule}).")
        rows = [("outer fold", "chosen parameters", "inner mean", f"outer {nested.label}",
                 "train rows", "test rows")]
        for fold in nested.folds:
            rows.append((str(fold.index), _params(fold.params) if fold.trial is not None
                         else f"— {fold.error}", _num(fold.inner_score),
                         _num(fold.test_scores.get(nested.refit, math.nan)), str(fold.n_train),
                         str(fold.n_test)))
        _fill(self.nested_table, rows)

    # ----- inspection -------------------------------------------------------------------
    def answer(self) -> _Answer | None:
        return self._answer

    def comparison(self) -> TopComparison | None:
        return None if self._answer is None else self._answer.comparison

    def nested(self) -> Any:
        return None if self._answer is None else self._answer.nested


def _top_table(view: Any, table: TrialTable, metric: str, top: int) -> TrialTable | None:
    """The top trials of ``metric`` that ran every split, as a small table of records
    (read on the GUI thread; the statistics then run on this copy)."""
    if not len(table):
        return None
    mean = view.test
    ok = view.complete
    if not ok.any():
        return None
    ok = ok & (table.rung == table.rung[ok].max())
    ok = ok & (table.col("k") == table.col("k")[ok].max())
    rows = np.flatnonzero(ok)
    rows = rows[np.lexsort((table.number[rows], -mean[rows]))][:top]
    records = [table.record(int(i)) for i in rows]
    return TrialTable.from_trials(records, metrics=table.metrics, refit=metric)


def _answer(found: Any, top: TrialTable | None, metric: str, rope: float,
            allowed: tuple[str, ...], sizes: tuple[np.ndarray, np.ndarray] | None) -> _Answer:
    """The statistics of the shown study (runs off the GUI thread)."""
    from hpstudio.core.nested import load_result
    from hpstudio.core.top_comparison import study_split_sizes

    if found is None:
        return _Answer(None, "no stored study is shown", None, None)
    store, study_id = found
    nested = load_result(store, study_id)
    if top is None or len(top) < 2:
        return _Answer(None, "needs at least 2 complete trials", nested, sizes)
    try:
        if sizes is None:
            sizes = study_split_sizes(store.get_study(study_id), allowed)
        if len(sizes[0]) != top.n_splits:
            raise HpstudioError(f"the splitter makes {len(sizes[0])} splits of the data now "
                                f"but the trials ran {top.n_splits}; did the data change?")
        comparison = compare_top(top, *sizes, metric=metric, top=len(top), rope=rope)
    except HpstudioError as exc:
        return _Answer(None, f"cannot tell: {exc}", nested, sizes)
    return _Answer(comparison, "", nested, sizes)


def _table() -> QTableWidget:
    table = QTableWidget(0, 0)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(20)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    """A header row then data rows, as text cells."""
    if not rows:
        table.setRowCount(0)
        table.setColumnCount(0)
        return
    header, body = rows[0], rows[1:]
    table.setColumnCount(len(header))
    table.setHorizontalHeaderLabels(list(header))
    table.setRowCount(len(body))
    for r, row in enumerate(body):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if _is_number(text):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def table_text(table: QTableWidget) -> list[list[str]]:
    """The cells of a table as text, row by row (for tests and copying)."""
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%").replace("−", "-"))
    except ValueError:
        return text in ("—", "-")
    return True


def _num(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.4g}"


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)
