"""Tables (.xlsx/.xls/.csv files or DataFrames) → features and label-encoded targets."""
from __future__ import annotations

import os
import re
from typing import Any, Sequence

import numpy as np

from ..errors import NNUsageError, unknown
from ..i18n import _, num
from .base import CLASS_MODES, Dataset, default_class_mode

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


class TableData(Dataset):
    """Features ``X`` and integer labels ``y`` of a table, with the label mapping kept.

    ``frame`` is the table with its target column label-encoded, as after the course's
    ``data4['Y'] = le.fit_transform(data4['Y'])``; the text labels are ``class_names[y]``.
    ``data['X1']`` is ``data.frame['X1']``, so the course's scatter runs on the dataset itself.

    Example::

        data = load_table("artificial_generator.xlsx", sheet="data4")
        data.X.shape, data.y[:5], data.mapping      # ((300, 2), array([2, 0, ...]), {'inner': 0, ...})
        plt.scatter(data['X1'], data['X2'], c=data['Y'])
    """

    kind = "table"

    def __init__(self, frame, features: Sequence[str], target: str, classes: Sequence[str],
                 labels: np.ndarray, *, batch_size: int = 32, class_mode: str | None = None,
                 name: str | None = None, source: str | None = None):
        self.labels = np.asarray(labels, dtype="int64")
        self.frame = frame.assign(**{target: self.labels})   # the encoded target, as the course's LabelEncoder step
        self.features = list(features)
        self.target = target
        self.class_names = [str(c) for c in classes]
        self.X = frame[self.features].to_numpy(dtype="float32")
        self.batch_size = int(batch_size)
        self.class_mode = class_mode or ("binary" if len(self.class_names) == 2 else "int")
        self.name = name
        self.source = source
        self.files = None
        self.notes: list[str] = []   # one line each: how a CSV was read, warnings (shown by %nn_data)

    @property
    def y(self) -> np.ndarray:
        """The encoded labels (0 … k-1), as the course's ``LabelEncoder`` gives them."""
        return self.labels

    def __getitem__(self, column):
        """A column (or list of columns) of ``frame``: ``data4['X1']``, ``data4[['X1', 'X2']]``, ``data4['Y']`` (encoded)."""
        return self.frame[column]

    @property
    def target_names(self) -> np.ndarray:
        """The text label of every row (``class_names[y]``), as read from the file.

        Example::

            >>> data4.target_names[:2]                             # doctest: +SKIP
            array(['inner', 'outer'], dtype=object)
        """
        return np.asarray(self.class_names, dtype=object)[self.labels]

    @property
    def mapping(self) -> dict[str, int]:
        """Class name → encoded label."""
        return self.class_indices

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (len(self.features),)

    def as_tf_dataset(self, *, batch_size: int | None = None, shuffle: bool = False,
                      seed: int | None = None, class_mode: str | None = None) -> Any:
        """Batched ``tf.data.Dataset`` of ``(X, targets)`` (targets encoded per ``class_mode``)."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.X, self.targets(class_mode)))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        return ds.batch(batch_size or self.batch_size).prefetch(tf.data.AUTOTUNE)

    def batches(self, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                class_mode: str | None = None, repeat: bool = False, x_only: bool = False) -> Any:
        """What ``fit``/``evaluate``/``predict`` take on the backend in use: ``as_tf_dataset`` on TensorFlow,
        numpy batches (``data/batches.py``) on JAX and PyTorch; ``repeat``: endless.

        Example::

            >>> model.fit(data4.batches(shuffle=True, seed=0, repeat=True), steps_per_epoch=5)   # doctest: +SKIP
        """
        from ..runtime.backend import uses_tf

        if uses_tf():
            ds = self.as_tf_dataset(batch_size=batch_size, shuffle=shuffle, seed=seed, class_mode=class_mode)
            ds = ds.repeat() if repeat else ds
            return ds.map(lambda x, y: x) if x_only else ds
        from .batches import table_batches

        return table_batches(self, batch_size=batch_size, shuffle=shuffle, seed=seed, class_mode=class_mode,
                             repeat=repeat, x_only=x_only)

    def subset(self, index: Any, name: str | None = None) -> "TableData":
        """The rows at ``index`` as a new TableData with the same classes (``split`` builds on it).

        Example::

            >>> first = data.subset(range(10))                      # doctest: +SKIP
        """
        index = np.asarray(index, dtype=int)
        frame = self.frame.iloc[index].reset_index(drop=True)
        return TableData(frame, self.features, self.target, self.class_names, self.labels[index],
                         batch_size=self.batch_size, class_mode=self.class_mode, name=name,
                         source=self.source)

    def __repr__(self) -> str:
        label = f" '{self.name}'" if self.name else ""
        mapping = _first(f"{c}→{i}" for c, i in self.mapping.items())
        counts = _first(f"{c}: {n}" for c, n in self.class_counts().items())
        return _("TableData{label}: {n} rows × {k} features ({features}) → {target} in {classes} classes "
                 "({counts}); labels encoded {mapping}").format(
                     label=label, n=num(len(self), ","), k=len(self.features), features=", ".join(self.features),
                     target=self.target, classes=self.num_classes, counts=counts, mapping=mapping)

    def _repr_html_(self) -> str:
        import html

        counts = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{i}</td><td>{num(n, ',')}</td></tr>"
            for (c, n), i in zip(list(self.class_counts().items())[:SHOWN_CLASSES], range(self.num_classes))
        )
        if self.num_classes > SHOWN_CLASSES:
            counts += "<tr><td colspan='3'>" + _("… and {n} more classes").format(
                n=num(self.num_classes - SHOWN_CLASSES, ",")) + "</td></tr>"
        head = self.frame.head(5).to_html(index=False)
        label = html.escape(self.name or _("table"))
        summary = _("{n} rows, features {features}, target <code>{target}</code> label-encoded").format(
            n=num(len(self), ","), features=html.escape(", ".join(self.features)), target=html.escape(self.target))
        return (f"<b>{label}</b>: {summary}"
                "<table><tr><th>" + _("class") + "</th><th>" + _("label") + "</th><th>" + _("rows") + "</th></tr>"
                f"{counts}</table>{head}")


MAX_CLASSES = 50   # beyond this a target looks continuous (regression), which nnmagics does not do
SHOWN_CLASSES = 10  # classes listed by a table's repr; the rest are counted


def _first(items, n: int = SHOWN_CLASSES) -> str:
    """``items`` joined by commas, at most ``n`` of them: ``_first("abc", 2) == 'a, b, … (1 more)'``."""
    items = list(items)
    more = _(", … ({n} more)").format(n=num(len(items) - n, ",")) if len(items) > n else ""
    return ", ".join(items[:n]) + more


def read_table(path: str, sheet: str | None = None):
    """Read a .xlsx/.xls/.csv file into a DataFrame, with clear errors for a missing file or sheet.

    Example::

        frame = read_table("artificial_generator.xlsx", sheet="data4")
    """
    return read_table_notes(path, sheet)[0]


def read_table_notes(path: str, sheet: str | None = None):
    """``(frame, notes)``: ``read_table`` plus one line on how a CSV was read when it is not plain UTF-8 ``,``/``.``.

    Example::

        frame, notes = read_table_notes("notes_fr.csv")
        notes   # ["Read as CSV with ';' separator, ',' decimals, cp1252 encoding."]
    """
    import pandas as pd

    path = os.fspath(path)
    if not os.path.exists(path):
        raise NNUsageError(_("File '{path}' not found; check the path (the notebook runs in {cwd}).").format(
            path=path, cwd=os.getcwd()))
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in TABLE_SUFFIXES:
        raise NNUsageError(_("'{path}' is not a table file; use a .xlsx, .xls or .csv file, a DataFrame or an image "
                             "folder.").format(path=path))
    if suffix == ".csv":
        if sheet is not None:
            raise NNUsageError(_("--sheet applies to Excel files only; '{path}' is a CSV file.").format(path=path))
        from .csv_format import read_csv

        frame, fmt, header = read_csv(path)
        check_unique_names(header, f"'{path}'")
        return frame, ([] if fmt.is_default else [fmt.describe()])
    try:
        book = pd.ExcelFile(path)
    except ImportError as exc:  # .xls needs xlrd, .xlsx openpyxl: optional pandas dependencies
        raise NNUsageError(_("Reading '{path}' needs a package that is not installed ({reason}); install it "
                             "(e.g. pip install xlrd for .xls) or save the file as .csv.").format(
                                 path=path, reason=exc)) from None
    except Exception as exc:  # corrupt or non-Excel content: openpyxl/xlrd raise many types
        reason = " ".join(str(exc).split())[:160]
        raise NNUsageError(_("Could not open '{path}' as an Excel file ({reason}); it may be damaged or another "
                             "format: open and save it again as .xlsx, or export it as .csv.").format(
                                 path=path, reason=reason)) from None
    sheets = [str(s) for s in book.sheet_names]
    if sheet is None:
        sheet = sheets[0]
    elif sheet not in sheets:
        raise NNUsageError(_("'{path}' has no sheet '{sheet}'; its sheets are: {sheets}.").format(
            path=path, sheet=sheet, sheets=", ".join(sheets)))
    where = _("sheet '{sheet}' of '{path}'").format(sheet=sheet, path=path)
    try:
        header = pd.read_excel(book, sheet_name=sheet, header=None, nrows=1)
        frame = pd.read_excel(book, sheet_name=sheet)
    except Exception as exc:  # noqa: BLE001 - a damaged sheet: openpyxl/xlrd raise many types
        raise NNUsageError(_("Could not read {where} ({error}: {reason}).").format(
            where=where, error=type(exc).__name__, reason=exc)) from None
    if not header.empty:
        check_unique_names([str(v).strip() for v in header.iloc[0] if not pd.isna(v)], where)
    return frame, []


def check_unique_names(names: Sequence[str], where: str) -> None:
    """A UsageError when a column name appears twice (pandas would silently rename the copy ``X1.1``).

    >>> check_unique_names(["X1", "X2", "Y"], "'t.csv'")   # fine: returns None
    """
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        if name:
            seen.setdefault(name, []).append(position)
    for name, positions in seen.items():
        if len(positions) > 1:
            places = ", ".join(str(p) for p in positions)
            raise NNUsageError(
                _("Column name '{name}' appears {n} times in {where} (columns {places}); "
                  "give each column its own name.").format(name=name, n=len(positions), where=where, places=places)
            )


def table_from_frame(frame, *, target: str | None = None, features: Sequence[str] | None = None,
                     batch_size: int = 32, class_mode: str | None = None, name: str | None = None,
                     source: str | None = None) -> TableData:
    """Validate a DataFrame and label-encode its target column into a ``TableData``."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise NNUsageError(_("Expected a pandas DataFrame, got {type}.").format(type=type(frame).__name__))
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    columns = list(frame.columns)
    where = f"'{source}'" if source else _("the DataFrame")
    check_unique_names(columns, where)
    if len(columns) < 2:
        raise NNUsageError(_("{where} needs at least one feature column and one target column (it has {n}).").format(
            where=where[0].upper() + where[1:], n=len(columns)))
    if len(frame) == 0:
        raise NNUsageError(_("{where} has column names ({columns}) but no rows; add the data below the header.").format(
            where=where[0].upper() + where[1:], columns=", ".join(columns[:6])))
    target = target or ("Y" if "Y" in columns else columns[-1])
    _check_columns([target], columns)
    if features is None:
        features = [c for c in columns if c != target]
    else:
        features = [f.strip() for f in features if f.strip()]
        if not features:
            raise NNUsageError(_("--features needs at least one column name, e.g. --features X1,X2."))
        _check_columns(features, columns)
        if target in features:
            raise NNUsageError(_("Column '{column}' is the target; remove it from --features.").format(column=target))
    _check_features(frame, features)
    _check_target(frame, target)

    # LabelEncoder, as the course does: classes sorted, labels 0 … k-1
    from sklearn.preprocessing import LabelEncoder

    encoder = LabelEncoder()
    labels = encoder.fit_transform(frame[target].astype(str) if frame[target].dtype == object else frame[target])
    classes = [str(c) for c in encoder.classes_]
    if len(classes) < 2:
        raise NNUsageError(
            _("Column '{column}' holds a single class ('{name}'); a classifier needs at least two classes.").format(
                column=target, name=classes[0])
        )
    if class_mode is not None and class_mode not in CLASS_MODES:
        raise unknown(_("Unknown class mode '{word}'."), class_mode, CLASS_MODES)
    if class_mode == "binary" and len(classes) != 2:
        raise NNUsageError(_("--class-mode binary needs two classes but '{column}' has {n}; use int or "
                             "categorical.").format(column=target, n=len(classes)))
    if batch_size <= 0:
        raise NNUsageError(_("The batch size must be a positive integer, not {value}.").format(value=batch_size))
    data = TableData(frame, features, target, classes, labels, batch_size=batch_size,
                     class_mode=class_mode or default_class_mode(len(classes)), name=name, source=source)
    if len(classes) > MAX_CLASSES:
        data.notes.append(
            _("Warning: target '{column}' has {n} different values, so it is treated as {n} "
              "classes; nnmagics trains classifiers, not regression: group the values into a few classes or pick "
              "another --target.").format(column=target, n=len(classes))
        )
    return data


