"""Every pretrained base ``keras.applications`` ships: its name, module, input size, and its ImageNet weights.

One row per base (``BASES``): the name users type (``inception_v3``, ``resnet50``, ``efficientnet_b0`` …;
case, ``_`` and ``-`` do not matter, ``InceptionV3`` works too), the Keras class, the
``keras.applications`` module that holds its ``preprocess_input``, the default input size (the
ImageNet top needs it) and the smallest size the base takes.

ImageNet weights come from Keras' own download code, so every base gets its own file name, URL and
hash without a table of ours: :func:`imagenet_weights` lets Keras ask for the file and answers from
Keras' cache, downloads it (announced first) when the network answers, or raises one sentence
offline naming the file and the folder to put it in.
"""
from __future__ import annotations

import contextlib
import os
import socket
from typing import Any, NamedTuple

from ..errors import NNUsageError, unknown
from ..i18n import _


class Base(NamedTuple):
    """One pretrained base of ``keras.applications``."""

    name: str           # what users type: "inception_v3"
    cls: str            # the Keras class: "InceptionV3"
    module: str         # keras.applications.<module> holds its preprocess_input
    size: int           # default input size (the ImageNet top's)
    min_size: int = 32  # smallest input Keras accepts without the top


def _rows() -> tuple[Base, ...]:
    rows = [Base("vgg16", "VGG16", "vgg16", 224), Base("vgg19", "VGG19", "vgg19", 224),
            Base("resnet50", "ResNet50", "resnet50", 224), Base("resnet101", "ResNet101", "resnet", 224),
            Base("resnet152", "ResNet152", "resnet", 224)]
    rows += [Base(f"resnet{n}_v2", f"ResNet{n}V2", "resnet_v2", 224) for n in (50, 101, 152)]
    rows += [Base("inception_v3", "InceptionV3", "inception_v3", 299, 75),
             Base("inception_resnet_v2", "InceptionResNetV2", "inception_resnet_v2", 299, 75),
             Base("xception", "Xception", "xception", 299, 71),
             Base("mobilenet", "MobileNet", "mobilenet", 224), Base("mobilenet_v2", "MobileNetV2", "mobilenet_v2", 224),
             Base("mobilenet_v3_small", "MobileNetV3Small", "mobilenet_v3", 224),
             Base("mobilenet_v3_large", "MobileNetV3Large", "mobilenet_v3", 224)]
    rows += [Base(f"densenet{n}", f"DenseNet{n}", "densenet", 224) for n in (121, 169, 201)]
    rows += [Base("nasnet_mobile", "NASNetMobile", "nasnet", 224), Base("nasnet_large", "NASNetLarge", "nasnet", 331)]
    sizes = (224, 240, 260, 300, 380, 456, 528, 600)
    rows += [Base(f"efficientnet_b{i}", f"EfficientNetB{i}", "efficientnet", s) for i, s in enumerate(sizes)]
    rows += [Base(f"efficientnet_v2_b{i}", f"EfficientNetV2B{i}", "efficientnet_v2", s)
             for i, s in enumerate((224, 240, 260, 300))]
    rows += [Base(f"efficientnet_v2_{k.lower()}", f"EfficientNetV2{k}", "efficientnet_v2", s)
             for k, s in (("S", 384), ("M", 480), ("L", 480))]
    rows += [Base(f"convnext_{k}", f"ConvNeXt{k.capitalize() if k != 'xlarge' else 'XLarge'}", "convnext", 224)
             for k in ("tiny", "small", "base", "large", "xlarge")]
    return tuple(rows)


BASES = _rows()
_BY_KEY = {b.name.replace("_", ""): b for b in BASES}


def find_base(name: Any) -> Base:
    """The base called ``name`` (``inception_v3``, ``InceptionV3``, ``resnet-50``…), or one sentence with the closest.

    Example::

        >>> find_base("InceptionV3").module
        'inception_v3'
    """
    if isinstance(name, Base):
        return name
    key = str(name or "").strip().lower().replace("_", "").replace("-", "")
    if key in _BY_KEY:
        return _BY_KEY[key]
    raise unknown(_("Unknown --base '{word}'."), name, [b.name for b in BASES])


def base_names() -> list[str]:
    """Every base's name, as ``--base`` takes it.

    Example::

        >>> base_names()[:3]
        ['vgg16', 'vgg19', 'resnet50']
    """
    return [b.name for b in BASES]


