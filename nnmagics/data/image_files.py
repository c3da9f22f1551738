"""Checking image files once: readable, not truncated, under the pixel cap; converted when TensorFlow cannot.

Every file is opened, verified and fully decoded once with PIL. The result is cached on disk
(``cache_dir()/image-checks``), keyed by path, size and modification time, so a folder is checked
again only where it changed. Each file gets a status:

- ``TF``: 8-bit JPEG/PNG, which the pipeline decodes as is;
- ``CONVERT``: anything else readable (CMYK JPEG, 16-bit PNG, TIFF, WebP, GIF, BMP…), written
  once as an RGB PNG in ``cache_dir()/converted``, which the pipeline reads instead;
- ``SKIP``: empty, unreadable, truncated, not an image, or over the pixel cap (with the reason).

A file changed after the check is named in one sentence (:func:`explain_file_error`), never a
TensorFlow error mid-epoch. PIL is imported only inside the functions that need it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable

from ..errors import NNUsageError
from ..files import atomic_write, cache_dir
from ..i18n import _
from .filenames import changed_error, printable
from .pixels import TOO_LARGE, shown_reason, tf_can_decode, to_rgb, too_large

_CHECKS_VERSION = 2
# what the pipeline reports when a file no longer has the size it had when it was checked
CHANGED_MARK = "nnmagics: an image file changed after %nn_data checked it:"  # internal: matched in TF errors

# status of a checked file: decoded by TensorFlow as is, converted once to a cached PNG, or skipped
TF = "tf"
CONVERT = "convert"
SKIP = "skip"


# ----------------------------------------------------------------------------- cache folders
_SUBDIRS: dict[tuple[str, str], str] = {}


def _writable_subdir(name: str) -> str:
    """``cache_dir()/name``, created; a temp folder when the cache folder is not writable."""
    key = (cache_dir(), name)
    if key in _SUBDIRS and os.path.isdir(_SUBDIRS[key]):
        return _SUBDIRS[key]
    _SUBDIRS[key] = _find_writable_subdir(name)
    return _SUBDIRS[key]


def _find_writable_subdir(name: str) -> str:
    user = os.getuid() if hasattr(os, "getuid") else "user"
    for base in (cache_dir(), os.path.join(tempfile.gettempdir(), f"nnmagics-{user}")):
        path = os.path.join(base, name)
        try:
            os.makedirs(path, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise NNUsageError(_("No writable cache folder; set %config NNMagics.cache_dir = 'a writable folder'."))


def _write_bytes(path: str, data: bytes) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    atomic_write(path, write)


# ----------------------------------------------------------------------------- the cached check results
class _CheckStore:
    """The JSON file of check results for one folder: ``path -> [size, mtime_ns, status, detail, shape]``."""

    def __init__(self, group: str):
        digest = hashlib.sha1(os.path.abspath(group).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.path = os.path.join(_writable_subdir("image-checks"), f"{digest}.json")
        self.entries: dict[str, list] = {}
        self.changed = False
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("version") == _CHECKS_VERSION:
                self.entries = dict(data.get("entries", {}))
        except (OSError, ValueError, AttributeError):
            pass

    def get(self, path: str, stat: os.stat_result) -> tuple | None:
        entry = self.entries.get(path)
        if not entry or entry[0] != stat.st_size or entry[1] != stat.st_mtime_ns:
            return None
        record = (entry[2], entry[3], tuple(entry[4]) if entry[4] else None)
        if record[0] == SKIP and record[1].startswith(TOO_LARGE):
            return None if too_large(record[2]) is None else record  # the cap may have been raised
        reason = too_large(record[2]) if record[0] != SKIP else None  # or lowered
        return (SKIP, reason, record[2]) if reason else record

    def put(self, path: str, stat: os.stat_result, record: tuple) -> None:
        status, detail, shape = record
        self.entries[path] = [stat.st_size, stat.st_mtime_ns, status, detail, list(shape) if shape else None]
        self.changed = True

    def save(self, keep: Iterable[str]) -> None:
        keep = set(keep)
        if set(self.entries) - keep:
            self.entries = {p: e for p, e in self.entries.items() if p in keep}
            self.changed = True
        if not self.changed:
            return
        try:
            payload = json.dumps({"version": _CHECKS_VERSION, "entries": self.entries}).encode("utf-8")
            _write_bytes(self.path, payload)
        except OSError:
            pass  # a read-only cache only costs a re-check next time


# ----------------------------------------------------------------------------- one file
def converted_path(path: str, stat: os.stat_result) -> str:
    """Where the RGB PNG copy of ``path`` (as it was at ``stat``) lives in the cache folder."""
    key = f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(_writable_subdir("converted"), f"{digest}.png")


def _save_converted(image, target: str) -> None:
    """Write the RGB copy atomically: a half-written PNG would break an epoch later."""
    buf = io.BytesIO()
    to_rgb(image).save(buf, "PNG", compress_level=1)
    try:
        _write_bytes(target, buf.getvalue())
    except OSError as exc:
        raise NNUsageError(
            _("Cannot write a converted image into the cache folder ({reason}); "
              "free some disk space or set %config NNMagics.cache_dir = 'another folder'.").format(
                reason=exc.strerror or exc)
        ) from None


def inspect_file(path: str, stat: os.stat_result) -> tuple[str, str, tuple | None]:
    """Open, verify and fully decode one file with PIL; return ``(status, detail, original shape)``.

    ``detail`` is the reason for skipped files and the image format otherwise. Files that
    TensorFlow cannot decode are converted here, while the image is already decoded.

    Example::

        >>> inspect_file("cats/cat.0.jpg", os.stat("cats/cat.0.jpg"))   # doctest: +SKIP
        ('tf', 'JPEG', (374, 500, 3))
    """
    from PIL import Image, UnidentifiedImageError

    if stat.st_size == 0:
        return SKIP, "empty file", None
    try:
        with Image.open(path) as im:
            fmt = im.format
            header_shape = (im.size[1], im.size[0], len(im.getbands()))
            reason = too_large(header_shape)  # from the header: never decode a pixel bomb
            if reason:
                return SKIP, reason, header_shape
            im.verify()
        with Image.open(path) as im:
            if fmt in ("JPEG", "MPO") and im.mode in ("RGB", "L"):
                # TensorFlow decodes it: read the whole stream (truncation, corrupt data) at 1/8 scale,
                # about twice as fast as a full decode; the shape is the header's
                width, height = im.size
                im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
                im.load()
                return TF, str(fmt), (height, width, len(im.getbands()))
            im.load()
            mode, (width, height) = im.mode, im.size
            shape = (height, width, len(im.getbands()))
            if tf_can_decode(path, fmt, mode):
                return TF, str(fmt), shape
            _save_converted(im, converted_path(path, stat))
            return CONVERT, str(fmt), shape
    except NNUsageError:
        raise
    except UnidentifiedImageError:
        return SKIP, "not an image file", None
    except Image.DecompressionBombError:
        return SKIP, f"{TOO_LARGE} (over PIL's decompression-bomb limit)", None
    except OSError as exc:
        if exc.errno is not None and not os.path.exists(path):
            return SKIP, "file vanished while reading", None
        return SKIP, _corrupt_reason(exc), None
    except Exception as exc:  # PIL raises SyntaxError, ValueError, struct.error… on corrupt data
        return SKIP, _corrupt_reason(exc), None


def _corrupt_reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "truncated" in text.lower():
        return f"truncated image ({text})"
    return f"corrupt image ({text})"


# ----------------------------------------------------------------------------- many files
def check_images(paths: list[str], group: str) -> dict[str, tuple]:
    """Check every path once (cached in ``cache_dir()/image-checks``); return ``path -> (status, detail, shape)``.

    ``group`` names the folder whose cache file holds the results. Files are checked in
    parallel threads (PIL releases the GIL while decoding).

    Example::

        >>> check_images(["cats/cat.0.jpg", "cats/notes.txt"], "cats")   # doctest: +SKIP
        {'cats/cat.0.jpg': ('tf', 'JPEG', (374, 500, 3)), 'cats/notes.txt': ('skip', 'not an image file', None)}
    """
    return check_with_stats(paths, group)[0]


def check_with_stats(paths: list[str], group: str) -> tuple[dict[str, tuple], dict[str, os.stat_result]]:
    """``check_images`` plus the ``os.stat`` of every file as it was checked (its content identity)."""
    from PIL import ImageFile

    store = _CheckStore(group)
    results: dict[str, tuple] = {}
    stats: dict[str, os.stat_result] = {}
    todo: list[tuple[str, os.stat_result]] = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError as exc:
            results[path] = (SKIP, f"cannot read the file ({exc.strerror or exc})", None)
            continue
        stats[path] = stat
        cached = store.get(path, stat)
        if cached is not None and (cached[0] != CONVERT or os.path.exists(converted_path(path, stat))):
            results[path] = cached
        else:
            todo.append((path, stat))
    if todo:
        # truncated files must fail to load, even if the user's code allowed them globally
        truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                workers = min(16, 2 * (os.cpu_count() or 2), len(todo))
                from ..progress import progress_bar

                with ThreadPoolExecutor(max_workers=workers) as pool, \
                        progress_bar(len(todo), _("Checking images"), "image") as bar:
                    records = []
                    for record in pool.map(lambda item: inspect_file(*item), todo):
                        records.append(record)
                        bar.update()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
        for (path, stat), record in zip(todo, records):
            results[path] = record
            store.put(path, stat, record)
    store.save(p for p in paths if p in store.entries)
    return results, stats


def decode_path(path: str, record: tuple, stat: os.stat_result | None = None) -> str:
    """The file the pipeline reads: the original, or its converted RGB copy."""
    if record[0] == CONVERT:
        return converted_path(path, stat or os.stat(path))
    return path


def size_of(path: str) -> int:
    """The file's size in bytes, -1 when unknown (the pipeline then skips its size check for it)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return -1


