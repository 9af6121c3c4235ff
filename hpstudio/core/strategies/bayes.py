"""Bayesian optimisation on scikit-optimize, arranged so that workers never wait for it.

How it fits the study loop
--------------------------
The loop asks for a candidate whenever fewer than two waves of fold tasks are queued, and
tells a trial once all its folds are in. A Gaussian process over a few hundred trials takes
a noticeable fraction of a second to refit, so doing that inside ``ask`` or ``tell`` would
stall the loop thread and, with fast fits, leave workers idle. Instead:

* ``tell`` only records the result (microseconds).
* A background thread keeps a small queue of suggestions per sub-space (two by default),
  each computed with the trials in flight and the suggestions still queued told as
  *constant lies* (the best value seen, skopt's ``cl_min``): the model then expects
  nothing new at those points, so the next suggestion is a different point rather than
  the same optimum again.
* ``ask`` pops the freshest queued suggestion. When a new result arrives, queued
  suggestions computed before it are recomputed and replaced in the background; until
  then the older ones stay available, because a slightly stale point now is worth more
  than a fresh one after the workers ran dry.
* Only when the queue is empty (fits faster than the model) does ``ask`` wait: for as
  long as the folds already queued keep every worker busy (the loop reports its backlog
  through ``note_backlog``), at most a second. Past that it hands out a random unseen
  point: when evaluations are cheaper than the model, more evaluations beat a
  better-placed one.

Cost of one suggestion
----------------------
GP kernel hyperparameters are refitted by maximum likelihood after every new result while
there are few, then whenever the results grew by 10 %; each refit starts from skopt's
default kernel and from the previous fit and keeps the likelier (random restarts are
added whenever the number of results doubled). Between refits the constant-liar model is
fitted with the kernel held fixed (one Cholesky factorisation), and the acquisition
function is minimised over random samples (``acq_optimizer="sampling"``, 10,000 samples
as in skopt, fewer past 100 trials so the cost stays flat). Predictive variances use a
matrix product instead of skopt's three-operand ``einsum`` (5-10x slower at 200 trials),
``gp_hedge``'s three acquisition functions share one prediction, and BLAS runs on one
thread, which for matrices this small only avoids contention with the workers. A
suggestion at 200 trials takes tens of milliseconds, off the loop's thread. Tree
surrogates (RF, ET, GBRT) are refitted in full for each suggestion.

Sub-spaces
----------
A spec may list several sub-spaces (like ``param_grid`` as a list of dicts). skopt has no
conditional dimensions, and one joint space would make the surrogate model parameters
that half the candidates ignore (``gamma`` for a linear kernel), so each sub-space gets
its own optimiser and they are searched **round-robin**, each with an equal share of
``n_trials`` (a finite sub-space smaller than its share gives the rest to the others).
Interleaving rather than searching one after another means that a study stopped early by
its time limit or patience has explored every sub-space, which is why
``BayesSearchCV``'s one-after-another order was not copied. Each sub-space starts with
``initial_points`` design points (random, Sobol, LHS or Halton), at most half its share.

Categorical values of any type (None, booleans, strings, mixes) are searched as category
indices and mapped back, so whatever the spec lists is passed to the estimator unchanged;
ranges with ``log = true`` get skopt's log-uniform prior. No candidate that finished, is
in flight or is queued is proposed again (identity by ``candidate_key``); when the model
only proposes seen points, a random unseen one is used. A failed trial is told as the
worst score seen so far, so the search moves away from where fits fail.

Resuming
--------
``restore`` tells every finished trial back in one batch, continues numbering after the
highest finished number, and marks all finished candidates as seen. The seed fixes the
initial design and the random draws; later suggestions depend on the order in which
results arrive, as with any asynchronous parallel search.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpstudio.core.records import Candidate, TrialRecord
from hpstudio.core.space import (
    FloatRange,
    IntRange,
    SubSpace,
    Values,
    candidate_key,
    space_size,
    subspace_size,
)
from hpstudio.core.spec import SearchSpec
from hpstudio.core.strategies.base import Strategy

READY_PER_SUBSPACE = 2  # queued suggestions per sub-space: one to hand out, one spare
# acquisition samples: up to 10,000 like skopt, fewer as trials grow so that samples ×
# trials (the size of the kernel matrix to predict with) stays near a million
N_POINTS = (2000, 10_000)
KERNEL_CELLS = 1_000_000
N_POINTS_TREES = 1000  # tree surrogates predict more slowly per point
MAX_WAIT = 1.0  # seconds ask() may wait for a suggestion at most, however slow the folds
REFIT_GROWTH = 0.1  # refit GP hyperparameters once the results grew by 10% (every one early on)
_MAX_ENUMERATED = 100_000  # finite sub-spaces up to this size are enumerated for fallbacks
_MAX_REJECTIONS = 200  # random draws before listing a small space's unseen points
_IDLE_POLL = 0.5

Key = tuple[tuple[str, str], ...]


# ----- the fast Gaussian process ----------------------------------------------------------


def _gp_class() -> type:
    """skopt's GP with a BLAS predictive variance (defined lazily: skopt imports slowly)."""
    global _FAST_GP
    if _FAST_GP is None:
        from skopt.learning import GaussianProcessRegressor

        class FastGaussianProcessRegressor(GaussianProcessRegressor):
            """Same model; ``predict(return_std=True)`` via a matrix product, not ``einsum``.

            The last answer is kept: ``gp_hedge`` asks for the same samples three times.
            """

            def fit(self, X: Any, y: Any) -> Any:
                self._last = None
                return super().fit(X, y)

            def predict(self, X: Any, return_std: bool = False, return_cov: bool = False,
                        return_mean_grad: bool = False, return_std_grad: bool = False) -> Any:
                if (return_std and not (return_cov or return_mean_grad or return_std_grad)
                        and hasattr(self, "K_inv_")):
                    last = getattr(self, "_last", None)
                    if last is not None and last[0] is X:
                        return last[1]
                    Xa = np.asarray(X, dtype=float)
                    K_trans = self.kernel_(Xa, self.X_train_)
                    y_mean = self.y_train_std_ * (K_trans @ self.alpha_) + self.y_train_mean_
                    y_var = self.kernel_.diag(Xa) - np.sum((K_trans @ self.K_inv_) * K_trans,
                                                           axis=1)
                    y_var = np.maximum(y_var, 0.0) * self.y_train_std_ ** 2
                    answer = (y_mean, np.sqrt(y_var))
                    self._last = (X, answer)
                    return answer
                return super().predict(X, return_std, return_cov, return_mean_grad,
                                       return_std_grad)

        _FAST_GP = FastGaussianProcessRegressor
    return _FAST_GP


