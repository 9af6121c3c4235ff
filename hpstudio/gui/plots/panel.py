"""All live plots of a study in one tab widget.

The panel owns the shared column store. Appended trials are coalesced by a short
single-shot timer (one redraw per frame at most, however fast trials arrive), only
the visible tab is redrawn, and hidden tabs are marked dirty and redrawn when
shown, so a running study pays for one plot per frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6 import QtCore, QtWidgets

from hpstudio.core.records import TrialRecord
from hpstudio.gui.plots.base import PlotBase
from hpstudio.gui.plots.columns import TrialColumns
from hpstudio.gui.plots.contour import ContourPlot
from hpstudio.gui.plots.history import HistoryPlot
from hpstudio.gui.plots.importance import ImportancePlot
from hpstudio.gui.plots.overfitting import OverfittingPlot
from hpstudio.gui.plots.parallel import ParallelPlot
from hpstudio.gui.plots.slices import SlicesPlot
from hpstudio.gui.plots.timeline import TimelinePlot

__all__ = ["FRAME_MS", "PlotsPanel"]

FRAME_MS = 16  # coalescing window for appended trials: about one screen frame


class PlotsPanel(QtWidgets.QWidget):
    """Tabs: History, Slices, Parallel, Contour, Importance, Overfitting, Timeline.

    Signals: ``trialClicked(int)`` when a trial is clicked in any plot;
    ``filterChanged(object)`` with the set of trial numbers passing the parallel
    coordinates brushes (None when no brush is set).
    """

    trialClicked = QtCore.Signal(int)
    filterChanged = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = TrialColumns()
        self.metric_name = "score"
        self.selected: int | None = None
        self.history = HistoryPlot()
        self.slices = SlicesPlot()
        self.parallel = ParallelPlot()
        self.contour = ContourPlot()
        self.importance = ImportancePlot()
        self.overfitting = OverfittingPlot()
        self.timeline = TimelinePlot()
        self.plots: dict[str, PlotBase] = {
            p.title.lower(): p
            for p in (self.history, self.slices, self.parallel, self.contour,
                      self.importance, self.overfitting, self.timeline)
        }
        self.tabs = QtWidgets.QTabWidget(self)
        for plot in self.plots.values():
            self.tabs.addTab(plot, plot.title)
            plot.trialClicked.connect(self._on_trial_clicked)
        self.parallel.filterChanged.connect(self.filterChanged)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self._pending: list[TrialRecord] = []
        self._flush_timer = QtCore.QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FRAME_MS)
        self._flush_timer.timeout.connect(self.flush)

    # -- public API -------------------------------------------------------------------
    def set_study(
        self,
        trials: Sequence[TrialRecord],
        log_params: Iterable[str] = frozenset(),
        metric: str = "score",
        appended: Sequence[TrialRecord] = (),
    ) -> None:
        """Show a whole study (replacing any previous one); draws the visible tab now.

        ``trials`` may be a reopened study's ``StoredTrials``: the plots then read its
        column arrays (no record is built) and its folds only when the timeline is
        drawn. ``appended`` are records that arrived after those (a resumed study)."""
        self._flush_timer.stop()
        self._pending.clear()
        self.metric_name = metric
        self.columns = TrialColumns.from_trials(trials, log_params)
        if appended:
            self.columns.extend(appended)
        for plot in self.plots.values():
            plot.set_columns(self.columns, metric)
            plot.selected = self.selected
        current = self.current_plot()
        if current is not None:
            current.refresh()

    def append_trial(self, trial: TrialRecord) -> None:
        """Add one finished trial; plots catch up within one frame (coalesced)."""
        self._pending.append(trial)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def append_trials(self, trials: Sequence[TrialRecord]) -> None:
        self._pending.extend(trials)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply pending appends now: redraw the visible plot, mark the others dirty."""
        self._flush_timer.stop()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        start = self.columns.extend(batch)
        current = self.current_plot()
        for plot in self.plots.values():
            if plot is not current:
                plot.dirty = True
            elif plot.dirty:
                plot.refresh()
            else:
                plot.append(start)  # may defer itself (throttled plots)

    def select_trial(self, number: int | None) -> None:
        """Highlight trial ``number`` in every plot (None clears the highlight)."""
        self.selected = number
        for plot in self.plots.values():
            plot.set_selected(number)

    def current_plot(self) -> PlotBase | None:
        w = self.tabs.currentWidget()
        return w if isinstance(w, PlotBase) else None

    def show_plot(self, name: str) -> PlotBase:
        """Switch to the tab ``name`` (history, slices, parallel, contour, importance,
        overfitting, timeline) and make sure it is up to date."""
        plot = self.plots[name]
        self.tabs.setCurrentWidget(plot)
        plot.ensure_fresh()
        return plot

    def refresh_all(self) -> None:
        """Recompute every plot, visible or not (e.g. before exporting them all)."""
        self.flush()
        for plot in self.plots.values():
            plot.refresh()

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def shutdown(self) -> None:
        """Stop timers and background work (call before the app quits)."""
        self._flush_timer.stop()
        for plot in self.plots.values():
            plot.cancel_deferred()

    # -- internals --------------------------------------------------------------------
    def _on_tab_changed(self, _index: int) -> None:
        plot = self.current_plot()
        if plot is not None:
            plot.ensure_fresh()

    def _on_trial_clicked(self, number: int) -> None:
        self.select_trial(number)
        self.trialClicked.emit(number)


def _preview() -> None:  # pragma: no cover - manual preview
    import sys

    from hpstudio.gui.plots.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    panel = PlotsPanel()
    trials = synthetic_trials(3000, n_params=4)
    panel.set_study(trials[:500], SYNTHETIC_LOG_PARAMS, "accuracy")
    feed = iter(trials[500:])

    def tick() -> None:
        trial = next(feed, None)
        if trial is None:
            timer.stop()
        else:
            panel.append_trial(trial)

    timer = QtCore.QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    panel.resize(1100, 700)
    panel.show()
    app.exec()


if __name__ == "__main__":  # pragma: no cover
    _preview()
