"""Folder layouts: where the class folders are, and where the train and validation parts are.

``load_images`` accepts, as ``flow_from_directory`` and ``image_dataset_from_directory`` do, a
folder of class sub-folders (``cats/``, ``dogs/``), or a folder holding ``train/`` (or
``training/``) and ``validation/`` (or ``val/``, ``valid/``, ``test/``) each made of the same
class sub-folders, or a ``.zip`` of either. A lone top folder (``cats_and_dogs_filtered/`` inside
the zip) is descended into. Hidden folders, ``__MACOSX`` and ``__pycache__`` are never classes.

Example::

    folder = resolve_source("cats_and_dogs_filtered.zip", None)   # extracted once, beside the zip
    train_root, val_root = find_layout(folder)                   # …/train, …/validation
    classes, per_class, loose = scan(train_root)                 # ['cats', 'dogs'], [[…], […]], []
"""
from __future__ import annotations

import os
from typing import Any

from ..errors import NNUsageError
from ..i18n import _
from .filenames import printable

TRAIN_DIRS = ("train", "training")
VALIDATION_DIRS = ("validation", "val", "valid", "test")
IGNORED_DIRS = {"__MACOSX", "__pycache__"}


def visible_subdirs(folder: str) -> list[str]:
    """The sorted names of ``folder``'s sub-folders, leaving out hidden and junk folders."""
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise NNUsageError(_("Cannot read the folder '{folder}' ({reason}); check its permissions.").format(
            folder=printable(folder), reason=exc.strerror or exc)) from None
    return sorted(
        n for n in names
        if not n.startswith(".") and n not in IGNORED_DIRS and os.path.isdir(os.path.join(folder, n))
    )


def resolve_source(source: Any, extract_to: str | os.PathLike | None) -> str:
    """The folder to read: ``source`` itself, or the folder a ``.zip`` was extracted to.

    Example::

        >>> resolve_source("pets.zip", None)                          # doctest: +SKIP
        '/content/pets'
    """
    if not isinstance(source, (str, os.PathLike)):
        raise NNUsageError(
            _("Cannot load images from a {type}; "
              "give the path of a folder of class sub-folders or of a .zip.").format(type=type(source).__name__)
        )
    path = os.path.abspath(os.path.expanduser(os.fspath(source)))
    if not os.path.exists(path):
        raise NNUsageError(
            _("No such file or folder: '{path}'; check the path (relative paths start from {cwd}).").format(
                path=os.fspath(source), cwd=os.getcwd())
        )
    if os.path.isdir(path):
        return path
    if path.lower().endswith(".zip"):
        from .archive import extract_zip

        return extract_zip(path, extract_to if extract_to is not None else default_extract_dir(path))
    raise NNUsageError(
        _("'{path}' is a file, not a folder of images; give a folder with one sub-folder per class "
          "(e.g. train/cats, train/dogs) or a .zip of one.").format(path=os.fspath(source))
    )


def default_extract_dir(zip_path: str) -> str:
    """``data.zip`` → ``data/`` beside it, or ``data_nnmagics/`` when ``data/`` is the user's own
    folder (e.g. an earlier manual unzip), which is never overwritten."""
    from .archive import MARKER

    dest = os.path.splitext(zip_path)[0]
    if os.path.exists(dest) and not os.path.exists(os.path.join(dest, MARKER)):
        dest += "_nnmagics"
    return dest


def find_layout(folder: str) -> tuple[str, str | None]:
    """``(class root, validation class root or None)`` for a folder, descending into a lone top folder.

    Example::

        >>> find_layout("cats_and_dogs_filtered")                     # doctest: +SKIP
        ('cats_and_dogs_filtered/train', 'cats_and_dogs_filtered/validation')
    """
    for _depth in range(4):
        subdirs = visible_subdirs(folder)
        by_lower = {d.lower(): d for d in subdirs}
        train = next((by_lower[n] for n in TRAIN_DIRS if n in by_lower), None)
        val = next((by_lower[n] for n in VALIDATION_DIRS if n in by_lower), None)
        if train and visible_subdirs(os.path.join(folder, train)):
            return os.path.join(folder, train), os.path.join(folder, val) if val else None
        if len(subdirs) == 1 and visible_subdirs(os.path.join(folder, subdirs[0])):
            folder = os.path.join(folder, subdirs[0])  # e.g. cats_and_dogs_filtered/ inside the zip
            continue
        return folder, None
    return folder, None


def scan(root: str) -> tuple[list[str], list[list[str]], list[str]]:
    """``(classes, files of each class sorted by relative path, loose files outside class folders)``.

    Files in nested folders of a class folder belong to that class.
    """
    from .archive import MARKER

    classes = visible_subdirs(root)
    per_class = []
    for name in classes:
        class_dir = os.path.join(root, name)
        found = []
        for dirpath, dirnames, filenames in os.walk(class_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in IGNORED_DIRS)
            found.extend(os.path.join(dirpath, f) for f in filenames)
        found.sort(key=lambda p: os.path.relpath(p, class_dir))
        per_class.append(found)
    loose = sorted(
        os.path.join(root, n) for n in os.listdir(root)
        if not os.path.isdir(os.path.join(root, n)) and n != MARKER
    )
    return classes, per_class, loose


def require_classes(root: str, classes: list[str]) -> None:
    """One sentence unless ``root`` holds at least two class sub-folders."""
    if not classes:
        raise NNUsageError(
            _("'{folder}' has no class sub-folders; put the images in one sub-folder per class, e.g. train/cats and "
              "train/dogs.").format(folder=printable(root))
        )
    if len(classes) == 1:
        raise NNUsageError(
            _("'{folder}' holds a single class ('{name}'); a classifier needs at least 2 class sub-folders, "
              "e.g. train/cats and train/dogs.").format(folder=printable(root), name=printable(classes[0]))
        )


def same_classes(train_root: str, train: list[str], val_root: str, val: list[str]) -> None:
    """One sentence unless the train and validation parts have the same class sub-folders."""
    if train == val:
        return
    only_train = sorted(set(train) - set(val))
    only_val = sorted(set(val) - set(train))
    details = []
    if only_train:
        details.append(_("only in {folder}: {classes}").format(folder=os.path.basename(train_root),
                                                                classes=", ".join(only_train)))
    if only_val:
        details.append(_("only in {folder}: {classes}").format(folder=os.path.basename(val_root),
                                                                classes=", ".join(only_val)))
    raise NNUsageError(
        _("{train}/ and {validation}/ have different classes ({details}); give both the same class "
          "sub-folders.").format(train=os.path.basename(train_root), validation=os.path.basename(val_root),
                                 details="; ".join(details))
    )


__all__ = ["resolve_source", "default_extract_dir", "find_layout", "scan", "require_classes", "same_classes",
           "visible_subdirs", "TRAIN_DIRS", "VALIDATION_DIRS"]
