"""The text reporter: one compact line per epoch, for ``--no-live``, plain IPython and terminals.

``TextLog`` is a reporter (``train(..., reporter=TextLog())``) and a Keras callback
(``model.fit(..., callbacks=[TextLog()])``).

It also holds the wording shared with the live panel (log formatting, end-of-training status).
After training in a notebook kernel it shows a static PNG of the curves, so a notebook executed
headless (nbconvert, nbclient) keeps a picture.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Mapping

from ..i18n import _, ngettext, num
from ..training.plain_fit import ReporterCallback

ORDER = ("loss", "accuracy", "acc", "val_loss", "val_accuracy", "val_acc")
HIDDEN = ("seconds", "learning_rate", "lr")


def duration(seconds: float | None) -> str:
    """``'42 s'``, ``'3 min 05 s'``, ``'1 h 02 min'``."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return _("{seconds} s").format(seconds=num(seconds, ".1f"))
    if seconds < 60:
        return _("{seconds} s").format(seconds=num(seconds, ".0f"))
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return _("{minutes} min {seconds} s").format(minutes=minutes, seconds=f"{sec:02d}")
    hours, minutes = divmod(minutes, 60)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=f"{minutes:02d}")


def ordered_keys(logs: Mapping[str, Any]) -> list[str]:
    """Metric names in a stable, readable order (loss first, validation after training)."""
    keys = [k for k in logs if k not in HIDDEN]
    rank = {k: i for i, k in enumerate(ORDER)}
    return sorted(keys, key=lambda k: (k.startswith("val_"), rank.get(k, 50), k))


def format_logs(logs: Mapping[str, Any], sep: str = " · ") -> str:
    """``loss 0.5123 · accuracy 0.7500 · val_loss 0.4800``."""
    parts = []
    for key in ordered_keys(logs):
        try:
            parts.append(f"{key} {num(float(logs[key]), '.4f')}")
        except (TypeError, ValueError):
            continue
    return sep.join(parts)


def status_text(status: str, info: Any, history: Any, elapsed: float | None, reason: str = "") -> str:
    """The sentence shown when training ends."""
    done = len(history.epoch) - info.initial_epoch if history is not None else 0
    total = len(history.epoch) if history is not None else 0
    took = _(" in {duration}").format(duration=duration(elapsed)) if elapsed is not None else ""
    best = _best_text(history, info)
    name = f"'{info.model_name}'"
    if status == "finished":
        return ngettext("Finished: {n} epoch(s){took} ({epochs}){best}.", "Finished: {n} epoch(s){took} ({epochs}){best}.",
                        done).format(n=done, took=took, epochs=_epoch_range(info), best=best)
    if status in ("stopped", "interrupted"):
        why = _("kernel interrupt") if status == "interrupted" else _reason(reason)
        partial = history.fits[-1].get("partial_epoch") if history is not None and history.fits else None
        where = (_("during epoch {epoch} (after batch {batch}/{steps}, its results so far recorded)").format(
                     epoch=partial[0] + 1, batch=partial[1], steps=partial[2])
                 if partial else ngettext("after {n} finished epoch(s)", "after {n} finished epoch(s)", done).format(n=done))
        if info.data_name:
            return ngettext("Stopped ({why}) {where}{took}: {name} keeps its weights and {history} has all {n} "
                            "epoch(s){best}.",
                            "Stopped ({why}) {where}{took}: {name} keeps its weights and {history} has all {n} "
                            "epoch(s){best}.", total).format(why=why, where=where, took=took, name=name,
                                                             history=f"{info.model_name}_history", n=total, best=best)
        # a plain model.fit: no variable
        return ngettext("Stopped ({why}) {where}{took}: {name} keeps its weights and its history has all {n} "
                        "epoch(s){best}.",
                        "Stopped ({why}) {where}{took}: {name} keeps its weights and its history has all {n} "
                        "epoch(s){best}.", total).format(why=why, where=where, took=took, name=name, n=total, best=best)
    if status == "early-stopped":
        return ngettext("Early stop after {n} epoch(s){took}: the monitored {monitor} stopped improving; "
                        "the best weights were restored{best}.",
                        "Early stop after {n} epoch(s){took}: the monitored {monitor} stopped improving; "
                        "the best weights were restored{best}.", done).format(n=done, took=took, monitor=info.monitor,
                                                                              best=best)
    return ngettext("Training failed after {n} epoch(s){took}; see the error below.",
                    "Training failed after {n} epoch(s){took}; see the error below.", done).format(n=done, took=took)


def _reason(reason: str) -> str:
    """A stop reason as shown (the training layer keeps it in English, as a key)."""
    if reason in ("", "stop button"):
        return _("stop button")
    if reason == "kernel interrupt":
        return _("kernel interrupt")
    return reason


