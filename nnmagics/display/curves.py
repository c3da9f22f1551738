"""The training curves: accuracy and loss, training vs validation, one point per epoch.

``CurvesPlot`` keeps one matplotlib ``Figure`` (never pyplot state) and only updates its line
data, so the live panel can redraw it cheaply; ``curves_figure`` makes a one-off figure.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from ..i18n import _, num
from .figures import new_figure

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"


def _title(title: str) -> str:
    """A panel's title as drawn ("Accuracy" and "Loss" are also the keys of its lines)."""
    return {"Accuracy": _("Accuracy"), "Loss": _("Loss")}[title]


def _series(history: Mapping[str, Sequence[float]], *names: str) -> list[float]:
    for name in names:
        values = history.get(name)
        if values:
            return list(values)
    return []


from ..training.history import accuracy_key  # noqa: E402 - the one definition


class CurvesPlot:
    """Two panels (accuracy, loss) whose lines are updated in place.

    Example::

        plot = CurvesPlot()
        plot.update(history.history)      # history.history or any dict of lists
        png = plot.png()
    """

    def __init__(self, width: float = 9.0, height: float = 3.2, dpi: int = 72):
        self.dpi = dpi
        self.fig = new_figure(width, height)
        self.ax_acc = self.fig.add_subplot(1, 2, 1)
        self.ax_loss = self.fig.add_subplot(1, 2, 2)
        self.lines = {}
        from matplotlib.ticker import MaxNLocator

        for ax, title in ((self.ax_acc, "Accuracy"), (self.ax_loss, "Loss")):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(_title(title), fontsize=10)
            ax.set_xlabel(_("epoch"), fontsize=9)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
            self.lines[(title, "train")], = ax.plot([], [], "o-", color=TRAIN_COLOR, ms=3, lw=1.5, label=_("training"))
            self.lines[(title, "val")], = ax.plot([], [], "o-", color=VAL_COLOR, ms=3, lw=1.5, label=_("validation"))
        self.best_marker, = self.ax_loss.plot([], [], "*", color=VAL_COLOR, ms=11, label=_("best val"))
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.88, wspace=0.22)
        self._legend_done = False
        self.draws = 0

    def update(self, history: Mapping[str, Sequence[float]], epochs: Sequence[int] | None = None) -> None:
        """Set the lines from a history dict (epochs 1-based on the x axis)."""
        key = accuracy_key(history)
        acc = _series(history, key) if key else []
        val_acc = _series(history, "val_" + key) if key else []
        loss, val_loss = _series(history, "loss"), _series(history, "val_loss")
        n = max(len(loss), len(acc))
        if epochs is not None and len(epochs) >= n:
            xs = [int(e) + 1 for e in list(epochs)[len(epochs) - n:]]
        else:
            xs = list(range(1, n + 1))
        for (title, side), line in self.lines.items():
            values = {("Accuracy", "train"): acc, ("Accuracy", "val"): val_acc,
                      ("Loss", "train"): loss, ("Loss", "val"): val_loss}[(title, side)]
            line.set_data(xs[: len(values)], values)
        if val_loss:
            best = min(range(len(val_loss)), key=lambda i: (val_loss[i] != val_loss[i], val_loss[i]))
            self.best_marker.set_data([xs[best]], [val_loss[best]])
        else:
            self.best_marker.set_data([], [])
        if not acc:
            self.ax_acc.set_title(_("Accuracy (not measured)"), fontsize=10)
        for ax in (self.ax_acc, self.ax_loss):
            ax.relim()
            ax.autoscale_view()
            if n:
                ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        if n and not self._legend_done:
            self.ax_loss.legend(fontsize=8, loc="upper right")
            self._legend_done = True

    def png(self) -> bytes:
        """The figure as PNG bytes (fixed layout: no tight bounding box, so one draw per call)."""
        import io

        self.draws += 1
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()


def curves_figure(history, title: str | None = None):
    """A matplotlib Figure of the accuracy and loss curves (train vs validation).

    Accepts a ``TrainHistory``, a Keras ``History`` or a dict of lists.

    Example::

        fig = curves_figure(model_history)
    """
    data = getattr(history, "history", history)
    epochs = getattr(history, "epoch", None)
    plot = CurvesPlot(width=10, height=3.6, dpi=90)
    plot.update(data, epochs if epochs else None)
    if title:
        plot.fig.suptitle(title, fontsize=11)
    return plot.fig


