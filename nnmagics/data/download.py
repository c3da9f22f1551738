"""Download a course dataset (or any ``.zip`` URL) into nnmagics' cache and extract it safely.

``keras.utils.get_file`` does the download (progress bar, checksum when one is known, a
file already in the cache is not fetched again); ``archive.extract_zip`` does the
extraction (no path escaping the folder, size caps). Offline, one sentence says what
failed and what to do instead.
"""
from __future__ import annotations

import hashlib
import os
import re
import socket
import zipfile
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlparse

from ..errors import NNUsageError
from ..i18n import _

# A stalled connection fails after this many seconds instead of hanging the notebook.
READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class Dataset:
    """A downloadable dataset: where it lives and, when known, its checksum (sha256 or md5)."""

    url: str
    file_name: str
    file_hash: str | None = None


# Tests and mirrors may replace an entry (e.g. a local server's URL).
DATASETS: dict[str, Dataset] = {
    "cats_and_dogs_filtered": Dataset(
        url="https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
        file_name="cats_and_dogs_filtered.zip",
    ),
}


def download_dataset(what: str, *, announce: Callable[[str], None] | None = print) -> str:
    """Download ``what`` (a name in ``DATASETS`` or an ``http(s)://…zip`` URL) and return its extracted folder.

    The zip is kept in ``cache_dir()/downloads`` (``%config NNMagics.cache_dir``) and
    extracted beside it, once; a second call re-uses both.

    Example::

        >>> folder = download_dataset("cats_and_dogs_filtered")        # doctest: +SKIP
        >>> data = load_images(folder, image_size=150)                  # doctest: +SKIP
    """
    from .archive import extract_zip
    from .image_files import _writable_subdir

    dataset = resolve(what)
    folder = _writable_subdir("downloads")
    target = os.path.join(folder, dataset.file_name)
    if announce is not None and not os.path.exists(target):
        announce(_("Downloading {url} into {folder} (once); Keras shows the progress below.").format(
            url=dataset.url, folder=folder))
    zip_path = _get_file(dataset, folder)
    if not zipfile.is_zipfile(zip_path):
        os.remove(zip_path)
        raise NNUsageError(_("What {url} sent is not a zip file; check the URL (it must point to a .zip).").format(
            url=dataset.url))
    return extract_zip(zip_path, os.path.splitext(zip_path)[0], announce=announce)


def resolve(what: str) -> Dataset:
    """The ``Dataset`` for a known name or a URL; an error sentence for anything else.

    Example::

        >>> resolve("https://example.org/pets.zip").file_name.startswith("pets-")
        True
    """
    text = str(what).strip()
    if text in DATASETS:
        return DATASETS[text]
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.splitext(os.path.basename(parsed.path))[0])[:60] or "download"
        # the same file name from two URLs must not share a cache entry
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        return Dataset(url=text, file_name=f"{stem}-{digest}.zip")
    names = (" " + _("or") + " ").join(f"'{name}'" for name in DATASETS)
    raise NNUsageError(_("Unknown dataset '{name}' for --download; give {names} or an http(s) URL of a .zip.").format(
        name=text, names=names))


def _get_file(dataset: Dataset, folder: str) -> str:
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(READ_TIMEOUT)
    try:
        return keras.utils.get_file(dataset.file_name, dataset.url, file_hash=dataset.file_hash,
                                    cache_dir=os.path.dirname(folder), cache_subdir=os.path.basename(folder))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - urllib, HTTP and checksum errors all mean the same to the user
        raise NNUsageError(
            _("Downloading {url} failed ({reason}); without network use %nn_data --make-samples DIR "
              "for course-like data, or download the zip elsewhere and put it at {path}.").format(
                url=dataset.url, reason=_short(exc), path=os.path.join(folder, dataset.file_name))
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160] + ("…" if len(text) > 160 else "")


__all__ = ["download_dataset", "resolve", "Dataset", "DATASETS"]
