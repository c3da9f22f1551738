"""Sample data for people who do not have the course's files (no download needed).

- ``artificial_generator.xlsx``: sheets ``data2`` (two interleaved half-moons, labels
  ``blue``/``red``) and ``data4`` (three concentric rings, labels ``inner``/``middle``/``outer``),
  columns ``X1``, ``X2``, ``Y`` with text labels, as the course's file;
- ``cats_and_dogs_filtered/{train,validation}/{cats,dogs}/cat.N.jpg …``: 200 + 100 JPEGs per
  class, 150–360 px, of drawn cats and dogs on softened photo backgrounds (``pets.py``),
  training and validation drawn on disjoint sets of scikit-image's bundled photos. The
  classes differ by cues that agree with the class only most of the time, so the course
  CNN over-fits them within 15 epochs, as on the real data, and augmentation and dropout help;
- ``make_dirty_folder`` (in ``nnmagics.data.dirty_folder``): a tiny class-folder tree full of awkward files (truncated JPEG,
  stray text, grayscale/RGBA/palette/16-bit PNG, CMYK JPEG, TIFF, empty file…) for tests and demos.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import zipfile as _zipfile
from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..files import atomic_folder, atomic_write
from ..i18n import _, num

TABLE_NAME = "artificial_generator.xlsx"
TREE_NAME = "cats_and_dogs_filtered"
ZIP_NAME = "cats_and_dogs_filtered.zip"
_CREATOR = "nnmagics sample maker"
_TREE_MARKER = ".nnmagics-sample"
_ZIP_COMMENT = b"nnmagics sample"
# generous sizes on disk, to check for space before writing anything
_TABLE_BYTES = 300_000
_IMAGE_BYTES = 30_000


def make_samples(directory: str | os.PathLike = ".", *, images_per_class: int | tuple[int, int] = (200, 100),
                 seed: int = 0, image_tree: bool = True, table: bool = True, zip: bool = False,
                 rows: int = 300, overwrite: bool = False) -> dict[str, str]:
    """Write the course's sample data into ``directory``; return the paths written.

    ``images_per_class`` is ``(train, validation)`` images per class (an int gives the
    train count, validation half of it); ``rows`` is the number of rows of each sheet.
    Files made by an earlier call are replaced; other existing files are left alone
    (an error says so) unless ``overwrite=True``. Same ``seed``, same data. A missing
    ``directory`` is created; a read-only or full one is one sentence before anything is
    written (and a disk that fills up meanwhile leaves no half-written file).

    Example::

        >>> paths = make_samples("course_data", zip=True)      # doctest: +SKIP
        >>> paths                                               # doctest: +SKIP
        {'table': 'course_data/artificial_generator.xlsx',
         'images': 'course_data/cats_and_dogs_filtered',
         'zip': 'course_data/cats_and_dogs_filtered.zip'}
    """
    directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
    n_train, n_val = _counts(images_per_class)
    if int(rows) < 30:
        raise NNUsageError(_("rows={rows} is too few for the sample table; give at least 30.").format(rows=rows))
    images = 2 * (n_train + n_val) if (image_tree or zip) else 0
    check_writable_folder(directory, (_TABLE_BYTES if table else 0) + images * _IMAGE_BYTES * (2 if zip else 1))
    paths: dict[str, str] = {}
    try:
        if table:
            paths["table"] = make_table(os.path.join(directory, TABLE_NAME), rows=int(rows), seed=seed,
                                        overwrite=overwrite)
        if image_tree or zip:
            tree = make_image_tree(os.path.join(directory, TREE_NAME), train=n_train, validation=n_val,
                                   seed=seed, overwrite=overwrite)
            paths["images"] = tree
            if zip:
                paths["zip"] = zip_tree(tree, os.path.join(directory, ZIP_NAME), overwrite=overwrite)
    except OSError as exc:
        raise _write_problem(exc, directory) from None
    return paths


def check_writable_folder(directory: str, need_bytes: int = 0) -> None:
    """Create ``directory`` if missing and make sure a file can be written there, with ``need_bytes`` free.

    Raises ``NNUsageError`` with one sentence (a file in the way, no permission, a read-only
    or full disk) before anything is written. The check writes and removes one empty probe
    file: permissions alone do not tell (root ignores them; a read-only mount does not).

    Example::

        >>> check_writable_folder("course_data", 5_000_000)       # doctest: +SKIP
    """
    directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NNUsageError(_("'{path}' is a file, not a folder; give a folder name for the sample data.").format(
            path=directory))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".nnmagics-probe-", dir=directory)
        os.close(fd)
        os.remove(probe)
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise _write_problem(exc, directory) from None
    if free < need_bytes:
        raise NNUsageError(
            _("Not enough disk space in '{folder}' ({free} MB free, the sample data needs about "
              "{need} MB); free some space or choose another folder.").format(
                folder=directory, free=num(free / 1e6, ".1f"), need=num(need_bytes / 1e6, ".0f"))
        )


def _write_problem(exc: OSError, directory: str) -> NNUsageError:
    """One sentence for an OS error met while writing the samples."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NNUsageError(_("The disk holding '{folder}' is full; free some space or choose another folder "
                              "for the sample data.").format(folder=directory))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return NNUsageError(_("Cannot write into '{folder}' ({reason}); choose a folder you can write to, "
                              "e.g. --make-samples ~/course_data.").format(folder=directory, reason=exc.strerror))
    return NNUsageError(_("Writing the sample data into '{folder}' failed ({reason}); "
                          "choose another folder.").format(folder=directory, reason=exc.strerror or exc))


