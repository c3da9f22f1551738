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

_ENTRIES: dict[str, Any] = {}


def register(kind: str, target: str | Callable) -> None:
    """Register ``target`` (a callable, or ``"module:attribute"`` imported when first looked up) for ``kind``."""
    _ENTRIES[kind] = target


def lookup(kind: str) -> Callable | None:
    """The callable registered for ``kind`` (imported on first use), or None."""
    target = _ENTRIES.get(kind)
    if isinstance(target, str):
        module, _, attribute = target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
        _ENTRIES[kind] = target
    return target


# what the core says when a display it needs is not registered
NO_DISPLAYS = ("figures are drawn by nnmagics' display layer, which registers itself with %load_ext nnmagics "
               "(in plain Python: nnmagics.register_displays())")


def unregister(kind: str) -> None:
    """Forget ``kind`` (tests)."""
    _ENTRIES.pop(kind, None)
