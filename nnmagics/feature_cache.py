"""Old name of :mod:`nnmagics.transfer.features` (the same module object, so patches and imports agree)."""
import sys
from .transfer import features as _features

sys.modules[__name__] = _features
