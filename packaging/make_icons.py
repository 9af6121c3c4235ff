"""Generate hpstudio's icons: SVG sources, PNG renders, a Windows .ico and a macOS .icns.

The SVG markup lives in this script so that the artwork has one source of truth that can be
reviewed as text. Running the script writes:

* ``hpstudio/resources/icons/hpstudio.svg`` and ``hpstudio-<size>.png`` for every size in
  :data:`APP_ICON_SIZES` (16-32 px come from a simplified drawing, because the contour detail of
  the full drawing turns to mush at that scale);
* ``hpstudio/resources/icons/hpstudio.ico`` (PNG-compressed entries, 16-256 px) for Windows;
* ``hpstudio/resources/icons/toolbar/<name>.svg`` plus ``<name>-24.png`` / ``<name>-48.png``
  fallbacks, for hosts where the Qt SVG module is missing at run time;
* ``packaging/hpstudio.icns`` for the macOS ``.app`` bundle (only the packager needs it, so it is
  not shipped inside the Python package).

Rendering uses Qt's own SVG renderer (``PySide6.QtSvg``), which ships with PySide6-Essentials, so
no extra tool (Inkscape, rsvg-convert, cairosvg) is needed. ``--check`` verifies that the files on
disk match this script without rewriting them; the test suite relies on the same functions.

Usage::

    python packaging/make_icons.py          # (re)write every icon
    python packaging/make_icons.py --check  # exit 1 if any icon is missing or stale
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ICON_DIR = REPO_ROOT / "hpstudio" / "resources" / "icons"
TOOLBAR_DIR = ICON_DIR / "toolbar"
ICNS_PATH = REPO_ROOT / "packaging" / "hpstudio.icns"

APP_ICON_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
#: Sizes at or below this one are rendered from the simplified drawing.
SMALL_ICON_MAX = 32
ICO_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)
TOOLBAR_PNG_SIZES: tuple[int, ...] = (24, 48)
#: Colour substituted for ``currentColor`` in the PNG fallbacks: a mid grey that stays readable
#: on both light and dark toolbars (the SVG path recolours to the live palette instead).
TOOLBAR_FALLBACK_COLOR = "#6b7280"

NAVY_TOP = "#25426f"
NAVY_BOTTOM = "#16294a"
TEAL = "#3cc6b5"
AMBER = "#ffb703"

# The app icon: a navy tile, the contour lines of a score surface around its optimum, a few
# sampled trials, and an amber best-so-far staircase that climbs to the optimum.
APP_ICON_SVG = f"""\
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>hpstudio</title>
  <defs>
    <linearGradient id="tile" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="{NAVY_TOP}"/>
      <stop offset="1" stop-color="{NAVY_BOTTOM}"/>
    </linearGradient>
  </defs>
  <rect x="9.5" y="9.5" width="237" height="237" rx="50.5" fill="url(#tile)"
        stroke="#ffffff" stroke-opacity="0.14" stroke-width="3"/>
  <g fill="none" stroke="{TEAL}" stroke-width="9" transform="rotate(-25 168 92)">
    <ellipse cx="168" cy="92" rx="74" ry="46" stroke-opacity="0.3"/>
    <ellipse cx="168" cy="92" rx="49" ry="30" stroke-opacity="0.55"/>
    <ellipse cx="168" cy="92" rx="25" ry="15" stroke-opacity="0.9"/>
  </g>
  <g fill="{TEAL}" fill-opacity="0.6">
    <circle cx="66" cy="92" r="7"/>
    <circle cx="56" cy="146" r="7"/>
    <circle cx="112" cy="206" r="7"/>
    <circle cx="204" cy="180" r="7"/>
    <circle cx="196" cy="216" r="7"/>
  </g>
  <path d="M44 204H84V168H116V136H142V112H168V92" fill="none" stroke="{AMBER}"
        stroke-width="14" stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="168" cy="92" r="16" fill="{AMBER}" stroke="{NAVY_BOTTOM}" stroke-width="6"/>
