"""Grad-CAM: where in each image a CNN looked to decide its class (Selvaraju et al., 2017).

For one layer with maps ``A`` (height × width × channels, by default the last convolution):
``heat = ReLU(Σ_k mean(∂score/∂A_k) · A_k)``, normalised to [0, 1] per image and resized to the
image, where ``score`` is the predicted class's output (softmax: that unit; one sigmoid unit: p for
class 1, 1 − p for class 0). The gradient comes from the Keras backend's own autodiff
(``gradients``: TensorFlow, JAX or PyTorch) during one ordinary forward pass with the layer
tapped, so it works for Sequential, Functional, subclass and nested models (a VGG16 or any
``keras.applications`` base inside a transfer model) alike.

``gradcam(model, images)`` returns a ``GradCAM``: the heat maps, the predictions and the chosen
layer, as data. The picture (each image under its heat map, "pred dogs 0.83 · true cats") is the
display layer's, found through ``nnmagics.registry`` (``"gradcam.figure"``).

Example::

    cam = gradcam(cnn, (cats_val, slice(0, 8)))
    cam.layer, cam.heatmaps.shape, cam.titles()[0]      # 'conv2d_3', (8, 150, 150), 'pred cats 0.91 · true cats'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .. import registry
from ..checks import check_model
from ..data.pixel_scale import warn_pixel_scale
from ..errors import NNUsageError, did_you_mean
from ..i18n import _, percent
from .evaluation import as_probabilities, decide
from .cam_images import MAX_IMAGES, cam_images
from .gradients import backend_name, layer_gradients
from .maps import _check_image_fits, _children, _forward, is_convolution, is_pooling, model_label, walk_layers
from .taps import tapping

_CHUNK = 8           # images per backward pass
# identity layers when predicting: never "the last convolution's maps"
_INERT = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
          "AlphaDropout", "ActivityRegularization"}


# ----------------------------------------------------------------------------- the layer
@dataclass(frozen=True)
class LayerRun:
    """One layer as the model runs it on an image: its path (``vgg16/block5_conv3``), its name as
    shown (the plain name unless two layers share it), the layer, its output's rank (None: no tensor)."""

    path: str
    name: str
    layer: Any
    rank: int | None


def _rank(outputs) -> int | None:
    shape = getattr(outputs, "shape", None)
    return len(shape) if shape is not None and not isinstance(outputs, (list, tuple, dict)) else None


def layer_runs(model, batch: np.ndarray) -> list[LayerRun]:
    """Every layer ``model`` runs on ``batch``, in the order it runs them (one tapped pass).

    Example::

        >>> [(r.name, r.rank) for r in layer_runs(cnn, images[:1])][:2]   # doctest: +SKIP
        [('rescaling', 4), ('conv2d', 4)]
    """
    found = walk_layers(model)
    ranks: dict[str, int | None] = {}

    def keep(path: str):
        def hook(outputs):
            ranks[path] = _rank(outputs)
            return outputs
        return hook

    with tapping((layer, keep(path)) for path, layer in found):
        _forward(model, batch)
    layers = dict(found)
    counts: dict[str, int] = {}
    for path in ranks:
        counts[layers[path].name] = counts.get(layers[path].name, 0) + 1
    return [LayerRun(path, layers[path].name if counts[layers[path].name] == 1 else path, layers[path], rank)
            for path, rank in ranks.items()]


def _last_convolution(runs: list[LayerRun]) -> LayerRun | None:
    """The last leaf layer with maps (4-D) after the first convolution, pooling and dropout left out."""
    first = next((i for i, r in enumerate(runs) if is_convolution(r.layer)), None)
    if first is None:
        return None
    chosen = None
    for run in runs[first:]:
        if run.rank == 4 and not _children(run.layer) and not is_pooling(run.layer) \
                and type(run.layer).__name__ not in _INERT:
            chosen = run
    return chosen


def _no_convolution(model) -> NNUsageError:
    return NNUsageError(_("Model {model} has no convolution layer: Grad-CAM needs one "
                          "(build a CNN, e.g. %nn_build cnn --preset course-cnn).").format(model=model_label(model)))


def choose_layer(model, runs: list[LayerRun], layer: str | None = None) -> tuple[LayerRun, bool]:
    """``(the layer Grad-CAM looks at, chosen automatically)``: ``layer`` (a name or a path such as
    ``vgg16/block5_conv3``), or the last convolution's maps (the course CNN: its last Conv2D; VGG16:
    block5_conv3; InceptionV3 cut at mixed7: mixed7). One sentence when there is no convolution or
    ``layer`` is unknown or gives no maps.

    Example::

        >>> choose_layer(cnn, layer_runs(cnn, images[:1]))[0].name  # doctest: +SKIP
        'conv2d_3'
    """
    auto = _last_convolution(runs)
    if auto is None:
        raise _no_convolution(model)
    if layer is None:
        return auto, True
    text = str(layer).strip()
    match = next((r for r in runs if text in (r.name, r.path)), None)
    if match is None:
        match = next((r for r in runs if r.layer.name == text), None)
    if match is None:
        names = [r.name for r in runs if r.rank == 4]
        raise NNUsageError(_("Model {model} has no layer named '{layer}'.").format(model=model_label(model), layer=text)
                           + did_you_mean(text, names))
    if match.rank != 4:
        shape = _("{rank}-D outputs").format(rank=match.rank) if match.rank else _("no single output")
        raise NNUsageError(_("Layer '{layer}' of {model} gives {shape}, not maps: Grad-CAM needs a layer with height × "
                             "width × channels outputs, such as '{auto}' (the last convolution).").format(
            layer=match.name, model=model_label(model), shape=shape, auto=auto.name))
    return match, False


