"""Keep TensorFlow's C++ start-up chatter out of notebooks.

On a machine without CUDA, ``import tensorflow`` writes "Could not find cuda drivers…" lines straight to
file descriptor 2, before any log-level setting applies, and a notebook shows them as red text in the
first cell that builds a model. ``install()`` (called by ``%load_ext nnmagics``) silences fd 2 during the
first import of TensorFlow only; Python errors are still raised as usual.

TensorFlow's Python warning "N out of the last M calls to <function …> triggered tf.function retracing"
is dropped too: every ``%nn_train`` of a new model (or ``%nn_lr_find``, a comparison's runs) traces its own
training step, by design, so after a few fits in one notebook TensorFlow warns in red about a loop that
is not there, and nothing in the notebook can be changed to answer it.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import sys
from contextlib import contextmanager

_NAMES = ("tensorflow",)


@contextmanager
def silenced_fd2():
    """Point file descriptor 2 at /dev/null for the duration of the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no fd 2 (some embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _AlreadyLoaded(importlib.abc.Loader):
    def create_module(self, spec):
        return sys.modules[spec.name]

    def exec_module(self, module):
        return None


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Imports TensorFlow itself, quietly, the first time anything asks for it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _NAMES or fullname in sys.modules:
            return None
        uninstall()
        with silenced_fd2():
            module = importlib.import_module(fullname)
        return importlib.util.spec_from_loader(fullname, _AlreadyLoaded(), origin=getattr(module, "__file__", None))


_finder = _QuietFinder()


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's retracing warning (see the module); every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_RETRACING = _NoRetracingWarning()


def install() -> None:
    """Silence the first ``import tensorflow`` (no-op once TensorFlow is loaded) and TensorFlow's retracing
    warning (a filter on the ``tensorflow`` logger, which exists before TensorFlow does)."""
    if os.environ.get("NNMAGICS_TF_LOG") == "1":
        return
    logger = logging.getLogger("tensorflow")
    if _RETRACING not in logger.filters:
        logger.addFilter(_RETRACING)
    if "tensorflow" in sys.modules:
        return
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the import hook."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
