"""d score / d (one layer's output), through the Keras backend's own autodiff: TensorFlow, JAX or PyTorch.

Grad-CAM needs the gradient of the predicted class's score with respect to the maps ``A`` of one
layer. Keras 3 has no backend-neutral ``gradient`` op, and the libraries that do Grad-CAM
(tf-keras-vis, keract, Keras' own example) are TensorFlow-only and cut the model's graph
(``keras.Model(model.inputs, [layer.output, model.output])``), which fails with "Graph
disconnected" for a layer inside a nested base (every transfer model) and does not exist for
subclass models. So this is written by hand, once per backend, on the same idea: run the whole
model once, normally, with the layer tapped (``taps``), and let the tap hand the backend a tensor
it can differentiate with respect to:

- TensorFlow: ``tape.watch(A)`` inside a ``tf.GradientTape``, then ``tape.gradient(score, A)``;
- PyTorch: ``A.detach().requires_grad_()`` passed on, then ``torch.autograd.grad(score, A)``;
- JAX (functional): ``jax.grad`` of ``delta ↦ score(model with A + delta)`` at ``delta = 0``, the
  shape of ``A`` known from a first pass.

Each backend is imported only when used. The images are independent in inference (dropout off,
batch normalisation on its moving statistics), so the gradient of the summed scores gives every
image its own gradient in one backward pass.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .taps import Tap

WeightsFn = Callable[[np.ndarray], np.ndarray]   # the outputs (NumPy) → the weight of each output in the score

SUPPORTED = ("tensorflow", "jax", "torch")


def backend_name() -> str:
    """``keras.backend.backend()``: 'tensorflow', 'jax', 'torch' (or 'numpy', which has no gradient).

    Example::

        >>> backend_name() in ("tensorflow", "jax", "torch", "numpy")
        True
    """
    import keras

    return keras.backend.backend()


def _numpy(tensor) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor), dtype="float32")


def output_of(model, batch: np.ndarray, layer) -> tuple[np.ndarray, np.ndarray]:
    """One ordinary pass: ``layer``'s output and the model's outputs for ``batch``, as float32 arrays.

    Example::

        >>> maps, preds = output_of(cnn, images, cnn.get_layer("conv2d_2"))   # doctest: +SKIP
    """
    kept: dict[str, Any] = {}
    with Tap(layer, lambda out: kept.setdefault("maps", out)):
        preds = model(batch, training=False)
    return _numpy(kept["maps"]), _numpy(preds)


def layer_gradients(model, batch: np.ndarray, layer, weights_of: WeightsFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, dscore/dA, outputs)`` for ``batch``: ``layer``'s output, the gradient of the score with
    respect to it, and the model's outputs; float32 NumPy arrays, on the backend Keras runs on.

    The score is ``sum(outputs * weights_of(outputs))``: ``weights_of`` sees the outputs as NumPy
    (constants: no gradient flows through the choice of class) and gives a weight per output,
    e.g. a one-hot row for the predicted class.

    Example::

        >>> one_hot = lambda p: np.eye(p.shape[1])[p.argmax(1)]
        >>> A, grads, preds = layer_gradients(cnn, images, cnn.get_layer("conv2d_2"), one_hot)  # doctest: +SKIP
    """
    name = backend_name()
    if name == "tensorflow":
        return _tensorflow(model, batch, layer, weights_of)
    if name == "torch":
        return _torch(model, batch, layer, weights_of)
    if name == "jax":
        return _jax(model, batch, layer, weights_of)
    from ..errors import NNUsageError
    from ..i18n import _

    raise NNUsageError(_("Grad-CAM needs gradients, which Keras' '{name}' backend does not compute; "
                         "set KERAS_BACKEND to tensorflow, jax or torch before importing Keras.").format(name=name))


def _score(preds, weights: np.ndarray):
    """``sum(preds * weights)`` with ``keras.ops`` (the backend's own tensors, traced by its autodiff)."""
    import keras

    return keras.ops.sum(preds * keras.ops.convert_to_tensor(weights.astype("float32"), dtype=preds.dtype))


def _tensorflow(model, batch, layer, weights_of):
    import tensorflow as tf

    kept: dict[str, Any] = {}
    with tf.GradientTape() as tape:
        def watch(out):
            tape.watch(out)
            kept["maps"] = out
            return out

        with Tap(layer, watch):
            preds = model(batch, training=False)
        total = _score(preds, weights_of(_numpy(preds)))
    grads = tape.gradient(total, kept["maps"])
    return _numpy(kept["maps"]), _numpy(grads), _numpy(preds)


def _torch(model, batch, layer, weights_of):
    import torch

    kept: dict[str, Any] = {}

    def leaf(out):
        kept["maps"] = out.detach().requires_grad_(True)   # frozen weights or not, A gets a gradient
        return kept["maps"]

    with torch.enable_grad():
        with Tap(layer, leaf):
            preds = model(batch, training=False)
        total = _score(preds, weights_of(_numpy(preds.detach())))
        (grads,) = torch.autograd.grad(total, kept["maps"])
    return _numpy(kept["maps"]), _numpy(grads), _numpy(preds.detach())


def _jax(model, batch, layer, weights_of):
    import jax
    import jax.numpy as jnp

    kept: dict[str, Any] = {}
    with Tap(layer, lambda out: kept.setdefault("maps", out)):
        preds = model(batch, training=False)   # A, its shape and the outputs (the class to explain)
    maps, weights = kept["maps"], weights_of(_numpy(preds))

    def scored(delta):
        with Tap(layer, lambda out: out + delta):
            return _score(model(batch, training=False), weights)

    grads = jax.grad(scored)(jnp.zeros(maps.shape, dtype=maps.dtype))
    return _numpy(maps), _numpy(grads), _numpy(preds)


__all__ = ["layer_gradients", "output_of", "backend_name", "SUPPORTED"]
