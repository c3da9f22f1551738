"""Predictions on image files: VGG16's ImageNet classes (the course's recipe), and a trained model's classes.

- ``vgg_predict(image)``: the course's recipe (``load_img(target_size=(224, 224))``,
  ``preprocess_input``, ``predict``) with the ImageNet labels read offline
  (:mod:`nnmagics.transfer.imagenet_labels`), never ``decode_predictions`` (which downloads a JSON);
- ``model_predict(model, image)``: a trained image model (raw 0–255 pixels in, as every nnmagics
  image model), the image resized as ``%nn_data`` serves it.

``image`` is a file, a folder (one top-1 row per image, ``limit`` images at most) or a list of
files. Files are read by :func:`nnmagics.data.pixels.read_image`; unreadable ones in a folder are
skipped and listed. A progress bar shows on folders that take more than 2 seconds.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..checks import check_model, model_input_shape, whole_number
from ..errors import NNUsageError
from ..i18n import _
from .code import TOP_SIZE
from ..progress import progress_bar
from .weights import resolve_weights

PREDICT_BATCH = 8
DEFAULT_FOLDER_LIMIT = 100
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")

_PREDICTOR: dict[str, Any] = {}


# ----------------------------------------------------------------------------- images
def course_image(path: str | os.PathLike, size: tuple[int, int] = TOP_SIZE) -> np.ndarray:
    """An image file as the course loads it: ``img_to_array(load_img(path, target_size=size))``.

    RGB, resized with PIL's nearest-neighbour filter (``load_img``'s default), float32 0–255.
    Grayscale, RGBA, CMYK and 16-bit files are converted to RGB.

    Example::

        >>> course_image("dog.jpg").shape                                  # doctest: +SKIP
        (224, 224, 3)
    """
    from PIL import Image

    from ..data.pixels import read_image

    image = Image.fromarray(read_image(path))
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.NEAREST)
    return np.asarray(image, dtype="float32")


def model_image(path: str | os.PathLike, size: tuple[int, int]) -> np.ndarray:
    """An image file as ``%nn_data`` serves it to a model: RGB, bilinear resize, rounded, float32 0–255.

    Example::

        >>> model_image("dog.jpg", (150, 150)).shape                       # doctest: +SKIP
        (150, 150, 3)
    """
    from ..data.pixels import read_image

    return read_image(path, size).astype("float32")


def image_files(folder: str | os.PathLike) -> list[str]:
    """The image files of a folder and its sub-folders (by extension), sorted, hidden ones left out.

    Example::

        >>> image_files("photos")                                           # doctest: +SKIP
        ['/home/me/photos/cat.jpg', '/home/me/photos/dogs/dog.png']
    """
    folder = os.path.abspath(os.path.expanduser(os.fspath(folder)))
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__MACOSX")
        found += [os.path.join(dirpath, f) for f in filenames
                  if not f.startswith(".") and f.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found)


def expand_images(images: Any, limit: int | None = DEFAULT_FOLDER_LIMIT) -> tuple[list[str], bool, int]:
    """A path, a folder or a list of paths → ``(files, is_many, total)``, at most ``limit`` files of a folder.

    Example::

        >>> expand_images("dog.jpg")                                        # doctest: +SKIP
        (['dog.jpg'], False, 1)
    """
    from ..data.filenames import printable

    if isinstance(images, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(images))
        if os.path.isdir(path):
            files = image_files(path)
            if not files:
                raise NNUsageError(_("The folder '{path}' holds no image file (.jpg, .png…); give an image or "
                                     "another folder.").format(path=printable(path)))
            return (files[:limit] if limit else files), True, len(files)
        if not os.path.exists(path):
            raise NNUsageError(_("No such image file or folder: '{path}'; check the path (relative paths start "
                                 "from {folder}).").format(path=printable(path), folder=os.getcwd()))
        return [path], False, 1
    files = [os.fspath(p) for p in images]
    if not files:
        raise NNUsageError(_("Give at least one image to predict."))
    return files, len(files) > 1, len(files)


def _predict_files(files: Sequence[str], loader, predict, desc: str):
    """``(files kept, predictions, skipped [(file, reason)])``, by batches of ``PREDICT_BATCH``, with progress.

    A file that cannot be read is skipped when there are several (one file: its error is raised).
    """
    kept, outputs, skipped = [], [], []
    with progress_bar(len(files), desc, "image") as bar:
        for start in range(0, len(files), PREDICT_BATCH):
            chunk = list(files[start:start + PREDICT_BATCH])
            arrays = []
            for path in chunk:
                try:
                    arrays.append(loader(path))
                    kept.append(path)
                except NNUsageError as exc:
                    if len(files) == 1:
                        raise
                    skipped.append((path, str(exc)))
            if arrays:
                outputs.append(predict(np.stack(arrays)))
            bar.update(len(chunk))
    if not kept:
        raise NNUsageError(_("None of the images could be read; give .jpg or .png files."))
    return kept, np.concatenate(outputs), skipped


def _check_top(top: Any, most: int) -> int:
    return min(whole_number(top, "--top", example="5"), most)


# ----------------------------------------------------------------------------- ImageNet's VGG16
def imagenet_model(weights: Any = "imagenet", *, announce=print):
    """The whole ``keras.applications.VGG16`` for ImageNet predictions, kept for the next call with the same weights.

    Only one is kept (it weighs 528 MB). With ``weights="none"`` the same random network is reused.

    Example::

        >>> imagenet_model("none").count_params()                          # doctest: +SKIP
        138357544
    """
    from .models import vgg16

    path = resolve_weights(weights, True, announce=announce)
    key = "random" if path is None else f"{path}|{os.stat(path).st_size}|{os.stat(path).st_mtime_ns}"
    if key not in _PREDICTOR:
        _PREDICTOR.clear()
        _PREDICTOR[key] = vgg16(include_top=True, weights=path or "none", announce=announce)
    return _PREDICTOR[key]


def imagenet_probabilities(files: Sequence[str], weights: Any = "imagenet", *, announce=print):
    """``(files kept, probabilities (n, 1000), skipped [(file, reason)])`` with the course's recipe.

    The recipe: ``load_img(f, target_size=(224, 224))`` → ``img_to_array`` →
    ``vgg16.preprocess_input`` → ``model.predict``.

    Example::

        >>> kept, probs, skipped = imagenet_probabilities(["dog.jpg"])     # doctest: +SKIP
    """
    from keras.applications.vgg16 import preprocess_input

    model = imagenet_model(weights, announce=announce)
    return _predict_files(files, course_image, lambda batch: model.predict(preprocess_input(batch), verbose=0),
                          _("{model} predictions").format(model="VGG16"))


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
    top = _check_top(top, 1000)
    files, many, total = expand_images(images, limit)
    kept, probs, skipped = imagenet_probabilities(files, weights, announce=announce)
    return imagenet_frame(kept, probs, skipped, total=total, many=many, top=top)


def imagenet_frame(kept: Sequence[str], probs: np.ndarray, skipped: list, *, total: int, many: bool, top: int):
    """The predictions table: ``rank, imagenet_id, wordnet_id, name, probability`` (one image, top ``top``)
    or ``file, …`` (top-1 per image); ``attrs`` hold ``files``, ``skipped``, ``total``, ``many``.

    Example::

        >>> imagenet_frame(["a.jpg"], np.eye(1000)[[207]], [], total=1, many=False, top=1).name[0]  # doctest: +SKIP
        'golden_retriever'
    """
    import pandas as pd

    from .imagenet_labels import all_labels

    labels = all_labels()
    if many:
        best = [int(np.argmax(p)) for p in probs]
        rows = [(path, i, labels[i].wnid, labels[i].name, float(p[i])) for path, p, i in zip(kept, probs, best)]
        frame = pd.DataFrame(rows, columns=["file", "imagenet_id", "wordnet_id", "name", "probability"])
    else:
        order = np.argsort(-probs[0])[:top]
        frame = pd.DataFrame([(r, int(i), labels[i].wnid, labels[i].name, float(probs[0][i]))
                              for r, i in enumerate(order, 1)],
                             columns=["rank", "imagenet_id", "wordnet_id", "name", "probability"])
    frame.attrs.update(files=kept, skipped=skipped, total=total, many=many)
    return frame



# ----------------------------------------------------------------------------- a trained model
def _as_probabilities(out) -> np.ndarray:
    out = np.asarray(out, dtype="float64")
    if out.ndim == 1:
        out = out[:, None]
    if out.shape[1] == 1:  # one sigmoid unit: P(class 1)
        out = np.concatenate([1.0 - out, out], axis=1)
    return out


def _model_size(model) -> tuple[int, int]:
    check_model(model, f"'{getattr(model, 'name', 'model')}'")
    shape = model_input_shape(model) or ()
    if len(shape) != 3 or shape[0] is None or shape[1] is None or shape[2] != 3:
        raise NNUsageError(_("Model '{model}' does not take colour images of a fixed size (input shape {shape}); "
                             "give an image model such as one from %vgg_transfer build.").format(
            model=getattr(model, "name", "model"), shape=shape or _("unknown")))
    return int(shape[0]), int(shape[1])


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

    from .models import transfer_info

    size = _model_size(model)
    wanted = whole_number(top, "--top", example="5")
    files, many, total = expand_images(images, limit)
    kept, p, skipped = _predict_files(files, lambda path: model_image(path, size),
                                      lambda batch: _as_probabilities(model.predict(batch, verbose=0)),
                                      _("{model} predictions").format(model=model.name))
    names = list(classes or transfer_info(model).get("classes")
                 or [_("class {i}").format(i=i) for i in range(p.shape[1])])
    if len(names) != p.shape[1]:
        raise NNUsageError(_("The model has {outputs} outputs but {names} class names were given; give the dataset "
                             "it was trained on with --from DATA.").format(outputs=p.shape[1], names=len(names)))
    if many:
        rows = [(f, names[int(np.argmax(q))], float(np.max(q))) for f, q in zip(kept, p)]
        frame = pd.DataFrame(rows, columns=["file", "class", "probability"])
    else:
        order = np.argsort(-p[0])[:min(wanted, p.shape[1])]
        frame = pd.DataFrame([(r, names[i], float(p[0][i])) for r, i in enumerate(order, 1)],
                             columns=["rank", "class", "probability"])
    frame.attrs.update(files=kept, skipped=skipped, total=total, many=many)
    return frame


__all__ = ["vgg_predict", "model_predict", "imagenet_model", "imagenet_probabilities", "course_image",
           "model_image", "image_files", "expand_images", "DEFAULT_FOLDER_LIMIT", "PREDICT_BATCH"]
