"""``%nn_diagnose --gradcam … --code``: Grad-CAM as plain Keras, split at the layer, on the backend Keras runs on.

Keras' own Grad-CAM recipe builds ``keras.Model(model.inputs, [layer.output, model.output])``; for a
layer inside a nested base (a transfer model) that is "Graph disconnected", and so it is for the
course's VGG16 Sequential (``layer.output`` is the output of the layer's first call, in the VGG16
it came from). The printed code splits the model at the layer instead, ``to_maps(x) → A`` and
``from_maps(A) → predictions``: a model that runs its layers one after the other (Sequential, a
Functional chain) runs them in two parts; a branching Functional model is split with two
``keras.Model`` on its own graph; a layer inside a nested base splits the base that way
(``keras.Model(base.inputs[0], layer.output)``, ``keras.Model(layer.output, base.outputs[0])``), the outer
model's layers applied before and after it. The gradient ``d score / d A`` is then
the backend's: a ``tf.GradientTape``, ``jax.grad`` or PyTorch's ``backward()``. A subclassed model or a
branching outer model has no such split: the printed code says so (nnmagics taps the layer instead).

Example::

    print(gradcam_lines(gradcam_recipe(tl, report.gradcam), "tl"))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import _


@dataclass(frozen=True)
class GradCAMRecipe:
    """What one Grad-CAM computed, as data: ``gradcam_lines`` writes it as plain code."""

    layer: str                          # the layer's own name
    form: str                           # "chain" | "graph" | "nested" | "none"
    start: int = 0                      # "chain": the first of model.layers that is not an InputLayer
    base: str | None = None             # the nested base holding the layer
    before: tuple = ()                  # the outer model's layers before / after the base
    after: tuple = ()
    base_output: bool = False           # "nested": the layer is the base's output (the base ends there)
    reason: str = ""                    # form "none": why there is no plain split
    auto: bool = True
    data: Any = None                    # a training.code_data.DataRecipe, or None (arrays, files)
    data_name: str | None = None
    first: int | None = None            # contiguous images first … first + count - 1 of the data
    count: int = 0
    rescale: float | None = None
    units: int = 1
    threshold: float = 0.5
    class_names: tuple = ()
    size: tuple = ()
    backend: str = "tensorflow"


def _graph(model) -> bool:
    try:
        return bool(model.inputs) and bool(model.outputs)
    except (AttributeError, ValueError):
        return False


def _chain(model) -> list | None:
    """The outer model's layers in order when each one feeds the next (Sequential, or a Functional chain)."""
    layers = [lay for lay in model.layers if type(lay).__name__ != "InputLayer"]
    if type(model).__name__ == "Sequential":
        return layers
    try:
        if all(b.input is a.output for a, b in zip(layers, layers[1:])):
            return layers
    except (AttributeError, ValueError):
        pass
    return None


def gradcam_recipe(model, cam, data_name: str | None = None) -> GradCAMRecipe:
    """The recipe of ``cam`` (a ``GradCAM`` of ``model``): how the model splits at its layer, the images.

    Example::

        >>> gradcam_recipe(tl, report.gradcam).form                   # doctest: +SKIP
        'nested'
    """
    from ..training.code_data import data_recipe

    parts = cam.layer_path.split("/")
    where: dict[str, Any] = {"layer": parts[-1], "form": "none"}
    name = f"'{getattr(model, 'name', 'model')}'"
    if not _graph(model):
        where["reason"] = _("{model} is a subclassed model: it has no layer graph to split").format(model=name)
    elif len(parts) == 1:
        where["form"] = "graph" if _chain(model) is None else "chain"
        where["start"] = int(type(model.layers[0]).__name__ == "InputLayer") if model.layers else 0
    elif len(parts) == 2 and _graph(model.get_layer(parts[0])) and (chain := _chain(model)) is not None:
        base = model.get_layer(parts[0])
        i = chain.index(base)
        where.update(form="nested", base=parts[0], before=tuple(lay.name for lay in chain[:i]),
                     after=tuple(lay.name for lay in chain[i + 1:]),
                     base_output=base.get_layer(parts[-1]).output is base.outputs[0])
    else:
        where["reason"] = _("{layer} sits inside {base}, which {model} does not run as a plain chain").format(
            layer=parts[-1], base="/".join(parts[:-1]), model=name)
    data, indices = getattr(cam, "data", None), cam.indices or []
    contiguous = bool(indices) and indices == list(range(indices[0], indices[0] + len(indices)))
    images = dict(data=data_recipe(data), data_name=data_name or getattr(data, "name", None), first=indices[0],
                  count=len(indices), rescale=getattr(data, "rescale", None)) if data is not None and contiguous else {}
    return GradCAMRecipe(**where, **images, auto=cam.auto, units=cam.units, threshold=cam.threshold,
                         class_names=tuple(cam.class_names), size=tuple(cam.images.shape[1:3]), backend=cam.backend)