def _counts(images_per_class: Any) -> tuple[int, int]:
    try:
        if isinstance(images_per_class, (tuple, list)):
            n_train, n_val = (int(v) for v in images_per_class)
        else:
            n_train = int(images_per_class)
            n_val = max(n_train // 2, 1)
        if n_train < 1 or n_val < 1:
            raise ValueError
    except (TypeError, ValueError):
        raise NNUsageError(
            _("Invalid images_per_class {value}; give a positive number or (train, validation), "
              "e.g. (200, 100).").format(value=repr(images_per_class))
        ) from None
    return n_train, n_val


# ----------------------------------------------------------------------------- the table
def table_frames(rows: int = 300, seed: int = 0) -> dict[str, Any]:
    """The two sheets as DataFrames: ``data2`` (half-moons, 2 classes) and ``data4`` (rings, 3 classes).

    Example::

        >>> frames = table_frames(90)
        >>> sorted(frames["data4"]["Y"].unique())
        ['inner', 'middle', 'outer']
    """
    import pandas as pd
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=rows, noise=0.12, random_state=seed)
    data2 = pd.DataFrame({"X1": x[:, 0].round(4), "X2": x[:, 1].round(4),
                          "Y": np.where(y == 0, "blue", "red").astype(object)})

    rng = np.random.default_rng(seed)
    names = ["inner", "middle", "outer"]
    radii = [1.0, 2.2, 3.4]  # gaps wide enough for the course's 2→3→3→3 relu/softmax net
    sizes = [rows // 3 + (1 if k < rows % 3 else 0) for k in range(3)]
    parts = []
    for name, radius, n in zip(names, radii, sizes):
        angle = rng.uniform(0, 2 * np.pi, n)
        r = radius + rng.normal(0, 0.15, n)
        parts.append(pd.DataFrame({"X1": (r * np.cos(angle)).round(4), "X2": (r * np.sin(angle)).round(4),
                                   "Y": [name] * n}))
    data4 = pd.concat(parts, ignore_index=True)
    data4 = data4.iloc[rng.permutation(len(data4))].reset_index(drop=True)
    return {"data2": data2, "data4": data4}


def make_table(path: str | os.PathLike, *, rows: int = 300, seed: int = 0, overwrite: bool = False) -> str:
    """Write ``artificial_generator.xlsx`` (sheets ``data2``, ``data4``) at ``path``; return the path."""
    import pandas as pd

    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite and not _xlsx_made_by_us(path):
        raise NNUsageError(
            _("'{path}' already exists and was not made by nnmagics; choose another folder or pass overwrite=True.").format(
                path=path)
        )

    def write(tmp: str) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            for sheet, frame in table_frames(rows, seed).items():
                frame.to_excel(writer, sheet_name=sheet, index=False)
            writer.book.properties.creator = _CREATOR

    atomic_write(path, write, suffix=".xlsx")   # openpyxl wants the ending
    return path


def _xlsx_made_by_us(path: str) -> bool:
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return book.properties.creator == _CREATOR
        finally:
            book.close()
    except Exception:
        return False


# ----------------------------------------------------------------------------- the image tree
def _source_photos() -> dict[str, list[np.ndarray]]:
    """Real RGB photos that scikit-image ships inside the package (no download)."""
    from skimage import data

    def load(name: str) -> np.ndarray | None:
        try:
            image = np.asarray(getattr(data, name)())
        except Exception:  # a trimmed install without the bundled file: skip that photo
            return None
        return image[..., :3] if image.ndim == 3 else None

    cats = [im for im in (load("chelsea"),) if im is not None]
    dogs = [im for im in (load("astronaut"), load("coffee"), load("rocket")) if im is not None]
    if not cats or not dogs:
        raise NNUsageError(
            _("scikit-image's bundled photos are missing; reinstall it with pip install --force-reinstall "
              "scikit-image.")
        )
    return {"cats": cats, "dogs": dogs}


def random_photo(source: np.ndarray, rng: np.random.Generator, *, min_side: int = 120, max_side: int = 400) -> Any:
    """A random crop of ``source`` (flipped, rescaled, colour-jittered) as a PIL image of random size and orientation."""
    from PIL import Image

    long_side = int(rng.integers(max(min_side, 160), max_side + 1))
    ratio = float(rng.uniform(1.0, 1.6))
    short_side = max(min_side, int(round(long_side / ratio)))
    height, width = (short_side, long_side) if rng.random() < 0.6 else (long_side, short_side)

    src_h, src_w = source.shape[:2]
    aspect = width / height
    crop_w = min(src_w, src_h * aspect)
    crop_h = crop_w / aspect
    scale = float(np.sqrt(rng.uniform(0.45, 1.0)))
    crop_w, crop_h = max(int(crop_w * scale), 8), max(int(crop_h * scale), 8)
    left = int(rng.integers(0, src_w - crop_w + 1))
    top = int(rng.integers(0, src_h - crop_h + 1))
    patch = source[top:top + crop_h, left:left + crop_w].astype(np.float32)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    patch = patch * rng.uniform(0.9, 1.1, size=3) * rng.uniform(0.85, 1.15)
    patch = np.clip(patch, 0, 255).astype(np.uint8)
    return Image.fromarray(patch).resize((width, height), Image.BICUBIC)


def make_image_tree(root: str | os.PathLike, *, train: int = 200, validation: int = 100, seed: int = 0,
                    overwrite: bool = False) -> str:
    """Write ``root/{train,validation}/{cats,dogs}/cat.N.jpg …`` and return ``root``.

    Drawn cats and dogs (see ``nnmagics.data.pets``) on photo backgrounds, training and
    validation on disjoint sets of photos, each image from its own random stream
    ``(seed, split, class, number)``. Numbering runs on from train to validation
    (``cat.0`` … ``cat.199`` then ``cat.200`` …), as in the real dataset. The hidden file
    ``.nnmagics-sample`` records how each image was made (JSON). Built in a temp folder
    and renamed into place.

    Example::

        >>> root = make_image_tree("course_data/cats_and_dogs_filtered", train=20, validation=10)  # doctest: +SKIP
        >>> sorted(os.listdir(os.path.join(root, "validation")))                               # doctest: +SKIP
        ['cats', 'dogs']
    """
    from .pets import draw_pet, load_backgrounds

    root = os.path.abspath(os.fspath(root))
    if os.path.exists(root) and not overwrite and not os.path.exists(os.path.join(root, _TREE_MARKER)):
        raise NNUsageError(
            _("'{path}' already exists and was not made by nnmagics; choose another folder or pass overwrite=True.").format(
                path=root)
        )
    manifest: dict[str, Any] = {"made_by": "nnmagics.make_samples", "seed": int(seed), "images": {}}

    def write(tmp: str) -> None:
        for split_index, (split, count, first) in enumerate((("train", train, 0), ("validation", validation, train))):
            backgrounds = load_backgrounds(split)
            for class_index, (class_name, animal) in enumerate((("cats", "cat"), ("dogs", "dog"))):
                folder = os.path.join(tmp, split, class_name)
                os.makedirs(folder)
                for number in range(first, first + count):
                    rng = np.random.default_rng([int(seed), split_index, class_index, number])
                    name, photo = backgrounds[int(rng.integers(len(backgrounds)))]
                    image, record = draw_pet(animal, photo, rng)
                    image.save(os.path.join(folder, f"{animal}.{number}.jpg"), "JPEG",
                               quality=int(rng.integers(75, 91)))
                    manifest["images"][f"{split}/{class_name}/{animal}.{number}.jpg"] = {"background": name, **record}
        with open(os.path.join(tmp, _TREE_MARKER), "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=0)

    atomic_folder(root, write)
    return root


def sample_manifest(root: str | os.PathLike) -> dict[str, Any]:
    """How each image of a tree written by ``make_image_tree`` was made (background photo, crop, cue styles).

    Example::

        >>> info = sample_manifest("course_data/cats_and_dogs_filtered")       # doctest: +SKIP
        >>> info["images"]["train/cats/cat.0.jpg"]["background"]               # doctest: +SKIP
        'grass'
    """
    path = os.path.join(os.fspath(root), _TREE_MARKER)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        raise NNUsageError(_("'{path}' was not written by make_samples (no readable {marker}); "
                             "make it with %nn_data --make-samples DIR.").format(path=os.fspath(root),
                                                                                 marker=_TREE_MARKER)) from None


def zip_tree(tree: str | os.PathLike, zip_path: str | os.PathLike, *, overwrite: bool = False) -> str:
    """Zip ``tree`` with its folder name as the single top folder (like cats_and_dogs_filtered.zip)."""
    tree = os.path.abspath(os.fspath(tree))
    zip_path = os.path.abspath(os.fspath(zip_path))
    if os.path.exists(zip_path) and not overwrite and not _zip_made_by_us(zip_path):
        raise NNUsageError(
            _("'{path}' already exists and was not made by nnmagics; choose another folder or pass overwrite=True.").format(
                path=zip_path)
        )
    top = os.path.basename(tree)

    def write(tmp: str) -> None:
        # JPEGs do not compress: store them, which is also much faster
        with _zipfile.ZipFile(tmp, "w", compression=_zipfile.ZIP_STORED) as archive:
            archive.comment = _ZIP_COMMENT
            for dirpath, dirnames, filenames in os.walk(tree):
                dirnames.sort()
                for name in sorted(filenames):
                    if name == _TREE_MARKER:
                        continue
                    full = os.path.join(dirpath, name)
                    archive.write(full, f"{top}/{os.path.relpath(full, tree).replace(os.sep, '/')}")

    atomic_write(zip_path, write)
    return zip_path


def _zip_made_by_us(path: str) -> bool:
    try:
        with _zipfile.ZipFile(path) as archive:
            return archive.comment == _ZIP_COMMENT
    except Exception:
        return False


__all__ = ["make_samples", "make_table", "make_image_tree", "sample_manifest", "zip_tree",
           "table_frames", "random_photo"]
