"""How long reopening a 100,000-trial study takes, from SQLite to a drawn window.

Reopening a past study must feel instant (target: ≤ 1 s for 100,000 trials). This script
writes a synthetic history of that size straight through ``sqlite3`` (the schema is the
one ``HistoryStore`` creates; inserting through ``save_trial`` one transaction per trial
would take minutes), then times each layer of the open path:

* ``HistoryStore.list_studies`` (the studies browser),
* ``HistoryStore.open_trials`` (what the window and the compare view read: the trial
  table's column arrays, records decoded on demand) and ``fold_columns`` (read when the
  timeline is first drawn),
* ``HistoryStore.load_trials`` with and without folds (row objects, for comparison),
* ``compare.best_so_far`` on the columns (the compare view),
* ``MainWindow.show_study`` offscreen, including the trial table and the plots, until the
  event loop is idle (the window as the user sees it), with a profile of where it goes.
  "Idle" is the end of the last event that did work (≥ 0.5 ms: a paint, a plot timer),
  noted by the application's ``notify``; the fixed wait that makes sure no timer is
  left (``settle``) is printed beside it but not counted.

The verdict is on the median of the window runs (``show_study``), target ≤ 1 s.

Run: ``python benchmarks/history_open.py [--trials N] [--db FILE] [--no-window]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

TARGET_SECONDS = 1.0
WORK_EVENT_SECONDS = 0.0005  # an event handled in less did no drawing worth counting
FOLDS = 3
SPEC = {
    "name": "synthetic-svc",
    "data": {"builtin": "iris"},
    "estimator": {"class": "sklearn.svm.SVC", "fixed": {}},
    "space": [{"C": {"low": 1e-3, "high": 1e3, "log": True},
               "gamma": {"low": 1e-4, "high": 10.0, "log": True},
               "kernel": ["rbf", "poly"], "degree": {"low": 2, "high": 5}}],
    "cv": {"folds": FOLDS},
    "scoring": {"train_score": True},
    "search": {"strategy": "random", "n_trials": 100_000, "seed": 0},
}


def make_history(path: Path, n_trials: int, seed: int = 0, folds: int = FOLDS) -> int:
    """A history holding one finished study of ``n_trials`` random-search trials, each
    with its per-split scores and packed fold timeline, as ``save_trial`` writes them."""
    from hpstudio.core.storage import HistoryStore
    from hpstudio.core.storage.schema import FOLD_TIMELINE, TRIAL_INSERT, pack_floats

    spec = {**SPEC, "search": {**SPEC["search"], "n_trials": n_trials},
            "cv": {"folds": folds}}
    with HistoryStore(path) as store:  # creates the schema exactly as the app does
        study_id = store.create_study(spec, base_dir=None, n_total=n_trials,
                                      data_fingerprint="synthetic", dataset="iris")
    rng = np.random.default_rng(seed)
    log_c = rng.uniform(math.log(1e-3), math.log(1e3), n_trials)
    log_gamma = rng.uniform(math.log(1e-4), math.log(10.0), n_trials)
    kernel = rng.integers(0, 2, n_trials)
    degree = rng.integers(2, 6, n_trials)
    quality = 0.97 - 0.004 * (log_c - 2.0) ** 2 - 0.01 * (log_gamma + 3.0) ** 2 / 4
    splits = np.clip(quality[:, None] + rng.normal(0, 0.02, (n_trials, folds)), 0.0, 1.0)
    train = np.clip(splits + 0.02, 0.0, 1.0)
    failed = rng.random(n_trials) < 0.01
    fit = rng.uniform(0.001, 0.02, (n_trials, folds))
    score = fit / 10
    duration = fit.sum(axis=1) + score.sum(axis=1)
    workers = 8
    start0 = 1.7e9
    started = start0 + np.cumsum(duration) / workers
    finished = started + duration
    kernels = ("rbf", "poly")
    fold_time = fit + score
    fold_start = started[:, None] + np.cumsum(fold_time, axis=1) - fold_time
    fold_worker = 1000 + (np.arange(n_trials)[:, None] + np.arange(folds)) % workers
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.executemany("INSERT INTO workers (label) VALUES (?)",
                         [(str(1000 + w),) for w in range(workers)])
        worker_id = dict(conn.execute("SELECT label, id FROM workers").fetchall())
    timeline = np.zeros((n_trials, folds), dtype=FOLD_TIMELINE)
    timeline["fold"] = np.arange(folds)
    timeline["worker"] = np.vectorize(lambda w: worker_id[str(w)])(fold_worker)
    timeline["started"] = fold_start
    timeline["finished"] = fold_start + fold_time
    timeline["failed"] = failed[:, None]

    def trial_rows() -> Any:
        for i in range(n_trials):
            params = json.dumps({"C": float(math.exp(log_c[i])),
                                 "gamma": float(math.exp(log_gamma[i])),
                                 "kernel": kernels[kernel[i]], "degree": int(degree[i])})
            bad = bool(failed[i])
            test = np.full(folds, np.nan) if bad else splits[i]
            error = "ValueError: synthetic failure"
            yield (study_id, i, 0, None, None, 0, params, "failed" if bad else "complete",
                   None, None if bad else float(np.mean(splits[i])),
                   None if bad else float(np.std(splits[i])),
                   None if bad else float(np.mean(train[i])),
                   None if bad else float(np.std(train[i])),
                   float(fit[i].mean()), float(score[i].mean()), folds, pack_floats([test]),
                   None if bad else pack_floats([train[i]]), pack_floats(fit[i]),
                   pack_floats(score[i]), float(started[i]), float(finished[i]),
                   f"fold 0: {error}" if bad else None,
                   json.dumps([error] * folds) if bad else None, timeline[i].tobytes(), None)

    with conn:
        conn.executemany(TRIAL_INSERT, trial_rows())
        conn.execute("UPDATE studies SET status='finished', stop_reason=?, finished=?, "
                     "elapsed=? WHERE id=?",
                     (f"trial budget of {n_trials} trials reached", float(finished.max()),
                      float(finished.max() - start0), study_id))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return study_id


def timed(label: str, work: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """Best-of-``repeat`` wall time (the first, cold run is reported too)."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"  {label:<44} {best:7.3f} s  (first {times[0]:.3f} s, "
          f"median {statistics.median(times):.3f} s)")
    return best, result


