"""VGG16's weights: ImageNet's files in Keras' cache (downloaded once, or a clear sentence offline), or a file.

``weights=`` everywhere in :mod:`nnmagics.transfer` is one of:

- ``"imagenet"``: Keras' files in Keras' cache, ``$KERAS_HOME/models`` or ``~/.keras/models``:
  ``vgg16_weights_tf_dim_ordering_tf_kernels.h5`` (528 MB, whole network) and ``…_notop.h5``
  (56 MB, convolutional base). A missing file is downloaded as Keras does (``keras.utils.get_file``,
  announced first); offline (a 3-second probe, or ``NNMAGICS_OFFLINE=1``) a ``NNUsageError`` names
  the file and the folder to put it in, at once;
- a path: a Keras VGG16 weights file (those files, or ``save_weights`` of a
  ``keras.applications.VGG16``); a file that does not fit VGG16 is one sentence, before anything is built;
- ``"none"``: random weights, for dry runs and tests.

:func:`resolve_weights` turns it into what ``keras.applications.VGG16(weights=…)`` takes: a file path or None.
"""
from __future__ import annotations

import os
import re
import socket
import threading
from typing import Any, NamedTuple

from ..errors import NNUsageError
from ..i18n import _

NETWORK_TIMEOUT = 3.0
OFFLINE_ENV = "NNMAGICS_OFFLINE"
DOWNLOAD_READ_TIMEOUT = 60.0

# VGG16's blocks: (number of 3×3 convolutions, filters); what a weights file must hold
BLOCKS = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))
TOP_LAYERS = ("fc1", "fc2", "predictions")
_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"


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


# ----------------------------------------------------------------------------- Keras' cache
def keras_models_dir() -> str:
    """Where Keras keeps downloaded models: ``$KERAS_HOME/models``, else ``~/.keras/models``.

    Read at call time (Keras reads ``KERAS_HOME`` once, when it is imported).

    Example::

        >>> keras_models_dir()                                            # doctest: +SKIP
        '/home/me/.keras/models'
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(os.path.expanduser(home), "models")


def cached_weights_file(include_top: bool) -> str | None:
    """The path of Keras' cached VGG16 weights file (whole network or ``_notop``), or None.

    Looks in Keras' cache folder, then in ``/tmp/.keras/models`` (where Keras writes when the
    home folder is read-only).

    Example::

        >>> cached_weights_file(include_top=False)                        # doctest: +SKIP
        '/home/me/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    return cached_file(WEIGHT_FILES[include_top].name)


def cached_file(name: str) -> str | None:
    """The path of the file ``name`` in Keras' cache (or ``/tmp/.keras/models``, where Keras writes when the
    home folder is read-only), or None.

    Example::

        >>> cached_file("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")   # doctest: +SKIP
    """
    for folder in dict.fromkeys([keras_models_dir(), os.path.join("/tmp", ".keras", "models")]):
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
    """Download ``file`` into Keras' cache with Keras' ``get_file`` (its progress bar, md5 check)."""
    import keras

    folder = keras_models_dir()
    announce(_("Downloading VGG16's ImageNet weights {file} ({size}, once) into {folder}; Keras shows the progress "
               "below.").format(file=file.name, size=file.size, folder=folder))
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_READ_TIMEOUT)  # a stalled connection fails instead of hanging
    try:
        return keras.utils.get_file(file.name, file.url, cache_dir=os.path.dirname(folder),
                                    cache_subdir="models", file_hash=file.md5)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - urllib/HTTP/hash errors all mean the same to the user
        raise NNUsageError(_(
            "Downloading {file} failed ({reason}); download it from {url} and put it in {folder}, or use --weights "
            "none for random weights.").format(file=file.name, reason=_short(exc), url=file.url, folder=folder)) from None
    finally:
        socket.setdefaulttimeout(previous)


