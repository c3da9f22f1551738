"""Shared plumbing of the magic classes: namespace access, settings, display, one-sentence errors."""
from __future__ import annotations

import functools
import inspect
import shlex
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics

from ..config import settings
from ..errors import NNUsageError
from ..i18n import _, language, on_language_change


def one_sentence(magic: Callable) -> Callable:
    """Wrap a magic so that a user mistake shows only its sentence, as IPython does for ``UsageError``.

    IPython hides the traceback only for an error whose type is exactly ``UsageError``; nnmagics raises
    ``NNUsageError`` (a subclass, so that Python callers can catch it), which would show the whole
    traceback. The wrapper re-raises it as a plain ``UsageError`` without its chain; any other error
    keeps its traceback (it is a bug). ``%name?`` still shows the magic's own help::

        wrapped = one_sentence(shell.find_line_magic("nn_data"))
        wrapped("")   # UsageError: Give a name and a source, e.g. %nn_data data4 ...
    """
    @functools.wraps(magic)
    def run_magic(*args, **kwargs):
        try:
            return magic(*args, **kwargs)
        except NNUsageError as exc:
            raise UsageError(str(exc)) from None

    return run_magic


def translate_help(wrapper: Callable) -> None:
    """Rewrite a magic's ``%name?`` help (its description and every option's help) in the language in use.

    ``magic_arguments`` writes the help once, in English, when the module is imported; the English texts
    are kept on the parser so that switching back and forth is exact::

        translate_help(shell.find_line_magic("nn_train"))
    """
    function = getattr(getattr(wrapper, "__wrapped__", wrapper), "__func__", wrapper)
    parser = getattr(function, "parser", None)
    if parser is None:
        return
    if not hasattr(parser, "_nn_english"):
        parser._nn_english = {"description": inspect.cleandoc(parser.description or ""),
                              "helps": [action.help for action in parser._actions]}
    english = parser._nn_english
    parser.description = _(english["description"]) if english["description"] else ""
    for action, text in zip(parser._actions, english["helps"]):
        if text and text != "==SUPPRESS==":
            action.help = _(text)
    parser._positionals.title = _("positional arguments")
    parser._optionals.title = _("options")
    function.__doc__ = wrapper.__doc__ = parser.format_help()


class NNMagicsBase(Magics):
    """Base of every nnmagics ``Magics`` class (one class per magic family, one module each).

    Every magic a subclass defines is registered wrapped in ``one_sentence``.
    """

    def __init__(self, shell=None, **kwargs):
        super().__init__(shell=shell, **kwargs)
        for table in self.magics.values():   # {'line': {name: bound method}, 'cell': {...}}: what IPython registers
            for name, method in table.items():
                table[name] = one_sentence(method)
        self._translate_help(language())
        on_language_change(self._translate_help)

    def _translate_help(self, _language: str) -> None:
        for table in self.magics.values():
            for wrapper in table.values():
                translate_help(wrapper)

    @property
    def settings(self):
        """The ``%config NNMagics`` settings."""
        return settings()

    # -- the user namespace -------------------------------------------------------------
    def get_object(self, name: str, what: str = "object") -> Any:
        """Return ``name`` from the user namespace or raise a UsageError naming it."""
        ns = self.shell.user_ns
        if name not in ns:
            if what == "model":
                sentence = _("There is no model named '{name}' in the notebook; create it first (e.g. with %nn_data "
                             "or %nn_build).")
            elif what == "dataset":
                sentence = _("There is no dataset named '{name}' in the notebook; create it first (e.g. with "
                             "%nn_data or %nn_build).")
            elif what == "object":
                sentence = _("There is no object named '{name}' in the notebook; create it first (e.g. with "
                             "%nn_data or %nn_build).")
            else:
                sentence = _("There is no {what} named '{name}' in the notebook; create it first (e.g. with "
                             "%nn_data or %nn_build).")
            raise NNUsageError(sentence.format(what=what, name=name))
        return ns[name]

    def get_model(self, name: str) -> Any:
        """Return the Keras model ``name`` from the namespace, or one sentence saying what is there instead."""
        from ..checks import check_model

        model = self.get_object(name, "model")
        check_model(model, f"'{name}'")
        return model

    def put_object(self, name: str, value: Any) -> None:
        """Store ``value`` under ``name`` in the user namespace."""
        if not name.isidentifier():
            raise NNUsageError(_("'{name}' is not a valid Python name; use letters, digits and underscores.").format(
                name=name))
        self.shell.user_ns[name] = value



def split_line(line: str) -> list[str]:
    """Split a magic line like a shell would (quotes removed), with a UsageError on unbalanced quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise NNUsageError(_("Could not read the arguments ({error}); check the quotes.").format(error=exc)) from None


def parse_args(magic, line: str):
    """Parse ``line`` with the ``magic_arguments`` parser of ``magic`` (quotes removed, UsageError on mistakes).

    IPython's own ``parse_argstring`` keeps the quotes of ``--layers "dense 3, dense 1"``. argparse's
    mistakes become one sentence (``arg_errors``): an unknown option names the closest valid one (or the
    magic it belongs to), a missing value says what goes there.

    Example::

        args = parse_args(self.nn_data, "cats DIR --augmnt")
        # NNUsageError: %nn_data has no option --augmnt; did you mean --augment?
    """
    words = split_line(line)
    try:
        return magic.parser.parse_args(words)
    except NNUsageError:
        raise
    except UsageError as exc:   # MagicArgumentParser.error: argparse's bare message
        from .arg_errors import usage_sentence

        raise usage_sentence(getattr(magic, "__name__", "magic"), magic.parser, str(exc), words) from None
