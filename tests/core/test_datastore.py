"""Data given in memory is kept beside the history, by content, in formats that open
without running code (no pickle), and comes back as it was given."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from hpstudio.core.data import load_dataset
from hpstudio.core.datastore import data_folder, load_data, store_data
from hpstudio.core.errors import DataError, SpecError
from hpstudio.core.spec import StudySpec

PICKLE_MAGIC = (b"\x80", b"cnumpy", b"(dp")


def not_pickled(folder) -> bool:
    return all(not path.read_bytes().startswith(PICKLE_MAGIC) for path in folder.iterdir())


def test_arrays_frames_series_and_sparse_matrices_come_back_as_given(tmp_path):
    frame = pd.DataFrame({0: [1.5, 2.5, np.nan], "colour": pd.Categorical(["r", "g", "r"]),
                          "n": [1, 2, 3], "text": ["a", "b", None]}, index=[10, 11, 12])
    target = pd.Series(["yes", "no", "yes"], name="answer", index=[10, 11, 12])
    stored = store_data(tmp_path, frame, target, groups=np.array([1, 1, 2]))
    X, y, groups = load_data(stored.path)
    pd.testing.assert_frame_equal(X, frame)
    pd.testing.assert_series_equal(y, target)
    assert groups.tolist() == [1, 1, 2]
    assert not_pickled(stored.path)

    matrix = sp.random(20, 6, density=0.3, format="csr", random_state=0)
    labels = np.array(["a", "b"] * 10)
    stored = store_data(tmp_path, matrix, labels)
    X, y, groups = load_data(stored.path)
    assert (matrix != X).nnz == 0 and y.tolist() == labels.tolist() and groups is None
    assert not_pickled(stored.path)


def test_the_same_content_is_one_folder_and_any_change_another(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 1, 0, 1])
    first = store_data(tmp_path, X, y)
    assert store_data(tmp_path, X.copy(), y.copy()) == first
    changed = X.copy()
    changed[2, 1] = 7.5
    keys = {first.key, store_data(tmp_path, changed, y).key,
            store_data(tmp_path, X, y[::-1].copy()).key,
            store_data(tmp_path, X.astype(np.float32), y).key,
            store_data(tmp_path, pd.DataFrame(X, columns=list("abc")), y).key}
    assert len(keys) == 5
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 5


def test_what_no_safe_format_holds_is_refused_with_what_to_give(tmp_path):
    with pytest.raises(DataError, match="cannot be stored without pickle"):
        store_data(tmp_path, np.array([[1, {"a": 1}]], dtype=object), np.array([0]))
    with pytest.raises(DataError, match="column name"):
        store_data(tmp_path, pd.DataFrame({(1, 2): [1.0]}), np.array([0]))
    assert list(tmp_path.iterdir()) == []


def test_a_spec_names_stored_data_by_its_key_in_the_historys_data_folder(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.array([0, 1, 2] * 10)
    folder = data_folder(tmp_path / "history.db")
    assert folder.name == "history.db-data"
    stored = store_data(folder, X, y)
    raw = {"name": "s", "data": {"stored": stored.key},
           "estimator": {"class": "sklearn.tree.DecisionTreeClassifier"},
           "space": [{"max_depth": [1, 2]}]}
    spec = StudySpec.from_dict(raw, base_dir=folder)
    assert spec.data.stored_path() == stored.path
    assert StudySpec.from_dict(json.loads(spec.to_json()), base_dir=folder) == spec
    dataset = load_dataset(spec.data)
    assert np.array_equal(dataset.X, X) and dataset.task == "classification"
    assert not dataset.needs_preprocessing  # the data goes to the estimator untouched
    with pytest.raises(SpecError, match="leave out csv"):
        StudySpec.from_dict({**raw, "data": {"stored": stored.key, "csv": "a.csv"}})
    with pytest.raises(SpecError, match=r"data\.stored"):
        StudySpec.from_dict({**raw, "data": {"stored": ""}})
    moved = StudySpec.from_dict(raw, base_dir=tmp_path / "elsewhere")
    with pytest.raises(DataError, match="is missing"):
        load_dataset(moved.data)
