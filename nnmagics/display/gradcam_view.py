"""How a ``GradCAM`` looks: each image under its heat map (jet, alpha 0.4), titled "pred dogs 0.83 · true cats".

A grid of up to 4 images a row, the title green when the prediction is right and red when it is
wrong; a matplotlib ``Figure`` that is not left in pyplot's state. The heat maps come from the
core (``nnmagics.diagnosis.cam``); ``register()`` tells ``nnmagics.registry`` where this is, so
the core never imports it.

Example::

    fig = gradcam_figure(gradcam(cnn, (cats_val, slice(0, 8))))
"""
from __future__ import annotations

import math

from ..i18n import _
from ..registry import register as _register

PER_ROW = 4
ALPHA = 0.4


def gradcam_figure(cam, per_row: int = PER_ROW, alpha: float = ALPHA):
    """The Figure of ``cam``: every image with its heat map over it, a title each, the layer above.

    Example::

        >>> gradcam_figure(cam).savefig("gradcam.png")              # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    n = len(cam)
    cols = max(1, min(per_row, n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(2.9 * cols, 3.2 * rows + 0.4), layout="constrained")   # two-line titles never overlap
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(cam.images[i])
        ax.imshow(cam.heatmaps[i], cmap="jet", alpha=alpha, vmin=0, vmax=1, interpolation="bilinear")
        right = cam.true is None or int(cam.true[i]) == int(cam.predicted[i])
        colour = "#222" if cam.true is None else ("#1b6e20" if right else "#b00020")
        ax.set_title(f"{cam.captions[i]}\n{cam.title(i)}" if cam.captions else cam.title(i), fontsize=8.5,
                     color=colour, parse_math=False)   # a '$' in a file or class name is text
        ax.axis("off")
    fig.suptitle(cam.heading(), fontsize=10, parse_math=False)
    return fig


def show_gradcam(cam) -> None:
    """Display ``cam``: the figure as a PNG with its text (notes included) beside it for plain-text readers."""
    from IPython.display import display

    from .output import figure_png

    display({"image/png": figure_png(cam.figure()), "text/plain": cam.text(notes=False)}, raw=True)
    for note in cam.notes:
        display({"text/plain": _("Note: {text}").format(text=note)}, raw=True)


def gradcam_html(cam) -> str:
    """``cam`` as HTML: the figure inline as a PNG, then its notes (a static page, nbconvert)."""
    import base64
    import html

    from .output import figure_png

    png = base64.b64encode(figure_png(cam.figure())).decode("ascii")
    notes = "".join(f"<p style='color:#a05a00'>{html.escape(n)}</p>" for n in cam.notes)
    return f"<img src='data:image/png;base64,{png}' style='max-width:100%'/>{notes}"


def register() -> None:
    """Tell ``nnmagics.registry`` where Grad-CAM's displays are (strings: nothing is imported now)."""
    _register("gradcam.figure", "nnmagics.display.gradcam_view:gradcam_figure")
    _register("gradcam.view", "nnmagics.display.gradcam_view:show_gradcam")
    _register("gradcam.html", "nnmagics.display.gradcam_view:gradcam_html")


__all__ = ["gradcam_figure", "gradcam_html", "show_gradcam", "register"]
