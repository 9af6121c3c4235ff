#!/usr/bin/env bash
# Build the standalone hpstudio application with PyInstaller.
#
#   bash packaging/build.sh
#
# Environment:
#   HPSTUDIO_BUILD_VENV  virtual environment to create or reuse (default: build/venv). Point it
#                        at an existing development venv to skip downloading dependencies.
#   PYTHON               interpreter used to create the venv (default: python3)
#   HPSTUDIO_SKIP_INSTALL=1  use the venv as it is (no pip install step)
#
# Output: dist/hpstudio/ (one folder: hpstudio, hpstudio-cli and their libraries) and, on macOS,
# dist/hpstudio.app. Work files go to build/pyinstaller/. Both folders are git-ignored.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${HPSTUDIO_BUILD_VENV:-$ROOT/build/venv}"
PYTHON="${PYTHON:-python3}"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"

cd "$ROOT"

if [[ ! -x "$VENV/bin/python" && ! -x "$VENV/Scripts/python.exe" ]]; then
    echo ">> creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [[ -x "$VENV/bin/python" ]]; then
    VPY="$VENV/bin/python"
else
    VPY="$VENV/Scripts/python.exe"  # Git Bash / MSYS on Windows
fi

if [[ "${HPSTUDIO_SKIP_INSTALL:-0}" != "1" ]]; then
    echo ">> installing hpstudio and PyInstaller into $VENV"
    "$VPY" -m pip install --upgrade pip
    # A regular (non-editable) install, so the bundle sees exactly what a wheel would ship.
    "$VPY" -m pip install "$ROOT" "pyinstaller>=6.5"
fi

echo ">> checking icons"
"$VPY" "$ROOT/packaging/make_icons.py" --check

echo ">> running PyInstaller"
"$VPY" -m PyInstaller --noconfirm --clean \
    --distpath "$DIST" --workpath "$WORK" \
    "$ROOT/packaging/hpstudio.spec"

BUNDLE="$DIST/hpstudio"
echo
echo ">> bundle: $BUNDLE"
du -sh "$BUNDLE"
if [[ -d "$DIST/hpstudio.app" ]]; then
    echo ">> macOS app: $DIST/hpstudio.app"
    du -sh "$DIST/hpstudio.app"
fi