def imagenet_weights_file(include_top: bool = True, *, download: bool = True, announce=print) -> str:
    """The path of VGG16's ImageNet weights in Keras' cache, downloaded first if needed and possible.

    Offline, raises ``NNUsageError`` at once naming the file and the folder to put it in.

    Example::

        >>> imagenet_weights_file(include_top=False)                    # doctest: +SKIP
        '/home/me/.keras/models/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    found = cached_weights_file(include_top)
    if found:
        return found
    file = WEIGHT_FILES[include_top]
    if not download or not network_available():
        raise NNUsageError(_(
            "VGG16's ImageNet weights file {file} is not in Keras' cache and the network cannot be reached: on a "
            "connected machine download it ({size}) from {url} and put it in {folder}, or use --weights none for "
            "random weights.").format(file=file.name, size=file.size, url=file.url, folder=keras_models_dir()))
    return _download(file, announce)


def resolve_weights(weights: Any, include_top: bool, *, announce=print) -> str | None:
    """``'imagenet'`` → the cached (or downloaded) file, ``'none'``/None → None, a path → that file, checked.

    The result is what ``keras.applications.VGG16(weights=…)`` is given.

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
        raise NNUsageError(_(
            "Weights file '{path}' not found; give imagenet, none, or the path of a VGG16 weights file (.h5).").format(
            path=text))
    check_weights_file(path, include_top)
    return path


def weights_label(weights: Any, path: str | None) -> str:
    """A short description of the weights for messages: ``ImageNet (path)``, ``random …``, ``from path``.

    Example::

        >>> weights_label("none", None)
        'random (--weights none: predictions mean nothing; for dry runs)'
    """
    if path is None:
        return _("random (--weights none: predictions mean nothing; for dry runs)")
    if str(weights).strip().lower() == "imagenet":
        return _("ImageNet ({path})").format(path=path)
    return _("from {path}").format(path=path)


# ----------------------------------------------------------------------------- checking a weights file
def conv_layer_names() -> list[str]:
    """The 13 convolution layers of VGG16, in order (``block1_conv1`` … ``block5_conv3``).

    Example::

        >>> conv_layer_names()[:2]
        ['block1_conv1', 'block1_conv2']
    """
    return [f"block{b}_conv{c}" for b, (n, _) in enumerate(BLOCKS, 1) for c in range(1, n + 1)]


def weight_shapes(include_top: bool = True, classes: int = 1000) -> dict[str, list[tuple[int, ...]]]:
    """``layer name -> [kernel shape, bias shape]`` of VGG16 (top layers for 224×224 inputs).

    Example::

        >>> weight_shapes(False)["block1_conv1"]
        [(3, 3, 3, 64), (64,)]
    """
    shapes: dict[str, list[tuple[int, ...]]] = {}
    channels = 3
    for name, (_, filters) in zip(conv_layer_names(), [b for b in BLOCKS for _ in range(b[0])]):
        shapes[name] = [(3, 3, channels, filters), (filters,)]
        channels = filters
    if include_top:
        shapes["fc1"] = [(7 * 7 * 512, 4096), (4096,)]
        shapes["fc2"] = [(4096, 4096), (4096,)]
        shapes["predictions"] = [(4096, classes), (classes,)]
    return shapes


def _file_shapes(handle) -> dict[str, list[tuple[int, ...]]]:
    """``VGG16 layer name -> weight shapes`` in a Keras weights file (legacy ``.h5`` or Keras 3 ``.weights.h5``).

    Legacy files (Keras' downloads) name the layers; Keras 3 files number them by type
    (``conv2d``, ``conv2d_1`` … ``dense_2``), mapped here in order onto VGG16's layers, as
    Keras loads them.
    """
    found: dict[str, list[tuple[int, ...]]] = {}
    if "layer_names" in handle.attrs:
        for raw in handle.attrs["layer_names"]:
            name = raw.decode("utf8") if isinstance(raw, bytes) else str(raw)
            names = [w.decode("utf8") if isinstance(w, bytes) else str(w)
                     for w in handle[name].attrs.get("weight_names", [])]
            if names:
                found[name] = [tuple(int(d) for d in handle[name][w].shape) for w in names]
        return found
    numbered: dict[str, list[tuple[int, list]]] = {"conv2d": [], "dense": []}
    for key in handle.get("layers", {}):
        match = re.fullmatch(r"(conv2d|dense)(?:_(\d+))?", key)
        group = handle["layers"][key]
        if match and "vars" in group and len(group["vars"]):
            shapes = [tuple(int(d) for d in group["vars"][str(i)].shape) for i in range(len(group["vars"]))]
            numbered[match.group(1)].append((int(match.group(2) or 0), shapes))
    names = {"conv2d": conv_layer_names(), "dense": list(TOP_LAYERS)}
    for kind, items in numbered.items():
        for i, (_, shapes) in enumerate(sorted(items, key=lambda item: item[0])):
            found[names[kind][i] if i < len(names[kind]) else f"{kind}_{i}"] = shapes
    return found


