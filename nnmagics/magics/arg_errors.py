"""argparse's mistakes, as one sentence: an unknown option names the closest one, a missing value says what goes there.

IPython's ``MagicArgumentParser.error`` raises ``UsageError(message)`` with argparse's bare text
("unrecognized arguments: --augmnt", "argument --epochs: expected one argument"). ``parse_args``
(``magics/base.py``) hands that text here; what comes back is one ``NNUsageError`` naming the magic::

    %nn_data cats DIR --augmnt   →  %nn_data has no option --augmnt; did you mean --augment?
    %nn_build m --augment        →  %nn_build has no option --augment; --augment belongs to %nn_data/%nn_train.
    %nn_train m d --epochs       →  %nn_train --epochs needs a value: number of epochs (default 10).

Other argparse messages keep their words, prefixed with the magic's name.
"""
from __future__ import annotations

import difflib
import importlib
import re
from typing import Iterable, Sequence

from ..errors import NNUsageError
from ..i18n import _

_UNRECOGNIZED = re.compile(r"unrecognized arguments: (?P<rest>.*)", re.S)
_ARGUMENT = re.compile(r"argument (?P<option>[^:]+): (?P<what>.*)", re.S)


def option_strings(parser) -> list[str]:
    """Every ``--option`` a ``magic_arguments`` parser takes, in their order.

    Example::

        >>> option_strings(shell.find_line_magic("nn_gpu").parser)   # doctest: +SKIP
        []
    """
    return [s for action in parser._actions for s in action.option_strings]


def magics_with(option: str, skip: str = "") -> list[str]:
    """``%name`` of every nnmagics magic that takes ``option`` (but ``skip``), sorted.

    Example::

        >>> magics_with("--augment")                              # doctest: +SKIP
        ['%nn_data', '%nn_train']
    """
    from . import _FAMILIES

    found = set()
    for module_name, class_name in _FAMILIES:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):   # a family not written yet, or one being rewritten
            continue
        for name, member in vars(cls).items():
            parser = getattr(member, "parser", None)
            if parser is not None and option in option_strings(parser) and f"%{name}" != skip:
                found.add(f"%{name}")
    return sorted(found)


def closest_option(option: str, options: Sequence[str]) -> str | None:
    """The option of ``options`` closest to ``option`` (``difflib``, dashes aside), or None when none is close.

    Example::

        >>> closest_option("--augmnt", ["--seed", "--augment"])
        '--augment'
        >>> closest_option("--bogus", ["--groups"]) is None
        True
    """
    bare = {o.lstrip("-").lower(): o for o in options if o.startswith("--")}
    match = difflib.get_close_matches(option.lstrip("-").lower(), list(bare), n=1, cutoff=0.75)
    return bare[match[0]] if match else None


def usage_sentence(magic_name: str, parser, message: str, argv: Sequence[str] = ()) -> NNUsageError:
    """argparse's ``message`` for ``%magic_name`` as one sentence (see the module's examples); ``argv``:
    the words typed (to tell an abbreviation argparse expanded, e.g. ``--augment`` read as ``--augment-preview``).

    Example::

        >>> usage_sentence("nn_data", parser, "unrecognized arguments: --augmnt")   # doctest: +SKIP
        NNUsageError('%nn_data has no option --augmnt; did you mean --augment?')
    """
    magic = f"%{magic_name}"
    options = option_strings(parser)
    unknown = _UNRECOGNIZED.fullmatch(message.strip())
    if unknown:
        return _unknown_words(magic, options, unknown.group("rest").split())
    argument = _ARGUMENT.fullmatch(message.strip())
    if argument:
        option = argument.group("option").split("/")[0].strip()
        what = argument.group("what").strip()
        typed = next((w for w in argv if w.startswith("--") and w != option and option.startswith(w.split("=")[0])),
                     None)
        elsewhere = magics_with(typed.split("=")[0], skip=magic) if typed else []
        if elsewhere:   # e.g. --augment on %nn_diagnose, which argparse reads as --augment-preview
            typed = typed.split("=")[0]
            return NNUsageError(_("{magic} has no option {typed}; {typed} belongs to {magics} "
                                  "(here it reads as {option}).").format(
                magic=magic, typed=typed, magics="/".join(elsewhere), option=option))
        if what.startswith("expected one argument") or what.startswith("expected at least one"):
            help_text = _help_of(parser, option)
            if help_text:
                return NNUsageError(_("{magic} {option} needs a value: {help}.").format(
                    magic=magic, option=option, help=help_text))
            return NNUsageError(_("{magic} {option} needs a value; see {magic}? for what it takes.").format(
                magic=magic, option=option))
        number = re.fullmatch(r"invalid (int|float) value: (.*)", what)
        if number:
            if number.group(1) == "int":
                return NNUsageError(_("{magic} {option} needs a whole number, not {value}.").format(
                    magic=magic, option=option, value=number.group(2)))
            return NNUsageError(_("{magic} {option} needs a number, not {value}.").format(
                magic=magic, option=option, value=number.group(2)))
        # argparse's own words (choices, conflicts) after the option
        return NNUsageError(_("{magic} {option}: {what}.").format(magic=magic, option=option, what=what.rstrip(".")))
    return NNUsageError(_("{magic}: {message}; see {magic}? for its options.").format(
        magic=magic, message=message.strip().rstrip(".")))


def _unknown_words(magic: str, options: list[str], words: Iterable[str]) -> NNUsageError:
    words = list(words)
    option = next((w.split("=", 1)[0] for w in words if w.startswith("-")), None)
    if option is None:
        extra = " ".join(repr(w) for w in words)
        return NNUsageError(_("{magic} got more arguments than it takes ({extra}); see {magic}? for what it "
                              "takes.").format(magic=magic, extra=extra))
    elsewhere = "/".join(magics_with(option, skip=magic))
    guess = closest_option(option, options)
    fields = dict(magic=magic, option=option, guess=guess, magics=elsewhere)
    if guess is not None and guess != option:
        if elsewhere:
            return NNUsageError(_("{magic} has no option {option}; did you mean {guess}? "
                                  "({option} belongs to {magics})").format(**fields))
        return NNUsageError(_("{magic} has no option {option}; did you mean {guess}?").format(**fields))
    if elsewhere:
        return NNUsageError(_("{magic} has no option {option}; {option} belongs to {magics}.").format(**fields))
    return NNUsageError(_("{magic} has no option {option}; see {magic}? for its options.").format(**fields))


def _help_of(parser, option: str) -> str:
    """The help text of ``option`` (IPython's ``%%`` escapes undone), or ''."""
    for action in parser._actions:
        if option in action.option_strings and action.help:
            return str(action.help).replace("%%", "%").rstrip(".")
    return ""
