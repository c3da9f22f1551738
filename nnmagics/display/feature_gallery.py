"""The course's feature-map gallery: one row per conv/pool layer, its channels side by side, viridis.

Each channel is normalised as the course does (``normalise_map``: centre, divide by the std,
×64 +128, clip, uint8). Strips are drawn with NumPy and a viridis lookup table and encoded
with PIL (fast: no matplotlib figure per layer); ``figure()`` gives a matplotlib ``Figure``
for saving. A layer with more channels than ``per_row`` shows its first ``per_row`` channels;
"show all" wraps every channel into rows of ``per_row``.

In a notebook with ipywidgets, ``FeatureGallery`` displays as a widget: a layer dropdown,
an image slider over the dataset's images and a "show all channels" toggle. Feature maps are
computed once per image (one forward pass gives every layer) and each rendered strip is kept,
so switching back and forth never recomputes. Elsewhere it displays as static HTML (with
``<details>`` holding the full grids) and as text.

The maps themselves come from the core (``nnmagics.diagnosis.FeatureMapSet``): this module only
draws them. ``diagnosis_view`` makes the gallery of a ``DiagnosisReport`` when it is displayed.
"""
from __future__ import annotations

import base64
import html
import io
import math
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from ..diagnosis.map_images import FeatureMapSet
from ..diagnosis.maps import normalise_maps
from ..errors import NNUsageError
from ..i18n import _, num

ALL_LAYERS = "(all layers)"   # the dropdown's value (compared); its label is translated
DEFAULT_PER_ROW = 16
_MIN_TILE = 48  # small maps (VGG16's 7×7, 1×1) are enlarged to at least this many pixels
_GAP = 2
_MAX_WIDTH = 1600  # pixels; wider strips are shrunk before encoding
_LUT: np.ndarray | None = None


# ----------------------------------------------------------------------------- drawing
def viridis_lut() -> np.ndarray:
    """The viridis colour map as a ``(256, 3)`` uint8 lookup table."""
    global _LUT
    if _LUT is None:
        from matplotlib import colormaps

        _LUT = (colormaps["viridis"](np.arange(256))[:, :3] * 255).round().astype("uint8")
    return _LUT


def layer_strip(fmap: np.ndarray, per_row: int = DEFAULT_PER_ROW, show_all: bool = False) -> np.ndarray:
    """An ``H×W×C`` map → an RGB uint8 grid of its normalised channels in viridis, white gaps between.

    Without ``show_all`` only the first ``per_row`` channels (one row); with it, every channel in
    rows of ``per_row``. Tiles smaller than 48 pixels are enlarged (nearest neighbour).

    Example::

        >>> layer_strip(np.random.rand(17, 17, 64)).shape
        (51, 846, 3)
    """
    h, w, c = fmap.shape
    shown = c if show_all else min(c, per_row)
    cols = min(shown, per_row)
    rows = math.ceil(shown / cols) if cols else 0
    scale = max(1, math.ceil(_MIN_TILE / max(h, 1)))
    th, tw = h * scale, w * scale
    tiles = normalise_maps(fmap[:, :, :shown])
    if scale > 1:
        tiles = tiles.repeat(scale, axis=0).repeat(scale, axis=1)
    grid = np.full((rows * (th + _GAP) - _GAP, cols * (tw + _GAP) - _GAP, 3), 255, dtype="uint8")
    coloured = viridis_lut()[tiles]  # th × tw × shown × 3
    for i in range(shown):
        r, col = divmod(i, cols)
        grid[r * (th + _GAP): r * (th + _GAP) + th, col * (tw + _GAP): col * (tw + _GAP) + tw] = coloured[:, :, i]
    return grid


