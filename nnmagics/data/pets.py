"""Drawn cats and dogs on photo backgrounds: sample images with a real but imperfect class signal.

A cat and a dog differ by six cues — ears (pointed / floppy), face (round / long), eyes
(almond with slit pupils / round), muzzle (small nose and whiskers / long snout and big nose),
coat (stripes / patches) and fur colour (greys and gingers / browns and blacks). Each cue
follows the animal's class only with probability ``CUE_AGREEMENT``, otherwise it takes the
other class's style: a "dog" may have pointed ears. So some pictures are ambiguous, and the
course CNN trained on 200 pictures per class learns them by heart (training accuracy near
1.0) while validation accuracy stalls around 0.7 and validation loss climbs — the
over-fitting the course shows on the real cats and dogs. Position, size, rotation,
colours and the background photo (scikit-image's bundled photos, no download) vary freely.

Training and validation backgrounds come from disjoint sets of photos
(``BACKGROUNDS["train"]`` / ``BACKGROUNDS["validation"]``), so no validation picture shares
anything but the drawing style with a training one.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import NNUsageError
from ..i18n import _

CUES = ("ears", "face", "eyes", "muzzle", "coat", "colour")
CUE_AGREEMENT = 0.78
# scikit-image photos shipped inside its wheel (skimage/data/*.png|jpg); grey ones are tinted
BACKGROUNDS = {
    "train": ("astronaut", "coffee", "hubble_deep_field", "immunohistochemistry", "brick", "grass", "camera",
              "moon"),
    "validation": ("rocket", "retina", "colorwheel", "gravel", "coins", "page", "text", "clock"),
}
_FUR = {
    "cat": [(128, 128, 128), (90, 90, 95), (200, 120, 50), (225, 160, 90), (60, 60, 60), (170, 165, 160)],
    "dog": [(120, 80, 45), (160, 110, 60), (35, 30, 28), (235, 220, 190), (190, 150, 100), (95, 60, 40)],
}
_SUPERSAMPLE = 2


def load_backgrounds(split: str) -> list[tuple[str, np.ndarray]]:
    """``(name, RGB uint8 array)`` for each background photo of ``split`` (``train`` or ``validation``).

    Example::

        >>> [name for name, _ in load_backgrounds("validation")][:2]    # doctest: +SKIP
        ['rocket', 'retina']
    """
    from skimage import data

    photos = []
    for name in BACKGROUNDS[split]:
        try:
            image = np.asarray(getattr(data, name)())
        except Exception:  # a trimmed install without that bundled file: skip it
            continue
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        photos.append((name, np.ascontiguousarray(image[..., :3].astype(np.uint8))))
    if len(photos) < 2:
        raise NNUsageError(
            _("scikit-image's bundled photos are missing; reinstall it with pip install --force-reinstall "
              "scikit-image.")
        )
    return photos


def cue_styles(animal: str, rng: np.random.Generator) -> dict[str, str]:
    """For each cue, ``"cat"`` or ``"dog"``: the animal's own style with probability ``CUE_AGREEMENT``."""
    other = "dog" if animal == "cat" else "cat"
    return {cue: animal if rng.random() < CUE_AGREEMENT else other for cue in CUES}


