"""Show a model: the summary table with parameter counts explained, its weights, its code."""
from __future__ import annotations

import html

from ..i18n import _, num


def show_summary(model) -> None:
    """Display the summary as a table (HTML in notebooks, aligned text in a terminal)."""
    from ..model.inspect import shown_columns, summary_table, summary_text
    from .output import frame_html, show_html

    table = summary_table(model)
    a = table.attrs
    totals = _("Total params: <b>{total}</b> &nbsp; Trainable: {trainable} &nbsp; Non-trainable: {frozen}").format(
        total=num(a['total'], ","), trainable=num(a['trainable'], ","), frozen=num(a['non_trainable'], ","))
    body = frame_html(shown_columns(table.drop(columns=["trainable"]).set_index("layer")),
                      caption=_("Model '{name}' ({type})").format(name=a['name'], type=type(model).__name__))
    show_html(body + f"<div>{totals}</div>", summary_text(model))


def show_weights(model) -> None:
    """Display ``get_weights()`` as one labelled table per kernel and bias."""
    from ..model.inspect import weights_tables
    from .output import show_frame

    tables = weights_tables(model)
    if not tables:
        print(_("Model '{name}' has no weights yet.").format(name=model.name))
    for title, frame in tables:
        if frame.size > 400:
            title += " — " + _("first rows of {n}").format(n=frame.shape[0])
            frame = frame.iloc[:8, :16]
        show_frame(frame, caption=title)


def show_code(code: str) -> None:
    """Display Python code (highlighted in notebooks, plain in a terminal)."""
    from .output import show_html

    show_html(f"<pre style='font-size:12px'>{html.escape(code)}</pre>", code)
