"""Search strategies behind one ask/tell interface, chosen by the spec's `search.strategy`."""

from __future__ import annotations

from hpstudio.core.spec import StudySpec
from hpstudio.core.strategies.base import Strategy


def make_strategy(spec: StudySpec) -> Strategy:
    strategy = _make(spec)
    if spec.search.prune == "folds":
        from hpstudio.core.strategies.pruning import FoldPruner

        return FoldPruner(strategy)
    return strategy


def _make(spec: StudySpec) -> Strategy:
    strategy = spec.search.strategy
    if strategy == "grid":
        from hpstudio.core.step_cache import reuse_order
        from hpstudio.core.strategies.grid import GridStrategy

        return GridStrategy(spec.space, limit=spec.search.n_trials, order=reuse_order(spec))
    if strategy == "random":
        from hpstudio.core.strategies.random import RandomStrategy

        return RandomStrategy(spec.space, n_trials=spec.search.n_trials or 50,
                              seed=spec.search.seed)
    if strategy == "bayes":
        from hpstudio.core.strategies.bayes import BayesStrategy

        return BayesStrategy(spec.space, spec.search)
    if strategy in ("halving-grid", "halving-random"):
        from hpstudio.core.strategies.halving import make_halving

        return make_halving(spec.search, spec.space)
    raise ValueError(f"unknown strategy {strategy!r}")


__all__ = ["Strategy", "make_strategy"]
