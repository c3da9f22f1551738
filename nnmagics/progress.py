"""Progress on every long job (the VGG16 feature pass, predictions on a folder, diagnosis passes).

``tqdm.auto``: a widget in a notebook, a text bar in a terminal. ``DELAY`` (tqdm's ``delay``): a job
that ends within two seconds shows nothing at all, so small cases (and tests) stay quiet while the
3,000-image passes say how far they are. Training has its own panel; this is for everything else.

Example::

    with progress_bar(len(files), "VGG16 predictions", "image") as bar:
        for batch in batches:
            ...
            bar.update(len(batch))
"""
from __future__ import annotations

from typing import Any

from .i18n import _

DELAY = 2.0

_CALLBACK = None


def progress_bar(total: int | None, desc: str, unit: str = "batch") -> Any:
    """A ``tqdm.auto`` bar of ``total`` steps, shown only once the job has run ``DELAY`` seconds."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=_unit(unit), delay=DELAY, leave=False, dynamic_ncols=True)


def _unit(unit: str) -> str:
    """The bar's unit in the language in use (tqdm shows ``12.3image/s``); another unit as given."""
    units = {"batch": _("batch"), "image": _("image"), "layer": _("layer")}
    return units.get(unit, unit)


def batches_of(data: Any) -> int | None:
    """How many batches ``data.as_tf_dataset()`` gives (None when the data does not say).

    Example::

        >>> class D:  batch_size = 20; __len__ = lambda self: 41
        >>> batches_of(D())
        3
    """
    try:
        n, size = len(data), int(data.batch_size)
    except (TypeError, ValueError, AttributeError):
        return None
    return -(-n // size) if size > 0 else None


def batch_callback(bar: Any) -> Any:
    """A Keras callback that advances ``bar`` by one after each ``predict``/``evaluate`` batch.

    Example::

        with progress_bar(steps, "VGG16 features") as bar:
            base.predict(ds, verbose=0, callbacks=[batch_callback(bar)])
    """
    global _CALLBACK
    if _CALLBACK is None:
        import keras

        class BatchProgress(keras.callbacks.Callback):
            def __init__(self, bar):
                super().__init__()
                self.bar = bar

            def on_predict_batch_end(self, batch, logs=None):
                self.bar.update(1)

            def on_test_batch_end(self, batch, logs=None):
                self.bar.update(1)

        _CALLBACK = BatchProgress
    return _CALLBACK(bar)


__all__ = ["DELAY", "batch_callback", "batches_of", "progress_bar"]
