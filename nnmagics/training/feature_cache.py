"""The feature cache: train a ``features``-mode transfer model's head on its frozen base's outputs computed once.

The base is VGG16's layers (``%vgg_transfer``) or a nested ``keras.applications`` base (``%nn_transfer``).

A features-mode model is ``[VGG16Preprocess, block1_conv1 … block5_pool, GlobalAveragePooling2D,
head…]`` with the convolutional part frozen. Running VGG16 costs ~99% of an epoch, yet its
outputs never change while it is frozen and the images do not change. So:

1. :func:`split_features_model` cuts the model into ``base`` (input → global pooling, frozen)
   and ``head`` (the layers after it, *shared* with the model: training the head trains the model);
2. :func:`cached_features` runs ``base`` once per dataset (a progress bar shows when it takes
   more than 2 seconds: tens of minutes for the course's 3,000 images on a CPU), and keeps its
   outputs in memory and on disk (``cache_dir()/features``: ``%config NNMagics.cache_dir``, ``$NNMAGICS_CACHE_DIR`` or
   ``~/.cache/nnmagics``), both keyed by the same content identity: the files (paths, and the
   sizes and modification times they had when ``%nn_data`` checked them, i.e. the pixels the
   dataset serves), the image size and a hash of the base's weights. A dataset whose files
   changed on disk since is refused (run ``%nn_data`` again) rather than cached under a key
   that does not match its pixels; an unreadable cache file is discarded and recomputed. The pass
   runs under ``train``'s precision choice (``--mixed-precision auto``: bfloat16 on CPUs with
   AVX512_BF16/AMX and recent GPUs, float16 on older tensor-core GPUs) on a clone of the base, and the
   precision is part of the key: float32 and bfloat16 features never mix;
3. :func:`nnmagics.training.features_fit.fit_features_model` fits the head on those arrays: 10 epochs cost about one pass of
   VGG16, and the whole model then predicts, evaluates and shows feature maps as usual.

It does not apply (:func:`cache_plan` says why, and training runs end to end) to models that are
not features-mode transfer models, to a base with trainable layers (``fine_tune``), or with
augmentation: every epoch then sees different images, so no output can be reused.

How the trainer uses it::

    from nnmagics.training.feature_cache import cache_plan
    from nnmagics.training.features_fit import fit_features_model

    use_cache, message = cache_plan(model, augment=augment)
    if message:
        print(message)
    if use_cache:
        history = fit_features_model(model, data, val, epochs=10, initial_epoch=done, callbacks=cbs,
                                     class_mode=plan.class_mode)
    else:
        history = model.fit(...)
"""
from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from ..errors import NNUsageError
from ..i18n import _
from ..files import atomic_write, cache_dir
from ..progress import batch_callback, progress_bar

CACHE_VERSION = 2
MEMORY_ENTRIES = 8
BASE_BATCH = 32
_POOLING = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten")
# what may come before a nested base for its outputs to be cached: fixed functions of the pixels
_BEFORE_BASE = ("ApplicationPreprocess", "VGG16Preprocess", "Rescaling", "Resizing", "Normalization", "InputLayer")

_MEMORY: "OrderedDict[str, tuple[np.ndarray, np.ndarray]]" = OrderedDict()
_SPLITS: "weakref.WeakKeyDictionary[Any, tuple[tuple, Any, Any]]" = weakref.WeakKeyDictionary()
_PRECISION_BASES: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
PRECISION_NAMES = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


# ----------------------------------------------------------------------------- which models
def _base_end(layers) -> int | None:
    """Index of the base's last layer: VGG16's ``block5_pool``, or a nested ``keras.applications`` base (a Model)."""
    names = [layer.name for layer in layers]
    if "block5_pool" in names:
        return names.index("block5_pool")
    nested = [i for i, layer in enumerate(layers) if hasattr(layer, "layers") and hasattr(layer, "inputs")]
    return nested[0] if len(nested) == 1 else None


def _boundary(model) -> int | None:
    """Index of the pooling (or Flatten) layer right after the base, or None for other layouts."""
    layers = getattr(model, "layers", None)
    if type(model).__name__ != "Sequential" or not layers:
        return None  # a Sequential model is a chain: the layers after the boundary form the head
    end = _base_end(layers)
    if end is None or any(type(layer).__name__ not in _BEFORE_BASE for layer in layers[:end]
                          if layers[end].name != "block5_pool"):
        return None  # e.g. random augmentation layers before the base: its outputs change every epoch
    j = end + 1
    if j >= len(layers) or type(layers[j]).__name__ not in _POOLING:
        return None
    if layers[end].name == "block5_pool" and type(layers[j]).__name__ == "Flatten":
        return None  # the course's replace-top VGG16 (Flatten, then its frozen fc1/fc2) trains end to end
    return j


