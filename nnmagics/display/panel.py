"""The live training panel (core ipywidgets only, so it renders in Colab, VS Code, Lab and Notebook 7).

Device badge · epoch and batch progress with ETA and samples/s · loss and accuracy curves
(train vs validation) · per-epoch table · over-fitting warning · Stop button.

Cost control: the training callback calls ``on_batch`` at most every 0.1 s; the curves are redrawn
at most every ``%config NNMagics.redraw_seconds`` (and once at the end) as a small inline SVG;
the matplotlib PNG is made once, at the end, for notebooks viewed without widgets.

The panel is a reporter (``train(..., reporter=panel)``) and a Keras callback
(``model.fit(..., callbacks=[panel])``); the Stop button works while the kernel is busy
(``kernel_events``). ``nnmagics.LivePanel`` (``live``) is this panel, or the text log where
widgets cannot render.
"""
from __future__ import annotations

import html
import math
import time
from typing import Callable

from ..i18n import _, num
from ..training.plain_fit import ReporterCallback
from .curves import curves_svg
from .kernel_events import KernelEventPoller
from .text_log import duration, format_logs, header_parts, header_text, ordered_keys, status_text

STATUS_STYLE = {
    "running": ("#1565c0", "●"), "finished": ("#2e7d32", "✓"), "stopped": ("#e65100", "■"),
    "interrupted": ("#e65100", "■"), "early-stopped": ("#2e7d32", "✓"), "failed": ("#c62828", "✗"),
}


def status_label(status: str) -> str:
    """``status`` as shown, in the language in use (the status itself is a key: compared, stored)."""
    labels = {"running": _("running"), "finished": _("finished"), "stopped": _("stopped"),
              "interrupted": _("interrupted"), "early-stopped": _("early-stopped"), "failed": _("failed")}
    return labels.get(status, status)


def _table_html(history, first_epoch: int = 0, max_rows: int = 500) -> str:
    keys = ordered_keys(dict.fromkeys(history.history))
    rows = []
    epochs = history.epoch[-max_rows:]
    offset = len(history.epoch) - len(epochs)
    for i, epoch in enumerate(epochs):
        cells = []
        for key in keys:
            values = dict.get(history.history, key, [])
            value = values[offset + i] if offset + i < len(values) else float("nan")
            cells.append(f"<td {_CELL}>{num(value, '.4f')}</td>" if math.isfinite(value) else f"<td {_CELL}>–</td>")
        seconds = getattr(history, "seconds", [])
        took = duration(seconds[offset + i]) if offset + i < len(seconds) else ""
        style = " style='color:#777'" if epoch < first_epoch else ""
        rows.append(f"<tr{style}><td {_CELL}>{epoch + 1}</td>{''.join(cells)}<td {_CELL}>{took}</td></tr>")
    head = "".join(f"<th {_CELL}>{html.escape(k)}</th>" for k in [_("epoch"), *keys, _("time")])
    return ("<div style='max-height:200px;overflow:auto'><table style='font-size:12px;border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(reversed(rows))}</tbody></table></div>")


_CELL = "style='padding:1px 10px;text-align:right'"