</svg>
"""

# Same motif with fewer, thicker strokes, so 16-32 px renders stay crisp.
APP_ICON_SMALL_SVG = f"""\
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>hpstudio (small sizes)</title>
  <rect x="4" y="4" width="248" height="248" rx="48" fill="{NAVY_BOTTOM}"/>
  <ellipse cx="168" cy="92" rx="62" ry="40" fill="none" stroke="{TEAL}" stroke-width="20"
           stroke-opacity="0.75" transform="rotate(-25 168 92)"/>
  <path d="M40 208H96V152H140V104H168" fill="none" stroke="{AMBER}" stroke-width="28"
        stroke-linecap="round" stroke-linejoin="round"/>
  <circle cx="168" cy="92" r="26" fill="{AMBER}"/>
</svg>
"""

_TOOLBAR_HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" '
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
    'stroke-linejoin="round">'
)

# Toolbar glyphs on a 24 px grid. Monochrome glyphs draw with ``currentColor`` so the
# application can recolour them to the palette's button-text colour; the three run controls keep
# their traffic-light colours, which read well on light and dark toolbars alike.
_TOOLBAR_BODIES: dict[str, str] = {
    "start": (
        '<path d="M7 4.8v14.4a1 1 0 0 0 1.53.85l11.3-7.2a1 1 0 0 0 0-1.7L8.53 3.95'
        'A1 1 0 0 0 7 4.8z" fill="#2f9e5c" stroke="#2f9e5c" stroke-width="1.5"/>'
    ),
    "pause": (
        '<rect x="5.5" y="4" width="4.5" height="16" rx="1.2" fill="#d9961a" stroke="none"/>'
        '<rect x="14" y="4" width="4.5" height="16" rx="1.2" fill="#d9961a" stroke="none"/>'
    ),
    "stop": '<rect x="5" y="5" width="14" height="14" rx="2.5" fill="#d64545" stroke="none"/>',
    "open": (
        '<path d="M3 7.5V6a2 2 0 0 1 2-2h3.6l2 2H17a2 2 0 0 1 2 2v1"/>'
        '<path d="M3 7.5V18a2 2 0 0 0 2 2h12.4a2 2 0 0 0 1.9-1.4l2.2-6.6A1.5 1.5 0 0 0 20.1 10'
        'H8.2a2 2 0 0 0-1.9 1.4L4 18.5"/>'
    ),
    "save": (
        '<path d="M5 3h11l5 5v11a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/>'
        '<path d="M7 3v5h8V3"/><path d="M7 21v-7h10v7"/>'
    ),
    "export": (
        '<path d="M12 15V3"/><path d="M7 8l5-5 5 5"/>'
        '<path d="M4 14v5a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-5"/>'
    ),
    "new": (
        '<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/>'
        '<path d="M14 3v5h5"/><path d="M12 11v6"/><path d="M9 14h6"/>'
    ),
    "history": (
        '<path d="M3.5 12a8.5 8.5 0 1 0 2.5-6"/><path d="M3 3.5V9h5.5"/><path d="M12 7.5V12l3 2"/>'
    ),
    "compare": (
        '<rect x="3" y="4" width="7.5" height="16" rx="1.5"/>'
        '<rect x="13.5" y="4" width="7.5" height="16" rx="1.5"/>'
        '<path d="M5.5 16.5l2.5-3 1 1"/><path d="M16 16.5l1.5-5 1.5 2"/>'
    ),
    "refine": (
        '<circle cx="10.5" cy="10.5" r="6.5"/><path d="M15.5 15.5L21 21"/>'
        '<circle cx="10.5" cy="10.5" r="2" fill="currentColor" stroke="none"/>'
        '<path d="M10.5 4v1.8M10.5 15.2V17M4 10.5h1.8M15.2 10.5H17"/>'
    ),
}

TOOLBAR_ICONS: tuple[str, ...] = tuple(_TOOLBAR_BODIES)


def toolbar_svg(name: str) -> str:
    """Return the SVG document for toolbar glyph ``name``."""
    return f"{_TOOLBAR_HEAD}<title>{name}</title>{_TOOLBAR_BODIES[name]}</svg>\n"


def svg_sources() -> dict[Path, str]:
    """Map every SVG file the generator owns to its expected text."""
    sources = {ICON_DIR / "hpstudio.svg": APP_ICON_SVG}
    for name in TOOLBAR_ICONS:
        sources[TOOLBAR_DIR / f"{name}.svg"] = toolbar_svg(name)
    return sources


def png_targets() -> dict[Path, int]:
    """Map every PNG file the generator owns to its expected edge length in pixels."""
    targets = {ICON_DIR / f"hpstudio-{size}.png": size for size in APP_ICON_SIZES}
    for name in TOOLBAR_ICONS:
        for size in TOOLBAR_PNG_SIZES:
            targets[TOOLBAR_DIR / f"{name}-{size}.png"] = size
    return targets


def _ensure_app() -> object:
    """Create a headless QGuiApplication: Qt's painting stack needs one."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([])