def base_title(model) -> str:
    """How messages name the base of a features-mode model: ``VGG16`` or the nested base's name.

    Example::

        >>> base_title(features_model)                                     # doctest: +SKIP
        'VGG16'
    """
    layers = getattr(model, "layers", None) or []
    end = _base_end(layers)
    if end is None or layers[end].name == "block5_pool":
        return "VGG16"
    return layers[end].name


def cache_plan(model, augment: bool = False) -> tuple[bool, str | None]:
    """``(use the cache?, message for the user or None)`` before training ``model``.

    Example::

        >>> cache_plan(features_model)                                     # doctest: +SKIP
        (True, "Training the head on VGG16's cached outputs: VGG16 runs once per dataset, not every epoch.")
        >>> cache_plan(features_model, augment=True)[0]                    # doctest: +SKIP
        False
    """
    j = _boundary(model)
    if j is None:
        return False, None
    who = base_title(model)
    if augment:
        return False, _("Training end to end: with augmentation every epoch sees different images, so {base}'s "
                        "outputs cannot be cached (each epoch runs {base} on every image).").format(base=who)
    if any(layer.trainable_weights for layer in model.layers[: j + 1]):
        return False, _("Training end to end: {base}'s base has trainable layers (fine-tuning), so its outputs "
                        "change at every step and cannot be cached.").format(base=who)
    if not any(layer.trainable_weights for layer in model.layers[j + 1:]):
        return False, None
    return True, _("Training the head on {base}'s cached outputs: {base} runs once per dataset, not every epoch.").format(
        base=who)


def split_features_model(model) -> tuple[Any, Any] | None:
    """``(base, head)`` of a features-mode transfer model with a frozen base, else None.

    ``base``: input → global average pooling (a ``keras.Model`` sharing the model's layers);
    ``head``: the layers after it, as a ``keras.Sequential`` sharing them too, so fitting the
    head changes ``model``. Cached per model while the trainable flags stay the same.

    Example::

        >>> base, head = split_features_model(model)                        # doctest: +SKIP
        >>> head(base(images))  # == model(images)                          # doctest: +SKIP
    """
    use, _message = cache_plan(model)
    if not use:
        return None
    j = _boundary(model)
    flags = tuple(bool(layer.trainable) for layer in model.layers)
    kept = _SPLITS.get(model)
    if kept is not None and kept[0] == flags:
        return kept[1], kept[2]
    import keras

    pool = model.layers[j]
    base = keras.Model(model.inputs, pool.output, name=f"{model.name}_base")
    head = keras.Sequential([keras.Input(shape=tuple(pool.output.shape[1:])), *model.layers[j + 1:]],
                            name=f"{model.name}_head")
    _SPLITS[model] = (flags, base, head)
    return base, head


# ----------------------------------------------------------------------------- the cache
def features_dir() -> str:
    """The folder of the on-disk feature caches (``cache_dir()/features``), created."""
    folder = os.path.join(cache_dir(), "features")
    os.makedirs(folder, exist_ok=True)
    return folder


def weights_digest(model) -> str:
    """A hash of every weight of ``model`` (which VGG16 weights computed the features)."""
    digest = hashlib.sha1()
    for weight in model.weights:
        array = np.ascontiguousarray(np.asarray(weight.numpy() if hasattr(weight, "numpy") else weight))
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _content_stamps(data) -> list[tuple[int, int]]:
    """``(size, mtime_ns)`` of each file: as checked by ``%nn_data`` (the pixels served), else as on disk now."""
    if hasattr(data, "content_stamps"):
        return data.content_stamps()
    from ..data.image_files import file_stamps

    return file_stamps(data.files)


def cache_key(base, data, weights_key: str | None = None, precision: str = "float32") -> str:
    """The cache key: the files (paths, sizes, mtimes as checked), the image size, the base's layout and weights,
    and the dtype policy of the pass (float32 and bfloat16 features never share a key).

    Example::

        >>> cache_key(base, train) == cache_key(base, train)      # doctest: +SKIP
        True
    """
    files = [[os.path.abspath(path), size, mtime]
             for path, (size, mtime) in zip(data.files, _content_stamps(data))]
    layout = [[layer.name, type(layer).__name__] for layer in base.layers]
    payload = {"version": CACHE_VERSION, "files": files, "image_size": list(data.image_size),
               "input": [d for d in base.inputs[0].shape[1:]], "layout": layout,
               "weights": weights_key or weights_digest(base), "precision": precision}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:40]