def png_bytes(rgb: np.ndarray, max_width: int | None = _MAX_WIDTH) -> bytes:
    """An RGB uint8 array → PNG bytes (fast compression), shrunk to ``max_width`` pixels if wider.

    A browser shows the strips at most about a screen wide anyway; shrinking first keeps
    notebooks small (the course CNN's first layer: 2,398 → 1,600 pixels wide).
    """
    from PIL import Image

    picture = Image.fromarray(rgb)
    if max_width and picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.BOX)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _img_tag(png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' style='max-width:100%;image-rendering:pixelated'/>"


def _shape_text(fmap: np.ndarray) -> str:
    return "×".join(str(d) for d in fmap.shape)


# ----------------------------------------------------------------------------- the gallery
class FeatureGallery:
    """A browsable view of feature maps: by layer, by image, first channels or all of them.

    Built from a ``FeatureMapSet`` (what ``diagnose(..., feature_maps=...)`` carries in
    ``report.feature_map_set``), or from a model and its images as ``FeatureMapSet`` takes them:
    an ``ImageData`` (the slider runs over its images), a list of arrays or paths, or one image.
    Maps are computed once per image (the set's ``compute_count`` says how often) and rendered
    strips are cached.

    Example::

        >>> gallery = FeatureGallery(cnn, val, index=3)               # doctest: +SKIP
        >>> gallery.maps()["conv2d"].shape                            # doctest: +SKIP
        (148, 148, 16)
        >>> gallery                        # a widget in a notebook      # doctest: +SKIP
        >>> FeatureGallery(report.feature_map_set)                    # doctest: +SKIP
    """

    def __init__(self, model_or_set: Any, images: Any = None, *, index: int | None = None, layer: str | None = None,
                 per_row: int = DEFAULT_PER_ROW, image_size: tuple[int, int] | None = None,
                 compute: Callable[[np.ndarray], "OrderedDict[str, np.ndarray]"] | None = None):
        if isinstance(model_or_set, FeatureMapSet):
            self.maps_set = model_or_set
        else:
            self.maps_set = FeatureMapSet(model_or_set, images, index=index or 0, layer=layer, image_size=image_size,
                                          compute=compute)
            index = None  # checked and kept by the set
        self.model = self.maps_set.model
        self.index = self.maps_set.index if index is None else int(index) % len(self.maps_set)
        self.layer = self.maps_set.layer if layer is None else layer
        self.show_all = False
        self.per_row = max(1, int(per_row))
        self._png: dict[tuple[int, str, bool], bytes] = {}
        self.view = None  # the widget's HTML view, once widget() has been called

    # -- data --------------------------------------------------------------------------------
    @property
    def compute_count(self) -> int:
        """How many forward passes were run (one per image shown)."""
        return self.maps_set.compute_count

    def maps(self, index: int | None = None) -> "OrderedDict[str, np.ndarray]":
        """All conv/pool maps of image ``index`` (default: the current one), computed at most once."""
        return self.maps_set.maps(self.index if index is None else int(index))

    @property
    def layer_names(self) -> list[str]:
        """The layers of the gallery, in the order the model runs them."""
        return list(self.maps().keys())

    def _layers(self, layer: str | None) -> list[str]:
        names = self.layer_names
        if layer in (None, ALL_LAYERS):
            return names
        if layer not in names:
            raise NNUsageError(_("No feature maps for layer '{layer}'; choose one of: {choices}.").format(
                layer=layer, choices=", ".join(names)))
        return [layer]

    def strip_png(self, layer: str, index: int | None = None, show_all: bool = False) -> bytes:
        """PNG of one layer's channel strip (cached)."""
        index = self.index if index is None else int(index)
        key = (index, layer, bool(show_all))
        if key not in self._png:
            self._png[key] = png_bytes(layer_strip(self.maps(index)[layer], self.per_row, show_all))
        return self._png[key]

    # -- static outputs ----------------------------------------------------------------------------
    def title(self, index: int | None = None) -> str:
        """'Feature maps of 'cnn' for image 3 of 'val': cat.3.jpg (cats)'."""
        return self.maps_set.title(self.index if index is None else int(index))

    def _layer_html(self, name: str, index: int, show_all: bool, details: bool) -> str:
        fmap = self.maps(index)[name]
        channels = fmap.shape[-1]
        capped = channels > self.per_row and not show_all
        count = (_("first {n} of {total} channels").format(n=self.per_row, total=channels) if capped
                 else _("{n} channels").format(n=channels))
        head = (f"<div style='font:600 12px sans-serif;margin:6px 0 2px'>{html.escape(name)} "
                f"<span style='font-weight:400;color:#555'>{_shape_text(fmap)} · {count}</span></div>")
        body = _img_tag(self.strip_png(name, index, show_all))
        if capped and details:
            full = _img_tag(self.strip_png(name, index, True))
            summary = html.escape(_("show all {n} channels").format(n=channels))
            body += (f"<details><summary style='font:11px sans-serif;cursor:pointer'>{summary}"
                     f"</summary>{full}</details>")
        return f"<div>{head}{body}</div>"

    def html(self, index: int | None = None, layer: str | None = None, show_all: bool | None = None,
             details: bool = True) -> str:
        """The gallery as HTML (images inline); ``details`` adds a "show all channels" toggle per capped layer."""
        index = self.index if index is None else int(index)
        layer = self.layer if layer is None else layer
        show_all = self.show_all if show_all is None else show_all
        blocks = "".join(self._layer_html(name, index, show_all, details) for name in self._layers(layer))
        return (f"<div><div style='font:600 13px sans-serif'>{html.escape(self.title(index))}</div>"
                f"{blocks}</div>")

    def text(self, index: int | None = None, layer: str | None = None) -> str:
        """A plain-text summary: one line per layer with its shape and value range."""
        layer = self.layer if layer is None else layer
        return self.maps_set.text(self.index if index is None else int(index), None if layer == ALL_LAYERS else layer)

    def figure(self, index: int | None = None, layer: str | None = None, show_all: bool | None = None):
        """A matplotlib ``Figure`` of the gallery (one row per layer, like the course's plots)."""
        from matplotlib.figure import Figure

        index = self.index if index is None else int(index)
        show_all = self.show_all if show_all is None else show_all
        names = self._layers(self.layer if layer is None else layer)
        strips = [layer_strip(self.maps(index)[n], self.per_row, show_all) for n in names]
        width = 20.0
        heights = [max(width * s.shape[0] / s.shape[1], 0.6) for s in strips]
        fig = Figure(figsize=(width, sum(heights) + 0.45 * len(strips) + 0.4))
        axes = fig.subplots(len(strips), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
        for ax, name, strip in zip(axes, names, strips):
            ax.imshow(strip, aspect="auto", interpolation="nearest")
            ax.set_title(f"{name}  {_shape_text(self.maps(index)[name])}", fontsize=10, loc="left")
            ax.grid(False)
            ax.axis("off")
        fig.suptitle(self.title(index), fontsize=11)
        return fig

    # -- widget ------------------------------------------------------------------------------------
    def widget(self):
        """An ipywidgets view: layer dropdown, image slider, "show all channels" toggle, the gallery."""
        import ipywidgets as w

        names = self.layer_names
        shown_all = _("(all layers)")
        options = ([ALL_LAYERS, *names] if shown_all == ALL_LAYERS    # English: the values are the labels
                   else [(shown_all, ALL_LAYERS), *((n, n) for n in names)])
        self.layer_dropdown = w.Dropdown(options=options, value=self.layer or ALL_LAYERS, description=_("Layer"))
        last = len(self.maps_set) - 1
        self.image_slider = w.IntSlider(value=self.index, min=0, max=max(last, 0), description=_("Image"),
                                        continuous_update=False, disabled=last <= 0)
        wide = any(m.shape[-1] > self.per_row for m in self.maps().values())
        self.show_all_toggle = w.ToggleButton(value=self.show_all, description=_("show all channels"),
                                              disabled=not wide,
                                              tooltip=_("layers with more than {n} channels show the first {n}").format(
                                                  n=self.per_row))
        self.view = w.HTML()
        for control in (self.layer_dropdown, self.image_slider, self.show_all_toggle):
            control.observe(self._on_change, names="value")
        self._refresh()
        return w.VBox([w.HBox([self.layer_dropdown, self.image_slider, self.show_all_toggle]), self.view])

    def _on_change(self, _change=None) -> None:
        self.layer = None if self.layer_dropdown.value == ALL_LAYERS else self.layer_dropdown.value
        self.index = int(self.image_slider.value)
        self.show_all = bool(self.show_all_toggle.value)
        self._refresh()

    def _refresh(self) -> None:
        if self.view is not None:
            self.view.value = self.html(details=False)

    # -- IPython display -----------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        from .output import in_notebook

        if in_notebook():
            try:
                # the widget view, plus a static gallery for viewers without a kernel (nbconvert, GitHub)
                from .widget_compat import show_widget

                show_widget(self.widget(), {"text/html": self.html(), "text/plain": self.text()})
                return
            except ImportError:
                pass
        display({"text/html": self.html(), "text/plain": self.text()}, raw=True)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


__all__ = ["FeatureGallery", "layer_strip", "png_bytes", "viridis_lut", "ALL_LAYERS"]
