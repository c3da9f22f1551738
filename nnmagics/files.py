"""One way to write a file or a folder (atomically), one cache folder and one runs folder.

An interrupted write never leaves a half-written file where the user's (or the cache's) file was:
everything nnmagics writes goes to a temporary name in the same folder, then ``os.replace``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import Callable


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], *, suffix: str = "") -> str:
    """Call ``write(tmp_path)``, then rename it over ``path``; on any failure ``path`` is untouched.

    ``suffix`` is the temporary file's ending, for writers that insist on one (Keras wants
    ``.weights.h5``). Returns ``path``.

    Example::

        atomic_write("best.weights.h5", model.save_weights, suffix=".weights.h5")
        atomic_write("table.npz", lambda tmp: np.savez(open(tmp, "wb"), x=x))
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".nnmagics-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_folder(path: str | os.PathLike, build: Callable[[str], object]) -> str:
    """Call ``build(tmp_folder)``, then put that folder at ``path`` (replacing what is there); on failure ``path`` is untouched.

    The caller decides whether an existing ``path`` may be replaced (nnmagics replaces only what it
    wrote, or what the user named with ``overwrite=True``). Returns ``path``.

    Example::

        atomic_folder("course_data/cats_and_dogs_filtered", lambda tmp: write_images(tmp))
    """
    path = os.path.abspath(os.fspath(path))
    tmp = f"{path}.partial-{uuid.uuid4().hex[:8]}"
    try:
        build(tmp)
        if os.path.lexists(path):
            old = f"{tmp}.old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def cache_dir() -> str:
    """The nnmagics cache folder (image checks, converted images, VGG16 features, downloads).

    ``%config NNMagics.cache_dir`` if set, else ``$NNMAGICS_CACHE_DIR``, else ``~/.cache/nnmagics``.
    """
    from .config import settings

    configured = settings().cache_dir or os.environ.get("NNMAGICS_CACHE_DIR", "")
    return os.path.abspath(os.path.expanduser(configured or os.path.join("~", ".cache", "nnmagics")))


RUNS_FOLDER = "nnmagics-runs"


def runs_dir() -> str:
    """The folder of the recorded runs (``%nn_runs``, ``%nn_train --resume``).

    ``%config NNMagics.runs_dir`` if set, else ``$NNMAGICS_RUNS_DIR``, else ``nnmagics-runs`` in the
    working folder (next to the notebook): runs are the user's work, not a cache to clear, and they
    travel with the notebook. On Colab the working folder goes with the runtime: point it at Drive.

    Example::

        runs_dir()      # '/home/me/course/nnmagics-runs'
    """
    from .config import settings

    configured = settings().runs_dir or os.environ.get("NNMAGICS_RUNS_DIR", "")
    return os.path.abspath(os.path.expanduser(configured or RUNS_FOLDER))
