"""Values and data as code, for ``--code``: literals, Keras calls, and a dataset loaded again in plain code.

Shared by ``training.code`` (``%nn_train --code``) and ``diagnosis.code`` (``%nn_diagnose --code``):
a ``DataRecipe`` is what a ``%nn_data`` dataset was loaded from (its own checked attributes), and
``table_read_lines``/``images_lines`` write it as pandas/scikit-learn or ``tf.data``. Values are
written with ``repr`` (``literal``), never pasted as text.

Images: ``keras.utils.image_dataset_from_directory(..., batch_size=None, shuffle=False)`` decodes and
resizes as nnmagics does (TensorFlow bilinear, no antialiasing); ``tf.round`` then gives the whole
grey levels nnmagics caches (uint8). The course's ``ImageDataGenerator.flow_from_directory`` resizes
with PIL's nearest neighbour: other pixels, so it is not what is printed.

Example::

    >>> literal(0.0010000000474974513)
    '0.001'
"""
from __future__ import annotations

import keyword
import math
import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.csv_format import ReadAsNote
from ..i18n import N_, _, ngettext

KerasCall = tuple  # ("keras.optimizers.RMSprop", {"learning_rate": 0.001}): a call, as data


# ----------------------------------------------------------------------------- literals and calls
def literal(value: Any) -> str:
    """A checked value as Python source (``repr``; float32 values at their shortest).

    Example::

        >>> literal(np.float32(0.001)), literal(("a", 2)), literal(True)
        ('0.001', "('a', 2)", 'True')
    """
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, np.floating) and value.dtype == np.float32:
        return np.format_float_positional(value, unique=True, trim="-")
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isfinite(value) and float(np.float32(value)) == value:   # a float32 value read back as float64
            return literal(np.float32(value))
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, str) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for {type(value).__name__}")  # internal: callers catch it (keras_call skips the value)


def call_code(call: KerasCall) -> str:
    """``("keras.callbacks.EarlyStopping", {"patience": 3})`` → ``keras.callbacks.EarlyStopping(patience=3)``."""
    path, kwargs = call
    return f"{path}(" + ", ".join(f"{k}={literal(v)}" for k, v in kwargs.items()) + ")"


def keras_call(obj: Any, module: str, always: tuple[str, ...] = ()) -> KerasCall | str:
    """A Keras object (optimizer, loss, metric) as the call that makes it: its class and the config values
    that differ from the class defaults (``always`` kept); a name stays a name.

    Example::

        keras_call(keras.optimizers.Adam(0.01), "optimizers", always=("learning_rate",))
        # ('keras.optimizers.Adam', {'learning_rate': 0.01})
    """
    if isinstance(obj, str):
        return obj
    import keras

    public = getattr(keras, module)
    # the public class (PyTorch's optimizers are backend subclasses of it: TorchAdam is a keras.optimizers.Adam)
    cls = next((c for c in type(obj).__mro__ if getattr(public, c.__name__, None) is c), None)
    if cls is None:
        return f"<{type(obj).__name__}>"   # not a Keras class: named in a comment by the renderer
    config = obj.get_config()
    try:
        default = cls().get_config()
    except Exception:  # noqa: BLE001 - a class that needs arguments: keep its whole config
        default = {}
    kwargs = {}
    for key, value in config.items():
        if key in ("name", "dtype") or (key not in always and default.get(key, object()) == value):
            continue
        try:
            literal(value)
        except TypeError:
            continue   # a schedule or a nested object: left at its default
        kwargs[key] = value
    return (f"keras.{module}.{cls.__name__}", kwargs)


# ----------------------------------------------------------------------------- the data, as data
@dataclass(frozen=True)
class DataRecipe:
    """How a dataset was loaded: enough to load it again with pandas or ``tf.data``."""

    kind: str                       # 'table' | 'images'
    class_names: tuple
    class_mode: str
    batch_size: int
    size: int                       # number of samples
    source: str | None = None       # tables: the file ('path' or 'path [sheet]'); None for a DataFrame
    csv_read_as: bool = False       # %nn_data noted how it read a CSV that is not plain (detected again when printed)
    target: str | None = None
    features: tuple = ()
    text_target: bool = False
    root: str | None = None         # images: the folder of class sub-folders
    image_size: tuple = ()
    skipped: int = 0


def data_recipe(data) -> DataRecipe:
    """The ``DataRecipe`` of a ``%nn_data`` dataset (its own checked attributes).

    Example::

        data_recipe(data4).features        # ('X1', 'X2')
    """
    common = dict(class_names=tuple(str(c) for c in data.class_names), class_mode=data.class_mode,
                  batch_size=int(data.batch_size), size=len(data))
    if data.kind == "table":
        frame = data.frame
        csv = bool(data.source and data.source.lower().endswith(".csv")
                   and any(isinstance(n, ReadAsNote) for n in getattr(data, "notes", None) or ()))
        return DataRecipe("table", source=data.source, csv_read_as=csv, target=data.target, features=tuple(data.features),
                          text_target=frame[data.target].dtype == object, **common)
    return DataRecipe("images", root=os.path.abspath(data.root), image_size=tuple(int(s) for s in data.image_size),
                      skipped=len(getattr(data, "skipped", []) or []), **common)


