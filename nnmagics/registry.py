"""Where the core finds its displays, without importing them (the display layer sits on top).

The core (training, diagnosis) never imports the display layer: it asks this registry for
"the default training reporter" or "the view of a diagnosis report". The display layer
registers its factories when the extension loads (``display.register()``, called by
``%load_ext nnmagics``; cheap: entries are ``"module:attribute"`` strings imported on first use).
Outside IPython nothing is registered and the core falls back to plain text.

Example::

    register("training.reporter", "mypackage.reporters:default_reporter")
    factory = lookup("training.reporter")        # the function, imported now; None if unregistered
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .i18n import N_, _

_ENTRIES: dict[str, Any] = {}


def register(kind: str, target: str | Callable) -> None:
    """Register ``target`` (a callable, or ``"module:attribute"`` imported when first looked up) for ``kind``."""
    _ENTRIES[kind] = target


def lookup(kind: str) -> Callable | None:
    """The callable registered for ``kind`` (imported on first use), or None."""
    target = _ENTRIES.get(kind)
    if isinstance(target, str):
        module, _sep, attribute = target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
        _ENTRIES[kind] = target
    return target


# what the core says when a display it needs is not registered (English; ``no_displays()`` translated)
NO_DISPLAYS = N_("figures are drawn by nnmagics' display layer, which registers itself with %load_ext nnmagics "
               "(in plain Python: nnmagics.register_displays())")


def no_displays() -> str:
    """``NO_DISPLAYS`` in the language in use (a clause, to end a sentence of its own: "…: {why}.")."""
    return _("figures are drawn by nnmagics' display layer, which registers itself with %load_ext nnmagics "
             "(in plain Python: nnmagics.register_displays())")


class Displayed:
    """What a core object needs to be shown by the display layer, found here by ``display_kind``:
    ``"<kind>.view"`` (IPython display), ``"<kind>.html"``, ``"<kind>.figure"`` (drawn once, kept in
    ``self.views``); without them, the object shows its ``text()``.

    Example::

        class Finding(Displayed):
            display_kind = "lr_find"
            def __init__(self): self.views = {}
            def text(self): return "…"
    """

    display_kind = ""
    views: dict

    def text(self) -> str:  # pragma: no cover - every subclass writes its own
        raise NotImplementedError

    def _figure(self, *parts: Any):
        """The figure the display layer draws for ``parts`` (once; kept in ``self.views``)."""
        draw = lookup(f"{self.display_kind}.figure")
        if draw is None:
            from .errors import NNUsageError

            raise NNUsageError(_("No figure to draw: figures are drawn by nnmagics' display layer, which registers "
                                 "itself with %load_ext nnmagics (in plain Python: nnmagics.register_displays())."))
        key = ":".join(["figure", *map(str, parts)])
        if key not in self.views:
            self.views[key] = draw(self, *parts)
        return self.views[key]

    def _repr_html_(self) -> str:
        import html

        to_html = lookup(f"{self.display_kind}.html")
        return to_html(self) if to_html is not None else f"<pre>{html.escape(self.text())}</pre>"

    def _ipython_display_(self) -> None:
        show = lookup(f"{self.display_kind}.view")
        if show is not None:
            show(self)
            return
        from IPython.display import display

        display({"text/plain": self.text()}, raw=True)

    def __repr__(self) -> str:
        return self.text()


def unregister(kind: str) -> None:
    """Forget ``kind`` (tests)."""
    _ENTRIES.pop(kind, None)
