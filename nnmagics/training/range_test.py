"""``lr_find``: fastai's learning-rate range test on Keras 3, and a cautious suggestion.

The rate grows exponentially from ``start`` to ``end``, one batch per rate, and the loss of each
batch is recorded (smoothed as fastai does: an exponential moving average, debiased) until it
passes four times its lowest value. The suggestion is a tenth of the rate where the smoothed loss
was lowest (fastai's ``minimum/10``): at the lowest point the loss is about to blow up, a tenth of
it still falls steadily; the steepest fall is given too. No library does this for Keras 3 (fastai's
is for PyTorch learners, keras-lr-finder targets Keras 2), hence this module.

The test runs on a copy of the model (``runner.clone_for``, the same weights) with a fresh optimizer
of the same kind: the model's weights, its optimizer and its compile are never touched. A
features-mode transfer model tests its head on the cached base outputs (seconds, not a VGG16 pass
per step).

Example::

    found = lr_find(cnn, cats)
    found.suggestion, found.reason       # (0.0003, 'a tenth of 3e-03, where the loss was lowest …')
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import registry
from ..checks import check_data, check_model, optional_whole_number, positive_number, whole_number
from ..errors import NNUsageError
from ..i18n import _, ngettext, num

BETA = 0.98          # fastai's smoothing of the loss
DIVERGE = 4.0        # stop once the smoothed loss is this many times its lowest value


@dataclass(eq=False, repr=False)
class LRFinding(registry.Displayed):
    """What the range test found: ``rates`` and ``losses`` (one per batch), ``smoothed``, the
    ``suggestion`` (None when the curve gives none) and the ``reason`` in words, ``lowest`` (the rate
    of the lowest smoothed loss) and ``steepest`` (of its fastest fall)."""

    model_name: str
    data_name: str
    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    lowest: float | None
    steepest: float | None
    reason: str
    views: dict[str, Any] = field(default_factory=dict)
    display_kind = "lr_find"

    def figure(self):
        """The loss against the rate (a matplotlib Figure), drawn once by the display layer."""
        return self._figure()

    def text(self) -> str:
        """The finding as plain text."""
        values = dict(model=self.model_name, data=self.data_name, n=len(self.rates))
        if self.rates:
            first = ngettext("Learning-rate range test of '{model}' on '{data}': {n} batch, rates {low} to {high}; "
                             "the model's weights and optimizer are unchanged.",
                             "Learning-rate range test of '{model}' on '{data}': {n} batches, rates {low} to {high}; "
                             "the model's weights and optimizer are unchanged.", len(self.rates)).format(
                low=num(self.rates[0], ".1e"), high=num(self.rates[-1], ".1e"), **values)
        else:
            first = _("Learning-rate range test of '{model}' on '{data}': {n} batches, rates no rate; the model's "
                      "weights and optimizer are unchanged.").format(**values)
        lines = [first]
        if self.suggestion is not None:
            lines.append(_("Suggested --lr {rate}: {reason}").format(rate=num(self.suggestion, ".1e"), reason=self.reason))
            lines.append(_("Then: {command}").format(
                command=f"%nn_train {self.model_name} {self.data_name} --lr {self.suggestion:.1e}"))
        else:
            lines.append(_("No suggestion: {reason}").format(reason=self.reason))
        return "\n".join(lines)


def lr_find(model, data, *, start: Any = 1e-7, end: Any = 10.0, steps: Any = 100, batch_size: Any = None,
            optimizer: str | None = None, loss: Any = "auto", seed: Any = None, model_name: str | None = None,
            data_name: str | None = None) -> LRFinding:
    """Run the range test of ``model`` on ``data`` (see the module); ``model`` is left exactly as it was.

    Example::

        found = lr_find(model, data4, steps=60, seed=0)
        found.suggestion          # e.g. 0.012
    """
    import keras

    from .options import check_fit, check_outputs
    from .plan import plan_compile

    model_name = model_name or getattr(model, "name", "model")
    data_name = data_name or getattr(data, "name", None) or "data"
    check_model(model, f"'{model_name}'")
    check_data(data, f"'{data_name}'")
    start = positive_number(start, "--start", example="1e-7")
    end = positive_number(end, "--end", example="10")
    if end <= start:
        raise NNUsageError(_("--end ({end}) must be larger than --start ({start}); e.g. --start 1e-7 --end 10.").format(
            end=num(end, "g"), start=num(start, "g")))
    steps = whole_number(steps, "--steps", minimum=10, example="--steps 100")
    batch = optional_whole_number(batch_size, "--batch-size") or data.batch_size
    check_fit(model, data, model_name, data_name)
    check_outputs(model, data, model_name, data_name)
    plan = plan_compile(model, data, loss=loss, optimizer=optimizer, model_name=model_name)
    seed = optional_whole_number(seed, "--seed", minimum=0)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    rates = list(np.geomspace(start, end, steps))
    trial, inputs = _trial(model, data, plan, batch, seed)
    optimizer_copy = keras.optimizers.deserialize(keras.optimizers.serialize(plan.optimizer))
    optimizer_copy.learning_rate = rates[0]
    trial.compile(optimizer=optimizer_copy, loss=plan.loss)
    test = _range_callback(rates)
    from .interrupts import stop_on_interrupt
    from .reporting import StopSignal

    test.stop = StopSignal()
    restore = stop_on_interrupt(test.stop)
    try:
        trial.fit(**inputs, epochs=steps, steps_per_epoch=1, callbacks=[test], verbose=0)
    finally:
        restore()
    tried = rates[:len(test.losses)]
    suggestion, lowest, steepest, reason = suggest(tried, test.smoothed)
    return LRFinding(model_name, data_name, tried, test.losses, test.smoothed, suggestion, lowest, steepest, reason)


def _trial(model, data, plan, batch: int, seed):
    """The copy that trains and what it is fed: the whole model on the data's batches, or a
    features-mode model's head on its cached base outputs."""
    from .feature_cache import cache_plan, cached_features, split_features_model
    from .inputs import make_inputs
    from .runner import clone_for

    if cache_plan(model)[0]:
        base, head = split_features_model(model)
        x, labels = cached_features(base, data)
        from ..data.base import encode_labels

        return clone_for(head, "float32"), {"x": x, "y": encode_labels(labels, data.num_classes, plan.class_mode),
                                            "batch_size": batch, "shuffle": True}
    try:
        trial = clone_for(model, "float32")
    except Exception:  # noqa: BLE001 - a subclassed model cannot be copied
        raise NNUsageError(_("The range test runs on a copy of the model, and Keras cannot copy a subclassed model; "
                             "build it with --api functional to test its learning rates.")) from None
    inputs = make_inputs(data, class_mode=plan.class_mode, batch_size=batch, shuffle=True, seed=seed, repeat=True)
    return trial, inputs


