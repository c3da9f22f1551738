"""A tiny class-folder tree full of awkward files, to show (and test) how image checks cope."""
from __future__ import annotations

import io
import os
from typing import Any

import numpy as np

from .samples import _source_photos, random_photo

def make_dirty_folder(directory: str | os.PathLike, *, size: int = 48, seed: int = 0) -> str:
    """Write ``directory/dirty_images/{cats,dogs}`` full of awkward files; return that folder.

    Readable (11): ``cats/cat.0-2.jpg`` (RGB JPEG), ``cats/cat.3.png`` (grayscale),
    ``cats/cat.4.png`` (RGBA), ``dogs/dog.0-1.jpg`` (RGB JPEG), ``dogs/dog.2.jpg`` (CMYK JPEG),
    ``dogs/dog.3.png`` (16-bit grayscale), ``dogs/dog.4.png`` (palette), ``dogs/dog.5.tif`` (TIFF).
    Skipped (6): ``cats/cat.9.jpg`` (truncated), ``cats/notes.txt``, ``dogs/.DS_Store``,
    ``dogs/Thumbs.db``, ``dogs/empty.jpg`` (0 bytes), ``dogs/fake.jpg`` (text named .jpg).

    Example::

        >>> root = make_dirty_folder(tmp_path)                  # doctest: +SKIP
        >>> data = load_images(root, image_size=32)             # doctest: +SKIP
        >>> len(data), len(data.skipped)                        # doctest: +SKIP
        (11, 6)
    """
    from PIL import Image

    root = os.path.join(os.path.abspath(os.fspath(directory)), "dirty_images")
    cats, dogs = os.path.join(root, "cats"), os.path.join(root, "dogs")
    os.makedirs(cats, exist_ok=True)
    os.makedirs(dogs, exist_ok=True)
    photos = _source_photos()
    rng = np.random.default_rng(seed)

    def photo(kind: str, extra: int = 0) -> Any:
        return random_photo(photos[kind][0], rng).resize((size + extra, size + extra // 2 + 4))

    for i in range(3):
        photo("cats", 4 * i).save(os.path.join(cats, f"cat.{i}.jpg"), "JPEG", quality=90)
    photo("cats").convert("L").save(os.path.join(cats, "cat.3.png"))
    rgba = photo("cats", 6).convert("RGBA")
    alpha = np.linspace(40, 255, rgba.width * rgba.height).reshape(rgba.height, rgba.width)
    rgba.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    rgba.save(os.path.join(cats, "cat.4.png"))
    buf = io.BytesIO()
    photo("cats", 10).save(buf, "JPEG", quality=90)
    with open(os.path.join(cats, "cat.9.jpg"), "wb") as fh:
        fh.write(buf.getvalue()[: len(buf.getvalue()) * 3 // 5])
    with open(os.path.join(cats, "notes.txt"), "w", encoding="utf-8") as fh:
        fh.write("not an image\n")

    for i in range(2):
        photo("dogs", 4 * i).save(os.path.join(dogs, f"dog.{i}.jpg"), "JPEG", quality=90)
    photo("dogs", 2).convert("CMYK").save(os.path.join(dogs, "dog.2.jpg"), "JPEG", quality=90)
    gray16 = np.asarray(photo("dogs", 8).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(gray16).save(os.path.join(dogs, "dog.3.png"))
    photo("dogs", 12).convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(dogs, "dog.4.png"))
    photo("dogs", 14).save(os.path.join(dogs, "dog.5.tif"), "TIFF")
    with open(os.path.join(dogs, ".DS_Store"), "wb") as fh:
        fh.write(b"\x00\x00\x00\x01Bud1" + bytes(64))
    with open(os.path.join(dogs, "Thumbs.db"), "wb") as fh:
        fh.write(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(120))
    open(os.path.join(dogs, "empty.jpg"), "wb").close()
    with open(os.path.join(dogs, "fake.jpg"), "w", encoding="utf-8") as fh:
        fh.write("<html>404 Not Found</html>\n")
    return root


__all__ = ["make_dirty_folder"]