def base_under(base, precision: str = "float32"):
    """``base`` whose VGG16 blocks compute under the dtype policy ``precision`` (a kept clone, its weights
    refreshed from ``base``); the preprocessing and the pooled output stay float32. ``base`` itself for float32.

    Example::

        fast = base_under(base, "mixed_bfloat16")     # fast.predict(x) ≈ base.predict(x), in bfloat16 units
    """
    if precision == "float32" or not any(layer.name.startswith("block") for layer in base.layers):
        return base  # a nested keras.applications base runs in float32 (see effective_precision)
    import keras

    kept = _PRECISION_BASES.setdefault(base, {})
    clone = kept.get(precision)
    if clone is None:
        def clone_layer(layer):
            config = layer.get_config()
            if layer.name.startswith("block"):          # convolutions and their pools: the 99 %
                config["dtype"] = precision
            return layer.__class__.from_config(config)

        clone = kept[precision] = keras.models.clone_model(base, clone_function=clone_layer)
    clone.set_weights(base.get_weights())                # variables stay float32 under mixed policies
    return clone


def _run_base(base, data, batch_size: int = BASE_BATCH, precision: str = "float32") -> np.ndarray:
    """One pass of the (frozen) base over ``data`` in file order (the expensive part), with a progress bar."""
    ds = data.batches(shuffle=False, batch_size=batch_size, x_only=True)
    steps = -(-len(data) // batch_size)
    runner = base_under(base, precision)
    what = getattr(data, "name", None)
    values = dict(base=base_title(base), data=what, precision=PRECISION_NAMES.get(precision, precision))
    label = (_("{base} features of {data} ({precision})").format(**values) if what else
             _("{base} features of the images ({precision})").format(**values))
    try:
        with progress_bar(steps, label, "batch") as bar:
            return np.asarray(runner.predict(ds, verbose=0, callbacks=[batch_callback(bar)]), dtype="float32")
    except Exception as exc:  # noqa: BLE001 - a file deleted or changed mid-pass is named; anything else is a bug
        from ..data.image_files import explain_file_error

        explained = explain_file_error(exc, data)
        if explained is None:
            raise
        raise explained from None


def _remember(key: str, value: tuple[np.ndarray, np.ndarray]) -> None:
    _MEMORY[key] = value
    _MEMORY.move_to_end(key)
    while len(_MEMORY) > MEMORY_ENTRIES:
        _MEMORY.popitem(last=False)


def _read_disk(path: str, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The features stored at ``path``; None (and the file removed) when it is unreadable or does not fit.

    The file is nnmagics' own cache (a truncated write, a full disk, a copy cut short):
    discarding it only costs one VGG16 pass.
    """
    try:
        with np.load(path, allow_pickle=False) as stored:
            features, labels = np.asarray(stored["features"]), np.asarray(stored["labels"])
        if len(features) == count and len(labels) == count:
            return features, labels
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - EOFError, BadZipFile, zlib.error, ValueError, KeyError… on a damaged file
        pass
    try:
        os.remove(path)
    except OSError:
        pass
    return None


def _write_disk(path: str, features: np.ndarray, labels: np.ndarray) -> None:
    try:
        atomic_write(path, lambda tmp: np.savez(tmp, features=features, labels=labels), suffix=".npz")
    except OSError:
        pass  # a read-only or full cache only costs a VGG16 pass next time


def cached_features(base, data, *, weights_key: str | None = None, batch_size: int = BASE_BATCH,
                    precision: str = "float32") -> tuple[np.ndarray, np.ndarray]:
    """``(base outputs (n, features), integer labels (n,))`` for ``data``, computed once per precision.

    Looked up in memory, then on disk, and only then computed (one VGG16 pass under the dtype policy
    ``precision``, e.g. ``"mixed_bfloat16"``). ``weights_key`` replaces the hash of the base's weights
    when the caller knows them (e.g. a file path + mtime).

    Example::

        >>> x, y = cached_features(base, train)       # first call: one VGG16 pass   # doctest: +SKIP
        >>> x, y = cached_features(base, train)       # then: no VGG16 at all        # doctest: +SKIP
    """
    if not hasattr(data, "files") or not hasattr(data, "as_tf_dataset"):
        raise NNUsageError(_("Cached VGG16 features need an image dataset made by %nn_data, not a {type}.").format(
            type=type(data).__name__))
    if hasattr(data, "check_unchanged"):
        data.check_unchanged()  # a file changed since the check: its key would not match the pixels served
    if base_under(base, precision) is base:
        precision = "float32"  # what the pass really computes in (a nested keras.applications base)
    key = cache_key(base, data, weights_key, precision)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    path = os.path.join(features_dir(), f"{key}.npz")
    stored = _read_disk(path, len(data))
    if stored is None:
        features = _run_base(base, data, batch_size, precision)
        labels = np.asarray(data.labels, dtype=np.int64)
        _write_disk(path, features, labels)
        stored = (features, labels)
    _remember(key, stored)
    return stored


def clear_memory_cache() -> None:
    """Forget the features kept in memory (the files on disk stay)."""
    _MEMORY.clear()


__all__ = ["cache_plan", "split_features_model", "cached_features", "clear_memory_cache",
           "features_dir", "cache_key", "weights_digest", "base_under"]
