"""``--augment``'s parameters, written as the course's ``ImageDataGenerator(...)`` keywords: one parser, one check.

``%nn_data NAME DIR --augment "rotation_range=20, zoom_range=0.1"`` reads its value here; the values
are checked by ``augment_fused.AugmentParams`` (the one validator of augmentation parameters). Pure
Python: importing it imports neither TensorFlow nor Keras.

Example::

    >>> parse_augment("rotation_range=20, horizontal_flip=False").horizontal_flip
    False
"""
from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from .augment_fused import COURSE_PARAMS, AugmentParams
from ..errors import NNUsageError, unknown
from ..i18n import _

_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


def parse_augment(text: Any, option: str = "--augment") -> AugmentParams:
    """``--augment``'s optional value, written as the course's ``ImageDataGenerator(...)`` keywords, checked.

    Empty or ``None``: the course's parameters (``COURSE_PARAMS``). Otherwise ``name=value`` pairs
    separated by commas, as in the generator call (quotes optional around words); each name is an
    ``AugmentParams`` field, a misspelt one answers with the closest, and the values are checked by
    ``AugmentParams`` itself (one sentence naming ``option``).

    Example::

        >>> parse_augment("rotation_range=20, zoom_range=[0.9, 1.1], horizontal_flip=False").rotation_range
        20.0
        >>> parse_augment(None) == COURSE_PARAMS
        True
    """
    import ast

    if text is None or not str(text).strip():
        return COURSE_PARAMS
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        call = None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        raise NNUsageError(_("{option} takes ImageDataGenerator's keywords as name=value pairs, not {value}; "
                             "e.g. {option} \"rotation_range=20, zoom_range=0.1\".").format(
                                 option=option, value=repr(str(text))))
    fields = {f: type(v) for f, v in asdict(COURSE_PARAMS).items()}
    values: dict[str, Any] = {}
    for keyword in call.keywords:
        name = keyword.arg
        if name == "rescale":
            raise NNUsageError(_("rescale is not an augmentation; give it to %nn_data as --rescale 1/255."))
        if name not in fields:
            problem = unknown(_("Unknown augmentation parameter '{word}'."), name, fields)
            raise NNUsageError(_("{option}: {problem}").format(option=option, problem=problem))
        node = keyword.value
        value = node.id if isinstance(node, ast.Name) else _literal(node)
        values[name] = _field_value(name, value, fields[name], option)
    try:
        return AugmentParams(**values)
    except ValueError as exc:
        raise NNUsageError(_("{option}: {problem}").format(option=option, problem=exc)) from None


def _literal(node) -> Any:
    import ast

    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def _field_value(name: str, value: Any, kind: type, option: str) -> Any:
    """One keyword's value converted to its field's type (bool, float, word, zoom pair), else one sentence."""
    if kind is bool:
        word = str(value).strip().lower()
        if isinstance(value, bool) or word in _BOOL_WORDS:
            return value if isinstance(value, bool) else _BOOL_WORDS[word]
        raise NNUsageError(_("{option}: {name} is True or False, not {value}.").format(
            option=option, name=name, value=repr(value)))
    if kind is str:
        return str(value)
    if name == "zoom_range" and isinstance(value, (list, tuple)):
        if len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return tuple(float(v) for v in value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if name == "zoom_range":
        sentence = _("{option}: {name} is a number or a pair [low, high], not {value}.")
    else:
        sentence = _("{option}: {name} is a number, not {value}.")
    raise NNUsageError(sentence.format(option=option, name=name, value=repr(value)))
