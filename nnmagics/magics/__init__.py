"""The magic classes, one module per family; ``register`` installs them all."""
from __future__ import annotations

import importlib

from ..config import NNMagics, set_settings

# module -> Magics class name; a family that is not written yet is simply absent
_FAMILIES = [
    ("nnmagics.magics.data", "DataMagics"),
    ("nnmagics.magics.build", "BuildMagics"),
    ("nnmagics.magics.train", "TrainMagics"),
    ("nnmagics.magics.diagnose", "DiagnoseMagics"),
    ("nnmagics.magics.transfer", "TransferMagics"),
    ("nnmagics.magics.nn_transfer", "NNTransferMagics"),
    ("nnmagics.magics.runs", "RunsMagics"),
]


def register(ipython) -> None:
    """Register the settings with ``%config`` and every magic family with ``ipython``."""
    config = NNMagics(parent=ipython)
    set_settings(config)
    ipython.configurables.append(config)
    for module_name, class_name in _FAMILIES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        ipython.register_magics(getattr(module, class_name))
