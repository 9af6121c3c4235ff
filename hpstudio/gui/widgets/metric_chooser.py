"""The metric every plot and the trial table show, for a study scored with several.

Shown only when the study has more than one metric; choosing one asks the session to show
it (``StudySession.set_shown_metric``), and every view follows.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from hpstudio.gui.session import StudySession

__all__ = ["MetricChooser"]


class MetricChooser(QWidget):
    """A "metric:" combo box bound to a session."""

    def __init__(self, session: StudySession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.combo = QComboBox(self)
        self.combo.setToolTip("The metric the plots and the trial table show; the study's "
                              "refit metric ranks the trials and picks the best")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("metric", self))
        layout.addWidget(self.combo)
        self._filling = False
        self.combo.currentIndexChanged.connect(self._on_picked)
        session.reset.connect(self._sync)
        session.metricChanged.connect(self._sync)
        self._sync()

    def metrics(self) -> list[str]:
        return [self.combo.itemData(i) for i in range(self.combo.count())]

    def choose(self, metric: str) -> None:
        """Show ``metric`` as the user would by picking it."""
        self.combo.setCurrentIndex(self.combo.findData(metric))

    def _sync(self) -> None:
        table = self.session.table
        metrics = list(table.metrics)
        self._filling = True
        try:
            if metrics != self.metrics():
                self.combo.clear()
                for metric in metrics:
                    label = f"{metric} (refit)" if metric == table.refit else metric
                    self.combo.addItem(label, metric)
            shown = self.session.shown_metric or table.refit
            self.combo.setCurrentIndex(max(0, self.combo.findData(shown)))
        finally:
            self._filling = False
        self.setVisible(len(metrics) > 1)

    def _on_picked(self, _index: int) -> None:
        if not self._filling and self.combo.currentData() is not None:
            self.session.set_shown_metric(self.combo.currentData())
