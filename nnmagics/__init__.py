"""nnmagics: build, train, diagnose and transfer Keras networks in one line each.

Load it in any notebook::

    %load_ext nnmagics

Loading is instant: TensorFlow, Keras, matplotlib, pandas and ipywidgets are imported
only when a magic needs them. Every magic is a thin layer over a plain function that
works without IPython (``nnmagics.load_data``, ``nnmagics.build_model``, …).
"""
from __future__ import annotations

import importlib
import os

# TensorFlow's C++ start-up log (CUDA probing on CPU machines…) would clutter every notebook;
# set TF_CPP_MIN_LOG_LEVEL yourself before loading nnmagics to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use, so `import nnmagics` stays light)
_LAZY = {
    "load_data": "nnmagics.data",
    "load_table": "nnmagics.data.tables",
    "load_images": "nnmagics.data.images",
    "make_samples": "nnmagics.data.samples",
    "TableData": "nnmagics.data.tables",
    "ImageData": "nnmagics.data.images",
    "parse_layers": "nnmagics.model.spec",
    "build_model": "nnmagics.model.build",
    "model_code": "nnmagics.model.build",
    "summary_table": "nnmagics.model.inspect",
    "weights_tables": "nnmagics.model.inspect",
    "save_weights": "nnmagics.model.weights_io",
    "load_weights": "nnmagics.model.weights_io",
    "train": "nnmagics.training",
    "LivePanel": "nnmagics.display.live",
    "TextLog": "nnmagics.display.text_log",
    "Reporter": "nnmagics.training.reporting",
    "diagnose": "nnmagics.diagnosis",
    "history_of": "nnmagics.training.history",
    "lr_find": "nnmagics.training.range_test",
    "compare": "nnmagics.diagnosis.comparison",
    "runs_table": "nnmagics.runs",
    "load_run": "nnmagics.runs",
    "feature_maps": "nnmagics.diagnosis",
    "gradcam": "nnmagics.diagnosis",
    "vgg_transfer": "nnmagics.transfer",
    "vgg_predict": "nnmagics.transfer",
    "fine_tune": "nnmagics.transfer",
    "model_predict": "nnmagics.transfer",
    "NNUsageError": "nnmagics.errors",
}

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", "register_displays", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        register_displays()  # the Python API shows what the magics show (the text log in a terminal)
        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module 'nnmagics' has no attribute {name!r}")  # not translated: Python's own words


def load_ipython_extension(ipython) -> None:
    """Register the magics (``%load_ext nnmagics``); imports nothing heavy."""
    from . import _quiet_tf
    from .magics import register

    _quiet_tf.install()
    register_displays()
    register(ipython)


def register_displays() -> None:
    """Let the core find its displays (``nnmagics.registry``): the panel for ``train``, the figures of a
    diagnosis. ``%load_ext nnmagics`` and the first use of a public name do it; cheap: nothing heavy is imported.

    Example::

        import nnmagics; nnmagics.register_displays()
    """
    from .display import register

    register()


def unload_ipython_extension(ipython) -> None:
    """Nothing to undo beyond IPython's own bookkeeping."""
