"""The `hpstudio` command as a user runs it: results, exports, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hpstudio.cli import main
from hpstudio.core.storage import HistoryStore

IRIS_TREE = """
name = "{name}"
[data]
{data}
[estimator]
class = "{cls}"
fixed = {{ random_state = 0 }}
[[space]]
{space}
[cv]
folds = 3
[search]
strategy = "grid"
"""


def spec_text(name="tree", data='builtin = "iris"', cls="sklearn.tree.DecisionTreeClassifier",
              space="max_depth = [1, 2, 3]") -> str:
    return IRIS_TREE.format(name=name, data=data, cls=cls, space=space)


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_then_studies_show_trials_and_export(tmp_path, capsys, db_path):
    code, out, err = run_cli("demo", "--jobs", "2", "-q", capsys=capsys)
    assert code == 0, err
    assert "study #1 'forest-diabetes': finished" in out
    assert "best neg_mean_squared_error: -3277.53" in out
    assert "{'max_features': 4, 'n_estimators': 30}" in out

    code, out, _ = run_cli("studies", capsys=capsys)
    assert code == 0
    assert "forest-diabetes" in out and "18/18" in out and "-3277.53" in out

    code, out, _ = run_cli("show", "forest-diabetes", "--top", "3", capsys=capsys)
    lines = out.splitlines()
    assert lines[4].split()[:3] == ["1", "5", "-3277.53"]  # best first
    assert lines[7] == "" and lines[8].startswith("is the best really better? trial 5")

    csv = tmp_path / "trials.csv"
    assert run_cli("trials", "1", "--csv", str(csv), capsys=capsys)[0] == 0
    frame = pd.read_csv(csv)
    for column in ("params", "param_n_estimators", "mean_test_score", "std_test_score",
                   "rank_test_score", "split0_test_score", "split4_test_score",
                   "mean_train_score", "mean_fit_time", "state", "error"):
        assert column in frame.columns
    assert len(frame) == 18 and frame.loc[frame.rank_test_score == 1, "number"].item() == 5

    best = tmp_path / "best.json"
    assert run_cli("export", "1", "-o", str(best), capsys=capsys)[0] == 0
    document = json.loads(best.read_text())
    assert document["params"] == {"max_features": 4, "n_estimators": 30}
    assert document["estimator"] == "sklearn.ensemble.RandomForestRegressor"
    assert document["metric"] == "neg_mean_squared_error"
    assert document["score"] == pytest.approx(-3277.5278, abs=1e-3)
    assert document["study"] == {"id": 1, "name": "forest-diabetes", "origin": "spec"}
    assert len(document["data_fingerprint"]) == 16

    snippet = tmp_path / "best.py"
    assert run_cli("export", "1", "-o", str(snippet), capsys=capsys)[0] == 0
    namespace: dict = {}
    exec(snippet.read_text(), namespace)
    assert namespace["estimator"].get_params()["n_estimators"] == 30
    assert namespace["estimator"].get_params()["random_state"] == 0


def test_csv_with_numbers_text_and_missing_values_tunes_end_to_end(tmp_path, capsys, db_path):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n).astype(float),
        "income": rng.normal(50, 10, n),
        "city": rng.choice(["paris", "lyon", "nice"], n),
    })
    frame["label"] = np.where(frame.income + (frame.city == "paris") * 8 > 54, "yes", "no")
    frame.loc[::7, "age"] = np.nan
    frame.loc[::11, "city"] = None
    frame.to_csv(tmp_path / "people.csv", index=False)
    spec = tmp_path / "spec.toml"
    spec.write_text(spec_text(name="people", data='csv = "people.csv"\ntarget = "label"',
                              cls="sklearn.linear_model.LogisticRegression",
                              space="C = { low = 0.01, high = 100.0, log = true, num = 3 }")
                    .replace("fixed = { random_state = 0 }", ""))
    code, out, err = run_cli("run", str(spec), "--jobs", "2", "-q", capsys=capsys)
    assert code == 0, err
    assert "3 complete, 0 failed" in out
    with HistoryStore(db_path) as store:
        trials = store.load_trials(1)
    # the preprocessing is fitted inside each fold: the same as cross-validating the pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from hpstudio.core.data import load_csv, make_preprocessor

    data = load_csv(tmp_path / "people.csv", "label")
    assert data.categorical_columns == ("city",) and data.task == "classification"
    pipeline = make_pipeline(make_preprocessor(data.numeric_columns, data.categorical_columns),
                             LogisticRegression(C=trials[1].params["C"]))
    expected = cross_val_score(pipeline, data.X, data.y, cv=3).mean()
    assert trials[1].mean_test_score == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("spec_kwargs", "message"),
    [
        ({"data": 'csv = "missing.csv"\ntarget = "y"'}, "CSV file not found"),
        ({"data": 'csv = "data.csv"\ntarget = "nope"'},
         "target column 'nope' is not in"),
        ({"data": 'csv = "bad.csv"\ntarget = "a"'}, "is not a readable CSV"),
        ({"cls": "sklearn.ensemble.RandomForestClassifer"},
         "has no class 'RandomForestClassifer'. Did you mean "
         "sklearn.ensemble.RandomForestClassifier?"),
        ({"cls": "mypkg.models.Evil"}, "--allow-package mypkg"),
        ({"space": "max_dept = [1, 2]"}, "has no parameter 'max_dept' (did you mean 'max_depth'"),
        ({"space": "max_depth = { low = 5, high = 2 }"}, "low (5) is greater than high (2)"),
        ({"space": "max_depth = []"}, "space[0].max_depth: empty list"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, capsys, spec_kwargs, message):
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n")
    (tmp_path / "bad.csv").write_text('a,b\n1,"2\n3,4,5,6\n"x",,"\n')
    spec = tmp_path / "spec.toml"
    spec.write_text(spec_text(**spec_kwargs))
    code, _, err = run_cli("run", str(spec), "-q", capsys=capsys)
    assert code == 2
    assert message in err
    assert err.startswith("hpstudio: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_spec_file_and_bad_arguments(capsys):
    code, _, err = run_cli("run", "no-such-spec.toml", capsys=capsys)
    assert code == 2 and "spec file not found: no-such-spec.toml" in err
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == 2
    assert "hpstudio: error:" in capsys.readouterr().err


def test_value_rejected_at_fit_time_fails_that_trial_only(tmp_path, capsys, db_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(spec_text(space='max_depth = [2, -1, 3]\ncriterion = ["gini"]'))
    code, out, err = run_cli("run", str(spec), "--jobs", "2", "-q", capsys=capsys)
    assert code == 0
    assert "2 complete, 1 failed" in out
    assert "trial 1 failed" in err and "max_depth" in err
    with HistoryStore(db_path) as store:
        trials = store.load_trials(1)
    assert [t.state.value for t in trials] == ["complete", "failed", "complete"]
    assert "InvalidParameterError" in trials[1].error
    code, out, _ = run_cli("show", "1", capsys=capsys)
    assert "failed" in out and "InvalidParameterError" in out


def test_history_that_is_not_sqlite(tmp_path, capsys):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 200)
    code, _, err = run_cli("studies", "--db", str(junk), capsys=capsys)
    assert code == 2
    assert "is not an hpstudio history" in err and "--db" in err


def test_help_documents_every_command():
    result = subprocess.run([sys.executable, "-m", "hpstudio.cli", "--help"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    for command in ("run", "resume", "studies", "show", "trials", "export", "demo", "gui",
                    "--db", "--jobs"):
        assert command in result.stdout
    readme = Path(__file__).resolve().parents[1] / "README.md"
    if readme.exists():
        text = readme.read_text()
        for command in ("hpstudio run", "hpstudio studies", "hpstudio show", "hpstudio trials",
                        "hpstudio export", "hpstudio resume"):
            assert command in text


def test_a_study_without_a_spec_is_shown_read_only(tmp_path, capsys, db_path):
    """A recorded study (no spec) lists, shows and exports its parameters; what needs a
    spec (resume, a snippet, a refit model) says why it cannot, with status 2."""
    from hpstudio.core.records import StudyOrigin, StudyStatus, TrialRecord, TrialState
    from hpstudio.core.storage import NewStudy

    with HistoryStore(db_path) as store:
        study = store.add_study(NewStudy(
            name="recorded-svc", spec=None, origin=StudyOrigin.RECORDED,
            status=StudyStatus.FINISHED, estimator="sklearn.svm.SVC", metric="accuracy",
            description={"estimator": "sklearn.svm.SVC", "metric": "accuracy",
                         "data": {"rows": 150}}))
        store.save_trials(TrialRecord(study, n, {"C": c}, TrialState.COMPLETE,
                                      {"score": (s, s + 0.02)}, None, (0.1, 0.1), (0.0, 0.0),
                                      0.0, 1.0)
                          for n, (c, s) in enumerate([(0.1, 0.8), (1.0, 0.9), (10.0, 0.85)]))
    code, out, _ = run_cli("studies", capsys=capsys)
    assert code == 0 and "recorded-svc" in out and "3/?" in out
    code, out, _ = run_cli("show", "recorded-svc", capsys=capsys)
    assert code == 0 and "recorded, read-only" in out and "metric accuracy" in out
    assert out.splitlines()[4].split()[:3] == ["1", "1", "0.91"]
    csv = tmp_path / "t.csv"
    assert run_cli("trials", "recorded-svc", "--csv", str(csv), capsys=capsys)[0] == 0
    assert list(pd.read_csv(csv)["mean_test_score"]) == pytest.approx([0.81, 0.91, 0.86])
    best = tmp_path / "best.json"
    assert run_cli("export", "recorded-svc", "-o", str(best), capsys=capsys)[0] == 0
    document = json.loads(best.read_text())
    assert document["params"] == {"C": 1.0} and document["estimator"] == "sklearn.svm.SVC"
    assert document["study"]["origin"] == "recorded"
    for args in (("resume", "recorded-svc"), ("export", "recorded-svc", "-o", "x.py"),
                 ("export", "recorded-svc", "--model", str(tmp_path / "m.skops"))):
        code, _, err = run_cli(*args, capsys=capsys)
        assert code == 2 and "was recorded without a spec" in err, args
        assert len(err.strip().splitlines()) == 1


def test_db_and_allow_package_go_before_or_after_the_command(tmp_path, capsys, monkeypatch):
    from hpstudio.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--db", "a.db"]).db == "a.db"  # no command: the app
    assert parser.parse_args(["--db", "a.db", "studies"]).db == "a.db"
    assert parser.parse_args(["studies", "--db", "b.db"]).db == "b.db"
    assert parser.parse_args(["--db", "a.db", "show", "1", "--db", "b.db"]).db == "b.db"
    for command in (["run", "s.toml"], ["demo"], ["resume", "1"], ["studies"], ["show", "1"],
                    ["trials", "1", "--csv", "t.csv"], ["export", "1", "-o", "p.json"], ["gui"]):
        args = parser.parse_args(["--db", "x.db", "--allow-package", "xgboost", *command])
        assert (args.db, args.allow_package) == ("x.db", ["xgboost"]), command
    args = parser.parse_args(["--allow-package", "a", "gui", "--allow-package", "b"])
    assert args.allow_package == ["a", "b"]

    # the README's reading: the option before the command names the history used
    other = tmp_path / "other.db"
    spec = tmp_path / "spec.toml"
    spec.write_text(spec_text(name="elsewhere"))
    assert run_cli("--db", str(other), "run", str(spec), "--jobs", "1", "-q",
                   capsys=capsys)[0] == 0
    code, out, _ = run_cli("--db", str(other), "studies", capsys=capsys)
    assert code == 0 and "elsewhere" in out
    code, out, _ = run_cli("studies", capsys=capsys)  # the default history is untouched
    assert "elsewhere" not in out


def test_gui_passes_allowed_packages_and_db_to_the_app(tmp_path, monkeypatch):
    import hpstudio.gui.app as app_module

    calls: list[dict] = []
    monkeypatch.setattr(app_module, "run_app", lambda **kwargs: calls.append(kwargs) or 0)
    assert main(["--allow-package", "xgboost", "--db", str(tmp_path / "h.db"), "gui",
                 "--allow-package", "lightgbm"]) == 0
    assert calls[0]["allowed_packages"] == ["xgboost", "lightgbm"]
    assert calls[0]["db"] == str(tmp_path / "h.db")
    assert main(["--db", "x.db"]) == 0  # no command opens the app on that history
    assert calls[1]["db"] == "x.db" and calls[1]["allowed_packages"] == []


def test_show_reports_the_refit_rule_nested_cv_and_whether_the_best_is_better(
        tmp_path, capsys, db_path):
    spec = tmp_path / "nested.toml"
    evaluation = "\n".join([
        "[cv]", 'splitter = "RepeatedStratifiedKFold"',
        "params = { n_splits = 3, n_repeats = 2, random_state = 0 }", "outer = { folds = 3 }",
        "[scoring]", 'metrics = ["accuracy", "f1_macro"]', 'refit_rule = "simplest"',
        'complexity = "max_depth"'])
    spec.write_text(spec_text(name="nested").replace("[cv]\nfolds = 3", evaluation))
    code, out, err = run_cli("run", str(spec), "--jobs", "1", "-q", capsys=capsys)
    assert code == 0, err
    assert "nested CV: accuracy" in out and "refit rule (the lowest max_depth" in out
    code, out, _ = run_cli("show", "nested", "--compare", "3", "--rope", "0.02",
                           capsys=capsys)
    assert code == 0
    assert "mean f1_macro" in out.splitlines()[3]
    assert "best by the refit rule (the lowest max_depth within one standard deviation" in out
    assert "nested CV, StratifiedKFold" not in out and "nested CV, 3-fold CV around" in out
    assert "(the unbiased estimate;" in out
    assert "on 6 splits" in out and "±0.02 practically equivalent" in out
    table = out.split("is the best really better?")[1].splitlines()
    assert table[1].split()[:2] == ["trial", "mean"] and len(table) == 4
    code, _, err = run_cli("show", "nested", "--compare", "1", capsys=capsys)
    assert code == 2 and "--compare: expected 0 (skip) or a number of trials ≥ 2" in err
