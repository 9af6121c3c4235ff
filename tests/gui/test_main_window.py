"""The main window driven as a user would: edit, start, pause, resume, stop, reopen, close.

Studies are tiny (decision trees on iris, 3 folds, 2 workers); every wait is on a signal
or a condition, never a sleep.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from hpstudio.core.records import FoldResult, StudyStatus, TrialRecord, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.gui.main_window import MainWindow, about_text
from hpstudio.gui.models import COL_MEAN, FIXED_COLUMNS, TrialTableModel
from hpstudio.gui.widgets.space_editor import HIGH, KIND, LOG, LOW, POINTS, VALUES

WAIT_MS = 60_000
CHECK = Qt.ItemDataRole.CheckStateRole


def tiny_spec(space: list[dict[str, Any]] | None = None, **sections: Any) -> StudySpec:
    raw: dict[str, Any] = {
        "name": "tiny",
        "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": space or [{"max_depth": [1, 2, 3]}],
        "cv": {"folds": 3},
    }
    raw.update(sections)
    return StudySpec.from_dict(raw)


LONG_SPACE = [{"max_depth": list(range(1, 9)), "min_samples_leaf": list(range(1, 11))}]
LONG_TRIALS = 80


class Boxes:
    """Records message boxes instead of showing them (a modal box would block the test)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shown: list[tuple[str, str, str]] = []
        self.answer = QMessageBox.StandardButton.Yes
        for kind in ("critical", "warning", "information"):
            monkeypatch.setattr(QMessageBox, kind, self._recorder(kind))
        monkeypatch.setattr(QMessageBox, "question", self._question)

    def _recorder(self, kind: str):
        def show(_parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            return QMessageBox.StandardButton.Ok
        return staticmethod(show)

    def _question(self, _parent, title, text, *args, **kwargs):
        self.shown.append(("question", title, text))
        return self.answer

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, _, text in self.shown if kind is None or k == kind]


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Boxes:
    return Boxes(monkeypatch)


@pytest.fixture
def window(qtbot, db_path: Path, boxes: Boxes):
    win = MainWindow(db_path)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    if win.runner is not None:  # never leave a study thread behind
        win.runner.stop("test over")
        with qtbot.waitSignal(win.runEnded, timeout=WAIT_MS):
            pass


def settle(qtbot, win: MainWindow) -> None:
    """Wait for the editor's background loads (dataset, estimator parameters)."""
    editor = win.editor
    qtbot.waitUntil(lambda: editor.space_editor.parameters_known()
                    and not editor.data_panel.is_loading(), timeout=WAIT_MS)
    assert editor.is_valid(), editor.validation_message()


def load(qtbot, win: MainWindow, spec: StudySpec) -> None:
    assert win.load_spec(spec)
    win.editor.strategy_panel.set_n_jobs(2)
    settle(qtbot, win)


def run_to_end(qtbot, win: MainWindow) -> int:
    with qtbot.waitSignal(win.studyStored, timeout=WAIT_MS) as stored:
        assert win.start_study()
    qtbot.waitUntil(lambda: win.runner is None, timeout=WAIT_MS)
    return stored.args[0]


def table_rows(win: MainWindow) -> list[tuple[int, dict, str, float]]:
    """What the table shows, row by row, sorted by trial number."""
    model = win.trial_model
    rows = []
    for row in range(model.rowCount()):
        trial = model.trial_at(row)
        mean = model.data(model.index(row, COL_MEAN), TrialTableModel.SortRole)
        rows.append((trial.number, trial.params, trial.state.value, mean))
    return sorted(rows, key=lambda r: r[0])


def stored_rows(db: Path, study_id: int) -> list[tuple[int, dict, str, float]]:
    with HistoryStore(db) as store:
        trials = store.load_trials(study_id)
    return [(t.number, t.params, t.state.value,
             -math.inf if math.isnan(t.mean_test_score) else t.mean_test_score) for t in trials]