def render_svg(svg: str, size: int) -> bytes:
    """Render ``svg`` to a square PNG of ``size`` pixels and return the PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError("Qt could not parse the SVG source")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def app_icon_png(size: int) -> bytes:
    """Render the application icon at ``size`` px, picking the drawing suited to that size."""
    return render_svg(APP_ICON_SMALL_SVG if size <= SMALL_ICON_MAX else APP_ICON_SVG, size)


def toolbar_png(name: str, size: int) -> bytes:
    """Render toolbar glyph ``name`` at ``size`` px in the neutral fallback colour."""
    return render_svg(toolbar_svg(name).replace("currentColor", TOOLBAR_FALLBACK_COLOR), size)


def build_ico(images: Iterable[tuple[int, bytes]]) -> bytes:
    """Pack PNG images into a Windows .ico container.

    PNG-compressed entries are valid in .ico files since Windows Vista and keep the file small;
    Qt's own ICO writer only stores a single image, hence this tiny packer.
    """
    entries = list(images)
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = len(header) + 16 * len(entries)
    directory = b""
    payload = b""
    for size, png in entries:
        edge = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
        directory += struct.pack("<BBBBHHII", edge, edge, 0, 0, 1, 32, len(png), offset)
        payload += png
        offset += len(png)
    return header + directory + payload


# (OSType, pixel size) pairs of PNG-based icns entries understood by macOS 10.7 and later.
ICNS_ENTRIES: tuple[tuple[bytes, int], ...] = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),  # 512 pt @2x
    (b"ic11", 32),  # 16 pt @2x
    (b"ic12", 64),  # 32 pt @2x
    (b"ic13", 256),  # 128 pt @2x
    (b"ic14", 512),  # 256 pt @2x
)


def build_icns(render: dict[int, bytes]) -> bytes:
    """Pack PNG renders (keyed by pixel size) into a macOS .icns container.

    The format is a four-byte magic, a big-endian length, then typed PNG chunks; writing it
    directly avoids depending on macOS-only ``iconutil`` when building on Linux or Windows.
    """
    body = b"".join(
        ostype + struct.pack(">I", len(render[size]) + 8) + render[size]
        for ostype, size in ICNS_ENTRIES
    )
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def generate() -> list[Path]:
    """Write every icon file and return the paths written."""
    _ensure_app()
    written: list[Path] = []
    for path, text in svg_sources().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    renders = {size: app_icon_png(size) for size in {*APP_ICON_SIZES, *ICO_SIZES, 1024}}
    for size in APP_ICON_SIZES:
        path = ICON_DIR / f"hpstudio-{size}.png"
        path.write_bytes(renders[size])
        written.append(path)
    for name in TOOLBAR_ICONS:
        for size in TOOLBAR_PNG_SIZES:
            path = TOOLBAR_DIR / f"{name}-{size}.png"
            path.write_bytes(toolbar_png(name, size))
            written.append(path)
    ico = ICON_DIR / "hpstudio.ico"
    ico.write_bytes(build_ico((size, renders[size]) for size in ICO_SIZES))
    ICNS_PATH.write_bytes(build_icns(renders))
    written += [ico, ICNS_PATH]
    return written


def check() -> list[str]:
    """Return a description of every missing or stale icon file (empty when all is current)."""
    _ensure_app()
    from PySide6.QtGui import QImage

    problems: list[str] = []
    for path, text in svg_sources().items():
        if not path.is_file():
            problems.append(f"missing: {path}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"stale (differs from make_icons.py): {path}")
    for path, size in png_targets().items():
        image = QImage(str(path))
        if image.isNull():
            problems.append(f"missing or unreadable: {path}")
        elif (image.width(), image.height()) != (size, size):
            problems.append(f"wrong size {image.width()}x{image.height()}: {path}")
    for path in (ICON_DIR / "hpstudio.ico", ICNS_PATH):
        if not path.is_file():
            problems.append(f"missing: {path}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="verify the icons instead of writing them"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in generate():
        print(path.relative_to(REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