_FAST_GP: type | None = None


def _gbrt_class() -> type:
    """skopt's quantile boosting, mended for current scikit-learn and NumPy.

    skopt lists ``BaseEstimator`` before ``RegressorMixin``, so scikit-learn ≥ 1.6 does not
    see a regressor and skopt's own ``Optimizer`` refuses it; and its ``predict`` calls
    ``np.in1d``, which NumPy 2.4 removed.
    """
    global _GBRT
    if _GBRT is None:
        from sklearn.utils import RegressorTags
        from skopt.learning import GradientBoostingQuantileRegressor

        class TaggedGradientBoostingQuantileRegressor(GradientBoostingQuantileRegressor):
            def __sklearn_tags__(self) -> Any:
                tags = super().__sklearn_tags__()
                tags.estimator_type = "regressor"
                tags.regressor_tags = RegressorTags()
                return tags

            def predict(self, X: Any, return_std: bool = False,
                        return_quantiles: bool = False) -> Any:
                if return_std and not return_quantiles:
                    at = {q: r for q, r in zip(self.quantiles, self.regressors_, strict=True)}
                    mean, low, high = (at[q].predict(X) for q in (0.5, 0.16, 0.84))
                    return mean, (high - low) / 2.0
                return super().predict(X, return_std, return_quantiles)

        _GBRT = TaggedGradientBoostingQuantileRegressor
    return _GBRT


_GBRT: type | None = None


def _with_noise(kernel: Any, noise: float | None) -> Any:
    """The fitted kernel with its white-noise term put back (skopt zeroes it after fit)."""
    from skopt.learning.gaussian_process.kernels import WhiteKernel

    kernel = copy.deepcopy(kernel)
    for name, part in kernel.get_params(deep=True).items():
        if isinstance(part, WhiteKernel):
            kernel.set_params(**{name: WhiteKernel(noise_level=max(noise or 0.0, 1e-5))})
            break
    return kernel


# ----- mapping spec values to skopt points --------------------------------------------------