# ----------------------------------------------------------------------------- the result
@dataclass(eq=False, repr=False)
class GradCAM(registry.Displayed):
    """Grad-CAM of ``model`` for some images, as data; displays as a grid of heat maps over the images.

    - ``layer`` (as shown), ``layer_path`` (``vgg16/block5_conv3``), ``auto`` (chosen automatically)
    - ``heatmaps`` n × h × w in [0, 1] at the images' size; ``maps`` the same at the layer's size
    - ``images`` (n × h × w × 3 uint8, shown), ``predicted``, ``confidence``, ``probabilities``,
      ``true`` (None without data), ``class_names``, ``captions``, ``source``, ``indices`` into ``data``
    - ``backend`` whose autodiff gave the gradient; ``notes``

    Example::

        >>> cam = gradcam(cnn, (cats_val, slice(0, 8)))            # doctest: +SKIP
        >>> cam.titles()[:1]                                        # doctest: +SKIP
        ['pred cats 0.91 · true cats']
    """

    model_name: str
    layer: str
    layer_path: str
    auto: bool
    backend: str
    images: np.ndarray
    heatmaps: np.ndarray
    maps: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    probabilities: np.ndarray
    class_names: list[str]
    true: np.ndarray | None = None
    captions: list[str] = field(default_factory=list)
    source: str = "the images"
    indices: list[int] | None = None
    data: Any = None
    units: int = 1
    threshold: float = 0.5
    notes: list[str] = field(default_factory=list)
    views: dict[str, Any] = field(default_factory=dict)
    display_kind = "gradcam"   # its view, HTML and figure: the display layer's (``nnmagics.registry``)

    def __len__(self) -> int:
        return len(self.predicted)

    def title(self, i: int) -> str:
        """'pred dogs 0.83 · true cats' (no true class for images without labels)."""
        from ..i18n import num

        predicted, confidence = self.class_names[int(self.predicted[i])], num(float(self.confidence[i]), ".2f")
        if self.true is None:
            return _("pred {predicted} {p}").format(predicted=predicted, p=confidence)
        return _("pred {predicted} {p} · true {true}").format(predicted=predicted, p=confidence,
                                                            true=self.class_names[int(self.true[i])])

    def titles(self) -> list[str]:
        """The title of every image."""
        return [self.title(i) for i in range(len(self))]

    def heading(self) -> str:
        """"Grad-CAM of 'cnn' at conv2d_3 (its last convolution), images 0 to 7 of 'cats_val'"."""
        if self.auto:
            return _("Grad-CAM of '{model}' at {layer} (its last convolution), {images}").format(
                model=self.model_name, layer=self.layer, images=self.source)
        return _("Grad-CAM of '{model}' at {layer}, {images}").format(model=self.model_name, layer=self.layer,
                                                                     images=self.source)

    def text(self, notes: bool = True) -> str:
        """Plain text: the heading, then one line per image (caption, prediction, where the heat is), the notes."""
        lines = [self.heading() + ":"]
        width = max(len(c) for c in self.captions) if self.captions else 0
        for i in range(len(self)):
            h, w = self.maps[i].shape
            peak = np.unravel_index(int(np.argmax(self.maps[i])), (h, w))
            where = _("(hottest at row {row}, column {column} of the image)").format(
                row=percent(peak[0] / max(h - 1, 1)), column=percent(peak[1] / max(w - 1, 1)))
            lines.append(f"  {self.captions[i]:<{width}}  {self.title(i)}  {where}")
        return "\n".join(lines + [_("Note: {text}").format(text=n) for n in (self.notes if notes else ())])

    def figure(self):
        """The matplotlib Figure (drawn once by the display layer): each image under its heat map."""
        return self._figure()