def load_table(source, *, sheet: str | None = None, target: str | None = None,
               features: Sequence[str] | str | None = None, batch_size: int = 32,
               class_mode: str | None = None, name: str | None = None) -> TableData:
    """Load a table file (or DataFrame) and label-encode its target.

    Example::

        data4 = load_table("artificial_generator.xlsx", sheet="data4", target="Y", features="X1,X2")
    """
    if isinstance(features, str):
        features = features.split(",")
    notes: list[str] = []
    if isinstance(source, (str, os.PathLike)):
        frame, notes = read_table_notes(source, sheet)
        origin = os.fspath(source) + (f" [{sheet}]" if sheet else "")
    else:
        if sheet is not None:
            raise NNUsageError(_("--sheet applies to Excel files only, not to a DataFrame."))
        frame, origin = source, None
    data = table_from_frame(frame, target=target, features=features, batch_size=batch_size,
                            class_mode=class_mode, name=name, source=origin)
    data.notes[:0] = notes
    return data


def _check_columns(wanted: Sequence[str], columns: Sequence[str]) -> None:
    for column in wanted:
        if column not in columns:
            raise NNUsageError(_("There is no column '{column}'; the columns are: {columns}.").format(
                column=column, columns=", ".join(columns)))


def _check_features(frame, features: Sequence[str]) -> None:
    import pandas as pd

    text = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if text:
        column = text[0]
        if pd.api.types.is_bool_dtype(frame[column]) or pd.api.types.is_datetime64_any_dtype(frame[column]):
            raise NNUsageError(
                _("Feature column '{column}' holds {dtype} values, not numbers; convert it "
                  "(e.g. df['{column}'] = df['{column}'].astype(int)) or leave it out with --features.").format(
                    column=column, dtype=frame[column].dtype)
            )
        values = frame[column]
        bad = frame.index[pd.to_numeric(values, errors="coerce").isna() & values.notna()].tolist()
        rows = _rows(bad)
        example = str(frame[column].loc[bad[0]]) if bad else ""
        if re.fullmatch(r"\s*[+-]?\d*,\d+\s*", example):
            raise NNUsageError(
                _("Feature column '{column}' holds numbers written with a decimal comma (index {rows}: '{example}'); "
                  "write them with a decimal point, or save the file with ';' separators.").format(
                    column=column, rows=rows, example=example)
            )
        raise NNUsageError(
            _("Feature column '{column}' holds text (index {rows}); convert it to numbers or leave it out with "
              "--features.").format(column=column, rows=rows)
        )
    missing = frame[features].isna()
    if missing.any().any():
        column = missing.any()[missing.any()].index[0]
        raise NNUsageError(
            _("Feature column '{column}' has missing values (index {rows}); "
              "fill or drop them first (e.g. df.dropna()).").format(
                column=column, rows=_rows(frame.index[missing[column]].tolist()))
        )
    for column in features:
        _check_finite(frame, column, "Feature", limit=float(np.finfo("float32").max))