@dataclass(frozen=True)
class _Codec:
    """One searched hyperparameter: its skopt dimension and the value mapping both ways."""

    name: str
    dim: Any  # the spec's Values | IntRange | FloatRange

    def skopt_dimension(self) -> Any:
        from skopt.space import Categorical, Integer, Real

        dim = self.dim
        prior = "log-uniform" if getattr(dim, "log", False) else "uniform"
        if isinstance(dim, FloatRange):
            return Real(dim.low, dim.high, prior=prior, name=self.name)
        if isinstance(dim, IntRange):
            return Integer(dim.low, dim.high, prior=prior, name=self.name)
        return Categorical(list(range(len(dim.values))), name=self.name)

    def decode(self, x: Any) -> Any:
        dim = self.dim
        if isinstance(dim, FloatRange):
            return float(min(dim.high, max(dim.low, float(x))))
        if isinstance(dim, IntRange):
            return int(min(dim.high, max(dim.low, round(float(x)))))
        return dim.values[int(x)]

    def encode(self, value: Any) -> Any:
        """The skopt coordinate of a stored value; None when it is not in this dimension."""
        dim = self.dim
        if isinstance(dim, FloatRange | IntRange):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                return None
            if not math.isfinite(float(value)):
                return None
            if isinstance(dim, FloatRange):
                return float(min(dim.high, max(dim.low, float(value))))
            return int(min(dim.high, max(dim.low, round(float(value)))))
        return _index_of(dim.values, value)


def _index_of(values: Sequence[Any], value: Any) -> int | None:
    """Position of ``value`` among ``values``, telling True from 1 and 1 from 1.0."""
    text = repr(value)
    for index, candidate in enumerate(values):
        if repr(candidate) == text:
            return index
    for index, candidate in enumerate(values):  # e.g. a tuple that came back as a list
        if type(candidate) is type(value) and candidate == value:
            return index
        if isinstance(candidate, tuple | list) and isinstance(value, tuple | list) \
                and list(candidate) == list(value):
            return index
    return None


def _is_constant(dim: Any) -> bool:
    if isinstance(dim, Values):
        return len(dim.values) == 1
    return dim.low == dim.high


def _constant_value(dim: Any) -> Any:
    if isinstance(dim, Values):
        return dim.values[0]
    return int(dim.low) if isinstance(dim, IntRange) else float(dim.low)


# ----- per sub-space state -------------------------------------------------------------------


@dataclass
class _Ready:
    point: list[Any]
    params: dict[str, Any]
    key: Key
    version: int  # the sub-space's data version it was computed from


@dataclass
class _Sub:
    """One sub-space's optimiser state; only touched under the engine's lock."""

    index: int
    names: list[str]  # every hyperparameter of the sub-space, in spec order
    codecs: list[_Codec]  # the searched ones
    constants: dict[str, Any]
    size: float
    quota: int
    n_init: int
    rng: np.random.Generator
    seed: int
    design: list[list[Any]] = field(default_factory=list)
    asked: int = 0  # candidates handed out, finished ones restored included
    X: list[list[Any]] = field(default_factory=list)  # told points
    y: list[float | None] = field(default_factory=list)  # -score; None for a failure
    pending: dict[int, list[Any]] = field(default_factory=dict)
    ready: list[_Ready] = field(default_factory=list)
    version: int = 0  # bumped by every told result
    exhausted: bool = False
    dry: bool = False  # every candidate is finished, in flight or queued
    kernel: Any = None
    kernel_n: int = 0  # results the kernel was fitted on
    cold_n: int = 0  # results at the last fit with restarts
    gains: Any = None  # gp_hedge state
    hedge_xs: Any = None
    hedge_version: int = -1
    jobs: int = 0
    everything: list[list[Any]] | None = None  # all points of a small finite sub-space

    @property
    def remaining(self) -> int:
        return self.quota - self.asked

    def params(self, point: Sequence[Any]) -> dict[str, Any]:
        decoded = {c.name: c.decode(x) for c, x in zip(self.codecs, point, strict=True)}
        return {name: decoded[name] if name in decoded else self.constants[name]
                for name in self.names}

    def point(self, params: Mapping[str, Any]) -> list[Any] | None:
        if set(params) != set(self.names):
            return None
        for name, value in self.constants.items():
            if _index_of([value], params[name]) is None:
                return None
        point = [c.encode(params[c.name]) for c in self.codecs]
        return None if any(x is None for x in point) else point


