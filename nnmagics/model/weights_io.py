"""Save and load model weights safely (atomic writes, clear errors on a mismatch)."""
from __future__ import annotations

import math
import os
import tempfile
import warnings

from ..errors import NNUsageError
from ..i18n import _, num

SUFFIX = ".weights.h5"


def weights_path(path: str) -> str:
    """Keras 3 wants ``.weights.h5``: add it when the user wrote ``model`` or ``model.h5``.

    Example::

        >>> weights_path("course.h5"), weights_path("course")
        ('course.weights.h5', 'course.weights.h5')
    """
    path = os.path.expanduser(os.fspath(path))
    if path.endswith(SUFFIX):
        return path
    if path.endswith(".h5"):
        return path[:-3] + SUFFIX
    return path + SUFFIX


def check_writable(path: str, option: str = "--save", needed_bytes: int = 0) -> str:
    """The ``.weights.h5`` path for ``path`` once it can be written, else a NNUsageError naming ``option``:
    a file in the way of its folder, a read-only folder, a disk without room for ``needed_bytes``.

    Changes nothing on disk (missing folders are made when the file is written), and is called
    before anything long starts (a fit), so that nothing fails at its end.

    Example::

        check_writable("runs/best", "--checkpoint")    # 'runs/best.weights.h5'
    """
    import shutil

    path = weights_path(str(path))
    if os.path.isdir(path):
        raise NNUsageError(_("{option} '{path}' is a folder; give a file name such as {example}.").format(
            option=option, path=path, example=os.path.join(path, "best")))
    folder = os.path.dirname(os.path.abspath(path))
    existing = folder
    while not os.path.exists(existing):  # the nearest folder that exists: the missing ones will be made in it
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NNUsageError(_("Cannot create the folder '{folder}' for {option} ('{existing}' is a file, not a "
                             "folder); choose another path.").format(folder=folder, option=option, existing=existing))
    if not os.access(existing, os.W_OK):
        raise NNUsageError(_("Cannot write {option} '{path}': the folder '{existing}' is read-only; choose a folder "
                             "you can write to.").format(option=option, path=path, existing=existing))
    free = shutil.disk_usage(existing).free
    if needed_bytes and free < needed_bytes:
        raise NNUsageError(_("Cannot write {option} '{path}': the disk has {free} MB free and the weights need about "
                             "{needed} MB; free some space or choose another folder.").format(
            option=option, path=path, free=num(free / 1e6, ",.1f"), needed=num(needed_bytes / 1e6, ",.1f")))
    return path


def weights_bytes(model) -> int:
    """About how many bytes ``save_weights`` writes: the weights and up to two optimizer slots each.

    Example::

        weights_bytes(build_model(preset="course-dense"))   # 3 * 4 * 33 + 65536
    """
    values = sum(math.prod(int(d) for d in v.shape) for v in model.weights)
    return 3 * 4 * values + 65536  # float32, plus room for the file's own structure


def atomic_save(save, path: str) -> str:
    """Call ``save(tmp_path)`` then rename over ``path``: an interrupted save keeps the old file
    (``files.atomic_write`` with Keras' ``.weights.h5`` ending).

    Example::

        atomic_save(model.save_weights, "best.weights.h5")
    """
    from ..files import atomic_write

    return atomic_write(path, save, suffix=SUFFIX)


def save_weights(model, path: str) -> str:
    """Save the weights to ``path`` (``.weights.h5`` added if missing), atomically; returns the path.

    Example::

        save_weights(model, "course_dense")   # → course_dense.weights.h5
    """
    path = check_writable(path, "--save", weights_bytes(model))
    try:
        return atomic_save(model.save_weights, path)
    except OSError as exc:
        raise NNUsageError(_("Could not save the weights to '{path}' ({reason}); the previous file, if any, is "
                             "unchanged: free some space or choose another path.").format(
            path=path, reason=(exc.strerror or str(exc)).lower())) from None


