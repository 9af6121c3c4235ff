"""Undo and redo for the study editor: each edit is a pair of editor states.

An edit anywhere in the editor (data, estimator, a cell of the space, a sub-space tab,
strategy, folds, metric) changes the spec the editor would return. Rather than one
command class per kind of edit, the editor records the whole editable state before and
after each edit, and undo puts the earlier state back: every edit is undoable by
construction, including ones added to the panels later. States are small (a few dozen
rows of cell text), and consecutive keystrokes in one field merge into one step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from PySide6.QtGui import QUndoCommand

from hpstudio.core.spec import CVSpec, DataSpec, ScoringSpec, SearchSpec
from hpstudio.gui.widgets.pipeline_editor import PipelineState
from hpstudio.gui.widgets.space_editor import SpaceState

__all__ = ["EditorState", "SnapshotCommand", "describe_change"]

_MERGE_ID = 1
#: Fields typed or stepped one character or one click at a time: a run of changes to the
#: same one is a single undo step.
_MERGEABLE = frozenset({"name", "fixed", "search.n_trials", "search.seed", "search.time_limit",
                        "search.patience", "search.initial_points", "cv.folds", "cv.seed"})
_FIELD_WORDS = {
    "search.strategy": "the strategy", "search.n_trials": "the trial budget",
    "search.seed": "the search seed", "search.time_limit": "the time limit",
    "search.patience": "the patience", "search.surrogate": "the surrogate",
    "search.acquisition": "the acquisition function",
    "search.initial_points": "the initial points",
    "search.initial_generator": "the initial design", "cv.folds": "the folds",
    "cv.shuffle": "shuffling", "cv.seed": "the split seed", "scoring.metric": "the metric",
    "scoring.train_score": "training scores", "cv.splitter": "the splitter",
    "cv.params": "the splitter's parameters", "cv.outer": "nested CV",
    "scoring.metrics": "the metrics", "scoring.refit": "the refit metric",
    "scoring.refit_rule": "the refit rule", "scoring.complexity": "the complexity parameter",
    "scoring.simpler": "what is simpler",
}


@dataclass(frozen=True)
class EditorState:
    """Everything the user can edit in the study editor (what undo puts back)."""

    name: str
    data: DataSpec
    estimator: str | None
    space: SpaceState
    search: SearchSpec
    cv: CVSpec
    scoring: ScoringSpec
    pipeline: PipelineState | None = None


def _changed_fields(before: EditorState, after: EditorState) -> list[str]:
    changed = []
    if before.name != after.name:
        changed.append("name")
    if before.data != after.data or before.data.base_dir != after.data.base_dir:
        changed.append("data")
    if before.estimator != after.estimator:
        changed.append("estimator")
    if before.pipeline != after.pipeline:
        changed.append("pipeline")
    if before.space.fixed != after.space.fixed:
        changed.append("fixed")
    if before.space.key() != after.space.key():
        changed.append("space")
    for section in ("search", "cv", "scoring"):
        old, new = getattr(before, section), getattr(after, section)
        changed += [f"{section}.{f.name}" for f in fields(old)
                    if getattr(old, f.name) != getattr(new, f.name)]
    return changed


def describe_change(before: EditorState, after: EditorState) -> tuple[str, str | None]:
    """What an edit did, in words for the Edit menu ("Undo edit max_depth"), and the field
    it touched when consecutive edits of it should merge (None: never merge)."""
    changed = _changed_fields(before, after)
    if "estimator" in changed:
        return f"use {(after.estimator or '?').rsplit('.', 1)[-1]}", None
    if "pipeline" in changed:  # its rows in the space follow from it
        return _describe_pipeline(before.pipeline or PipelineState(),
                                  after.pipeline or PipelineState())
    if len(changed) != 1:
        return "edit the study", None
    what = changed[0]
    merge = what if what in _MERGEABLE else None
    if what == "name":
        return "rename the study", merge
    if what == "data":
        return "change the data", merge
    if what == "fixed":
        return "edit the fixed parameters", merge
    if what == "space":
        return _describe_space(before.space, after.space), merge
    return f"change {_FIELD_WORDS.get(what, what)}", merge


def _describe_space(before: SpaceState, after: SpaceState) -> str:
    old, new = len(before.subspaces), len(after.subspaces)
    if new > old:
        return "add a sub-space"
    if new < old:
        return "remove a sub-space"
    for old_rows, new_rows in zip(before.subspaces, after.subspaces, strict=True):
        old_keys = {r.name: SpaceState.row_key(r) for r in old_rows}
        for row in new_rows:
            if old_keys.get(row.name) != SpaceState.row_key(row):
                return f"edit {row.name}"
    return "edit the search space"


def _describe_pipeline(before: PipelineState, after: PipelineState) -> tuple[str, str | None]:
    """A pipeline edit in words; typing a step's name or fixed parameters merges."""
    old, new = before.steps, after.steps
    if len(new) > len(old):
        added = next((s for s in new if s not in old), new[-1])
        return f"add the step {added.name}", None
    if len(new) < len(old):
        removed = next((s for s in old if s not in new), old[-1])
        return f"remove the step {removed.name}", None
    if sorted(new, key=repr) == sorted(old, key=repr) and new != old:
        moved = next(s for s, t in zip(new, old, strict=True) if s != t)
        return f"move the step {moved.name}", None
    if [s.cls for s in new] == [s.cls for s in old]:
        return "edit the pipeline's steps", "pipeline"
    return "edit the pipeline", None


class SnapshotCommand(QUndoCommand):
    """One edit: undo applies ``before``, redo applies ``after``.

    The edit has already happened when the command is pushed, so the redo that
    ``QUndoStack.push`` calls at once is skipped.
    """

    def __init__(self, apply: Callable[[EditorState], None], before: EditorState,
                 after: EditorState, text: str, merge_key: str | None) -> None:
        super().__init__(text)
        self._apply = apply
        self.before = before
        self.after = after
        self.merge_key = merge_key
        self._pushed = False

    def id(self) -> int:
        return _MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SnapshotCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        if self._pushed:
            self._apply(self.after)
        self._pushed = True

    def undo(self) -> None:
        self._apply(self.before)
