"""Packaged resources: icons, style sheet, .desktop entry, their helpers and the built wheel.

Resources are looked up through importlib.resources, as the app does, so these tests catch files
that exist in the checkout but would be missing from an installed package.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from importlib.resources import files
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QTableWidget,
    QToolBar,
)

from hpstudio.gui import resources as res

# Read when the QApplication is created (by pytest-qt's qapp fixture), not at import time.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parents[1]
RESOURCES = files("hpstudio.resources")
SVG_NS = "{http://www.w3.org/2000/svg}"

# Palette roles the Qt style sheet parser understands; any other name silently resolves to the
# default text colour, so a typo would go unnoticed without this list.
QSS_PALETTE_ROLES = {
    "alternate-base": "AlternateBase",
    "base": "Base",
    "bright-text": "BrightText",
    "button": "Button",
    "button-text": "ButtonText",
    "dark": "Dark",
    "highlight": "Highlight",
    "highlighted-text": "HighlightedText",
    "light": "Light",
    "link": "Link",
    "link-visited": "LinkVisited",
    "mid": "Mid",
    "midlight": "Midlight",
    "placeholder-text": "PlaceholderText",
    "shadow": "Shadow",
    "text": "Text",
    "window": "Window",
    "window-text": "WindowText",
}


def _load_packaging_module(name: str) -> ModuleType:
    """Import a script from packaging/ (not a package) by path."""
    path = REPO_ROOT / "packaging" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_hpstudio_packaging_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _image(*parts: str) -> QImage:
    image = QImage.fromData(RESOURCES.joinpath(*parts).read_bytes())
    assert not image.isNull(), f"{'/'.join(parts)} is not a readable image"
    return image


def _opaque_pixels(image: QImage) -> int:
    converted = image.convertToFormat(QImage.Format.Format_ARGB32)
    return sum(
        1
        for y in range(converted.height())
        for x in range(converted.width())
        if converted.pixelColor(x, y).alpha() > 0
    )


def _assert_valid_svg(data: bytes, size: int) -> None:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == f"0 0 {size} {size}"
    assert QSvgRenderer(QByteArray(data)).isValid()


# ---- files ----------------------------------------------------------------------------------


def test_resources_is_a_package() -> None:
    assert RESOURCES.is_dir()
    assert RESOURCES.joinpath("__init__.py").is_file()


def test_app_icon_svg_is_valid() -> None:
    _assert_valid_svg(RESOURCES.joinpath("icons", "hpstudio.svg").read_bytes(), 256)


@pytest.mark.parametrize("size", res.APP_ICON_SIZES)
def test_app_icon_png_has_its_size(size: int) -> None:
    image = _image("icons", f"hpstudio-{size}.png")
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()
    # The tile fills most of the square; the rounded corners stay transparent.
    assert image.pixelColor(0, 0).alpha() == 0
    assert _opaque_pixels(image) > 0.7 * size * size


def test_ico_holds_every_windows_size() -> None:
    data = RESOURCES.joinpath("icons", "hpstudio.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for i in range(count):
        width, _h, _c, _r, _p, _b, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * i
        )
        png = data[offset : offset + length]
        image = QImage.fromData(png, "PNG")
        assert not image.isNull()
        assert image.width() == (width or 256)
        sizes.add(image.width())
    assert sizes == {16, 24, 32, 48, 64, 128, 256}


def test_icns_is_well_formed() -> None:
    data = (REPO_ROOT / "packaging" / "hpstudio.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    offset, types = 8, set()
    while offset < len(data):
        ostype, length = (
            data[offset : offset + 4],
            struct.unpack(">I", data[offset + 4 : offset + 8])[0],
        )
        assert not QImage.fromData(data[offset + 8 : offset + length], "PNG").isNull()
        types.add(ostype)
        offset += length
    assert offset == len(data)
    assert {b"ic07", b"ic08", b"ic09", b"ic10"} <= types


@pytest.mark.parametrize("name", res.TOOLBAR_ICONS)
def test_toolbar_icon_files(name: str) -> None:
    svg = RESOURCES.joinpath("icons", "toolbar", f"{name}.svg").read_bytes()
    _assert_valid_svg(svg, 24)
    for size in res.TOOLBAR_PNG_SIZES:
        image = _image("icons", "toolbar", f"{name}-{size}.png")
        assert (image.width(), image.height()) == (size, size)
        assert _opaque_pixels(image) > 0


def test_icons_match_their_generator(qapp) -> None:
    """Committed icons must be what packaging/make_icons.py produces (no hand-edited drift)."""
    make_icons = _load_packaging_module("make_icons")
    assert make_icons.check() == []
    assert make_icons.TOOLBAR_ICONS == res.TOOLBAR_ICONS
    assert make_icons.APP_ICON_SIZES == res.APP_ICON_SIZES
    assert make_icons.TOOLBAR_PNG_SIZES == res.TOOLBAR_PNG_SIZES


def test_desktop_entry_has_required_keys() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop entries
    parser.read_string(RESOURCES.joinpath("hpstudio.desktop").read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "hpstudio"
    assert entry["GenericName"] == "Hyperparameter Tuning Studio"
    assert entry["Exec"] == "hpstudio"
    assert entry["Icon"] == "hpstudio"
    assert entry["Terminal"] == "false"
    assert entry["Comment"].strip()
    categories = entry["Categories"]
    assert categories.endswith(";")
    assert {"Science", "Development", "DataVisualization"} <= set(categories.split(";"))
    assert entry["Icon"] == res.DESKTOP_FILE_NAME
    assert res.desktop_entry() == RESOURCES.joinpath("hpstudio.desktop").read_text(encoding="utf-8")


# ---- style sheet ----------------------------------------------------------------------------


def test_style_sheet_is_balanced_and_uses_known_palette_roles() -> None:
    qss = res.style_sheet()
    body = re.sub(r"/\*.*?\*/", "", qss, flags=re.DOTALL)
    assert body.strip()
    assert body.count("{") == body.count("}") > 10
    roles = set(re.findall(r"palette\(([a-z-]+)\)", body))
    assert roles, "the sheet should follow the system palette"
    assert roles <= set(QSS_PALETTE_ROLES), roles - set(QSS_PALETTE_ROLES)
    for selector in ("QToolBar", "QProgressBar::chunk", "QHeaderView::section", '[invalid="true"]'):
        assert selector in body
    assert res.INVALID_COLOR in body


def _styled_window() -> QMainWindow:
    window = QMainWindow()
    toolbar = QToolBar("Main")
    for name in res.TOOLBAR_ICONS:
        toolbar.addAction(res.toolbar_icon(name), name.title())
    window.addToolBar(toolbar)
    table = QTableWidget(3, 3)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    window.setCentralWidget(table)
    bar = QProgressBar()
    bar.setValue(40)
    window.statusBar().addPermanentWidget(bar)
    return window


def test_qt_accepts_style_sheet_without_warnings(qapp, qtbot, qtlog) -> None:
    previous = qapp.styleSheet()
    try:
        qapp.setStyleSheet(res.style_sheet())
        window = _styled_window()
        qtbot.addWidget(window)
        editor = QLineEdit("-1")
        qtbot.addWidget(editor)
        res.set_invalid(editor, True, "must be positive")
        window.show()
        editor.show()
        qapp.processEvents()
        window.grab()
        editor.grab()
    finally:
        qapp.setStyleSheet(previous)
    messages = [record.message for record in qtlog.records]
    assert not [m for m in messages if "stylesheet" in m.lower() or "parse" in m.lower()], messages


@pytest.mark.parametrize("role", sorted(QSS_PALETTE_ROLES))
def test_palette_roles_resolve_to_the_palette(qapp, role: str) -> None:
    """Each role name the sheet may use really maps to that palette colour in this Qt."""
    label = QLabel("x")
    label.setStyleSheet(f"QLabel {{ color: palette({role}); }}")
    label.ensurePolished()
    expected = qapp.palette().color(getattr(QPalette.ColorRole, QSS_PALETTE_ROLES[role]))
    assert label.palette().color(QPalette.ColorRole.WindowText) == expected


# ---- helper API -----------------------------------------------------------------------------


def test_resource_path_finds_files_and_explains_missing_ones() -> None:
    assert res.resource_path("icons", "hpstudio.svg").read_bytes().startswith(b"<svg")
    with pytest.raises(res.ResourceNotFoundError, match=r"icons/nope\.svg"):
        res.resource_path("icons", "nope.svg")
    with pytest.raises(ValueError):
        res.resource_path()


def test_app_icon_has_every_size(qapp) -> None:
    icon = res.app_icon()
    assert not icon.isNull()
    sizes = {size.width() for size in icon.availableSizes()}
    # the 1024 px render is for the macOS dock only: elsewhere it would slow every start
    large = {1024} if sys.platform == "darwin" else set()
    assert set(res.APP_ICON_SIZES) | large == sizes
    assert icon.pixmap(16, 16).width() == 16


@pytest.mark.parametrize("name", res.TOOLBAR_ICONS)
def test_toolbar_icon_renders(qapp, name: str) -> None:
    icon = res.toolbar_icon(name)
    assert not icon.isNull()
    for size in (16, 24, 48):
        image = icon.pixmap(size, size).toImage()
        assert image.width() == size
        assert _opaque_pixels(image) > 0


def test_toolbar_icon_uses_requested_colour(qapp) -> None:
    image = res.toolbar_icon("open", "#ff0000").pixmap(48, 48).toImage()
    colours = {
        image.pixelColor(x, y).name()
        for y in range(48)
        for x in range(48)
        if image.pixelColor(x, y).alpha() == 255
    }
    assert colours == {"#ff0000"}


def test_toolbar_icon_follows_palette(qapp) -> None:
    text = qapp.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.ButtonText)
    image = res.toolbar_icon("save").pixmap(48, 48).toImage()
    solid = [
        image.pixelColor(x, y)
        for y in range(48)
        for x in range(48)
        if image.pixelColor(x, y).alpha() == 255
    ]
    assert solid and all(c.rgb() == text.rgb() for c in solid)


def test_toolbar_icon_rejects_bad_input(qapp) -> None:
    with pytest.raises(KeyError, match="unknown toolbar icon 'play'"):
        res.toolbar_icon("play")
    with pytest.raises(ValueError, match="invalid icon colour"):
        res.toolbar_icon("open", "not-a-colour")


def test_toolbar_png_fallback(qapp) -> None:
    icon = res._toolbar_fallback_icon("history")
    assert {s.width() for s in icon.availableSizes()} == set(res.TOOLBAR_PNG_SIZES)


def test_set_invalid_sets_property_and_tooltip(qtbot) -> None:
    editor = QLineEdit()
    qtbot.addWidget(editor)
    res.set_invalid(editor, True, "low must be below high")
    assert editor.property("invalid") is True
    assert editor.toolTip() == "low must be below high"
    res.set_invalid(editor, False)
    assert editor.property("invalid") is False
    assert editor.toolTip() == ""


def test_invalid_cell_color_is_translucent_red() -> None:
    color = res.invalid_cell_color()
    assert color.rgb() == QColor(res.INVALID_COLOR).rgb()
    assert 0 < color.alpha() < 255


def test_apply_to_application(qapp) -> None:
    previous = qapp.styleSheet(), qapp.windowIcon(), qapp.desktopFileName()
    try:
        res.apply_to_application(qapp)
        assert qapp.styleSheet() == res.style_sheet()
        assert not qapp.windowIcon().isNull()
        assert qapp.desktopFileName() == "hpstudio"
    finally:
        qapp.setStyleSheet(previous[0])
        qapp.setWindowIcon(previous[1])
        qapp.setDesktopFileName(previous[2])


# ---- frozen entry script --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["app", "--help"], None),
        (["app", "run", "spec.toml"], None),
        (["app", "-m", "os"], None),
        (["app", "-c", "print(1)"], None),
        (["app", "-m"], None),
        (
            ["app", "-m", "loky.backend.popen_loky_posix", "--pipe", "5"],
            ("-m", "loky.backend.popen_loky_posix", ["--pipe", "5"]),
        ),
        (
            ["app", "-B", "-s", "-c", "from loky.backend.resource_tracker import main; main(3)"],
            ("-c", "from loky.backend.resource_tracker import main; main(3)", []),
        ),
        (
            ["app", "-X", "utf8", "-m", "joblib.externals.loky.backend.popen_loky_posix"],
            ("-m", "joblib.externals.loky.backend.popen_loky_posix", []),
        ),
    ],
)
def test_entry_recognises_only_known_helper_processes(
    argv: list[str], expected: tuple[str, str, list[str]] | None
) -> None:
    entry = _load_packaging_module("entry")
    assert entry.helper_invocation(argv) == expected


# ---- the built wheel ------------------------------------------------------------------------


def _unmet_build_requirements() -> list[str]:
    """Build-system requirements missing from this environment.

    The wheel is built with --no-build-isolation, so the running environment must already
    satisfy pyproject's [build-system] requires (e.g. setuptools and wheel).
    """
    from importlib import metadata

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    unmet = []
    for text in pyproject.get("build-system", {}).get("requires", []):
        requirement = Requirement(text)
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            unmet.append(f"{text} (not installed)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{text} (installed: {installed})")
    return unmet


@pytest.mark.slow
def test_wheel_ships_resources(tmp_path: Path) -> None:
    if not (REPO_ROOT / "pyproject.toml").is_file():
        pytest.skip("pyproject.toml is not present")
    unmet = _unmet_build_requirements()
    if unmet:
        pytest.skip("build requirements not met in this environment: " + ", ".join(unmet))
    # Build from a clean copy: an in-tree build would reuse a stale build/ folder (whose deleted
    # files setuptools still packs) and could race with other builds of the same checkout.
    source = tmp_path / "src"
    shutil.copytree(
        REPO_ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    out = tmp_path / "wheels"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("hpstudio-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        expected = {
            "hpstudio/resources/__init__.py",
            "hpstudio/resources/hpstudio.desktop",
            "hpstudio/resources/style/hpstudio.qss",
            "hpstudio/resources/icons/hpstudio.svg",
            "hpstudio/resources/icons/hpstudio.ico",
            "hpstudio/gui/resources.py",
            *(f"hpstudio/resources/icons/hpstudio-{s}.png" for s in res.APP_ICON_SIZES),
            *(f"hpstudio/resources/icons/toolbar/{n}.svg" for n in res.TOOLBAR_ICONS),
            *(
                f"hpstudio/resources/icons/toolbar/{n}-{s}.png"
                for n in res.TOOLBAR_ICONS
                for s in res.TOOLBAR_PNG_SIZES
            ),
        }
        assert not expected - names, sorted(expected - names)
        assert archive.read("hpstudio/resources/style/hpstudio.qss").decode() == res.style_sheet()
