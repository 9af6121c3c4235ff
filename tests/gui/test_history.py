"""The history features: studies browser, reopen, resume, compare, refine, export, bad files.

Studies are made through the core (``StudyRunner`` on a real history file), once per
test run, and each test works on its own copy of that file. The window is the real
``MainWindow``; the history features reach it only through its public API.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6 import QtGui, QtWidgets
from PySide6.QtCore import Qt

import hpstudio.core.storage.sqlite as store_module
from hpstudio.core.compare import best_so_far, busy_time, comparison_warnings, step_points
from hpstudio.core.events import TrialFinished
from hpstudio.core.executor import LocalExecutor
from hpstudio.core.export import best_trial
from hpstudio.core.records import StudyStatus, TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.core.study import StudyRunner
from hpstudio.core.trials import TrialTable
from hpstudio.gui.history import RefineDialog
from hpstudio.gui.main_window import SETTINGS_DIR_ENV, MainWindow
from hpstudio.gui.widgets import studies_browser
from hpstudio.gui.widgets.studies_browser import COL_BEST, COL_NAME, COL_STATUS

TREE = {
    "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.tree.DecisionTreeClassifier", "fixed": {"random_state": 0}},
    "space": [{"max_depth": {"low": 1, "high": 6}, "criterion": ["gini", "entropy"]}],
    "cv": {"folds": 3},
}
RIDGE = {
    "name": "ridge-diabetes", "data": {"builtin": "diabetes"},
    "estimator": {"class": "sklearn.linear_model.Ridge"},
    "space": [{"alpha": {"low": 1e-3, "high": 10.0, "log": True}}],
    "cv": {"folds": 3}, "scoring": {"metric": "neg_mean_squared_error"},
    "search": {"strategy": "random", "n_trials": 4, "seed": 0},
}
N_TREE = 12  # 6 depths x 2 criteria

_EXECUTOR: LocalExecutor | None = None


def executor() -> LocalExecutor:
    """One pool for all the tests here: the loky workers stay warm between studies."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = LocalExecutor(2)
    return _EXECUTOR


def run_until(store: HistoryStore, spec: StudySpec, stop_after: int | None = None) -> int:
    holder: list[StudyRunner] = []

    def listener(event: Any) -> None:
        if stop_after and isinstance(event, TrialFinished) and event.n_complete >= stop_after:
            holder[0].stop()

    runner = StudyRunner(store, executor=executor(), listener=listener)
    holder.append(runner)
    return runner.run(spec).study_id


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A history with a finished, a stopped, an interrupted and an other-data study."""
    path = tmp_path_factory.mktemp("history") / "template.db"
    with HistoryStore(path) as store:
        ids = {
            "grid": run_until(store, StudySpec.from_dict({**TREE, "name": "tree-grid"})),
            "stopped": run_until(store, StudySpec.from_dict({**TREE, "name": "tree-stopped"}),
                                 stop_after=2),
            "ridge": run_until(store, StudySpec.from_dict(RIDGE)),
            "interrupted": run_until(
                store, StudySpec.from_dict({**TREE, "name": "tree-interrupted"}), stop_after=2),
        }
    with sqlite3.connect(path) as conn:  # as if the process running it had been killed
        conn.execute("UPDATE studies SET status='running', stop_reason=NULL, finished=NULL, "
                     "pid=? WHERE id=?", (dead_pid(), ids["interrupted"]))
    conn.close()
    return path, ids


# ----- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def history_file(template: tuple[Path, dict[str, int]], tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    shutil.copy(template[0], path)
    return path


@pytest.fixture
def ids(template: tuple[Path, dict[str, int]]) -> dict[str, int]:
    return template[1]


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Message boxes recorded instead of shown; ``answer`` is what a question returns."""
    record: dict[str, Any] = {"shown": [], "answer": QtWidgets.QMessageBox.StandardButton.Yes}

    def show(kind: str):
        def box(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
            record["shown"].append((kind, title, text))
            if kind == "question":
                return record["answer"]
            return QtWidgets.QMessageBox.StandardButton.Ok
        return box

    for kind in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QtWidgets.QMessageBox, kind, show(kind))
    record["texts"] = lambda: [text for _kind, _title, text in record["shown"]]
    return record


