"""The training curves of a diagnosis: which history, as a table, and the verdict on it.

A history is found the way a student expects: the one given (a Keras ``History``, an nnmagics
``TrainHistory`` or a plain dict), else the one nnmagics kept for the model (``%nn_train``), else
Keras' own ``model.history`` from the last ``fit``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..i18n import _
from ..training.history import ACCURACY_KEYS, accuracy_key  # noqa: F401 - the one definition, re-exported


def resolve_history(model, history: Any = None) -> dict[str, list[float]] | None:
    """The training history as a dict of lists: ``history`` if given (a Keras ``History``, an
    nnmagics ``TrainHistory`` or a dict), else the one nnmagics kept for ``model``
    (``nnmagics.training.history.history_of``), else Keras' ``model.history`` from the last ``fit``.
    None when there is no epoch.

    Example::

        >>> resolve_history(None, {"loss": [0.7, 0.6], "val_loss": [0.8, 0.7]})["loss"]
        [0.7, 0.6]
        >>> resolve_history(None, {"loss": []}) is None
        True
    """
    candidates = [history] if history is not None else []
    if history is None and model is not None:
        from ..training.history import history_of

        candidates.append(history_of(model))
        candidates.append(getattr(model, "__dict__", {}).get("history"))
    for candidate in candidates:
        values = candidate if isinstance(candidate, Mapping) else getattr(candidate, "history", None)
        if isinstance(values, Mapping):
            found = {str(k): [float(v) for v in vs] for k, vs in dict(values).items() if _is_series(vs)}
            if found.get("loss"):
                return found
    return None


def _is_series(values: Any) -> bool:
    try:
        return len(values) > 0 and all(isinstance(float(v), float) for v in values)
    except (TypeError, ValueError):
        return False


def history_frame(history: Mapping[str, Sequence[float]]):
    """The history as a DataFrame, one row per epoch (index ``epoch``, 1-based), one column per metric.

    Example::

        >>> frame = history_frame({"loss": [0.7, 0.5], "val_loss": [0.8, 0.6]})
        >>> frame.index.tolist(), list(frame.columns)
        ([1, 2], ['loss', 'val_loss'])
    """
    import pandas as pd

    n = max((len(v) for v in history.values()), default=0)
    columns = {k: list(v) + [float("nan")] * (n - len(v)) for k, v in history.items()}
    return pd.DataFrame(columns, index=pd.RangeIndex(1, n + 1, name="epoch"))


def not_trained_text(model_name: str, has_data: bool) -> str:
    """The sentence a report shows for a model without history."""
    if has_data:
        return _("Not trained yet: '{model}' has no training history, so there are no curves; the evaluation below "
                 "uses its current weights.").format(model=model_name)
    return _("Not trained yet: '{model}' has no training history, so there are no curves.").format(model=model_name)


def no_history_error(model_name: str):
    """The UsageError for curves asked of a model that was never trained (and no data to evaluate)."""
    from ..errors import NNUsageError

    return NNUsageError(
        _("Model '{model}' has not been trained yet (no history), so there are no curves; train it first "
          "(%nn_train {model} DATA) or give data to evaluate it (%nn_diagnose {model} DATA).").format(model=model_name)
    )


__all__ = ["resolve_history", "history_frame", "accuracy_key", "ACCURACY_KEYS"]
