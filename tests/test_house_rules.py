"""The project's rules, checked by the build: style, layering, and a core that needs no Qt."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; `pip install -e '.[test]'` brings it")
    return found


def test_ruff_finds_nothing():
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept():
    result = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "0 broken" in result.stdout


_BLOCK_QT = """
import importlib.abc, sys

class _NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"):
            raise ImportError(f"{name} is blocked: the core must run without Qt")
        return None

sys.meta_path.insert(0, _NoQt())
"""

_SPEC = """
name = "no-qt"
[data]
builtin = "iris"
[estimator]
class = "sklearn.tree.DecisionTreeClassifier"
fixed = { random_state = 0 }
[[space]]
max_depth = [1, 2, 3]
[cv]
folds = 3
"""


def test_core_and_cli_run_without_qt(tmp_path):
    """Qt made unimportable (in the workers too, through sitecustomize): a study runs,
    lists, shows and exports from the command line."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(_BLOCK_QT, encoding="utf-8")
    spec = tmp_path / "spec.toml"
    spec.write_text(_SPEC, encoding="utf-8")
    db = tmp_path / "h.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
           "HPSTUDIO_DB": str(db)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hpstudio.cli", *args], env=env,
                              capture_output=True, text=True, timeout=240)

    probe = subprocess.run([sys.executable, "-c", "import PySide6"], env=env,
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "blocked" in probe.stderr
    ran = cli("run", str(spec), "--jobs", "2", "-q")
    assert ran.returncode == 0, ran.stderr
    assert "finished" in ran.stdout and "max_depth" in ran.stdout
    listed = cli("studies")
    assert listed.returncode == 0 and "no-qt" in listed.stdout and "3/3" in listed.stdout
    assert cli("show", "no-qt").returncode == 0
    exported = cli("export", "no-qt", "-o", str(tmp_path / "best.json"))
    assert exported.returncode == 0, exported.stderr
    assert "max_depth" in (tmp_path / "best.json").read_text(encoding="utf-8")
    gui = cli("gui")
    assert gui.returncode == 2 and "cannot start" in gui.stderr