def same_rows(shown: list, stored: list) -> bool:
    return len(shown) == len(stored) and all(
        a[:3] == b[:3] and a[3] == pytest.approx(b[3], abs=1e-12)
        for a, b in zip(shown, stored, strict=True))


# ----- the whole user journey -------------------------------------------------------------


def test_edit_start_pause_resume_stop_like_a_user(qtbot, window: MainWindow, db_path: Path,
                                                  boxes: Boxes) -> None:
    editor = window.editor
    window.new_spec()
    settle(qtbot, window)
    # choose a dataset and an estimator through the widgets
    with qtbot.waitSignal(editor.data_panel.datasetChanged, timeout=WAIT_MS):
        editor.data_panel.builtin_combo.setCurrentText("wine")
    picker = editor.estimator_picker
    item = picker.tree.findItems("DecisionTreeClassifier",
                                 Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)[0]
    picker.tree.setCurrentItem(item)
    settle(qtbot, window)
    editor.strategy_panel.folds_spin.setValue(3)
    editor.strategy_panel.set_n_jobs(2)
    # edit the space: add a sub-space with a log range
    space = editor.space_editor
    space.add_subspace()
    model = space.model(1)
    model.include("max_depth")  # the catalogue's range; make it a list of values
    assert model.setData(model.cell("max_depth", KIND), "values")
    assert model.setData(model.cell("max_depth", VALUES), "2, 4")
    assert model.setData(model.cell("ccp_alpha", KIND), "float range")
    assert model.setData(model.cell("ccp_alpha", LOW), "1e-4")
    assert model.setData(model.cell("ccp_alpha", HIGH), "1e-1")
    assert model.setData(model.cell("ccp_alpha", POINTS), "30")
    assert model.setData(model.cell("ccp_alpha", LOG), Qt.CheckState.Checked, CHECK)
    settle(qtbot, window)
    spec = editor.spec()
    assert spec.data.builtin == "wine" and spec.cv.folds == 3
    assert spec.estimator.cls == "sklearn.tree.DecisionTreeClassifier"
    assert len(spec.space) == 2 and spec.space[1]["ccp_alpha"].log
    planned = spec.planned_trials()
    assert planned == 48 + 2 * 30
    assert window.start_action.isEnabled()

    window.start_action.trigger()
    runner = window.runner
    assert runner is not None and not window.start_action.isEnabled()
    qtbot.waitUntil(lambda: window.trial_model.rowCount() >= 3, timeout=WAIT_MS)
    assert window.current_study_id is not None
    assert window.trial_model.param_names == spec.param_names

    with qtbot.waitSignal(runner.paused, timeout=WAIT_MS):
        window.pause_action.trigger()
    window.flush_trials()
    # the same action (F6) now resumes; Resume study is for stopped studies only
    assert window.pause_action.isEnabled() and window.pause_action.text() == "&Resume"
    assert not window.resume_action.isEnabled()
    rows_when_paused = window.trial_model.rowCount()
    assert "paused" in window.statusBar().currentMessage()

    with qtbot.waitSignal(runner.resumed, timeout=WAIT_MS):
        window.pause_action.trigger()
    assert window.pause_action.text() == "&Pause"
    with qtbot.waitSignal(runner.trialFinished, timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        window.stop_action.trigger()
    assert window.runner is None and window.start_action.isEnabled()

    study_id = window.current_study_id
    with HistoryStore(db_path) as store:
        row = store.get_study(study_id)
    assert row.status is StudyStatus.STOPPED and row.stop_reason == "stopped by user"
    shown = table_rows(window)
    assert rows_when_paused < len(shown) < planned
    assert same_rows(shown, stored_rows(db_path, study_id))
    assert window.progress.value() == len(shown)
    logs = window.log_panel.messages()
    assert any(m.startswith("started study") for m in logs)
    assert any(m.startswith("paused") for m in logs) and "resumed" in logs
    assert any("stopped (stopped by user)" in m for m in logs)
    assert boxes.shown == []


def test_finished_study_is_stored_reopened_and_selectable(qtbot, window: MainWindow,
                                                          db_path: Path) -> None:
    load(qtbot, window, tiny_spec([{"max_depth": [1, 2, 3, 4]}]))
    study_id = run_to_end(qtbot, window)
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))
    assert window.last_run.status is StudyStatus.FINISHED
    # the best trial is selected and detailed once the study ends
    best = window.trial_model.best_trial()
    assert window.details.trial is best
    assert len(window.details.fold_texts()) == 3

    window.load_spec(tiny_spec(name="other"))
    assert window.trial_model.rowCount() == 0 and window.current_study_id is None
    assert window.show_study(study_id)
    assert window.editor.is_read_only() and window.current_study_id == study_id
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))
    assert len(window.plots.columns) == 4
    # a click in a plot selects the table row and fills the details
    window.plots.trialClicked.emit(2)
    current = window.trial_view.currentIndex()
    assert window.trial_proxy.data(current, TrialTableModel.TrialRole).number == 2
    assert window.details.trial.number == 2
    # selecting a row highlights the trial in the plots
    index = window.trial_proxy.index(0, 0)
    window.trial_view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        | QItemSelectionModel.SelectionFlag.Rows)
    assert window.plots.selected == window.details.trial.number
    # brushing in the parallel plot filters the table
    window.plots.filterChanged.emit({1, 3})
    assert window.trial_proxy.rowCount() == 2
    window.plots.filterChanged.emit(None)
    assert window.trial_proxy.rowCount() == 4
    # a stopped study can be resumed from the window; a finished one cannot
    assert not window.resume_study(study_id)
    assert window.edit_copy_action.isEnabled()
    window.edit_copy_action.trigger()
    assert not window.editor.is_read_only()


