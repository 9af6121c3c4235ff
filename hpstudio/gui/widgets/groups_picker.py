"""The groups column of a data file: used only to split the rows, never as a feature.

Group splitters (GroupKFold, LeaveOneGroupOut, ...) keep each group's rows together in
one fold; ``PredefinedSplit`` reads each row's test fold from it. Picking a column here
sets ``[data] groups``; the column is then left out of the features.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from hpstudio.gui.widgets.explanations import explain

__all__ = ["NO_GROUPS", "GroupsPicker"]

NO_GROUPS = "(none)"


class GroupsPicker(QComboBox):
    """"(none)" or one of the file's columns other than the target."""

    picked = Signal(object)  # the column, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        explain(self, "A column to split by, never a feature: group splitters keep each "
                      "group's rows in one fold (PredefinedSplit: each row's test fold)")
        self._filling = False
        self.addItem(NO_GROUPS, None)
        self.currentIndexChanged.connect(self._on_picked)

    def column(self) -> str | None:
        return self.currentData()

    def set_columns(self, columns: Sequence[str], target: str | None,
                    current: str | None) -> None:
        """Offer ``columns`` but the target; ``current`` stays shown even if missing (its
        error comes when the data is read)."""
        self._filling = True
        try:
            self.clear()
            self.addItem(NO_GROUPS, None)
            for name in columns:
                if name != target:
                    self.addItem(name, name)
            if current is not None and self.findData(current) < 0:
                self.addItem(f"{current} (not in the file)", current)
            self.setCurrentIndex(max(0, self.findData(current)) if current is not None else 0)
        finally:
            self._filling = False

    def set_column(self, name: str | None) -> None:
        """Pick ``name`` as the user would (emits ``picked``)."""
        self.setCurrentIndex(max(0, self.findData(name)) if name is not None else 0)

    def _on_picked(self, _index: int) -> None:
        if not self._filling:
            self.picked.emit(self.currentData())
