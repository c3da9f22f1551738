"""A real client: JupyterLab (and Notebook 7) in Debian's Chromium, driven by Playwright.

The live panel must render as widgets, update while training, and stop on its button, with the
kernel answering the next cell afterwards. Skips only where Chromium cannot be installed; in CI
(``CI=true``) a missing browser is a failure, never a silent skip.
"""
from __future__ import annotations

import os
import time

import pytest

# Colab's stack (.venv-colab) has neither JupyterLab 4 nor Playwright: Colab's front end is its own.
pytest.importorskip("jupyterlab", reason="needs JupyterLab 4 (the browser extra), which Colab's stack does not have")
pytest.importorskip("playwright", reason="needs Playwright (the browser extra), which Colab's stack does not have")

from lab_harness import LabPage, find_chromium, jupyter_server

pytestmark = pytest.mark.browser

SETUP = """\
%load_ext nnmagics
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
frame = pd.DataFrame({"X1": rng.normal(size=4000), "X2": rng.normal(size=4000)})
frame["Y"] = np.where(frame.X1 * frame.X2 > 0, "same", "diff")
%nn_data table frame
%nn_build net --layers "dense 32 relu, dense 32 relu" --from table --quiet
"""
SHORT = "%nn_train net table --val-split 0.2 --epochs 3 --batch-size 64"
LONG = "%nn_train net table --val-split 0.2 --epochs 500 --batch-size 8"
AFTER = "print('answer', 6 * 7, len(net_history.history['loss']))"


def _chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: `make test` installs it with apt-get (see the Makefile).")
        pytest.skip("Chromium is not installed here (apt-get install chromium); the browser test needs it")
    return path


def _write_notebook(root: str) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell(SETUP), new_code_cell(SHORT), new_code_cell(LONG), new_code_cell(AFTER)]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                   "language": "python"}})
    nbformat.write(notebook, os.path.join(root, "panel.ipynb"))


def _panel_state(lab: LabPage, index: int) -> dict:
    """What the panel in cell ``index`` shows, read from the DOM."""
    return lab.cell(index).evaluate("""cell => {
        const out = cell.querySelector('.jp-OutputArea');
        const text = out ? out.innerText : '';
        return {
            text,
            progress: out ? out.querySelectorAll('.widget-progress, .progress-bar').length : 0,
            svg: out ? out.querySelectorAll('.widget-html svg, .widget-html-content svg').length : 0,
            rows: out ? out.querySelectorAll('.widget-html table tr').length : 0,
            stop: out ? [...out.querySelectorAll('button')].map(b => b.innerText.trim()) : [],
            widgets: out ? out.querySelectorAll('.jupyter-widgets').length : 0,
        };
    }""")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_live_panel_renders_updates_and_stops(tmp_path, app):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    root = str(tmp_path)
    _write_notebook(root)
    shots = os.path.join(os.environ.get("NNMAGICS_TEST_OUTPUT", root), "screenshots")
    os.makedirs(shots, exist_ok=True)
    with jupyter_server(root, app=app) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1400})
            lab = LabPage(page)
            lab.open(base, token, "panel.ipynb", app=app)
            lab.run(0)
            lab.wait_done(0, timeout=180)
            assert "Error" not in lab.output_text(0)

            lab.run(1)                                          # a short training: the panel renders and fills
            seen_batches = set()
            deadline = time.time() + 240
            while time.time() < deadline:
                state = _panel_state(lab, 1)
                seen_batches.add(state["text"].count("batch"))
                if "finished" in state["text"]:
                    break
                time.sleep(0.3)
            state = _panel_state(lab, 1)
            page.screenshot(path=os.path.join(shots, f"{app}-panel-finished.png"), full_page=True)
            assert state["widgets"] > 0, "the panel did not render as widgets"
            assert state["progress"] >= 2, "epoch and batch progress bars expected"
            assert state["svg"] >= 1, "the live curves are missing"
            assert state["rows"] >= 4, "the per-epoch table should have a header and 3 epochs"
            assert "finished" in state["text"] and "Stop" not in state["stop"]

            lab.run(2)                                          # a long training, stopped with the button
            deadline = time.time() + 120
            while time.time() < deadline and "epoch 3/" not in _panel_state(lab, 2)["text"]:
                time.sleep(0.3)
            text_before = _panel_state(lab, 2)["text"]
            assert "epoch" in text_before, "the long training never showed progress"
            lab.cell(2).locator("button", has_text="Stop").click()
            deadline = time.time() + 60
            while time.time() < deadline and "stopped" not in _panel_state(lab, 2)["text"]:
                time.sleep(0.3)
            state = _panel_state(lab, 2)
            page.screenshot(path=os.path.join(shots, f"{app}-panel-stopped.png"), full_page=True)
            assert "stopped" in state["text"], state["text"][-400:]
            lab.wait_done(2, timeout=60)

            lab.run(3)                                          # the kernel answers, the history kept its epochs
            lab.wait_done(3, timeout=60)
            words = lab.output_text(3).split()
            assert words[:2] == ["answer", "42"]
            assert 3 + 2 <= int(words[2]) < 3 + 500
        finally:
            browser.close()
