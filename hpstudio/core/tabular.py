"""Any tabular file a user may have, read into a pandas DataFrame, or a message saying why not.

The extension says how to read a file: delimited text (``.csv``, ``.tsv``, ``.tab``,
``.txt``, delimiter and encoding found from the content, so a ``;`` CSV with decimal
commas from a European Excel reads as numbers), Parquet and Feather (through pyarrow),
Excel workbooks (``.xlsx`` through openpyxl, ``.xls`` through xlrd, both optional). A file
whose content contradicts its extension (a Parquet file named ``.csv``) is named as such
instead of being misread. Every format ends in the same plain column types, so a study
gives the same preprocessing whichever format the data came in.
"""

from __future__ import annotations

import codecs
import csv
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpstudio.core.errors import DataError

_SAMPLE_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+\s*$")


@dataclass(frozen=True)
class Format:
    """A kind of file: its name in messages, and how its readers are told apart."""

    name: str
    extensions: tuple[str, ...]
    signature: bytes | None = None  # the bytes its files start with; None for text
    reader_package: str | None = None  # an optional package its reader needs


CSV = Format("CSV", (".csv",))
TSV = Format("TSV", (".tsv", ".tab"))
TEXT = Format("text table", (".txt", ".dat"))
PARQUET = Format("Parquet", (".parquet", ".pq"), b"PAR1")
FEATHER = Format("Feather", (".feather", ".arrow"), b"ARROW1")
XLSX = Format("Excel", (".xlsx", ".xlsm"), b"PK\x03\x04", "openpyxl")
XLS = Format("Excel 97-2003", (".xls",), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xlrd")
FORMATS = (CSV, TSV, TEXT, PARQUET, FEATHER, XLSX, XLS)
TEXT_FORMATS = (CSV, TSV, TEXT)
EXTENSIONS = tuple(ext for fmt in FORMATS for ext in fmt.extensions)
_DEFAULT_DELIMITER = {CSV: ",", TSV: "\t", TEXT: ","}
_INSTALL = {"openpyxl": "pip install 'hpstudio[excel]' (or pip install openpyxl)",
            "xlrd": "pip install 'hpstudio[excel]' (or pip install xlrd)"}


def format_of(path: str | Path) -> Format | None:
    """The format the extension names; None for an extension no reader claims."""
    suffix = Path(path).suffix.lower()
    return next((fmt for fmt in FORMATS if suffix in fmt.extensions), None)


def read_table(path: str | Path, nrows: int | None = None) -> Any:
    """The file's rows as a DataFrame (the first ``nrows`` only, for a preview).

    Raises DataError naming the file and what to do when it is missing, a folder, empty,
    unreadable, of another format than its extension says, or needs a reader not installed.
    """
    path = Path(path)
    claimed = format_of(path)
    head = _head(path, claimed)
    found = _format_by_signature(head)
    fmt = _reconcile(path, claimed, found)
    if fmt in TEXT_FORMATS:
        frame = _read_text(path, fmt, head, nrows)
    elif fmt in (XLSX, XLS):
        frame = _read_excel(path, fmt, nrows)
    else:
        frame = _read_arrow(path, fmt, nrows)
    frame = _plain_types(frame)
    if frame.shape[1] < 1:
        raise DataError(f"{path} has no columns; a table needs a header row and data rows")
    if nrows is None and frame.shape[0] == 0:
        raise DataError(f"{path} has no data rows (only a header); add rows under the header")
    return frame


# ----- which format --------------------------------------------------------------------------


def _head(path: Path, claimed: Format | None) -> bytes:
    kind = f"{claimed.name} file" if claimed else "data file"
    try:
        with path.open("rb") as handle:
            head = handle.read(_SAMPLE_BYTES)
    except FileNotFoundError:
        raise DataError(f"{kind} not found: {path}; check the path in [data] csv") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not a data file; choose a CSV, TSV, Parquet, "
                        "Feather or Excel file") from None
    except PermissionError:
        raise DataError(f"no permission to read {path}; allow reading it (or copy it to a "
                        "folder of yours) and load it again") from None
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror or exc}); check the file") from None
    text = claimed is None or claimed in TEXT_FORMATS
    if text and not head.strip():
        raise DataError(f"{path} is empty; a CSV needs a header row and data rows")
    if not head:
        raise DataError(f"{path} is empty (0 bytes); write the {kind} again")
    return head


