"""Recorded and imported studies open in the app: table, plots, and what they lack said."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from PySide6.QtGui import QImage
from scipy.stats import loguniform
from sklearn.datasets import load_iris
from sklearn.experimental import enable_halving_search_cv  # noqa: F401 - enables the class
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, RandomizedSearchCV
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import hpstudio
from hpstudio.cli import main
from hpstudio.core.records import TrialState
from hpstudio.gui.main_window import MainWindow
from hpstudio.gui.plots.timeline import NO_FOLDS

ROOT = Path(__file__).resolve().parents[2]
X, Y = load_iris(return_X_y=True)


@pytest.fixture
def studies(db_path: Path, tmp_path: Path) -> dict[str, int]:
    """Three recorded scikit-learn searches and an imported Optuna study."""
    tree = DecisionTreeClassifier(random_state=0)
    made = {
        "grid": hpstudio.record(GridSearchCV(
            SVC(), {"C": np.logspace(-2, 2, 5), "gamma": [0.01, 0.1]}, cv=3).fit(X, Y),
            name="grid").study_id,
        "random": hpstudio.record(RandomizedSearchCV(
            SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=6, cv=3, random_state=0).fit(X, Y),
            name="random").study_id,
        "halving": hpstudio.record(HalvingGridSearchCV(
            tree, {"max_depth": [1, 2, 3, None], "min_samples_leaf": [1, 5]}, cv=3,
            factor=2, random_state=0).fit(X, Y), name="halving").study_id,
    }
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="optuna", storage=storage, direction="maximize")
    study.optimize(lambda t: -(t.suggest_float("lr", 1e-4, 1.0, log=True) - 0.1) ** 2
                   - t.suggest_int("layers", 1, 4) / 10, n_trials=12)
    assert main(["import", "optuna", "--storage", storage, "--study", "optuna"]) == 0
    made["optuna"] = 4
    return made


def test_each_recorded_or_imported_study_opens_with_its_plots(qtbot, studies, db_path,
                                                             tmp_path):
    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    plots = window.plots
    for name, study_id in studies.items():
        assert window.show_study(study_id), window.last_error
        trials = window.history_store().load_trials(study_id)
        complete = [t.number for t in trials if t.state is TrialState.COMPLETE]
        assert window.trial_model.rowCount() == len(trials), name
        window.select_plot_tab("history")
        plots.flush()
        qtbot.waitUntil(lambda c=complete: sorted(plots.history.plotted_numbers().tolist())
                        == sorted(c), timeout=5000)
        window.select_plot_tab("slices")
        plots.slices.ensure_fresh()
        window.select_plot_tab("timeline")
        plots.timeline.ensure_fresh()
        assert plots.timeline.info.text() == NO_FOLDS, name
        window.select_plot_tab("overfitting")
        plots.overfitting.ensure_fresh()
        if name == "optuna":
            assert "no per-fold scores" in plots.overfitting.info.text()
            assert "lr" in plots.columns.params and plots.columns.params["lr"].log
            window.details.show_trial(trials[0])
            assert "no per-fold scores" in window.details.summary.text()
        window.select_plot_tab("history")
        picture = tmp_path / f"{name}.png"
        assert window.grab().save(str(picture))
        assert QImage(str(picture)).width() == window.width()


def test_the_command_line_opens_the_app_on_a_study(studies, db_path, tmp_path):
    picture = tmp_path / "halving.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "HPSTUDIO_SETTINGS_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "hpstudio.cli", "gui", "--study", "halving", "--screenshot",
         str(picture), "--tab", "slices"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert QImage(str(picture)).width() > 0


def test_a_study_that_is_not_there_is_named(qtbot, studies, db_path, capsys):
    from hpstudio.gui.app import _show_study

    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    assert not _show_study(window, "no-such-study")
    assert "no study 'no-such-study'" in capsys.readouterr().err
    assert _show_study(window, "halving") and window.current_study_id == studies["halving"]


def test_a_study_tuned_from_python_reopens_and_runs_again_in_the_app(qtbot, db_path):
    import pandas as pd

    from hpstudio.core.executor import SerialExecutor
    from hpstudio.core.spec import StudySpec

    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    result = hpstudio.tune(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]},
                           frame, Y, cv=3, db=db_path, progress=False, name="tuned")
    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    window.executor_factory = SerialExecutor
    assert window.show_study(result.study_id)
    panel = window.editor.data_panel
    qtbot.waitUntil(lambda: not panel.is_loading() and panel.dataset() is not None,
                    timeout=10_000)
    assert panel.dataset().X.shape == (150, 4) and panel.error() is None
    stored = StudySpec.from_dict(window.history_store().get_study(result.study_id).spec)
    qtbot.waitUntil(window.editor.is_valid, timeout=10_000)
    assert window.editor.spec().data.stored == stored.data.stored
    window.edit_as_new()
    assert window.start_study()
    qtbot.waitUntil(lambda: window.runner is None, timeout=30_000)
    again = window.history_store().load_trials(window.current_study_id)
    assert [t.mean_test_score for t in again] == result.cv_results_["mean_test_score"].tolist()
