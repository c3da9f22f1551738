"""Taps: see (or replace) what one layer computes while the whole model runs, at any depth of nesting.

Every Keras layer runs through ``Layer.__call__`` → ``self.call``, whatever API built the model
(Sequential, Functional, subclass, a nested base inside a transfer model). A tap replaces
``layer.call`` by an instance attribute that hands the layer's output to a hook during one
ordinary forward pass ``model(x, training=False)``; the hook returns the value the rest of the
model gets (the same output to watch it, another tensor to take a gradient with respect to it).
No graph is cut, so there is no "Graph disconnected", and an unbuilt Sequential model is built
by the very call. Feature maps (``maps``) and Grad-CAM (``cam``, ``gradients``) both tap.

Limitation: a layer called several times in one pass (a shared layer) is tapped at its first call.
"""
from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterable, Iterator


class Tap:
    """Replace ``layer.call`` (instance attribute) by a wrapper that passes the first output through ``hook``.

    ``hook(outputs)`` returns what the following layers get; later calls of the layer (a shared
    layer) run untouched. The layer's own ``call`` comes back on exit.

    Example::

        >>> seen = []
        >>> with Tap(model.get_layer("conv2d"), lambda out: seen.append(out) or out):   # doctest: +SKIP
        ...     model(x, training=False)
    """

    def __init__(self, layer, hook: Callable[[Any], Any]):
        self.layer, self.hook = layer, hook
        self.attr = "quantized_call" if getattr(layer, "quantization_mode", None) is not None else "call"
        self.previous = layer.__dict__.get(self.attr, None)
        self.fired = False

    def __enter__(self) -> "Tap":
        original = getattr(self.layer, self.attr)

        def tapped(*args, **kwargs):
            outputs = original(*args, **kwargs)
            if not self.fired:
                self.fired = True
                outputs = self.hook(outputs)
            return outputs

        object.__setattr__(self.layer, self.attr, tapped)
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is None:
            object.__delattr__(self.layer, self.attr)
        else:
            object.__setattr__(self.layer, self.attr, self.previous)


@contextmanager
def tapping(pairs: Iterable[tuple[Any, Callable[[Any], Any]]]) -> Iterator[list[Tap]]:
    """Tap every ``(layer, hook)`` of ``pairs`` for the duration of the ``with`` block (all removed after).

    Example::

        >>> with tapping([(layer, hook) for layer in model.layers]):    # doctest: +SKIP
        ...     model(x, training=False)
    """
    with ExitStack() as stack:
        yield [stack.enter_context(Tap(layer, hook)) for layer, hook in pairs]


__all__ = ["Tap", "tapping"]