def test_resume_a_stopped_study_completes_it(qtbot, window: MainWindow, db_path: Path) -> None:
    load(qtbot, window, tiny_spec(LONG_SPACE))
    window.start_study()
    with qtbot.waitSignal(window.runner.trialFinished, timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(window.studyStored, timeout=WAIT_MS):
        window.stop_study()
    qtbot.waitUntil(lambda: window.runner is None, timeout=WAIT_MS)
    study_id = window.current_study_id
    done_before = len(stored_rows(db_path, study_id))
    assert window.last_run.status is StudyStatus.STOPPED and done_before < LONG_TRIALS
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        assert window.resume_study(study_id)
        assert window.trial_model.rowCount() == done_before  # old trials shown at once
    assert window.last_run.status is StudyStatus.FINISHED
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))
    assert window.trial_model.rowCount() == LONG_TRIALS
    # the reopened trials stay columns; the resumed run's records follow them
    table = window.trial_model.table
    assert table._stored_n == done_before  # read as columns when reopened
    assert len(table._records) == LONG_TRIALS - done_before
    window.plots.flush()
    assert window.plots.columns is table and len(table) == LONG_TRIALS  # one table for all


def test_start_after_stop_goes_on_with_the_same_study(qtbot, window: MainWindow,
                                                      db_path: Path) -> None:
    """Start on the spec of a stopped study resumes it, as `hpstudio run` does, instead of
    piling up copies; the log says so."""
    load(qtbot, window, tiny_spec(LONG_SPACE))
    window.start_study()
    with qtbot.waitSignal(window.runner.trialFinished, timeout=WAIT_MS):
        pass
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        window.stop_study()
    first = window.current_study_id
    assert window.last_run.status is StudyStatus.STOPPED
    load(qtbot, window, tiny_spec(LONG_SPACE))
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        assert window.start_study()
    assert window.current_study_id == first and window.last_run.status is StudyStatus.FINISHED
    assert any(f"resuming study #{first}" in m for m in window.log_panel.messages())
    with HistoryStore(db_path) as store:
        assert [s.id for s in store.list_studies()] == [first]
        assert len(store.load_trials(first)) == LONG_TRIALS


