"""Reuse VGG16: ImageNet predictions, and the course's transfer models with their weights.

The course's last section, done the modern way:

- ``vgg_predict(image)``: the course's recipe (``load_img(target_size=(224, 224))``,
  ``preprocess_input``, ``predict``) with the ImageNet labels read offline
  (:mod:`nnmagics.imagenet_labels`), never ``decode_predictions`` (which downloads a JSON);
- ``vgg_transfer(2, mode="replace-top")``: the course's recipe exactly, every VGG16 layer but the
  last, frozen, then ``Dense(2, softmax)`` (134,268,738 parameters, 8,194 trainable);
- ``vgg_transfer(2, mode="features")``: the convolutional base, frozen, with global average
  pooling and a small head; ``nnmagics.feature_cache`` trains that head on VGG16's outputs
  computed once per dataset;
- ``fine_tune(model, "block5")``: the second phase of the classic recipe.

Transfer models are ``keras.Sequential`` models of fresh layers named as in
``keras.applications.VGG16`` (``block1_conv1`` … ``fc2``): they take raw 0–255 pixels at the
dataset's size and carry VGG16's ``preprocess_input`` inside (a ``VGG16Preprocess`` layer,
after a ``Resizing(224, 224)`` layer when the top's Dense layers need 224×224), so training,
evaluation, feature maps and prediction treat them like any other model. (Layers taken from a
``VGG16()`` instance would also belong to that model's graph, and Keras then cannot cut a
feature-map model out of the transfer model.) To reload a saved ``.keras`` transfer model,
``import nnmagics.transfer`` first (it registers ``VGG16Preprocess``).

Weights (``weights=``):

- ``"imagenet"`` (default): Keras' files in Keras' cache, ``$KERAS_HOME/models`` or
  ``~/.keras/models``: ``vgg16_weights_tf_dim_ordering_tf_kernels.h5`` (528 MB, whole network)
  and ``…_notop.h5`` (56 MB, convolutional base). A missing file is downloaded as Keras does,
  announced first; offline (checked with a 3-second probe, or ``NNMAGICS_OFFLINE=1``) a
  ``NNUsageError`` names the file and the folder to put it in, at once.
- a path: a Keras VGG16 weights file (those files, or ``save_weights`` of a
  ``keras.applications.VGG16``); a file that does not fit VGG16 is a clear error.
- ``"none"``: random weights, for dry runs and tests (same speed, meaningless labels).

The two-phase recipe::

    model = vgg_transfer(2, mode="features", data=train)       # phase 1: base frozen
    train(model, train, epochs=10)                              # head only, on cached features
    fine_tune(model, "block5", learning_rate=1e-5)              # phase 2: unfreeze block5
    train(model, train, epochs=5, lr=1e-5)                      # end to end, low learning rate
"""
from __future__ import annotations

import os
import socket
import threading
import weakref
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import numpy as np

from .errors import NNUsageError, unknown

MODES = ("replace-top", "features")
TOP_SIZE = (224, 224)
MIN_SIZE = 32
NETWORK_TIMEOUT = 3.0
OFFLINE_ENV = "NNMAGICS_OFFLINE"
DOWNLOAD_READ_TIMEOUT = 60.0
PREDICT_BATCH = 8
DEFAULT_FOLDER_LIMIT = 100

_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"

# VGG16's blocks: (number of 3×3 convolutions, filters)
BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
TOP_LAYERS = ("fc1", "fc2", "predictions")


class WeightsFile(NamedTuple):
    """One of Keras' VGG16 weight files."""

    name: str
    url: str
    md5: str
    size: str


WEIGHT_FILES = {
    True: WeightsFile("vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                      _BASE_URL + "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                      "64373286793e3c8b2b4e3219cbf3544b", "528 MB"),
    False: WeightsFile("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                       _BASE_URL + "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
                       "6d6bbae143d832006294945121d1f1fc", "56 MB"),
}
# asked (HEAD, a few seconds at most) before a download, to fail at once when offline
PROBE_URL = WEIGHT_FILES[False].url


# ----------------------------------------------------------------------------- the architecture
def conv_layer_names() -> list[str]:
    """The 13 convolution layers of VGG16, in order (``block1_conv1`` … ``block5_conv3``)."""
    return [f"block{b}_conv{c}" for b, (n, _) in enumerate(BLOCKS, 1) for c in range(1, n + 1)]


def weight_shapes(include_top: bool = True, classes: int = 1000) -> dict[str, list[tuple[int, ...]]]:
    """``layer name -> [kernel shape, bias shape]`` of VGG16 (top layers for 224×224 inputs).

    Example::

        >>> weight_shapes(False)["block1_conv1"]
        [(3, 3, 3, 64), (64,)]
    """
    shapes: dict[str, list[tuple[int, ...]]] = {}
    channels = 3
    for b, (n, filters) in enumerate(BLOCKS, 1):
        for c in range(1, n + 1):
            shapes[f"block{b}_conv{c}"] = [(3, 3, channels, filters), (filters,)]
            channels = filters
    if include_top:
        shapes["fc1"] = [(7 * 7 * 512, 4096), (4096,)]
        shapes["fc2"] = [(4096, 4096), (4096,)]
        shapes["predictions"] = [(4096, classes), (classes,)]
    return shapes


