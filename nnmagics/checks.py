"""One module of argument checks: every user-supplied value is checked here, with one sentence.

Whole numbers (epochs, batch sizes, counts), numbers in a range (fractions, rates, thresholds), a
model, a dataset, and whether a model's input fits a dataset. Pure Python: importing it imports
neither TensorFlow nor Keras. Each check returns the parsed value or raises ``NNUsageError``::

    epochs = whole_number("20", "--epochs")                 # 20
    rate = number_in_range("0.5", "--dropout", low=0, high=1, high_inclusive=False)
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from .errors import NNUsageError
from .i18n import _, num


def with_article(word: str) -> str:
    """'a list', 'an ImageData' in English; 'de type list' in French (the sentence writes "is {a_type}")."""
    if word[:1].lower() in "aeiou":
        return _("an {type}").format(type=word)
    return _("a {type}").format(type=word)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def whole_number(value: Any, what: str, *, minimum: int = 1, maximum: int | None = None,
                 example: str | None = None) -> int:
    """``value`` as an int (``3``, ``"3"``, ``3.0``) of at least ``minimum``, else one sentence.

    Example::

        >>> whole_number("20", "--epochs")
        20
    """
    number: int | None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            number = int(value.strip())
        else:
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError
            number = int(as_float)
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        fields = dict(what=what, value=_shown(value), minimum=minimum, maximum=maximum, example=example)
        if maximum is not None:
            sentence = (_("{what} must be a whole number from {minimum} to {maximum}, not {value}; e.g. {example}.")
                        if example else _("{what} must be a whole number from {minimum} to {maximum}, not {value}."))
        elif minimum == 1:
            sentence = (_("{what} must be a positive whole number, not {value}; e.g. {example}.")
                        if example else _("{what} must be a positive whole number, not {value}."))
        else:
            sentence = (_("{what} must be a whole number of at least {minimum}, not {value}; e.g. {example}.")
                        if example else _("{what} must be a whole number of at least {minimum}, not {value}."))
        raise NNUsageError(sentence.format(**fields))
    return number


def optional_whole_number(value: Any, what: str, **limits: Any) -> int | None:
    """``whole_number`` that lets ``None`` through (an option left out)."""
    return None if value is None else whole_number(value, what, **limits)


def number_in_range(value: Any, what: str, *, low: float = -math.inf, high: float = math.inf,
                    low_inclusive: bool = True, high_inclusive: bool = True, example: str | None = None) -> float:
    """``value`` as a finite float within the bounds, else one sentence naming them.

    Example::

        >>> number_in_range("0.2", "--val-split", low=0, high=1, low_inclusive=False, high_inclusive=False)
        0.2
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    above = number >= low if low_inclusive else number > low
    below = number <= high if high_inclusive else number < high
    if not (math.isfinite(number) and above and below):
        fields = dict(what=what, value=_shown(value), example=example)
        if low == 0 and not low_inclusive and high == math.inf:
            sentence = (_("{what} must be a positive number, not {value}; e.g. {example}.")
                        if example else _("{what} must be a positive number, not {value}."))
        else:
            fields["interval"] = _interval(low, high, low_inclusive, high_inclusive)
            sentence = (_("{what} must be a number in {interval}, not {value}; e.g. {example}.")
                        if example else _("{what} must be a number in {interval}, not {value}."))
        raise NNUsageError(sentence.format(**fields))
    return number


def positive_number(value: Any, what: str, example: str | None = None) -> float:
    """A finite number > 0 (a learning rate, a scale), else one sentence."""
    return number_in_range(value, what, low=0, low_inclusive=False, example=example)


def _fmt(bound: float) -> str:
    return "∞" if bound == math.inf else "-∞" if bound == -math.inf else num(bound, "g")


def _interval(low: float, high: float, low_inclusive: bool, high_inclusive: bool) -> str:
    """``[0, 1)`` in English; French writes ``[0 ; 1[``."""
    if low_inclusive and high_inclusive:
        text = _("[{low}, {high}]")
    elif low_inclusive:
        text = _("[{low}, {high})")
    elif high_inclusive:
        text = _("({low}, {high}]")
    else:
        text = _("({low}, {high})")
    return text.format(low=_fmt(low), high=_fmt(high))


# -- objects from the notebook -------------------------------------------------------------------
def check_model(model: Any, label: str | None = None) -> None:
    """One sentence unless ``model`` is a Keras model (something with layers that can be called)."""
    if not (hasattr(model, "layers") and callable(model) and hasattr(model, "predict_on_batch")):
        name = type(model).__name__
        sentence = (_("{label} is {a_type}, not a Keras model; build one with %nn_build first.") if label else
                    _("The model is {a_type}, not a Keras model; build one with %nn_build first."))
        raise NNUsageError(sentence.format(label=label, a_type=with_article(name), type=name))


def check_data(data: Any, label: str | None = None) -> None:
    """One sentence unless ``data`` is an nnmagics dataset (``%nn_data``: TableData or ImageData)."""
    if not (hasattr(data, "as_tf_dataset") and hasattr(data, "classes") and hasattr(data, "labels")):
        name = type(data).__name__
        sentence = (_("{label} is {a_type}, not a dataset; load one with %nn_data first.") if label else
                    _("The data is {a_type}, not a dataset; load one with %nn_data first."))
        raise NNUsageError(sentence.format(label=label, a_type=with_article(name), type=name))


def model_input_shape(model: Any) -> tuple | None:
    """The shape of one sample the model declares (``None`` dims allowed), or None when unknown.

    Functional and Sequential models declare it (``model.inputs``); a subclassed model built by
    calling it once records it in its build config.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if inputs:
        return tuple(inputs[0].shape)[1:]
    try:
        shape = (model.get_build_config() or {}).get("input_shape")
    except Exception:  # noqa: BLE001 - a model that was never built
        shape = None
    return tuple(shape)[1:] if shape else None


def model_image_size(model: Any) -> tuple[int, int] | None:
    """``(height, width)`` the model expects, when its input shape says so (None otherwise)."""
    shape = model_input_shape(model)
    if shape is not None and len(shape) == 3 and shape[0] is not None and shape[1] is not None:
        return int(shape[0]), int(shape[1])
    return None


def shape_fits(expected: Sequence | None, got: Sequence) -> bool:
    """True when ``got`` matches ``expected`` (an unknown ``expected`` or a ``None`` dim accepts anything).

    Example::

        >>> shape_fits((None, None, 3), (150, 150, 3)), shape_fits((2,), (3,))
        (True, False)
    """
    if expected is None:
        return True
    return len(expected) == len(got) and all(e is None or e == g for e, g in zip(expected, got))


def all_layers(model):
    """Every layer of ``model``, nested models' layers included (depth first), as Keras lists them.

    Example::

        >>> [layer.name for layer in all_layers(transfer_model)]          # doctest: +SKIP
        ['preprocess', 'inception_v3', 'input_layer', 'conv2d', ...]
    """
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers"):
            yield from all_layers(layer)
