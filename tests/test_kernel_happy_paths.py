"""The magics that the demos do not run, in a real kernel, as a notebook shows them (both stacks)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebook

VIEW = "application/vnd.jupyter.widget-view+json"


def _mimes(cell) -> set[str]:
    return {mime for out in cell.outputs for mime in out.get("data", {})}


def test_layer_editor_panel_is_a_widget(kernel):
    cell = kernel.run("%nn_build happy_editor --layers 'input 2, dense 3 relu, dense 3 softmax' --panel")
    assert cell.status == "ok", cell
    assert VIEW in _mimes(cell)           # the editor itself (its Build button makes the model)


def test_config_lists_the_settings(kernel):
    cell = kernel.run("%config NNMagics")
    assert cell.status == "ok", cell
    assert "redraw_seconds" in cell.text and "live" in cell.text


def test_gpu_report_runs_without_a_gpu(kernel):
    cell = kernel.run("%nn_gpu")
    assert cell.status == "ok", cell
    assert "CPU" in cell.text and not cell.has_traceback
