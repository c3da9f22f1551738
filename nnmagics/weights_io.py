"""Save and load model weights safely (atomic writes, clear errors on a mismatch)."""
from __future__ import annotations

import os
import tempfile
import warnings

from .errors import NNUsageError

SUFFIX = ".weights.h5"


def weights_path(path: str) -> str:
    """Keras 3 wants ``.weights.h5``: add it when the user wrote ``model`` or ``model.h5``."""
    path = os.path.expanduser(os.fspath(path))
    if path.endswith(SUFFIX):
        return path
    if path.endswith(".h5"):
        return path[:-3] + SUFFIX
    return path + SUFFIX


def atomic_save(save, path: str) -> str:
    """Call ``save(tmp_path)`` then rename over ``path``: an interrupted save keeps the old file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".nnmagics-", suffix=SUFFIX, dir=folder)
    os.close(fd)
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def save_weights(model, path: str) -> str:
    """Save the weights to ``path`` (``.weights.h5`` added if missing), atomically; returns the path.

    Example::

        save_weights(model, "course_dense")   # → course_dense.weights.h5
    """
    path = weights_path(path)
    return atomic_save(model.save_weights, path)


def load_weights(model, path: str) -> str:
    """Load weights saved from the same architecture, with a clear error otherwise; returns the path.

    Example::

        load_weights(model, "course_dense.weights.h5")
    """
    path = os.path.expanduser(os.fspath(path))
    if not os.path.exists(path) and os.path.exists(weights_path(path)):
        path = weights_path(path)
    if not os.path.exists(path):
        raise NNUsageError(f"Weights file '{path}' not found; save it first with --save or model.save_weights().")
    mismatch = _shape_mismatch(model, path)
    if mismatch:
        raise NNUsageError(
            f"'{os.path.basename(path)}' does not fit model '{model.name}': it was saved from another architecture "
            f"({mismatch}); build the same layers first."
        )
    before = [w.numpy().copy() for w in model.weights]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras only warns on a partial load; the shape check above covers it
            model.load_weights(path)
    except Exception as exc:  # h5py/Keras raise ValueError, KeyError, OSError… for a wrong file
        _restore(model, before)
        raise NNUsageError(
            f"'{os.path.basename(path)}' does not fit model '{model.name}': it was saved from another architecture "
            f"({_short(exc)}); build the same layers first."
        ) from None
    return path


def file_shapes(path: str) -> list[tuple[int, ...]]:
    """Shapes of every weight array stored in a ``.weights.h5`` file."""
    import h5py

    shapes: list[tuple[int, ...]] = []
    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(lambda name, obj: shapes.append(tuple(obj.shape))
                              if isinstance(obj, h5py.Dataset) and "/vars/" in f"/{name}" else None)
    except OSError:
        raise NNUsageError(f"'{path}' is not a Keras weights file (.weights.h5); save one with --save.") from None
    return shapes


def _shape_mismatch(model, path: str) -> str:
    """Empty when the file holds exactly the model's weight shapes, else a short description."""
    saved = sorted(file_shapes(path))
    wanted = sorted(tuple(int(d) for d in w.shape) for w in model.weights)
    if saved == wanted:
        return ""
    if len(saved) != len(wanted):
        return f"{len(saved)} weight arrays in the file, {len(wanted)} in the model"
    diff = next((s, w) for s, w in zip(saved, wanted) if s != w)
    return f"an array of shape {diff[0]} in the file where the model has {diff[1]}"


def _restore(model, values) -> None:
    for variable, value in zip(model.weights, values):
        variable.assign(value)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160] + ("…" if len(text) > 160 else "")
