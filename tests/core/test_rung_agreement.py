"""A halving run says whether its small budgets ranked candidates as its bigger ones did."""

from __future__ import annotations

import pytest

from hpstudio.core.records import TrialRecord, TrialState
from hpstudio.core.space import Values
from hpstudio.core.spec import SearchSpec
from hpstudio.core.strategies.base import Caution, StudyFacts
from hpstudio.core.strategies.halving import AsyncHalvingStrategy, HalvingStrategy
from hpstudio.core.strategies.rung_agreement import rung_agreement

SPACE = [{"x": Values(tuple(range(27)))}]  # 27 -> 9 -> 3 candidates


def told(candidate, score: float) -> TrialRecord:
    return TrialRecord(1, candidate.number, dict(candidate.params), TrialState.COMPLETE,
                       {"score": (score,) * 3}, None, (0.0,) * 3, (0.0,) * 3, 0.0, 1.0,
                       rung=candidate.rung, budget=candidate.budget)


def run_to_the_end(strategy, objective) -> list[str]:
    strategy.bind(StudyFacts(n_samples=10_000, n_splits=3))
    while (candidate := strategy.ask()) is not None:
        strategy.tell(told(candidate, objective(candidate)))
    assert not strategy.waiting
    return strategy.closing_notes()


def consistent(candidate) -> float:
    """The budget raises every score alike: the small rung ranks as the big one."""
    return candidate.params["x"] + candidate.rung


def noisy_first_rung(candidate) -> float:
    """Rung 0 ranks the candidates it promotes in the reverse of their true order."""
    x = candidate.params["x"]
    return float(x) if candidate.rung == 0 else float(-x)


@pytest.mark.parametrize("mode", [HalvingStrategy, AsyncHalvingStrategy])
def test_a_first_rung_that_ranked_on_noise_is_reported(mode):
    search = SearchSpec(strategy="halving-grid", resource="n_samples", seed=0,
                        asynchronous=mode is AsyncHalvingStrategy)
    notes = run_to_the_end(mode(search, SPACE), noisy_first_rung)
    warned = [line for line in notes if "no more alike" in line]
    assert len(warned) == 1 and isinstance(warned[0], Caution)  # the log shows a warning
    assert "Spearman rho -1.00" in warned[0] and "min_resources = " in warned[0]


def test_rungs_that_agree_say_so_and_warn_of_nothing():
    search = SearchSpec(strategy="halving-grid", resource="n_samples", seed=0)
    notes = run_to_the_end(HalvingStrategy(search, SPACE), consistent)
    agreeing = [line for line in notes if "ranked alike" in line]
    assert len(agreeing) == 1 and "Spearman rho 1.00" in agreeing[0]
    assert not isinstance(agreeing[0], Caution)
    assert not any("no more alike" in line for line in notes)
    # 9 candidates at rung 1 but only 3 at rung 2: too few to judge the second pair
    assert len(notes) == 1


def test_the_agreement_needs_enough_finite_scores():
    four = {n: float(n) for n in range(4)}
    assert rung_agreement(four, four) is None
    five = {n: float(n) for n in range(5)}
    count, rho, p = rung_agreement(five, five)
    assert count == 5 and rho == pytest.approx(1.0) and p < 0.05
    assert rung_agreement(five, {**five, 4: float("nan")}) is None  # 4 left
    assert rung_agreement(five, dict.fromkeys(five, 0.5)) is None  # all tied
    # only candidates with a result at both rungs count
    count, rho, _ = rung_agreement({**five, 9: 0.0}, {**{n: -v for n, v in five.items()}})
    assert count == 5 and rho == pytest.approx(-1.0)


def test_a_caution_reaches_the_study_log_as_a_warning(monkeypatch):
    from hpstudio.core.executor import SerialExecutor
    from hpstudio.core.spec import StudySpec
    from hpstudio.core.storage import MemoryHistory
    from hpstudio.core.study import StudyLog, StudyRunner

    monkeypatch.setattr(HalvingStrategy, "closing_notes",
                        lambda self: [Caution("act on this"), "read this"])
    logged: list[StudyLog] = []
    spec = StudySpec.from_dict({
        "name": "cautions", "data": {"builtin": "iris"},
        "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
        "space": [{"max_depth": [1, 2, 3]}], "cv": {"folds": 3},
        "search": {"strategy": "halving-grid", "resource": "n_samples"}})
    StudyRunner(MemoryHistory(), executor=SerialExecutor(),
                listener=lambda e: logged.append(e) if isinstance(e, StudyLog) else None
                ).run(spec)
    levels = {e.message: e.level for e in logged}
    assert levels["act on this"] == "warning" and levels["read this"] == "info"


def test_no_min_resources_is_advised_for_the_last_rung():
    from hpstudio.core.strategies.rung_agreement import agreement_notes

    order = {n: float(n) for n in range(6)}
    reversed_order = {n: -v for n, v in order.items()}
    first = agreement_notes([6, 18, 54], "n_estimators", [order, reversed_order, {}])[0]
    last = agreement_notes([18, 54], "n_estimators", [order, reversed_order])[0]
    assert "try min_resources = 18" in first
    assert "no more alike" in last and "min_resources" not in last  # that would be a grid
