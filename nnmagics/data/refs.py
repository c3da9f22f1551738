"""The one ``DATA[i]`` / ``DATA[a:b]`` grammar: images of a dataset in the notebook, named where a file path could go.

``%nn_diagnose … --feature-maps cats_val[3]``, ``%vgg_transfer predict cats_val[-1]`` and the like
all read their argument with :func:`resolve_item`; ``%nn_diagnose cnn --gradcam cats_val[0:8]``
reads several images with :func:`resolve_items` (``DATA[i]`` or ``DATA[a:b]``):

- the form is ``NAME[INDEX]``: ``NAME`` a Python name, ``INDEX`` a whole number, spaces allowed
  inside the brackets (``cats_val[ 3 ]``), nothing before or after;
- a negative index counts from the end, as in Python (``imgs[-1]`` is the last image); the index
  returned is the non-negative one;
- a slice ``NAME[a:b]`` (``a`` or ``b`` may be left out, negative ones count from the end) means
  what it means in Python; one that holds no image is one sentence;
- anything else (``dog.jpg``, ``photos/``) is not a reference: ``None``, and the caller reads it as
  a path. A file that really is named like a reference (``shot[1]``) while no such dataset exists
  is a path too.

Every mistake is one sentence: an unknown name, a name that is not an image dataset, an index
out of range (``Index 9999 is out of range: 'imgs' has 120 images (0 to 119).``).
"""
from __future__ import annotations

import os
import re
from typing import Any, Mapping

from ..errors import NNUsageError
from ..i18n import _, num

REFERENCE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\[\s*([+-]?\d+)\s*\]\s*$")
SLICE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\[\s*([+-]?\d+)?\s*:\s*([+-]?\d+)?\s*\]\s*$")


def parse_reference(text: Any) -> tuple[str, int] | None:
    """``"cats_val[3]"`` → ``("cats_val", 3)``; None for anything not of the form ``NAME[INDEX]``.

    Example::

        >>> parse_reference("imgs[-1]"), parse_reference("dog.jpg")
        (('imgs', -1), None)
    """
    if not isinstance(text, str):
        return None
    match = REFERENCE.match(text)
    return (match.group(1), int(match.group(2))) if match else None


def parse_slice(text: Any) -> tuple[str, slice] | None:
    """``"cats_val[0:8]"`` → ``("cats_val", slice(0, 8))``; None for anything not of the form ``NAME[a:b]``.

    Example::

        >>> parse_slice("imgs[:8]"), parse_slice("imgs[-4:]"), parse_slice("imgs[3]")
        (('imgs', slice(None, 8, None)), ('imgs', slice(-4, None, None)), None)
    """
    if not isinstance(text, str):
        return None
    match = SLICE.match(text)
    if not match:
        return None
    start, stop = (None if g is None else int(g) for g in match.group(2, 3))
    return match.group(1), slice(start, stop)


def is_image_data(value: Any) -> bool:
    """True for an image dataset (``%nn_data`` on a folder or a zip: ``ImageData``)."""
    return hasattr(value, "load_image") and getattr(value, "files", None) is not None


def _described(value: Any) -> str:
    """'an ndarray' in English, 'de type ndarray' in French (``checks.with_article``)."""
    from ..checks import with_article

    return with_article(type(value).__name__)


def image_dataset(namespace: Mapping[str, Any], name: str, option: str | None = None) -> Any:
    """The image dataset called ``name`` in ``namespace``, else one sentence.

    ``option`` names what asked for it in the sentence (``--augment-preview``); ``DATA[i]`` otherwise.

    Example::

        >>> image_dataset(get_ipython().user_ns, "imgs")               # doctest: +SKIP
        ImageData 'imgs': 120 images 32×32 in 2 classes ...
    """
    if name not in namespace:
        raise NNUsageError(_("There is no dataset named '{name}' in the notebook; load it with %nn_data "
                             "or give an image path.").format(name=name))
    value = namespace[name]
    if not is_image_data(value):
        if getattr(value, "kind", None) == "table":
            sentence = _("{option} needs an image dataset, but '{name}' is a table; load an image folder with %nn_data.")
        else:
            sentence = _("{option} needs an image dataset, but '{name}' is {a_type}; load an image folder with "
                         "%nn_data.")
        raise NNUsageError(sentence.format(option=option or "DATA[i]", name=name, a_type=_described(value)))
    return value