def test_stop_again_stops_now(qtbot, window: MainWindow) -> None:
    """A second Stop while the folds in flight finish drops them and ends at once."""
    slow = tiny_spec([{"n_estimators": [3000, 3001]}],
                     estimator={"class": "sklearn.ensemble.RandomForestClassifier"})
    load(qtbot, window, slow)
    window.start_study()

    def folds_running() -> bool:
        core = getattr(getattr(window.runner, "_worker", None), "_core", None)
        return core is not None and core.executor.in_flight > 0

    qtbot.waitUntil(folds_running, timeout=WAIT_MS)
    window.stop_study()
    assert window.stop_action.isEnabled() and "now" in window.stop_action.text().lower()
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        window.stop_action.trigger()
    assert window.last_run.status is StudyStatus.STOPPED
    assert any("stopped now" in m for m in window.log_panel.messages())


def stored_trial(study_id: int, number: int, *, failed: bool = False) -> TrialRecord:
    """A finished 3-fold trial whose folds ran on workers w0 / w1, as a run stores it."""
    start = 1000.0 + 10 * number
    scores = (math.nan,) * 3 if failed else (0.5 + 0.1 * number, 0.6, 0.55)
    folds = tuple(FoldResult(number, f, {"score": scores[f]}, None, 1.0, 0.5,
                             start + 2 * f, start + 2 * f + 1.5, f"w{(number + f) % 2}",
                             "ValueError: max_depth must be > 0" if failed else None)
                  for f in range(3))
    return TrialRecord(study_id, number, {"max_depth": number + 1},
                       TrialState.FAILED if failed else TrialState.COMPLETE,
                       {"score": scores}, None,
                       (1.0,) * 3, (0.5,) * 3, start, start + 6,
                       error="ValueError: max_depth must be > 0" if failed else None,
                       folds=folds)


def test_reopening_reads_columns_and_the_timeline_shows_the_stored_folds(
        qtbot, window: MainWindow, db_path: Path, boxes: Boxes) -> None:
    spec = tiny_spec([{"max_depth": [1, 2, 3, 4]}])
    with HistoryStore(db_path) as store:
        study_id = store.create_study(spec.to_dict(), base_dir=None, n_total=4,
                                      data_fingerprint=None, dataset="iris")
        store.save_trials(stored_trial(study_id, n, failed=n == 2) for n in range(4))
        store.set_status(study_id, StudyStatus.FINISHED)
    assert window.show_study(study_id)
    qtbot.wait(50)  # the table and the visible plot paint
    model = window.trial_model
    stored = model.table
    assert stored._stored_n == 4 and stored._records == [] and window.plots.columns is stored
    assert stored._stored_records == {}  # table, best row and plots read the columns
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))
    assert model.best_trial().number == 3
    assert window.run_label.text() == "4 done · 1 failed"
    tip = model.data(model.index(model.row_of_number(2), 0), Qt.ItemDataRole.ToolTipRole)
    assert "trial 2 failed" in tip and "max_depth must be > 0" in tip
    # the timeline draws every stored fold on its worker's row
    assert window.select_plot_tab("timeline")
    bars = window.plots.timeline.bars()
    assert len(bars["trial"]) == 12 and set(bars["worker"]) == {"w0", "w1"}
    assert list(bars["trial"]) == [n for n in range(4) for _ in range(3)]
    # selecting a row details that one trial, decoded on demand
    window.plots.trialClicked.emit(1)
    assert window.details.trial.number == 1 and window.details.trial.params == {"max_depth": 2}
    assert [row[1] for row in window.details.fold_texts()] == ["0.6", "0.6", "0.55"]
    assert window.details.trial is stored.record(stored.index_of(1))
    assert boxes.shown == []


