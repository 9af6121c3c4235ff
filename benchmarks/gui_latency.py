"""Is the window responsive while a study runs, and how fast does it open?

1. Event-loop latency: a QTimer fires every 10 ms on the GUI thread while the main window
   runs a study of 40 candidates (SVC on digits, 5 folds) on 2 worker processes; each
   tick records how late it came (the gap since the previous tick minus 10 ms). Printed:
   p50 / p99 / max lateness per run (target: p99 ≤ 50 ms). The first run is cold (the
   runner thread imports scikit-learn, the worker processes start), later ones are warm.
2. Start-up: ``hpstudio gui --screenshot`` in a fresh process, reporting the time from
   process start to the window's first expose event (``HPSTUDIO_REPORT_SHOWN=1``), with
   bytecode cached as on a user's machine (a first, uncounted launch compiles it).
   Printed: the median of several launches (target: ≤ 0.5 s).

Run: ``python benchmarks/gui_latency.py [--runs 2] [--launches 5] [--jobs 2]``. Without a
display it uses Qt's offscreen platform (set ``QT_QPA_PLATFORM`` to choose another).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TICK_MS = 10
SHOWN = re.compile(r"window shown after ([0-9.]+) s; heavy modules loaded by then: (.*)")

SPEC = {
    "name": "latency-svc-digits",
    "data": {"builtin": "digits"},
    "estimator": {"class": "sklearn.svm.SVC"},
    "space": [{"C": {"low": 0.1, "high": 1000.0, "log": True, "num": 8},
               "gamma": {"low": 1e-4, "high": 1e-2, "log": True, "num": 5}}],
    "cv": {"folds": 5},
    "search": {"strategy": "grid"},
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_latency(runs: int, jobs: int, folder: Path) -> list[dict[str, Any]]:
    """Run the study ``runs`` times in one window; lateness of a 10 ms timer during each."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from hpstudio.core.spec import StudySpec
    from hpstudio.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow(folder / "latency.db", interactive=False)
    window.show()
    spec = StudySpec.from_dict(SPEC)
    results = []
    for run in range(runs):
        window.load_spec(spec.with_name(f"{spec.name}-{run}"))
        settle = QEventLoop()
        QTimer.singleShot(500, settle.quit)  # let the editor's background loads land
        settle.exec()
        window.editor.strategy_panel.set_n_jobs(jobs)
        lateness: list[float] = []
        clock = QElapsedTimer()
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(TICK_MS)
        last = [0]

        def tick(lateness: list[float] = lateness, clock: QElapsedTimer = clock,
                 last: list[int] = last) -> None:
            now = clock.nsecsElapsed()
            lateness.append(max(0.0, (now - last[0]) / 1e6 - TICK_MS))
            last[0] = now

        timer.timeout.connect(tick)
        loop = QEventLoop()
        window.runEnded.connect(loop.quit)
        started = time.perf_counter()
        if not window.start_study():
            raise SystemExit(f"the study did not start: {window.last_error}")
        clock.start()
        timer.start()
        loop.exec()
        timer.stop()
        window.runEnded.disconnect(loop.quit)
        result = window.last_run
        outcome = result.outcome if result is not None else None
        results.append({
            "run": "cold" if run == 0 else "warm",
            "seconds": time.perf_counter() - started,
            "trials": (outcome.n_complete + outcome.n_failed) if outcome else 0,
            "ticks": len(lateness),
            "p50": percentile(lateness, 50),
            "p99": percentile(lateness, 99),
            "max": max(lateness, default=float("nan")),
        })
    window.close()
    app.processEvents()
    return results


def measure_startup(launches: int, folder: Path) -> tuple[list[float], set[str]]:
    """Seconds from process start to the first expose of the window, per fresh launch, and
    the heavy modules (scikit-learn, pandas, ...) that were already imported by then."""
    env = dict(os.environ)
    # as a user's machine does: modules compiled to bytecode once, then read from the cache
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update({"HPSTUDIO_REPORT_SHOWN": "1", "HPSTUDIO_DB": str(folder / "startup.db"),
                "HPSTUDIO_SETTINGS_DIR": str(folder)})
    times = []
    heavy: set[str] = set()
    # the first start after an install compiles hpstudio's modules: not counted
    subprocess.run([sys.executable, "-m", "hpstudio.cli", "gui", "--screenshot",
                    str(folder / "startup-compile.png")], env=env, capture_output=True,
                   timeout=120)
    for launch in range(launches):
        png = folder / f"startup-{launch}.png"
        done = subprocess.run([sys.executable, "-m", "hpstudio.cli", "gui", "--screenshot",
                               str(png)], env=env, capture_output=True, text=True, timeout=120)
        match = SHOWN.search(done.stderr)
        if done.returncode != 0 or match is None:
            raise SystemExit(f"launch failed ({done.returncode}):\n{done.stderr}")
        times.append(float(match.group(1)))
        heavy.update(name for name in match.group(2).split(", ") if name != "none")
    return times, heavy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="studies to run (first is cold)")
    parser.add_argument("--launches", type=int, default=5, help="fresh launches to time")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"platform: {os.environ.get('QT_QPA_PLATFORM', 'default')}, "
          f"{os.cpu_count()} cores, {args.jobs} workers")
    with tempfile.TemporaryDirectory(prefix="hpstudio-bench-") as tmp:
        folder = Path(tmp)
        os.environ["HPSTUDIO_SETTINGS_DIR"] = str(folder)
        startup, heavy = measure_startup(args.launches, folder)
        print(f"start-up to shown window: median {statistics.median(startup):.3f} s "
              f"(min {min(startup):.3f}, max {max(startup):.3f}, {len(startup)} launches; "
              f"target ≤ 0.5 s); heavy modules imported before it: "
              f"{', '.join(sorted(heavy)) or 'none'}")
        for row in measure_latency(args.runs, args.jobs, folder):
            print(f"event-loop lateness, {row['run']} run ({row['trials']} trials in "
                  f"{row['seconds']:.1f} s, {row['ticks']} ticks): p50 {row['p50']:.1f} ms, "
                  f"p99 {row['p99']:.1f} ms, max {row['max']:.1f} ms (target p99 ≤ 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
