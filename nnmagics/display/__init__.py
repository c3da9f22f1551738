"""Outputs: figures, tables and widgets. The core never imports this package: it finds what it
needs through ``nnmagics.registry``, filled by ``register()`` when the extension loads."""
from __future__ import annotations


def register() -> None:
    """Tell the core where its displays are (``"module:attribute"`` strings: nothing is imported now).

    Example::

        register(); nnmagics.registry.lookup("training.reporter")()    # a LivePanel or a TextLog
    """
    from ..registry import register as add
    from .comparison import register as comparison_views
    from .diagnosis_view import register as diagnosis_views
    from .gradcam_view import register as gradcam_views
    from .range_test import register as lr_find_views

    add("training.reporter", "nnmagics.display.live:default_reporter")
    diagnosis_views()
    comparison_views()
    lr_find_views()
    gradcam_views()
