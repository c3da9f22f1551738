"""Input-shape checks (kept for imports; the one implementation is ``nnmagics.checks``)."""
from __future__ import annotations

from .checks import model_input_shape as graph_input_shape, shape_fits

__all__ = ["graph_input_shape", "shape_fits"]
