"""Halving, timeouts, early stopping and reuse as the app shows them: the strategy rows,
the count line, the Rungs plot and the trial table's marks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from hpstudio.core.records import Budget, TrialRecord, TrialState
from hpstudio.core.spec import SearchSpec
from hpstudio.gui.models import COL_NUMBER, COL_STATE, TrialTableModel
from hpstudio.gui.plots.panel import PlotsPanel


def test_halving_settings_round_trip_and_show_only_for_halving(qtbot, editor, demo) -> None:
    panel = editor.strategy_panel
    halving = replace(demo, search=SearchSpec(
        "halving-grid", seed=0, factor=2, resource="n_samples", min_resources=40,
        max_resources=400, aggressive_elimination=True, asynchronous=True,
        trial_timeout=30.0, prune="folds", reuse=False))
    editor.set_spec(halving)
    assert editor.spec() == halving
    assert not panel.budget_options.factor_spin.isHidden()
    assert panel.trials_spin.isHidden()  # a halving grid tries every candidate at first
    timed = replace(demo, search=SearchSpec("grid", trial_timeout=12.5, prune="folds"))
    editor.set_spec(timed)
    assert editor.spec() == timed
    assert panel.budget_options.factor_spin.isHidden()  # halving's rows: halving only
    assert not panel.budget_options.timeout_spin.isHidden()  # any strategy


def test_choosing_halving_in_the_app_starts_asynchronous(qtbot, editor, demo) -> None:
    editor.set_spec(demo)
    with qtbot.waitSignal(editor.specChanged):
        editor.strategy_panel.set_strategy("halving-grid")
    search = editor.spec().search
    assert search.strategy == "halving-grid" and search.asynchronous
    assert search.n_trials is None
    editor.strategy_panel.set_strategy("grid")
    assert editor.spec().search == replace(SearchSpec(), seed=search.seed,
                                           n_trials=editor.spec().search.n_trials)


def test_the_count_line_counts_halvings_fits(qtbot, editor, demo) -> None:
    spec = replace(demo, search=SearchSpec("halving-grid", resource="n_samples"))
    editor.set_spec(spec)
    # 18 candidates, factor 3: 18 → 6 → 2, each on 5 folds
    assert editor.space_editor.count_label.text().startswith("18 → 6 → 2 candidates")
    assert editor.space_editor.count_label.text().endswith("= 26 trials × 5 folds = 130 fits")


def rung_trial(number: int, rung: int, score: float, *, reused: int | None = None,
               state: TrialState = TrialState.COMPLETE) -> TrialRecord:
    return TrialRecord(1, number, {"x": number, "n_estimators": 3 ** (rung + 1)}, state,
                       {"score": (score,) * 3}, None, (0.1,) * 3, (0.0,) * 3, 1.0, 2.0,
                       rung=rung, budget=Budget("n_estimators", 3 ** (rung + 1)),
                       reused_from=reused)


TRIALS = [rung_trial(n, 0, 0.5 + n / 100) for n in range(6)] + [
    rung_trial(4, 1, 0.7), rung_trial(5, 1, 0.8), rung_trial(5, 2, 0.85)]


def test_the_rungs_plot_highlights_promoted_candidates(qtbot) -> None:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.set_study(TRIALS)
    rungs = panel.show_plot("rungs")
    assert sorted(rungs.promoted_keys()) == [(4, 0), (5, 0), (5, 1)]
    assert sorted(rungs.stopped_keys()) == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1), (5, 2)]
    xs, ys = rungs.best_line.getData()
    assert list(xs) == pytest.approx(np.log10([3, 9, 27]))  # the winner, rung by rung
    assert list(ys) == pytest.approx([0.55, 0.8, 0.85])
    assert "3 rungs" in rungs.info.text()
    panel.set_study([replace(t, rung=0, budget=None) for t in TRIALS[:3]])
    panel.show_plot("rungs")
    assert "no rungs" in rungs.info.text()
    panel.shutdown()


def test_the_trial_table_marks_rungs_and_reused_trials(qtbot) -> None:
    model = TrialTableModel()
    model.set_trials([*TRIALS[:6], rung_trial(6, 0, 0.4, reused=3), TRIALS[-1]])
    rows = {model.data(model.index(r, COL_NUMBER)): r for r in range(model.rowCount())}
    assert "5·r2" in rows
    reused_row = rows["6"]
    assert model.data(model.index(reused_row, COL_STATE)) == "complete ↺"
    tip = model.data(model.index(reused_row, COL_STATE), Qt.ItemDataRole.ToolTipRole)
    assert "study #3" in tip
    tip = model.data(model.index(rows["5·r2"], COL_NUMBER), Qt.ItemDataRole.ToolTipRole)
    assert tip == "rung 2: n_estimators = 27"
    best = model.best_trial()
    assert best is not None and best.key == (5, 2)  # the highest rung's best
