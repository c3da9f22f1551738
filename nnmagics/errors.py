"""User-facing errors: one sentence saying what is wrong and how to fix it."""
from __future__ import annotations

import difflib
import warnings
from typing import Iterable

from IPython.core.error import UsageError

from .i18n import _


class NNUsageError(UsageError):
    """A user mistake (bad argument, missing file, wrong value).

    It subclasses IPython's ``UsageError`` so that a magic shows only the
    sentence, never a traceback; plain Python callers can catch it as well.
    """


def closest(word: str, choices: Iterable[str]) -> str | None:
    """Return the choice closest to ``word`` (for "did you mean …?"), or None."""
    word = str(word).lower()
    choices = [str(c) for c in choices]
    prefixed = [c for c in choices if word and c.lower().startswith(word)]
    if len(prefixed) == 1:
        return prefixed[0]
    matches = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A short suffix like " Did you mean 'relu'?" or " Choose one of: a, b." for an error message."""
    choices = list(choices)
    guess = closest(word, choices)
    if guess is not None:
        return " " + _("Did you mean '{guess}'?").format(guess=guess)
    return " " + _("Choose one of: {choices}.").format(choices=", ".join(str(c) for c in choices))


def unknown(sentence: str, word: str, choices: Iterable[str]) -> NNUsageError:
    """An error for an unknown name: "Unknown activation 'rleu'. Did you mean 'relu'?".

    ``sentence`` is the translated first sentence with a ``{word}`` field::

        raise unknown(_("Unknown activation '{word}'."), "rleu", ACTIVATIONS)
    """
    if "{word}" not in sentence:   # a bare kind ("activation"): English only, kept for old callers
        sentence = f"Unknown {sentence} '{{word}}'."
    return NNUsageError(sentence.format(word=word) + did_you_mean(word, choices))


def warn_line(text: str, category: type[Warning] = UserWarning) -> None:
    """Warn with ``text`` as one line: an explicit location without source text, so a notebook shows
    ``nnmagics:0: Category: text`` and no code line under it.

    Example::

        warn_line("Could not record this run (disk full); training goes on.", RunRecordWarning)
    """
    warnings.warn_explicit(text, category, filename="nnmagics", lineno=0, module="nnmagics")
