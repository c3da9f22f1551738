"""Which data trains and which validates: ``--val DATA``, ``--val-split F``, or the dataset's own validation set.

Example::

    train_part, val_part = resolve_validation(data4, val_split=0.2, seed=0, data_name="data4")
"""
from __future__ import annotations

from ..errors import NNUsageError
from ..i18n import _
from .options import check_validation


def resolve_validation(data, val=None, val_split: float | None = None, seed: int | None = None, *,
                       data_name: str = "data", val_name: str = "val"):
    """(training data, validation data or None) from ``val``, ``val_split`` or ``data.validation``.

    ``val_split`` holds out that fraction of ``data``, stratified by class (``data.split``); the
    same ``seed`` gives the same split.

    Example::

        train_part, val_part = resolve_validation(cats, data_name="cats")     # cats.validation
    """
    if val is not None and val_split is not None:
        raise NNUsageError(_("Give either --val DATA or --val-split FRACTION, not both."))
    if val_split is not None:
        return data.split(val_split, seed=0 if seed is None else seed)
    if val is None:
        val = getattr(data, "validation", None)
        val_name = f"{data_name}.validation"
    if val is not None:
        check_validation(data, val, data_name, val_name)
    return data, val