@pytest.fixture
def window(qtbot: Any, history_file: Path, messages: dict[str, Any], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    monkeypatch.setattr(studies_browser.StudiesBrowser, "timeout", 0.2)
    win = MainWindow(history_file)
    win.executor_factory = executor
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    win.close()


def browser(win: Any):
    return win.history.browser


def cell(win: Any, study_id: int, column: int) -> str:
    model = browser(win).model
    return model.index(model.row_of(study_id), column).data()


def trial_count(path: Path, study_id: int) -> tuple[int, int]:
    """Trials and folds stored for a study (each trial row holds its folds)."""
    with sqlite3.connect(path) as conn:
        trials, folds = conn.execute("SELECT COUNT(*), COALESCE(SUM(n_splits), 0) FROM trials "
                                     "WHERE study_id=?", (study_id,)).fetchone()
    conn.close()
    return trials, folds


# ----- the browser -------------------------------------------------------------------------


def test_browser_lists_every_study_with_status_trials_and_best(window, ids, history_file):
    b = browser(window)
    assert sorted(s.id for s in b.model.studies()) == sorted(ids.values())
    with HistoryStore(history_file) as store:
        summaries = {s.id: s for s in store.list_studies()}
    assert cell(window, ids["grid"], COL_NAME) == "tree-grid"
    assert cell(window, ids["grid"], COL_STATUS) == "finished"
    assert cell(window, ids["stopped"], COL_STATUS) == "stopped: stopped by user"
    assert cell(window, ids["interrupted"], COL_STATUS) == "interrupted"
    assert cell(window, ids["grid"], studies_browser.COL_TRIALS) == f"{N_TREE} / {N_TREE}"
    done = summaries[ids["stopped"]].n_complete
    assert 2 <= done < N_TREE
    assert cell(window, ids["stopped"], studies_browser.COL_TRIALS) == f"{done} / {N_TREE}"
    assert cell(window, ids["grid"], COL_BEST) == f"{summaries[ids['grid']].best_score:.6g}"
    assert cell(window, ids["ridge"], studies_browser.COL_METRIC) == "neg_mean_squared_error"
    assert cell(window, ids["ridge"], studies_browser.COL_DATASET) == "diabetes"
    assert cell(window, ids["grid"], studies_browser.COL_ESTIMATOR) == "DecisionTreeClassifier"


def test_filter_by_text_and_sort_by_any_column(window, ids):
    b = browser(window)
    b.set_filter_text("ridge")
    assert b.visible_ids() == [ids["ridge"]]
    b.set_filter_text("INTERRUPTED")  # status column, case-insensitive
    assert b.visible_ids() == [ids["interrupted"]]
    b.set_filter_text("tree")
    assert sorted(b.visible_ids()) == sorted([ids["grid"], ids["stopped"], ids["interrupted"]])
    b.set_filter_text("")
    b.view.sortByColumn(COL_BEST, Qt.SortOrder.AscendingOrder)
    best = {s.id: s.best_score for s in b.model.studies()}
    shown = [best[i] for i in b.visible_ids()]
    assert shown == sorted(shown) and len(shown) == len(ids)
    assert b.visible_ids()[0] == ids["ridge"]  # negative MSE sorts numerically, not as text
    b.view.sortByColumn(COL_NAME, Qt.SortOrder.DescendingOrder)
    names = [cell(window, i, COL_NAME) for i in b.visible_ids()]
    assert names == sorted(names, reverse=True)


def test_rename_and_note_persist_in_the_history(window, ids, history_file, monkeypatch):
    b = browser(window)
    assert b.rename_study(ids["grid"], "deep trees")
    b.select_ids([ids["stopped"]])
    monkeypatch.setattr(QtWidgets.QInputDialog, "getMultiLineText",
                        lambda *a, **k: ("try more depths", True))
    b.edit_note_selected()
    # inline editing (F2) goes through the same model and store
    model_index = b.model.index(b.model.row_of(ids["ridge"]), COL_NAME)
    assert b.proxy.setData(b.proxy.mapFromSource(model_index), "ridge v2")
    with HistoryStore(history_file) as store:
        assert store.get_study(ids["grid"]).name == "deep trees"
        assert store.get_study(ids["stopped"]).note == "try more depths"
        assert store.get_study(ids["ridge"]).name == "ridge v2"
    b.refresh()
    assert cell(window, ids["grid"], COL_NAME) == "deep trees"
    assert cell(window, ids["stopped"], studies_browser.COL_NOTE) == "try more depths"


def test_delete_asks_first_then_removes_the_study_and_its_trials(window, ids, history_file,
                                                                 messages):
    b = browser(window)
    assert trial_count(history_file, ids["grid"])[0] == N_TREE
    b.select_ids([ids["grid"]])
    messages["answer"] = QtWidgets.QMessageBox.StandardButton.No
    b.actions_by_name["delete"].trigger()
    assert trial_count(history_file, ids["grid"])[0] == N_TREE
    assert "Delete study" in messages["texts"]()[-1]
    messages["answer"] = QtWidgets.QMessageBox.StandardButton.Yes
    b.actions_by_name["delete"].trigger()
    assert trial_count(history_file, ids["grid"]) == (0, 0)
    with sqlite3.connect(history_file) as conn:
        assert conn.execute("SELECT COUNT(*) FROM studies WHERE id=?",
                            (ids["grid"],)).fetchone()[0] == 0
    conn.close()
    assert ids["grid"] not in [s.id for s in b.model.studies()]
    assert trial_count(history_file, ids["ridge"])[0] == 4  # the others are untouched


def test_refreshes_when_the_window_stores_a_study(window, history_file):
    with HistoryStore(history_file) as store:
        new_id = run_until(store, StudySpec.from_dict({**RIDGE, "name": "fresh"}))
    window.studyStored.emit(new_id)
    assert cell(window, new_id, COL_NAME) == "fresh"
    assert browser(window).selected_ids() == [new_id]


# ----- reopen, duplicate, resume -------------------------------------------------------------


def test_double_click_reopens_a_study_with_its_trials(window, ids):
    b = browser(window)
    b.select_ids([ids["grid"]])
    b.view.doubleClicked.emit(b.view.selectionModel().selectedRows()[0])
    assert window.current_study_id == ids["grid"]
    assert window.trial_model.rowCount() == N_TREE
    assert window.editor.is_read_only() and window.editor.spec().name == "tree-grid"


def test_duplicate_loads_an_editable_copy_of_the_spec(window, ids):
    b = browser(window)
    b.select_ids([ids["grid"]])
    b.actions_by_name["duplicate"].trigger()
    spec = window.editor.spec()
    assert spec.name == "tree-grid (copy)" and not window.editor.is_read_only()
    assert spec.with_name("tree-grid") == StudySpec.from_dict({**TREE, "name": "tree-grid"})


def test_resume_an_interrupted_study_completes_it_exactly(window, ids, history_file, qtbot):
    b = browser(window)
    before = trial_count(history_file, ids["interrupted"])[0]
    assert 2 <= before < N_TREE
    b.select_ids([ids["interrupted"]])
    assert b.actions_by_name["resume"].isEnabled()
    with qtbot.waitSignal(window.runEnded, timeout=60_000):
        b.actions_by_name["resume"].trigger()
    assert window.last_run.status is StudyStatus.FINISHED, window.last_run
    with HistoryStore(history_file) as store:
        assert store.get_study(ids["interrupted"]).status is StudyStatus.FINISHED
        resumed = store.load_trials(ids["interrupted"])
        fresh = store.load_trials(ids["grid"])
    assert sorted(t.number for t in resumed) == list(range(N_TREE))  # none lost, none repeated
    by_params = {json.dumps(t.params, sort_keys=True): t.split_test_scores for t in fresh}
    assert {json.dumps(t.params, sort_keys=True): t.split_test_scores
            for t in resumed} == by_params  # same scores as an uninterrupted run
    assert window.trial_model.rowCount() == N_TREE  # the window shows the resumed study
    qtbot.waitUntil(lambda: cell(window, ids["interrupted"], COL_STATUS) == "finished")


def test_a_finished_study_is_not_resumed(window, ids, messages, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(window, "resume_study", calls.append)
    b = browser(window)
    b.select_ids([ids["grid"]])
    assert not b.actions_by_name["resume"].isEnabled()
    b.resume_selected()
    assert calls == []
    assert "only a stopped, interrupted or failed study can be resumed" in messages["texts"]()[-1]
    b.select_ids([ids["stopped"]])
    b.resume_selected()
    assert calls == [ids["stopped"]]


# ----- compare ----------------------------------------------------------------------------------


def test_compare_overlays_best_so_far_curves_and_warns_on_other_data(window, ids, qtbot):
    b = browser(window)
    b.select_ids([ids["grid"], ids["ridge"]])
    b.actions_by_name["compare"].trigger()
    view = window.history.dialogs[-1]
    qtbot.addWidget(view)
    assert len(view.number_items) == 2 and len(view.time_items) == 2
    assert any("different data" in w for w in view.warnings)
    assert any("different metrics" in w for w in view.warnings)
    assert view.warning_label.isVisibleTo(view)
    with HistoryStore(window.db_path) as store:
        trials = {i: store.load_trials(i) for i in (ids["grid"], ids["ridge"])}
    for index, curve in enumerate(view.curves):
        best = best_trial(trials[curve.study_id]).mean_test_score
        for items in (view.number_items, view.time_items):
            _x, y = items[index].getData()
            assert y[-1] == best and np.all(np.diff(y) >= 0)
    rows = {r[0]: r for r in view.table_rows()}
    grid_row = rows[f"#{ids['grid']} tree-grid"]
    assert grid_row[1] == f"{best_trial(trials[ids['grid']]).mean_test_score:.6g}"
    assert grid_row[2] == str(N_TREE)
    assert view.by_number.getPlotItem().legend is not None


def test_compare_same_data_and_metric_has_no_warning(window, ids):
    view = window.history.compare([ids["grid"], ids["stopped"]])
    assert view is not None and view.warnings == []
    assert not view.warning_label.isVisibleTo(view)
    view.close()


def test_best_so_far_curves_from_columns():
    scores = [0.5, math.nan, 0.4, 0.8, 0.7]
    # trial 2 finishes after a one-hour pause: busy time must not count the pause
    started = [0.0, 1.0, 3600.0, 2.0, 3602.0]
    finished = [2.0, 3.0, 3601.0, 4.0, 3604.0]
    table = TrialTable.from_trials([
        TrialRecord(1, n, {"x": n}, TrialState.FAILED if math.isnan(s) else TrialState.COMPLETE,
                    {"score": (s,)}, None, (0.1,), (0.0,), t0, t1)
        for n, (s, t0, t1) in enumerate(zip(scores, started, finished, strict=True))])
    curve = best_so_far(table, study_id=7, name="x")
    assert list(curve.number) == [0, 3, 4] and list(curve.best_by_number) == [0.5, 0.8, 0.8]
    assert list(busy_time(np.array(started), np.array(finished))) == [2.0, 3.0, 5.0, 4.0, 7.0]
    assert list(curve.elapsed) == [2.0, 4.0, 7.0]
    assert list(curve.best_by_elapsed) == [0.5, 0.8, 0.8]
    assert curve.best_score == 0.8 and curve.n_trials == 5 and curve.n_complete == 4
    assert curve.busy_seconds == 7.0
    xs, ys = step_points(curve.number, curve.best_by_number)
    assert list(xs) == [0, 3, 3, 4, 4] and list(ys) == [0.5, 0.5, 0.8, 0.8, 0.8]
    assert comparison_warnings([]) == []


# ----- refine ------------------------------------------------------------------------------------


def test_refine_shows_old_and_new_ranges_then_loads_an_editable_spec(window, ids):
    dialog = window.history.refine(ids["grid"])
    assert isinstance(dialog, RefineDialog)
    rows = {r[1]: r for r in dialog.rows()}
    assert rows["max_depth"][2] == "1 … 6"
    assert rows["max_depth"][3] == dialog.refinement.changes[0].new_text
    assert "top 5 of 12 complete trials" in dialog.explanation.text()
    dialog.margin_spin.setValue(0)  # the rule is live: no margin, the exact top span
    depths = [t.params["max_depth"] for t in _top(window, ids["grid"], 5)]
    assert dialog.refinement.spec.space[0]["max_depth"].low == min(depths)
    dialog.accept()
    spec = window.editor.spec()
    assert spec.name == "tree-grid refined" and not window.editor.is_read_only()
    assert spec.search.strategy == "grid"


def _top(window: Any, study_id: int, count: int) -> list:
    with HistoryStore(window.db_path) as store:
        trials = [t for t in store.load_trials(study_id) if t.ok]
    return sorted(trials, key=lambda t: (-t.mean_test_score, t.number))[:count]


# ----- export ------------------------------------------------------------------------------------


def test_export_dialog_params_clipboard_csv_and_refit(window, ids, tmp_path, qtbot, messages):
    import pandas as pd
    import skops.io as sio

    dialog = window.history.export(ids["grid"])
    qtbot.addWidget(dialog)
    best = _top(window, ids["grid"], 1)[0]
    document = json.loads(dialog.preview.toPlainText())
    assert document["params"] == best.params and document["score"] == best.mean_test_score
    dialog.copy_to_clipboard()
    assert QtGui.QGuiApplication.clipboard().text() == dialog.preview.toPlainText()
    dialog.set_format("python")
    assert "DecisionTreeClassifier(" in dialog.preview.toPlainText()
    assert dialog.save_params(tmp_path / "best.py")
    namespace: dict = {}
    exec((tmp_path / "best.py").read_text(encoding="utf-8"), namespace)
    assert namespace["estimator"].get_params()["max_depth"] == best.params["max_depth"]
    assert dialog.save_csv(tmp_path / "trials.csv")
    frame = pd.read_csv(tmp_path / "trials.csv")
    assert {"params", "mean_test_score", "rank_test_score", "split2_test_score"} <= set(frame)
    assert len(frame) == N_TREE

    with qtbot.waitSignal(dialog.refitFinished, timeout=60_000):
        assert dialog.start_refit(tmp_path / "model")
        assert dialog.progress.isVisible() and not dialog.refit_button.isEnabled()
    model = tmp_path / "model.skops"
    untrusted = sio.get_untrusted_types(file=model)
    assert all(t.split(".", 1)[0] in ("sklearn", "numpy") for t in untrusted)
    from sklearn.datasets import load_iris

    X, _y = load_iris(return_X_y=True)
    assert sio.load(model, trusted=untrusted).predict(X).shape == (150,)
    assert json.loads((tmp_path / "model.skops.json").read_text())["params"] == best.params
    assert not dialog.progress.isVisible() and dialog.refit_button.isEnabled()
    loading = dialog.loading_text.toPlainText()  # the dialog's two lines load the model
    assert len(loading.splitlines()) == 2 and model.as_posix() in loading
    namespace = {}
    exec(loading, namespace)
    assert namespace["model"].predict(X).shape == (150,)

    dialog.set_model_format("joblib")
    with qtbot.waitSignal(dialog.refitFinished, timeout=60_000):
        dialog.start_refit(tmp_path / "model2")
    assert (tmp_path / "model2.joblib").exists()

    with qtbot.waitSignal(dialog.refitFailed, timeout=60_000) as failed:
        dialog.start_refit(tmp_path / "no-such-folder" / "model.skops")
    assert "refit failed" in failed.args[0] and "No such file" in failed.args[0]
    assert dialog.status_label.text() == failed.args[0]
    assert messages["shown"][-1][1] == "Refit failed"

    # closing during a refit neither blocks nor abandons the file: it closes once saved
    with qtbot.waitSignal(dialog.refitFinished, timeout=60_000):
        dialog.start_refit(tmp_path / "late")
        dialog.reject()
        assert not dialog.isVisible() and dialog.refitting
    assert (tmp_path / "late.joblib").exists() and not dialog.refitting


def test_export_action_uses_the_trial_selected_in_the_window(window, ids, qtbot):
    window.show_study(ids["grid"])
    row = window.trial_model.row_of_number(3)
    window.trial_view.selectRow(row)
    window.history.export_action.trigger()
    dialog = window.history.dialogs[-1]
    qtbot.addWidget(dialog)
    assert dialog.chosen_trial().number == 3
    assert json.loads(dialog.preview.toPlainText())["trial"] == 3
    dialog.close()


# ----- other history files -------------------------------------------------------------------


def test_open_history_menu_switches_files(window, ids, history_file, tmp_path, monkeypatch):
    other = tmp_path / "other.db"
    with HistoryStore(other) as store:
        only = run_until(store, StudySpec.from_dict({**RIDGE, "name": "elsewhere"}))
    action = window.findChild(QtGui.QAction, "actionOpenHistory")
    file_menu = window.findChild(QtWidgets.QMenu, "menuFile")
    assert action in file_menu.actions()
    assert file_menu.actions().index(action) < file_menu.actions().index(
        window.findChild(QtGui.QAction, "actionQuit"))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(other), ""))
    action.trigger()
    assert [s.id for s in browser(window).model.studies()] == [only]
    assert window.db_path == other
    assert cell(window, only, COL_NAME) == "elsewhere"


