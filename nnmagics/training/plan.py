"""Whether ``train`` compiles, and how: the loss from the output layer, the optimizer, the metrics.

Every option is checked before anything changes (``plan_compile``); ``apply_plan`` then compiles.

Example::

    plan = plan_compile(model, data4, optimizer="adam", lr=0.01)
    apply_plan(model, plan)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class CompilePlan:
    """What ``train`` decided about compiling."""

    compile: bool
    loss: Any
    loss_name: str
    class_mode: str
    optimizer: Any
    metrics: list
    reason: str
    lr: float | None = None


def plan_compile(model, data, *, loss="auto", optimizer=None, lr=None, metrics=None, momentum=None,
                 model_name: str = "model") -> CompilePlan:
    """Decide whether to (re)compile, and with which loss, optimizer and label encoding.

    Checks every option (loss, optimizer, metrics) and changes nothing: ``apply_plan`` does.
    A model whose trainable flags changed since nnmagics last trained it is compiled again
    (Keras ignores unfreezing until then) with an optimizer of the same kind.

    Example::

        plan_compile(model, data4).loss_name      # 'sparse_categorical_crossentropy'
    """
    from ..model.compile import (choose_loss, compiled_loss, compiled_metrics, fresh_optimizer, learning_rate_of,
                                 loss_name, make_optimizer, normalize_metrics, output_info)
    from .runner import flags_changed

    out = output_info(model)
    compiled = bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None
    asked = optimizer is not None or (loss not in (None, "auto")) or metrics is not None or momentum is not None
    current = compiled_loss(model) if compiled else None
    wanted = current if loss in (None, "auto") and current is not None else loss
    choice = choose_loss(out, data.class_mode, data.num_classes, wanted, model_name)
    unfrozen = compiled and flags_changed(model)
    if not compiled or asked or unfrozen:
        checked = normalize_metrics(metrics if metrics is not None or not compiled else compiled_metrics(model))
        if momentum is not None and optimizer is None and compiled:   # --momentum alone: the same kind and rate
            rate = lr if lr is not None else learning_rate_of(model.optimizer)
            opt = make_optimizer(type(model.optimizer).__name__, rate, momentum)
        elif optimizer is not None or not compiled:
            opt = make_optimizer(optimizer, lr, momentum)
        else:
            opt = fresh_optimizer(model.optimizer) if unfrozen else model.optimizer
        reason = "trainable layers changed" if unfrozen and not asked else choice.reason
        return CompilePlan(True, choice.loss, choice.name, choice.class_mode, opt, checked, reason, lr)
    return CompilePlan(False, current, loss_name(current) or choice.name, choice.class_mode, model.optimizer,
                       [], "compiled before", lr)


def apply_plan(model, plan: CompilePlan) -> None:
    """Compile ``model`` as planned and set the learning rate asked for."""
    if plan.compile:
        model.compile(optimizer=plan.optimizer, loss=plan.loss, metrics=plan.metrics)
    if plan.lr is not None:
        model.optimizer.learning_rate = float(plan.lr)

