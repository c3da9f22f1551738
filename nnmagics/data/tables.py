"""Tables (.xlsx/.xls/.csv files or DataFrames) → features and label-encoded targets."""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..errors import NNUsageError, did_you_mean
from .base import CLASS_MODES, Dataset, default_class_mode, encode_labels

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")


class TableData(Dataset):
    """Features ``X`` and integer labels ``y`` of a table, with the label mapping kept.

    Example::

        data = load_table("artificial_generator.xlsx", sheet="data4")
        data.X.shape, data.y[:5], data.mapping      # ((300, 2), array([2, 0, ...]), {'inner': 0, ...})
    """

    kind = "table"

    def __init__(self, frame, features: Sequence[str], target: str, classes: Sequence[str],
                 labels: np.ndarray, *, batch_size: int = 32, class_mode: str | None = None,
                 name: str | None = None, source: str | None = None):
        self.frame = frame
        self.features = list(features)
        self.target = target
        self.classes = [str(c) for c in classes]
        self.labels = np.asarray(labels, dtype="int64")
        self.X = frame[self.features].to_numpy(dtype="float32")
        self.batch_size = int(batch_size)
        self.class_mode = class_mode or ("binary" if len(self.classes) == 2 else "int")
        self.name = name
        self.source = source
        self.files = None

    @property
    def y(self) -> np.ndarray:
        """The encoded labels (0 … k-1), as the course's ``LabelEncoder`` gives them."""
        return self.labels

    @property
    def mapping(self) -> dict[str, int]:
        """Class name → encoded label."""
        return {c: i for i, c in enumerate(self.classes)}

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

    def subset(self, index: np.ndarray, name: str | None = None) -> "TableData":
        """The rows at ``index`` as a new TableData with the same classes."""
        frame = self.frame.iloc[np.asarray(index)].reset_index(drop=True)
        return TableData(frame, self.features, self.target, self.classes, self.labels[index],
                         batch_size=self.batch_size, class_mode=self.class_mode, name=name,
                         source=self.source)

    def split(self, fraction: float, seed: int | None = 0) -> tuple["TableData", "TableData"]:
        """(train, validation) with ``fraction`` of the rows in validation, stratified by class."""
        from sklearn.model_selection import train_test_split

        if not 0 < fraction < 1:
            raise NNUsageError(f"The validation fraction must be between 0 and 1 (exclusive), not {fraction}.")
        index = np.arange(len(self))
        stratify = self.labels if min(self.class_counts().values()) >= 2 else None
        train_idx, val_idx = train_test_split(index, test_size=fraction, random_state=seed, stratify=stratify)
        return self.subset(np.sort(train_idx)), self.subset(np.sort(val_idx))

    def __repr__(self) -> str:
        label = f" '{self.name}'" if self.name else ""
        mapping = ", ".join(f"{c}→{i}" for c, i in self.mapping.items())
        return (f"TableData{label}: {len(self):,} rows × {len(self.features)} features "
                f"({', '.join(self.features)}) → {self.target} in {self.num_classes} classes "
                f"({self._describe_counts()}); labels encoded {mapping}")

    def _repr_html_(self) -> str:
        import html

        counts = "".join(
            f"<tr><td>{html.escape(c)}</td><td>{i}</td><td>{n:,}</td></tr>"
            for (c, n), i in zip(self.class_counts().items(), range(self.num_classes))
        )
        head = self.frame.head(5).to_html(index=False)
        label = html.escape(self.name or "table")
        return (f"<b>{label}</b>: {len(self):,} rows, features {html.escape(', '.join(self.features))}, "
                f"target <code>{html.escape(self.target)}</code> label-encoded"
                f"<table><tr><th>class</th><th>label</th><th>rows</th></tr>{counts}</table>{head}")


def read_table(path: str, sheet: str | None = None):
    """Read a .xlsx/.xls/.csv file into a DataFrame, with clear errors for a missing file or sheet."""
    import pandas as pd

    path = os.fspath(path)
    if not os.path.exists(path):
        raise NNUsageError(f"File '{path}' not found; check the path (the notebook runs in {os.getcwd()}).")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in TABLE_SUFFIXES:
        raise NNUsageError(f"'{path}' is not a table file; use a .xlsx, .xls or .csv file, a DataFrame or an image folder.")
    if suffix == ".csv":
        if sheet is not None:
            raise NNUsageError(f"--sheet applies to Excel files only; '{path}' is a CSV file.")
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise NNUsageError(f"Could not read '{path}' as CSV ({str(exc).splitlines()[0]}).") from None
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # corrupt or non-Excel content: openpyxl/xlrd raise many types
        raise NNUsageError(f"Could not open '{path}' as an Excel file ({type(exc).__name__}: {exc}).") from None
    sheets = [str(s) for s in book.sheet_names]
    if sheet is None:
        sheet = sheets[0]
    elif sheet not in sheets:
        raise NNUsageError(f"'{path}' has no sheet '{sheet}'; its sheets are: {', '.join(sheets)}.")
    return pd.read_excel(book, sheet_name=sheet)


