"""A message label whose height never changes, whatever it says and whether it is shown.

Warnings appear and clear as the user types. A label that grows, shrinks or hides with its
text moves every widget below or beside it, and the row the user was about to
double-click is then a neighbour. This one keeps its lines reserved: the text wraps within
them, ends with "…" when longer (the whole message is in the tooltip), and a hidden
message still takes its place in the layout.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["MessageLine", "fit_lines"]

_ELLIPSIS = "…"


def fit_lines(text: str, metrics: QFontMetrics, width: int, lines: int) -> str:
    """``text``, cut and ended with "…" where needed so it wraps into ``lines`` lines of
    ``width`` pixels."""
    if not text or width <= 0:
        return text

    def fits(candidate: str) -> bool:
        bounds = metrics.boundingRect(QRect(0, 0, width, 1 << 20),
                                      int(Qt.TextFlag.TextWordWrap), candidate)
        return bounds.height() <= lines * metrics.lineSpacing() and bounds.width() <= width

    if fits(text):
        return text
    low, high = 0, len(text)  # the longest prefix that fits with the ellipsis: binary search
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle].rstrip() + _ELLIPSIS):
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + _ELLIPSIS


class MessageLine(QLabel):
    """A QLabel of ``lines`` reserved lines; ``text()`` is the whole message."""

    def __init__(self, lines: int = 1, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines = lines
        # No QLabel word wrap: it would make the label's height depend on its width, and
        # a scroll area holding the editor would then size it by its preferred height.
        # The text is wrapped and elided in paintEvent instead.
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self._fix_height()

    def lines(self) -> int:
        return self._lines

    def setText(self, text: str) -> None:  # type: ignore[override]
        """Show ``text``; the tooltip carries all of it."""
        super().setText(text)
        self.setToolTip(text)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._height())

    def changeEvent(self, event: object) -> None:
        super().changeEvent(event)  # type: ignore[arg-type]
        self._fix_height()  # a new font or style changes the line height

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = self.contentsRect()
        shown = fit_lines(self.text(), self.fontMetrics(), area.width(), self._lines)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
                                   | Qt.TextFlag.TextWordWrap), shown)

    def _height(self) -> int:
        margins = self.contentsMargins()
        return self._lines * self.fontMetrics().lineSpacing() + margins.top() + margins.bottom()

    def _fix_height(self) -> None:
        height = self._height()
        if self.minimumHeight() != height or self.maximumHeight() != height:
            self.setFixedHeight(height)
