"""One shim for the only ipywidgets API that differs between 7 (Colab) and 8: a widget's display data.

ipywidgets 8 gives a widget's display data with ``_repr_mimebundle_()``; ipywidgets 7.7 (Google
Colab's) has no such method and displays itself through ``_ipython_display_``, which sends the same
two entries. nnmagics adds a static twin to that data (a PNG or HTML for viewers without a kernel),
so it needs the data itself: ``widget_bundle`` returns it on both versions, and ``show_widget``
displays it (with ipywidgets 7's "displayed" callbacks), so that one code path serves both stacks.
"""
from __future__ import annotations

from typing import Any

VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def widget_bundle(widget: Any) -> dict:
    """The display data of ``widget``: its view reference (when it has a view) and a text line.

    Example::

        bundle = widget_bundle(ipywidgets.HTML("hi"))
        bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
    """
    repr_bundle = getattr(widget, "_repr_mimebundle_", None)
    if callable(repr_bundle):  # ipywidgets 8
        return dict(repr_bundle() or {})
    # ipywidgets 7: the same data its _ipython_display_ sends
    text = repr(widget)
    data = {"text/plain": text[:110] + "…" if len(text) > 110 else text}
    if getattr(widget, "_view_name", None) is not None:
        data[VIEW_MIME] = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return data


def show_widget(widget: Any, extra: dict | None = None, *, display_id: str | None = None) -> None:
    """Display ``widget`` with ``extra`` mime entries (a static twin) added to its display data.

    Example::

        show_widget(panel_box, {"text/plain": "Training panel"}, display_id="abc")
    """
    from IPython.display import display

    bundle = widget_bundle(widget)
    bundle.update(extra or {})
    if display_id is None:
        display(bundle, raw=True)
    else:
        display(bundle, raw=True, display_id=display_id)
    handle_displayed = getattr(widget, "_handle_displayed", None)
    if callable(handle_displayed):  # ipywidgets 7 runs its on_displayed callbacks here
        handle_displayed()
