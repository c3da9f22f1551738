"""What a run was trained on, cheaply: the data's fingerprint and the network's signature.

``--resume`` continues a run only on the same network and the same data, and says in one sentence
what differs. Cheap by design (a fit must not wait for it): an image folder is known by its class
folders, file names and sizes (kept by ``%nn_data``'s check, no file read), a table by its values
(a few KB). File times are kept to show but not compared: unzipping or regenerating the same
images (a fresh Colab runtime) gives them new times and the same pixels.

Example::

    fp = data_fingerprint(cats)          # {'kind': 'images', 'samples': 400, 'classes': [...], 'digest': ...}
    data_difference(fp, data_fingerprint(other)) # "400 images in 2 classes (cats, dogs), now 380 images …"
"""
from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from ..i18n import _, ngettext, num


def data_fingerprint(data: Any) -> dict[str, Any]:
    """The identity of a ``%nn_data`` dataset as JSON values: kind, samples, classes, shape, a digest.

    Example::

        >>> data_fingerprint(data4)["kind"], data_fingerprint(data4)["samples"]       # doctest: +SKIP
        ('table', 300)
    """
    digest = hashlib.sha1()
    found: dict[str, Any] = {"kind": getattr(data, "kind", "?"), "samples": int(len(data)),
                             "classes": [str(c) for c in data.class_names],
                             "shape": [int(d) for d in data.input_shape]}
    if found["kind"] == "images":
        root = getattr(data, "root", "") or ""
        stamps = data.content_stamps()
        for path, label, (size, _mtime) in zip(data.files, data.labels, stamps):
            digest.update(f"{int(label)}\t{os.path.relpath(path, root) if root else path}\t{int(size)}\n".encode())
        found["root"] = root
        found["newest_mtime_ns"] = max((int(t) for _size, t in stamps), default=0)
    else:
        digest.update(np.ascontiguousarray(data.X).tobytes())
        digest.update(np.ascontiguousarray(data.labels).tobytes())
        digest.update(repr(list(getattr(data, "features", []))).encode())
        found["source"] = getattr(data, "source", None)
    found["digest"] = digest.hexdigest()[:16]
    return found


def describe_data(fp: dict[str, Any]) -> str:
    """``'400 images 150×150 in 2 classes (cats, dogs)'`` or ``'300 rows of 2 features in 3 classes (…)'``.

    Example::

        >>> describe_data({"kind": "table", "samples": 300, "shape": [2], "classes": ["a", "b", "c"]})
        '300 rows of 2 features in 3 classes (a, b, c)'
    """
    classes = fp.get("classes") or []
    shown = ", ".join(classes[:4]) + (", …" if len(classes) > 4 else "")
    samples = int(fp.get("samples", 0) or 0)
    if fp.get("kind") == "images":
        h, w = (fp.get("shape") or [0, 0])[:2]
        what = ngettext("{n} image {h}×{w}", "{n} images {h}×{w}", samples).format(n=num(samples, ","), h=h, w=w)
    else:
        features = (fp.get("shape") or [0])[0]
        what = (ngettext("{n} row of {features} features", "{n} rows of {features} features", samples)
                .format(n=num(samples, ","), features=features))
    return ngettext("{what} in {k} class ({names})", "{what} in {k} classes ({names})", len(classes)).format(
        what=what, k=len(classes), names=shown)


def data_difference(recorded: dict[str, Any] | None, now: dict[str, Any]) -> str | None:
    """None when ``now`` is the data ``recorded`` describes, else how it differs, in words.

    Example::

        >>> a = {"kind": "table", "samples": 300, "shape": [2], "classes": ["a", "b"], "digest": "1"}
        >>> data_difference(a, dict(a, samples=200, digest="2"))
        'it was 300 rows of 2 features in 2 classes (a, b), now 200 rows of 2 features in 2 classes (a, b)'
        >>> data_difference(a, dict(a, digest="2"))
        'it has the same size and classes but other files or values'
    """
    if not recorded:
        return None
    keys = ("kind", "samples", "classes", "shape")
    if any(recorded.get(k) != now.get(k) for k in keys):
        return _("it was {before}, now {now}").format(before=describe_data(recorded), now=describe_data(now))
    if recorded.get("digest") != now.get("digest"):
        return _("it has the same size and classes but other files or values")
    return None


def model_signature(model: Any) -> dict[str, Any]:
    """The network's identity: its weight shapes in order and its parameter count (not its layer names,
    which Keras numbers differently in each kernel).

    Example::

        >>> model_signature(build_model(preset="course-dense"))["params"]    # doctest: +SKIP
        33
    """
    shapes = [[int(d) for d in variable.shape] for variable in model.weights]
    return {"params": int(sum(int(np.prod(s)) for s in shapes)), "weights": shapes}


def model_difference(recorded: dict[str, Any] | None, now: dict[str, Any]) -> str | None:
    """None when ``now`` is the network ``recorded`` describes, else how it differs, in words.

    Example::

        >>> model_difference({"params": 33, "weights": [[2, 3]]}, {"params": 13, "weights": [[2, 3]]})
        'it had 33 parameters, this one 13'
    """
    if not recorded:
        return None
    if recorded.get("params") != now.get("params"):
        return _("it had {before} parameters, this one {now}").format(before=num(recorded.get("params", 0), ","),
                                                                       now=num(now.get("params", 0), ","))
    if recorded.get("weights") != now.get("weights"):
        return _("it had the same number of parameters in other layers")
    return None


__all__ = ["data_fingerprint", "describe_data", "data_difference", "model_signature", "model_difference"]
