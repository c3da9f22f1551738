"""Image folders (one sub-folder per class) → ``ImageData``, read through ``tf.data``.

The course reads ``cats_and_dogs_filtered`` with ``ImageDataGenerator.flow_from_directory``;
``load_images`` replaces it:

- it accepts a folder of class sub-folders, a folder holding ``train/`` and ``validation/``,
  or a ``.zip`` of either (extracted safely, once);
- every file is checked once with PIL (the result is cached on disk, keyed by path, size
  and modification time): unreadable, truncated, non-image and oversized files (over
  ``%config NNMagics.max_image_pixels``) are skipped and listed in ``.skipped`` instead of
  crashing an epoch; files TensorFlow cannot decode as RGB (CMYK JPEG, 16-bit PNG, TIFF,
  WebP, GIF, BMP…) are converted once to a cached RGB PNG;
- the dataset remembers the size and modification time of every file it checked: a file
  deleted or changed afterwards is named in one sentence (run ``%nn_data`` again) before an
  epoch reads it, never a TensorFlow error mid-epoch, and never stale pixels;
- file names that are not valid UTF-8 are read like any other (TensorFlow gets their bytes);
- ``as_tf_dataset`` decodes in parallel and caches the resized images (as ``uint8``, a
  quarter of the memory of float32), so epochs after the first do not decode at all.

Images are served as raw pixels (float32, 0–255): models carry their own preprocessing.
TensorFlow and PIL are imported only inside the functions that need them.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

import numpy as np

from ..config import settings
from ..errors import NNUsageError, unknown
from .base import CLASS_MODES, Dataset, default_class_mode
from .filenames import path_bytes, printable

DEFAULT_IMAGE_SIZE = (150, 150)
DEFAULT_BATCH_SIZE = 20
TRAIN_DIRS = ("train", "training")
VALIDATION_DIRS = ("validation", "val", "valid", "test")
_IGNORED_DIRS = {"__MACOSX", "__pycache__"}
_CHECKS_VERSION = 2
_TOO_LARGE = "image too large"
# what the pipeline reports when a file no longer has the size it had when it was checked
_CHANGED_MARK = "nnmagics: an image file changed after %nn_data checked it:"

# status of a checked file: decoded by TensorFlow as is, converted once to a cached PNG, or skipped
TF = "tf"
CONVERT = "convert"
SKIP = "skip"


# ----------------------------------------------------------------------------- arguments
MAX_IMAGE_SIDE = 2048  # a batch of 20 float32 images of 2048×2048×3 is already 1 GB


def parse_image_size(value: Any) -> tuple[int, int]:
    """``150``, ``"150"``, ``"150x150"``, ``"150×120"`` or ``(150, 120)`` → ``(height, width)``.

    Example::

        >>> parse_image_size("150x120")
        (150, 120)
    """
    sizes: list[Any]
    if isinstance(value, str):
        match = re.fullmatch(r"[(\[]?\s*(\d+)\s*(?:(?:[x×X,*]|\s)\s*(\d+)\s*)?[)\]]?", value.strip())
        sizes = [g for g in match.groups() if g is not None] if match else []
    elif isinstance(value, (tuple, list)):
        sizes = list(value)
    else:
        sizes = [value]
    if len(sizes) == 1:
        sizes = sizes * 2
    try:
        if len(sizes) != 2 or any(isinstance(s, bool) for s in sizes):
            raise ValueError
        parsed = tuple(_whole_number(s) for s in sizes)
        if min(parsed) <= 0:
            raise ValueError
    except (ValueError, TypeError):
        raise NNUsageError(
            f"Invalid image size {value!r}; give a positive size such as 150, '150x150' or (150, 150)."
        ) from None
    if max(parsed) > MAX_IMAGE_SIDE:
        raise NNUsageError(f"Image size {parsed[0]}×{parsed[1]} is too large (each side at most {MAX_IMAGE_SIDE} "
                           "pixels: one batch would not fit in memory); the course uses 150, VGG16 224.")
    return parsed  # type: ignore[return-value]


def _whole_number(value: Any) -> int:
    if isinstance(value, str):
        return int(value.strip())
    as_float = float(value)
    if not as_float.is_integer():
        raise ValueError
    return int(as_float)


def check_batch_size(value: Any) -> int:
    """A positive whole batch size, else ``NNUsageError``."""
    try:
        if isinstance(value, bool):
            raise ValueError
        size = _whole_number(value)
    except (ValueError, TypeError):
        size = 0
    if size <= 0:
        raise NNUsageError(f"Invalid batch size {value!r}; give a positive whole number such as 20.")
    return size


def check_class_mode(value: str | None) -> str | None:
    """``None`` (choose from the number of classes) or one of ``binary``/``categorical``/``int``."""
    if value is None:
        return None
    mode = str(value).strip().lower()
    if mode not in CLASS_MODES:
        raise unknown("class mode", value, CLASS_MODES)
    return mode


def _check_mode_fits(mode: str, classes: list[str], root: str) -> None:
    if mode == "binary" and len(classes) != 2:
        raise NNUsageError(
            f"class_mode 'binary' needs exactly 2 classes but '{printable(root)}' has {len(classes)} "
            f"({', '.join(classes)}); use class_mode 'categorical' or 'int'."
        )


# ----------------------------------------------------------------------------- cache folder
from ..files import cache_dir  # noqa: E402 - the one cache folder, re-exported for older imports


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
    raise NNUsageError("No writable cache folder; set %config NNMagics.cache_dir = 'a writable folder'.")


def _atomic_write_bytes(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- checking files
class _CheckStore:
    """The JSON file of check results for one folder: ``path -> [size, mtime_ns, status, detail, shape]``."""

    def __init__(self, group: str):
        digest = hashlib.sha1(os.path.abspath(group).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        self.path = os.path.join(cache_dir(), "image-checks", f"{digest}.json")
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
        if record[0] == SKIP and record[1].startswith(_TOO_LARGE):
            return None if _too_large(record[2]) is None else record  # the cap may have been raised
        reason = _too_large(record[2]) if record[0] != SKIP else None  # or lowered
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
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            payload = json.dumps({"version": _CHECKS_VERSION, "entries": self.entries}).encode("utf-8")
            _atomic_write_bytes(self.path, payload)
        except OSError:
            pass  # a read-only cache only costs a re-check next time


def _png_bit_depth(path: str) -> int:
    """Bit depth from a PNG's IHDR chunk (16-bit PNGs are converted rather than left to TensorFlow)."""
    with open(path, "rb") as fh:
        header = fh.read(26)
    return header[24] if len(header) >= 25 else 8