def vgg16_layers(include_top: bool = True, *, random_init: bool = True, classes: int = 1000) -> list:
    """Fresh layers of ``keras.applications.VGG16`` (same names and configurations), without the input.

    ``random_init=False`` starts the kernels at zero, which is 10× faster than Keras' Glorot
    initialisation of the 102 million weights of ``fc1``; use it when weights are loaded next.

    Example::

        >>> [layer.name for layer in vgg16_layers(False)][:3]          # doctest: +SKIP
        ['block1_conv1', 'block1_conv2', 'block1_pool']
    """
    from keras import layers

    init = {} if random_init else {"kernel_initializer": "zeros"}
    result = []
    for b, (n, filters) in enumerate(BLOCKS, 1):
        for c in range(1, n + 1):
            result.append(layers.Conv2D(filters, (3, 3), activation="relu", padding="same",
                                        name=f"block{b}_conv{c}", **init))
        result.append(layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool"))
    if include_top:
        result += [layers.Flatten(name="flatten"),
                   layers.Dense(4096, activation="relu", name="fc1", **init),
                   layers.Dense(4096, activation="relu", name="fc2", **init),
                   layers.Dense(classes, activation="softmax", name="predictions", **init)]
    return result


_PREPROCESS_CLASS = None


def _preprocess_class():
    """The ``VGG16Preprocess`` layer class (defined on first use, so that importing is light)."""
    global _PREPROCESS_CLASS
    if _PREPROCESS_CLASS is not None:
        return _PREPROCESS_CLASS
    import keras

    @keras.saving.register_keras_serializable(package="nnmagics", name="VGG16Preprocess")
    class VGG16Preprocess(keras.layers.Layer):
        """``keras.applications.vgg16.preprocess_input`` as a layer: RGB → BGR, minus ImageNet's mean pixel.

        It takes raw 0–255 pixels, so a model that starts with it predicts on image files directly.

        Example::

            model = keras.Sequential([keras.Input((224, 224, 3)), VGG16Preprocess(), ...])
        """

        def __init__(self, **kwargs):
            kwargs.setdefault("name", "vgg16_preprocess")
            super().__init__(**kwargs)

        def call(self, inputs):
            from keras.applications.vgg16 import preprocess_input

            return preprocess_input(inputs)

        def compute_output_shape(self, input_shape):
            return input_shape

    _PREPROCESS_CLASS = VGG16Preprocess
    return VGG16Preprocess


def __getattr__(name: str):
    if name == "VGG16Preprocess":
        return _preprocess_class()
    raise AttributeError(f"module 'nnmagics.transfer' has no attribute {name!r}")


def preprocess_layer(**kwargs):
    """A new ``VGG16Preprocess`` layer (VGG16's ``preprocess_input`` inside a model)."""
    return _preprocess_class()(**kwargs)


# ----------------------------------------------------------------------------- weights files
def keras_models_dir() -> str:
    """Where Keras keeps downloaded models: ``$KERAS_HOME/models``, else ``~/.keras/models``.

    Read at call time (Keras reads ``KERAS_HOME`` once, when it is imported).
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(os.path.expanduser(home), "models")


def _candidate_dirs() -> list[str]:
    """Keras' cache folder, then the fallback Keras writes to when that one is read-only."""
    folders = [keras_models_dir(), os.path.join("/tmp", ".keras", "models")]
    return list(dict.fromkeys(folders))


def cached_weights_file(include_top: bool) -> str | None:
    """The path of Keras' cached VGG16 weights file (whole network or ``_notop``), or None."""
    name = WEIGHT_FILES[include_top].name
    for folder in _candidate_dirs():
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            return path
    return None


def network_available(url: str | None = None, timeout: float | None = None) -> bool:
    """Whether an HTTPS request to ``url`` (Keras' weights server) gets an answer within ``timeout`` seconds.

    A real ``HEAD`` request (name lookup, proxy settings, TLS) rather than a bare socket: some
    networks accept any TCP connection and fail later. It runs in a daemon thread, so a
    hanging lookup cannot block the caller. ``NNMAGICS_OFFLINE=1`` answers False at once.

    Example::

        >>> network_available("https://10.255.255.1/", timeout=0.5)        # doctest: +SKIP
        False
    """
    import urllib.error
    import urllib.request

    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        return False
    url = url or PROBE_URL
    timeout = NETWORK_TIMEOUT if timeout is None else float(timeout)
    result: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
                result.append(True)
        except urllib.error.HTTPError:
            result.append(True)  # the server answered (the download will say what is wrong)
        except Exception:  # noqa: BLE001 - URLError, timeouts, TLS errors: not reachable
            result.append(False)

    thread = threading.Thread(target=probe, name="nnmagics-network-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _download(file: WeightsFile, announce) -> str:
    """Download ``file`` into Keras' cache with Keras' ``get_file`` (progress bar, md5 check)."""
    import keras

    folder = keras_models_dir()
    announce(f"Downloading VGG16's ImageNet weights {file.name} ({file.size}, once) into {folder}; "
             "Keras shows the progress below.")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_READ_TIMEOUT)  # a stalled connection fails instead of hanging
    try:
        return keras.utils.get_file(file.name, file.url, cache_dir=os.path.dirname(folder),
                                    cache_subdir="models", file_hash=file.md5)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - urllib/HTTP/hash errors all mean the same to the user
        raise NNUsageError(
            f"Downloading {file.name} failed ({_short(exc)}); download it from {file.url} and put it in {folder}, "
            "or use --weights none for random weights."
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def imagenet_weights_file(include_top: bool = True, *, download: bool = True, announce=print) -> str:
    """The path of VGG16's ImageNet weights in Keras' cache, downloaded first if needed and possible.

    For the convolutional base (``include_top=False``) the whole-network file serves too when it
    is the one in the cache. Offline, raises ``NNUsageError`` at once naming the file and the folder.

    Example::

        >>> imagenet_weights_file(include_top=False)                    # doctest: +SKIP
        '/home/me/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    found = cached_weights_file(include_top) or (None if include_top else cached_weights_file(True))
    if found:
        return found
    file = WEIGHT_FILES[include_top]
    folder = keras_models_dir()
    if not download or not network_available():
        raise NNUsageError(
            f"VGG16's ImageNet weights file {file.name} is not in Keras' cache and the network cannot be reached: "
            f"on a connected machine download it ({file.size}) from {file.url} and put it in {folder}, "
            "or use --weights none for random weights."
        )
    return _download(file, announce)


def resolve_weights(weights: Any, include_top: bool, *, announce=print) -> str | None:
    """``'imagenet'`` → the cached (or downloaded) file, ``'none'``/None → None, a path → that file, checked.

    Example::

        >>> resolve_weights("none", include_top=True) is None
        True
    """
    if weights is None:
        return None
    text = os.fspath(weights) if isinstance(weights, os.PathLike) else str(weights)
    key = text.strip().lower()
    if key in ("none", "random", ""):
        return None
    if key == "imagenet":
        return imagenet_weights_file(include_top, announce=announce)
    path = os.path.abspath(os.path.expanduser(text))
    if not os.path.isfile(path):
        raise NNUsageError(
            f"Weights file '{text}' not found; give imagenet, none, or the path of a VGG16 weights file (.h5)."
        )
    check_weights_file(path, include_top)
    return path


def weights_label(weights: Any, path: str | None) -> str:
    """A short description of the weights for messages: ``ImageNet (path)``, ``random``, ``file path``."""
    if path is None:
        return "random (--weights none: predictions mean nothing; for dry runs)"
    if str(weights).strip().lower() == "imagenet":
        return f"ImageNet ({path})"
    return f"from {path}"


# ----------------------------------------------------------------------------- reading weights files
def _file_layers(handle) -> dict[str, list]:
    """``VGG16 layer name -> [h5py datasets]`` of a Keras weights file (legacy ``.h5`` or Keras 3 ``.weights.h5``).

    Legacy files (Keras' downloads, Keras 2 ``save_weights``) name the layers; Keras 3 files
    number them by type (``conv2d``, ``conv2d_1`` … ``dense_2``), mapped here in order onto
    VGG16's 13 convolutions and 3 Dense layers.
    """
    import re

    found: dict[str, list] = {}
    if "layer_names" in handle.attrs:
        for raw in handle.attrs["layer_names"]:
            name = raw.decode("utf8") if isinstance(raw, bytes) else str(raw)
            group = handle[name]
            names = [w.decode("utf8") if isinstance(w, bytes) else str(w) for w in group.attrs.get("weight_names", [])]
            if names:
                found[name] = [group[w] for w in names]
        return found
    if "layers" not in handle:
        raise ValueError("no layers in the file")
    numbered: dict[str, list[tuple[int, list]]] = {"conv2d": [], "dense": []}
    for key in handle["layers"]:
        match = re.fullmatch(r"(conv2d|dense)(?:_(\d+))?", key)
        group = handle["layers"][key]
        if match and "vars" in group and len(group["vars"]):
            arrays = [group["vars"][str(i)] for i in range(len(group["vars"]))]
            numbered[match.group(1)].append((int(match.group(2) or 0), arrays))
    convs = [arrays for _, arrays in sorted(numbered["conv2d"], key=lambda item: item[0])]
    denses = [arrays for _, arrays in sorted(numbered["dense"], key=lambda item: item[0])]
    names = conv_layer_names()
    for i, arrays in enumerate(convs):
        found[names[i] if i < len(names) else f"conv2d_{i}"] = arrays
    for i, arrays in enumerate(denses):
        found[TOP_LAYERS[i] if i < len(TOP_LAYERS) else f"dense_{i}"] = arrays
    return found


def _open_weights(path: str):
    import h5py

    try:
        return h5py.File(path, "r")
    except OSError:
        raise NNUsageError(
            f"'{os.path.basename(path)}' is not a Keras weights file (HDF5 .h5): the file is damaged or of "
            "another kind; give a VGG16 weights file, or delete it and let Keras download it again."
        ) from None


def _mismatch(path: str, available: dict[str, list], include_top: bool, classes: int) -> str | None:
    """A sentence saying why the file does not fit VGG16 (None when it fits)."""
    base = os.path.basename(path)
    wanted = weight_shapes(include_top, classes)
    missing = [name for name in wanted if name not in available]
    for name, shapes in wanted.items():
        if name not in available:
            continue
        got = [tuple(int(d) for d in ds.shape) for ds in available[name]]
        if got != shapes:
            return (f"'{base}' does not fit VGG16: layer {name} has weights of shapes {got} in the file where VGG16 "
                    f"has {shapes}; give Keras' VGG16 weights or save_weights() of a keras.applications.VGG16.")
    if missing and set(missing) <= set(TOP_LAYERS) and len(missing) == len(TOP_LAYERS):
        return (f"'{base}' holds only VGG16's convolutional base (no fc1, fc2, predictions layers): "
                "ImageNet predictions "
                f"and --mode replace-top need the whole network's weights ({WEIGHT_FILES[True].name}); "
                "--mode features works with this file.")
    if missing:
        listed = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        return (f"'{base}' does not fit VGG16: it has no weights for layer {listed}; give Keras' VGG16 weights "
                f"({WEIGHT_FILES[include_top].name}) or save_weights() of a keras.applications.VGG16.")
    return None


def check_weights_file(path: str, include_top: bool, classes: int = 1000) -> None:
    """Raise ``NNUsageError`` (before anything is built) when ``path`` does not hold VGG16's weights."""
    with _open_weights(path) as handle:
        try:
            available = _file_layers(handle)
        except (ValueError, KeyError):
            available = {}
        problem = _mismatch(path, available, include_top, classes)
    if problem:
        raise NNUsageError(problem)


def load_vgg16_weights(model_or_layers: Any, path: str) -> list[str]:
    """Load a VGG16 weights file into the layers named like VGG16's (``block1_conv1`` … ``predictions``).

    Works on any model holding such layers (a transfer model, a VGG16) and only reads the
    layers it needs (the convolutional base reads 56 MB of the 528 MB file). Everything is
    checked before anything is assigned. Returns the names of the loaded layers.

    Example::

        load_vgg16_weights(model, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    """
    layers = list(getattr(model_or_layers, "layers", model_or_layers))
    targets = {layer.name: layer for layer in layers if layer.name in weight_shapes(True, 1000)}
    include_top = any(name in targets for name in TOP_LAYERS)
    classes = int(targets["predictions"].units) if "predictions" in targets else 1000
    with _open_weights(path) as handle:
        try:
            available = _file_layers(handle)
        except (ValueError, KeyError):
            available = {}
        wanted = weight_shapes(include_top, classes)
        problem = _mismatch(path, available, include_top, classes)
        if problem:
            raise NNUsageError(problem)
        for name, layer in targets.items():
            layer.set_weights([np.asarray(ds[()], dtype="float32") for ds in available[name]][: len(wanted[name])])
    return list(targets)


# ----------------------------------------------------------------------------- whole VGG16 (predictions)
def vgg16(*, include_top: bool = True, weights: Any = "imagenet", input_shape: Sequence[int] | None = None,
          announce=print):
    """VGG16 as ``keras.applications.VGG16`` builds it (same layers, names and weights), weights offline-aware.

    Example::

        model = vgg16(weights="none")                  # random weights, 138,357,544 parameters
        model = vgg16(include_top=False, input_shape=(150, 150, 3))
    """
    import keras

    path = resolve_weights(weights, include_top, announce=announce)
    shape = _check_input_shape(input_shape, include_top)
    model = keras.Sequential([keras.Input(shape=shape), *vgg16_layers(include_top, random_init=path is None)],
                             name="vgg16")
    if path is not None:
        load_vgg16_weights(model, path)
    return model


def _check_input_shape(input_shape: Sequence[int] | None, include_top: bool) -> tuple[int, int, int]:
    if input_shape is None:
        return (*TOP_SIZE, 3)
    shape = tuple(int(d) for d in input_shape)
    if len(shape) == 2:
        shape = (*shape, 3)
    if len(shape) != 3 or shape[2] != 3:
        raise NNUsageError(f"VGG16 takes colour images (height, width, 3), not input shape {shape}.")
    if include_top and shape[:2] != TOP_SIZE:
        raise NNUsageError(f"VGG16's Dense top needs 224×224 images, not {shape[0]}×{shape[1]}; "
                           "resize the images or use include_top=False.")
    if min(shape[:2]) < MIN_SIZE:
        raise NNUsageError(f"VGG16 needs images of at least {MIN_SIZE}×{MIN_SIZE} pixels, not {shape[0]}×{shape[1]}; "
                           "load the data with a larger --image-size.")
    return shape  # type: ignore[return-value]


_PREDICTOR: dict[str, Any] = {}


def _weights_identity(path: str | None) -> str:
    if path is None:
        return "random"
    stat = os.stat(path)
    return f"{path}|{stat.st_size}|{stat.st_mtime_ns}"


def imagenet_model(weights: Any = "imagenet", *, announce=print):
    """The whole VGG16 for ImageNet predictions, kept in memory for the next call with the same weights.

    Only one is kept (it weighs 528 MB). With ``weights="none"`` the same random network is reused.
    """
    path = resolve_weights(weights, True, announce=announce)
    key = _weights_identity(path)
    if key not in _PREDICTOR:
        _PREDICTOR.clear()
        _PREDICTOR[key] = vgg16(include_top=True, weights=path or "none", announce=announce)
    return _PREDICTOR[key]


# ----------------------------------------------------------------------------- images
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def read_pixels(path: str | os.PathLike) -> np.ndarray:
    """An image file's RGB pixels at their original size (``uint8``), or a ``NNUsageError`` saying why not."""
    from .data.filenames import printable
    from .data.images import read_rgb

    path = os.path.expanduser(os.fspath(path))
    if not os.path.isfile(path):
        raise NNUsageError(f"No such image file: '{printable(path)}'; check the path "
                           f"(relative paths start from {os.getcwd()}).")
    try:
        return read_rgb(path)
    except NNUsageError:
        raise  # e.g. over the pixel cap: read_rgb's sentence says why
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds of errors on bad files
        raise NNUsageError(
            f"'{printable(path)}' is not an image that can be read ({_short(exc)}); give a .jpg or .png file."
        ) from None


def course_image(path: str | os.PathLike, size: tuple[int, int] = TOP_SIZE) -> np.ndarray:
    """An image file as the course loads it: ``img_to_array(load_img(path, target_size=size))``.

    RGB, resized with PIL's nearest-neighbour filter (``load_img``'s default), float32 0–255.
    Grayscale, RGBA, CMYK and 16-bit files are converted to RGB.

    Example::

        >>> course_image("dog.jpg").shape                                  # doctest: +SKIP
        (224, 224, 3)
    """
    from PIL import Image

    image = Image.fromarray(read_pixels(path))
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.NEAREST)
    return np.asarray(image, dtype="float32")


def model_image(path: str | os.PathLike, size: tuple[int, int]) -> np.ndarray:
    """An image file as ``%nn_data`` serves it to a model: RGB, bilinear resize, rounded, float32 0–255."""
    pixels = read_pixels(path).astype("float32")
    if tuple(pixels.shape[:2]) == tuple(size):
        return pixels
    import tensorflow as tf

    resized = tf.image.resize(pixels, size, method="bilinear").numpy()
    return np.clip(np.round(resized), 0, 255).astype("float32")


def image_files(folder: str | os.PathLike) -> list[str]:
    """The image files of a folder and its sub-folders (by extension), sorted, hidden ones left out."""
    folder = os.path.abspath(os.path.expanduser(os.fspath(folder)))
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        found += [os.path.join(dirpath, f) for f in filenames
                  if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found)


def expand_images(images: Any, limit: int | None = DEFAULT_FOLDER_LIMIT) -> tuple[list[str], bool, int]:
    """A path, a folder or a list of paths → ``(files, is_many, total)``, at most ``limit`` files of a folder."""
    from .data.filenames import printable

    if isinstance(images, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(images))
        if os.path.isdir(path):
            files = image_files(path)
            if not files:
                raise NNUsageError(f"The folder '{printable(path)}' holds no image file (.jpg, .png…); "
                                   "give an image or another folder.")
            total = len(files)
            return (files[:limit] if limit else files), True, total
        if not os.path.exists(path):
            raise NNUsageError(f"No such image file or folder: '{printable(path)}'; check the path "
                               f"(relative paths start from {os.getcwd()}).")
        return [path], False, 1
    files = [os.fspath(p) for p in images]
    if not files:
        raise NNUsageError("Give at least one image to predict.")
    return files, len(files) > 1, len(files)


# ----------------------------------------------------------------------------- predictions
def _read_batch(files: list[str], loader) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
    kept, arrays, skipped = [], [], []
    for path in files:
        try:
            arrays.append(loader(path))
            kept.append(path)
        except NNUsageError as exc:
            if len(files) == 1:
                raise
            skipped.append((path, str(exc)))
    batch = np.stack(arrays) if arrays else np.zeros((0, 1, 1, 3), "float32")
    return kept, batch, skipped


def imagenet_probabilities(files: Sequence[str], weights: Any = "imagenet", *, announce=print):
    """``(files kept, probabilities (n, 1000), skipped [(file, reason)])`` with the course's recipe.

    The recipe: ``load_img(f, target_size=(224, 224))`` → ``img_to_array`` →
    ``vgg16.preprocess_input`` → ``model.predict``.
    """
    from keras.applications.vgg16 import preprocess_input

    model = imagenet_model(weights, announce=announce)
    kept_all, probs, skipped_all = [], [], []
    for start in range(0, len(files), PREDICT_BATCH):
        kept, batch, skipped = _read_batch(list(files[start:start + PREDICT_BATCH]), course_image)
        skipped_all += skipped
        if kept:
            probs.append(model.predict(preprocess_input(batch), verbose=0))
            kept_all += kept
    if not kept_all:
        raise NNUsageError("None of the images could be read; give .jpg or .png files.")
    return kept_all, np.concatenate(probs), skipped_all


def vgg_predict(images: Any, *, top: int = 5, weights: Any = "imagenet", limit: int | None = DEFAULT_FOLDER_LIMIT,
                announce=print):
    """VGG16's ImageNet classes for an image (top ``top`` rows) or a folder/list (one top-1 row per image).

    Columns: ``rank, imagenet_id, wordnet_id, name, probability`` for one image;
    ``file, imagenet_id, wordnet_id, name, probability`` for several. ``frame.attrs`` holds
    ``files`` and ``skipped`` (unreadable files, with the reason).

    Example::

        >>> vgg_predict("dog.jpg", top=3)                                  # doctest: +SKIP
           rank  imagenet_id wordnet_id              name  probability
        0     1          207  n02099601  golden retriever     0.914...
    """
    import pandas as pd

    from .imagenet_labels import all_labels

    top = _check_top(top, 1000)
    files, many, total = expand_images(images, limit)
    kept, probs, skipped = imagenet_probabilities(files, weights, announce=announce)
    labels = all_labels()
    if many:
        rows = []
        for path, p in zip(kept, probs):
            best = int(np.argmax(p))
            rows.append((path, best, labels[best].wnid, labels[best].name, float(p[best])))
        frame = pd.DataFrame(rows, columns=["file", "imagenet_id", "wordnet_id", "name", "probability"])
    else:
        order = np.argsort(-probs[0])[:top]
        frame = pd.DataFrame([(r, int(i), labels[i].wnid, labels[i].name, float(probs[0][i]))
                              for r, i in enumerate(order, 1)],
                             columns=["rank", "imagenet_id", "wordnet_id", "name", "probability"])
    frame.attrs.update(files=kept, skipped=skipped, total=total, many=many)
    return frame


def model_predict(model, images: Any, *, top: int = 5, classes: Sequence[str] | None = None,
                  limit: int | None = DEFAULT_FOLDER_LIMIT):
    """A trained image model's classes for an image (``rank, class, probability``) or a folder (top-1 rows).

    The model takes raw 0–255 pixels (as every nnmagics image model); images are resized
    (bilinear) to its input size. Class names come from ``classes``, else from the transfer
    model's dataset, else ``class 0``, ``class 1``…

    Example::

        >>> model_predict(tl, "dog.jpg", classes=["cats", "dogs"])          # doctest: +SKIP
    """
    import pandas as pd

    size = _model_size(model)
    files, many, total = expand_images(images, limit)
    probs, kept, skipped = [], [], []
    for start in range(0, len(files), PREDICT_BATCH):
        got, batch, bad = _read_batch(files[start:start + PREDICT_BATCH], lambda p: model_image(p, size))
        skipped += bad
        if got:
            probs.append(_as_probabilities(model.predict(batch, verbose=0)))
            kept += got
    if not kept:
        raise NNUsageError("None of the images could be read; give .jpg or .png files.")
    p = np.concatenate(probs)
    names = list(classes or transfer_info(model).get("classes") or [f"class {i}" for i in range(p.shape[1])])
    if len(names) != p.shape[1]:
        raise NNUsageError(f"The model has {p.shape[1]} outputs but {len(names)} class names were given; "
                           "give the dataset it was trained on with --from DATA.")
    if many:
        rows = [(f, names[int(np.argmax(q))], float(np.max(q))) for f, q in zip(kept, p)]
        frame = pd.DataFrame(rows, columns=["file", "class", "probability"])
    else:
        order = np.argsort(-p[0])[:_check_top(top, p.shape[1])]
        frame = pd.DataFrame([(r, names[i], float(p[0][i])) for r, i in enumerate(order, 1)],
                             columns=["rank", "class", "probability"])
    frame.attrs.update(files=kept, skipped=skipped, total=total, many=many)
    return frame


def _as_probabilities(out) -> np.ndarray:
    out = np.asarray(out, dtype="float64")
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:  # one sigmoid unit: P(class 1)
        out = np.concatenate([1.0 - out, out], axis=1)
    return out


def _model_size(model) -> tuple[int, int]:
    try:
        shape = tuple(model.inputs[0].shape)
    except (AttributeError, ValueError, IndexError, TypeError):
        shape = ()
    if len(shape) != 4 or shape[1] is None or shape[2] is None or shape[3] != 3:
        raise NNUsageError(f"Model '{getattr(model, 'name', 'model')}' does not take colour images of a fixed size "
                           f"(input shape {shape or 'unknown'}); give an image model such as one from "
                           "%vgg_transfer build.")
    return int(shape[1]), int(shape[2])


def _check_top(top: Any, most: int) -> int:
    try:
        value = int(top)
    except (TypeError, ValueError):
        raise NNUsageError(f"--top needs a whole number such as 5, not '{top}'.") from None
    if value < 1:
        raise NNUsageError(f"--top needs a positive number such as 5, not {value}.")
    return min(value, most)


# ----------------------------------------------------------------------------- transfer models
_INFO: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def transfer_info(model) -> dict:
    """What ``vgg_transfer`` recorded about a model (mode, classes, weights, input size), or ``{}``."""
    try:
        return _INFO.get(model, {})
    except TypeError:
        return {}


@dataclass
class TransferPlan:
    """The checked arguments of a transfer model."""

    num_classes: int
    mode: str
    input_shape: tuple[int, int, int]
    classes: list[str] | None = None


def plan_transfer(num_classes: Any = None, *, mode: str = "replace-top", data: Any = None,
                  input_shape: Sequence[int] | None = None) -> TransferPlan:
    """Check the mode, the number of classes and the input size (from ``data`` when given)."""
    mode = str(mode or "replace-top").strip().lower().replace("_", "-")
    mode = {"replace": "replace-top", "top": "replace-top", "feature": "features", "base": "features"}.get(mode, mode)
    if mode not in MODES:
        raise unknown("transfer mode", mode, MODES)
    classes = None
    if data is not None:
        if getattr(data, "kind", None) != "images" or not hasattr(data, "image_size"):
            raise NNUsageError(f"--from needs an image dataset made by %nn_data from a folder, not a "
                               f"{type(data).__name__}.")
        classes = [str(c) for c in data.classes]
        if num_classes is not None and _whole(num_classes, "--classes") != len(classes):
            raise NNUsageError(f"--classes {num_classes} contradicts the dataset, which has {len(classes)} classes "
                               f"({', '.join(classes)}); leave out --classes.")
        num_classes = len(classes)
        if input_shape is None:
            input_shape = tuple(data.image_size)
    if num_classes is None:
        raise NNUsageError("Give the number of classes, e.g. --classes 2, or a dataset with --from DATA.")
    k = _whole(num_classes, "--classes")
    if k < 2:
        raise NNUsageError(f"A classifier needs at least 2 classes, not {k}; give --classes 2 for cats vs dogs.")
    shape = (*TOP_SIZE, 3) if input_shape is None else tuple(int(d) for d in input_shape)
    if len(shape) == 2:
        shape = (*shape, 3)
    if len(shape) != 3 or shape[2] != 3:
        raise NNUsageError(f"Transfer models take colour images (height, width, 3), not input shape {shape}.")
    if min(shape[:2]) < MIN_SIZE:
        raise NNUsageError(f"VGG16 needs images of at least {MIN_SIZE}×{MIN_SIZE} pixels, not {shape[0]}×{shape[1]}; "
                           "load the data with a larger --image-size.")
    return TransferPlan(k, mode, shape, classes)  # type: ignore[arg-type]


def _whole(value: Any, what: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        raise NNUsageError(f"{what} needs a whole number such as 2, not '{value}'.") from None


def vgg_transfer(num_classes: Any = None, *, mode: str = "replace-top", weights: Any = "imagenet", data: Any = None,
                 input_shape: Sequence[int] | None = None, fine_tune_from: str | None = None,
                 head_units: int = 256, dropout: float = 0.5, name: str | None = None, announce=print):
    """A VGG16 transfer model for ``num_classes`` classes, taking raw 0–255 pixels.

    - ``mode="replace-top"``: the course's recipe: every VGG16 layer but the last, frozen, then
      ``Dense(num_classes, softmax)``; a ``Resizing(224, 224)`` layer first when the data is not
      224×224 (the Dense top needs it). 134,268,738 parameters, 8,194 trainable for 2 classes.
    - ``mode="features"``: the convolutional base at the data's size, frozen, then
      ``GlobalAveragePooling2D`` → ``Dense(head_units, relu)`` → ``Dropout(dropout)`` →
      ``Dense(num_classes, softmax)``; ``feature_cache.fit_features_model`` trains it fast.

    ``data`` (an image dataset) gives the classes and the input size. ``fine_tune_from="block5"``
    unfreezes that block at once (better: train the head first, then call :func:`fine_tune`).

    Example::

        >>> tl = vgg_transfer(2, weights="none")                            # doctest: +SKIP
        >>> tl.count_params(), sum(w.numpy().size for w in tl.trainable_weights)  # doctest: +SKIP
        (134268738, 8194)
        >>> fast = vgg_transfer(mode="features", data=train)                # doctest: +SKIP
    """
    import keras
    from keras import layers

    plan = plan_transfer(num_classes, mode=mode, data=data, input_shape=input_shape)
    top = plan.mode == "replace-top"
    path = resolve_weights(weights, include_top=top, announce=announce)  # before building: fails fast
    if fine_tune_from is not None:
        fine_tune_from = _check_block(fine_tune_from)
    stack = [keras.Input(shape=plan.input_shape)]
    if top and plan.input_shape[:2] != TOP_SIZE:
        stack.append(layers.Resizing(*TOP_SIZE, name="resize_224"))
    stack.append(preprocess_layer())
    base = vgg16_layers(include_top=top, random_init=path is None)
    if top:
        base = base[:-1]  # every VGG16 layer but the last
    stack += base
    for layer in stack[1:]:
        layer.trainable = False  # as the course: every reused layer (and the preprocessing) frozen
    if not top:
        stack.append(layers.GlobalAveragePooling2D(name="gap"))
        if head_units:
            stack.append(layers.Dense(int(head_units), activation="relu", name="head_dense"))
        if dropout:
            stack.append(layers.Dropout(float(dropout), name="head_dropout"))
    stack.append(layers.Dense(plan.num_classes, activation="softmax", name="output"))
    model = keras.Sequential(stack, name=name or "vgg16_transfer")
    if path is not None:
        load_vgg16_weights(model, path)
    info = {"mode": plan.mode, "classes": plan.classes, "num_classes": plan.num_classes,
            "input_shape": plan.input_shape, "weights": weights_label(weights, path), "weights_path": path,
            "head_units": head_units, "dropout": dropout}
    _INFO[model] = info
    if fine_tune_from is not None:
        fine_tune(model, fine_tune_from)
    return model


build_transfer_model = vgg_transfer


def _check_block(block: Any) -> str:
    text = str(block).strip().lower()
    if text.isdigit():
        text = f"block{text}"
    choices = [f"block{i}" for i in range(1, len(BLOCKS) + 1)]
    if text not in choices:
        raise unknown("VGG16 block", block, choices)
    return text


def fine_tune(model, block: str = "block5", *, learning_rate: float = 1e-5) -> list[str]:
    """Unfreeze VGG16's convolutions from ``block`` to the end (phase 2 of the two-phase recipe).

    Layers before ``block`` stay frozen; Dense layers of the replace-top recipe (fc1, fc2) stay
    frozen too. A compiled model is compiled again (Keras needs it after ``trainable`` changes)
    with the same loss and metrics and an optimizer of the same kind at ``learning_rate``;
    a model not yet compiled is left for ``%nn_train … --lr 1e-5``. Returns the unfrozen layers.

    Phase 1 trains the new head with the base frozen (fast with ``mode="features"``, whose
    features are cached); phase 2 fine-tunes block5 a few epochs at a low learning rate (1e-5),
    so that the large gradients of an untrained head do not wreck ImageNet's filters. VGG16 has
    no BatchNormalization, so nothing else needs freezing.

    Example::

        fine_tune(model, "block5")          # block5_conv1..3 trainable, blocks 1–4 frozen
    """
    start = int(_check_block(block)[5:])
    names = [layer.name for layer in model.layers]
    if not any(n.startswith("block") and n.endswith("_conv1") for n in names):
        raise NNUsageError(f"Model '{model.name}' has no VGG16 layers to fine-tune; build one with "
                           "%vgg_transfer build NAME --classes 2.")
    unfrozen = []
    for layer in model.layers:
        if layer.name.startswith("block") and "_conv" in layer.name:
            number = int(layer.name[5:layer.name.index("_")])
            layer.trainable = number >= start
            if layer.trainable:
                unfrozen.append(layer.name)
    if getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None:
        _recompile(model, learning_rate)
    try:
        _INFO.setdefault(model, {}).update(fine_tuned_from=f"block{start}", fine_tune_lr=learning_rate)
    except TypeError:
        pass
    return unfrozen


def _recompile(model, learning_rate: float) -> None:
    import keras

    config = keras.saving.deserialize_keras_object(model.get_compile_config())
    old = config.pop("optimizer", None)
    optimizer = type(old)(learning_rate=learning_rate) if old is not None else keras.optimizers.Adam(learning_rate)
    model.compile(optimizer=optimizer, **config)


def trainable_summary(model) -> tuple[int, int]:
    """``(total parameters, trainable parameters)``."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return int(model.count_params()), trainable


def transfer_code(model) -> str:
    """Plain Keras code that builds the same transfer model (what ``--code`` prints)."""
    info = transfer_info(model)
    if not info:
        raise NNUsageError(f"'{model.name}' was not built by %vgg_transfer build; there is no code to show.")
    h, w, _ = info["input_shape"]
    weights = "None" if info["weights_path"] is None else '"imagenet"'
    k = info["num_classes"]
    lines = ["import keras", "from keras import layers",
             "from keras.applications.vgg16 import VGG16, preprocess_input", ""]
    if info["mode"] == "replace-top":
        lines += [f"vgg = VGG16(weights={weights})",
                  f'model = keras.Sequential(name="{model.name}")',
                  f"model.add(keras.Input(shape=({h}, {w}, 3)))        # raw pixels 0-255"]
        if (h, w) != TOP_SIZE:
            lines.append("model.add(layers.Resizing(224, 224))             # VGG16's Dense top needs 224x224")
        lines += ["model.add(layers.Lambda(preprocess_input))       # VGG16's preprocessing inside the model",
                  "for layer in vgg.layers[1:-1]:                   # every VGG16 layer but the last",
                  "    layer.trainable = False",
                  "    model.add(layer)",
                  f'model.add(layers.Dense({k}, activation="softmax"))']
    else:
        lines += [f"base = VGG16(weights={weights}, include_top=False, input_shape=({h}, {w}, 3))",
                  "base.trainable = False",
                  f'model = keras.Sequential(name="{model.name}")',
                  f"model.add(keras.Input(shape=({h}, {w}, 3)))        # raw pixels 0-255",
                  "model.add(layers.Lambda(preprocess_input))       # VGG16's preprocessing inside the model",
                  "for layer in base.layers[1:]:",
                  "    model.add(layer)",
                  "model.add(layers.GlobalAveragePooling2D())"]
        if info["head_units"]:
            lines.append(f'model.add(layers.Dense({info["head_units"]}, activation="relu"))')
        if info["dropout"]:
            lines.append(f'model.add(layers.Dropout({info["dropout"]}))')
        lines.append(f'model.add(layers.Dense({k}, activation="softmax"))')
    if info.get("fine_tuned_from"):
        start = int(info["fine_tuned_from"][5:])
        lines += ["", "# phase 2: fine-tune", "for layer in model.layers:",
                  f'    if layer.name.startswith("block") and int(layer.name[5]) >= {start} and "_conv" in layer.name:',
                  "        layer.trainable = True",
                  f'model.compile(optimizer=keras.optimizers.Adam({info["fine_tune_lr"]:g}), '
                  'loss="sparse_categorical_crossentropy", metrics=["accuracy"])']
    return "\n".join(lines) + "\n"


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160] + ("…" if len(text) > 160 else "")


__all__ = ["vgg_transfer", "build_transfer_model", "fine_tune", "vgg_predict", "model_predict", "vgg16",
           "imagenet_model", "imagenet_weights_file", "resolve_weights", "load_vgg16_weights", "check_weights_file",
           "keras_models_dir", "network_available", "course_image", "preprocess_layer", "transfer_info",
           "transfer_code", "vgg16_layers", "weight_shapes", "WEIGHT_FILES", "MODES"]
