"""How an ``LRFinding`` looks: the loss against the learning rate (log scale), the suggestion marked.

Example::

    show_finding(lr_find(cnn, cats))     # what displaying the finding does
"""
from __future__ import annotations

import html

from ..i18n import _, num


def finding_figure(finding):
    """The range test's curve: each batch's loss (faint), the smoothed loss, the suggestion and the lowest point.

    Example::

        fig = finding_figure(lr_find(model, data4))
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(finding.rates, finding.losses, color="#1f77b4", alpha=0.25, lw=1, label=_("loss of each batch"))
    ax.plot(finding.rates, finding.smoothed, color="#1f77b4", lw=2, label=_("smoothed loss"))
    if finding.lowest is not None:
        ax.axvline(finding.lowest, color="#7f7f7f", ls=":", lw=1.2, label=_("lowest loss ({rate})").format(rate=num(finding.lowest, ".1e")))
    if finding.suggestion is not None:
        ax.axvline(finding.suggestion, color="crimson", ls="--", lw=1.6,
                   label=_("suggested --lr {rate}").format(rate=f"{finding.suggestion:.1e}"))   # an option's value: Python's
    finite = [v for v in finding.smoothed if v == v and abs(v) != float("inf")]
    if finite:
        ax.set_ylim(min(finite) - 0.05 * abs(min(finite)), min(max(finite), 4 * min(finite)) * 1.05 + 1e-9)
    ax.set_xscale("log")
    ax.set_xlabel(_("learning rate (log scale)"))
    ax.set_ylabel(_("training loss"))
    ax.set_title(_("Learning-rate range test: '{model}' on '{data}'").format(model=finding.model_name,
                                                                             data=finding.data_name), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.9)
    return fig


def show_finding(finding) -> None:
    """In a notebook the curve (PNG) and the suggestion (HTML); in a terminal the text."""
    from IPython.display import Image, display

    from .output import figure_png, in_notebook

    if in_notebook():
        display(Image(data=figure_png(finding.figure()), format="png"))
        lines = "".join(f"<div>{html.escape(line)}</div>" for line in finding.text().splitlines())
        display({"text/html": lines, "text/plain": finding.text()}, raw=True)
        return
    display({"text/plain": finding.text()}, raw=True)


def register() -> None:
    """Tell ``nnmagics.registry`` where the finding's displays are (strings: nothing is imported now)."""
    from ..registry import register as add

    add("lr_find.view", "nnmagics.display.range_test:show_finding")
    add("lr_find.figure", "nnmagics.display.range_test:finding_figure")


__all__ = ["finding_figure", "show_finding", "register"]
