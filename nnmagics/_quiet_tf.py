"""Keep TensorFlow's C++ start-up chatter out of notebooks.

On a machine without CUDA, ``import tensorflow`` writes "Could not find cuda drivers…" lines straight to
file descriptor 2, before any log-level setting applies, and a notebook shows them as red text in the
first cell that builds a model. ``install()`` (called by ``%load_ext nnmagics``) silences fd 2 while
TensorFlow's own ``__init__`` runs, the first time something really imports it; Python errors are still
raised as usual.

TensorFlow's Python warning "N out of the last M calls to <function …> triggered tf.function retracing"
is dropped too: every ``%nn_train`` of a new model (or ``%nn_lr_find``, a comparison's runs) traces its own
training step, by design, so after a few fits in one notebook TensorFlow warns in red about a loop that
is not there, and nothing in the notebook can be changed to answer it.

The hook never imports anything itself: asking whether TensorFlow exists (``importlib.util.find_spec``,
as torch and Keras do) gets TensorFlow's ordinary spec, and where TensorFlow is not installed the hook
answers nothing at all (``install()`` does not even add it), so ``import keras`` behaves as without
nnmagics. Example::

    from nnmagics import _quiet_tf
    _quiet_tf.install()
    import tensorflow   # no CUDA lines on fd 2
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
from contextlib import contextmanager

_NAMES = ("tensorflow",)


@contextmanager
def silenced_fd2():
    """Point file descriptor 2 at /dev/null for the duration of the block.

    Example::

        with silenced_fd2():
            import tensorflow
    """
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


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with fd 2 silenced; everything else is the real loader's."""

    def __init__(self, real):
        self._real = real

    def create_module(self, spec):
        return self._real.create_module(spec)

    def exec_module(self, module):
        uninstall()
        spec = module.__spec__
        spec.loader = module.__loader__ = self._real   # the module keeps TensorFlow's loader
        with silenced_fd2():
            self._real.exec_module(module)

    def __getattr__(self, name):   # get_resource_reader, is_package…: the real loader's
        return getattr(self._real, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds TensorFlow as Python would and wraps its loader; imports nothing itself."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _NAMES or fullname in sys.modules:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:   # not installed (or a namespace package): Python's own answer
            return None
        spec.loader = _QuietLoader(spec.loader)
        return spec


_finder = _QuietFinder()


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's retracing warning (see the module); every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


_RETRACING = _NoRetracingWarning()


def install() -> None:
    """Silence the first ``import tensorflow`` (no-op once TensorFlow is loaded, or when it is not installed) and
    TensorFlow's retracing warning (a filter on the ``tensorflow`` logger, which exists before TensorFlow does).

    Example::

        _quiet_tf.install()
    """
    if os.environ.get("NNMAGICS_TF_LOG") == "1":
        return
    logger = logging.getLogger("tensorflow")
    if _RETRACING not in logger.filters:
        logger.addFilter(_RETRACING)
    if "tensorflow" in sys.modules:
        return
    if importlib.machinery.PathFinder.find_spec("tensorflow") is None:
        return   # no TensorFlow here: nothing to silence, nothing to hook
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Remove the import hook.

    Example::

        _quiet_tf.uninstall()
    """
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