# ----------------------------------------------------------------------------- the computation
def heatmap(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """Grad-CAM of one image: ``ReLU(Σ_k mean(grads_k) · maps_k)`` over ``h×w×k`` arrays, divided by
    its maximum (all zeros when nothing raises the score).

    Example::

        >>> heatmap(np.ones((2, 2, 1)), np.full((2, 2, 1), 0.5)).tolist()
        [[1.0, 1.0], [1.0, 1.0]]
    """
    weights = grads.mean(axis=(0, 1))
    cam = np.maximum(np.tensordot(maps, weights, axes=([2], [0])), 0)
    top = cam.max()
    return (cam / top if top > 0 else np.zeros_like(cam)).astype("float32")


def resize_map(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A map resized to ``(height, width)`` (PIL bilinear, values kept in [0, 1]).

    Example::

        >>> resize_map(np.eye(2, dtype="float32"), (4, 4)).shape
        (4, 4)
    """
    from PIL import Image

    picture = Image.fromarray(np.asarray(cam, dtype="float32"))  # mode F
    return np.clip(np.asarray(picture.resize((size[1], size[0]), Image.Resampling.BILINEAR)), 0, 1)


def _names(model_units: int, given: Sequence[str] | None) -> list[str]:
    k = max(2, model_units)
    if given is not None and len(given) == k:
        return [str(c) for c in given]
    return [_("class {i}").format(i=i) for i in range(k)]


def gradcam(model, images: Any, layer: str | None = None, *, threshold: float = 0.5,
            class_names: Sequence[str] | None = None) -> GradCAM:
    """Grad-CAM heat maps of ``model`` for ``images``, at ``layer`` (default: the last convolution).

    ``images``: ``(dataset, slice(0, 8))``, ``(dataset, i)`` or a dataset (its first 8 images: true
    classes and file names come along), an array of raw pixels (``h×w×3`` or ``n×h×w×3``), a file
    path, or a list of them; at most 32. ``layer``: a layer name, or a path inside a nested base
    (``vgg16/block5_conv3``). ``threshold``: one sigmoid unit predicts class 1 when ``p >
    threshold``. ``class_names`` (in the model's output order) replaces the data's names.

    Example::

        >>> cam = gradcam(cnn, (cats_val, slice(0, 8)))               # doctest: +SKIP
        >>> cam.layer, cam.heatmaps.shape                              # doctest: +SKIP
        ('conv2d_3', (8, 150, 150))
        >>> gradcam(tl, "cat.jpg", layer="block4_conv3").title(0)      # doctest: +SKIP
        'pred cats 0.97'
    """
    check_model(model)
    if not any(is_convolution(layer) for _, layer in walk_layers(model)):
        raise _no_convolution(model)   # before the images: the first thing wrong
    request = cam_images(model, images)
    _check_image_fits(model, request.inputs[:1])
    warn_pixel_scale(model, request.inputs[:1])
    runs = layer_runs(model, request.inputs[:1])
    target, auto = choose_layer(model, runs, layer)
    backend = backend_name()
    outputs_seen: list[np.ndarray] = []

    def weights_of(outputs: np.ndarray) -> np.ndarray:
        if outputs.ndim != 2:
            raise NNUsageError(_("Grad-CAM explains a classifier (one row of class scores per image), but {model} "
                                 "outputs shape {shape}.").format(model=model_label(model), shape=outputs.shape[1:]))
        outputs_seen.append(outputs)
        predicted = decide(as_probabilities(outputs)[0], threshold)[0]
        if outputs.shape[1] == 1:
            return np.where(predicted == 1, 1.0, -1.0)[:, None]   # p for class 1, 1 - p for class 0
        return np.eye(outputs.shape[1])[predicted]

    maps, raw = [], []
    channels_first = getattr(target.layer, "data_format", "channels_last") == "channels_first"
    for start in range(0, len(request.inputs), _CHUNK):
        A, grads, _outputs = layer_gradients(model, request.inputs[start:start + _CHUNK], target.layer, weights_of)
        if channels_first:
            A, grads = np.moveaxis(A, 1, -1), np.moveaxis(grads, 1, -1)
        raw += [heatmap(a, g) for a, g in zip(A, grads)]
    outputs = np.concatenate(outputs_seen)
    probs, _converted = as_probabilities(outputs)
    predicted, confidence, per_class = decide(probs, threshold)
    size = request.inputs.shape[1:3]
    names = _names(outputs.shape[1], class_names if class_names is not None else request.class_names)
    true = request.true if request.class_names is not None and len(names) == len(request.class_names) else None
    result = GradCAM(
        model_name=str(getattr(model, "name", "model")), layer=target.name, layer_path=target.path, auto=auto,
        backend=backend, images=request.shown, heatmaps=np.stack([resize_map(m, size) for m in raw]),
        maps=np.stack(raw), predicted=predicted, confidence=confidence, probabilities=per_class,
        class_names=names, true=true, captions=request.captions, source=request.source,
        indices=request.indices, data=request.data, units=int(outputs.shape[1]), threshold=float(threshold))
    flat = [request.captions[i] for i, m in enumerate(raw) if not m.any()]
    if flat:
        result.notes.append(_("No heat for {images}: nothing in {layer} raises the predicted class's score there (its "
                              "gradient is zero or negative everywhere, e.g. a saturated output).").format(
            images=", ".join(flat), layer=target.name))
    return result


__all__ = ["gradcam", "GradCAM", "choose_layer", "layer_runs", "heatmap", "resize_map", "LayerRun",
           "MAX_IMAGES"]
