"""File names as text that every front end can show, and as bytes that TensorFlow can open.

On Linux a file name is bytes; Python reads bytes that are not valid UTF-8 as lone
"surrogate" characters (``caf\\udce9.jpg``), which TensorFlow refuses to turn into a string
tensor and which a notebook cannot send as JSON. Paths keep their exact bytes for reading,
and become readable text (``caf�.jpg``) only for display.
"""
from __future__ import annotations

import os

from ..i18n import _, ngettext


def printable(path: str | os.PathLike | bytes) -> str:
    """``path`` as text safe to print, put in HTML or in a notebook: undecodable bytes become '�'.

    Example::

        >>> printable("cats/caf\\udce9.jpg")
        'cats/caf�.jpg'
        >>> printable("cats/café.jpg")
        'cats/café.jpg'
    """
    text = os.fsdecode(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def path_bytes(path: str | os.PathLike) -> bytes:
    """The exact bytes of ``path`` on disk (what TensorFlow's file ops take for any name).

    Example::

        >>> path_bytes("cats/caf\\udce9.jpg")
        b'cats/caf\\xe9.jpg'
    """
    return os.fsencode(path)


def changed_error(changed: list[tuple[str | None, str]]) -> NNUsageError:
    """The sentence naming the first file deleted or changed since the check (and how many more).

    Example::

        >>> str(changed_error([("cat.1.jpg", "deleted")]))[:40]
        "The image file 'cat.1.jpg' was deleted a"
    """
    from ..errors import NNUsageError

    path, how = changed[0]
    others = len(changed) - 1
    more = ngettext(" (and {n} more file)", " (and {n} more files)", others).format(n=others) if others else ""
    if how == "deleted":
        sentence = _("The image file '{path}' was deleted after %nn_data checked it{more}; run %nn_data again to "
                     "re-check the folder.") if path else \
            _("An image file was deleted after %nn_data checked it{more}; run %nn_data again to re-check the folder.")
    else:
        sentence = _("The image file '{path}' was changed after %nn_data checked it{more}; run %nn_data again to "
                     "re-check the folder.") if path else \
            _("An image file was changed after %nn_data checked it{more}; run %nn_data again to re-check the folder.")
    return NNUsageError(sentence.format(path=printable(path) if path else "", more=more))


__all__ = ["changed_error", "printable", "path_bytes"]
