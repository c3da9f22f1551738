"""``--validation-steps``: which validation samples a partial validation evaluates, every class in proportion.

An image folder is kept in file order (all cats, then all dogs), and the course's confusion matrix
relies on it. Validation on the first ``validation_steps`` batches of that order would measure one
class only (val_accuracy 0.0 or 1.0 for a model that answers "cat"). So when ``validation_steps ×
batch size`` is smaller than the validation set, ``train()`` evaluates a fixed, stratified part of it
instead: ``representative_rows`` orders the samples so that any first *n* of them hold every class in
proportion (each class's own order shuffled with the fit's seed, 0 without one); the first
``validation_steps × batch size`` of that order, back in file order, are validated, the same ones
every epoch so that the val curves stay comparable. A validation set evaluated whole keeps its order.

``ORDER_SOURCE`` is the function's source: ``--code`` prints it, so the printed code picks the same rows.

Example::

    plan = plan_validation(cats_val, validation_steps=2, batch_size=20, seed=0)
    len(plan.data), plan.steps       # (40, 2): 20 cats and 20 dogs
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..i18n import N_, _, ngettext

# printed as is by --code (training/code.py), and run here: one definition of the order
ORDER_SOURCE = '''\
def representative_rows(labels, seed=0):
    """Every sample's row, ordered so that any first n rows hold every class in proportion."""
    labels = np.asarray(labels)
    shuffled = np.random.default_rng(seed).permutation(len(labels))   # each class's order: fixed by the seed
    rank = np.zeros(len(labels))
    for c in np.unique(labels):
        mine = shuffled[labels[shuffled] == c]
        rank[mine] = np.arange(len(mine)) / len(mine)   # how far into its class a sample comes
    return np.lexsort((labels, rank))   # by that fraction; one of each class first
'''
# its docstring and comments, translated where --code prints it (order_source)
ORDER_COMMENTS = (N_("Every sample's row, ordered so that any first n rows hold every class in proportion."),
                  N_("each class's order: fixed by the seed"), N_("how far into its class a sample comes"),
                  N_("by that fraction; one of each class first"))
_namespace: dict[str, Any] = {"np": np}
exec(ORDER_SOURCE, _namespace)  # noqa: S102 - a constant of this module, the very text --code prints


def order_source() -> str:
    """``ORDER_SOURCE`` as ``--code`` prints it: its docstring and comments in the language in use."""

    text = ORDER_SOURCE
    for comment in ORDER_COMMENTS:
        text = text.replace(comment, _(comment))
    return text


def representative_rows(labels, seed: int | None = 0) -> np.ndarray:
    """All rows of ``labels`` ordered so that any first *n* hold every class in proportion (one of each first).

    The same ``labels`` and ``seed`` give the same order (``None`` means 0).

    Example::

        >>> representative_rows([0, 0, 0, 0, 1, 1], seed=0).tolist()   # classes 0, 1, 0, 0, 1, 0
        [3, 5, 2, 0, 4, 1]
    """
    return _namespace["representative_rows"](labels, 0 if seed is None else int(seed))


class ValidationPlan(NamedTuple):
    """What a fit validates on: ``data`` (the whole set or its representative part), ``steps`` for Keras'
    ``validation_steps``, ``take`` (samples of the part, None when whole) and ``note`` (one sentence or None)."""

    data: Any
    steps: int | None
    take: int | None = None
    note: str | None = None


def plan_validation(data, validation_steps: int | None, batch_size: int, seed: int | None = None,
                    name: str | None = None) -> ValidationPlan:
    """The validation ``train()`` runs for ``validation_steps`` batches of ``batch_size`` of ``data``.

    ``None`` steps, or steps that cover the set: the whole set in its order (steps cut to one pass,
    so no sample counts twice). Fewer: the first ``steps × batch_size`` of ``representative_rows``,
    in file order, a fixed part (``data.subset``); ``note`` warns when that part cannot hold every class.

    Example::

        plan = plan_validation(cats_val, 1, 20, seed=0)    # 20 of cats_val, 10 per class
        model.fit(..., validation_data=plan.data.batches(batch_size=20), validation_steps=plan.steps)
    """
    if data is None or validation_steps is None:
        return ValidationPlan(data, validation_steps)
    name = name or _("the validation data")
    whole = math.ceil(len(data) / batch_size)
    if validation_steps >= whole:
        return ValidationPlan(data, whole)
    take = validation_steps * batch_size
    labels = np.asarray(data.labels, dtype=int)
    rows = np.sort(representative_rows(labels, seed)[:take])
    present = len(np.unique(labels))
    note = None
    if take < present:
        note = ngettext("--validation-steps {steps} × batch size {batch} = {take} validation sample cannot hold all "
                        "{classes} classes of {name}, so the val_ metrics leave some out (use --validation-steps "
                        "{least} or more).",
                        "--validation-steps {steps} × batch size {batch} = {take} validation samples cannot hold all "
                        "{classes} classes of {name}, so the val_ metrics leave some out (use --validation-steps "
                        "{least} or more).", take).format(
            steps=validation_steps, batch=batch_size, take=take, classes=present, name=name,
            least=math.ceil(present / batch_size))
    return ValidationPlan(data.subset(rows, name=getattr(data, "name", None)), validation_steps, take, note)


__all__ = ["ORDER_SOURCE", "order_source", "ValidationPlan", "plan_validation", "representative_rows"]