def _tf_can_decode(path: str, fmt: str | None, mode: str) -> bool:
    """Whether ``tf.io.decode_image(channels=3)`` gives the right RGB pixels for this file.

    Only 8-bit JPEG (RGB or grayscale) and 8-bit PNG qualify: TensorFlow's decoders for
    CMYK JPEG, 16-bit PNG, BMP variants, GIF, TIFF and WebP are missing or version-dependent.
    """
    if fmt in ("JPEG", "MPO"):  # MPO: phone/camera JPEGs with extra frames; TF reads the first
        return mode in ("RGB", "L")
    if fmt == "PNG":
        return mode in ("RGB", "RGBA", "L", "LA", "P", "1") and _png_bit_depth(path) <= 8
    return False


def to_rgb(image) -> Any:
    """A PIL image in any mode → an 8-bit RGB PIL image (16-bit and float images are rescaled)."""
    from PIL import Image

    mode = image.mode
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(image).astype(np.float64)
        if mode.startswith("I;16"):
            top = 65535.0
        else:
            peak = float(arr.max()) if arr.size else 0.0
            top = 1.0 if peak <= 1.0 else 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
        gray = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if mode == "RGB":
        return image
    if mode in ("P", "PA"):
        image = image.convert("RGBA")
    return image.convert("RGB")


def max_pixels() -> int:
    """The largest image read, in pixels (``%config NNMagics.max_image_pixels``, 64 megapixels by default)."""
    return int(settings().max_image_pixels)


def _too_large(shape: tuple | None) -> str | None:
    """The reason to skip an image of ``shape`` (h, w, …) over the pixel cap, else None."""
    if not shape:
        return None
    height, width = int(shape[0]), int(shape[1])
    if height * width <= max_pixels():
        return None
    return (f"{_TOO_LARGE} ({width}×{height} = {height * width / 1e6:.1f} megapixels, over the limit of "
            f"{max_pixels() / 1e6:g}: %config NNMagics.max_image_pixels)")


