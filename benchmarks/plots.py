"""Timings of the live plots on synthetic studies (offscreen).

Measures, for 10,000- and 100,000-trial studies (4 params, 5 folds):

* open, the study held as trial records (the form a running study arrives in):
  ``set_study`` plus the first paint of the visible tab, then the first draw of each
  other tab, one after the other (all of them together = "all plots");
* reopen, the study read back from a history file as the app reopens one: the same
  draws after ``HistoryStore.open_trials``, the timeline reading the stored folds
  ("file to all plots" adds the read);
* append: median time to append one trial to the visible plot at 10,000 trials,
  i.e. ``append_trial`` + flushing the coalescing timer + processing the paint
  events, per tab.

Targets: all plots drawn within 1 s at 100,000 trials; an append within 16 ms.

Run:  python benchmarks/plots.py [--sizes 10000 100000] [--repeat 3] [--appends 60]
      [--no-reopen]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Self

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # timings without a display server
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from history_open import make_history
from PySide6 import QtWidgets

from hpstudio.core.storage import HistoryStore
from hpstudio.core.synthetic import SYNTHETIC_LOG_PARAMS, synthetic_trials
from hpstudio.gui.plots.panel import PlotsPanel

FOLDS = 5

SIZE = (1200, 800)
TARGET_OPEN_S = 1.0
TARGET_APPEND_MS = 16.0
_TRIALS_PER_RUN = 12  # appended trials per run, per append asked: one set for each tab


class _Clock:
    """Wall and process CPU time together: on a shared machine the wall clock also
    counts other processes' time slices, the CPU clock only this one's work."""

    def __enter__(self) -> Self:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


def bench_open(
    app: QtWidgets.QApplication, trials: list
) -> dict[str, tuple[float, float]]:
    """(wall, cpu) seconds to open the study with the history tab visible and painted,
    then to draw each other tab for the first time."""
    panel = PlotsPanel()
    panel.resize(*SIZE)
    panel.show()
    app.processEvents()
    out: dict[str, tuple[float, float]] = {}
    with _Clock() as c:
        panel.set_study(trials, SYNTHETIC_LOG_PARAMS, "accuracy")
        panel.repaint()
        app.processEvents()
    out["open (history shown)"] = (c.wall, c.cpu)
    for name in panel.plots:
        if name == "history":
            continue
        with _Clock() as c:
            panel.show_plot(name)
            panel.repaint()
            app.processEvents()
        out[name] = (c.wall, c.cpu)
    out["all plots"] = (sum(w for w, _ in out.values()), sum(c for _, c in out.values()))
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return out


def bench_append(
    app: QtWidgets.QApplication, base: list, extra: list, appends: int
) -> dict[str, tuple[float, float, float]]:
    """Median ms per appended trial, per visible tab: compute (append + flush), then
    wall and CPU time including the paint of the next frame."""
    panel = PlotsPanel()
    panel.resize(*SIZE)
    panel.show()
    panel.set_study(base, SYNTHETIC_LOG_PARAMS, "accuracy")
    app.processEvents()
    feed = iter(extra)
    out: dict[str, tuple[float, float, float]] = {}
    for name in panel.plots:
        panel.show_plot(name)
        panel.repaint()
        app.processEvents()
        compute, total, cpu = [], [], []
        for _ in range(appends):
            c0 = time.process_time()
            t0 = time.perf_counter()
            panel.append_trial(next(feed))
            panel.flush()
            t1 = time.perf_counter()
            app.processEvents()  # the paint of the next frame
            t2 = time.perf_counter()
            compute.append((t1 - t0) * 1e3)
            total.append((t2 - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        out[name] = (
            statistics.median(compute), statistics.median(total), statistics.median(cpu)
        )
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return out


def _print_runs(runs: list[dict[str, tuple[float, float]]], n: int,
                judged: tuple[str, ...]) -> None:
    """Medians over the runs, each figure on its own (the total is the median of the
    runs' totals, not the sum of the medians)."""
    print(f"  {'plot':<26}{'wall s':>9}{'cpu s':>9}")
    for key in runs[0]:
        wall = statistics.median(r[key][0] for r in runs)
        cpu = statistics.median(r[key][1] for r in runs)
        mark = ""
        if key in judged and n >= 100_000:
            mark = f"  target {TARGET_OPEN_S:g} s: " + ("ok" if wall <= TARGET_OPEN_S else
                                                        "over (wall)")
        print(f"  {key:<26}{wall:>9.3f}{cpu:>9.3f}{mark}")


def _bench_reopen(app: QtWidgets.QApplication, n: int, repeat: int) -> None:
    """The same draws for the study written to a history and read back as the app
    reopens one (HistoryStore.open_trials; folds read when the timeline is drawn)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        t = time.perf_counter()
        study_id = make_history(path, n, folds=FOLDS)
        gen = time.perf_counter() - t
        runs = []
        for _ in range(repeat):
            with HistoryStore(path) as store:
                with _Clock() as c:
                    stored = store.open_trials(study_id)
                drawn = bench_open(app, stored)
                read = {"read (open_trials)": (c.wall, c.cpu)}
                total = tuple(a + b for a, b in zip(read["read (open_trials)"],
                                                    drawn["all plots"], strict=True))
                runs.append({**read, **drawn, "file to all plots": total})
                del stored
    print(f"\nreopen {n:,} trials from a history file ({n * FOLDS:,} folds; writing it took "
          f"{gen:.1f} s)")
    _print_runs(runs, n, ("all plots", "file to all plots"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--appends", type=int, default=60)
    parser.add_argument("--append-size", type=int, default=10_000)
    parser.add_argument("--no-reopen", action="store_true",
                        help="skip the studies read back from a history file")
    args = parser.parse_args()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"plots benchmark · {SIZE[0]}x{SIZE[1]} offscreen · median of {args.repeat} runs · "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at start")
    for n in args.sizes:
        t = time.perf_counter()
        trials = synthetic_trials(n, n_params=4, folds=FOLDS, workers=2)
        gen = time.perf_counter() - t
        runs = [bench_open(app, trials) for _ in range(args.repeat)]
        print(f"\nopen {n:,} trials held as records ({n * FOLDS:,} folds; generating them "
              f"took {gen:.1f} s)")
        _print_runs(runs, n, ("all plots",))
        del trials
        if not args.no_reopen:
            _bench_reopen(app, n, args.repeat)

    if args.appends <= 0:
        return
    n = args.append_size
    trials = synthetic_trials(n + _TRIALS_PER_RUN * args.appends * args.repeat, n_params=4)
    base, extra = trials[:n], trials[n:]
    per_run = []
    for r in range(args.repeat):
        chunk = extra[r * _TRIALS_PER_RUN * args.appends : (r + 1) * _TRIALS_PER_RUN * args.appends]
        per_run.append(bench_append(app, base, chunk, args.appends))
    print(f"\nappend one trial at {n:,} trials (median ms of {args.appends} appends x "
          f"{args.repeat} runs; target {TARGET_APPEND_MS:g} ms with the paint)")
    print(f"  {'visible plot':<16}{'compute':>9}{'+paint':>9}{'cpu':>9}")
    for name in per_run[0]:
        comp, tot, cpu = (statistics.median(run[name][i] for run in per_run) for i in range(3))
        mark = "  ok" if tot <= TARGET_APPEND_MS else "  over (wall)"
        print(f"  {name:<16}{comp:>9.2f}{tot:>9.2f}{cpu:>9.2f}{mark}")


if __name__ == "__main__":
    main()