def draw_pet(animal: str, background: np.ndarray, rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
    """A PIL image of a drawn ``animal`` (``"cat"`` or ``"dog"``) on a random crop of ``background``.

    Returns ``(image, record)``; the record tells how it was drawn (size, crop, cue styles).

    Example::

        >>> rng = np.random.default_rng(0)
        >>> image, record = draw_pet("cat", load_backgrounds("train")[0][1], rng)   # doctest: +SKIP
        >>> image.size, record["styles"]["ears"]                                    # doctest: +SKIP
        ((312, 221), 'cat')
    """
    from PIL import Image

    width, height = _canvas_size(rng)
    canvas, crop = _background(background, width, height, rng)
    styles = cue_styles(animal, rng)
    side = int(min(width, height) * rng.uniform(0.75, 1.05))
    face = _draw_face(styles, side, rng)
    angle = float(rng.uniform(-30, 30))
    face = face.rotate(angle, resample=Image.BILINEAR, expand=True)
    left = int(rng.integers(-face.width // 6, max(width - face.width * 5 // 6, -face.width // 6) + 1))
    top = int(rng.integers(-face.height // 6, max(height - face.height * 5 // 6, -face.height // 6) + 1))
    canvas.paste(face, (left, top), face)
    record = {"size": [width, height], "crop": crop, "styles": styles, "angle": round(angle, 1)}
    return canvas, record


def _canvas_size(rng: np.random.Generator) -> tuple[int, int]:
    long_side = int(rng.integers(180, 361))
    short_side = max(150, int(round(long_side / rng.uniform(1.0, 1.5))))
    return (long_side, short_side) if rng.random() < 0.6 else (short_side, long_side)


def _background(photo: np.ndarray, width: int, height: int, rng: np.random.Generator) -> tuple[Any, list[int]]:
    """A random crop of ``photo`` (flipped, colour-shifted), resized to ``width`` × ``height``."""
    from PIL import Image

    src_h, src_w = photo.shape[:2]
    aspect = width / height
    crop_w = min(src_w, src_h * aspect) * math.sqrt(rng.uniform(0.3, 1.0))
    crop_w, crop_h = max(int(crop_w), 16), max(int(crop_w / aspect), 16)
    left, top = int(rng.integers(0, src_w - crop_w + 1)), int(rng.integers(0, src_h - crop_h + 1))
    patch = Image.fromarray(photo[top:top + crop_h, left:left + crop_w]).resize((width, height), Image.BILINEAR)
    pixels = np.asarray(patch, dtype=np.float32)
    if rng.random() < 0.5:
        pixels = pixels[:, ::-1]
    mean = pixels.mean(axis=(0, 1))
    # a softened background: the animal stands out, the photo still varies from image to image
    pixels = mean + (pixels - mean) * rng.uniform(0.35, 0.75)
    pixels = pixels * rng.uniform(0.7, 1.15, size=3) + rng.uniform(-25, 25, size=3)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image, [left, top, crop_w, crop_h]


def _jitter(colour: tuple[int, int, int], rng: np.random.Generator, amount: float = 8) -> tuple[int, int, int]:
    """``colour`` a little lighter or darker, with a slight tint."""
    shifted = np.asarray(colour) * rng.uniform(0.8, 1.2) + rng.normal(0, amount, 3)
    return tuple(int(v) for v in np.clip(shifted, 0, 255))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, v * factor))) for v in colour)


def _draw_face(styles: dict[str, str], side: int, rng: np.random.Generator) -> Any:
    """An RGBA image ``side`` × ``side`` of a cartoon head drawn in the given cue styles."""
    from PIL import Image, ImageDraw

    s = side * _SUPERSAMPLE
    layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    palette = _FUR[styles["colour"]]
    fur = _jitter(palette[int(rng.integers(len(palette)))], rng)
    dark, light = _shade(fur, 0.55), _shade(fur, 1.35)

    cx, cy = s * rng.uniform(0.46, 0.54), s * rng.uniform(0.54, 0.6)
    head_w = s * rng.uniform(0.5, 0.6)
    head_h = head_w * (rng.uniform(0.82, 0.98) if styles["face"] == "cat" else rng.uniform(1.08, 1.3))
    head = (cx - head_w / 2, cy - head_h / 2, cx + head_w / 2, cy + head_h / 2)

    ear_w = head_w * rng.uniform(0.28, 0.38)
    if styles["ears"] == "cat":   # pointed triangles standing on the head, pink inside
        for sign in (-1, 1):
            base_x = cx + sign * head_w * rng.uniform(0.22, 0.32)
            base_y = cy - head_h * 0.32
            tip = (base_x + sign * ear_w * rng.uniform(0.1, 0.4), base_y - head_h * rng.uniform(0.45, 0.65))
            draw.polygon([(base_x - ear_w / 2, base_y), (base_x + ear_w / 2, base_y), tip], fill=fur)
            inner = [(base_x - ear_w / 4, base_y), (base_x + ear_w / 4, base_y),
                     (tip[0] * 0.7 + base_x * 0.3, tip[1] * 0.7 + base_y * 0.3)]
            draw.polygon(inner, fill=(230, 160, 170))
    else:                          # floppy ears hanging down the sides, darker
        for sign in (-1, 1):
            ex = cx + sign * head_w * rng.uniform(0.42, 0.52)
            ey = cy - head_h * rng.uniform(0.05, 0.2)
            ear_h = head_h * rng.uniform(0.55, 0.8)
            draw.ellipse((ex - ear_w / 2, ey - ear_h / 2, ex + ear_w / 2, ey + ear_h / 2), fill=dark)

    draw.ellipse(head, fill=fur)
    if styles["coat"] == "cat":   # tabby stripes across the forehead and cheeks
        n = int(rng.integers(3, 6))
        width = max(int(head_w * rng.uniform(0.03, 0.05)), 2)
        for k in range(n):
            x = cx + (k - (n - 1) / 2) * head_w * 0.12
            draw.line([(x, cy - head_h * 0.45), (x + rng.uniform(-1, 1) * head_w * 0.04, cy - head_h * 0.2)],
                      fill=dark, width=width)
        for sign in (-1, 1):
            for k in range(2):
                y = cy + head_h * (0.05 + 0.1 * k)
                draw.line([(cx + sign * head_w * 0.48, y), (cx + sign * head_w * 0.3, y + head_h * 0.03)],
                          fill=dark, width=width)
    else:                          # a large patch around one eye and a few spots
        sign = -1 if rng.random() < 0.5 else 1
        r = head_w * rng.uniform(0.16, 0.24)
        px, py = cx + sign * head_w * 0.2, cy - head_h * 0.1
        draw.ellipse((px - r, py - r * 1.2, px + r, py + r), fill=dark)
        for _spot in range(int(rng.integers(1, 4))):
            sx, sy = cx + rng.uniform(-0.35, 0.35) * head_w, cy + rng.uniform(-0.35, 0.05) * head_h
            sr = head_w * rng.uniform(0.04, 0.08)
            draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=dark)

    eye_y = cy - head_h * rng.uniform(0.05, 0.15)
    eye_dx = head_w * rng.uniform(0.18, 0.24)
    for sign in (-1, 1):
        ex = cx + sign * eye_dx
        if styles["eyes"] == "cat":   # almond eyes, green or amber, with slit pupils
            ew, eh = head_w * 0.13, head_w * 0.08
            iris = _jitter((120, 190, 60) if rng.random() < 0.5 else (220, 170, 40), rng)
            draw.ellipse((ex - ew, eye_y - eh, ex + ew, eye_y + eh), fill=iris)
            draw.ellipse((ex - ew * 0.18, eye_y - eh * 0.95, ex + ew * 0.18, eye_y + eh * 0.95), fill=(10, 10, 10))
        else:                         # round dark eyes with a white glint
            er = head_w * 0.07
            draw.ellipse((ex - er, eye_y - er, ex + er, eye_y + er), fill=(35, 22, 15))
            g = er * 0.35
            draw.ellipse((ex - er * 0.3 - g, eye_y - er * 0.3 - g, ex - er * 0.3 + g, eye_y - er * 0.3 + g),
                         fill=(240, 240, 240))

    if styles["muzzle"] == "cat":   # small pink nose and whiskers
        ny = cy + head_h * rng.uniform(0.1, 0.16)
        nw = head_w * 0.06
        draw.polygon([(cx - nw, ny), (cx + nw, ny), (cx, ny + nw * 1.1)], fill=(225, 130, 150))
        wl = max(int(head_w * 0.012), 1)
        for sign in (-1, 1):
            for k in (-1, 0, 1):
                draw.line([(cx + sign * nw * 1.5, ny + nw), (cx + sign * head_w * 0.62, ny + nw + k * head_h * 0.08)],
                          fill=(240, 240, 240), width=wl)
    else:                            # a long lighter snout with a big black nose and a mouth line
        mw, mh = head_w * rng.uniform(0.28, 0.36), head_h * rng.uniform(0.28, 0.38)
        my = cy + head_h * 0.22
        draw.ellipse((cx - mw, my - mh / 2, cx + mw, my + mh / 2 + head_h * 0.08), fill=light)
        nw = head_w * rng.uniform(0.1, 0.14)
        draw.ellipse((cx - nw, my - mh / 2, cx + nw, my - mh / 2 + nw * 1.2), fill=(20, 15, 15))
        draw.line([(cx, my - mh / 2 + nw), (cx, my + mh * 0.25)], fill=(20, 15, 15), width=max(int(nw * 0.2), 1))
        draw.arc((cx - mw * 0.6, my, cx + mw * 0.6, my + mh * 0.5), 20, 160, fill=(20, 15, 15),
                 width=max(int(nw * 0.2), 1))
    return layer.reduce(_SUPERSAMPLE)


__all__ = ["draw_pet", "load_backgrounds", "cue_styles", "BACKGROUNDS", "CUES", "CUE_AGREEMENT"]