# -- a light SVG version for the live panel ------------------------------------------------------
def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high].

    Example::

        >>> nice_ticks(0.13, 0.92)
        [0.2, 0.4, 0.6, 0.8]
    """
    import math

    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0) * 0.1
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks, value = [], first
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return num(value, ".3g")


def _panel_svg(title: str, series: list[tuple[str, list[float], str]], x0: float, width: float, height: float,
               n_epochs: int, first_epoch: int, best: tuple[int, float] | None = None) -> str:
    import html
    import math

    left, right, top, bottom = 46, 10, 22, 28
    pw, ph = width - left - right, height - top - bottom
    values = [v for _, ys, _ in series for v in ys if math.isfinite(v)]
    parts = [f'<text x="{x0 + left}" y="14" font-size="12" font-weight="600">{html.escape(title)}</text>',
             f'<rect x="{x0 + left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>']
    if not values:
        waiting = html.escape(_("waiting for the first epoch…"))
        parts.append(f'<text x="{x0 + left + pw / 2:.0f}" y="{top + ph / 2:.0f}" text-anchor="middle" '
                     f'font-size="11" fill="#888">{waiting}</text>')
        return "".join(parts)
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.05 * (abs(low) or 1), high + 0.05 * (abs(high) or 1)
    pad = 0.06 * (high - low)
    low, high = low - pad, high + pad
    last_epoch = first_epoch + max(n_epochs, 1) - 1

    def sx(epoch: float) -> float:
        span = max(last_epoch - first_epoch, 1)
        return x0 + left + (epoch - first_epoch) / span * pw

    def sy(value: float) -> float:
        return top + (high - value) / (high - low) * ph

    for tick in nice_ticks(low, high):
        y = sy(tick)
        parts.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{x0 + left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_fmt(tick)}</text>')
    for tick in nice_ticks(first_epoch, last_epoch, 6):
        if float(tick).is_integer():
            x = sx(tick)
            parts.append(f'<text x="{x:.1f}" y="{top + ph + 14}" text-anchor="middle" font-size="10">{int(tick)}</text>')
    epoch = html.escape(_("epoch"))
    parts.append(f'<text x="{x0 + left + pw / 2:.0f}" y="{height - 2}" text-anchor="middle" font-size="10" '
                 f'fill="#555">{epoch}</text>')
    for name, ys, color in series:
        points = [(sx(first_epoch + i), sy(v)) for i, v in enumerate(ys) if math.isfinite(v)]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        if len(points) <= 60:
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{color}"/>' for x, y in points)
    if best is not None:
        bx, by = sx(first_epoch + best[0]), sy(best[1])
        parts.append(f'<text x="{bx:.1f}" y="{by + 5:.1f}" text-anchor="middle" font-size="15" '
                     f'fill="{VAL_COLOR}">★</text>')
    return "".join(parts)


def curves_svg(history: Mapping[str, Sequence[float]], *, final_epoch: int | None = None,
               first_epoch: int = 1, width: int = 720, height: int = 220) -> str:
    """The accuracy and loss curves as a small inline SVG (cheap enough to redraw while training).

    ``final_epoch`` fixes the x axis (the epoch the fit will end at) so it does not jump.

    Example::

        svg = curves_svg({"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}, final_epoch=10)
    """
    import math

    key = accuracy_key(history)
    acc = _series(history, key) if key else []
    val_acc = _series(history, "val_" + key) if key else []
    loss, val_loss = _series(history, "loss"), _series(history, "val_loss")
    n = max(len(loss), len(acc), 1)
    n_epochs = max(n, (final_epoch - first_epoch + 1) if final_epoch else n)
    half = width / 2
    best = None
    finite = [(i, v) for i, v in enumerate(val_loss) if math.isfinite(v)]
    if finite:
        best = min(finite, key=lambda item: item[1])
    body = (_panel_svg(_("Accuracy") if acc else _("Accuracy (not measured)"),
                       [("training", acc, TRAIN_COLOR), ("validation", val_acc, VAL_COLOR)],
                       0, half, height, n_epochs, first_epoch)
            + _panel_svg(_("Loss"), [("training", loss, TRAIN_COLOR), ("validation", val_loss, VAL_COLOR)],
                         half, half, height, n_epochs, first_epoch, best))
    import html

    training, validation = html.escape(_("training")), html.escape(_("validation"))
    legend = (f'<g font-size="11"><rect x="{width - 190}" y="6" width="10" height="3" fill="{TRAIN_COLOR}"/>'
              f'<text x="{width - 176}" y="12">{training}</text>'
              f'<rect x="{width - 120}" y="6" width="10" height="3" fill="{VAL_COLOR}"/>'
              f'<text x="{width - 106}" y="12">{validation}</text></g>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif">{body}{legend}</svg>')