@dataclass(frozen=True)
class _Job:
    """A snapshot of one sub-space, computed on outside the lock."""

    sub: int
    generation: int
    version: int
    dims: list[Any]
    X: list[list[Any]]
    y: list[float]
    lies: list[list[Any]]
    surrogate: str
    acquisition: str
    n_points: int
    seed: int
    kernel: Any
    refit: str  # "" | "warm" | "cold"
    gains: Any
    hedge_xs: Any

    @property
    def lie(self) -> float:
        """What a pending point is told: the best value so far (skopt's ``cl_min``)."""
        return min(self.y)


@dataclass(frozen=True)
class _Result:
    points: list[list[Any]]
    kernel: Any
    gains: Any
    hedge_xs: Any
    seconds: float


def _compute(job: _Job) -> _Result:
    """One constant-liar suggestion (several alternatives, best first)."""
    from skopt import Optimizer
    from skopt.utils import cook_estimator

    started = time.perf_counter()
    kernel = job.kernel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if job.surrogate == "GP":
            if job.refit or kernel is None:
                kernel = _fit_kernel(job)
            estimator = _gp_class()(kernel=kernel, optimizer=None, normalize_y=True,
                                    noise="gaussian")
        else:
            estimator = cook_estimator(job.surrogate, space=job.dims, random_state=job.seed,
                                       n_jobs=1)
            if job.surrogate == "GBRT":
                estimator = _gbrt_class()(**estimator.get_params(deep=False))
        opt = Optimizer(job.dims, base_estimator=estimator, n_initial_points=0,
                        acq_func=job.acquisition, acq_optimizer="sampling",
                        acq_optimizer_kwargs={"n_points": job.n_points},
                        random_state=job.seed, model_queue_size=1)
        if job.acquisition == "gp_hedge" and job.gains is not None:
            opt.gains_ = np.array(job.gains, dtype=float)
            if job.hedge_xs is not None:
                opt.next_xs_ = job.hedge_xs  # lets skopt update the hedge's gains
        opt._tell(job.X + job.lies, job.y + [job.lie] * len(job.lies))
        points = [list(opt._next_x)]
        for x in getattr(opt, "next_xs_", []):
            alternative = list(opt.space.inverse_transform(np.reshape(x, (1, -1)))[0])
            if alternative not in points:
                points.append(alternative)
    return _Result(points, kernel, getattr(opt, "gains_", None), getattr(opt, "next_xs_", None),
                   time.perf_counter() - started)


def _fit_kernel(job: _Job) -> Any:
    """GP hyperparameters by maximum likelihood on the real results.

    The optimiser starts from skopt's default kernel and from the previous fit, and keeps
    the likelier: starting only from the previous fit can stay stuck where a dimension
    looked irrelevant on the first few points (a length scale at its bound of 100).
    A "cold" refit adds skopt's two random restarts.
    """
    from skopt.space import Space
    from skopt.utils import cook_estimator, normalize_dimensions

    Xt = Space(normalize_dimensions(job.dims)).transform(job.X)
    best = None
    for kernel in (None, job.kernel):
        gp = cook_estimator("GP", space=job.dims, random_state=job.seed)
        if kernel is not None:
            gp.set_params(kernel=kernel)
        if kernel is not None or job.refit != "cold":
            gp.set_params(n_restarts_optimizer=0)
        gp.fit(Xt, job.y)
        if best is None or gp.log_marginal_likelihood_value_ > best.log_marginal_likelihood_value_:
            best = gp
        if job.kernel is None:
            break
    return _with_noise(best.kernel_, getattr(best, "noise_", None))


# ----- the engine: state, lock and background thread ---------------------------------------


