"""All live plots of a study in one tab widget.

The panel observes a study session: the session owns the trial table and coalesces
appended trials (one ``appended`` per frame at most, however fast trials arrive); here
only the visible tab is redrawn, and hidden tabs are marked dirty and redrawn when
shown, so a running study pays for one plot per frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6 import QtCore, QtWidgets

from hpstudio.core.records import TrialRecord
from hpstudio.core.trials import TrialTable
from hpstudio.gui.plots.base import PlotBase
from hpstudio.gui.plots.contour import ContourPlot
from hpstudio.gui.plots.edf import EdfPlot
from hpstudio.gui.plots.history import HistoryPlot
from hpstudio.gui.plots.importance import ImportancePlot
from hpstudio.gui.plots.overfitting import OverfittingPlot
from hpstudio.gui.plots.parallel import ParallelPlot
from hpstudio.gui.plots.pareto import ParetoPlot
from hpstudio.gui.plots.rank import RankPlot
from hpstudio.gui.plots.rungs import RungsPlot
from hpstudio.gui.plots.slices import SlicesPlot
from hpstudio.gui.plots.timeline import TimelinePlot
from hpstudio.gui.session import StudySession
from hpstudio.gui.widgets.metric_chooser import MetricChooser

__all__ = ["PlotsPanel"]


class PlotsPanel(QtWidgets.QWidget):
    """Tabs: History, Slices, Parallel, Contour, Importance, Overfitting, Pareto, EDF, Rank,
    Timeline, Rungs; a metric chooser beside them when the study has several metrics.

    Signals: ``trialClicked(int)`` when a trial is clicked in any plot;
    ``filterChanged(object)`` with the set of trial numbers passing the parallel
    coordinates brushes (None when no brush is set).
    """

    trialClicked = QtCore.Signal(int)
    filterChanged = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None,
                 session: StudySession | None = None) -> None:
        super().__init__(parent)
        self.session = session or StudySession(self)
        self.selected: int | None = None
        self.history = HistoryPlot()
        self.slices = SlicesPlot()
        self.parallel = ParallelPlot()
        self.contour = ContourPlot()
        self.importance = ImportancePlot()
        self.overfitting = OverfittingPlot()
        self.pareto = ParetoPlot()
        self.edf = EdfPlot()
        self.rank = RankPlot()
        self.timeline = TimelinePlot()
        self.rungs = RungsPlot()
        self.plots: dict[str, PlotBase] = {
            p.title.lower(): p
            for p in (self.history, self.slices, self.parallel, self.contour,
                      self.importance, self.overfitting, self.pareto, self.edf, self.rank,
                      self.timeline, self.rungs)
        }
        self.tabs = QtWidgets.QTabWidget(self)
        self.metric_chooser = MetricChooser(self.session, self)
        self.tabs.setCornerWidget(self.metric_chooser)
        for plot in self.plots.values():
            self.tabs.addTab(plot, plot.title)
            plot.trialClicked.connect(self._on_trial_clicked)
        self.parallel.filterChanged.connect(self.filterChanged)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.session.reset.connect(self._on_reset)
        self.session.appended.connect(self._on_appended)
        self.session.metricChanged.connect(self._on_reset)
        self._on_reset()

    # -- the study ----------------------------------------------------------------------
    @property
    def columns(self) -> TrialTable:
        """The shown study's trial table (the session's)."""
        return self.session.table

    @property
    def metric_name(self) -> str:
        return self.session.metric

    def set_study(
        self,
        trials: Sequence[TrialRecord] | TrialTable,
        log_params: Iterable[str] = frozenset(),
        metric: str = "score",
        appended: Sequence[TrialRecord] = (),
    ) -> None:
        """Show a whole study through the session (replacing any previous one).

        ``trials`` may be a reopened study's table: the plots then read its columns (no
        record is built) and its folds only when the timeline is drawn. ``appended`` are
        records that arrived after those (a resumed study)."""
        self.session.show_trials(trials, metric=metric, log_params=log_params)
        if appended:
            self.session.add_trials(appended)
            self.session.flush()

    def append_trial(self, trial: TrialRecord) -> None:
        """Add one finished trial; plots catch up within one frame (coalesced)."""
        self.session.add_trials([trial])

    def append_trials(self, trials: Sequence[TrialRecord]) -> None:
        self.session.add_trials(trials)

    def flush(self) -> None:
        """Apply pending appends now."""
        self.session.flush()

    def _on_reset(self) -> None:
        """A new study: every plot reads the new table; the visible one draws now."""
        for plot in self.plots.values():
            plot.set_columns(self.session.view, self.session.shown_label)
            plot.selected = self.selected
        current = self.current_plot()
        if current is not None:
            current.refresh()

    def _on_appended(self, first: int, _count: int) -> None:
        """Redraw the visible plot, mark the others dirty."""
        current = self.current_plot()
        for plot in self.plots.values():
            if plot is not current:
                plot.dirty = True
            elif plot.dirty:
                plot.refresh()
            else:
                plot.append(first)  # may defer itself (throttled plots)

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
        overfitting, timeline, rungs) and make sure it is up to date."""
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
        return self.session.pending_count

    def shutdown(self) -> None:
        """Stop timers and background work (call before the app quits)."""
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

    from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials

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
