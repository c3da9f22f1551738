"""How a ``Comparison`` looks: every run's curves on shared axes, its verdict and best epoch, a table.

One matplotlib ``Figure`` (never pyplot state): accuracy and loss side by side, one colour per run,
training dashed and validation solid, a star at each run's best epoch; the legend names each run
with its verdict. A notebook gets the picture and the table (HTML), a terminal the text.

Example::

    show_comparison(compare(cnn, cnn_aug, "tl"))     # what displaying the comparison does
"""
from __future__ import annotations

import base64
import html

from ..i18n import _
from .output import figure_png, frame_html


def comparison_figure(comparison):
    """The overlay of ``comparison``'s runs (a matplotlib Figure).

    Example::

        fig = comparison_figure(compare(cnn, cnn_aug))
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from ..diagnosis.curves import accuracy_key
    from ..diagnosis.summary import verdict_label

    fig = Figure(figsize=(12.5, 4.6))
    ax_acc, ax_loss = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    colors = [f"C{i % 10}" for i in range(len(comparison.entries))]
    for entry, color in zip(comparison.entries, colors):
        h = entry.history
        key = accuracy_key(h)
        best = entry.best_epoch
        kind = verdict_label(entry.verdict.kind)
        label = (_("{run}: {verdict}, best epoch {epoch}").format(run=entry.name, verdict=kind, epoch=best) if best
                 else f"{entry.name}: {kind}")
        for ax, train_key in ((ax_acc, key), (ax_loss, "loss")):
            if train_key is None or not h.get(train_key):
                continue
            epochs = range(1, len(h[train_key]) + 1)
            ax.plot(epochs, h[train_key], "--", color=color, lw=1.2, alpha=0.55)
            val = h.get(f"val_{train_key}")
            if val:
                ax.plot(range(1, len(val) + 1), val, "-", color=color, lw=2, label=label)
            if best and ax is ax_loss and best <= len(val or h[train_key]):
                series = val or h[train_key]
                ax.plot([best], [series[best - 1]], "*", color=color, ms=14, zorder=5, markeredgecolor="white")
    for ax, title in ((ax_acc, _("Accuracy: dashed training, solid validation")),
                      (ax_loss, _("Loss: dashed training, solid validation"))):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(_("epoch"))
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.legend(fontsize=8, loc="upper right")     # one legend: each run, its verdict and best epoch
    if not ax_acc.lines:
        ax_acc.set_title(_("Accuracy (not measured)"), fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.18)
    return fig


def _table_html(comparison) -> str:
    """The table and each run's verdict (names and sentences escaped)."""
    verdicts = "".join(f"<li><b>{html.escape(e.name)}</b>: {html.escape(e.verdict.text)}</li>"
                       for e in comparison.entries)
    n = len(comparison.entries)
    caption = _("{n} runs (best epoch: lowest validation loss)").format(n=n)   # two runs at least
    return frame_html(comparison.table, caption=caption) + f"<ul style='margin-top:4px'>{verdicts}</ul>"


def comparison_html(comparison) -> str:
    """The picture (an inline PNG), the table and each run's verdict, as HTML."""
    png = base64.b64encode(figure_png(comparison.figure())).decode()
    return f"<img src='data:image/png;base64,{png}'/>" + _table_html(comparison)


def show_comparison(comparison) -> None:
    """In a notebook the picture (PNG) and the table (HTML); in a terminal the text."""
    from IPython.display import Image, display

    from .output import in_notebook

    if in_notebook():
        display(Image(data=figure_png(comparison.figure()), format="png"))
        display({"text/html": _table_html(comparison), "text/plain": comparison.text()}, raw=True)
        return
    display({"text/plain": comparison.text()}, raw=True)


def register() -> None:
    """Tell ``nnmagics.registry`` where the comparison's displays are (strings: nothing is imported now)."""
    from ..registry import register as add

    add("compare.view", "nnmagics.display.comparison:show_comparison")
    add("compare.html", "nnmagics.display.comparison:comparison_html")
    add("compare.figure", "nnmagics.display.comparison:comparison_figure")


__all__ = ["comparison_figure", "comparison_html", "show_comparison", "register"]