def _split_lines(recipe: GradCAMRecipe, model: str) -> list[str]:
    from ..training.code_data import literal

    layer = literal(recipe.layer)
    up_to = "  # " + _("the model up to the layer: its maps A")
    rest_of = "  # " + _("the rest of the model: A → predictions")
    if recipe.form == "chain":
        return [
            f"i = [layer.name for layer in {model}.layers].index({layer})  # "
            + _("{model} runs its layers one after the other").format(model=model),
            "",
            "",
            "def to_maps(x):" + up_to,
            f"    for layer in {model}.layers[{recipe.start}:i + 1]:",
            "        x = layer(x)",
            "    return x",
            "",
            "",
            "def from_maps(maps):" + rest_of,
            f"    for layer in {model}.layers[i + 1:]:",
            "        maps = layer(maps)",
            "    return maps",
            "",
        ]
    if recipe.form == "graph":
        return [f"layer = {model}.get_layer({layer})",
                f"to_maps = keras.Model({model}.inputs[0], layer.output)      " + up_to,
                f"from_maps = keras.Model(layer.output, {model}.outputs[0])   " + rest_of]
    rest = (["base_from_maps = keras.Model(layer.output, base.outputs[0])"] if not recipe.base_output else [])
    return [
        f"base = {model}.get_layer({literal(recipe.base)})  # "
        + _("the nested base: split it, not the outer model (that would be 'Graph disconnected')"),
        f"layer = base.get_layer({layer})",
        "base_to_maps = keras.Model(base.inputs[0], layer.output)",
        *rest,
        "",
        "",
        "def to_maps(x):" + up_to,
        f"    for name in {literal(list(recipe.before))}:",
        f"        x = {model}.get_layer(name)(x)",
        "    return base_to_maps(x)",
        "",
        "",
        "def from_maps(maps):" + rest_of,
        "    x = " + ("maps  # " + _("the layer ends the base") if recipe.base_output else "base_from_maps(maps)"),
        f"    for name in {literal(list(recipe.after))}:",
        f"        x = {model}.get_layer(name)(x)",
        "    return x",
        "",
    ]


def _image_lines(recipe: GradCAMRecipe) -> list[str]:
    from ..training.code_data import folder_arrays_lines, images_lines, literal, shown_name

    if recipe.data is None:
        return ["images = ...  # " + _("your images: raw pixels, an array n × h × w × 3"), "y_true = None"]
    last = recipe.first + recipe.count - 1
    data = shown_name(recipe.data_name or 'data')
    which = (_("image {i} of {data}, in the folder's order").format(i=recipe.first, data=data) if recipe.count == 1
             else _("images {first} to {last} of {data}, in the folder's order").format(first=recipe.first, last=last,
                                                                                       data=data))
    if reads_folder(recipe):   # JAX, PyTorch: numpy arrays, no tf.data
        rows = f"{recipe.first}:{last + 1}"
        lines = folder_arrays_lines(recipe.data, "x", "labels") + [
            f"images, y_true = x[{rows}].astype('float32'), labels[{rows}]  # {which}"]
    else:
        lines = images_lines(recipe.data, "data", "int", cache=False) + [
            f"pairs = list(data.skip({recipe.first}).take({recipe.count}).as_numpy_iterator())  # {which}",
            "images = np.stack([x for x, _ in pairs])",
            "y_true = np.array([int(y) for _, y in pairs])"]
    if recipe.rescale:
        lines.append(f"inputs = images * {literal(float(recipe.rescale))}  # " + _("the data's rescale"))
    return lines


def _gradient_lines(backend: str) -> list[str]:
    if backend == "jax":
        return ["grads = jax.grad(lambda m: keras.ops.sum(from_maps(m) * weights))(maps)  # d score / d A (jax.grad)"]
    if backend == "torch":
        return ["maps = maps.detach().requires_grad_()  # " + _("d score / d A (PyTorch's autograd)"),
                "keras.ops.sum(from_maps(maps) * keras.ops.convert_to_tensor(weights)).backward()",
                "grads = maps.grad"]
    return ["with tf.GradientTape() as tape:  # " + _("d score / d A (TensorFlow's GradientTape)"),
            "    tape.watch(maps)",
            "    score = keras.ops.sum(from_maps(maps) * weights)",
            "grads = tape.gradient(score, maps)"]


