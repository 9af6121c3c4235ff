"""Start-up: background jobs wait for the window to be on screen, and a screenshot of the
Answers dock waits for its answers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QObject

from hpstudio.core.executor import SerialExecutor
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner
from hpstudio.gui import background
from hpstudio.gui.background import hold_jobs, release_jobs, run_in_background

WAIT_MS = 60_000


def test_held_jobs_start_only_when_released(qtbot) -> None:
    owner = QObject()
    started = threading.Event()
    results: list[tuple[object, object]] = []
    hold_jobs()
    try:
        run_in_background(owner, lambda: started.set() or "done",
                          lambda result, error: results.append((result, error)))
        assert len(background._HELD or []) == 1 and not started.is_set()
    finally:
        release_jobs()
    qtbot.waitUntil(lambda: results == [("done", None)], timeout=WAIT_MS)
    assert started.is_set() and background._HELD is None
    # not held: a job starts at once
    run_in_background(owner, lambda: 2, lambda result, error: results.append((result, error)))
    qtbot.waitUntil(lambda: len(results) == 2, timeout=WAIT_MS)


def test_the_window_is_shown_before_any_heavy_module_is_imported(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HPSTUDIO_REPORT_SHOWN="1",
               HPSTUDIO_DB=str(tmp_path / "h.db"), HPSTUDIO_SETTINGS_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "hpstudio.cli", "gui", "--screenshot",
                           str(tmp_path / "s.png")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "heavy modules loaded by then: none" in done.stderr, done.stderr
    assert (tmp_path / "s.png").stat().st_size > 0


def test_a_screenshot_of_the_answers_waits_for_them(qtbot, db_path: Path, tmp_path: Path,
                                                    monkeypatch) -> None:
    """The refit is held back until the screenshot has asked three times whether the
    answers are ready: nothing is grabbed before they are shown."""
    import hpstudio.gui.widgets.answers as answers_module
    from hpstudio.gui.app import _save_screenshot
    from hpstudio.gui.main_window import MainWindow
    from hpstudio.gui.widgets.answers import AnswersPanel

    spec = StudySpec.from_dict({
        "name": "iris", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [{"max_depth": [2, 3]}], "cv": {"folds": 3}})
    with HistoryStore(db_path) as store:
        study_id = StudyRunner(store, executor=SerialExecutor()).run(spec).study_id
    go = threading.Event()
    compute = answers_module.out_of_fold_predictions

    def held_back(*args, **kwargs):
        go.wait(WAIT_MS / 1000)
        return compute(*args, **kwargs)

    asked: list[bool] = []
    settled = AnswersPanel.settled

    def counted(panel: AnswersPanel) -> bool:
        asked.append(settled.fget(panel))
        return asked[-1]

    monkeypatch.setattr(answers_module, "out_of_fold_predictions", held_back)
    monkeypatch.setattr(AnswersPanel, "settled", property(counted))
    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.show_study(study_id)
    best = window.trial_model.best_trial().number
    window._select_number(best)
    seen: list[object] = []
    png = tmp_path / "answers.png"
    _save_screenshot(window, png, "answers", lambda: seen.append(window.answers.predictions))
    qtbot.waitUntil(lambda: asked.count(False) >= 3, timeout=WAIT_MS)
    assert seen == [] and window.answers.busy
    go.set()
    qtbot.waitUntil(lambda: bool(seen), timeout=WAIT_MS)
    assert seen[0] is not None and seen[0].trial_number == best
    assert png.stat().st_size > 0
