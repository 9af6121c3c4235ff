"""Starting the desktop app: QApplication, the main window, and unattended runs.

Start-up is kept short by showing the window before anything heavy happens. Until the
first expose event only Qt, numpy and the window's own widgets are loaded (background jobs
that widgets submit meanwhile, such as the data panel's summary of its default dataset,
are held: their pandas and scikit-learn imports would compete with the first paint for
the interpreter and the cores); then the plots
(pyqtgraph) and the history dock are built, the spec is put in the editor (whose data
panel loads the dataset, and with it scikit-learn, in the background), and the modules
the study loop needs are imported on a background thread.

``run_app(..., run=True, screenshot=PNG)`` runs a study to its end and saves a picture of
the window: used for documentation and as an end-to-end check on machines without a
display (``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# numpy (through the spec module) is imported before PySide6 on purpose: PySide6 scans the
# source of every module imported after it for its feature flags, which costs ~50 ms of
# start-up for numpy's hundred submodules. Qt itself is imported inside run_app.
import hpstudio.core.spec  # noqa: F401

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "run_app"]

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
REPORT_SHOWN_ENV = "HPSTUDIO_REPORT_SHOWN"
_SETTLE_MS = 300
_EDITOR_WAIT_S = 15.0  # a screenshot waits this long at most for the editor's background loads
_ANSWERS_WAIT_S = 300.0  # ... and this long for the Answers dock's refits
SCREENSHOT_SIZE = (1440, 900)  # pictures for the README have one size, whatever was saved
_HEARTBEAT_MS = 250  # let throttled plots draw their last frame before a screenshot
_WARM_MODULES = ("hpstudio.core.study", "sklearn.model_selection", "pandas")
_HEAVY_MODULES = ("sklearn", "pandas", "scipy", "skopt", "pyqtgraph", "hpstudio.core.study")


def _on_first_expose(window: Any, callback: Callable[[], None]) -> Any:
    """Call ``callback`` once, just after the window is first exposed (really on screen)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class ExposeWatcher(QObject):
        def __init__(self) -> None:
            super().__init__(window)
            self.pending: Callable[[], None] | None = callback

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            exposed = event.type() == QEvent.Type.Expose and self.pending is not None
            if exposed and getattr(watched, "isExposed", lambda: True)():
                pending, self.pending = self.pending, None
                QTimer.singleShot(0, pending)
            return False

    watcher = ExposeWatcher()
    handle = window.windowHandle()
    if handle is not None:
        handle.installEventFilter(watcher)
    else:  # pragma: no cover - every platform plugin creates a handle on show
        QTimer.singleShot(0, callback)
    return watcher