def constructor(base: Base):
    """The Keras function that builds ``base`` (``keras.applications.InceptionV3`` …).

    Example::

        >>> constructor(find_base("resnet50")).__name__                    # doctest: +SKIP
        'ResNet50'
    """
    import keras

    return getattr(keras.applications, base.cls)


def preprocess_function(base: Base):
    """``keras.applications.<module>.preprocess_input`` of ``base``.

    Example::

        >>> preprocess_function(find_base("inception_v3"))(np.full((1, 1, 1, 3), 255.0))  # doctest: +SKIP
        array([[[[1., 1., 1.]]]], dtype=float32)
    """
    import keras

    return getattr(keras.applications, base.module).preprocess_input


# ----------------------------------------------------------------------------- ImageNet weights
@contextlib.contextmanager
def imagenet_weights(base: Base, announce=print):
    """Within it, ``keras.applications.X(weights="imagenet")`` reads Keras' cache, downloads, or says what to do.

    Keras' applications fetch their weights through ``keras.src.utils.file_utils.get_file`` (one
    name, URL and hash per base). While the block runs, that call answers from Keras' cache; a
    missing file is downloaded as Keras does (announced first, a read time-out instead of a hang)
    when the network answers, and offline it raises one sentence naming the file, where to get it
    and the folder to put it in. The private name is the only way to learn each base's file
    without copying Keras' table; if a Keras release moves it, Keras' own download runs unchanged.

    Example::

        with imagenet_weights(find_base("inception_v3")):
            base = keras.applications.InceptionV3(weights="imagenet", include_top=False)
    """
    try:
        from keras.src.utils import file_utils
    except ImportError:  # pragma: no cover - a Keras without the module: its own download path
        yield
        return
    original = file_utils.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        from .weights import cached_file, keras_models_dir, network_available

        found = cached_file(fname) if fname else None
        if found:
            return found
        folder = keras_models_dir()
        if not network_available(origin):
            raise NNUsageError(_(
                "{base}'s ImageNet weights file {file} is not in Keras' cache and the network cannot be reached: on "
                "a connected machine download it from {url} and put it in {folder}, or use --weights none for "
                "random weights.").format(base=base.cls, file=fname, url=origin, folder=folder))
        announce(_("Downloading {base}'s ImageNet weights {file} (once) into {folder}; Keras shows the "
                   "progress.").format(base=base.cls, file=fname, folder=folder))
        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(60.0)
        try:
            kwargs.setdefault("cache_dir", os.path.dirname(folder))
            return original(fname, origin, *args, **kwargs)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - HTTP, hash and disk errors all mean the same to the user
            raise NNUsageError(_("Downloading {file} failed ({reason}); download it from {url} and put it in "
                                 "{folder}, or use --weights none.").format(
                file=fname, reason=" ".join(str(exc).split())[:160], url=origin, folder=folder)) from None
        finally:
            socket.setdefaulttimeout(previous)

    file_utils.get_file = get_file
    try:
        yield
    finally:
        file_utils.get_file = original


def weights_literal(weights: Any, base: Base) -> tuple[str, str | None]:
    """``(the literal given to Keras' weights=, the file path or None)``: ``"imagenet"``, ``None`` or a checked path.

    Example::

        >>> weights_literal("none", find_base("resnet50"))
        ('None', None)
    """
    if weights is None:
        return "None", None
    text = os.fspath(weights) if isinstance(weights, os.PathLike) else str(weights)
    key = text.strip().lower()
    if key in ("none", "random", ""):
        return "None", None
    if key == "imagenet":
        return '"imagenet"', None
    path = os.path.abspath(os.path.expanduser(text))
    if not os.path.isfile(path):
        raise NNUsageError(_("Weights file '{path}' not found; give imagenet, none, or the path of a {base} "
                             "weights file (.h5 or .weights.h5).").format(path=text, base=base.cls))
    if not path.lower().endswith((".h5", ".hdf5")):
        raise NNUsageError(_("'{file}' is not a Keras weights file: give a .h5 or .weights.h5 file (Keras' {base} "
                             "weights, or save_weights() of a keras.applications.{base}).").format(
            file=os.path.basename(path), base=base.cls))
    return repr(path), path


__all__ = ["Base", "BASES", "find_base", "base_names", "constructor", "preprocess_function", "imagenet_weights",
           "weights_literal"]
