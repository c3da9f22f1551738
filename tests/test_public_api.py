"""The public API keeps its names: no submodule shadows an exported function, calls work twice."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nnmagics

PACKAGE = Path(nnmagics.__file__).parent


def test_no_submodule_is_named_like_an_exported_name():
    modules = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    clashes = sorted(set(nnmagics._LAZY) & modules)
    assert clashes == []


# Imports every nnmagics module (what shadowed `nm.train` before), then uses every exported name twice,
# calling the functions of the README's Python API twice on a tiny table.
SCRIPT = r"""
import importlib, pkgutil, types, sys
import numpy as np, pandas as pd
import nnmagics as nm

for info in pkgutil.walk_packages(nm.__path__, "nnmagics."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
for _ in range(2):
    for name in nm._LAZY:
        value = getattr(nm, name)
        assert not isinstance(value, types.ModuleType), name
        assert callable(value), name

rng = np.random.default_rng(0)
frame = pd.DataFrame({"X1": rng.normal(size=60), "X2": rng.normal(size=60)})
frame["Y"] = np.where(frame.X1 > 0, "right", "left")
for _ in range(2):
    data = nm.load_data(frame)
    specs = nm.parse_layers("dense 4 relu")
    model = nm.build_model(specs, data=data, api="sequential")
    assert "keras.Sequential" in nm.model_code(nm.parse_layers("input 2, dense 4 relu, dense 1 sigmoid"), api="sequential")
    assert len(nm.summary_table(model)) == 2 and nm.weights_tables(model)
    history = nm.train(model, data, val_split=0.2, epochs=1, reporter=False)
    assert nm.history_of(model) is history
    report = nm.diagnose(model, data)
    assert report.evaluation is not None
print("ok")
"""


def test_every_exported_name_twice_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg"))
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