# ----------------------------------------------------------------------------- the data, as code
def shown_name(name: Any) -> str:
    """A notebook name as comments show it: as typed when it is a plain name (``cats``, ``cats.validation``,
    ``val[0]``), else its ``repr`` (never text that could end the comment line).

    Example::

        >>> shown_name("cats_val"), shown_name("my data")
        ('cats_val', "'my data'")
    """
    text = str(name)
    return text if re.fullmatch(r"[\w.\[\]]+", text) else repr(text)


def variable(name: str | None, default: str) -> str:
    """A notebook name usable as a Python variable, else ``default``."""
    return name if name and name.isidentifier() and not keyword.iskeyword(name) else default


def encode_code(labels: str, mode: str, k: int) -> str:
    """The code that encodes integer labels for ``mode`` (what ``Dataset.targets`` does)."""
    if mode == "binary":
        return f"{labels}.astype('float32')"
    if mode == "categorical":
        return f"keras.utils.to_categorical({labels}, {k})"
    return f"{labels}.astype('int32')"


def _csv_arguments(path: str) -> str:
    """``, sep=';', decimal=',', encoding='cp1252'``: how ``%nn_data`` reads this CSV (detected as it does)."""
    from ..data.csv_format import read_csv

    fmt = read_csv(path)[1]
    if fmt.is_default:
        return ""
    return f", sep={literal(fmt.sep)}, decimal={literal(fmt.decimal)}, encoding={literal(fmt.encoding)}"


def table_read_lines(recipe: DataRecipe, df: str = "df", x: str = "X", labels: str = "labels") -> list[str]:
    """``df = pd.read_excel(...)``, the features and the label-encoded target, as ``%nn_data`` made them."""
    source = recipe.source
    if source is None:
        read = [f"{df} = ...  # " + _("your DataFrame")]
    else:
        path, _sep, sheet = source.partition(" [")
        if path.lower().endswith(".csv"):
            read = [f"{df} = pd.read_csv({literal(path)}{_csv_arguments(path) if recipe.csv_read_as else ''})"]
        else:
            sheet = f", sheet_name={literal(sheet[:-1])}" if sheet else ""
            read = [f"{df} = pd.read_excel({literal(path)}{sheet})"]
    target = f"{df}[{literal(recipe.target)}]" + (".astype(str)" if recipe.text_target else "")
    return read + [
        f"{x} = {df}[{literal(list(recipe.features))}].to_numpy('float32')",
        f"{labels} = LabelEncoder().fit_transform({target})  # {literal(list(recipe.class_names))} → 0 … "
        f"{len(recipe.class_names) - 1}",
    ]


def images_lines(recipe: DataRecipe, var: str, label_mode: str, then: list[str] = (), cache: bool = True) -> list[str]:
    """An image folder as nnmagics serves it: unbatched, fixed order, whole grey levels, cached
    (``then``: lines that need the loaded dataset's ``file_paths``, before the map drops them;
    ``cache=False`` for a program that reads only a few of the images)."""
    h, w = recipe.image_size
    binary = label_mode == "binary"   # labels 0./1., one number per image (Keras' 'binary' gives shape (1,))
    lines = [
        f"{var} = keras.utils.image_dataset_from_directory(",
        f"    {literal(recipe.root)}, label_mode={literal('int' if binary else label_mode)}, "
        f"class_names={literal(list(recipe.class_names))},",
        f"    image_size=({h}, {w}), batch_size=None, shuffle=False)",
        *then,
        f"{var} = {var}.map(lambda x, y: (tf.round(x), {'tf.cast(y, tf.float32)' if binary else 'y'})){'.cache()' if cache else ''}"
        "  # " + (_("whole grey levels, as nnmagics caches them; labels 0./1.") if binary else
                  _("whole grey levels, as nnmagics caches them")),
    ]
    if recipe.skipped:
        lines.append(_skipped_note(recipe.skipped))
    return lines


def folder_arrays_lines(recipe: DataRecipe, x: str, labels: str) -> list[str]:
    """An image folder as numpy arrays, for the JAX and PyTorch backends (no ``tf.data``): ``x`` uint8
    ``(n, h, w, 3)`` and integer ``labels``, files in nnmagics' order (class, then file name)."""
    h, w = recipe.image_size
    lines = [f"{x}, {labels} = load_folder({literal(recipe.root)}, {literal(list(recipe.class_names))}, ({h}, {w}))"]
    if recipe.skipped:
        lines.append(_skipped_note(recipe.skipped))
    return lines


def _skipped_note(n: int) -> str:
    return "# " + ngettext("note: %nn_data left out {n} unreadable file(s) of this folder; remove them first",
                           "note: %nn_data left out {n} unreadable file(s) of this folder; remove them first",
                           n).format(n=n)


