"""Input-shape checks shared by diagnosis and feature maps (pure Python, no TensorFlow import)."""
from __future__ import annotations

from typing import Sequence


def graph_input_shape(model) -> tuple | None:
    """The shape of one sample the model's graph declares (``None`` dims allowed), or None when unknown."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return tuple(inputs[0].shape)[1:] if inputs else None


def shape_fits(expected: Sequence | None, got: Sequence) -> bool:
    """True when ``got`` matches ``expected`` (an unknown ``expected`` or a ``None`` dim accepts anything).

    Example::

        >>> shape_fits((None, None, 3), (150, 150, 3)), shape_fits((2,), (3,))
        (True, False)
    """
    if expected is None:
        return True
    return len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected, got))
