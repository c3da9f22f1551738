"""The value checks of the layer table, and the checks on what goes into generated Keras code.

``build.py`` writes plain Keras code and runs it, so every value that reaches that code is checked
here first (pure Python, no TensorFlow import): names are Python identifiers, numbers are numbers,
activations come from a known list. Each argument type of the layer table (``ArgType``: ``COUNT``,
``SIZES``, ``KERNEL``, ``ACTIVATION``, ``RATE``, ``SCALE``, ``SEED``) reads a word of the layer language
*and* a value from Python with the same function below, built on ``nnmagics.checks``; the result is the
canonical value that its ``literal`` (``repr``) writes into the code.

The size maths (each kind's output shape and parameter count, ``LayerKind.shape``) lives here too:
Shapes and sizes (``check_size``: a network whose weights would not fit in memory is refused before Keras
allocates them) are in :mod:`nnmagics.model.layer_sizes`.
"""
from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..checks import number_in_range, whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _

ACTIVATIONS = (
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu", "swish", "silu",
    "softplus", "softsign", "leaky_relu", "relu6", "mish", "exponential", "hard_sigmoid",
    "log_softmax",
)
# a rescale factor as the user may write it: 1/255, 0.5, 2e-3, -1/127.5
_NUMBER = r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
_SCALE = re.compile(rf"-?{_NUMBER}(/{_NUMBER})?")


class BadValue(NNUsageError):
    """A value one layer argument cannot take. ``reason`` is the fragment that callers place in their
    sentence ("Cannot read 'dense x': <reason>; write it as: …"); ``str()`` is a sentence on its own."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason[:1].upper() + reason[1:] + ".")


def _q(value: Any) -> str:
    """A value as shown in a message: its repr, cut at 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


# -- argument types: a word of the language or a Python value -> the canonical value -----------------
def count(value: Any, what: str) -> int:
    """A positive whole number (units, filters, sizes): ``"3"`` or ``3`` → ``3``.

    Example::

        >>> count("16", "the number of filters")
        16
    """
    try:
        return whole_number(value, what)
    except NNUsageError:
        if (isinstance(value, int) and not isinstance(value, bool)) or re.fullmatch(r"[-+]?\d+", str(value)):
            raise BadValue(_("{what} must be positive, not {value}").format(what=what, value=value)) from None
        raise BadValue(_("{what} {value} is not a whole number").format(what=what, value=_q(value))) from None


def seed(value: Any, what: str = "the seed") -> int | None:
    """A random seed: a whole number ≥ 0, or None (a new draw each time).

    Example::

        >>> seed("7"), seed(None)
        (7, None)
    """
    if value is None:
        return None
    try:
        return whole_number(value, what, minimum=0)
    except NNUsageError:
        raise BadValue(_("{what} must be a whole number ≥ 0, not {value}").format(what=what, value=_q(value))) from None


def sizes(value: Any, what: str = "the size") -> tuple[int, ...]:
    """Sizes written ``150x150x3`` (or ``150*150*3``), or a tuple/list of sizes from Python.

    Example::

        >>> sizes("150x150x3"), sizes((2,))
        ((150, 150, 3), (2,))
    """
    if isinstance(value, str):
        if not re.fullmatch(r"-?\d+([x×*]-?\d+)*", value.lower()):
            raise BadValue(_("{value} is not a size like 3, 3x3 or 150x150x3").format(value=_q(value)))
        parts: Sequence[Any] = re.split(r"[x×*]", value.lower())
    elif isinstance(value, (tuple, list)) and value:
        parts = value
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    else:
        raise BadValue(_("{what} must be sizes like (2,) or (150, 150, 3), not {value}").format(
            what=what, value=_q(value)))
    return tuple(count(p, _("size")) for p in parts)


def kernel(value: Any, what: str = "the kernel") -> int | tuple[int, int]:
    """A conv kernel: one size (``3``) or ``HxW`` (``3x5``); a square kernel reads as one size.

    Example::

        >>> kernel("3x3"), kernel("3x5")
        (3, (3, 5))
    """
    found = sizes(value, what)
    if len(found) not in (1, 2):
        raise BadValue(_("{what} must be one size or HxW, not {value}").format(what=what, value=_q(value)))
    return found[0] if len(set(found)) == 1 else found


def activation(value: Any, what: str = "activation") -> str | None:
    """A Keras activation name from ``ACTIVATIONS`` (any case), or None.

    Example::

        >>> activation("ReLU")
        'relu'
    """
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in ACTIVATIONS:
        raise unknown(_("Unknown activation '{word}'."), str(value)[:40], ACTIVATIONS)
    return value.lower()