def table_from_frame(frame, *, target: str | None = None, features: Sequence[str] | None = None,
                     batch_size: int = 32, class_mode: str | None = None, name: str | None = None,
                     source: str | None = None) -> TableData:
    """Validate a DataFrame and label-encode its target column into a ``TableData``."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise NNUsageError(f"Expected a pandas DataFrame, got {type(frame).__name__}.")
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    columns = list(frame.columns)
    if len(columns) < 2:
        raise NNUsageError("The table needs at least one feature column and one target column.")
    target = target or ("Y" if "Y" in columns else columns[-1])
    _check_columns([target], columns)
    if features is None:
        features = [c for c in columns if c != target]
    else:
        features = [f.strip() for f in features if f.strip()]
        _check_columns(features, columns)
        if target in features:
            raise NNUsageError(f"Column '{target}' is the target; remove it from --features.")
    _check_features(frame, features)
    _check_target(frame, target)

    # LabelEncoder, as the course does: classes sorted, labels 0 … k-1
    from sklearn.preprocessing import LabelEncoder

    encoder = LabelEncoder()
    labels = encoder.fit_transform(frame[target].astype(str) if frame[target].dtype == object else frame[target])
    classes = [str(c) for c in encoder.classes_]
    if len(classes) < 2:
        raise NNUsageError(
            f"Column '{target}' holds a single class ('{classes[0]}'); a classifier needs at least two classes."
        )
    if class_mode is not None and class_mode not in CLASS_MODES:
        raise NNUsageError(f"Unknown class mode '{class_mode}'." + did_you_mean(class_mode, CLASS_MODES))
    if class_mode == "binary" and len(classes) != 2:
        raise NNUsageError(f"--class-mode binary needs two classes but '{target}' has {len(classes)}; use int or categorical.")
    if batch_size <= 0:
        raise NNUsageError(f"The batch size must be a positive integer, not {batch_size}.")
    return TableData(frame, features, target, classes, labels, batch_size=batch_size,
                     class_mode=class_mode or default_class_mode(len(classes)), name=name, source=source)


def load_table(source, *, sheet: str | None = None, target: str | None = None,
               features: Sequence[str] | str | None = None, batch_size: int = 32,
               class_mode: str | None = None, name: str | None = None) -> TableData:
    """Load a table file (or DataFrame) and label-encode its target.

    Example::

        data4 = load_table("artificial_generator.xlsx", sheet="data4", target="Y", features="X1,X2")
    """
    if isinstance(features, str):
        features = features.split(",")
    if isinstance(source, (str, os.PathLike)):
        frame = read_table(source, sheet)
        origin = os.fspath(source) + (f" [{sheet}]" if sheet else "")
    else:
        if sheet is not None:
            raise NNUsageError("--sheet applies to Excel files only, not to a DataFrame.")
        frame, origin = source, None
    return table_from_frame(frame, target=target, features=features, batch_size=batch_size,
                            class_mode=class_mode, name=name, source=origin)


def _check_columns(wanted: Sequence[str], columns: Sequence[str]) -> None:
    for column in wanted:
        if column not in columns:
            raise NNUsageError(f"There is no column '{column}'; the columns are: {', '.join(columns)}.")


def _check_features(frame, features: Sequence[str]) -> None:
    import pandas as pd

    text = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if text:
        column = text[0]
        bad = frame.index[pd.to_numeric(frame[column], errors="coerce").isna()].tolist()
        rows = _rows(bad)
        raise NNUsageError(
            f"Feature column '{column}' holds text (index {rows}); convert it to numbers or leave it out with --features."
        )
    missing = frame[features].isna()
    if missing.any().any():
        column = missing.any()[missing.any()].index[0]
        raise NNUsageError(
            f"Feature column '{column}' has missing values (index {_rows(frame.index[missing[column]].tolist())}); "
            "fill or drop them first (e.g. df.dropna())."
        )


def _check_target(frame, target: str) -> None:
    missing = frame[target].isna()
    if missing.any():
        raise NNUsageError(
            f"Target column '{target}' has missing values (index {_rows(frame.index[missing].tolist())}); "
            "drop those rows first (e.g. df.dropna(subset=['" + target + "']))."
        )


def _rows(index: list) -> str:
    """DataFrame index labels of the offending rows (the first five, then a count)."""
    shown = ", ".join(str(i) for i in index[:5])
    return shown + (f" and {len(index) - 5} more" if len(index) > 5 else "")
