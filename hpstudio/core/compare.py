"""Best-so-far curves for comparing studies, computed from stored trial columns.

Comparing two searches means asking "which one found a good model sooner?", both in
trials spent and in time spent. The curves are computed here, without Qt, from a
study's trial table (``open_trials``: columns, no records), so a 100,000-trial study costs a few
vectorised numpy passes, and only the points where the best improved are kept: a step
line through them is the whole curve.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpstudio.core.storage import StudyRow
from hpstudio.core.trials import TrialTable

__all__ = ["BestCurve", "best_so_far", "busy_time", "comparison_warnings", "step_points"]


@dataclass(frozen=True)
class BestCurve:
    """The best score found so far by one study, against trial number and elapsed time.

    Arrays hold only the points where the best improved, plus the last trial, so that a
    step line through them (see :func:`step_points`) draws the full running maximum.
    """

    study_id: int
    name: str
    number: np.ndarray  # trial numbers at which the best improved (and the last one)
    best_by_number: np.ndarray
    elapsed: np.ndarray  # busy seconds at which the best improved (and at the end)
    best_by_elapsed: np.ndarray
    best_score: float  # NaN when no trial succeeded
    n_trials: int  # stored trials, failed ones included
    n_complete: int
    busy_seconds: float  # time with at least one trial running

    @property
    def empty(self) -> bool:
        return self.number.size == 0


def best_so_far(table: TrialTable, *, study_id: int = 0, name: str = "") -> BestCurve:
    """The running maximum of ``mean_test_score`` over a study's complete trials.

    Against trial number the trials are taken in number order (the order they were
    asked for); against time they are taken in the order they finished, and the clock is
    :func:`busy_time`, so a study that was stopped overnight and resumed is not drawn with
    a night-long flat line.
    """
    number = table.number
    score = table.test
    started = table.col("started")
    finished = table.col("finished")
    ok = table.complete

    order = np.argsort(number, kind="stable")
    by_number = order[ok[order]]
    x_number, y_number = _improvements(number[by_number].astype(float), score[by_number])

    timed = ok & np.isfinite(finished)
    clock = busy_time(started, finished)
    by_time = np.flatnonzero(timed)
    by_time = by_time[np.argsort(finished[by_time], kind="stable")]
    x_time, y_time = _improvements(clock[by_time], score[by_time])

    finite_clock = clock[np.isfinite(clock)]
    return BestCurve(
        study_id=study_id, name=name,
        number=x_number.astype(np.int64), best_by_number=y_number,
        elapsed=x_time, best_by_elapsed=y_time,
        best_score=float(score[ok].max()) if ok.any() else math.nan,
        n_trials=int(number.size), n_complete=int(ok.sum()),
        busy_seconds=float(finite_clock.max()) if finite_clock.size else 0.0,
    )


def busy_time(started: np.ndarray, finished: np.ndarray) -> np.ndarray:
    """For each trial, the seconds up to its end during which any trial was running.

    The union of the trials' [started, finished] intervals is the study's working time:
    pauses between runs and the set-up before the first fold drop out. Trials without
    times get NaN.
    """
    started = np.asarray(started, dtype=float)
    finished = np.asarray(finished, dtype=float)
    out = np.full(started.shape, math.nan)
    valid = np.flatnonzero(np.isfinite(started) & np.isfinite(finished))
    if valid.size == 0:
        return out
    s = started[valid]
    f = np.maximum(finished[valid], s)
    order = np.argsort(s, kind="stable")
    s_sorted, f_sorted = s[order], f[order]
    reach = np.maximum.accumulate(f_sorted)
    # an interval opens a new busy block when it starts after everything before it ended
    opens = np.ones(s_sorted.size, dtype=bool)
    opens[1:] = s_sorted[1:] > reach[:-1]
    block_start = s_sorted[opens]
    block_end = np.maximum.reduceat(f_sorted, np.flatnonzero(opens))
    before = np.concatenate(([0.0], np.cumsum(block_end - block_start)[:-1]))
    block = np.searchsorted(block_start, f, side="right") - 1
    out[valid] = before[block] + np.minimum(f, block_end[block]) - block_start[block]
    return out


def step_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of a step line that holds each value until the next x ("best so far")."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 2:
        return x.copy(), y.copy()
    xs = np.empty(2 * x.size - 1)
    ys = np.empty(2 * x.size - 1)
    xs[0::2], ys[0::2] = x, y
    xs[1::2], ys[1::2] = x[1:], y[:-1]
    return xs, ys


def comparison_warnings(studies: Sequence[StudyRow]) -> list[str]:
    """Why these studies' scores may not be comparable: other data, metric or folds."""
    if len(studies) < 2:
        return []
    warnings: list[str] = []

    def differs(label: str, values: Sequence[Any], what: str) -> None:
        if len({repr(v) for v in values}) > 1:
            listed = ", ".join(f"{_fmt(v)} in {s.name!r}" for v, s in zip(values, studies,
                                                                        strict=True))
            warnings.append(f"different {label} ({listed}): {what}")

    data = [_section(s, "data") for s in studies]
    differs("data", data, "the scores were measured on different datasets")
    prints = [s.data_fingerprint for s in studies]
    if len({repr(d) for d in data}) == 1 and all(prints) and len(set(prints)) > 1:
        warnings.append("the data file changed between these studies (different fingerprints): "
                        "the scores were measured on different data")
    differs("metrics", [s.metric for s in studies],
            "the scores are on different scales and cannot be ranked against each other")
    differs("cross-validation", [_cv(s) for s in studies],
            "the folds differ, so small score differences may be noise")
    return warnings


def _section(study: StudyRow, name: str) -> Any:
    """A section of the study's spec, or of its description when it has no spec."""
    source = study.spec if study.spec is not None else study.description
    return source.get(name, {})


def _cv(study: StudyRow) -> dict[str, Any]:
    cv = _section(study, "cv")
    return {"folds": cv.get("folds", 5), "shuffle": cv.get("shuffle", False),
            "seed": cv.get("seed")}


def _fmt(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _improvements(x: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points where the running maximum rises, plus the last point (where the line ends)."""
    if score.size == 0:
        return np.empty(0), np.empty(0)
    best = np.maximum.accumulate(score)
    keep = np.ones(best.size, dtype=bool)
    keep[1:] = best[1:] > best[:-1]
    keep[-1] = True
    return x[keep].astype(float), best[keep]
