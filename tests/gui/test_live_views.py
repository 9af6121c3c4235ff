"""A study written by another process shows live: in the Studies list, the table and the
plots, within a second of each commit, without reopening anything."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hpstudio.core.storage import HistoryStore
from hpstudio.gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
WITHIN_MS = 1000

# A script that writes a study the way any process does: through the history, one
# commit per trial, each when the test asks for it (so each can be timed).
WRITER = textwrap.dedent(
    """
    import sys, time
    from hpstudio.core.records import StudyOrigin, TrialRecord, TrialState
    from hpstudio.core.storage import HistoryStore, NewStudy

    store = HistoryStore(sys.argv[1])
    study = None
    for line in sys.stdin:
        word, *rest = line.split()
        if word == "study":
            study = store.add_study(NewStudy(
                name="written-elsewhere", spec=None, origin=StudyOrigin.PYTHON, n_total=3,
                dataset="ndarray 150x4", strategy="grid", estimator="sklearn.svm.SVC",
                description={"log_params": ["C"]}))
            print("study", study, flush=True)
        elif word == "trial":
            n = int(rest[0])
            now = time.time()
            store.save_trial(TrialRecord(
                study, n, {"C": 10.0 ** n, "kernel": "rbf"}, TrialState.COMPLETE,
                {"score": (0.5 + n / 10, 0.6 + n / 10, 0.55)}, None, (0.01,) * 3,
                (0.001,) * 3, now - 0.1, now))
            print("saved", n, flush=True)
        else:
            break
    store.close()
    """
)


@pytest.fixture
def writer(db_path: Path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(command: str) -> list[str]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(command + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().split()

    yield ask
    if proc.poll() is None:
        proc.communicate("quit\n", timeout=30)


def test_a_study_another_process_writes_grows_in_the_open_window(qtbot, db_path, writer):
    HistoryStore(db_path).close()  # the history exists before the window opens
    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    window.show()
    browser = window.history.browser
    window.history.dock.raise_()
    qtbot.waitUntil(browser.isVisible)

    study_id = int(writer("study")[1])
    qtbot.waitUntil(lambda: browser.study(study_id) is not None, timeout=WITHIN_MS)

    assert window.show_study(study_id)
    assert window.trial_model.rowCount() == 0
    history_plot = window.plots.history
    for n in range(3):
        assert writer(f"trial {n}") == ["saved", str(n)]
        qtbot.waitUntil(lambda n=n: window.trial_model.rowCount() == n + 1, timeout=WITHIN_MS)
        qtbot.waitUntil(lambda n=n: history_plot.plotted_numbers().tolist()
                        == list(range(n + 1)), timeout=WITHIN_MS)
        qtbot.waitUntil(lambda n=n: browser.study(study_id).n_complete == n + 1,
                        timeout=WITHIN_MS)
    assert window.trial_model.trial_at(2).params == {"C": 100.0, "kernel": "rbf"}
    assert window.live_study.appended == 3
    assert window.session.table.params["C"].log  # log scale from the study's description


def test_an_idle_history_is_not_read_again(qtbot, db_path):
    """Nothing is polled: with no writer, the window's own reads (which create and remove
    SQLite's side files) never count as a change, so the history is not re-read."""
    HistoryStore(db_path).close()
    window = MainWindow(db_path, interactive=False)
    qtbot.addWidget(window)
    window.show()
    browser = window.history.browser
    window.history.dock.raise_()
    qtbot.waitUntil(browser.isVisible)
    watcher = browser.watcher
    for _ in range(5):
        browser.refresh()
        window.history_store().list_studies()
    with qtbot.assertNotEmitted(watcher.changed, wait=600):
        pass
    assert watcher.emitted == 0