def process_start_time() -> float:
    """Epoch seconds when this process started, for start-up timing (Linux: /proc)."""
    try:
        with open(f"/proc/{os.getpid()}/stat", encoding="ascii") as stat:
            start_ticks = int(stat.read().rsplit(") ", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as uptime:
            up = float(uptime.read().split()[0])
        return time.time() - up + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return _IMPORTED_AT


_IMPORTED_AT = time.time()


def _warm_up() -> None:
    """Import what the first run needs in the background, so Start reacts at once."""
    def work() -> None:
        import importlib

        for name in _WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:
                continue  # warming is an optimisation only; the run reports real problems

    threading.Thread(target=work, name="hpstudio-warm-up", daemon=True).start()


def run_app(spec: str | Path | None = None, db: str | Path | None = None, run: bool = False,
            screenshot: str | Path | None = None, tab: str | None = None,
            argv: Sequence[str] | None = None, allowed_packages: Sequence[str] = (),
            study: str | int | None = None) -> int:
    """Open the app on ``spec`` (the bundled demo when None) and return an exit status.

    ``study`` (an id or a name of the history) is shown once the window is up: its
    trials and plots, updated live while another process (a script, a notebook, the
    command line) is still writing it.

    ``allowed_packages`` (``--allow-package``) are allowed for this session, besides the
    packages allowed in the app's settings.

    0: closed normally; 1: the study run with ``run`` failed; 2: the spec or the history
    could not be opened, or the run was refused for bad input (the message goes to stderr
    and, in interactive mode, to a message box).
    """
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("hpstudio")
    app.setOrganizationName("hpstudio")
    app.setApplicationDisplayName("hpstudio")
    _apply_resources(app)

    from hpstudio.gui.background import hold_jobs, release_jobs, shutdown_processes
    from hpstudio.gui.main_window import MainWindow

    unattended = bool(run or screenshot)
    hold_jobs()  # the editor's data and parameter loads start once the window is shown
    outcome = {"status": 0}
    window = MainWindow(db, interactive=not unattended, defer_plots=True)
    if allowed_packages:
        window.allow_packages_for_session(allowed_packages)
    spec_path = Path(spec) if spec is not None else _demo_spec()

    def finish(status: int) -> None:
        outcome["status"] = max(outcome["status"], status)
        if screenshot:
            _save_screenshot(window, Path(screenshot), tab, window.close)
        else:
            window.close()

    def on_run_ended() -> None:
        result = window.last_run
        if result is not None and result.error is not None:
            finish(EXIT_BAD_INPUT if result.input_error else EXIT_FAILED)
        elif result is not None and result.status is not None and result.status.value == "failed":
            finish(EXIT_FAILED)
        else:
            finish(0)

    def after_shown() -> None:
        try:
            set_up()
        finally:
            release_jobs()

    def set_up() -> None:
        if os.environ.get(REPORT_SHOWN_ENV):
            heavy = [name for name in _HEAVY_MODULES if name in sys.modules]
            print(f"hpstudio: window shown after {time.time() - process_start_time():.3f} s; "
                  f"heavy modules loaded by then: {', '.join(heavy) or 'none'}",
                  file=sys.stderr, flush=True)
        window.finish_setup()
        if not window.open_spec(spec_path):
            if not unattended:
                print(f"hpstudio: error: {window.last_error}", file=sys.stderr)
            outcome["status"] = EXIT_BAD_INPUT
            if unattended:
                window.close()
                return
            window.new_spec()
        if study is not None and not _show_study(window, study):
            outcome["status"] = EXIT_BAD_INPUT
            if unattended:
                window.close()
                return
        _warm_up()
        if run:
            window.runEnded.connect(on_run_ended)
            if not window.start_study():
                finish(EXIT_BAD_INPUT)
        elif screenshot:
            finish(0)

    if screenshot:
        window.resize(*SCREENSHOT_SIZE)
    window.show()
    watcher = _on_first_expose(window, after_shown)
    with _ctrl_c_closes(window):
        app.exec()
    del watcher
    window.shutdown()
    shutdown_processes()
    return int(outcome["status"])


@contextlib.contextmanager
def _ctrl_c_closes(window: Any) -> Iterator[None]:
    """Ctrl+C in the terminal stops a run cleanly and closes the window.

    Python runs signal handlers only between bytecodes, so a timer wakes the interpreter
    while Qt's event loop waits in C++.
    """
    from PySide6.QtCore import QTimer

    def interrupted(_signum: int, _frame: Any) -> None:
        QTimer.singleShot(0, lambda: window.request_quit("interrupted (Ctrl+C)"))

    try:
        previous = signal.signal(signal.SIGINT, interrupted)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(_HEARTBEAT_MS)
    try:
        yield
    finally:
        heartbeat.stop()
        signal.signal(signal.SIGINT, previous)


def _save_screenshot(window: Any, path: Path, tab: str | None,
                     then: Callable[[], Any]) -> None:
    """Select the plot tab (or the Answers dock), let it draw, save ``window.grab()``, then
    call ``then``."""
    from PySide6.QtCore import QTimer

    window.flush_trials()
    if tab:
        window.select_plot_tab(tab)
    plots = window.plots
    if plots is not None:
        plots.flush()
        current = plots.current_plot()
        if current is not None:
            current.refresh()

    editor = window.editor
    deadline = time.monotonic() + _EDITOR_WAIT_S

    answers = getattr(window, "answers", None) if (tab or "").lower() == "answers" else None
    answers_deadline = time.monotonic() + _ANSWERS_WAIT_S

    def editor_settled() -> bool:
        """The data summary and the parameter table are filled in (they load in threads)."""
        if editor is None:
            return True
        return not editor.data_panel.is_loading() and editor.space_editor.parameters_known()

    statistics = (getattr(window, "statistics", None)
                  if (tab or "").lower() == "statistics" else None)

    def answers_settled() -> bool:
        """The Answers dock shows its trial's refitted predictions (or why there are none);
        the Statistics dock its comparison and nested CV."""
        if time.monotonic() > answers_deadline:
            return True
        shown = plots.current_plot() if plots is not None else None
        return (answers is None or answers.settled) and (
            statistics is None or statistics.settled) and not getattr(shown, "busy", False)

    def grab_when_settled() -> None:
        if (editor_settled() or time.monotonic() > deadline) and answers_settled():
            QTimer.singleShot(_SETTLE_MS, grab)
        else:
            QTimer.singleShot(50, grab_when_settled)

    def grab() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(path), "PNG"):
                print(f"hpstudio: error: cannot write the screenshot {path}", file=sys.stderr)
        finally:
            then()

    grab_when_settled()


def _show_study(window: Any, study: str | int) -> bool:
    """Show a study of the window's history by id or name; a wrong one is explained."""
    from hpstudio.core.errors import HpstudioError

    try:
        study_id = window.history_store().resolve(study)
    except HpstudioError as exc:
        window.show_error("Cannot open the study", str(exc))
        return False
    return bool(window.show_study(study_id))


def _apply_resources(app: Any) -> None:
    try:
        from hpstudio.gui.resources import apply_to_application

        apply_to_application(app)
    except Exception as exc:  # a missing icon or style must not keep the app from starting
        print(f"hpstudio: warning: resources not loaded ({exc})", file=sys.stderr)


def _demo_spec() -> Path:
    from hpstudio.demo import demo_spec_path

    return demo_spec_path()
