"""Training, split by job: ``train`` (``fit``), typed options and their checks (``options``), the
validation split (``split``), what ``fit`` is fed (``inputs``), the compile plan (``plan``), the Keras
callbacks (``callbacks``) and the model that runs (``runner``: mixed precision, strategies).

Reporting lives in ``nnmagics.training.reporting``; displays (panel, text log) are the display layer's, found through ``nnmagics.registry``.

Example::

    from nnmagics.training import train
    history = train(model, data4, val_split=0.2, epochs=20, reporter=nnmagics.TextLog())
"""
from __future__ import annotations

from .reporting import StopSignal, TrainInfo
from .fit import explain_failure, train
from .options import FitOptions

__all__ = ["train", "FitOptions", "TrainInfo", "StopSignal", "explain_failure"]
