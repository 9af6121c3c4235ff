"""Drive the live plots for many frames in a fresh interpreter.

Some PySide6 builds leak a reference to None on every void call or signal emit;
a live plot makes thousands of those per second and the process aborts with
"Fatal Python error: none_dealloc". The crash kills the interpreter, so it is
only observable from outside: run the event loop in a subprocess and check it
exits cleanly after the last trial.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
N_TRIALS = 1500

SCRIPT = textwrap.dedent(
    f"""
    import sys
    from PySide6 import QtCore, QtWidgets

    from hpstudio.gui.plots.panel import PlotsPanel
    from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials

    app = QtWidgets.QApplication(sys.argv)
    trials = synthetic_trials({N_TRIALS} + 20, n_params=4)
    panel = PlotsPanel()
    panel.resize(640, 400)
    panel.show()
    panel.set_study(trials[:20], SYNTHETIC_LOG_PARAMS, "accuracy")
    feed = iter(trials[20:])
    tabs = list(panel.plots)
    state = {{"sent": 0, "clicks": 0}}
    panel.trialClicked.connect(lambda n: state.__setitem__("clicks", state["clicks"] + 1))

    def tick():
        trial = next(feed, None)
        if trial is None:
            timer.stop()
            panel.flush()
            panel.repaint()
            print("final count", len(panel.columns), "clicks", state["clicks"], flush=True)
            panel.shutdown()
            app.quit()
            return
        panel.append_trial(trial)
        state["sent"] += 1
        if state["sent"] % 150 == 0:  # visit every tab while trials stream in
            panel.show_plot(tabs[(state["sent"] // 150) % len(tabs)])
        if state["sent"] % 10 == 0:
            panel.select_trial(trial.number - 5)
            panel.history.scatter.sigClicked.emit(panel.history.scatter, 0)
        panel.repaint()  # force a paint every frame

    timer = QtCore.QTimer()
    timer.setInterval(0)
    timer.timeout.connect(tick)
    timer.start()
    sys.exit(app.exec())
    """
)


def test_live_plot_survives_many_frames_in_fresh_process() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert "none_dealloc" not in proc.stderr
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"final count {N_TRIALS + 20}" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    assert "clicks 150" in proc.stdout
