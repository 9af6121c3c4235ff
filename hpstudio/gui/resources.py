"""Access to hpstudio's packaged icons, style sheet and desktop entry.

Everything is read through :func:`importlib.resources.files`, never through paths computed from
``__file__``, so the same code works from a source checkout, an installed wheel, a zip import and
a PyInstaller bundle. Files are read as bytes and handed to Qt from memory for the same reason.

Typical start-up::

    app = QApplication(sys.argv)
    apply_to_application(app)          # window icon, style sheet, desktop-file name
    action.setIcon(toolbar_icon("start"))

Validation feedback follows one convention across widgets: :func:`set_invalid` sets the
``invalid`` property that the style sheet colours, and table models return
:func:`invalid_cell_color` for ``Qt.BackgroundRole`` so cells and editors use the same red.
"""

from __future__ import annotations

import functools
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

__all__ = [
    "APP_ICON_SIZES",
    "DESKTOP_FILE_NAME",
    "INVALID_COLOR",
    "TOOLBAR_ICONS",
    "ResourceNotFoundError",
    "app_icon",
    "apply_to_application",
    "desktop_entry",
    "invalid_cell_color",
    "resource_path",
    "set_invalid",
    "style_sheet",
    "toolbar_icon",
]

PACKAGE = "hpstudio.resources"
#: Pixel sizes of the pre-rendered application icon PNGs (``icons/hpstudio-<size>.png``).
APP_ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
#: Names accepted by :func:`toolbar_icon`.
TOOLBAR_ICONS: tuple[str, ...] = (
    "start",
    "pause",
    "stop",
    "open",
    "save",
    "export",
    "new",
    "history",
    "compare",
    "refine",
)
#: Pixel sizes of the PNG fallbacks used when Qt's SVG module is unavailable.
TOOLBAR_PNG_SIZES: tuple[int, ...] = (24, 48)
#: Sizes the toolbar SVGs are rendered at: common toolbar/menu sizes and their 2x variants, so
#: QIcon finds a crisp pixmap on high-DPI screens without scaling.
_TOOLBAR_RENDER_SIZES: tuple[int, ...] = (16, 20, 24, 32, 40, 48, 64)
#: Stem of the .desktop file; Wayland compositors match windows to launchers by it.
DESKTOP_FILE_NAME = "hpstudio"
#: The validation red used by the style sheet for ``[invalid="true"]`` widgets.
INVALID_COLOR = "#d64545"
#: Alpha of :func:`invalid_cell_color`; translucent so it tints light and dark bases alike.
_INVALID_CELL_ALPHA = 60


class ResourceNotFoundError(FileNotFoundError):
    """A packaged resource is missing, which means a broken install or a mistyped name."""


def resource_path(*parts: str) -> Traversable:
    """Return the packaged resource at ``parts`` (e.g. ``("icons", "hpstudio.svg")``).

    Raises :class:`ResourceNotFoundError` naming the resource and the package if it does not
    exist, instead of letting Qt silently produce an empty icon later.
    """
    if not parts:
        raise ValueError("resource_path() needs at least one path component")
    resource = files(PACKAGE).joinpath(*parts)
    if not resource.is_file():
        raise ResourceNotFoundError(
            f"packaged resource {'/'.join(parts)!r} not found in {PACKAGE}; "
            "the installation is incomplete or the name is wrong"
        )
    return resource


def _require_gui_application() -> None:
    """Fail clearly when called before a QGuiApplication exists (Qt would paint nothing)."""
    if QGuiApplication.instance() is None:
        raise RuntimeError("create the QApplication before loading icons")


def _pixmap_from_png(*parts: str) -> QPixmap:
    """Load a packaged PNG into a pixmap, raising if Qt cannot decode it."""
    pixmap = QPixmap()
    if not pixmap.loadFromData(resource_path(*parts).read_bytes(), "PNG"):
        raise ValueError(f"packaged image {'/'.join(parts)!r} is not a valid PNG")
    return pixmap