# ----------------------------------------------------------------------------- files changed after the check
def explain_file_error(exc: BaseException, *datasets: Any) -> NNUsageError | None:
    """One sentence naming the image file behind a TensorFlow error met while reading ``datasets``, else None.

    A file deleted, truncated or rewritten after ``%nn_data`` checked it makes the pipeline
    fail mid-epoch (``NotFoundError``, ``InvalidArgumentError``); this finds the file (by
    comparing every file with its size and time at the check, or from the pipeline's own
    message) and says to run ``%nn_data`` again. Any other error gives None (re-raise it).

    Example::

        try:
            model.fit(cats.as_tf_dataset(), epochs=5)
        except Exception as exc:
            raise explain_file_error(exc, cats) or exc
    """
    if isinstance(exc, NNUsageError) or not type(exc).__module__.startswith("tensorflow"):
        return None
    for data in datasets:
        changed = data.changed_files() if hasattr(data, "changed_files") else []
        if changed:
            return changed_error(changed)
    text = str(exc)
    found = re.search(re.escape(CHANGED_MARK) + r"\]?\s*\[(.+?)\]", text)
    if found:
        return changed_error([(found.group(1), "changed")])
    if type(exc).__name__ == "NotFoundError" and "No such file" in text:
        missing = re.search(r":\s([^:\[\]]+?); No such file or directory", " ".join(text.split()))
        return changed_error([(missing.group(1) if missing else None, "deleted")])
    return None


__all__ = ["file_stamps", "check_images", "check_with_stats", "inspect_file", "decode_path", "converted_path", "size_of",
           "changed_error", "explain_file_error", "shown_reason", "TF", "CONVERT", "SKIP", "CHANGED_MARK"]


def file_stamps(paths) -> list[tuple[int, int]]:
    """``(size, mtime_ns)`` of each file now (``(-1, -1)`` for a file that is gone): what identifies its content.

    Example::

        file_stamps(["cat.1.jpg"])     # [(23412, 1718000000000000000)]
    """
    stamps = []
    for path in paths:
        try:
            stat = os.stat(path)
            stamps.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            stamps.append((-1, -1))
    return stamps