def test_a_study_without_a_spec_opens_read_only(qtbot, window: MainWindow, db_path: Path,
                                                boxes: Boxes) -> None:
    """A recorded study has trials and plots but nothing to run: the editor keeps what it
    had, Resume stays off, and the status bar says why."""
    from hpstudio.core.records import StudyOrigin
    from hpstudio.core.storage import NewStudy

    with HistoryStore(db_path) as store:
        study_id = store.add_study(NewStudy(
            name="recorded", spec=None, origin=StudyOrigin.RECORDED,
            status=StudyStatus.STOPPED, estimator="sklearn.svm.SVC", metric="accuracy"))
        store.save_trials(stored_trial(study_id, n) for n in range(3))
    assert window.load_spec(tiny_spec())
    editor_spec = window.editor.spec()
    assert window.show_study(study_id)
    assert window.trial_model.rowCount() == 3 and len(window.plots.columns) == 3
    assert window.trial_model.metric == "accuracy"
    assert window.editor.spec() == editor_spec  # nothing to show there
    assert not window.resume_action.isEnabled()
    assert "recorded: shown read-only" in window.statusBar().currentMessage()
    assert window.select_plot_tab("history")
    assert len(window.plots.history.plotted_scores()) == 3
    assert boxes.shown == []


# ----- bad input: a clear message, never a crash or a freeze ------------------------------------


def test_bad_spec_file_is_explained(qtbot, window: MainWindow, boxes: Boxes,
                                    tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[data\nbuiltin = 'iris'\n", encoding="utf-8")
    assert not window.open_spec(bad)
    assert "not valid TOML" in boxes.texts("critical")[0]
    assert not window.open_spec(tmp_path / "missing.toml")
    assert "spec file not found" in boxes.texts("critical")[1]
    assert window.runner is None and window.isVisible()


def test_bad_csv_is_explained(qtbot, window: MainWindow, boxes: Boxes, tmp_path: Path) -> None:
    csv = tmp_path / "broken.csv"
    csv.write_text('a,b\n1,"unterminated\n3,4\n', encoding="utf-8")
    window.load_spec(tiny_spec(data={"csv": str(csv), "target": "b"}))
    qtbot.waitUntil(lambda: bool(boxes.shown), timeout=WAIT_MS)
    assert "is not a readable CSV" in boxes.texts()[0]
    assert not window.start_action.isEnabled()
    window.start_study()  # even when forced, the run explains and ends
    qtbot.waitUntil(lambda: window.runner is None, timeout=WAIT_MS)
    assert any("CSV" in text for text in boxes.texts("critical"))
    assert window.last_error


def test_unknown_estimator_class_is_explained(qtbot, window: MainWindow,
                                              boxes: Boxes) -> None:
    window.load_spec(tiny_spec(estimator={"class": "sklearn.tree.DecisionTreeClassifer"}))
    qtbot.waitUntil(lambda: "DecisionTreeClassifer" in window.editor.validation_message(),
                    timeout=WAIT_MS)
    assert not window.start_action.isEnabled()
    assert not window.start_study()
    assert "has no class 'DecisionTreeClassifer'" in boxes.texts("critical")[0]
    assert "Did you mean sklearn.tree.DecisionTreeClassifier" in boxes.texts("critical")[0]
    assert window.runner is None


def test_invalid_parameter_value_fails_only_that_trial(qtbot, window: MainWindow, db_path: Path,
                                                       boxes: Boxes) -> None:
    load(qtbot, window, tiny_spec([{"max_depth": [2, -1, 3]}]))
    study_id = run_to_end(qtbot, window)
    model = window.trial_model
    states = {model.trial_at(r).number: model.trial_at(r).state for r in range(3)}
    assert states == {0: TrialState.COMPLETE, 1: TrialState.FAILED, 2: TrialState.COMPLETE}
    failed_row = model.row_of_number(1)
    tip = model.data(model.index(failed_row, len(FIXED_COLUMNS)), Qt.ItemDataRole.ToolTipRole)
    assert "trial 1 failed" in tip and "max_depth" in tip
    assert any("trial 1 failed" in m for m in window.log_panel.messages("warning"))
    assert window.last_run.status is StudyStatus.FINISHED and boxes.shown == []
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))