def bench_core(path: Path, study_id: int) -> dict[str, float]:
    from hpstudio.core.compare import best_so_far
    from hpstudio.core.storage import HistoryStore

    figures: dict[str, float] = {}
    with HistoryStore(path) as store:
        figures["list_studies"], _ = timed("HistoryStore.list_studies", store.list_studies)
        figures["open_trials"], stored = timed("HistoryStore.open_trials",
                                               lambda: store.open_trials(study_id))
        figures["fold_columns"], folds = timed("HistoryStore.fold_columns",
                                               lambda: store.fold_columns(study_id), repeat=1)
        figures["load_trials"], trials = timed("HistoryStore.load_trials",
                                               lambda: store.load_trials(study_id))
        figures["load_trials_folds"], _ = timed(
            "HistoryStore.load_trials(with_folds=True)",
            lambda: store.load_trials(study_id, with_folds=True), repeat=1)
        figures["best_so_far"], _ = timed("compare.best_so_far(open_trials)",
                                          lambda: best_so_far(store.open_trials(study_id)))
    assert len(trials) == len(stored)
    assert len(folds.number) == FOLDS * len(stored)
    return figures


def bench_window(path: Path, study_id: int, profile: bool,
                 runs_count: int = 5) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("HPSTUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="hpstudio-bench-"))
    from PySide6.QtWidgets import QApplication

    from hpstudio.gui.main_window import MainWindow

    app = QApplication.instance() or timed_application()
    window = MainWindow(path)
    window.resize(1440, 900)
    window.show()
    settle(app)
    # The window starts by reading the default estimator's parameters and dataset on
    # background threads; a user reopens a study once it is up, so time from then on.
    deadline = time.perf_counter() + 120
    while editor_busy() and time.perf_counter() < deadline:
        settle(app)

    # Time spent inside the store's reads during show_study, to split the figure into
    # "reading SQLite into records" and "everything else" (editor, table, plots, paint).
    store = window.history_store()
    inside: dict[str, float] = {}
    for name in ("open_trials", "load_trials", "get_study"):
        original = getattr(store, name)

        def wrapper(*args: Any, _original: Any = original, _name: str = name,
                    **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                inside[_name] = inside.get(_name, 0.0) + time.perf_counter() - start

        setattr(store, name, wrapper)

    def open_and_draw() -> tuple[float, float]:
        """(seconds until the window is drawn, seconds until settle() returned)."""
        inside.clear()
        start = time.perf_counter()
        app.last_work_end = 0.0
        window.show_study(study_id)
        returned = time.perf_counter()
        settle(app)  # the table and the visible plot paint; coalesced plot timers fire
        settled = time.perf_counter()
        drawn = max(returned, getattr(app, "last_work_end", settled))
        return drawn - start, settled - start

    runs = []
    for _ in range(runs_count):
        drawn, settled = open_and_draw()
        runs.append((drawn, settled, dict(inside)))
    # the run with the median time, and its split into store reads and the rest
    total, settled, reads = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    figures: dict[str, float] = {"show_study": total}
    print(f"  {'MainWindow.show_study + draw (offscreen)':<44} {total:7.3f} s  (median of "
          f"{len(runs)}: {', '.join(f'{r[0]:.3f}' for r in runs)} s; "
          f"{settled:.3f} s with the settle wait)")
    assert window.trial_model.rowCount() > 0
    print("    of which " + ", ".join(f"store.{k} {v:.3f} s" for k, v in reads.items())
          + f"; the rest (editor, table, plots, paint) {total - sum(reads.values()):.3f} s")
    for name in ("parallel", "timeline"):
        def switch(tab: str) -> float:
            """Seconds until the tab is drawn (the end of the last event doing work;
            the fixed wait of settle() is not counted)."""
            start = time.perf_counter()
            app.last_work_end = 0.0
            window.select_plot_tab(tab)
            returned = time.perf_counter()
            settle(app)
            return max(returned, app.last_work_end) - start

        there, back = switch(name), switch("history")
        label = f"then switch to the {name} tab and back"
        if name == "timeline":
            label = "then the timeline tab (reads the folds) and back"
        print(f"    {label:<42} {there + back:7.3f} s  ({there:.3f} + {back:.3f} s)")
        figures[f"tab_{name}"] = there + back
    # a reopened study's timeline draws its stored folds, one bar each
    n_bars = len(window.plots.timeline.bars()["trial"])
    assert n_bars == FOLDS * window.trial_model.rowCount(), n_bars
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        open_and_draw()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(25)
        print("\n  where MainWindow.show_study + draw spends its time (cumulative):")
        print("\n".join("    " + line for line in out.getvalue().splitlines()
                        if line.strip())[:6000])
    window.close()
    return figures


def timed_application() -> Any:
    """A QApplication that notes when the last event doing real work ended."""
    from PySide6.QtWidgets import QApplication

    class TimedApplication(QApplication):
        last_work_end = 0.0

        def notify(self, receiver: Any, event: Any) -> bool:
            start = time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                end = time.perf_counter()
                if end - start >= WORK_EVENT_SECONDS:
                    self.last_work_end = end

    return TimedApplication([])


def editor_busy() -> bool:
    """Whether the study editor's background loads (``run_in_background``) still run."""
    return any(t.name == "hpstudio-editor" and t.is_alive() for t in threading.enumerate())


def settle(app: Any, rounds: int = 5) -> None:
    """Run the event loop until pending timers (plot coalescing: ~16-50 ms) have fired."""
    from PySide6.QtCore import QEventLoop

    for _ in range(rounds):
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.001)
    for _ in range(3):
        deadline = time.perf_counter() + 0.06
        while time.perf_counter() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="history file to (re)use; made if missing")
    parser.add_argument("--no-window", action="store_true", help="core timings only")
    parser.add_argument("--runs", type=int, default=5,
                        help="window runs; the figure is their median (default 5)")
    parser.add_argument("--profile", action="store_true",
                        help="print where MainWindow.show_study spends its time")
    args = parser.parse_args(argv)

    folder = tempfile.TemporaryDirectory(prefix="hpstudio-bench-")
    path = args.db or Path(folder.name) / "history.db"
    if not path.exists():
        start = time.perf_counter()
        study_id = make_history(path, args.trials)
        size = path.stat().st_size / 1e6
        print(f"wrote {args.trials:,} trials × {FOLDS} folds to {path} ({size:.0f} MB) in "
              f"{time.perf_counter() - start:.1f} s")
    else:
        from hpstudio.core.storage import HistoryStore

        with HistoryStore(path) as store:
            study_id = max(s.id for s in store.list_studies())
    print(f"opening study #{study_id} ({args.trials:,} trials); target ≤ {TARGET_SECONDS:g} s")
    figures = bench_core(path, study_id)
    if not args.no_window:
        try:
            figures.update(bench_window(path, study_id, args.profile, max(1, args.runs)))
        except ImportError as exc:
            print(f"  (window skipped: {exc})")
    verdict = [(key, value) for key, value in figures.items()
               if key in ("open_trials", "show_study")]
    for key, value in verdict:
        status = "ok" if value <= TARGET_SECONDS else "OVER TARGET"
        print(f"{key}: {value:.3f} s — {status} (×{value / TARGET_SECONDS:.2f} of target)")
    folder.cleanup()
    return 0 if all(v <= TARGET_SECONDS for _k, v in verdict) else 1


if __name__ == "__main__":
    sys.exit(main())
