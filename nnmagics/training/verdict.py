"""A verdict in plain words on a training history: too early, converging, over-fitting, under-fitting.

Pure Python (no NumPy, no Keras): the live panel calls it after every epoch and the
diagnosis magic reuses it on a finished history.

Over-fitting is judged as the course explains it: the training and validation curves *diverge*
(training loss falls / training accuracy rises while validation loss rises / validation accuracy
falls or stalls far below). Validation sets are small and noisy, so the curves are compared on
medians of a few epochs (``window``), never on one epoch. Epoch numbers in a ``Verdict`` are
1-based, as Keras prints them ("Epoch 3/10").
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Mapping, Sequence

from ..i18n import N_, _, ngettext, num

KINDS = ("converging", "over-fitting", "under-fitting", "too early", "not trained")
MIN_EPOCHS = 4          # fewer epochs than this: too early to judge the curves
ACC_MARGIN = 0.05       # an accuracy drop smaller than this is noise (2 images of a validation set of 40)
ACC_GAP = 0.15          # training accuracy this far above a stalled validation accuracy: the curves diverge
RISE = 0.05             # the validation loss this far (relative) above its best is worth a caution
REMEDY = N_("try data augmentation, dropout or --early-stop.")


@dataclass(frozen=True)
class Verdict:
    """What the curves say.

    - ``kind``: ``'converging'``, ``'over-fitting'``, ``'under-fitting'``, ``'too early'`` (fewer than
      ``MIN_EPOCHS`` epochs) or ``'not trained'``
    - ``from_epoch``: first epoch (1-based) of the over-fitting, else None
    - ``best_epoch``: epoch (1-based) of the best validation result (lowest validation loss; the highest
      validation accuracy when only the accuracy diverged), the lowest training loss without validation
    - ``text``: one or two sentences for a student, in the language in use when it was judged (the
      runs folder stores the kind and the epochs, never the text)
    """

    kind: str
    from_epoch: int | None
    best_epoch: int | None
    text: str

    @property
    def warning(self) -> bool:
        """True when the panel should show a warning (over- or under-fitting)."""
        return self.kind in ("over-fitting", "under-fitting")


@dataclass(frozen=True)
class _Curves:
    """The finite curves of a history; ``val``/``val_acc`` cover the last ``len(val)`` epochs."""

    loss: list[float]
    acc: list[float]
    val: list[float]
    val_acc: list[float]

    @property
    def start(self) -> int:
        """Index of the first epoch that has validation values."""
        return len(self.loss) - len(self.val)


def _series(history: Mapping[str, Sequence[float]], *names: str) -> list[float]:
    for name in names:
        values = history.get(name) if hasattr(history, "get") else None
        if values:
            return [float(v) for v in values]
    return []


def _finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


def _curves(history: Mapping[str, Sequence[float]], loss: list[float]) -> _Curves:
    n = len(loss)
    acc = _series(history, "accuracy", "acc")
    acc = acc if len(acc) == n and all(map(_finite, acc)) else []
    val = _series(history, "val_loss")
    val_acc = _series(history, "val_accuracy", "val_acc")
    if len(val) != n:
        return _Curves(loss, acc, [], [])
    start = n   # validation may start later (a first fit without it): keep its last finite run
    while start > 0 and _finite(val[start - 1]) and (len(val_acc) != n or _finite(val_acc[start - 1])):
        start -= 1
    if n - start < 2:
        return _Curves(loss, acc, [], [])
    return _Curves(loss, acc, val[start:], val_acc[start:] if len(val_acc) == n else [])


def verdict(history: Mapping[str, Sequence[float]] | object, *, patience: int = 3,
            tolerance: float = 0.02) -> Verdict:
    """Judge a Keras history dict (``history.history``) or an object that has one.

    Over-fitting: over the last epochs (medians of ``min(patience, 3)`` epochs, 2 for 4–5 epochs) the
    validation loss rose more than ``tolerance`` (relative) above its best while the training
    loss kept falling, or the validation accuracy fell ``ACC_MARGIN`` below its best (or stalled
    ``ACC_GAP`` below a rising training accuracy) while the training accuracy rose; the last epoch
    must be worse than the best one. Fewer than ``MIN_EPOCHS`` epochs: too early to judge.
    Under-fitting: the training loss hardly moved (less than 10 %) or became NaN.

    Example::

        >>> verdict({"loss": [0.9, 0.6, 0.4, 0.3, 0.2, 0.1],
        ...          "val_loss": [0.9, 0.7, 0.6, 0.65, 0.7, 0.8]}).kind
        'over-fitting'
        >>> verdict({"loss": [0.9, 0.6], "val_loss": [0.8, 0.7]}).kind
        'too early'
    """
    if not isinstance(history, Mapping):
        history = getattr(history, "history", {}) or {}
    loss = _series(history, "loss")
    if not loss:
        return Verdict("not trained", None, None, _("No epoch has finished yet: train the model first."))
    if not all(map(_finite, loss)):
        first = next(i for i, v in enumerate(loss) if not _finite(v)) + 1
        return Verdict("under-fitting", None, None,
                       _("Training diverged: the loss became NaN/inf at epoch {epoch}; "
                         "lower the learning rate (--lr) or check the data for huge values.").format(epoch=first))
    curves = _curves(history, loss)
    n = len(loss)
    best = (curves.start + _argbest(curves.val, lower=True)) if curves.val else _argbest(loss, lower=True)
    if n < MIN_EPOCHS:
        return Verdict("too early", None, best + 1, _too_early_text(curves))
    if len(curves.val) >= MIN_EPOCHS:
        over = _over_fitting(curves, max(1, min(patience, 3, len(curves.val) // 2)), tolerance)
        if over is not None:
            return over
    if loss[-1] > 0.9 * loss[0]:
        return Verdict("under-fitting", None, best + 1,
                       ngettext("Under-fitting: the training loss hardly improves ({first} → {last} in {n} epoch); "
                                "try more epochs, a larger learning rate or a larger model.",
                                "Under-fitting: the training loss hardly improves ({first} → {last} in {n} epochs); "
                                "try more epochs, a larger learning rate or a larger model.", n).format(
                           first=num(loss[0], ".3g"), last=num(loss[-1], ".3g"), n=n))
    return Verdict("converging", None, best + 1, _converging_text(curves, best))


# -- over-fitting: the curves diverge -------------------------------------------------------------
def _argbest(values: list[float], lower: bool) -> int:
    """Index of the first best value."""
    return min(range(len(values)), key=lambda i: values[i] if lower else -values[i])


def _medians(values: list[float], window: int) -> list[float]:
    """Medians of every run of ``window`` consecutive values (a spike of one epoch moves none of them)."""
    return [median(values[i:i + window]) for i in range(len(values) - window + 1)]


def _diverges(val: list[float], train: list[float], window: int, margin: float, lower: bool) -> bool:
    """The validation curve got worse than its best window by ``margin`` while the training curve got better."""
    sign = 1.0 if lower else -1.0
    v = [sign * x for x in _medians(val, window)]
    t = [sign * x for x in _medians(train, window)]
    j, last = _argbest(v, lower=True), len(v) - 1
    best_raw = min(sign * x for x in val)
    return (j < last and v[last] - v[j] > margin * (abs(v[j]) if lower else 1.0) + 1e-6
            and t[last] < t[j] and sign * val[-1] - best_raw > margin * (abs(best_raw) if lower else 1.0) + 1e-6)


def _stall_start(val_acc: list[float], acc: list[float], window: int) -> int | None:
    """Index of the epoch since which the validation accuracy has stalled (within ``ACC_MARGIN / 2`` of its
    best) while the training accuracy ran ``ACC_GAP`` ahead of it, the gap growing; None when it has not."""
    v, t = _medians(val_acc, window), _medians(acc, window)
    top, last = max(v), len(v) - 1
    j = next(i for i, x in enumerate(v) if x >= top - ACC_MARGIN / 2)
    if j == last or val_acc[-1] >= max(val_acc) or t[last] - v[last] < ACC_GAP:
        return None
    if (t[last] - v[last]) - (t[j] - v[j]) < ACC_MARGIN:
        return None
    return next(i for i, x in enumerate(val_acc) if x >= max(val_acc) - ACC_MARGIN / 2)


def _over_fitting(c: _Curves, window: int, tolerance: float) -> Verdict | None:
    """A Verdict when the training and validation curves diverge over the last epochs, else None."""
    s = c.start
    train_loss = c.loss[s:]
    train_acc = c.acc[s:] if c.acc else []
    by_loss = _diverges(c.val, train_loss, window, tolerance, lower=True)
    fell = bool(c.val_acc and train_acc) and _diverges(c.val_acc, train_acc, window, ACC_MARGIN, lower=False)
    stall = _stall_start(c.val_acc, train_acc, window) if c.val_acc and train_acc and not fell else None
    stalled = stall is not None
    if not (by_loss or fell or stalled):
        return None
    b = _argbest(c.val, lower=True) if by_loss else _argbest(c.val_acc, lower=False)
    facts = []
    if by_loss:
        facts.append(_("the validation loss rose {best} → {last}").format(best=num(c.val[b], ".3g"),
                                                                          last=num(c.val[-1], ".3g")))
    if fell or (stalled and not by_loss):
        a = _argbest(c.val_acc, lower=False)
        facts.append(_("the validation accuracy fell {best} → {last}").format(
            best=num(c.val_acc[a], ".2f"), last=num(c.val_acc[-1], ".2f")) if fell else
            _("the validation accuracy has stalled near {value} since epoch {epoch}").format(
                value=num(median(c.val_acc[stall:]), ".2f"), epoch=s + stall + 1))
    since = stall if stalled and not by_loss else b
    if train_acc and len(facts) > by_loss:      # an accuracy fact: say how the training accuracy went
        trend = _("the training accuracy kept rising ({first} → {last})").format(
            first=num(train_acc[since], ".2f"), last=num(train_acc[-1], ".2f"))
    else:
        trend = _("the training loss kept falling ({first} → {last})").format(
            first=num(train_loss[b], ".3g"), last=num(train_loss[-1], ".3g"))
    best = s + b + 1
    start = s + stall + 2 if stalled and not by_loss else best + 1   # the first epoch that did not help validation
    return Verdict("over-fitting", start, best,
                   _("Over-fitting from epoch {start}: {facts} while {trend}, so the curves diverge. "
                     "Best epoch: {best}; {remedy}").format(
                       start=start, trend=trend, best=best, remedy=_(REMEDY),
                       facts=facts[0] if len(facts) == 1 else _("{first} and {second}").format(
                           first=facts[0], second=facts[1])))


# -- the other words ------------------------------------------------------------------------------
def _val_words(c: _Curves) -> tuple[str, str]:
    """How the validation loss went: ``('improving' | 'rose' | 'flat', words)``."""
    b = _argbest(c.val, lower=True)
    best_epoch, best, last = c.start + b + 1, c.val[b], c.val[-1]
    if b == len(c.val) - 1:
        return "improving", _("validation loss {first} → {last}").format(first=num(c.val[0], ".3g"),
                                                                           last=num(last, ".3g"))
    if last - best > RISE * abs(best):
        return "rose", _("but the validation loss rose after epoch {epoch} ({best} → {last}): watch whether it "
                         "keeps rising (over-fitting); --early-stop keeps the best epoch").format(
            epoch=best_epoch, best=num(best, ".3g"), last=num(last, ".3g"))
    return "flat", _("the validation loss has not improved since epoch {epoch} (best {best}, now {last})").format(
        epoch=best_epoch, best=num(best, ".3g"), last=num(last, ".3g"))


def _too_early_text(c: _Curves) -> str:
    n = len(c.loss)
    so_far = (_("training loss {first} → {last}").format(first=num(c.loss[0], ".3g"), last=num(c.loss[-1], ".3g"))
              if n > 1 else _("training loss {value}").format(value=num(c.loss[0], ".3g")))
    if c.val:
        rising = _val_words(c)[0] == "rose"
        values = dict(so_far=so_far, first=num(c.val[0], ".3g"), last=num(c.val[-1], ".3g"))
        so_far = (_("{so_far}, validation loss {first} → {last} (already rising: watch it)").format(**values)
                  if rising else _("{so_far}, validation loss {first} → {last}").format(**values))
    return ngettext("Too early to judge after {n} epoch: train at least {least} to see whether the curves "
                    "converge. So far: {so_far}.",
                    "Too early to judge after {n} epochs: train at least {least} to see whether the curves "
                    "converge. So far: {so_far}.", n).format(n=n, least=MIN_EPOCHS, so_far=so_far)


def _converging_text(c: _Curves, best: int) -> str:
    loss = c.loss
    trend = _("training loss {first} → {last}").format(first=num(loss[0], ".3g"), last=num(loss[-1], ".3g"))
    train_improving = loss[-1] < 0.95 * loss[-2]
    if not c.val:
        if train_improving:
            return _("Converging: {trend} (best at epoch {epoch}); still improving, more epochs may help.").format(
                trend=trend, epoch=best + 1)
        return _("Converging: {trend} (best at epoch {epoch}); levelling off.").format(trend=trend, epoch=best + 1)
    state, words = _val_words(c)
    if state == "improving" and train_improving:
        return _("Converging: {trend}, {words}; still improving, more epochs may help.").format(trend=trend, words=words)
    if state == "flat":
        return _("Converging: {trend}; {words}, so more epochs may not help.").format(trend=trend, words=words)
    return _("Converging: {trend}, {words}.").format(trend=trend, words=words)
