"""Google Colab's stack: installing changes nothing Colab pins, and the code runs on both stacks.

The suite runs twice: on the newest releases (.venv) and on Colab's versions (.venv-colab, made by
``make test-colab`` from constraints/colab.txt). The tests here check what differs between them.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints" / "colab.txt"
SHARED_FREEZE = ROOT.parent / "shared" / "colab" / "pip-freeze.gpu.txt"


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def colab_pins() -> dict[str, str]:
    """Colab's pinned versions, from the constraints file kept in the repository."""
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#") and "==" in line:
            name, version = line.split("==", 1)
            pins[_canonical(name)] = version.strip()
    return pins


def _dry_run(tmp_path, *extra: str) -> list[tuple[str, str]]:
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--disable-pip-version-check",
               "--report", str(report), *extra, f"{ROOT}[tensorflow]"]   # Colab's backend: TensorFlow (an extra)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, "pip could not resolve nnmagics:\n" + done.stderr[-3000:]
    items = json.loads(report.read_text())["install"]
    return [(_canonical(i["metadata"]["name"]), i["metadata"]["version"]) for i in items]


def test_constraints_are_made_from_the_published_colab_list():
    pins = colab_pins()
    assert pins["ipython"] == "7.34.0" and pins["ipywidgets"] == "7.7.1" and pins["ipykernel"] == "6.17.1"
    assert pins["tensorflow"] == "2.20.0" and pins["keras"] == "3.13.2" and pins["traitlets"] == "5.7.1"
    if not SHARED_FREEZE.exists():
        pytest.skip("../shared/colab is not beside this clone; the committed constraints are used as they are")
    sys.path.insert(0, str(CONSTRAINTS.parent))
    try:
        from make_colab import make
    finally:
        sys.path.pop(0)
    assert make(SHARED_FREEZE.read_text(encoding="utf-8")) == CONSTRAINTS.read_text(encoding="utf-8"), \
        "constraints/colab.txt is stale: run python constraints/make_colab.py"


@pytest.mark.slow
def test_floors_admit_every_colab_version(tmp_path):
    """Resolving nnmagics under Colab's pins succeeds: no dependency floor is above Colab's version."""
    installed = _dry_run(tmp_path, "--ignore-installed", "-c", str(CONSTRAINTS))
    pins = colab_pins()
    changed = [f"{n} {pins[n]} → {v}" for n, v in installed if n in pins and pins[n] != v]
    assert changed == []
    names = {n for n, _ in installed}
    assert {"ipython", "ipywidgets", "tensorflow", "keras"} <= names


def _running_on_colab_versions() -> bool:
    from importlib.metadata import version

    pins = colab_pins()
    return all(version(name) == pins[name] for name in ("ipython", "ipywidgets", "ipykernel", "keras", "tensorflow"))


@pytest.mark.slow
def test_installing_into_colab_versions_changes_nothing_pinned(tmp_path):
    """What `pip install nnmagics` does in Colab: every package Colab pins stays as it is."""
    if not _running_on_colab_versions():
        pytest.skip("needs Colab's versions installed: `make test-colab` runs this test")
    installed = _dry_run(tmp_path)   # no constraints: pip decides, as it would in Colab
    pins = colab_pins()
    changed = [f"{n} {pins[n]} → {v}" for n, v in installed if n in pins and pins[n] != v]
    assert changed == [], "installing nnmagics would change Colab's packages: " + ", ".join(changed)


# Modules that Python 3.13 (Colab's) removed (PEP 594) or that 3.12 removed.
REMOVED = {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
           "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3", "distutils",
           "asynchat", "asyncore", "imp", "smtpd"}


def test_no_module_that_python_3_13_removed():
    used = []
    for path in (ROOT / "nnmagics").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            used += [f"{path.name}: {n}" for n in names if n.split(".")[0] in REMOVED]
    assert used == []


def test_python_versions_claimed_match_the_tested_ones():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    claimed = {c.rsplit(" ", 1)[-1] for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")}
    assert claimed == {"3.11", "3.12", "3.13"}


def test_widget_display_data_on_this_ipywidgets(ip):
    """Panel and gallery add a static twin to the widget's display data, on ipywidgets 7 and 8 alike."""
    import ipywidgets as w
    from IPython.utils.capture import capture_output

    from nnmagics.display.widget_compat import VIEW_MIME, show_widget, widget_bundle

    box = w.VBox([w.HTML("hi"), w.Button(description="Stop")])
    bundle = widget_bundle(box)
    assert bundle[VIEW_MIME]["model_id"] == box.model_id and bundle[VIEW_MIME]["version_major"] == 2
    assert "VBox" in bundle["text/plain"]
    displayed = []
    if hasattr(box, "on_displayed"):  # ipywidgets 7 runs these callbacks when a view is shown
        box.on_displayed(lambda widget, **kw: displayed.append(widget))
    with capture_output() as captured:
        show_widget(box, {"image/png": "iVBOR", "text/plain": "panel"})
    data = captured.outputs[0].data
    assert data[VIEW_MIME]["model_id"] == box.model_id
    assert data["image/png"] == "iVBOR" and data["text/plain"] == "panel"
    if hasattr(box, "on_displayed"):
        assert displayed == [box]


@pytest.mark.parametrize("api", ["functional", "sequential", "subclass"])
def test_summary_shows_plain_output_shapes(api):
    """No Rich markup (Keras' private formatter), on Keras 3.13 and 3.15 alike, in all three APIs."""
    import re

    from nnmagics.model.build import build_model
    from nnmagics.model.inspect import summary_table

    model = build_model("input 32x32x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, dropout 0.5, dense 1 sigmoid",
                        api=api)
    shapes = dict(zip(summary_table(model)["type"], summary_table(model)["output shape"]))
    assert shapes["Conv2D"] == "(None, 30, 30, 4)" and shapes["MaxPooling2D"] == "(None, 15, 15, 4)"
    assert shapes["Flatten"] == "(None, 900)" and shapes["Dense"] == "(None, 1)"
    assert all(re.fullmatch(r"\(None(, \d+)*\)", s) for s in shapes.values()), shapes