def _mismatch(path: str, available: dict[str, list], include_top: bool, classes: int) -> str | None:
    """A sentence saying why the file does not fit VGG16 (None when it fits)."""
    base = os.path.basename(path)
    wanted = weight_shapes(include_top, classes)
    for name, shapes in wanted.items():
        if name in available and available[name] != shapes:
            return _("'{file}' does not fit VGG16: layer {layer} has weights of shapes {saved} in the file where VGG16 "
                     "has {wanted}; give Keras' VGG16 weights or save_weights() of a keras.applications.VGG16.").format(
                file=base, layer=name, saved=available[name], wanted=shapes)
    missing = [name for name in wanted if name not in available]
    if missing and set(missing) == set(TOP_LAYERS):
        return _("'{file}' holds only VGG16's convolutional base (no fc1, fc2, predictions layers): ImageNet "
                 "predictions and --mode replace-top need the whole network's weights ({whole}); --mode features "
                 "works with this file.").format(file=base, whole=WEIGHT_FILES[True].name)
    if missing:
        listed = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
        return _("'{file}' does not fit VGG16: it has no weights for layer {layers}; give Keras' VGG16 weights "
                 "({wanted}) or save_weights() of a keras.applications.VGG16.").format(
            file=base, layers=listed, wanted=WEIGHT_FILES[include_top].name)
    extra = [name for name in available if name not in wanted]
    if extra:
        return _("'{file}' holds more layers than VGG16's convolutional base ({layers}): --mode features needs the "
                 "base's weights ({wanted}).").format(file=base, layers=", ".join(extra[:3]),
                                                      wanted=WEIGHT_FILES[False].name)
    return None


def check_weights_file(path: str, include_top: bool, classes: int = 1000) -> None:
    """Raise ``NNUsageError`` (before anything is built) when ``path`` does not hold VGG16's weights.

    Reads the shapes only (h5py), so a wrong file is refused in a blink, before Keras builds
    138 million parameters and fails in ``load_weights``.

    Example::

        check_weights_file("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", include_top=False)
    """
    import h5py

    base = os.path.basename(path)
    if not path.lower().endswith((".h5", ".hdf5")):
        raise NNUsageError(_("'{file}' is not a Keras weights file: give a .h5 or .weights.h5 file (Keras' {base} "
                             "weights, or save_weights() of a keras.applications.{base}).").format(
            file=base, base="VGG16"))
    try:
        with h5py.File(path, "r") as handle:
            if "layer_names" not in handle.attrs and "model_weights" in handle:
                handle = handle["model_weights"]  # a whole legacy model saved with model.save()
            available = _file_shapes(handle)
    except (OSError, KeyError, ValueError):
        raise NNUsageError(_(
            "'{file}' is not a Keras weights file (HDF5 .h5): the file is damaged or of another kind; give a VGG16 "
            "weights file, or delete it and let Keras download it again.").format(file=base)) from None
    problem = _mismatch(path, available, include_top, classes)
    if problem:
        raise NNUsageError(problem)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160] + ("…" if len(text) > 160 else "")


__all__ = ["resolve_weights", "imagenet_weights_file", "cached_weights_file", "check_weights_file",
           "keras_models_dir", "network_available", "weights_label", "weight_shapes", "conv_layer_names",
           "WEIGHT_FILES", "BLOCKS", "TOP_LAYERS", "OFFLINE_ENV", "DOWNLOAD_READ_TIMEOUT", "PROBE_URL"]