def check_index(data: Any, index: int, name: str) -> int:
    """``index`` (negative counts from the end) as a valid non-negative index of ``data``, else one sentence.

    Example::

        >>> check_index(imgs, -1, "imgs")                              # doctest: +SKIP
        119
    """
    n = len(data)
    if n == 0:
        raise NNUsageError(_("Index {index} is out of range: '{name}' has no images; load a folder with images.").format(
            index=index, name=name))
    if not -n <= index < n:
        raise NNUsageError(_("Index {index} is out of range: '{name}' has {n} images (0 to {last}).").format(
            index=index, name=name, n=num(n, ","), last=n - 1))
    return index % n


def resolve_item(namespace: Mapping[str, Any], text: str, option: str | None = None) -> tuple[Any, int] | None:
    """``"cats_val[3]"`` → ``(the dataset cats_val, 3)``; None when ``text`` is not a ``DATA[i]`` reference.

    ``namespace`` is where names are looked up (the notebook's ``get_ipython().user_ns``). A
    negative index counts from the end and comes back non-negative. A name that is not in
    ``namespace`` is an error, unless ``text`` is the path of an existing file (then None).
    ``option`` names the asking option in the sentence when the name is not an image dataset.

    Example::

        >>> resolve_item({"imgs": imgs}, "imgs[-1]")                  # doctest: +SKIP
        (ImageData 'imgs': 120 images …, 119)
        >>> resolve_item({"imgs": imgs}, "dog.jpg") is None            # doctest: +SKIP
        True
        >>> resolve_item({}, "nope[0]")                                # doctest: +SKIP
        NNUsageError: There is no dataset named 'nope' in the notebook; load it with %nn_data or give an image path.
    """
    parsed = parse_reference(text)
    data = _named(namespace, parsed[0], text, option) if parsed else None
    return None if data is None else (data, check_index(data, parsed[1], parsed[0]))


def _named(namespace: Mapping[str, Any], name: str, text: str, option: str | None) -> Any:
    """The image dataset ``name`` of a reference ``text``; None when ``text`` is an existing file's path instead."""
    if name not in namespace and os.path.isfile(os.path.expanduser(text)):
        return None
    return image_dataset(namespace, name, option)


def resolve_items(namespace: Mapping[str, Any], text: str, option: str | None = None) -> tuple[Any, list[int]] | None:
    """``"cats_val[0:8]"`` or ``"cats_val[3]"`` → ``(the dataset cats_val, [indices])``; None when ``text`` is
    neither form (the caller reads it as a name or a path). A slice that holds no image is one sentence.

    Example::

        >>> resolve_items({"imgs": imgs}, "imgs[-2:]")                 # doctest: +SKIP
        (ImageData 'imgs': 120 images …, [118, 119])
    """
    one = resolve_item(namespace, text, option)
    if one is not None:
        return one[0], [one[1]]
    parsed = parse_slice(text)
    data = _named(namespace, parsed[0], text, option) if parsed else None
    if data is None:
        return None
    name, which = parsed
    indices = list(range(len(data)))[which]
    if not indices:
        raise NNUsageError(_("'{text}' holds no image: '{name}' has {n} images (0 to {last}); "
                             "give a slice such as {name}[0:8].").format(text=text.strip(), name=name,
                                                                        n=num(len(data), ","), last=len(data) - 1))
    return data, indices


def resolve_images(namespace: Mapping[str, Any], text: str, option: str | None = None) -> Any:
    """Images named on a magic's line: ``DATA[a:b]``/``DATA[i]`` → ``(dataset, [indices])``, a dataset's or
    an array's name → that object, anything else → the text (a file path, read by whoever needs it).

    Example::

        >>> resolve_images(get_ipython().user_ns, "cats_val[0:8]")[1]   # doctest: +SKIP
        [0, 1, 2, 3, 4, 5, 6, 7]
    """
    found = resolve_items(namespace, text, option)
    if found is not None:
        return found
    value = namespace.get(text.strip()) if text.strip().isidentifier() else None
    if value is not None and (hasattr(value, "labels") or len(getattr(value, "shape", ())) in (3, 4)):
        return value
    return text


__all__ = ["resolve_item", "resolve_items", "resolve_images", "parse_reference", "parse_slice", "image_dataset",
           "check_index", "is_image_data", "REFERENCE", "SLICE"]
