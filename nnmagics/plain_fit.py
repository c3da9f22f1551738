"""A reporter in a plain ``model.fit(callbacks=[reporter])``: what it learns without nnmagics' ``train``.

``ReporterCallback`` feeds itself there: ``fit_info`` makes its ``TrainInfo`` from the model and
Keras' ``params``; ``close_after_cell`` ends, after its cell, a fit that Keras never ended (an
interrupt, an error).
"""
from __future__ import annotations

from typing import Any, Mapping

from .reporting import ReportingCallback, TrainInfo


def fit_info(model, params: Mapping[str, Any], feed: ReportingCallback) -> TrainInfo:
    """The ``TrainInfo`` of a plain ``model.fit``: what ``model`` and Keras' ``params`` tell.

    Example::

        info = fit_info(model, {"epochs": 10, "steps": 4}, feed)     # info.samples is None: Keras does not say
    """
    from .compile import loss_name, optimizer_label
    from .device import detect

    try:
        device = detect().badge()
    except Exception:  # noqa: BLE001 - a display must never break a fit
        device = ""
    policy = getattr(getattr(model, "dtype_policy", None), "name", "float32")
    optimizer = getattr(model, "optimizer", None)
    return TrainInfo(model_name=getattr(model, "name", "model"), data_name="", epochs=int(params.get("epochs") or 1),
                     initial_epoch=0, steps=params.get("steps"), batch_size=None, samples=None, val_samples=None,
                     device=device, precision=policy, loss=loss_name(getattr(model, "loss", None)) or "",
                     optimizer=optimizer_label(optimizer) if optimizer is not None else "", stop=feed.stop,
                     history=feed.history)


def close_after_cell(reporter: Any) -> None:
    """In IPython, end a plain ``model.fit`` the reporter never saw end (an interrupt, an error) after its cell.

    Keras skips ``on_train_end`` when ``fit`` raises; a panel must still close (give the kernel back
    the messages it kept while training) and say how the fit ended.

    Example::

        close_after_cell(panel)     # ReporterCallback.on_train_begin does it when Keras calls the panel
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return

    def after(result=None):
        shell.events.unregister("post_run_cell", after)
        if reporter._feed is not None and reporter.status == "running":
            reporter._feed = None
            error = getattr(result, "error_in_exec", None)
            reporter._end_fit("interrupted" if isinstance(error, KeyboardInterrupt) else "failed")

    shell.events.register("post_run_cell", after)
