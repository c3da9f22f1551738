"""Read CSV files as they come: any of ``,`` ``;`` tab ``|`` separators, decimal commas, UTF-8/cp1252/latin-1.

French Excel exports ``;``-separated files with decimal commas in cp1252; other tools write tabs or
UTF-16. ``read_csv`` finds the encoding (strict decodes, in order), the separator (``csv.Sniffer``)
and the decimal mark (pandas reads again with ``decimal=','`` when number columns came out as text
like ``1,5``), and says in one line what it found when it is not plain UTF-8 with ``,`` and ``.``::

    frame, fmt, header = read_csv("notes.csv")
    fmt.describe()      # "Read as CSV with ';' separator, ',' decimals, cp1252 encoding."
    fmt.is_default      # False
"""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

from ..errors import NNUsageError
from ..i18n import _

SEPARATORS = ",;\t|"
SAMPLE_BYTES = 1 << 20     # encoding and separator are judged on the first MiB
SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}   # English; shown through separator_name


def separator_name(sep: str) -> str:
    """``';'`` as the sentences write it; the tab in the language in use (``tab``, ``tabulation``)."""
    return _("tab") if sep == "\t" else SEPARATOR_NAMES.get(sep, repr(sep))
NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was read: ``sep``, ``decimal`` and ``encoding``."""

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"

    @property
    def is_default(self) -> bool:
        """True for plain UTF-8 with ``,`` separators and ``.`` decimals (nothing worth saying)."""
        return self.sep == "," and self.decimal == "." and self.encoding in ("utf-8", "utf-8-sig")

    def describe(self) -> "ReadAsNote":
        """One line for the notebook: ``Read as CSV with ';' separator, ',' decimals, cp1252 encoding.``"""
        sep = separator_name(self.sep)
        encoding = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16"}.get(self.encoding, self.encoding)
        return ReadAsNote(_("Read as CSV with {sep} separator, '{decimal}' decimals, {encoding} encoding.").format(
            sep=sep, decimal=self.decimal, encoding=encoding))


class ReadAsNote(str):
    """The note saying how a CSV was read: a plain ``str`` to show, in any language, that ``--code`` can
    recognise (it then prints ``read_csv``'s ``sep``/``decimal``/``encoding``)."""


def detect_encoding(raw: bytes) -> str:
    """The first of UTF-8 (BOM or not), UTF-16 (BOM), cp1252 and latin-1 that decodes ``raw`` strictly.

    ``raw`` may be cut anywhere (a sample): a character split at the end is not an error.

    >>> detect_encoding("é;1".encode("cp1252"))
    'cp1252'
    """
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(raw, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"   # decodes any byte


def detect_separator(text: str) -> str:
    """The separator ``csv.Sniffer`` finds among ``, ; tab |`` in ``text`` (a sample), else ``,``.

    >>> detect_separator("X1;X2;Y\\n1,5;2,0;a\\n")
    ';'
    """
    lines = text.splitlines()[:50]
    if len(lines) > 1 and len(text) >= SAMPLE_BYTES // 2:
        lines = lines[:-1]          # the sample may end mid-line
    try:
        return csv.Sniffer().sniff("\n".join(lines) + "\n", delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def header_names(text: str, sep: str) -> list[str]:
    """The column names of the first line of ``text`` as written (before pandas renames duplicates).

    >>> header_names("a;b;a\\n1;2;3\\n", ";")
    ['a', 'b', 'a']
    """
    first = next(csv.reader(text.splitlines()[:1], delimiter=sep), [])
    return [name.strip() for name in first]


def read_csv(path: str):
    """Read ``path`` into a DataFrame, detecting encoding, separator and decimal mark.

    Returns ``(frame, CsvFormat, header)``, ``header`` being the column names as written (pandas
    renames duplicates ``X1.1``); a file pandas cannot parse, or an empty one, is one
    ``NNUsageError`` naming the separator and what to check.

    Example::

        frame, fmt, header = read_csv("data_fr.csv")    # X1;X2;Y / 1,5;2,25;chat in cp1252
        frame.X1.dtype, fmt.describe()          # float64, "Read as CSV with ';' separator, ',' decimals, cp1252 encoding."
    """
    import pandas as pd

    try:
        with open(path, "rb") as handle:
            raw = handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise NNUsageError(_("Cannot read '{path}' ({reason}); check the file and its permissions.").format(
            path=path, reason=exc.strerror or exc)) from None
    if not raw.strip():
        raise NNUsageError(_("'{path}' is empty; a table needs a header line and rows of values.").format(path=path))
    encoding = detect_encoding(raw)
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw, final=False)
    sample = sample.lstrip("\ufeff")
    sep = detect_separator(sample)
    fmt = CsvFormat(sep=sep, encoding=encoding)

    def parse(decimal: str):
        return pd.read_csv(path, sep=sep, decimal=decimal, encoding=encoding)

    try:
        frame = parse(".")
        if sep != "," and _has_decimal_commas(frame):
            frame, fmt = parse(","), CsvFormat(sep=sep, decimal=",", encoding=encoding)
    except pd.errors.EmptyDataError:
        raise NNUsageError(_("'{path}' is empty; a table needs a header line and rows of values.").format(
            path=path)) from None
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise NNUsageError(
            _("Could not read '{path}' as CSV with {sep} separators ({reason}); check that every row has as many "
              "values as the header and that values containing the separator are quoted.").format(
                path=path, sep=separator_name(sep), reason=reason)
        ) from None
    if frame.shape[1] == 1 and len(frame.columns[0]) > 1:
        raise NNUsageError(
            _("'{path}' reads as a single column '{column}'; separate the values with ',', ';' or tabs "
              "(one feature column and one target column at least).").format(path=path, column=frame.columns[0])
        )
    return frame, fmt, header_names(sample, sep)


def _has_decimal_commas(frame) -> bool:
    """True when a text column holds only numbers, some written with a decimal comma (``1,5``, ``2``)."""
    from pandas.api.types import is_numeric_dtype

    for column in frame.columns:
        values = frame[column].dropna()
        if not is_numeric_dtype(frame[column]) and len(values):
            text = values.astype(str)
            if text.str.contains(",", regex=False).any() and text.str.replace(",", ".", regex=False).str.match(NUMBER).all():
                return True
    return False
