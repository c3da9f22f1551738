"""Shared plumbing of the magic classes: namespace access, settings, display."""
from __future__ import annotations

import shlex
from typing import Any

from IPython.core.magic import Magics

from ..config import settings
from ..errors import NNUsageError


class NNMagicsBase(Magics):
    """Base of every nnmagics ``Magics`` class (one class per magic family, one module each)."""

    @property
    def settings(self):
        """The ``%config NNMagics`` settings."""
        return settings()

    # -- the user namespace -------------------------------------------------------------
    def get_object(self, name: str, what: str = "object") -> Any:
        """Return ``name`` from the user namespace or raise a UsageError naming it."""
        ns = self.shell.user_ns
        if name not in ns:
            raise NNUsageError(
                f"There is no {what} named '{name}' in the notebook; create it first (e.g. with %nn_data or %nn_build)."
            )
        return ns[name]

    def put_object(self, name: str, value: Any) -> None:
        """Store ``value`` under ``name`` in the user namespace."""
        if not name.isidentifier():
            raise NNUsageError(f"'{name}' is not a valid Python name; use letters, digits and underscores.")
        self.shell.user_ns[name] = value



def split_line(line: str) -> list[str]:
    """Split a magic line like a shell would (quotes removed), with a UsageError on unbalanced quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise NNUsageError(f"Could not read the arguments ({exc}); check the quotes.") from None


def parse_args(magic, line: str):
    """Parse ``line`` with the ``magic_arguments`` parser of ``magic`` (quotes removed, UsageError on mistakes).

    IPython's own ``parse_argstring`` keeps the quotes of ``--layers "dense 3, dense 1"``.
    """
    return magic.parser.parse_args(split_line(line))
