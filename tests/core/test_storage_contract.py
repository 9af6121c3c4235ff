"""The history repository's contract, run against every backend.

Each test states one promise of ``hpstudio.core.storage.base``; the ``repo`` fixture runs
it on the SQLite history (holding its connection, and transient) and on the in-memory
one. A new backend is added to ``BACKENDS`` and must pass all of them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from hpstudio.core.errors import StudyNotFound
from hpstudio.core.records import (
    Budget,
    FoldResult,
    StudyOrigin,
    StudyStatus,
    TrialRecord,
    TrialState,
)
from hpstudio.core.storage import HistoryRepository, HistoryStore, MemoryHistory, NewStudy
from hpstudio.core.storage.base import StudyBusy

SPEC = {"name": "s", "data": {"builtin": "iris"}, "estimator": {"class": "sklearn.svm.SVC"},
        "space": [{"C": [1, 10]}], "search": {"strategy": "grid"},
        "scoring": {"metric": "accuracy"}}

BACKENDS = ("sqlite", "sqlite-transient", "memory")


@pytest.fixture(params=BACKENDS)
def factory(request, tmp_path) -> Iterator[Callable[[], HistoryRepository]]:
    """Makes the backend; a second call reopens the same history (another connection,
    as another process would)."""
    memory = MemoryHistory()
    opened: list[HistoryRepository] = []

    def make() -> HistoryRepository:
        if request.param == "memory":
            repo: HistoryRepository = memory
        else:
            repo = HistoryStore(tmp_path / "contract.db",
                                transient=request.param == "sqlite-transient")
        opened.append(repo)
        return repo

    yield make
    for repo in opened:
        repo.close()


@pytest.fixture
def repo(factory) -> HistoryRepository:
    return factory()


def trial(study_id: int, number: int, scores=(0.9, 0.8), *, error: str | None = None,
          state: TrialState | None = None, rung: int = 0, budget: Budget | None = None,
          metrics: tuple[str, ...] = ("score",), train: bool = False) -> TrialRecord:
    """A finished trial with folds, as the study loop makes it."""
    tests = {m: tuple(s + i / 7 for s in scores) for i, m in enumerate(metrics)}
    trains = {m: tuple(s + 0.05 for s in v) for m, v in tests.items()} if train else None
    folds = tuple(
        FoldResult(number, k, {m: v[k] for m, v in tests.items()},
                   None if trains is None else {m: v[k] for m, v in trains.items()},
                   0.1 + k, 0.01 * k, 100.0 + k, 101.0 + k, f"w{k % 2}",
                   error if k == 0 else None, rung)
        for k in range(len(scores)))
    return TrialRecord(
        study_id, number, {"C": number / 3, "kernel": "rbf", "gamma": None, "deg": [1, 2]},
        state or (TrialState.FAILED if error else TrialState.COMPLETE), tests, trains,
        tuple(f.fit_time for f in folds), tuple(f.score_time for f in folds), 100.0 + number,
        102.0 + number, 0, None if error is None else f"fold 0: {error}", metrics[0], rung,
        budget, None, folds)


def new_study(repo: HistoryRepository, **changes) -> int:
    fields = {"name": "s", "spec": SPEC, "dataset": "iris", "estimator": "sklearn.svm.SVC",
              "metric": "accuracy", "n_total": 4, "data_fingerprint": "abc"}
    fields.update(changes)
    return repo.add_study(NewStudy(**fields))


def same(a: TrialRecord, b: TrialRecord) -> bool:
    """Equal records, NaN included (NaN != NaN in a plain comparison)."""
    def norm(scores):
        return None if scores is None else {m: tuple("nan" if math.isnan(x) else x for x in v)
                                            for m, v in scores.items()}
    return (a.key, a.params, a.state, norm(a.test_scores), norm(a.train_scores), a.fit_times,
            a.score_times, a.started, a.finished, a.error, a.refit, a.budget, a.value) == (
        b.key, b.params, b.state, norm(b.test_scores), norm(b.train_scores), b.fit_times,
        b.score_times, b.started, b.finished, b.error, b.refit, b.budget, b.value)


# ----- studies ---------------------------------------------------------------------------------


def test_a_new_study_reads_back_as_created(repo):
    study = new_study(repo)
    row = repo.get_study(study)
    assert row.name == "s" and row.spec == SPEC and row.status is StudyStatus.RUNNING
    assert row.origin is StudyOrigin.SPEC and row.runnable
    assert row.metrics == ("score",) and row.refit == "score"
    assert row.n_total == 4 and row.data_fingerprint == "abc"
    assert row.versions["scikit-learn"]
    summary = repo.list_studies()[-1]
    assert (summary.id, summary.name, summary.estimator, summary.dataset) == (
        study, "s", "sklearn.svm.SVC", "iris")
    assert summary.has_spec and summary.n_complete == 0 and summary.best_score is None


def test_ids_only_grow_and_names_resolve_to_the_newest(repo):
    first, second = new_study(repo), new_study(repo)
    assert second > first
    assert repo.resolve(str(first)) == first and repo.resolve(first) == first
    assert repo.resolve("s") == second
    repo.delete_study(second)
    assert repo.resolve("s") == first
    with pytest.raises(StudyNotFound, match="no study 'nope'"):
        repo.resolve("nope")
    with pytest.raises(StudyNotFound):
        repo.get_study(second)


def test_status_rename_note_and_splits_are_kept(repo):
    study = new_study(repo)
    repo.set_status(study, StudyStatus.STOPPED, "time limit of 5 s reached", elapsed=5.5)
    repo.rename_study(study, "renamed")
    repo.set_note(study, "a note")
    repo.set_n_splits(study, 7)
    row = repo.get_study(study)
    assert (row.status, row.stop_reason, row.elapsed, row.name, row.note, row.n_splits) == (
        StudyStatus.STOPPED, "time limit of 5 s reached", 5.5, "renamed", "a note", 7)
    assert row.finished is not None
    repo.claim_study(study, "run-2")
    row = repo.get_study(study)
    assert row.status is StudyStatus.RUNNING
    assert row.stop_reason is None and row.finished is None and row.n_total == 4


def test_a_study_without_a_spec_is_kept_read_only(repo):
    study = new_study(repo, spec=None, origin=StudyOrigin.RECORDED, status=StudyStatus.FINISHED,
                      metrics=("roc_auc", "accuracy"), refit="roc_auc",
                      metric="roc_auc", description={"estimator": "sklearn.svm.SVC"})
    row = repo.get_study(study)
    assert row.spec is None and not row.runnable and row.origin is StudyOrigin.RECORDED
    assert row.metrics == ("roc_auc", "accuracy") and row.refit == "roc_auc"
    assert row.estimator == "sklearn.svm.SVC" and row.metric == "roc_auc"
    summary = next(s for s in repo.list_studies() if s.id == study)
    assert not summary.has_spec and summary.origin is StudyOrigin.RECORDED


# ----- trials ----------------------------------------------------------------------------------


def test_trials_round_trip_exactly(repo):
    study = new_study(repo)
    saved = [trial(study, 0, (0.1 + 0.2, 1 / 3), train=True),
             trial(study, 1, (math.nan, 0.5), error="ValueError: bad"),
             trial(study, 2, (0.7,), state=TrialState.PRUNED)]
    for t in saved:
        repo.save_trial(t)
    loaded = repo.load_trials(study, with_folds=True)
    assert [t.number for t in loaded] == [0, 1, 2]
    for a, b in zip(saved, loaded, strict=True):
        assert same(a, b)
        assert len(a.folds) == len(b.folds)
        for fa, fb in zip(a.folds, b.folds, strict=True):
            assert (fa.fold, fa.fit_time, fa.score_time, fa.started, fa.finished, fa.worker,
                    fa.error, fa.rung) == (fb.fold, fb.fit_time, fb.score_time, fb.started,
                                           fb.finished, fb.worker, fb.error, fb.rung)
    assert loaded[0].split_test_scores == (0.1 + 0.2, 1 / 3)  # to the last bit
    assert loaded[1].error == "fold 0: ValueError: bad" and loaded[1].folds[0].error
    assert loaded[2].state is TrialState.PRUNED
    assert repo.count_states(study) == {TrialState.COMPLETE: 1, TrialState.FAILED: 1,
                                        TrialState.PRUNED: 1}
    assert repo.count_trials(study) == (1, 2)
    without = repo.load_trials(study)
    assert all(t.folds == () for t in without) and same(without[0], saved[0])


def test_a_saved_trial_never_changes(factory):
    repo = factory()
    study = new_study(repo)
    first = trial(study, 0, (0.9, 0.8))
    repo.save_trial(first)
    repo.save_trial(trial(study, 0, (0.1, 0.1)))  # a repeat of its key is ignored
    again = factory()  # another connection, as another process
    assert same(again.load_trials(study)[0], first)
    assert len(again.load_trials(study)) == 1


def test_numbers_are_unique_per_study_and_rung(repo):
    study, other = new_study(repo), new_study(repo)
    for rung, amount in ((1, 90.0), (0, 30.0)):
        repo.save_trial(trial(study, 5, (0.5 + rung,), rung=rung,
                              budget=Budget("n_samples", amount)))
    repo.save_trial(trial(study, 3, (0.2,)))
    repo.save_trial(trial(other, 5, (0.9,)))
    loaded = repo.load_trials(study)
    assert [t.key for t in loaded] == [(3, 0), (5, 0), (5, 1)]  # (number, rung) order
    assert loaded[2].budget == Budget("n_samples", 90.0) and loaded[2].rung == 1
    assert [t.key for t in repo.load_trials(other)] == [(5, 0)]


def test_a_reused_trial_names_the_study_that_fitted_it(repo):
    study = new_study(repo)
    fitted = trial(study, 0, (0.6, 0.7))
    reused = TrialRecord(**{**{f: getattr(fitted, f) for f in fitted.__dataclass_fields__},
                            "number": 1, "folds": (), "reused_from": 42})
    repo.save_trials([fitted, reused])
    loaded = repo.load_trials(study)
    assert [t.reused_from for t in loaded] == [None, 42]
    assert same(loaded[1], reused)
    assert repo.open_trials(study).col("reused_from").tolist() == [-1, 42]
    # the best of a halving study is at its highest rung, as scikit-learn picks it
    repo.save_trial(trial(study, 2, (0.1, 0.2), rung=1, budget=Budget("n_samples", 9.0)))
    assert repo.open_trials(study).best_index() == 2


def test_several_metrics_and_the_refit_metric(repo):
    metrics = ("roc_auc", "accuracy")
    study = new_study(repo, metrics=metrics, refit="roc_auc")
    saved = trial(study, 0, (0.6, 0.7, 0.8), metrics=metrics, train=True)
    repo.save_trial(saved)
    loaded = repo.load_trials(study)[0]
    assert same(loaded, saved) and loaded.metrics == metrics
    assert loaded.mean_test_score == loaded.mean_test("roc_auc")
    table = repo.open_trials(study)
    assert table.metrics == metrics and table.refit == "roc_auc"
    assert table.test[0] == pytest.approx(saved.mean_test("roc_auc"))
    assert table.metric_col("accuracy")[0] == pytest.approx(saved.mean_test("accuracy"))
    assert table.metric_col("accuracy", "train")[0] == pytest.approx(
        saved.mean_train("accuracy"))


def test_an_imported_trial_keeps_its_value_without_splits(repo):
    study = new_study(repo, spec=None, origin=StudyOrigin.IMPORTED)
    imported = TrialRecord(study, 0, {"x": 1.5}, TrialState.COMPLETE, {"score": ()}, None, (),
                           (), 10.0, 11.0, value=0.75)
    repo.save_trial(imported)
    loaded = repo.load_trials(study)[0]
    assert loaded.value == 0.75 and loaded.mean_test_score == 0.75
    assert repo.open_trials(study).test.tolist() == [0.75]
    assert repo.list_studies()[-1].best_score == 0.75


def test_the_table_shows_what_the_records_hold(repo):
    study = new_study(repo)
    saved = [trial(study, n, (0.1 * n, 0.2 + n / 10), train=True) for n in range(5)]
    saved.append(trial(study, 5, (math.nan, 0.5), error="ValueError: bad"))
    repo.save_trials(saved)
    table = repo.open_trials(study, log_params={"C"})
    records = repo.load_trials(study)
    assert len(table) == 6 and table.n_splits == 2
    assert table.number.tolist() == [0, 1, 2, 3, 4, 5]
    assert [table.state_name(i) for i in range(6)] == ["complete"] * 5 + ["failed"]
    expected = [t.mean_test_score if t.ok else math.nan for t in records]
    np.testing.assert_allclose(table.test, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table.col("train")[:5], [t.mean_train_score for t in records[:5]])
    assert table.params_of(2) == records[2].params and table.error_of(5) == records[5].error
    assert table.params["C"].is_log and table.params["kernel"].categorical
    assert all(same(table.record(i), records[i]) for i in range(6))
    assert table.best_index() == 4
    assert table.index_of(3) == 3 and table.index_of(9) is None
    assert table.fold_col("fold_trial").tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert table.fold_col("fold_ok").tolist() == [True] * 10 + [False, True]
    assert sorted(table.workers) == ["w0", "w1"]


def test_reads_see_writes_from_another_connection(factory):
    writer, reader = factory(), factory()
    study = new_study(writer)
    assert reader.get_study(study).name == "s"
    writer.save_trial(trial(study, 0))
    assert [t.number for t in reader.load_trials(study)] == [0]
    assert len(reader.open_trials(study)) == 1
    writer.rename_study(study, "again")
    assert reader.list_studies()[-1].name == "again"


def test_a_reader_follows_a_study_by_reading_only_what_was_saved_since(factory):
    writer, reader = factory(), factory()
    study, other = new_study(writer), new_study(writer)
    for number in (3, 1):
        writer.save_trial(trial(study, number))
    writer.save_trial(trial(other, 0))
    trials, mark = reader.trials_after(study, 0)
    assert [t.number for t in trials] == [3, 1]  # saving order, not number order
    assert all(len(t.folds) == 2 for t in trials)
    assert [(n, r) for _, n, r in reader.trial_marks(study)] == [(3, 0), (1, 0)]
    assert reader.trial_marks(study)[-1][0] == mark
    assert reader.trials_after(study, mark) == ([], mark)
    writer.save_trial(trial(other, 1))
    writer.save_trial(trial(study, 0))
    writer.save_trial(trial(study, 0))  # a repeat is not new
    new, newer = reader.trials_after(study, mark)
    assert [t.number for t in new] == [0] and newer > mark and same(new[0], trial(study, 0))
    assert reader.trials_after(study, newer) == ([], newer)


def test_deleting_a_study_removes_its_trials(repo):
    study, kept = new_study(repo), new_study(repo)
    repo.save_trial(trial(study, 0))
    repo.save_trial(trial(kept, 0))
    repo.delete_study(study)
    assert repo.load_trials(study) == [] and len(repo.load_trials(kept)) == 1
    assert [s.id for s in repo.list_studies()] == [kept]


def test_a_nested_cv_result_is_kept_replaced_and_deleted_with_its_study(factory):
    repo = factory()
    study, other = new_study(repo), new_study(repo)
    assert repo.load_nested(study) is None
    result = {"outer": "KFold(n_splits=3)", "folds": [
        {"index": 0, "params": {"C": 1}, "trial": 2, "inner_score": 0.9512345678901234,
         "test_scores": {"score": 0.93}, "n_train": 100, "n_test": 50, "n_trials": 4,
         "error": None}]}
    repo.save_nested(study, result)
    assert factory().load_nested(study) == result  # another connection reads it
    assert repo.load_nested(other) is None
    replaced = {**result, "outer": "KFold(n_splits=4)"}
    repo.save_nested(study, replaced)
    assert repo.load_nested(study) == replaced
    repo.delete_study(study)
    assert repo.load_nested(study) is None


# ----- who runs a study ------------------------------------------------------------------


def test_one_owner_runs_a_study_at_a_time(factory):
    first, second = factory(), factory()
    study = new_study(first, owner="run-1")
    with pytest.raises(StudyBusy, match="is running in another"):
        second.claim_study(study, "run-2")
    assert first.heartbeat(study, "run-1") and not second.heartbeat(study, "run-2")
    first.claim_study(study, "run-1")  # the owner may claim again (a retry)
    assert first.set_status(study, StudyStatus.STOPPED, "stopped by user", owner="run-1")
    second.claim_study(study, "run-2")  # stopped: anyone may take it over
    assert not first.heartbeat(study, "run-1")  # the first run learns it lost the study
    assert not first.set_status(study, StudyStatus.FINISHED, owner="run-1")  # no effect
    row = second.get_study(study)
    assert row.status is StudyStatus.RUNNING and row.stop_reason is None
    assert second.set_status(study, StudyStatus.FINISHED, owner="run-2")
    assert second.get_study(study).status is StudyStatus.FINISHED


def test_claims_from_many_threads_at_once_have_one_winner(factory):
    study = new_study(factory(), status=StudyStatus.STOPPED)
    repos = [factory() for _ in range(6)]
    winners: list[str] = []
    barrier = threading.Barrier(len(repos))

    def claim(repo: HistoryRepository, owner: str) -> None:
        handle = repo.for_thread()
        barrier.wait()
        try:
            handle.claim_study(study, owner)
            winners.append(owner)
        except StudyBusy:
            pass

    threads = [threading.Thread(target=claim, args=(r, f"run-{i}")) for i, r in enumerate(repos)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert repos[0].heartbeat(study, winners[0])
