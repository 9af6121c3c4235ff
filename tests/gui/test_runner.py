"""The QThread bridge: core study events become Qt signals; pause, resume and stop work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpstudio.core.records import StudyStatus, TrialState
from hpstudio.core.spec import StudySpec
from hpstudio.core.storage import HistoryStore
from hpstudio.gui.runner import QtStudyRunner, RunRequest

TIMEOUT_MS = 60_000


def tiny_spec(space: dict[str, Any] | None = None, **sections: Any) -> StudySpec:
    raw: dict[str, Any] = {
        "name": "tiny",
        "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier",
                      "fixed": {"random_state": 0}},
        "space": [space or {"max_depth": [1, 2, 3, 4]}],
        "cv": {"folds": 3},
    }
    raw.update(sections)
    return StudySpec.from_dict(raw)


class Recorder:
    """Every signal of a runner, in the order the GUI thread received them."""

    def __init__(self, runner: QtStudyRunner) -> None:
        self.events: list[tuple[str, Any]] = []
        for name in ("started", "trialFinished", "paused", "resumed", "logged",
                     "studyFinished", "failed", "ended"):
            getattr(runner, name).connect(
                lambda *args, _name=name: self.events.append((_name, args)))

    def names(self) -> list[str]:
        return [name for name, _ in self.events if name != "logged"]

    def trials(self) -> list[Any]:
        return [args[0].trial for name, args in self.events if name == "trialFinished"]

    def logs(self) -> list[tuple[str, str]]:
        return [tuple(args) for name, args in self.events if name == "logged"]


def make_runner(db: Path, spec: StudySpec | None = None, **options: Any) -> QtStudyRunner:
    return QtStudyRunner(RunRequest(db, spec=spec or tiny_spec(), n_jobs=2, **options))


def test_signals_arrive_in_order_and_match_sqlite(qtbot, db_path: Path) -> None:
    runner = make_runner(db_path)
    record = Recorder(runner)
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        runner.start()
    names = record.names()
    assert names[0] == "started" and names[-2:] == ["studyFinished", "ended"]
    assert names.count("trialFinished") == 4 and "failed" not in names
    assert runner.outcome.status is StudyStatus.FINISHED and not runner.is_running
    with HistoryStore(db_path) as store:
        stored = store.load_trials(runner.study_id)
        assert store.get_study(runner.study_id).status is StudyStatus.FINISHED
    assert sorted(record.trials(), key=lambda t: t.number) == stored


def test_pause_resume_and_stop_mid_study(qtbot, db_path: Path) -> None:
    spec = tiny_spec({"max_depth": list(range(1, 31)), "min_samples_leaf": list(range(1, 11))})
    runner = make_runner(db_path, spec)
    record = Recorder(runner)
    runner.pause()  # before the loop exists: it starts paused and runs nothing
    with qtbot.waitSignal(runner.paused, timeout=TIMEOUT_MS):
        runner.start()
    assert record.trials() == [] and runner.is_paused
    with qtbot.waitSignals([runner.resumed, runner.trialFinished], timeout=TIMEOUT_MS):
        runner.resume()
    with qtbot.waitSignal(runner.paused, timeout=TIMEOUT_MS):
        runner.pause()
    done_when_paused = len(record.trials())
    with qtbot.waitSignal(runner.trialFinished, timeout=TIMEOUT_MS):
        runner.resume()
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        runner.stop("enough for now")
    outcome = runner.outcome
    assert outcome.status is StudyStatus.STOPPED and outcome.reason == "enough for now"
    trials = record.trials()
    assert done_when_paused <= len(trials) < 300
    with HistoryStore(db_path) as store:
        row = store.get_study(runner.study_id)
        stored = store.load_trials(runner.study_id)
    assert row.status is StudyStatus.STOPPED and row.stop_reason == "enough for now"
    assert sorted(trials, key=lambda t: t.number) == stored  # nothing lost, nothing extra
    assert outcome.n_complete + outcome.n_failed == len(stored)
    assert [m for m, _ in record.logs() if m.startswith("paused")]


def test_bad_csv_fails_with_a_message(qtbot, db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n\x00\x00", encoding="utf-8")
    spec = tiny_spec(data={"csv": str(bad), "target": "missing_column"})
    runner = make_runner(db_path, spec)
    record = Recorder(runner)
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        runner.start()
    assert record.names() == ["failed", "ended"]
    assert runner.input_error and "missing_column" in runner.error


@pytest.mark.parametrize("estimator", ["sklearn.tree.NoSuchTree", "os.system"])
def test_unknown_estimator_fails_with_a_message(qtbot, db_path: Path, estimator: str) -> None:
    spec = tiny_spec(estimator={"class": estimator})
    runner = make_runner(db_path, spec)
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.start()
    qtbot.waitUntil(lambda: not runner.is_running, timeout=TIMEOUT_MS)
    assert "estimator.class" in failed.args[0] and runner.input_error


def test_invalid_parameter_value_fails_that_trial_only(qtbot, db_path: Path) -> None:
    runner = make_runner(db_path, tiny_spec({"max_depth": [2, -1, 3]}))
    record = Recorder(runner)
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        runner.start()
    states = {t.number: t.state for t in record.trials()}
    assert states == {0: TrialState.COMPLETE, 1: TrialState.FAILED, 2: TrialState.COMPLETE}
    assert runner.outcome.status is StudyStatus.FINISHED and runner.error is None
    warnings = [m for m, level in record.logs() if level == "warning"]
    assert any("trial 1 failed" in m and "max_depth" in m for m in warnings)


def test_stop_before_the_thread_runs_records_nothing(qtbot, db_path: Path) -> None:
    runner = make_runner(db_path)
    runner.stop("changed my mind")
    record = Recorder(runner)
    with qtbot.waitSignal(runner.ended, timeout=TIMEOUT_MS):
        runner.start()
    assert record.names() == ["ended"] and runner.study_id is None
    with HistoryStore(db_path) as store:
        assert store.list_studies() == []
