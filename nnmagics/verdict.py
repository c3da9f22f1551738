"""A verdict in plain words on a training history: converging, over-fitting, under-fitting.

Pure Python (no NumPy, no Keras): the live panel calls it after every epoch and the
diagnosis magic reuses it on a finished history.

Epoch numbers in a ``Verdict`` are 1-based, as Keras prints them ("Epoch 3/10").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

KINDS = ("converging", "over-fitting", "under-fitting", "not trained")


@dataclass(frozen=True)
class Verdict:
    """What the curves say.

    - ``kind``: ``'converging'``, ``'over-fitting'``, ``'under-fitting'`` or ``'not trained'``
    - ``from_epoch``: first epoch (1-based) of the over-fitting, else None
    - ``best_epoch``: epoch (1-based) of the lowest validation loss (training loss without validation)
    - ``text``: one or two sentences for a student
    """

    kind: str
    from_epoch: int | None
    best_epoch: int | None
    text: str

    @property
    def warning(self) -> bool:
        """True when the panel should show a warning (over- or under-fitting)."""
        return self.kind in ("over-fitting", "under-fitting")


def _series(history: Mapping[str, Sequence[float]], *names: str) -> list[float]:
    for name in names:
        values = history.get(name) if hasattr(history, "get") else None
        if values:
            return [float(v) for v in values]
    return []


def verdict(history: Mapping[str, Sequence[float]] | object, *, patience: int = 3,
            tolerance: float = 0.01) -> Verdict:
    """Judge a Keras history dict (``history.history``) or an object that has one.

    Over-fitting: the validation loss has been above its minimum for at least
    ``patience`` epochs, ends more than ``tolerance`` (relative) above it, while the
    training loss kept falling. Under-fitting: the training loss hardly moved
    (less than 10 % over at least three epochs) or became NaN.

    Example::

        >>> verdict({"loss": [0.9, 0.6, 0.4, 0.3, 0.2, 0.1],
        ...          "val_loss": [0.9, 0.7, 0.6, 0.65, 0.7, 0.8]}).kind
        'over-fitting'
    """
    if not isinstance(history, Mapping):
        history = getattr(history, "history", {}) or {}
    loss = _series(history, "loss")
    val_loss = _series(history, "val_loss")
    if not loss:
        return Verdict("not trained", None, None, "No epoch has finished yet: train the model first.")
    if any(math.isnan(v) or math.isinf(v) for v in loss):
        first = next(i for i, v in enumerate(loss) if math.isnan(v) or math.isinf(v)) + 1
        return Verdict("under-fitting", None, None,
                       f"Training diverged: the loss became NaN/inf at epoch {first}; "
                       "lower the learning rate (--lr) or check the data for huge values.")
    clean_val = [v for v in val_loss if not math.isnan(v)]
    if clean_val and len(clean_val) == len(val_loss):
        best = min(range(len(val_loss)), key=val_loss.__getitem__)
    else:
        best = min(range(len(loss)), key=loss.__getitem__)
        val_loss = []
    best_epoch = best + 1
    over = _over_fitting(loss, val_loss, best, patience, tolerance)
    if over is not None:
        return over
    if len(loss) >= 3 and loss[-1] > 0.9 * loss[0]:
        return Verdict("under-fitting", None, best_epoch,
                       f"Under-fitting: the training loss hardly improves ({loss[0]:.3g} → {loss[-1]:.3g} in "
                       f"{len(loss)} epochs); try more epochs, a larger learning rate or a larger model.")
    return Verdict("converging", None, best_epoch, _converging_text(loss, val_loss, best_epoch))


def _over_fitting(loss: list[float], val_loss: list[float], best: int, patience: int,
                  tolerance: float) -> Verdict | None:
    """A Verdict when validation loss has risen for ``patience`` epochs while training loss fell."""
    if not val_loss or len(val_loss) != len(loss):
        return None
    after = len(val_loss) - 1 - best
    vmin = val_loss[best]
    risen = val_loss[-1] - vmin > max(tolerance * abs(vmin), 1e-6)
    train_fell = loss[-1] < loss[best]
    if after < patience or not risen or not train_fell:
        return None
    return Verdict(
        "over-fitting", best + 2, best + 1,
        f"Over-fitting from epoch {best + 2}: the validation loss has risen for {after} epochs "
        f"({vmin:.3g} → {val_loss[-1]:.3g}) while the training loss kept falling "
        f"({loss[best]:.3g} → {loss[-1]:.3g}); the best epoch was {best + 1}. "
        "Try data augmentation, dropout or --early-stop.",
    )


def _converging_text(loss: list[float], val_loss: list[float], best_epoch: int) -> str:
    if len(loss) == 1:
        return "One epoch so far: train a few more to judge the curves."
    trend = f"training loss {loss[0]:.3g} → {loss[-1]:.3g}"
    if val_loss:
        trend += f", validation loss {val_loss[0]:.3g} → {val_loss[-1]:.3g} (best at epoch {best_epoch})"
    still = len(loss) >= 2 and loss[-1] < 0.95 * loss[-2]
    tail = "; still improving, more epochs may help." if still else "."
    return f"Converging: {trend}{tail}"
