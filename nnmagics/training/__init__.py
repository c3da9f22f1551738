"""Training, split by job: ``train`` (``fit``), typed options and their checks (``options``), the
validation split (``split``), what ``fit`` is fed (``inputs``), the compile plan (``plan``), the Keras
callbacks (``callbacks``) and the model that runs (``runner``: mixed precision, strategies).

Reporting lives in ``nnmagics.training.reporting``; displays (panel, text log) are the display layer's, found through ``nnmagics.registry``.

Example::

    from nnmagics.training import train
    history = train(model, data4, val_split=0.2, epochs=20, reporter=nnmagics.TextLog())
"""
from __future__ import annotations

import importlib

# imported on first use: `nnmagics.training.history` or `.verdict` (which the diagnosis and the panel read)
# must not pull in fit's Keras/TensorFlow imports
_LAZY = {"train": ".fit", "explain_failure": ".fit", "FitOptions": ".options", "TrainInfo": ".reporting",
         "StopSignal": ".reporting"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'nnmagics.training' has no attribute {name!r}")  # internal: Python's own wording


__all__ = ["train", "FitOptions", "TrainInfo", "StopSignal", "explain_failure"]
