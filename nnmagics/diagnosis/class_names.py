"""The class names a diagnosis shows: the data's own, or ``--class-names`` checked against them.

Names that merely rename the classes (``kitty,doggy``) are taken as given, in the data's order.
Names that ARE the data's classes in another order (``dog,cats`` for a folder of ``cats`` and
``dogs``, as the course writes them) would label the cats row "dog": they are refused in one
sentence that gives the right order.
"""
from __future__ import annotations

import difflib
from typing import Any, Sequence

from ..errors import NNUsageError
from ..i18n import _, ngettext



def _key(name: str) -> str:
    """A name as compared: lower case, separators dropped, a plural 's' dropped ('Dogs' → 'dog')."""
    word = "".join(ch for ch in str(name).lower() if ch.isalnum())
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _same(a: str, b: str) -> bool:
    """True when two class names mean the same class: equal keys, or one typo apart in a longer name."""
    ka, kb = _key(a), _key(b)
    if ka == kb:
        return True
    return min(len(ka), len(kb)) >= 4 and difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.85


def _ordinal(i: int) -> str:
    ordinals = (_("first"), _("second"), _("third"), _("fourth"), _("fifth"), _("sixth"), _("seventh"), _("eighth"),
                _("ninth"), _("tenth"))
    return ordinals[i] if i < len(ordinals) else _("at position {n}").format(n=i + 1)


def check_class_order(names: Sequence[str], classes: Sequence[str], given: str) -> None:
    """A UsageError when ``names`` name the data's ``classes`` in a different order.

    Example::

        >>> check_class_order(["cat", "dogs"], ["cats", "dogs"], "cat,dogs")      # the same order: fine
        >>> check_class_order(["dog", "cats"], ["cats", "dogs"], "dog,cats")
        Traceback (most recent call last):
        ...
        nnmagics.errors.NNUsageError: --class-names dog,cats puts 'dog' first but class 0 is 'cats'; give them in the data's order: cats, dogs.
    """
    for i, name in enumerate(names):
        if _same(name, classes[i]):
            continue
        if any(_same(name, other) for j, other in enumerate(classes) if j != i):
            raise NNUsageError(
                _("--class-names {given} puts '{name}' {place} but class {i} is '{cls}'; "
                  "give them in the data's order: {order}.").format(given=given, name=name, place=_ordinal(i), i=i,
                                                                    cls=classes[i], order=", ".join(map(str, classes)))
            )


def parse_class_names(class_names: str | Sequence[str] | None, data: Any) -> list[str]:
    """The class names to show: ``class_names`` ("a,b" or a list) checked against the data, else the data's.

    One name per class, in the data's order (``data.class_names``, class 0 first).

    Example::

        >>> class Data: class_names = ["cats", "dogs"]
        >>> parse_class_names("kitty, doggy", Data())
        ['kitty', 'doggy']
        >>> parse_class_names(None, Data())
        ['cats', 'dogs']
    """
    classes = [str(c) for c in data.class_names]
    if class_names is None:
        return classes
    if isinstance(class_names, str):
        names = [n.strip() for n in class_names.split(",")]
        given = class_names.strip()
    else:
        names = [str(n).strip() for n in class_names]
        given = ",".join(names)
    if len(names) != len(classes) or not all(names):
        raise NNUsageError(
            ngettext("--class-names gives {n} name(s) but the data has {k} classes ({classes}); "
                     "give one name per class, in that order.",
                     "--class-names gives {n} name(s) but the data has {k} classes ({classes}); "
                     "give one name per class, in that order.", len(names)).format(
                n=len(names), k=len(classes), classes=", ".join(classes))
        )
    check_class_order(names, classes, given)
    return names


__all__ = ["parse_class_names", "check_class_order"]
