"""The demo notebooks, executed headless in a real kernel: no error output, pictures present."""
import os

import pytest

from nnmagics._notebooks import run_notebook

DEMOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos")
NOTEBOOKS = sorted(f for f in os.listdir(DEMOS) if f.endswith(".ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_demo_runs_in_a_real_kernel(name, tmp_path):
    import shutil

    import nbformat

    copy = tmp_path / name
    shutil.copy(os.path.join(DEMOS, name), copy)   # run in a scratch folder: samples are written next to it
    result = run_notebook(str(copy), str(tmp_path / "executed"), html=False)
    assert result["errors"] == []
    executed = nbformat.read(result["executed"], as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the demo should show at least one picture"
    # the course's own matplotlib code shows its picture (plt.plot / plt.scatter cells)
    for cell in executed.cells:
        if cell.cell_type == "code" and "plt.show()" in cell.source:
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no picture from: {cell.source[:80]}"
    assert not any(o.get("name") == "stderr" and "Traceback" in o.get("text", "") for o in outputs)
    # the live panel and the feature-map gallery reach the notebook as widgets (ipywidgets 7 and 8)
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        wants_widget = "%nn_train" in cell.source and "--no-live" not in cell.source or "--feature-maps" in cell.source
        if wants_widget:
            mimes = {m for o in cell.outputs for m in o.get("data", {})}
            assert "application/vnd.jupyter.widget-view+json" in mimes, f"no widget shown by: {cell.source[:80]}"