def test_bad_history_file_is_explained(qtbot, window: MainWindow, boxes: Boxes,
                                       tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    before = window.db_path
    assert not window.set_db_path(junk)
    assert "not an hpstudio history" in boxes.texts("critical")[0]
    assert window.db_path == before
    assert window.set_db_path(tmp_path / "other.db") and window.db_path == tmp_path / "other.db"


# ----- closing ------------------------------------------------------------------------------------


def test_close_during_a_run_asks_then_stops_cleanly(qtbot, window: MainWindow, db_path: Path,
                                                    boxes: Boxes) -> None:
    load(qtbot, window, tiny_spec(LONG_SPACE))
    window.start_study()
    with qtbot.waitSignal(window.runner.trialFinished, timeout=WAIT_MS):
        pass
    boxes.answer = QMessageBox.StandardButton.No
    assert not window.close()
    assert window.runner is not None and not window.runner.stop_requested
    boxes.answer = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(window.runEnded, timeout=WAIT_MS):
        assert not window.close()  # not yet: the folds in flight finish first
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert [k for k, _, _ in boxes.shown] == ["question", "question"]
    study_id = window.current_study_id
    with HistoryStore(db_path) as store:
        row = store.get_study(study_id)
    assert row.status is StudyStatus.STOPPED and row.stop_reason == "window closed"
    assert same_rows(table_rows(window), stored_rows(db_path, study_id))  # nothing lost


def test_geometry_and_recent_files_are_remembered(qtbot, db_path: Path, boxes: Boxes,
                                                  isolated_settings: Path,
                                                  tmp_path: Path) -> None:
    spec_file = tmp_path / "mine.toml"
    tiny_spec().save(spec_file)
    first = MainWindow(db_path)
    qtbot.addWidget(first)
    first.resize(760, 540)  # within the offscreen screen, so nothing is clamped
    size = (first.width(), first.height())
    assert first.open_spec(spec_file)
    first.close()
    assert list(isolated_settings.iterdir())  # written to the temporary folder only
    second = MainWindow(db_path)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
    assert second.recent_files() == [str(spec_file.resolve())]
    assert [a.text() for a in second.recent_menu.actions()] == [str(spec_file.resolve())]


def test_about_names_the_library_versions() -> None:
    text = about_text()
    for name in ("hpstudio", "Python", "Qt", "PySide6", "scikit-learn", "scikit-optimize",
                 "pyqtgraph"):
        assert f"<td>{name}</td>" in text


def test_menus_and_toolbar(window: MainWindow) -> None:
    bar = window.menuBar()
    titles = [a.text().replace("&", "") for a in bar.actions() if a.isVisible()]
    assert titles[:4] == ["File", "Edit", "View", "Run"] and titles[-1] == "Help"
    run_menu = [a.text().replace("&", "") for a in window.findChild(
        type(window.recent_menu), "menuRun").actions()]
    assert run_menu == ["Start", "Pause", "Resume study", "Stop"]
    toolbar = [a.objectName() for a in window.toolbar.actions()]
    assert toolbar[:4] == ["actionStart", "actionPause", "actionResume", "actionStop"]
    assert not window.start_action.icon().isNull()


# ----- the app entry point ------------------------------------------------------------------


def test_run_app_runs_the_study_and_saves_a_screenshot(qtbot, db_path: Path,
                                                       tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from hpstudio.gui.app import run_app

    spec_file = tmp_path / "tiny.toml"
    tiny_spec().save(spec_file)
    png = tmp_path / "shots" / "window.png"
    assert run_app(spec=spec_file, db=db_path, run=True, screenshot=png, tab="slices") == 0
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 800 and image.height() >= 600
    with HistoryStore(db_path) as store:
        [study] = store.list_studies()
    assert study.status is StudyStatus.FINISHED and study.n_complete == 3


def test_run_app_with_a_bad_spec_exits_2(qtbot, db_path: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from hpstudio.gui.app import run_app

    bad = tmp_path / "bad.toml"
    bad.write_text("[estimator]\nclass = 'sklearn.svm.SVC'\n", encoding="utf-8")
    assert run_app(spec=bad, db=db_path, run=True) == 2
    assert "missing [data] section" in capsys.readouterr().err