def _check_finite(frame, column: str, role: str, limit: float = np.inf) -> None:
    """A UsageError naming the rows where ``column`` holds inf, -inf or a value beyond ±``limit``.

    Features become float32 for Keras: 1e39 would turn into inf there, and inf trains to NaN weights.
    """
    values = frame[column].to_numpy(dtype="float64")
    bad = ~np.isfinite(values) | (np.abs(values) > limit)
    if bad.any():
        first = values[bad][0]
        if role == "Target":
            sentence = _("Target column '{column}' has infinite values (index {rows}: {value}); replace or drop those "
                         "rows first.") if np.isinf(first) else \
                _("Target column '{column}' has values too large for float32 (beyond ±3.4e38) (index {rows}: "
                  "{value}); replace or drop those rows first.")
        else:
            sentence = _("Feature column '{column}' has infinite values (index {rows}: {value}); replace or drop those "
                         "rows first.") if np.isinf(first) else \
                _("Feature column '{column}' has values too large for float32 (beyond ±3.4e38) (index {rows}: "
                  "{value}); replace or drop those rows first.")
        raise NNUsageError(sentence.format(column=column, rows=_rows(frame.index[bad].tolist()), value=num(first, "g")))


def _check_target(frame, target: str) -> None:
    import pandas as pd

    missing = frame[target].isna()
    if missing.any():
        raise NNUsageError(
            _("Target column '{column}' has missing values (index {rows}); "
              "drop those rows first (e.g. df.dropna(subset=['{column}'])).").format(
                column=target, rows=_rows(frame.index[missing].tolist()))
        )
    if pd.api.types.is_numeric_dtype(frame[target]) and not pd.api.types.is_bool_dtype(frame[target]):
        _check_finite(frame, target, "Target")


def _rows(index: list) -> str:
    """DataFrame index labels of the offending rows (the first five, then a count)."""
    shown = ", ".join(str(i) for i in index[:5])
    return shown + (_(" and {n} more").format(n=len(index) - 5) if len(index) > 5 else "")
