"""Which Keras backend runs (``KERAS_BACKEND``: tensorflow, jax or torch) and what follows from it.

TensorFlow is optional: on the TensorFlow backend the input pipeline is ``tf.data`` and images are
decoded by TensorFlow, as always; on JAX and PyTorch (with or without TensorFlow installed) batches
are numpy arrays served by a ``keras.utils.PyDataset`` (``data/batches.py``) and images are decoded
by PIL/simplejpeg and resized in numpy (``data/decode.py``), to the same pixels.

Example::

    from nnmagics.runtime import backend
    backend.name()          # 'jax'
    backend.uses_tf()       # False: numpy batches, not tf.data
"""
from __future__ import annotations

from typing import Any


def name() -> str:
    """The Keras backend in use: ``'tensorflow'``, ``'jax'``, ``'torch'`` (or ``'numpy'``/``'openvino'``).

    Example::

        >>> name() in ("tensorflow", "jax", "torch", "numpy", "openvino")
        True
    """
    import keras

    return keras.backend.backend()


def uses_tf() -> bool:
    """True on the TensorFlow backend: ``tf.data`` pipelines and TensorFlow's image decoder.

    Example::

        >>> isinstance(uses_tf(), bool)
        True
    """
    return name() == "tensorflow"


def to_numpy(value: Any) -> Any:
    """A backend tensor (a TF/JAX array, a torch tensor that requires grad…) → numpy, through ``keras.ops``.

    Example::

        >>> to_numpy([1, 2]).tolist()
        [1, 2]
    """
    import keras
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    return np.asarray(keras.ops.convert_to_numpy(value))


def max_steps_per_call(steps: int) -> int:
    """``steps`` where the backend runs several training steps per call (``steps_per_execution``), else 1.

    PyTorch's trainer refuses more than one ("steps_per_execution must be 1 with the PyTorch backend").

    Example::

        >>> max_steps_per_call(10) in (1, 10)
        True
    """
    return 1 if name() == "torch" else int(steps)


__all__ = ["max_steps_per_call", "name", "to_numpy", "uses_tf"]