class _Engine:
    """Everything that the background thread and the loop's thread share."""

    def __init__(self, subspaces: Sequence[SubSpace], search: SearchSpec,
                 max_wait: float | None, ready: int) -> None:
        self.subspaces = [dict(sub) for sub in subspaces]
        self.surrogate = search.surrogate
        self.acquisition = search.acquisition
        self.initial_points = max(1, search.initial_points)
        self.generator = search.initial_generator
        n_trials = search.n_trials or 50
        size = space_size(self.subspaces)
        self.total = int(min(n_trials, size)) if math.isfinite(size) else n_trials
        self.seed = search.seed if search.seed is not None else int(
            np.random.SeedSequence().entropy % (2**31))
        self.max_wait = max_wait
        self.backlog: tuple[int, int] | None = None  # (fold tasks in flight, workers)
        self.ready_target = max(1, ready)
        self.cond = threading.Condition()
        self.closed = False
        self.thread: threading.Thread | None = None
        self.generation = 0
        # statistics, for the benchmark and the curious
        self.n_fallbacks = 0
        self.n_waits = 0
        self.compute_seconds: list[float] = []
        self._reset()

    # ----- state ------------------------------------------------------------------------
    def _reset(self) -> None:
        self.generation += 1
        self.next_number = 0
        self.turn = 0
        self.seen: set[Key] = set()
        self.told: set[int] = set()
        self.fold_seconds: list[float] = []
        quotas = _split(self.total, [subspace_size(s) for s in self.subspaces])
        seeds = np.random.SeedSequence(self.seed).spawn(len(self.subspaces))
        self.subs = [self._make_sub(i, sub, quota, seq)
                     for i, (sub, quota, seq) in enumerate(zip(self.subspaces, quotas, seeds,
                                                               strict=True))]

    def _make_sub(self, index: int, sub: SubSpace, quota: int,
                  seq: np.random.SeedSequence) -> _Sub:
        codecs = [_Codec(name, dim) for name, dim in sub.items() if not _is_constant(dim)]
        constants = {name: _constant_value(dim) for name, dim in sub.items() if _is_constant(dim)}
        n_init = min(self.initial_points, max(1, math.ceil(quota / 2)))
        state = _Sub(index, list(sub), codecs, constants, subspace_size(sub), quota, n_init,
                     np.random.default_rng(seq), int(seq.generate_state(1)[0] % (2**31)))
        state.design = self._design(state)
        return state

    def _design(self, sub: _Sub) -> list[list[Any]]:
        """The initial points (random, Sobol, LHS or Halton), fixed by the seed."""
        if not sub.codecs:
            return [[]]
        from skopt import Optimizer

        dims = [c.skopt_dimension() for c in sub.codecs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = Optimizer(dims, n_initial_points=sub.n_init,
                            initial_point_generator=self.generator, random_state=sub.seed)
            samples = opt._initial_samples
            if samples is None:
                samples = opt.space.rvs(n_samples=sub.n_init, random_state=sub.seed)
        return [[_plain(x) for x in point] for point in samples]

    # ----- the loop's side --------------------------------------------------------------------
    def ask(self) -> Candidate | None:
        with self.cond:
            n = len(self.subs)
            for offset in range(n):
                sub = self.subs[(self.turn + offset) % n]
                if sub.exhausted or sub.remaining <= 0:
                    continue
                taken = self._take(sub)
                if taken is None:
                    self._exhaust(sub)
                    continue
                point, params, key = taken
                self.turn = (sub.index + 1) % n
                number = self.next_number
                self.next_number += 1
                sub.asked += 1
                sub.pending[number] = point
                self.seen.add(key)
                self._wake()
                return Candidate(number, params, sub.index)
            return None

    def _take(self, sub: _Sub) -> tuple[list[Any], dict[str, Any], Key] | None:
        if sub.asked < sub.n_init:
            while sub.design:
                point = sub.design.pop(0)
                params = sub.params(point)
                key = candidate_key(params)
                if key not in self.seen:
                    return point, params, key
            return self._random_unseen(sub)
        if len(sub.y) < 2:
            return self._random_unseen(sub)
        entry = self._pop_ready(sub)
        if entry is None and self._eligible(sub):
            self._wake()
            wait = self._wait_budget()
            if wait > 0:
                self.n_waits += 1
                self.cond.wait_for(lambda: bool(sub.ready) or self.closed, timeout=wait)
                entry = self._pop_ready(sub)
        if entry is not None:
            return entry.point, entry.params, entry.key
        self.n_fallbacks += 1
        return self._random_unseen(sub)

    def _pop_ready(self, sub: _Sub) -> _Ready | None:
        if not sub.ready:
            return None
        newest = max(entry.version for entry in sub.ready)
        for position, entry in enumerate(sub.ready):
            if entry.version == newest:
                return sub.ready.pop(position)  # its key stays in `seen`: now in flight
        return None  # pragma: no cover

    def _wait_budget(self) -> float:
        """Seconds ``ask`` may wait for a suggestion without any worker going idle.

        With the loop's backlog known, the folds queued beyond those running keep every
        worker busy for about ``fold × (in_flight / workers - 1/2)``; without it, half a
        fold is assumed safe.
        """
        if self.max_wait is not None:
            return self.max_wait
        if not self.fold_seconds:
            return 0.0
        fold = float(np.median(self.fold_seconds[-50:]))
        if self.backlog is None:
            return min(MAX_WAIT, 0.5 * fold)
        in_flight, workers = self.backlog
        if in_flight < workers:
            return 0.0  # a worker is idle already
        return min(MAX_WAIT, fold * (in_flight / workers - 0.5))

    def tell(self, trial: TrialRecord) -> None:
        with self.cond:
            if trial.number not in self.told:
                self._record(trial, self._sub_for(trial))
                self._wake()

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        with self.cond:
            self._reset()
            for trial in sorted(finished, key=lambda t: t.number):
                self.next_number = max(self.next_number, trial.number + 1)
                if trial.number in self.told:
                    continue
                sub = self._sub_for(trial)
                if sub is not None:
                    sub.asked += 1
                self._record(trial, sub)
            self._wake()

    def _record(self, trial: TrialRecord, sub: _Sub | None) -> None:
        """Add a finished trial to its sub-space's results. Caller holds the lock."""
        self.told.add(trial.number)
        self.seen.add(candidate_key(trial.params))
        seconds = trial.mean_fit_time + trial.mean_score_time
        if math.isfinite(seconds):
            self.fold_seconds.append(seconds)
        if sub is None:
            return  # not a point of this space (the spec changed): only never re-proposed
        point = sub.pending.pop(trial.number, None) or sub.point(trial.params)
        if point is not None:
            sub.X.append(point)
            sub.y.append(_objective(trial))
            sub.version += 1

    def _sub_for(self, trial: TrialRecord) -> _Sub | None:
        if 0 <= trial.subspace < len(self.subs):
            sub = self.subs[trial.subspace]
            if set(sub.names) == set(trial.params):
                return sub
        for sub in self.subs:
            if set(sub.names) == set(trial.params) and sub.point(trial.params) is not None:
                return sub
        return None

    def _exhaust(self, sub: _Sub) -> None:
        """Every candidate of ``sub`` was seen: hand its unused share to the others."""
        sub.exhausted = True
        leftover = sub.remaining
        sub.quota = sub.asked
        others = [s for s in self.subs if not s.exhausted]
        for i in range(max(0, leftover)):
            if not others:
                break
            others[i % len(others)].quota += 1

    def _random_unseen(self, sub: _Sub) -> tuple[list[Any], dict[str, Any], Key] | None:
        """A point drawn as random search would (log ranges log-uniformly), not yet seen."""
        for _ in range(_MAX_REJECTIONS):
            point = [c.encode(c.dim.sample(sub.rng)) for c in sub.codecs]
            params = sub.params(point)
            key = candidate_key(params)
            if key not in self.seen:
                return point, params, key
        if sub.size > _MAX_ENUMERATED:
            return None
        if sub.everything is None:  # a small space, nearly all seen: list what is left
            sub.everything = [list(p) for p in
                              itertools.product(*(_values_of(c.dim) for c in sub.codecs))]
        unseen = [p for p in sub.everything if candidate_key(sub.params(p)) not in self.seen]
        if not unseen:
            return None
        point = unseen[int(sub.rng.integers(len(unseen)))]
        params = sub.params(point)
        return point, params, candidate_key(params)

    # ----- the background thread ------------------------------------------------------------
    def _eligible(self, sub: _Sub) -> bool:
        return (bool(sub.codecs) and not sub.exhausted and not sub.dry and sub.remaining > 0
                and len(sub.y) >= 2 and sub.asked >= sub.n_init - 1)

    def _wake(self) -> None:
        """Start the thread if there is work for it, and nudge it. Caller holds the lock."""
        if self.closed:
            return
        if self.thread is None or not self.thread.is_alive():
            if not any(self._eligible(sub) for sub in self.subs):
                return
            self.thread = threading.Thread(target=_work, args=(self,), daemon=True,
                                           name="hpstudio-bayes")
            self.thread.start()
        self.cond.notify_all()

    def next_job(self) -> _Job | None:
        """The most useful suggestion to compute next, or None. Caller holds the lock."""
        n = len(self.subs)
        for offset in range(n):
            sub = self.subs[(self.turn + offset) % n]
            if not self._eligible(sub):
                continue
            if self._needs_work(sub):
                return self._job(sub)
        return None

    def _needs_work(self, sub: _Sub) -> bool:
        """Its queue is short, or holds suggestions computed before its newest result."""
        if len(sub.ready) < min(self.ready_target, sub.remaining):
            return True
        return any(entry.version < sub.version for entry in sub.ready)

    def any_work_left(self) -> bool:
        return any(self._eligible(sub) for sub in self.subs)

    def all_ready(self) -> bool:
        return not any(self._eligible(sub) and self._needs_work(sub) for sub in self.subs)

    def _job(self, sub: _Sub) -> _Job:
        finite = [v for v in sub.y if v is not None]
        worst = max(finite) if finite else 0.0
        y = [worst if v is None else v for v in sub.y]
        n = len(y)
        refit = ""
        if self.surrogate == "GP" and (sub.kernel is None or n - sub.kernel_n >= max(
                1, REFIT_GROWTH * sub.kernel_n)):
            refit = "cold" if sub.kernel is None or n >= 2 * max(sub.cold_n, 1) else "warm"
        sub.jobs += 1
        hedge = self.acquisition == "gp_hedge" and sub.hedge_version < sub.version
        return _Job(
            sub=sub.index, generation=self.generation, version=sub.version,
            dims=[c.skopt_dimension() for c in sub.codecs], X=[list(x) for x in sub.X], y=y,
            lies=[list(x) for x in sub.pending.values()] + [list(r.point) for r in sub.ready],
            surrogate=self.surrogate, acquisition=self.acquisition,
            n_points=_n_points(self.surrogate, n + len(sub.pending) + len(sub.ready)),
            seed=int((sub.seed + 7919 * sub.jobs) % (2**31)), kernel=sub.kernel, refit=refit,
            gains=None if sub.gains is None else np.array(sub.gains),
            hedge_xs=sub.hedge_xs if hedge else None,
        )

    def install(self, job: _Job, result: _Result) -> None:
        """Queue a computed suggestion. Caller holds the lock."""
        self.compute_seconds.append(result.seconds)
        if job.generation != self.generation:
            return  # restored meanwhile: the job's data is gone
        sub = self.subs[job.sub]
        if job.refit and len(job.y) >= sub.kernel_n:
            sub.kernel = result.kernel
            sub.kernel_n = len(job.y)
            if job.refit == "cold":
                sub.cold_n = len(job.y)
        elif sub.kernel is None:
            sub.kernel = result.kernel
        if result.gains is not None:
            sub.gains = result.gains
        if job.hedge_xs is not None or sub.hedge_xs is None:
            sub.hedge_xs = result.hedge_xs
            sub.hedge_version = job.version
        if sub.exhausted or sub.remaining <= 0:
            return
        chosen = None
        for point in result.points:
            point = [_plain(x) for x in point]
            params = sub.params(point)
            key = candidate_key(params)
            if key not in self.seen:
                chosen = (point, params, key)
                break
        if chosen is None:
            self.install_random(job)
        else:
            self._queue(sub, job, *chosen)

    def install_random(self, job: _Job) -> None:
        """Queue a random unseen point instead of the model's. Caller holds the lock."""
        if job.generation != self.generation:
            return
        sub = self.subs[job.sub]
        if sub.exhausted or sub.remaining <= 0:
            return
        chosen = self._random_unseen(sub)
        if chosen is None:
            # nothing unseen is left but what is queued: no point in computing more
            sub.dry = True
            self.cond.notify_all()
            return
        self.n_fallbacks += 1
        self._queue(sub, job, *chosen)

    def _queue(self, sub: _Sub, job: _Job, point: list[Any], params: dict[str, Any],
               key: Key) -> None:
        sub.ready.append(_Ready(point, params, key, job.version))
        self.seen.add(key)
        target = min(self.ready_target, sub.remaining)
        while len(sub.ready) > target:
            oldest = min(range(len(sub.ready)), key=lambda i: sub.ready[i].version)
            self.seen.discard(sub.ready.pop(oldest).key)
        self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


def _work(engine: _Engine) -> None:
    """The background thread: compute suggestions while there is something to improve."""
    while True:
        with engine.cond:
            job = None
            while not engine.closed:
                job = engine.next_job()
                if job is not None or not engine.any_work_left():
                    break
                engine.cond.wait(_IDLE_POLL)
            if job is None:
                return
        try:
            with _single_blas_thread():
                result = _compute(job)
        except Exception:  # a numerical failure must not kill the search: random points go on
            with engine.cond:
                engine.install_random(job)
            continue
        with engine.cond:
            engine.install(job, result)


# ----- helpers ---------------------------------------------------------------------------


_CONTROLLER: Any = None


def _single_blas_thread() -> Any:
    """Run BLAS single-threaded meanwhile: for a few hundred points its threads only contend
    with the worker processes (several times slower on a busy laptop)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _objective(trial: TrialRecord) -> float | None:
    """What skopt minimises: minus the score; None (told as the worst seen) for a failure."""
    if not trial.ok:
        return None
    score = trial.mean_test_score
    return -float(score) if math.isfinite(score) else None


def _n_points(surrogate: str, n: int) -> int:
    if surrogate != "GP":
        return N_POINTS_TREES
    low, high = N_POINTS
    return int(min(high, max(low, KERNEL_CELLS // max(n, 1))))


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _values_of(dim: Any) -> list[Any]:
    if isinstance(dim, Values):
        return list(range(len(dim.values)))
    return list(range(dim.low, dim.high + 1))


def _split(total: int, sizes: Sequence[float]) -> list[int]:
    """Share ``total`` trials equally between sub-spaces, none beyond its size."""
    quotas = [0] * len(sizes)
    left = total
    open_ = list(range(len(sizes)))
    while left > 0 and open_:
        share, extra = divmod(left, len(open_))
        capped = [i for i in open_ if sizes[i] - quotas[i] <= share]
        if capped:
            for i in capped:
                left -= int(sizes[i] - quotas[i])
                quotas[i] = int(sizes[i])
            open_ = [i for i in open_ if i not in capped]
            continue
        for rank, i in enumerate(open_):
            quotas[i] += share + (1 if rank < extra else 0)
        left = 0
    return quotas


# ----- the strategy -----------------------------------------------------------------------------


class BayesStrategy(Strategy):
    """Bayesian search of ``n_trials`` candidates over one or several sub-spaces.

    ``max_wait`` fixes how long ``ask`` may wait when no suggestion is queued (None: as long
    as the backlog reported by ``note_backlog`` keeps every worker busy, at most
    ``MAX_WAIT``); ``ready`` is how many suggestions each sub-space keeps queued.
    """

    def __init__(self, subspaces: Sequence[SubSpace], search: SearchSpec, *,
                 max_wait: float | None = None, ready: int = READY_PER_SUBSPACE) -> None:
        if search.surrogate not in ("GP", "RF", "ET", "GBRT"):
            raise ValueError(f"unknown surrogate {search.surrogate!r}")
        _gp_class()  # import skopt's learning modules here, not in the thread's first job
        self._engine = _Engine(subspaces, search, max_wait, ready)
        # the thread holds the engine, not the strategy: dropping the strategy stops it
        self._finalizer = weakref.finalize(self, self._engine.close)

    @property
    def total(self) -> int:
        return self._engine.total

    def ask(self) -> Candidate | None:
        return self._engine.ask()

    def note_backlog(self, in_flight: int, n_workers: int) -> None:
        self._engine.backlog = (in_flight, max(1, n_workers))

    def tell(self, trial: TrialRecord) -> None:
        self._engine.tell(trial)

    def restore(self, finished: Sequence[TrialRecord]) -> None:
        self._engine.restore(finished)

    def close(self) -> None:
        """Stop the background thread (it also stops once the budget is handed out)."""
        self._finalizer()

    def wait_until_ready(self, timeout: float = 10.0) -> bool:
        """Block until every active sub-space has its suggestions queued (for benchmarks)."""
        engine = self._engine
        deadline = time.monotonic() + timeout
        with engine.cond:
            engine._wake()
            while not engine.all_ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                engine.cond.wait(min(left, 0.05))
        return True

    @property
    def stats(self) -> dict[str, float]:
        """How the background search kept up: suggestions computed, their time, fallbacks."""
        engine = self._engine
        with engine.cond:
            seconds = list(engine.compute_seconds)
            return {
                "computed": len(seconds),
                "median_compute_s": float(np.median(seconds)) if seconds else math.nan,
                "fallbacks": engine.n_fallbacks,
                "waits": engine.n_waits,
            }