def _bad_file(kind: str, good: Path, tmp_path: Path) -> tuple[Path, Any]:
    path = tmp_path / f"{kind}.db"
    holder = None
    if kind == "garbage":
        path.write_bytes(np.random.default_rng(0).bytes(8192))
    else:
        shutil.copy(good, path)
        conn = sqlite3.connect(path, isolation_level=None)
        if kind == "newer":
            conn.execute("UPDATE meta SET value='999' WHERE key='schema_version'")
            conn.close()
        elif kind == "locked":  # a rollback-journal file held by another program
            conn.execute("PRAGMA journal_mode=DELETE")
            conn.execute("BEGIN EXCLUSIVE")
            holder = conn
    return path, holder


@pytest.mark.parametrize(("kind", "expected"), [
    ("garbage", "is not an hpstudio history"),
    ("newer", "was written by a newer hpstudio (history schema 999"),
    ("locked", "is locked by another program"),
])
def test_a_bad_history_file_gets_a_clear_message_and_the_app_goes_on(
        window, ids, history_file, tmp_path, messages, kind, expected):
    path, holder = _bad_file(kind, history_file, tmp_path)
    try:
        assert not window.history.open_history(path)
    finally:
        if holder is not None:
            holder.close()
    kind_, title, text = messages["shown"][-1]
    assert kind_ == "warning" and title == "Cannot open history"
    assert expected in text and str(path) in text
    b = browser(window)
    assert b.path == history_file and window.db_path == history_file
    assert len(b.model.studies()) == len(ids)
    assert b.rename_study(ids["grid"], "still works")
    with HistoryStore(history_file) as store:
        assert store.get_study(ids["grid"]).name == "still works"


