"""Datasets: tables and image folders, behind one ``load_data`` entry point."""
from __future__ import annotations

import os
from typing import Any

from ..errors import NNUsageError
from ..i18n import _
from .tables import TABLE_SUFFIXES


def source_kind(source: Any) -> str:
    """'table' for a DataFrame or a table file, 'images' for a folder or a .zip, else a UsageError."""
    if type(source).__name__ == "DataFrame":
        return "table"
    if not isinstance(source, (str, os.PathLike)):
        raise NNUsageError(
            _("Cannot load a {type}; give a .xlsx/.csv file, a DataFrame, an image folder or a .zip.").format(
                type=type(source).__name__)
        )
    path = os.path.expanduser(os.fspath(source))
    suffix = os.path.splitext(path)[1].lower()
    if not os.path.exists(path):
        raise NNUsageError(_("File or folder '{path}' not found; check the path (the notebook runs in {cwd}).").format(
            path=path, cwd=os.getcwd()))
    if os.path.isdir(path) or suffix == ".zip":
        return "images"
    if suffix in TABLE_SUFFIXES:
        return "table"
    raise NNUsageError(_("'{path}' is neither a table (.xlsx, .xls, .csv), an image folder nor a .zip.").format(
        path=path))


def load_data(source: Any, *, sheet: str | None = None, target: str | None = None,
              features: Any = None, image_size: Any = None, batch_size: int | None = None,
              class_mode: str | None = None, name: str | None = None, rescale: Any = None):
    """Load a table (file or DataFrame) or an image folder/zip into a dataset object.

    ``rescale`` (images only) multiplies the pixels, as ``ImageDataGenerator(rescale=1./255)``.

    Example::

        data4 = load_data("artificial_generator.xlsx", sheet="data4")
        train = load_data("cats_and_dogs_filtered", image_size=150, batch_size=20)
    """
    kind = source_kind(source)
    if kind == "table":
        if image_size is not None:
            raise NNUsageError(_("--image-size applies to image folders, not to tables."))
        if rescale is not None:
            raise NNUsageError(_("--rescale applies to image folders, not to tables; scale table columns in pandas."))
        from ..config import settings
        from .tables import load_table

        batch_size = settings().batch_size if batch_size is None else batch_size   # %config NNMagics.batch_size
        return load_table(source, sheet=sheet, target=target, features=features,
                          batch_size=batch_size, class_mode=class_mode, name=name)
    for option, value in (("--sheet", sheet), ("--target", target), ("--features", features)):
        if value is not None:
            raise NNUsageError(_("{option} applies to tables, not to image folders (classes come from sub-folder "
                                 "names).").format(option=option))
    from .image_args import DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE
    from .images import load_images

    return load_images(source, image_size=DEFAULT_IMAGE_SIZE if image_size is None else image_size,
                       batch_size=DEFAULT_BATCH_SIZE if batch_size is None else batch_size, class_mode=class_mode,
                       name=name, rescale=rescale)


def data_code(data) -> str:
    """Plain pandas/Keras code that loads the same data (what ``%nn_data --code`` prints)."""
    if data.kind == "table":
        source = (data.source or "df").split(" [")[0]
        sheet = data.source.split(" [")[1].rstrip("]") if data.source and " [" in data.source else None
        if data.source is None:
            read = "df = df.copy()  # " + _("your DataFrame")
        elif source.endswith(".csv"):
            read = f"df = pd.read_csv({source!r})"
        else:
            read = f"df = pd.read_excel({source!r}" + (f", sheet_name={sheet!r})" if sheet else ")")
        return "\n".join([
            "import pandas as pd",
            "from sklearn.preprocessing import LabelEncoder",
            "",
            read,
            "le = LabelEncoder()",
            f"y = le.fit_transform(df[{data.target!r}])  # "
            + _("classes: {names}").format(names=list(data.class_names)),
            f"X = df[{data.features!r}].to_numpy('float32')",
        ]) + "\n"
    h, w = data.image_size
    mode = {"binary": "binary", "categorical": "categorical", "int": "int"}[data.class_mode]
    from ..runtime.backend import uses_tf

    if not uses_tf():   # JAX, PyTorch: numpy arrays (keras.utils.image_dataset_from_directory needs TensorFlow)
        from .decode import load_folder_code

        scale = f" * {data.rescale!r}  # " + _("rescale, as ImageDataGenerator's") \
            if getattr(data, "rescale", None) else \
            "  # " + _("pixels stay 0-255: the model rescales them itself (layers.Rescaling(1/255))")
        labels = {"binary": "labels.astype('float32')", "int": "labels.astype('int32')",
                  "categorical": f"keras.utils.to_categorical(labels, {data.num_classes})"}[mode]
        return "\n".join(["import keras", "import os", "import numpy as np", "", load_folder_code().rstrip(), "",
                          f"x, labels = load_folder({data.root!r}, {list(data.class_names)!r}, ({h}, {w}))",
                          f"x = x.astype('float32'){scale}", f"y = {labels}",
                          f"# model.fit(x, y, batch_size={data.batch_size}, shuffle=True, ...)"]) + "\n"
    return "\n".join([
        "import keras",
        "",
        "train = keras.utils.image_dataset_from_directory(",
        f"    {data.root!r},",
        f"    image_size=({h}, {w}), batch_size={data.batch_size}, label_mode={mode!r})",
        f"train = train.map(lambda x, y: (x * {data.rescale!r}, y))  # " + _("rescale, as ImageDataGenerator's")
        if getattr(data, "rescale", None) else
        "# " + _("pixels stay 0-255: the model rescales them itself (layers.Rescaling(1/255))"),
    ]) + "\n"
