"""What `hpstudio show` says about a study beyond its trials: how the best was chosen, the
nested CV estimate, and whether the best is really better than the next trials.

Sections of text and table rows, so any face can print them; nothing here prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hpstudio.core.errors import HpstudioError

if TYPE_CHECKING:
    from hpstudio.core.records import TrialRecord
    from hpstudio.core.storage import HistoryRepository, StudyRow

__all__ = ["ReportSection", "evaluation_report"]


@dataclass(frozen=True)
class ReportSection:
    """A title line, then a table (header first) that may be empty."""

    title: str
    rows: list[tuple[str, ...]] = field(default_factory=list)


def evaluation_report(store: HistoryRepository, study: StudyRow,
                      trials: Sequence[TrialRecord], *, compare: int = 5, rope: float = 0.01,
                      allowed_packages: Sequence[str] = ()) -> list[ReportSection]:
    """The refit rule's choice, the nested CV result and the comparison of the top trials
    (``compare`` of them; 0 leaves it out), as far as the study has them."""
    from hpstudio.core.nested import load_result
    from hpstudio.core.scoring import choose_best_trial, rule_text

    sections = []
    scoring = study.study_spec().scoring if study.runnable else None
    if scoring is not None and scoring.refit_rule != "best":
        chosen = choose_best_trial(trials, scoring)
        text = (f"trial {chosen.number} {chosen.params} "
                f"({study.metric} {chosen.mean_test_score:.6g})" if chosen is not None
                else "no complete trial yet")
        sections.append(ReportSection(f"best by the refit rule ({rule_text(scoring)}): {text}"))
    nested = load_result(store, study.id)
    if nested is not None:
        rows = [("outer fold", "chosen params", "inner", f"outer {nested.label}", "train", "test")]
        for fold in nested.folds:
            rows.append((str(fold.index), str(fold.params) if fold.trial is not None
                         else f"- ({fold.error})", _num(fold.inner_score),
                         _num(fold.test_scores.get(nested.refit, math.nan)), str(fold.n_train),
                         str(fold.n_test)))
        sections.append(ReportSection(
            f"nested CV, {nested.outer} around the search: {nested.describe()} "
            f"(the unbiased estimate; {nested.distinct_choices()} distinct choice(s))", rows))
    if compare >= 2 and sum(t.ok for t in trials) >= 2:
        from hpstudio.core.top_comparison import compare_study

        try:
            result = compare_study(store, study.id, top=compare, rope=rope,
                                   allowed_packages=allowed_packages)
        except HpstudioError as exc:
            sections.append(ReportSection(f"is the best really better? cannot tell: {exc}"))
        else:
            sections.append(ReportSection(
                f"is the best really better? trial {result.best} against the next ones on "
                f"{result.n_splits} splits (Nadeau-Bengio corrected t-test, one-sided p; "
                f"Bayesian probabilities with ±{rope:g} practically equivalent): "
                f"{result.summary()}", result.lines()))
    return sections


def _num(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.6g}"