def test_writing_to_a_history_locked_by_another_program_says_so(window, ids, history_file,
                                                                 messages):
    holder = sqlite3.connect(history_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert not browser(window).rename_study(ids["grid"], "blocked")
        assert "is locked by another program" in messages["texts"]()[-1]
        assert len(browser(window).model.studies()) == len(ids)  # reading still works (WAL)
    finally:
        holder.close()
    assert browser(window).rename_study(ids["grid"], "unblocked")


def test_a_read_only_history_opens_for_reading_and_refuses_writes(
        window, ids, history_file, tmp_path, messages, monkeypatch):
    path = tmp_path / "readonly.db"
    shutil.copy(history_file, path)
    path.chmod(0o444)
    if not os.access(path, os.W_OK):
        real = None
    else:  # running as root: permissions do not stop writes, so report the file unwritable
        real = os.access
        monkeypatch.setattr(store_module.os, "access", lambda p, mode, *a, **k: (
            False if mode == os.W_OK and Path(p) == path else real(p, mode, *a, **k)))
    try:
        assert window.history.open_history(path)
        b = browser(window)
        assert b.store.read_only and "(read-only)" in b.path_label.text()
        assert len(b.model.studies()) == len(ids)
        assert not b.rename_study(ids["grid"], "nope")
        assert "is read-only; make it writable" in messages["texts"]()[-1]
        b.select_ids([ids["ridge"]])
        b.delete_selected()
        assert "is read-only" in messages["texts"]()[-1]
        assert trial_count(path, ids["ridge"])[0] == 4
        assert window.history.open_history(history_file)  # back to a writable one
        assert browser(window).rename_study(ids["grid"], "writable again")
    finally:
        path.chmod(0o644)


def cli(history: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line, in another process, on the same history."""
    return subprocess.run([sys.executable, "-m", "hpstudio.cli", *args, "--db", str(history)],
                          capture_output=True, text=True, timeout=240)


def test_the_app_and_the_command_line_share_a_history(window, ids, history_file, qtbot,
                                                      tmp_path, messages):
    """What broke a shared history: the app's process opens and closes the history file
    outside SQLite (a file dialog looking at its folder, a file picked by mistake), which
    drops any SQLite lock the process holds; then another process uses the history. The
    app holds no connection between operations, so both keep working and nothing is lost."""
    b = browser(window)
    assert window.history_store().transient and b.store.transient
    dialog = QtWidgets.QFileDialog(window, "Browse", str(history_file.parent))
    dialog.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog)
    with qtbot.waitSignal(dialog.directoryEntered, timeout=5000, raising=False):
        dialog.show()
    qtbot.waitUntil(lambda: dialog.findChild(QtWidgets.QListView).model().rowCount(
        dialog.findChild(QtWidgets.QListView).rootIndex()) > 0, timeout=5000)
    dialog.close()
    history_file.read_bytes()  # the file opened and closed by the app's process itself

    spec = tmp_path / "from-cli.toml"
    spec.write_text('name = "from-cli"\n[data]\nbuiltin = "iris"\n[estimator]\n'
                    'class = "sklearn.tree.DecisionTreeClassifier"\n[[space]]\n'
                    'max_depth = [1, 2, 3]\n[cv]\nfolds = 3\n', encoding="utf-8")
    listed = cli(history_file, "studies")
    assert listed.returncode == 0 and "tree-grid" in listed.stdout, listed.stderr
    ran = cli(history_file, "run", str(spec), "-q", "--jobs", "1")
    assert ran.returncode == 0, ran.stderr

    # the app writes and reads after the other process came and went
    assert b.rename_study(ids["grid"], "renamed in the app")
    assert b.store.get_study(ids["grid"]).name == "renamed in the app"
    b.refresh()
    assert "from-cli" in [s.name for s in b.model.studies()]
    assert window.load_spec(StudySpec.from_dict({**TREE, "name": "from-app"}))
    with qtbot.waitSignal(window.runEnded, timeout=60_000):
        assert window.start_study()
    assert window.last_run.status is StudyStatus.FINISHED
    assert window.show_study(b.store.resolve("from-cli"))
    assert window.trial_model.rowCount() == 3

    shown = cli(history_file, "studies")
    assert shown.returncode == 0 and "renamed in the app" in shown.stdout
    assert "from-app" in shown.stdout and "from-cli" in shown.stdout
    assert "disk I/O" not in shown.stderr
    with sqlite3.connect(history_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert window.last_error is None and messages["shown"] == []


def stored_trials(db: Path) -> int:
    """Trials stored so far by another process (0 while it is still creating the file)."""
    try:
        return trial_count(db, 1)[0] if db.exists() else 0
    except sqlite3.Error:
        return 0


def test_an_app_killed_mid_run_leaves_its_trials_and_the_next_start_says_so(
        qtbot, tmp_path, monkeypatch, messages):
    """The app runs a study and is killed (SIGKILL, as a crash or a power cut would end
    it): every committed trial is intact, and the next start logs what happened."""
    db = tmp_path / "killed.db"
    spec = tmp_path / "long.toml"
    spec.write_text('name = "long"\n[data]\nbuiltin = "digits"\n[estimator]\n'
                    'class = "sklearn.ensemble.RandomForestClassifier"\n'
                    'fixed = { random_state = 0, n_estimators = 40 }\n[[space]]\n'
                    'max_depth = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n[cv]\nfolds = 3\n',
                    encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HPSTUDIO_DB": str(db),
           SETTINGS_DIR_ENV: str(tmp_path / "settings")}
    app = subprocess.Popen([sys.executable, "-m", "hpstudio.cli", "gui", str(spec), "--run"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        qtbot.waitUntil(lambda: stored_trials(db) >= 2, timeout=120_000)
    finally:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute("SELECT number, state, n_splits FROM trials").fetchall()
    conn.close()
    assert len(kept) >= 2 and all(state == "complete" and k == 3 for _, state, k in kept)
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(tmp_path / "settings"))
    win = MainWindow(db)
    qtbot.addWidget(win)
    warnings = win.log_panel.messages("warning")
    assert any("study #1 'long' was interrupted" in w and "resume it" in w for w in warnings)
    assert browser(win).model.studies()[0].status is StudyStatus.INTERRUPTED
    win.close()