def load_weights(model, path: str) -> str:
    """Load weights saved from the same architecture, with a clear error otherwise; returns the path.

    Example::

        load_weights(model, "course_dense.weights.h5")
    """
    path = os.path.expanduser(os.fspath(path))
    if not os.path.exists(path) and os.path.exists(weights_path(path)):
        path = weights_path(path)
    if not os.path.exists(path):
        raise NNUsageError(_("Weights file '{path}' not found; save it first with --save or "
                             "model.save_weights().").format(path=path))
    mismatch = _shape_mismatch(model, path)
    if mismatch:
        raise NNUsageError(_(
            "'{file}' does not fit model '{model}': it was saved from another architecture ({mismatch}); build the "
            "same layers first.").format(file=os.path.basename(path), model=model.name, mismatch=mismatch))
    before = [w.numpy().copy() for w in model.weights]
    try:
        with warnings.catch_warnings():
            # Keras warns when it skips the optimizer's saved state (another optimizer, or none built yet)
            warnings.simplefilter("ignore")
            try:
                model.load_weights(path)
            except Exception:  # noqa: BLE001 - an optimizer state this Keras will not skip: load the model's own
                _restore(model, before)
                if not _has_optimizer(path):
                    raise
                _load_without_optimizer(model, path)
    except Exception:  # noqa: BLE001 - h5py/Keras raise ValueError, KeyError, OSError…
        _restore(model, before)
        # the shapes fit (checked above): the file was written by a model built another way
        raise NNUsageError(_(
            "'{file}' holds the right weight shapes but Keras cannot match them to the layers of model '{model}' "
            "(a subclassed model names its layers differently); build the model with the same --api as the one "
            "that saved the file.").format(file=os.path.basename(path), model=model.name)) from None
    return path


def file_shapes(path: str) -> list[tuple[int, ...]]:
    """Shapes of the model weights stored in a ``.weights.h5`` file (the optimizer's variables left out).

    Example::

        file_shapes("course_dense.weights.h5")   # [(2, 3), (3,), (3, 3), (3,), (3, 3), (3,)]
    """
    return [shape for group in _file_layers(path).values() for shape in group]


def _file_layers(path: str) -> dict[str, list[tuple[int, ...]]]:
    """``{layer path: [weight shapes]}`` of a ``.weights.h5`` file, without the top-level ``optimizer`` group.

    Keras 3 also stores the optimizer's variables (moments, iteration count) once a model has trained;
    they say nothing about the architecture.
    """
    import h5py

    layers: dict[str, list[tuple[int, ...]]] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and "/vars/" in f"/{name}" and not name.startswith(_NOT_MODEL):
            owner = f"/{name}".rsplit("/vars/", 1)[0]
            layers.setdefault(owner, []).append(tuple(int(d) for d in obj.shape))

    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(visit)
    except OSError:
        raise NNUsageError(_("'{path}' is not a Keras weights file (.weights.h5); save one with --save.").format(
            path=path)) from None
    return layers


_NOT_MODEL = ("optimizer/",)


def _model_layers(model) -> dict[str, list[tuple[int, ...]]]:
    """``{layer path: [weight shapes]}`` of the model's own variables (``model.weights``)."""
    layers: dict[str, list[tuple[int, ...]]] = {}
    for variable in model.weights:
        owner = str(getattr(variable, "path", variable.name)).rsplit("/", 1)[0]
        layers.setdefault(owner, []).append(tuple(int(d) for d in variable.shape))
    return layers


def _shape_mismatch(model, path: str) -> str:
    """Empty when the file holds the model's own weights (layer by layer, by shape), else a short description.

    Layer names differ between two builds of one network (``dense_3`` vs ``dense``), and Keras
    stores layers by class, so layers are compared by the shapes of their weights.
    """
    saved = sorted(sorted(group) for group in _file_layers(path).values())
    wanted = sorted(sorted(group) for group in _model_layers(model).values())
    if saved == wanted:
        return ""
    flat_saved = sorted(s for group in saved for s in group)
    flat_wanted = sorted(s for group in wanted for s in group)
    if len(flat_saved) != len(flat_wanted):
        return _("{saved} weight arrays in the file, {wanted} in the model").format(
            saved=len(flat_saved), wanted=len(flat_wanted))
    if flat_saved != flat_wanted:
        diff = next((s, w) for s, w in zip(flat_saved, flat_wanted) if s != w)
        return _("an array of shape {saved} in the file where the model has {wanted}").format(
            saved=diff[0], wanted=diff[1])
    return _("the same arrays grouped into other layers")


def _has_optimizer(path: str) -> bool:
    import h5py

    with h5py.File(path, "r") as handle:
        return "optimizer" in handle


def _load_without_optimizer(model, path: str) -> None:
    """Load a copy of ``path`` without its ``optimizer`` group (the model's weights only)."""
    import h5py

    with h5py.File(path, "r") as source, tempfile.TemporaryDirectory(prefix="nnmagics-") as folder:
        tmp = os.path.join(folder, "model" + SUFFIX)   # a scratch copy, removed with its folder
        with h5py.File(tmp, "w") as target:
            for key, value in source.attrs.items():
                target.attrs[key] = value
            for key in source:
                if key != "optimizer":
                    source.copy(source[key], target, name=key)
        model.load_weights(tmp)


def _restore(model, values) -> None:
    for variable, value in zip(model.weights, values):
        variable.assign(value)
