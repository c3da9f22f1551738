"""A grid of an image dataset's original files, titled with their shapes, as the course draws them."""
from __future__ import annotations

import math

from ..errors import NNUsageError
from ..i18n import _


def image_grid(data, n: int = 10, columns: int = 5):
    """The first ``n`` images of ``data`` at their original size, each titled ``(h, w, c)`` and class.

    Like the course's ``plt.imshow(imread(f)); plt.title(image.shape)`` loop, it shows that
    the photos come in different shapes and orientations. Returns a matplotlib ``Figure``
    (not pyplot state), so it works under any backend.

    Example::

        fig = image_grid(load_images("cats_and_dogs_filtered/train"), n=9, columns=3)
    """
    from matplotlib.figure import Figure

    from ..data.images import read_rgb

    try:
        n, columns = int(n), int(columns)
    except (TypeError, ValueError):
        raise NNUsageError(_("Give whole numbers for the number of images and columns, not {n} and {columns}.").format(
            n=repr(n), columns=repr(columns))) from None
    if n <= 0 or columns <= 0:
        raise NNUsageError(_("Give a positive number of images and columns (got {n} and {columns}), e.g. --show 10.").format(
            n=n, columns=columns))
    n = min(n, len(data))
    columns = min(columns, n)
    rows = math.ceil(n / columns)
    fig = Figure(figsize=(2.6 * columns, 2.6 * rows + 0.3))
    shapes = data.original_shapes(n)
    for i in range(n):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(read_rgb(data.files[i]))
        ax.set_title(f"{data.class_names[int(data.labels[i])]} {tuple(shapes[i])}", fontsize=9, parse_math=False)
        ax.axis("off")
    if getattr(data, "name", None):
        title = _("First {n} images of '{data}' (original shapes)").format(n=n, data=data.name)
    else:
        title = _("First {n} images of the dataset (original shapes)").format(n=n)
    fig.suptitle(title, fontsize=10, parse_math=False)
    fig.tight_layout()
    return fig
