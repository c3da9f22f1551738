"""``nnmagics.LivePanel``: the live panel where widgets render, the text log elsewhere (as ``tqdm.auto``).

Both are Keras callbacks and reporters::

    model.fit(x, y, validation_data=(xv, yv), epochs=20, callbacks=[nnmagics.LivePanel()])
    nnmagics.train(model, data4, epochs=20, reporter=nnmagics.LivePanel())

``default_reporter`` is what ``%nn_train`` and ``nnmagics.train`` show when not told otherwise
(registered as ``"training.reporter"`` by ``nnmagics.display.register``).
"""
from __future__ import annotations

from .panel import TrainingPanel
from .text_log import TextLog


def widgets_render() -> bool:
    """True in a notebook kernel that has ipywidgets (where the panel can show)."""
    from .output import in_notebook

    if not in_notebook():
        return False
    try:
        import ipywidgets  # noqa: F401 - only probing
    except ImportError:
        return False
    return True


class LivePanel(TrainingPanel):
    """The live training panel, usable as a Keras callback or a reporter; where widgets cannot render
    (a terminal, plain IPython, no ipywidgets) you get a ``TextLog`` instead.

    ``display=False`` keeps the panel off screen (tests, benchmarks: the widgets still update).

    Example::

        panel = nnmagics.LivePanel()
        model.fit(x, y, validation_data=(xv, yv), epochs=10, callbacks=[panel])
        panel.history.history["val_loss"], panel.status
    """

    def __new__(cls, *args, display: bool = True, **kwargs):
        if display and not widgets_render():
            return TextLog()
        return super().__new__(cls)


def default_reporter(live: bool | None = None):
    """The live panel in a notebook kernel with ipywidgets, else the text log.

    ``live=None`` follows ``%config NNMagics.live``; False forces the text log (``--no-live``).

    Example::

        train(model, data4, reporter=default_reporter(live=False))
    """
    from ..config import settings

    if live is None:
        live = settings().live
    return LivePanel() if live else TextLog()