def _render_svg(svg: bytes, size: int) -> QPixmap | None:
    """Render SVG bytes to a square pixmap, or return None when Qt's SVG module is unavailable.

    QtSvg ships with PySide6-Essentials, but trimmed bundles or distro packages may lack it; the
    callers then fall back to the pre-rendered PNGs.
    """
    try:
        from PySide6.QtSvg import QSvgRenderer
    except ImportError:
        return None
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("packaged SVG could not be parsed by Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return QPixmap.fromImage(image)


def app_icon() -> QIcon:
    """Return the application icon with every pre-rendered size plus a large SVG render.

    The small PNGs come from a simplified drawing that stays legible at 16-32 px, so exact sizes
    are served from them; on macOS a 1024 px render from the SVG covers the high-DPI dock (it
    costs 10 ms of every start, so only there).
    """
    _require_gui_application()
    icon = QIcon()
    for size in APP_ICON_SIZES:
        icon.addPixmap(_pixmap_from_png("icons", f"hpstudio-{size}.png"))
    if sys.platform == "darwin":  # the dock; elsewhere the 512 px PNG is the largest used
        large = _render_svg(resource_path("icons", "hpstudio.svg").read_bytes(), 1024)
        if large is not None:
            icon.addPixmap(large)
    return icon


def _default_icon_color() -> QColor:
    """The palette's button-text colour: it contrasts with toolbars in light and dark themes."""
    return QGuiApplication.palette().color(
        QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText
    )


@functools.lru_cache(maxsize=64)
def _toolbar_icon(name: str, color: str) -> QIcon:
    """Build (and cache per colour) the icon for ``name`` with ``currentColor`` set to ``color``."""
    svg = resource_path("icons", "toolbar", f"{name}.svg").read_text(encoding="utf-8")
    data = svg.replace("currentColor", color).encode("utf-8")
    icon = QIcon()
    for size in _TOOLBAR_RENDER_SIZES:
        pixmap = _render_svg(data, size)
        if pixmap is None:
            return _toolbar_fallback_icon(name)
        icon.addPixmap(pixmap)
    return icon


def _toolbar_fallback_icon(name: str) -> QIcon:
    """Icon for ``name`` built from the neutral-grey PNGs, for hosts without QtSvg."""
    icon = QIcon()
    for size in TOOLBAR_PNG_SIZES:
        icon.addPixmap(_pixmap_from_png("icons", "toolbar", f"{name}-{size}.png"))
    return icon


def toolbar_icon(name: str, color: QColor | str | None = None) -> QIcon:
    """Return toolbar icon ``name`` (one of :data:`TOOLBAR_ICONS`).

    Monochrome glyphs are drawn in ``color``, by default the current palette's button-text
    colour, so they match light and dark themes; start/pause/stop keep their own colours. Icons
    are cached per colour: after a palette change, call again to get matching icons. Disabled
    variants are derived by Qt automatically.
    """
    if name not in TOOLBAR_ICONS:
        raise KeyError(f"unknown toolbar icon {name!r}; expected one of {', '.join(TOOLBAR_ICONS)}")
    _require_gui_application()
    qcolor = QColor(color) if color is not None else _default_icon_color()
    if not qcolor.isValid():
        raise ValueError(f"invalid icon colour {color!r}")
    return _toolbar_icon(name, qcolor.name(QColor.NameFormat.HexRgb))


@functools.lru_cache(maxsize=1)
def style_sheet() -> str:
    """Return the application Qt style sheet (palette-relative, for light and dark themes)."""
    return resource_path("style", "hpstudio.qss").read_text(encoding="utf-8")


def desktop_entry() -> str:
    """Return the text of the freedesktop.org launcher entry (``hpstudio.desktop``).

    Installers copy it to ``~/.local/share/applications`` together with the PNG icons.
    """
    return resource_path(f"{DESKTOP_FILE_NAME}.desktop").read_text(encoding="utf-8")


def invalid_cell_color() -> QColor:
    """Translucent validation red for ``Qt.BackgroundRole`` of invalid table cells."""
    color = QColor(INVALID_COLOR)
    color.setAlpha(_INVALID_CELL_ALPHA)
    return color


def set_invalid(widget: QWidget, invalid: bool, message: str = "") -> None:
    """Mark ``widget`` as (in)valid for the style sheet and show ``message`` as its tooltip.

    Style sheet property selectors are evaluated at polish time, so the widget is re-polished
    here; setting the property alone would not change its look.
    """
    if bool(widget.property("invalid")) == invalid and widget.toolTip() == message:
        return
    widget.setProperty("invalid", invalid)
    widget.setToolTip(message if invalid else "")
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def apply_to_application(app: QApplication) -> None:
    """Install the window icon, style sheet and desktop-file name on ``app``.

    The desktop-file name lets Wayland and X11 docks match windows to ``hpstudio.desktop`` so
    the launcher icon is used for running windows.
    """
    app.setWindowIcon(app_icon())
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    app.setStyleSheet(style_sheet())