def _format_by_signature(head: bytes) -> Format | None:
    return next((fmt for fmt in FORMATS if fmt.signature and head.startswith(fmt.signature)),
                None)


def _reconcile(path: Path, claimed: Format | None, found: Format | None) -> Format:
    """The format to read with; a content that contradicts the extension is an error."""
    if claimed is None:
        return found or TEXT
    if claimed is found or (claimed is XLS and found is XLSX):
        return found  # an .xls that is really an .xlsx workbook reads as one
    if found is not None:
        rename = path.with_suffix(found.extensions[0]).name
        raise DataError(f"{path} is a {found.name} file, though its extension says "
                        f"{claimed.name}; rename it to {rename} so it is read as {found.name}")
    if claimed in TEXT_FORMATS:
        return claimed
    raise DataError(f"{path} is not a readable {claimed.name} file (it does not start as one "
                    f"does: it may be another format renamed, or damaged); write it again as "
                    f"{claimed.name}, or give it the extension of its real format")


# ----- delimited text --------------------------------------------------------------------------


def _read_text(path: Path, fmt: Format, head: bytes, nrows: int | None) -> Any:
    import pandas as pd

    encoding = _encoding(path, fmt, head)
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    delimiter = _delimiter(sample, _DEFAULT_DELIMITER[fmt])
    decimal = "," if delimiter == ";" and _has_decimal_commas(sample, delimiter) else "."
    for attempt in (encoding, "cp1252"):
        try:
            return pd.read_csv(path, sep=delimiter, decimal=decimal, encoding=attempt,
                               nrows=nrows, low_memory=False)
        except UnicodeDecodeError:
            if attempt == "cp1252" or encoding != "utf-8":
                raise _unreadable(path, fmt, "it is neither UTF-8 nor Windows-1252 text") \
                    from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{path} is empty; a CSV needs a header row and data rows") from None
        except pd.errors.ParserError as exc:
            raise _unreadable(path, fmt, _parser_problem(exc)) from None
        except (ValueError, OSError) as exc:
            raise _unreadable(path, fmt, _first_line(exc)) from None
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _encoding(path: Path, fmt: Format, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"  # Excel's "CSV UTF-8" starts with a byte-order mark
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" is tab-separated UTF-16
    if b"\x00" in head.rstrip(b"\x00"):  # NUL padding at the end is left to the parser
        raise _unreadable(path, fmt, "it holds binary data, not text")
    return "utf-8"


def _delimiter(sample: str, default: str) -> str:
    """The delimiter that splits every sampled line into the header's number of fields."""
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last line may be cut short
    if not lines:
        return default
    candidates = (default, *(d for d in _DELIMITERS if d != default))
    for delimiter in candidates:
        try:
            rows = list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue
        rows = [row for row in rows if row]
        if not rows or len(rows[0]) < 2:
            continue
        consistent = sum(len(row) == len(rows[0]) for row in rows[1:])
        if consistent >= 0.9 * (len(rows) - 1):
            return delimiter
    return default


def _has_decimal_commas(sample: str, delimiter: str) -> bool:
    lines = sample.splitlines()[1:50]
    return any(_DECIMAL_COMMA.match(field)
               for row in csv.reader(lines, delimiter=delimiter) for field in row)


def _parser_problem(exc: Exception) -> str:
    text = _first_line(exc)
    ragged = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if ragged:
        expected, line, saw = ragged.groups()
        return f"line {line} has {saw} fields where the header has {expected}"
    return text.replace("Error tokenizing data. C error: ", "")


def _unreadable(path: Path, fmt: Format, why: str) -> DataError:
    separated = {CSV: "comma-separated", TSV: "tab-separated"}.get(fmt, "comma-separated")
    return DataError(f"{path} is not a readable {fmt.name} ({why}); save it as {separated} "
                     "UTF-8 text with one header row")


# ----- Parquet, Feather, Excel -----------------------------------------------------------------


def _read_arrow(path: Path, fmt: Format, nrows: int | None) -> Any:
    import pandas as pd

    read = pd.read_parquet if fmt is PARQUET else pd.read_feather
    writer = "DataFrame.to_parquet" if fmt is PARQUET else "DataFrame.to_feather"
    try:
        frame = read(path)
    except ImportError:
        raise DataError(f"reading {path} needs the pyarrow package; pip install pyarrow") \
            from None
    except Exception as exc:  # pyarrow reports a damaged file with several exception types
        raise DataError(f"{path} is not a readable {fmt.name} file ({_first_line(exc)}); it "
                        f"may be truncated or damaged: write it again, e.g. with {writer}") \
            from None
    frame = frame.reset_index(drop=True)
    return frame if nrows is None else frame.head(nrows)


def _read_excel(path: Path, fmt: Format, nrows: int | None) -> Any:
    import pandas as pd

    package = fmt.reader_package or "openpyxl"
    try:
        importlib.import_module(package)
    except ImportError:
        raise DataError(f"reading the Excel file {path} needs the {package} package: "
                        f"{_INSTALL[package]}; or save the sheet as CSV") from None
    try:
        frame = pd.read_excel(path, sheet_name=0, nrows=nrows, engine=package)
    except Exception as exc:  # openpyxl and xlrd report damaged workbooks in many ways
        raise DataError(f"{path} is not a readable {fmt.name} workbook ({_first_line(exc)}); "
                        "open it in a spreadsheet and save it again, or save the sheet as CSV") \
            from None
    if frame.shape == (0, 0):
        raise DataError(f"{path}: the first sheet is empty; put a header row and data rows "
                        "in it")
    return frame


# ----- common to all formats -------------------------------------------------------------------


def _plain_types(frame: Any) -> Any:
    """Column names as text without a byte-order mark, and numpy types for nullable columns.

    Parquet and Feather keep pandas' nullable types (Int64, boolean, string with pd.NA);
    CSV gives plain ones. Converting here makes each format type the same data the same way.
    """
    import numpy as np
    import pandas as pd

    frame.columns = [str(name).lstrip("\ufeff") for name in frame.columns]
    for name in frame.columns:
        dtype = frame[name].dtype
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype) or isinstance(
                dtype, pd.CategoricalDtype | pd.DatetimeTZDtype | pd.PeriodDtype
                | pd.IntervalDtype | pd.SparseDtype):
            continue
        if isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:
            continue  # pandas' own default text type, as read_csv gives it
        column = frame[name]
        frame[name] = pd.Series(column.to_numpy(dtype=object, na_value=np.nan),
                                index=frame.index, name=name).infer_objects()
    return frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def pandas_reader(path: str | Path) -> tuple[str, dict[str, Any]]:
    """The pandas function and arguments that read ``path`` as :func:`read_table` does, for
    a script that loads the same data without hpstudio (column types may still need the
    conversions of ``_plain_types`` for nullable Parquet columns)."""
    path = Path(path)
    claimed = format_of(path)
    head = _head(path, claimed)
    fmt = _reconcile(path, claimed, _format_by_signature(head))
    if fmt in TEXT_FORMATS:
        encoding = _encoding(path, fmt, head)
        sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
        delimiter = _delimiter(sample, _DEFAULT_DELIMITER[fmt])
        options: dict[str, Any] = {}
        if delimiter != ",":
            options["sep"] = delimiter
        if delimiter == ";" and _has_decimal_commas(sample, delimiter):
            options["decimal"] = ","
        if encoding != "utf-8":
            options["encoding"] = encoding
        return "read_csv", options
    if fmt in (XLSX, XLS):
        return "read_excel", {"sheet_name": 0}
    return ("read_parquet" if fmt is PARQUET else "read_feather"), {}
