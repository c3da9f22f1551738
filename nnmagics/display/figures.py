"""Static figures (matplotlib ``Figure`` objects, never pyplot state, so any backend works)."""
from __future__ import annotations


def new_figure(width: float, height: float):
    """A matplotlib Figure not attached to pyplot (safe under Agg, inline and widget backends)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def scatter_plot(data, title: str | None = None):
    """The course's X1/X2 scatter coloured by class, with a legend of class names.

    Example::

        fig = scatter_plot(load_table("artificial_generator.xlsx", sheet="data4"))
    """
    from ..errors import NNUsageError
    from ..i18n import _

    if len(data.features) != 2:
        raise NNUsageError(
            _("--plot draws two features against each other but this table has {n} ({features}); "
              "pick two with --features X1,X2.").format(n=len(data.features), features=", ".join(data.features))
        )
    fig = new_figure(7, 5)
    ax = fig.add_subplot(1, 1, 1)
    x1, x2 = data.features
    for label, name in enumerate(data.class_names):
        mask = data.labels == label
        ax.scatter(data.X[mask, 0], data.X[mask, 1], s=18, label=f"{name} ({label})",
                   edgecolors="white", linewidths=0.4)
    ax.set_xlabel(x1)
    ax.set_ylabel(x2)
    ax.set_title(title or _("{data}: {target} by class").format(data=data.name or "data", target=data.target))
    ax.legend(title=_("{target} (label)").format(target=data.target), loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return fig