# ----------------------------------------------------------------------------- the split and the arrays, as code
def split_lines(recipe, rows: str) -> list[str]:
    """``--val-split``'s rows as ``train_test_split`` holds them out (stratified when the split was), both sorted."""
    stratify = ", stratify=labels" if recipe.stratified else ""
    return ["# " + _("{option}: stratified by class; the same seed holds out the same samples").format(
                option=f"--val-split {literal(recipe.val_split)}"),
            f"train_rows, val_rows = train_test_split(np.arange({rows}), test_size={literal(recipe.val_split)}, "
            f"random_state={recipe.split_seed}{stratify})",
            "train_rows.sort(); val_rows.sort()  # " + _("both parts keep the order of the data")]


def val_part(recipe, labels: str, rows: str | None = None) -> list[str]:
    """--validation-steps on part of the set: the fixed, stratified part nnmagics validates (``val_subset``)."""
    from .val_subset import order_source

    chosen = f"np.sort(representative_rows({labels}, {recipe.split_seed})[:{recipe.val_take}])"
    return ["# " + ngettext("--validation-steps {steps}: the same {n} validation sample every epoch, every class in "
                            "proportion (the first batches of a folder would hold one class)",
                            "--validation-steps {steps}: the same {n} validation samples every epoch, every class in "
                            "proportion (the first batches of a folder would hold one class)",
                            recipe.val_take).format(steps=recipe.validation_steps, n=recipe.val_take),
            *order_source().splitlines(), f"{rows} = {rows}[{chosen}]" if rows else f"val_rows = {chosen}"]


def split_arrays(recipe, x: str) -> list[str]:
    """``--val-split`` on arrays ``x`` and ``labels``: the rows held out, then ``{x}_train``/``{x}_val`` and their targets."""
    mode, k = recipe.class_mode, len(recipe.data.class_names)
    lines = split_lines(recipe, "len(labels)")
    if recipe.val_take:
        lines += val_part(recipe, "labels[val_rows]", "val_rows")
    return lines + [f"{x}_train, y_train = {x}[train_rows], {encode_code('labels[train_rows]', mode, k)}",
                    f"{x}_val, y_val = {x}[val_rows], {encode_code('labels[val_rows]', mode, k)}"]


def image_arrays(recipe) -> tuple[list[str], str, str | None]:
    """Image lines without ``tf.data`` (JAX, PyTorch): numpy arrays → (lines, fit's data arguments, validation_data)."""
    mode, k = recipe.class_mode, len(recipe.data.class_names)
    lines = folder_arrays_lines(recipe.data, "x", "labels")
    val = None
    if recipe.val_split is not None:
        lines += split_arrays(recipe, "x")
        val = "(x_val, y_val)"
    else:
        lines += [f"x_train, y_train = x, {encode_code('labels', mode, k)}"]
        if recipe.val is not None:
            lines += ["", "# " + _("the validation images ({name})").format(name=shown_name(recipe.val_name))]
            lines += folder_arrays_lines(recipe.val, "x_val", "val_labels")
            if recipe.val_take:
                lines += val_part(recipe, "val_labels") + ["x_val, val_labels = x_val[val_rows], val_labels[val_rows]"]
            lines += [f"y_val = {encode_code('val_labels', mode, k)}"]
            val = "(x_val, y_val)"
    if recipe.pixels != "uint8":
        lines += ["x_train = x_train.astype('float32')"] + (["x_val = x_val.astype('float32')"] if val else [])
    if recipe.steps_per_epoch is None:
        return lines, f"x_train, y_train, batch_size={recipe.batch_size}, shuffle=True", val
    lines += [f"train = endless(x_train, y_train, {recipe.batch_size}, {literal(recipe.seed)})"]
    return lines, "train", val


from ..data.decode import LOAD_FOLDER, load_folder_code  # noqa: E402 - the helper folder_arrays_lines calls (printed once)

# a fixed number of steps per epoch without tf.data: an endless generator (printed once, before the fit)
ENDLESS = """\
def endless(x, y, batch_size, seed):
    # shuffled again after every pass over the data, as nnmagics repeats it
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(len(x))
        for i in range(0, len(x), batch_size):
            yield x[order[i:i + batch_size]], y[order[i:i + batch_size]]
"""


ENDLESS_COMMENT = N_("shuffled again after every pass over the data, as nnmagics repeats it")


def endless_source() -> str:
    """``ENDLESS`` as ``--code`` prints it: its comment in the language in use."""

    return ENDLESS.replace(ENDLESS_COMMENT, _(ENDLESS_COMMENT))


__all__ = ["KerasCall", "endless_source", "folder_arrays_lines", "split_lines", "val_part", "split_arrays", "image_arrays", "LOAD_FOLDER", "load_folder_code", "ENDLESS", "shown_name", "literal", "call_code", "keras_call", "DataRecipe", "data_recipe", "variable", "encode_code",
           "table_read_lines", "images_lines"]