def _range_callback(rates: list[float]):
    """A Keras callback: the rate of each one-batch epoch set before it, its loss smoothed after it."""
    import keras

    class RangeTest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.losses, self.smoothed, self.average, self.best = [], [], 0.0, math.inf

        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate = float(rates[epoch])

        def on_epoch_end(self, epoch, logs=None):
            loss = float((logs or {}).get("loss", math.nan))
            self.losses.append(loss)
            self.average = BETA * self.average + (1 - BETA) * loss
            smooth = self.average / (1 - BETA ** (epoch + 1))
            self.smoothed.append(smooth)
            self.best = min(self.best, smooth) if math.isfinite(smooth) else self.best
            if not math.isfinite(smooth) or smooth > DIVERGE * self.best or self.stop.requested:
                self.model.stop_training = True

    return RangeTest()


def suggest(rates: list[float], smoothed: list[float]) -> tuple[float | None, float | None, float | None, str]:
    """``(suggestion, lowest, steepest, reason)`` from the smoothed curve (see the module).

    Example::

        >>> rates = list(np.geomspace(1e-5, 1, 50))
        >>> curve = [1.0 - 0.5 * min(1, max(0, (math.log10(r) + 4) / 2)) + (8 if r > 0.3 else 0) for r in rates]
        >>> suggestion, lowest, steepest, reason = suggest(rates, curve)
        >>> f"{suggestion:.0e}", f"{lowest:.0e}"
        ('1e-03', '1e-02')
    """
    finite = [(i, v) for i, v in enumerate(smoothed) if math.isfinite(v)]
    if len(finite) < 5:
        return None, None, None, _("the loss was not a number from the first batches: check the data for huge values.")
    i_low = min(finite, key=lambda item: item[1])[0]
    skip = min(max(3, len(rates) // 10), max(i_low - 1, 0))   # the first averages are noisy (fastai skips them too)
    first = smoothed[skip] if math.isfinite(smoothed[skip]) else finite[0][1]
    if smoothed[i_low] > 0.95 * first:
        return None, None, None, _("the loss hardly fell anywhere from {low} to {high} (at best {best}, from "
                                   "{first}); check the labels and the output layer, or widen the range (--start, "
                                   "--end).").format(low=num(rates[0], ".0e"), high=num(rates[-1], ".0e"),
                                                     best=num(smoothed[i_low], ".3g"), first=num(first, ".3g"))
    if i_low < 3:
        return None, rates[i_low], None, _("the loss rose from the first rates on; start lower, e.g. --start {rate}.")\
            .format(rate=f"{rates[0] / 100:.0e}")
    # where it fell fastest, within the two decades below the lowest point (elsewhere the slope is noise)
    window = [i for i in range(skip, i_low + 1) if rates[i] >= rates[i_low] / 100]
    logs = np.log10([rates[i] for i in window])
    slope = np.gradient(np.asarray([smoothed[i] for i in window]), logs) if len(window) > 1 else np.zeros(1)
    i_steep = window[int(np.argmin(slope))]
    lowest, steepest = rates[i_low], rates[i_steep]
    suggestion = lowest / 10
    reason = _("a tenth of {lowest}, where the smoothed loss was lowest: there it is about to blow up, a tenth of it "
               "still falls steadily (it fell fastest near {steepest}).").format(lowest=num(lowest, ".1e"),
                                                                               steepest=num(steepest, ".1e"))
    if i_low == len(rates) - 1:
        reason += " " + _("The loss was still falling at the largest rate tried: a larger --end may show where it turns.")
    return suggestion, lowest, steepest, reason


__all__ = ["LRFinding", "lr_find", "suggest"]