class TrainingPanel(ReporterCallback):
    """The live reporter (ipywidgets). ``display=False`` keeps it off screen (tests, benchmarks).

    ``clock`` is injectable so tests can count throttled redraws with a fake clock.

    Example::

        panel = TrainingPanel()
        train(model, data4, epochs=20, reporter=panel)       # or: model.fit(x, y, callbacks=[panel])
        panel.stop_button.click()      # what the Stop button does (from another thread or a test)
    """

    def __init__(self, *, display: bool = True, clock: Callable[[], float] = time.monotonic,
                 redraw_seconds: float | None = None, poll_kernel: bool = True):
        import ipywidgets as w

        from ..config import settings

        super().__init__()
        self.clock = clock
        self.redraw_seconds = settings().redraw_seconds if redraw_seconds is None else float(redraw_seconds)
        self.show_on_begin = display
        self.poller = KernelEventPoller() if poll_kernel else KernelEventPoller(kernel=False)
        self.redraws = 0
        self.verdict = None
        self._dirty = False
        self._last_draw = -math.inf
        self._start = None
        self._display_id = None
        self._epoch_times: list[float] = []
        self._hints: list[str] = []

        self.badge = w.HTML()
        self.hints = w.HTML()
        self.epoch_bar = w.IntProgress(min=0, max=1, value=0, description=_("Epochs"), bar_style="info",
                                       layout=w.Layout(width="320px"))
        self.epoch_text = w.HTML()
        self.batch_bar = w.IntProgress(min=0, max=1, value=0, description=_("Batches"), layout=w.Layout(width="320px"))
        self.batch_text = w.HTML()
        self.curves = w.HTML()
        self.warning = w.HTML()
        self.verdict_line = w.HTML()
        self.table = w.HTML()
        self.status_line = w.HTML()
        self.stop_button = w.Button(description=_("Stop"), icon="stop", button_style="danger",
                                    tooltip=_("End training after the current batch (weights and history are kept)"),
                                    layout=w.Layout(width="120px"))
        self.stop_button.on_click(self._on_stop)
        self.widget = w.VBox([
            w.HBox([self.badge, self.stop_button], layout=w.Layout(justify_content="space-between")),
            self.hints,
            w.HBox([self.epoch_bar, self.epoch_text]),
            w.HBox([self.batch_bar, self.batch_text]),
            self.curves, self.warning, self.verdict_line, self.table, self.status_line,
        ])

    # -- reporter protocol ------------------------------------------------------------------
    def begin(self, info) -> None:
        self.info, self.history, self._start = info, info.history, self.clock()
        self.status = "running"
        title, details = header_parts(info)
        self.badge.value = (f"<span style='background:#e3f2fd;border-radius:4px;padding:1px 6px'><b>"
                            f"{html.escape(info.device)}</b></span> {html.escape(title)}"
                            f"<br><span style='color:#555;font-size:12px'>{html.escape(details)}</span>")
        self._hints = list(info.hints)
        self._show_hints()
        self.epoch_bar.max = max(info.epochs, 1)
        self.batch_bar.max = max(info.steps or 1, 1)
        self.epoch_text.value = _("epoch {epoch}/{epochs}").format(epoch=info.initial_epoch + 1, epochs=info.final_epoch)
        self._set_status("running", self._running_text())
        self._redraw(force=True)
        if len(self.history.epoch):
            self.table.value = _table_html(self.history, info.initial_epoch)
        if self.show_on_begin:
            self.show()

    def on_batch(self, epoch, batch, steps, logs, elapsed) -> None:
        done = batch + 1
        info = self.info
        self.batch_bar.value = min(done, self.batch_bar.max)
        rate = done * (info.batch_size or 1) / elapsed if elapsed > 0 else 0.0
        eta = None
        if steps:
            per_batch = elapsed / done
            remaining_epochs = info.final_epoch - epoch - 1
            epoch_time = self._mean_epoch_time() or per_batch * steps
            eta = (steps - done) * per_batch + remaining_epochs * epoch_time
        speed = (_("{rate} samples/s") if info.batch_size else _("{rate} batches/s")).format(rate=num(rate, ",.0f"))
        self.batch_text.value = (_("batch {batch}/{steps}").format(batch=done, steps=steps or "?")
                                 + f" · {duration(elapsed)} · {speed}"
                                 + (" · " + _("ETA {duration}").format(duration=duration(eta)) if eta is not None else "")
                                 + f" · {html.escape(format_logs(logs))}")
        self._redraw()

    def on_epoch(self, epoch, logs, history, verdict) -> None:
        self.history = history
        info = self.info
        if "seconds" in logs:
            self._epoch_times.append(float(logs["seconds"]))
        self.epoch_bar.value = min(epoch + 1 - info.initial_epoch, self.epoch_bar.max)
        remaining = info.final_epoch - epoch - 1
        eta = remaining * (self._mean_epoch_time() or 0.0)
        self.epoch_text.value = (_("epoch {epoch}/{epochs}").format(epoch=epoch + 1, epochs=info.final_epoch)
                                 + (" · " + _("ETA {duration}").format(duration=duration(eta)) if remaining > 0 else "")
                                 + f" · {html.escape(format_logs(logs))}")
        self.table.value = _table_html(history, info.initial_epoch)
        if verdict.kind == "over-fitting":
            self.warning.value = ("<div style='background:#fdecea;color:#b71c1c;padding:4px 8px;border-left:4px solid #c62828'>"
                                  f"⚠ {html.escape(verdict.text)}</div>")
            self.verdict_line.value = ""
        else:
            self.warning.value = ""
            self.verdict_line.value = f"<div style='color:#555;font-size:12px'>{html.escape(verdict.text)}</div>"
        self.verdict = verdict
        self._dirty = True
        self._redraw()

    def end(self, status) -> None:
        try:
            self.status = status
            elapsed = self.clock() - self._start if self._start is not None else None
            self._redraw(force=True)
            self.stop_button.disabled = True
            self.stop_button.description = _("Stopped") if status in ("stopped", "interrupted") else _("Done")
            self.epoch_bar.bar_style = "success" if status in ("finished", "early-stopped") else "warning"
            text = status_text(status, self.info, self.history, elapsed, self.info.stop.reason if self.info else "")
            self._set_status(status, text)
            last = self.history.epoch[-1] + 1 if self.history is not None and self.history.epoch else 0
            label = status_label("stopped" if status == "interrupted" else status)
            self.epoch_text.value = (_("epoch {epoch}/{epochs}").format(epoch=last, epochs=self.info.final_epoch)
                                     + f" · {label}") if self.info else label
            self.batch_text.value = ""
            if self._display_id is not None:
                self._update_display(final=True)
        finally:
            self.poller.close()  # always: the kernel needs the messages kept during training

    def on_hint(self, text) -> None:
        """A hint learnt while training (the measured CPU epoch time), shown under the header."""
        self._hints.append(text)
        self._show_hints()

    def poll(self) -> None:
        """Handle pending front-end events (a Stop click) while the kernel is busy."""
        was_active = self.poller.active
        self.poller.poll()
        if was_active and not self.poller.active and self.status == "running":
            self._set_status("running", self._running_text())

    def _running_text(self) -> str:
        if self.poller.active:
            return _("Training… the Stop button ends it after the current batch.")
        # a kernel whose messages we cannot read while it is busy: the click would wait for the cell
        return _("Training… this kernel cannot receive the Stop click while it is busy: interrupt the kernel "
                 "(■ in the toolbar, or Runtime › Interrupt execution in Colab) to stop; weights and history are kept.")

    # -- pieces -----------------------------------------------------------------------------
    def _on_stop(self, _button=None) -> None:
        if self.info is not None:
            self.info.stop.request("stop button")
        self.stop_button.disabled = True
        self.stop_button.description = _("Stopping…")

    def _show_hints(self) -> None:
        self.hints.value = "".join(f"<div style='background:#fff8e1;padding:3px 6px;margin:2px 0'>💡 {html.escape(h)}</div>"
                                   for h in self._hints)

    def _mean_epoch_time(self) -> float | None:
        return sum(self._epoch_times) / len(self._epoch_times) if self._epoch_times else None

    def _set_status(self, status: str, text: str) -> None:
        color, mark = STATUS_STYLE.get(status, ("#333", ""))
        label = status_label("stopped" if status == "interrupted" else status)
        self.status_line.value = (f"<div style='color:{color};font-weight:600'>{mark} {html.escape(label)}</div>"
                                  f"<div>{html.escape(text)}</div>")

    def _redraw(self, force: bool = False) -> None:
        now = self.clock()
        if not force and (not self._dirty or now - self._last_draw < self.redraw_seconds):
            return
        history = self.history.history if self.history is not None else {}
        first = (self.history.epoch[0] + 1) if self.history is not None and self.history.epoch else 1
        self.curves.value = curves_svg(history, final_epoch=self._axis_end(first), first_epoch=first)
        self.redraws += 1
        self._last_draw = now
        self._dirty = False

    def _axis_end(self, first: int) -> int | None:
        """Last epoch on the x axis: the end of the fit, or 50 % beyond the last point for long fits."""
        if self.info is None:
            return None
        done = len(self.history.epoch) if self.history is not None else 0
        if self.status not in (None, "running"):
            return first + max(done, 1) - 1
        return min(self.info.final_epoch, max(first + 9, first - 1 + math.ceil(done * 1.5)))

    def text_summary(self) -> str:
        """A plain-text digest of the panel (what a viewer without widgets shows)."""
        lines = [header_text(self.info)] if self.info else []
        lines += [_("Note: {text}").format(text=hint) for hint in self._hints]
        if self.history is not None:
            for i, epoch in enumerate(self.history.epoch):
                logs = {k: v[i] for k, v in dict.items(self.history.history) if i < len(v)}
                lines.append(_("Epoch {epoch}").format(epoch=epoch + 1) + f" · {format_logs(logs)}")
        if self.status:
            lines.append(_("Status: {status}").format(status=status_label(self.status)))
        return "\n".join(lines)

    # -- display ----------------------------------------------------------------------------
    def _bundle(self, final: bool = False) -> dict:
        from .widget_compat import widget_bundle

        bundle = widget_bundle(self.widget)
        bundle["text/plain"] = self.text_summary() or _("Training panel")
        if final and self.history is not None and len(self.history.epoch):
            import base64

            from .curves import curves_figure
            from .output import figure_png

            png = figure_png(curves_figure(self.history, title=_("{model}: training curves").format(model=self.info.model_name)))
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle

    def show(self) -> None:
        """Display the panel (a widget view, with a PNG of the curves added at the end for static viewers)."""
        import uuid

        from IPython.display import display

        self._display_id = uuid.uuid4().hex
        display(self._bundle(), raw=True, display_id=self._display_id)

    def _update_display(self, final: bool = False) -> None:
        from IPython.display import update_display

        update_display(self._bundle(final=final), raw=True, display_id=self._display_id)

    def _ipython_display_(self) -> None:
        self.show()
