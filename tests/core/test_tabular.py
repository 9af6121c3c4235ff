"""Every data file format loads as the same Dataset as the CSV of the same frame, and every
malformed file gets one message that names the file and what to do."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpstudio.core.data import (
    CLASSIFICATION,
    REGRESSION,
    Dataset,
    load_csv,
    load_dataset,
    load_table,
    read_csv_preview,
    read_preview,
)
from hpstudio.core.errors import DataError
from hpstudio.core.spec import DataSpec
from hpstudio.core.tabular import PARQUET, TEXT, TSV, XLSX, format_of, read_table


def sample_frame() -> pd.DataFrame:
    """Numbers (one with gaps), text with gaps and accents, and a text target."""
    return pd.DataFrame({
        "age": [25.0, 32.0, np.nan, 51.0, 40.0, 22.0, 35.0, 60.0],
        "rooms": [1, 2, 3, 4, 5, 6, 7, 8],
        "city": ["Paris", "Zürich", None, "Besançon", "Paris", "Zürich", "Nice", "Paris"],
        "score": [1.5, 2.25, 3.0, np.nan, 5.5, 6.0, 7.25, 8.0],
        "label": ["yes", "no", "yes", "no", "yes", "no", "yes", "no"],
    })


def _csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


WRITERS: dict[str, tuple[str, Callable[[pd.DataFrame, Path], None]]] = {
    "tsv": ("data.tsv", lambda f, p: f.to_csv(p, sep="\t", index=False)),
    "tab": ("data.tab", lambda f, p: f.to_csv(p, sep="\t", index=False)),
    "pipe-txt": ("data.txt", lambda f, p: f.to_csv(p, sep="|", index=False)),
    "semicolon-excel-europe": ("data.csv", lambda f, p: f.to_csv(
        p, sep=";", decimal=",", index=False, encoding="cp1252")),
    "utf8-bom": ("data.csv", lambda f, p: f.to_csv(p, index=False, encoding="utf-8-sig")),
    "utf16-unicode-text": ("data.txt", lambda f, p: f.to_csv(
        p, sep="\t", index=False, encoding="utf-16")),
    "no-extension": ("data", _csv),
    "parquet": ("data.parquet", lambda f, p: f.to_parquet(p)),
    "parquet-nullable-types": ("data.parquet", lambda f, p: f.convert_dtypes().to_parquet(p)),
    "parquet-with-index": ("data.pq", lambda f, p: f.set_index(f.index * 10).to_parquet(p)),
    "feather": ("data.feather", lambda f, p: f.to_feather(p)),
    "xlsx": ("data.xlsx", lambda f, p: f.to_excel(p, index=False)),
}


def assert_same_dataset(ours: Dataset, theirs: Dataset) -> None:
    assert list(ours.X.columns) == list(theirs.X.columns)
    assert dict(ours.X.dtypes) == dict(theirs.X.dtypes)
    pd.testing.assert_frame_equal(ours.X, theirs.X)
    assert ours.numeric_columns == theirs.numeric_columns
    assert ours.categorical_columns == theirs.categorical_columns
    assert ours.task == theirs.task and ours.dropped_rows == theirs.dropped_rows
    assert ours.y.dtype == theirs.y.dtype and list(ours.y) == list(theirs.y)


@pytest.mark.parametrize("kind", list(WRITERS))
def test_each_format_loads_as_the_csv_of_the_same_frame(kind, tmp_path):
    frame = sample_frame()
    _csv(frame, tmp_path / "reference.csv")
    name, write = WRITERS[kind]
    path = tmp_path / name
    write(frame, path)
    for target in ("label", "score"):
        reference = load_table(tmp_path / "reference.csv", target)
        ours = load_table(path, target)
        assert_same_dataset(ours, reference)
    assert reference.numeric_columns == ("age", "rooms") and reference.task == REGRESSION
    assert load_table(path, "label").categorical_columns == ("city",)
    table = read_table(path)
    assert list(table["city"].fillna("?")) == ["Paris", "Zürich", "?", "Besançon", "Paris",
                                               "Zürich", "Nice", "Paris"]


@pytest.mark.parametrize("kind", ["parquet", "feather", "xlsx", "tsv", "semicolon-excel-europe"])
def test_the_preview_is_typed_as_the_full_load(kind, tmp_path):
    name, write = WRITERS[kind]
    path = tmp_path / name
    write(sample_frame(), path)
    preview, full = read_preview(path, rows=3), read_table(path)
    pd.testing.assert_frame_equal(preview, full.head(3))
    assert read_csv_preview is read_preview  # the data panel's name for it


def test_a_dataset_from_each_format_is_a_classification_on_its_text_target(tmp_path):
    sample_frame().to_parquet(tmp_path / "houses.parquet")
    data = load_dataset(DataSpec(csv="houses.parquet", target="label", base_dir=str(tmp_path)))
    assert data.task == CLASSIFICATION and data.n_classes == 2 and data.n_rows == 8
    assert data.name == "houses.parquet" and load_csv is load_table


def test_a_byte_order_mark_is_not_part_of_the_first_columns_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftarget,x,y\n1,2,a\n0,4,b\n1,5,a\n0,7,b\n".encode())
    data = load_table(path, "target")  # the first column, found by its plain name
    assert list(data.X.columns) == ["x", "y"] and list(data.y) == [1, 0, 1, 0]
    data = load_table(path, "y")
    assert list(data.X.columns) == ["target", "x"]
    assert all("\ufeff" not in name for name in read_preview(path).columns)


@pytest.mark.parametrize(("text", "delimiter_columns"), [
    ("a;b;y\n1,5;2;x\n3,25;4;z\n", {"a": [1.5, 3.25], "b": [2, 4]}),
    ("a\tb\ty\n1.5\t2\tx\n3.25\t4\tz\n", {"a": [1.5, 3.25], "b": [2, 4]}),
    ("a|b|y\n1.5|2|x\n3.25|4|z\n", {"a": [1.5, 3.25], "b": [2, 4]}),
    ('a,b,y\n1.5,2,"x;y"\n3.25,4,"z;w"\n', {"a": [1.5, 3.25], "b": [2, 4]}),
    ("a;b;y\n1.5;2;x\n3.25;4;z\n", {"a": [1.5, 3.25], "b": [2, 4]}),
])
def test_delimiters_and_decimal_commas_are_found_from_the_content(text, delimiter_columns,
                                                                   tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["a", "b", "y"]
    for column, values in delimiter_columns.items():
        assert frame[column].tolist() == values
        assert pd.api.types.is_numeric_dtype(frame[column])


def test_formats_are_named_by_extension_and_unknown_ones_by_content(tmp_path):
    assert format_of("x.TSV") is TSV and format_of("x.pq") is PARQUET
    assert format_of("x.xlsm") is XLSX and format_of("x.dat") is TEXT
    assert format_of("x.json") is None
    sample_frame().to_parquet(tmp_path / "export.bin")
    assert read_table(tmp_path / "export.bin").shape == (8, 5)


# ----- malformed files -------------------------------------------------------------------------


def _parquet_bytes(tmp_path: Path) -> bytes:
    sample_frame().to_parquet(tmp_path / "good.parquet")
    return (tmp_path / "good.parquet").read_bytes()


def _feather_bytes(tmp_path: Path) -> bytes:
    sample_frame().to_feather(tmp_path / "good.feather")
    return (tmp_path / "good.feather").read_bytes()


def _empty_workbook(path: Path) -> None:
    import openpyxl

    openpyxl.Workbook().save(path)


MALFORMED: dict[str, tuple[str, Callable[[Path, Path], None], str]] = {
    # case: (file name, make(path, tmp_path), what the message says to do)
    "missing csv": ("missing.csv", lambda p, t: None,
                    "CSV file not found: {path}; check the path in [data] csv"),
    "missing parquet": ("missing.parquet", lambda p, t: None, "Parquet file not found: {path}"),
    "a folder": ("folder.csv", lambda p, t: p.mkdir(),
                 "{path} is a folder, not a data file; choose a CSV"),
    "an empty csv": ("empty.csv", lambda p, t: p.write_bytes(b""),
                     "{path} is empty; a CSV needs a header row and data rows"),
    "blank lines only": ("blank.csv", lambda p, t: p.write_text("\n  \n\n"),
                         "{path} is empty; a CSV needs a header row and data rows"),
    "header only": ("header.csv", lambda p, t: p.write_text("a,b,y\n"),
                    "{path} has no data rows (only a header); add rows under the header"),
    "ragged rows": ("ragged.csv", lambda p, t: p.write_text("a,b,y\n1,2,x\n3,4,5,z\n"),
                    "{path} is not a readable CSV (line 3 has 4 fields where the header has "
                    "3); save it as comma-separated UTF-8 text with one header row"),
    "unterminated quote": ("quote.csv", lambda p, t: p.write_text('a,b\n1,"open\n3,4\n'),
                           "{path} is not a readable CSV (EOF inside string"),
    "binary garbage named .csv": (
        "garbage.csv", lambda p, t: p.write_bytes(np.random.default_rng(0).bytes(4096)),
        "{path} is not a readable CSV (it holds binary data, not text); save it as"),
    "neither utf-8 nor windows text": (
        "bytes.csv", lambda p, t: p.write_bytes(b"a,b\n\x81\x8d,\x8f\x90\n" * 50),
        "{path} is not a readable CSV (it is neither UTF-8 nor Windows-1252 text); save it "
        "as comma-separated UTF-8"),
    "ragged tsv": ("ragged.tsv", lambda p, t: p.write_text("a\tb\n1\t2\n3\t4\t5\t6\n"),
                   "{path} is not a readable TSV (line 3 has 4 fields where the header has 2); "
                   "save it as tab-separated"),
    "truncated parquet": (
        "cut.parquet", lambda p, t: p.write_bytes(_parquet_bytes(t)[:300]),
        "{path} is not a readable Parquet file ("),
    "parquet with a damaged footer": (
        "footer.parquet", lambda p, t: p.write_bytes(_parquet_bytes(t)[:-12] + b"\x00" * 8
                                                     + b"PAR1"),
        "it may be truncated or damaged: write it again, e.g. with DataFrame.to_parquet"),
    "an empty parquet": ("empty.parquet", lambda p, t: p.write_bytes(b""),
                         "{path} is empty (0 bytes); write the Parquet file again"),
    "csv text named .parquet": (
        "text.parquet", lambda p, t: p.write_text("a,b\n1,2\n"),
        "{path} is not a readable Parquet file (it does not start as one does: it may be "
        "another format renamed, or damaged)"),
    "parquet named .csv": (
        "real.csv", lambda p, t: p.write_bytes(_parquet_bytes(t)),
        "{path} is a Parquet file, though its extension says CSV; rename it to real.parquet"),
    "feather named .xlsx": (
        "real.xlsx", lambda p, t: p.write_bytes(_feather_bytes(t)),
        "{path} is a Feather file, though its extension says Excel; rename it to "
        "real.feather"),
    "truncated feather": (
        "cut.feather", lambda p, t: p.write_bytes(_feather_bytes(t)[:200]),
        "{path} is not a readable Feather file ("),
    "damaged xlsx": (
        "broken.xlsx", lambda p, t: p.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 50),
        "{path} is not a readable Excel workbook ("),
    "an empty sheet": ("blank.xlsx", lambda p, t: _empty_workbook(p),
                       "{path}: the first sheet is empty; put a header row and data rows in it"),
    "an empty xlsx": ("nothing.xlsx", lambda p, t: p.write_bytes(b""),
                      "{path} is empty (0 bytes); write the Excel file again"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_is_named_with_what_to_do(case, tmp_path):
    name, make, expected = MALFORMED[case]
    path = tmp_path / name
    make(path, tmp_path)
    readers = [lambda: load_table(path, "y")]
    if case != "header only":  # a preview shows a header-only file's columns
        readers.append(lambda: read_preview(path))
    for read in readers:
        with pytest.raises(DataError) as info:
            read()
        message = str(info.value)
        assert str(path) in message and "\n" not in message
        assert expected.format(path=path) in message, message


def test_an_xlsx_without_openpyxl_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "book.xlsx"
    sample_frame().to_excel(path, index=False)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed
    with pytest.raises(DataError) as info:
        load_table(path, "label")
    assert str(info.value) == (
        f"reading the Excel file {path} needs the openpyxl package: pip install "
        "'hpstudio[excel]' (or pip install openpyxl); or save the sheet as CSV")


def test_an_xls_without_xlrd_says_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    monkeypatch.setitem(sys.modules, "xlrd", None)
    with pytest.raises(DataError, match=r"needs the xlrd package: pip install 'hpstudio\[excel\]'"):
        read_preview(path)


def test_a_file_without_read_permission_is_named(tmp_path, monkeypatch):
    path = tmp_path / "secret.parquet"
    sample_frame().to_parquet(path)
    if os.geteuid() != 0:  # root reads anything: the refusal is then simulated
        path.chmod(0)
    else:
        real_open = Path.open

        def refuse(self, *args, **kwargs):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DataError, match=r"^no permission to read .*secret\.parquet; allow "):
        load_table(path, "label")


@pytest.mark.parametrize(("text", "target", "message"), [
    ("y\n1\n2\n3\n", "y", "has no feature columns besides the target 'y'"),
    ("a,y\n1,\n2,\n3,1\n", "y", "fewer than 2 rows have a value in the target column 'y'"),
    ("a,b\n1,2\n3,4\n", "y", "target column 'y' is not in"),
])
def test_a_readable_file_that_cannot_be_a_dataset_is_explained(text, target, message,
                                                                 tmp_path):
    path = tmp_path / "small.tsv"
    path.write_text(text.replace(",", "\t"))
    with pytest.raises(DataError, match=message):
        load_table(path, target)