def read_rgb(path: str) -> np.ndarray:
    """The file's pixels at their original size as an ``(h, w, 3)`` ``uint8`` array (any mode).

    Images over ``%config NNMagics.max_image_pixels`` are refused from their header, before
    they are decoded (a 90-megapixel PNG can weigh 342 KB on disk and 270 MB decoded).

    Example::

        >>> read_rgb("cats/cat.0.jpg").shape                      # doctest: +SKIP
        (374, 500, 3)
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(path) as im:
                reason = _too_large((im.size[1], im.size[0]))
                if reason is None:
                    im.load()
                    return np.asarray(to_rgb(im))
        except Image.DecompressionBombError:
            reason = f"{_TOO_LARGE} (over PIL's decompression-bomb limit)"
    raise NNUsageError(f"'{printable(path)}' is not read: {reason}; shrink the image, "
                       "or raise the limit if you have the memory.")


def _converted_path(path: str, stat: os.stat_result) -> str:
    key = f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(_writable_subdir("converted"), f"{digest}.png")


def _save_converted(image, target: str) -> None:
    """Write the RGB copy atomically: a half-written PNG would break an epoch later."""
    import io

    buf = io.BytesIO()
    to_rgb(image).save(buf, "PNG", compress_level=1)
    try:
        _atomic_write_bytes(target, buf.getvalue())
    except OSError as exc:
        raise NNUsageError(
            f"Cannot write a converted image into the cache folder ({exc.strerror or exc}); "
            "free some disk space or set %config NNMagics.cache_dir = 'another folder'."
        ) from None


def _inspect(path: str, stat: os.stat_result) -> tuple[str, str, tuple | None]:
    """Open, verify and fully decode one file with PIL; return ``(status, detail, original shape)``.

    ``detail`` is the reason for skipped files and the image format otherwise. Files that
    TensorFlow cannot decode are converted here, while the image is already decoded.
    """
    from PIL import Image, UnidentifiedImageError

    if stat.st_size == 0:
        return SKIP, "empty file", None
    try:
        with Image.open(path) as im:
            fmt = im.format
            header_shape = (im.size[1], im.size[0], len(im.getbands()))
            too_large = _too_large(header_shape)  # from the header: never decode a pixel bomb
            if too_large:
                return SKIP, too_large, header_shape
            im.verify()
        with Image.open(path) as im:
            im.load()
            mode, (width, height) = im.mode, im.size
            shape = (height, width, len(im.getbands()))
            if _tf_can_decode(path, fmt, mode):
                return TF, str(fmt), shape
            _save_converted(im, _converted_path(path, stat))
            return CONVERT, str(fmt), shape
    except NNUsageError:
        raise
    except UnidentifiedImageError:
        return SKIP, "not an image file", None
    except Image.DecompressionBombError:
        return SKIP, f"{_TOO_LARGE} (over PIL's decompression-bomb limit)", None
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


def check_images(paths: list[str], group: str) -> dict[str, tuple]:
    """Check every path once (cached in ``cache_dir()/image-checks``); return ``path -> (status, detail, shape)``.

    ``group`` names the folder whose cache file holds the results. Files are checked in
    parallel threads (PIL releases the GIL while decoding).

    Example::

        >>> check_images(["cats/cat.0.jpg", "cats/notes.txt"], "cats")   # doctest: +SKIP
        {'cats/cat.0.jpg': ('tf', 'JPEG', (374, 500, 3)), 'cats/notes.txt': ('skip', 'not an image file', None)}
    """
    return _check(paths, group)[0]


def _check(paths: list[str], group: str) -> tuple[dict[str, tuple], dict[str, os.stat_result]]:
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
        if cached is not None and (cached[0] != CONVERT or os.path.exists(_converted_path(path, stat))):
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
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    records = list(pool.map(lambda item: _inspect(*item), todo))
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag
        for (path, stat), record in zip(todo, records):
            results[path] = record
            store.put(path, stat, record)
    store.save(p for p in paths if p in store.entries)
    return results, stats


def _decode_path(path: str, record: tuple, stat: os.stat_result | None = None) -> str:
    """The file the pipeline reads: the original, or its converted RGB copy."""
    if record[0] == CONVERT:
        return _converted_path(path, stat or os.stat(path))
    return path


def _size_of(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1  # unknown: the pipeline then skips its size check for this file


# ----------------------------------------------------------------------------- files changed after the check
def _changed_error(changed: list[tuple[str | None, str]]) -> NNUsageError:
    path, how = changed[0]
    more = f" (and {len(changed) - 1} more file{'s' if len(changed) > 2 else ''})" if len(changed) > 1 else ""
    which = f"The image file '{printable(path)}'" if path else "An image file"
    return NNUsageError(f"{which} was {how} after %nn_data checked it{more}; run %nn_data again to re-check the folder.")


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
            return _changed_error(changed)
    text = str(exc)
    found = re.search(re.escape(_CHANGED_MARK) + r"\]?\s*\[(.+?)\]", text)
    if found:
        return _changed_error([(found.group(1), "changed")])
    if type(exc).__name__ == "NotFoundError" and "No such file" in text:
        missing = re.search(r":\s([^:\[\]]+?); No such file or directory", " ".join(text.split()))
        return _changed_error([(missing.group(1) if missing else None, "deleted")])
    return None


# ----------------------------------------------------------------------------- folder layout
def _visible_subdirs(folder: str) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise NNUsageError(f"Cannot read the folder '{printable(folder)}' ({exc.strerror or exc}); check its permissions.") from None
    return sorted(
        n for n in names
        if not n.startswith(".") and n not in _IGNORED_DIRS and os.path.isdir(os.path.join(folder, n))
    )


def _resolve_source(source: Any, extract_to: str | os.PathLike | None) -> str:
    """The folder to read: ``source`` itself, or the folder a ``.zip`` was extracted to."""
    if not isinstance(source, (str, os.PathLike)):
        raise NNUsageError(
            f"Cannot load images from a {type(source).__name__}; "
            "give the path of a folder of class sub-folders or of a .zip."
        )
    path = os.path.abspath(os.path.expanduser(os.fspath(source)))
    if not os.path.exists(path):
        raise NNUsageError(
            f"No such file or folder: '{os.fspath(source)}'; check the path (relative paths start from {os.getcwd()})."
        )
    if os.path.isdir(path):
        return path
    if path.lower().endswith(".zip"):
        from .archive import extract_zip

        return extract_zip(path, extract_to if extract_to is not None else _default_extract_dir(path))
    raise NNUsageError(
        f"'{os.fspath(source)}' is a file, not a folder of images; give a folder with one sub-folder per class "
        "(e.g. train/cats, train/dogs) or a .zip of one."
    )


def _default_extract_dir(zip_path: str) -> str:
    """``data.zip`` → ``data/`` beside it, or ``data_nnmagics/`` when ``data/`` is the user's own
    folder (e.g. an earlier manual unzip), which is never overwritten."""
    from .archive import MARKER

    dest = os.path.splitext(zip_path)[0]
    if os.path.exists(dest) and not os.path.exists(os.path.join(dest, MARKER)):
        dest += "_nnmagics"
    return dest


def _find_layout(folder: str) -> tuple[str, str | None]:
    """``(class root, validation class root or None)`` for a folder, descending into a lone top folder."""
    for _ in range(4):
        subdirs = _visible_subdirs(folder)
        by_lower = {d.lower(): d for d in subdirs}
        train = next((by_lower[n] for n in TRAIN_DIRS if n in by_lower), None)
        val = next((by_lower[n] for n in VALIDATION_DIRS if n in by_lower), None)
        if train and _visible_subdirs(os.path.join(folder, train)):
            return os.path.join(folder, train), os.path.join(folder, val) if val else None
        if len(subdirs) == 1 and _visible_subdirs(os.path.join(folder, subdirs[0])):
            folder = os.path.join(folder, subdirs[0])  # e.g. cats_and_dogs_filtered/ inside the zip
            continue
        return folder, None
    return folder, None


def _scan(root: str) -> tuple[list[str], list[list[str]], list[str]]:
    """``(classes, files of each class sorted by relative path, loose files outside class folders)``."""
    classes = _visible_subdirs(root)
    per_class = []
    for name in classes:
        class_dir = os.path.join(root, name)
        found = []
        for dirpath, dirnames, filenames in os.walk(class_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _IGNORED_DIRS)
            found.extend(os.path.join(dirpath, f) for f in filenames)
        found.sort(key=lambda p: os.path.relpath(p, class_dir))
        per_class.append(found)
    loose = sorted(
        os.path.join(root, n) for n in os.listdir(root)
        if not os.path.isdir(os.path.join(root, n)) and n not in (".nnmagics-extracted.json",)
    )
    return classes, per_class, loose


def _require_classes(root: str, classes: list[str]) -> None:
    if not classes:
        raise NNUsageError(
            f"'{printable(root)}' has no class sub-folders; put the images in one sub-folder per class, e.g. train/cats and train/dogs."
        )
    if len(classes) == 1:
        raise NNUsageError(
            f"'{printable(root)}' holds a single class ('{printable(classes[0])}'); a classifier needs at least 2 class sub-folders, "
            "e.g. train/cats and train/dogs."
        )


def _same_classes(train_root: str, train: list[str], val_root: str, val: list[str]) -> None:
    if train == val:
        return
    only_train = sorted(set(train) - set(val))
    only_val = sorted(set(val) - set(train))
    details = []
    if only_train:
        details.append(f"only in {os.path.basename(train_root)}: {', '.join(only_train)}")
    if only_val:
        details.append(f"only in {os.path.basename(val_root)}: {', '.join(only_val)}")
    raise NNUsageError(
        f"{os.path.basename(train_root)}/ and {os.path.basename(val_root)}/ have different classes "
        f"({'; '.join(details)}); give both the same class sub-folders."
    )


# ----------------------------------------------------------------------------- the dataset
class ImageData(Dataset):
    """A folder of class sub-folders, checked once, served as a cached ``tf.data`` pipeline.

    Build it with :func:`load_images`. ``files``/``labels`` are in the fixed order (class
    index, then file name); ``skipped`` lists ``(path, reason)`` for files left out;
    ``validation`` is the matching ``ImageData`` when the folder held ``validation/``.

    Example::

        >>> data = load_images("cats_and_dogs_filtered.zip")          # doctest: +SKIP
        >>> x, y = next(iter(data.as_tf_dataset()))                   # doctest: +SKIP
        >>> x.shape, y.shape                                          # doctest: +SKIP
        (TensorShape([20, 150, 150, 3]), TensorShape([20]))
    """

    kind = "images"

    def __init__(self, *, root: str, files: list[str], labels: np.ndarray, classes: list[str],
                 image_size: tuple[int, int], batch_size: int, class_mode: str,
                 skipped: list[tuple[str, str]], decode_paths: list[str], shapes: list[tuple],
                 name: str | None = None, validation: "ImageData | None" = None,
                 stamps: list[tuple[int, int]] | None = None, decode_sizes: list[int] | None = None):
        self.root = root
        self.files = list(files)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.classes = list(classes)
        self.image_size = tuple(image_size)
        self.batch_size = int(batch_size)
        self.class_mode = class_mode
        self.skipped = list(skipped)
        self.name = name
        self.validation = validation
        self._decode_paths = list(decode_paths)
        self._shapes = list(shapes)
        # (size, mtime_ns) of each file when it was checked: the identity of the pixels served
        self._stamps = [tuple(s) for s in stamps] if stamps is not None else None
        self._decode_sizes = list(decode_sizes) if decode_sizes is not None else [-1] * len(self.files)
        self._decoded_cache: dict[Any, Any] = {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_decoded_cache"] = {}  # tf.data objects do not pickle or deep-copy
        return state

    def __setstate__(self, state: dict) -> None:
        state.setdefault("_stamps", None)  # pickled by an older nnmagics
        state.setdefault("_decode_sizes", [-1] * len(state.get("files", [])))
        self.__dict__.update(state)

    def resized(self, image_size: Any) -> "ImageData":
        """The same files served at another size (e.g. 224 for VGG16); the validation set follows.

        Example::

            >>> vgg_data = data.resized(224)                          # doctest: +SKIP
        """
        import copy

        clone = copy.copy(self)
        clone.image_size = parse_image_size(image_size)
        clone._decoded_cache = {}
        if self.validation is not None:
            clone.validation = self.validation.resized(image_size)
        return clone

    def subset(self, index: Iterable[int], name: str | None = None) -> "ImageData":
        """The images at ``index`` (e.g. a validation split), in that order, without a validation set.

        Example::

            >>> first_ten = data.subset(range(10))                   # doctest: +SKIP
        """
        import copy

        index = [int(i) for i in index]
        part = copy.copy(self)
        part.files = [self.files[i] for i in index]
        part.labels = np.asarray(self.labels)[index] if index else np.zeros(0, dtype=np.int64)
        part._decode_paths = [self._decode_paths[i] for i in index]
        part._shapes = [self._shapes[i] for i in index]
        part._stamps = [self._stamps[i] for i in index] if self._stamps is not None else None
        part._decode_sizes = [self._decode_sizes[i] for i in index]
        part.validation = None
        part._decoded_cache = {}
        if name is not None:
            part.name = name
        return part

    # -- the files on disk -------------------------------------------------------------------
    def content_stamps(self) -> list[tuple[int, int]]:
        """``(size, mtime_ns)`` of every file as it was checked: the identity of the pixels served.

        Example::

            >>> data.content_stamps()[0]                              # doctest: +SKIP
            (23412, 1718000000000000000)
        """
        if self._stamps is not None:
            return list(self._stamps)
        stamps = []
        for path in self.files:
            try:
                stat = os.stat(path)
                stamps.append((stat.st_size, stat.st_mtime_ns))
            except OSError:
                stamps.append((-1, -1))
        return stamps

    def changed_files(self) -> list[tuple[str, str]]:
        """``(path, 'deleted' | 'changed')`` for every file that differs from what was checked.

        A converted RGB copy missing from the cache folder is simply made again.

        Example::

            >>> data.changed_files()                                  # doctest: +SKIP
            [('/data/cats/cat.3.jpg', 'deleted')]
        """
        if self._stamps is None:
            return []
        changed = []
        for i, (path, stamp) in enumerate(zip(self.files, self._stamps)):
            try:
                stat = os.stat(path)
            except OSError:
                changed.append((path, "deleted"))
                continue
            if (stat.st_size, stat.st_mtime_ns) != tuple(stamp):
                changed.append((path, "changed"))
            elif self._decode_paths[i] != path and not os.path.exists(self._decode_paths[i]):
                if _inspect(path, stat)[0] != CONVERT:  # re-makes the converted copy
                    changed.append((path, "changed"))
        return changed

    def check_unchanged(self) -> None:
        """Raise ``NNUsageError`` naming a file deleted or changed since the check (run ``%nn_data`` again).

        Example::

            >>> data.check_unchanged()                                # doctest: +SKIP
            NNUsageError: The image file '/data/cats/cat.3.jpg' was deleted after %nn_data checked it; ...
        """
        changed = self.changed_files()
        if changed:
            raise _changed_error(changed)

    # -- description ---------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``."""
        return (self.image_size[0], self.image_size[1], 3)

    @property
    def class_indices(self) -> dict[str, int]:
        """``{'cats': 0, 'dogs': 1}``, as Keras' ``DirectoryIterator.class_indices``."""
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self) -> str:
        h, w = self.image_size
        counts = ", ".join(f"{c}: {n:,}" for c, n in self.class_counts().items())
        title = f"ImageData '{self.name}'" if self.name else "ImageData"
        text = (f"{title}: {len(self):,} images {h}×{w} in {self.num_classes} classes ({counts}), "
                f"batch {self.batch_size}, class_mode {self.class_mode}")
        if self.validation is not None:
            text += f"; validation: {len(self.validation):,} images"
            if self.validation.skipped:
                text += f" ({len(self.validation.skipped)} skipped)"
        if self.skipped:
            n = len(self.skipped)
            text += f"; {n} file{'s' if n != 1 else ''} skipped (see .skipped)"
        return text

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><td>{html.escape(c)}</td><td>{n:,}</td></tr>" for c, n in self.class_counts().items())
        skipped = ""
        if self.skipped:
            items = "".join(f"<li><code>{html.escape(printable(p))}</code>: {html.escape(r)}</li>"
                            for p, r in self.skipped[:20])
            more = f"<li>… {len(self.skipped) - 20} more</li>" if len(self.skipped) > 20 else ""
            skipped = f"<details><summary>{len(self.skipped)} files skipped</summary><ul>{items}{more}</ul></details>"
        return (f"<div><b>{html.escape(repr(self))}</b><table><tr><th>class</th><th>images</th></tr>{rows}</table>"
                f"{skipped}</div>")

    # -- pixels ----------------------------------------------------------------------------
    def _decoded(self, cache: bool | str) -> Any:
        """``(uint8 image, int label)`` elements, decoded in parallel and cached (shared by later pipelines)."""
        import tensorflow as tf

        size = tuple(self.image_size)
        key = (cache if isinstance(cache, str) else bool(cache), size, len(self._decode_paths))
        if key[0] and key in self._decoded_cache:
            return self._decoded_cache[key]
        ds = tf.data.Dataset.from_tensor_slices((
            tf.constant([path_bytes(p) for p in self._decode_paths], dtype=tf.string),  # bytes: any file name
            tf.constant(self.labels, dtype=tf.int32),
            tf.constant(self._decode_sizes, dtype=tf.int64),
        ))
        ds = ds.map(lambda p, y, n: (_decode_resize(p, size, n), y),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if isinstance(cache, str):
            os.makedirs(os.path.dirname(os.path.abspath(cache)) or ".", exist_ok=True)
            ds = ds.cache(cache)
        elif cache:
            ds = ds.cache()
        if key[0]:
            self._decoded_cache[key] = ds
        return ds

    def as_tf_dataset(self, *, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None,
                      class_mode: str | None = None, cache: bool | str = True,
                      augment: Callable | None = None, drop_remainder: bool = False) -> Any:
        """A batched ``tf.data.Dataset`` of ``(float32 images 0–255, labels)``.

        Order: decode (parallel) → cache (memory, or files at the prefix ``cache`` if a str)
        → shuffle (reshuffled each epoch) → batch → ``augment(x, training=True)`` → prefetch.
        ``shuffle=False`` keeps the order of ``files``. Labels follow ``class_mode``:
        ``binary`` float32 0/1, ``categorical`` one-hot float32, ``int`` int32.

        Example::

            >>> ds = data.as_tf_dataset(shuffle=True, seed=0)         # doctest: +SKIP
            >>> model.fit(ds, epochs=5)                               # doctest: +SKIP
        """
        import tensorflow as tf

        size = self.batch_size if batch_size is None else check_batch_size(batch_size)
        mode = check_class_mode(class_mode) or self.class_mode
        _check_mode_fits(mode, self.classes, self.root)
        self.check_unchanged()
        ds = self._decoded(cache)
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(size, drop_remainder=drop_remainder)
        ds = ds.map(_label_encoder(mode, self.num_classes), num_parallel_calls=tf.data.AUTOTUNE)
        if augment is not None:
            apply = _augment_caller(augment)
            ds = ds.map(lambda x, y: (apply(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    def load_image(self, index_or_path: int | str | os.PathLike) -> np.ndarray:
        """One image as ``(h, w, 3)`` float32 0–255, resized exactly as in ``as_tf_dataset``.

        ``index_or_path`` is an index into ``files`` or the path of any image file.

        Example::

            >>> data.load_image(0).shape                              # doctest: +SKIP
            (150, 150, 3)
        """
        import tensorflow as tf

        if isinstance(index_or_path, (int, np.integer)) and not isinstance(index_or_path, bool):
            index = int(index_or_path)
            if not -len(self) <= index < len(self):
                raise NNUsageError(
                    f"Image index {index} is out of range; this dataset has {len(self):,} images (0 to {len(self) - 1})."
                )
            self.subset([index]).check_unchanged()
            decode_path = self._decode_paths[index]
        elif isinstance(index_or_path, (str, os.PathLike)):
            decode_path = _decode_path_for_file(os.fspath(index_or_path), self)
        else:
            raise NNUsageError(f"Give an image index or a file path, not a {type(index_or_path).__name__}.")
        try:
            pixels = _decode_resize(tf.constant(path_bytes(decode_path)), self.image_size)
        except tf.errors.OpError as exc:
            raise explain_file_error(exc, self) or _changed_error([(decode_path, "changed")]) from None
        return tf.cast(pixels, tf.float32).numpy()

    def original_shapes(self, n: int | None = None) -> list[tuple]:
        """The original ``(h, w, channels)`` of the first ``n`` files (all when ``n`` is None)."""
        shapes = self._shapes if n is None else self._shapes[: max(int(n), 0)]
        return [tuple(s) for s in shapes]


def _decode_path_for_file(path: str, data: ImageData) -> str:
    path = os.path.abspath(os.path.expanduser(path))
    if path in data.files:
        index = data.files.index(path)
        data.subset([index]).check_unchanged()
        return data._decode_paths[index]
    if not os.path.isfile(path):
        raise NNUsageError(f"No such image file: '{printable(path)}'; check the path.")
    record = check_images([path], os.path.dirname(path))[path]
    if record[0] == SKIP:
        raise NNUsageError(f"'{printable(path)}' cannot be used as an image ({record[1]}); choose another file.")
    return _decode_path(path, record)


def _decode_resize(path, size: tuple[int, int], expected_bytes=None):
    """Read, decode to RGB and resize (bilinear, as Keras) one file → ``uint8`` ``(h, w, 3)`` tensor.

    With ``expected_bytes`` (its size when checked; -1 for unknown), a file truncated or
    rewritten since the check fails with a message naming it, instead of decoding other pixels.
    Rounding the resized pixels to ``uint8`` keeps the cache a quarter of the float32 size
    (changes below half a grey level).
    """
    import tensorflow as tf

    contents = tf.io.read_file(path)
    if expected_bytes is not None:
        length = tf.cast(tf.strings.length(contents), tf.int64)
        same = tf.logical_or(tf.equal(length, expected_bytes), tf.less(expected_bytes, 0))
        with tf.control_dependencies([tf.debugging.Assert(same, [_CHANGED_MARK, path])]):
            contents = tf.identity(contents)
    image = tf.io.decode_image(contents, channels=3, expand_animations=False, dtype=tf.uint8)
    image.set_shape([None, None, 3])
    image = tf.image.resize(image, size, method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def _label_encoder(mode: str, num_classes: int) -> Callable:
    import tensorflow as tf

    def encode(x, y):
        x = tf.cast(x, tf.float32)
        if mode == "binary":
            return x, tf.cast(y, tf.float32)
        if mode == "categorical":
            return x, tf.one_hot(y, num_classes, dtype=tf.float32)
        return x, tf.cast(y, tf.int32)

    return encode


def _augment_caller(augment: Callable) -> Callable:
    """Call ``augment`` with ``training=True`` when it accepts it (Keras layers and models do)."""
    try:
        params = inspect.signature(augment).parameters.values()
        takes_training = any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)
    except (TypeError, ValueError):
        takes_training = True
    if takes_training:
        return lambda x: augment(x, training=True)
    return augment


# ----------------------------------------------------------------------------- loading
def _build(root: str, classes: list[str], per_class: list[list[str]], loose: list[str], *,
           image_size: tuple[int, int], batch_size: int, class_mode: str, name: str | None) -> ImageData:
    """Check the files of one split and assemble its ``ImageData``."""
    all_paths = [p for files in per_class for p in files]
    records, stats = _check(all_paths, root)
    files, labels, decode_paths, shapes, stamps, decode_sizes = [], [], [], [], [], []
    skipped = [(p, "not inside a class sub-folder") for p in loose]
    for index, (class_name, class_files) in enumerate(zip(classes, per_class)):
        readable = 0
        for path in class_files:
            status, detail, shape = records[path]
            if status == SKIP:
                skipped.append((path, detail))
                continue
            stat = stats[path]
            decode = _decode_path(path, records[path], stat)
            files.append(path)
            labels.append(index)
            decode_paths.append(decode)
            shapes.append(shape)
            stamps.append((stat.st_size, stat.st_mtime_ns))
            decode_sizes.append(stat.st_size if decode == path else _size_of(decode))
            readable += 1
        if readable == 0:
            unreadable = len(class_files)
            extra = f" ({unreadable} unreadable file{'s' if unreadable != 1 else ''})" if unreadable else ""
            raise NNUsageError(
                f"The class folder '{printable(os.path.join(root, class_name))}' holds no readable image{extra}; "
                "add images to it or remove it."
            )
    return ImageData(root=root, files=files, labels=np.asarray(labels, dtype=np.int64),
                     classes=[printable(c) for c in classes], image_size=image_size, batch_size=batch_size,
                     class_mode=class_mode, skipped=skipped, decode_paths=decode_paths, shapes=shapes, name=name,
                     stamps=stamps, decode_sizes=decode_sizes)


def load_images(source: str | os.PathLike, *, image_size: Any = DEFAULT_IMAGE_SIZE, batch_size: int = DEFAULT_BATCH_SIZE,
                class_mode: str | None = None, name: str | None = None,
                extract_to: str | os.PathLike | None = None) -> ImageData:
    """Load an image folder (one sub-folder per class), a folder with ``train/`` + ``validation/``, or a ``.zip``.

    ``image_size`` is ``150``, ``"150x150"`` or ``(h, w)``; ``class_mode`` defaults to
    ``binary`` for 2 classes and ``int`` otherwise. A zip is extracted (safely, once) next to
    it or into ``extract_to``. With ``train/`` and ``validation/`` the train set is returned and
    the validation set is its ``.validation``.

    Example::

        >>> data = load_images("cats_and_dogs_filtered.zip", image_size=150)   # doctest: +SKIP
        >>> data                                                                # doctest: +SKIP
        ImageData 'train': 2,000 images 150×150 in 2 classes (cats: 1,000, dogs: 1,000), batch 20, ...
    """
    size = parse_image_size(image_size)
    batch = check_batch_size(batch_size)
    mode = check_class_mode(class_mode)
    folder = _resolve_source(source, extract_to)
    train_root, val_root = _find_layout(folder)
    train_scan = _scan(train_root)
    _require_classes(train_root, train_scan[0])
    val_scan = None
    if val_root is not None:
        val_scan = _scan(val_root)
        if not val_scan[0]:
            _require_classes(val_root, val_scan[0])
        _same_classes(train_root, train_scan[0], val_root, val_scan[0])
    mode = mode or default_class_mode(len(train_scan[0]))
    _check_mode_fits(mode, train_scan[0], train_root)

    options = dict(image_size=size, batch_size=batch, class_mode=mode)
    data = _build(train_root, *train_scan, name=name or os.path.basename(train_root), **options)
    if val_root is not None and val_scan is not None:
        data.validation = _build(val_root, *val_scan, name=os.path.basename(val_root), **options)
    return data


__all__ = ["ImageData", "load_images", "parse_image_size", "check_batch_size", "check_class_mode",
           "check_images", "cache_dir", "read_rgb", "to_rgb", "max_pixels", "explain_file_error"]