def _epoch_range(info) -> str:
    first, last = info.initial_epoch + 1, info.final_epoch
    return _("epoch {epoch}").format(epoch=first) if first == last else \
        _("epochs {first}–{last}").format(first=first, last=last)


def _best_text(history, info) -> str:
    if history is None:
        return ""
    values = history.history.get(info.monitor) or []
    finite = [(i, v) for i, v in enumerate(values) if isinstance(v, float) and math.isfinite(v)]
    if not finite:
        return ""
    i, v = min(finite, key=lambda item: item[1])
    return _("; best {monitor} {value} at epoch {epoch}").format(monitor=info.monitor, value=num(v, ".4f"),
                                                                 epoch=history.epoch[i] + 1)


def header_parts(info: Any) -> tuple[str, str]:
    """(what is trained on what, the settings) describing a run (what is unknown is left out)."""
    if info.data_name:
        title = _("Training '{model}' on '{data}'").format(model=info.model_name, data=info.data_name)
    else:
        title = _("Training '{model}'").format(model=info.model_name)
    if info.samples is not None:
        samples = num(info.samples, ",")
        if not info.val_samples:
            sizes = _("{samples} samples, no validation").format(samples=samples)
        elif getattr(info, "val_total", None):   # --validation-steps: a part of the set
            sizes = _("{samples} samples, validation {val} of {total}").format(
                samples=samples, val=num(info.val_samples, ","), total=num(info.val_total, ","))
        else:
            sizes = _("{samples} samples, validation {val}").format(samples=samples, val=num(info.val_samples, ","))
        title += f" ({sizes})"
    extra = [x for x in (info.precision if info.precision != "float32" else "", info.strategy) if x]
    sizes = [_("batch {size}").format(size=info.batch_size) if info.batch_size else "",
             _("{steps} steps/epoch").format(steps=info.steps) if info.steps else ""]
    details = " · ".join(x for x in [_epoch_range(info), *sizes, *extra, info.optimizer, info.loss] if x)
    if getattr(info, "augment", ""):
        details += f" · {info.augment}"
    return title, details


def header_text(info: Any) -> str:
    """One line describing the run (model, data, sizes, device, settings)."""
    title, details = header_parts(info)
    return " · ".join(x for x in (title, info.device, details) if x)


class TextLog(ReporterCallback):
    """Reporter printing one line per epoch (to ``stream``, default stdout); ``final_png``: show a
    picture of the curves at the end (default: in a notebook kernel).

    Example::

        train(model, data4, epochs=3, reporter=TextLog())       # or: model.fit(x, y, callbacks=[TextLog()])
        # Epoch 1/3 · 0.4 s · loss 1.0712 · accuracy 0.4125 · val_loss 1.0501 · val_accuracy 0.4333
    """

    def __init__(self, stream=None, *, final_png: bool | None = None, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.stream = stream
        self.final_png = final_png
        self.clock = clock
        self._start = None
        self._warned = False

    def _print(self, text: str) -> None:
        stream = self.stream or sys.stdout
        print(text, file=stream, flush=True)

    def begin(self, info) -> None:
        self.info, self.history, self._start = info, info.history, self.clock()
        self._warned = False
        self._print(header_text(info))
        for hint in info.hints:
            self._print("  " + _("Note: {text}").format(text=hint))

    def on_batch(self, epoch, batch, steps, logs, elapsed) -> None:
        """Nothing per batch: the text log stays one line per epoch."""

    def on_hint(self, text) -> None:
        """A hint learnt while training (the measured CPU epoch time): one ``Note:`` line."""
        self._print("  " + _("Note: {text}").format(text=text))

    def on_epoch(self, epoch, logs, history, verdict) -> None:
        self.history = history
        seconds = logs.get("seconds")
        self._print(_("Epoch {epoch}/{epochs}").format(epoch=epoch + 1, epochs=self.info.final_epoch)
                    + f" · {duration(seconds)} · {format_logs(logs)}")
        if verdict.kind == "over-fitting" and not self._warned:
            self._warned = True
            self._print("  " + _("Warning: {text}").format(text=verdict.text))

    def end(self, status) -> None:
        elapsed = self.clock() - self._start if self._start is not None else None
        self._print(status_text(status, self.info, self.history, elapsed, self.info.stop.reason))
        if self._want_png() and self.history is not None and len(self.history.epoch):
            from .curves import curves_figure
            from .output import show_figure

            show_figure(curves_figure(self.history, title=_("{model}: training curves").format(model=self.info.model_name)))

    def _want_png(self) -> bool:
        if self.final_png is not None:
            return self.final_png
        from .output import in_notebook

        return in_notebook()