def gradcam_imports(recipe: GradCAMRecipe) -> list[str]:
    """The imports the Grad-CAM lines need beyond ``keras`` and ``numpy``."""
    lines = ["import matplotlib.pyplot as plt", "from PIL import Image"]
    if recipe.backend == "jax":
        lines.insert(0, "import jax")
    if recipe.backend == "tensorflow":
        lines.insert(0, "import tensorflow as tf")
    elif recipe.data is not None:
        lines.insert(0, "import os")   # load_folder's
    return lines


def reads_folder(recipe: GradCAMRecipe) -> bool:
    """Whether ``gradcam_lines`` calls ``load_folder`` (``data.decode.load_folder_code``), which the program
    must define first: the images come from a folder, on a backend without ``tf.data``."""
    return recipe.data is not None and recipe.backend != "tensorflow"


def gradcam_lines(recipe: GradCAMRecipe, model: str) -> list[str]:
    """The plain code of one Grad-CAM: the images, the split, the gradient, the heat maps, the figure.

    Example::

        >>> print("\\n".join(gradcam_lines(recipe, "cnn")))            # doctest: +SKIP
    """
    from ..training.code_data import literal

    if recipe.auto:
        lines = ["# " + _("Grad-CAM at {layer} (the last convolution): the gradient of the predicted class's score "
                          "with respect to the layer's maps A").format(layer=recipe.layer)]
    else:
        lines = ["# " + _("Grad-CAM at {layer}: the gradient of the predicted class's score with respect to the "
                          "layer's maps A").format(layer=recipe.layer)]
    if recipe.form == "none":
        return lines + ["# " + _("{reason}, so there is no plain-Keras split of it; nnmagics watches the layer's "
                                 "output during one ordinary forward pass instead (nnmagics.diagnosis.gradients)").format(
            reason=recipe.reason)]
    h, w = recipe.size
    inputs = "inputs" if recipe.rescale and recipe.data is not None else "images"
    lines += _image_lines(recipe) + _split_lines(recipe, model) + [
        f"maps = to_maps({inputs})",
        "preds = keras.ops.convert_to_numpy(from_maps(maps))"]
    if recipe.units == 1:
        lines += [f"pred = (preds[:, 0] > {literal(recipe.threshold)}).astype(int)  # "
                  + _("one sigmoid unit: class 1 when p > threshold"),
                  "weights = np.where(pred == 1, 1.0, -1.0).astype('float32')[:, None]  # "
                  + _("score: p for class 1, 1 - p for class 0"),
                  "confidence = np.where(pred == 1, preds[:, 0], 1 - preds[:, 0])"]
    else:
        lines += ["pred = preds.argmax(axis=1)  # " + _("the predicted class"),
                  f"weights = np.eye({recipe.units}, dtype='float32')[pred]  # " + _("score: that class's output"),
                  "confidence = preds[np.arange(len(pred)), pred]"]
    lines += _gradient_lines(recipe.backend) + [
        "maps, grads = keras.ops.convert_to_numpy(maps), keras.ops.convert_to_numpy(grads)",
        "alpha = grads.mean(axis=(1, 2))  # " + _("one weight per channel k: its mean gradient"),
        "heatmaps = np.maximum(np.einsum('nhwk,nk->nhw', maps, alpha), 0)  # " + _("ReLU(sum over k of alpha_k A_k)"),
        "top = heatmaps.max(axis=(1, 2), keepdims=True)",
        "heatmaps = np.divide(heatmaps, top, out=np.zeros_like(heatmaps), where=top > 0)  # " + _("0 … 1 per image"),
        "",
        f"class_names = {literal(list(recipe.class_names))}",
        "rows = (len(images) + 3) // 4",
        "fig = plt.figure(figsize=(2.9 * min(len(images), 4), 3.1 * rows))",
        "for i, (image, heat) in enumerate(zip(images, heatmaps)):",
        "    ax = fig.add_subplot(rows, min(len(images), 4), i + 1)",
        "    ax.imshow(image.astype('uint8'))",
        f"    ax.imshow(np.asarray(Image.fromarray(heat.astype('float32')).resize(({w}, {h}), Image.BILINEAR)), "
        "cmap='jet', alpha=0.4, vmin=0, vmax=1)",
        "    title = f'pred {class_names[pred[i]]} {confidence[i]:.2f}'",
        "    ax.set_title(title if y_true is None else f'{title} · true {class_names[y_true[i]]}', fontsize=8)",
        "    ax.axis('off')",
        "plt.show()",
    ]
    return lines


__all__ = ["GradCAMRecipe", "gradcam_recipe", "gradcam_lines", "gradcam_imports", "reads_folder"]