def dropout_rate(value: Any, what: str = "the rate") -> float:
    """A dropout rate in [0, 1).

    Example::

        >>> dropout_rate("0.5")
        0.5
    """
    try:
        return number_in_range(value, what, low=0, high=1, high_inclusive=False)
    except NNUsageError:
        pass
    try:
        number = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None:
        raise BadValue(_("{what} needs a number in [0, 1), not {value}").format(what=what, value=_q(value))) from None
    raise NNUsageError(_("A dropout rate must be in [0, 1), not {value}; 0.5 drops half the units.").format(value=value))


def scale(value: Any, what: str = "the rescale factor") -> str:
    """A rescale factor as text: a number or a fraction such as ``1/255`` (a Python number is accepted).

    Example::

        >>> scale("1/255"), scale(0.5)
        ('1/255', '0.5')
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        value = repr(float(value))
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _SCALE.fullmatch(text) or not math.isfinite(scale_value(text)):
        raise BadValue(_("{what} must be a number or a fraction like 1/255, not {value}").format(
            what=what, value=_q(value)))
    return text


def scale_value(text: str) -> float:
    """The number a rescale factor's text stands for (``nan`` when it divides by zero).

    Example::

        >>> round(scale_value("-1/127.5"), 6)
        -0.007843
    """
    numerator, _slash, denominator = text.partition("/")
    try:
        return float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return math.nan


def scale_literal(text: str) -> str:
    """A checked rescale factor as code, rebuilt from its numbers (``"1/255"`` → ``1/255``).

    Example::

        >>> scale_literal("1/255"), scale_literal(".5")
        ('1/255', '0.5')
    """
    def number(part: str) -> str:
        return repr(int(part)) if re.fullmatch(r"-?\d+", part) else repr(float(part))
    return "/".join(number(part) for part in scale(text).split("/"))


# -- the argument grammar of the layer table: types (check, show back, write as code) and arguments --
@dataclass(frozen=True)
class ArgType:
    """One type of argument: ``check(value, what)`` reads a word of the language or a Python value into the
    canonical value (a ``spec_checks`` function); ``show`` writes it back as a word; ``literal`` as code.

    Example::

        >>> KERNEL.check("3x5", "the kernel"), KERNEL.show((3, 5)), KERNEL.literal((3, 5))
        ((3, 5), '3x5', '(3, 5)')
    """

    check: Callable[[Any, str], Any]
    show: Callable[[Any], str] = str
    literal: Callable[[Any], str] = repr


def _show_sizes(value) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _show_number(value) -> str:
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


COUNT = ArgType(count)
SIZES = ArgType(sizes, _show_sizes, lambda value: repr(tuple(value)))
KERNEL = ArgType(kernel, _show_sizes)
ACTIVATION = ArgType(activation, literal=lambda name: f'"{name}"')   # a checked name, Keras' double quotes
RATE = ArgType(dropout_rate, _show_number)
SCALE = ArgType(scale, literal=scale_literal)
SEED = ArgType(seed)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Arg:
    """One argument of a layer kind. ``default`` is ``REQUIRED``, or the value when the word is left out
    (``None``: left out of the code too); ``keyword`` is the Keras keyword it maps to (None: positional);
    ``what`` names it in messages; ``rest`` takes all remaining words (``input 150 150 3``).
    Optional arguments come last.

    Example::

        Arg("units", COUNT, what="the number of units")            # dense UNITS
        Arg("activation", ACTIVATION, None, keyword="activation")   # [ACTIVATION] → activation="relu"
    """

    name: str
    type: ArgType
    default: Any = REQUIRED
    keyword: str | None = None
    what: str = ""
    rest: bool = False

    @property
    def label(self) -> str:
        """How messages name the argument, in the language in use (``what`` is marked with ``N_``)."""
        return _(self.what) if self.what else _("the {name}").format(name=self.name)


def check_name(name: Any, what: str = "model") -> str:
    """``name`` when it is a Python identifier (hence also a valid Keras name), else a NNUsageError.

    Example::

        >>> check_name("model_1")
        'model_1'
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        shown = name if isinstance(name, str) and len(name) <= 60 else f"{str(name)[:57]}…"
        raise NNUsageError(_("'{name}' is not a valid {what} name; use letters, digits and underscores, "
                             "starting with a letter (e.g. {what}_1).").format(name=shown, what=what))
    return name
