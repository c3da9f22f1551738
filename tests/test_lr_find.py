"""%nn_lr_find: fastai's range test on Keras 3, a cautious suggestion, the model left exactly as it was."""
from __future__ import annotations

import math

import numpy as np
import pytest

from nnmagics.training.range_test import suggest


@pytest.fixture
def table(tmp_path, monkeypatch):
    import pandas as pd

    from nnmagics.data import load_data

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 2))
    pd.DataFrame({"X1": X[:, 0], "X2": X[:, 1], "Y": np.where(X.sum(1) > 0, "up", "down")}).to_csv("t.csv", index=False)
    return load_data("t.csv")


def _state(model):
    """Everything a range test could touch: weights, the optimizer object and its variables, the compile."""
    optimizer = getattr(model, "optimizer", None)
    return {"weights": [w.copy() for w in model.get_weights()], "optimizer": id(optimizer),
            "slots": [np.array(v) for v in optimizer.variables] if optimizer is not None else None,
            "compile": repr(model.get_compile_config()) if getattr(model, "compiled", False) else None}


def _same(a, b) -> bool:
    arrays = lambda s: (s["weights"] or []) + (s["slots"] or [])   # noqa: E731
    return (a["optimizer"], a["compile"]) == (b["optimizer"], b["compile"]) and \
        len(arrays(a)) == len(arrays(b)) and all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b)))


def test_the_range_test_leaves_weights_optimizer_and_compile_exactly_as_they_were(ip, table):
    from nnmagics.model.build import build_model
    from nnmagics.training import train

    ip.user_ns["t"] = table
    ip.user_ns["m"] = model = build_model(layers="input 2, dense 8 relu, dense 1 sigmoid")
    ip.user_ns["fresh"] = fresh = build_model(layers="input 2, dense 8 relu, dense 1 sigmoid")
    train(model, table, epochs=2, optimizer="adam", lr=0.003, reporter=False, model_name="m")   # a built optimizer
    before, fresh_before = _state(model), _state(fresh)
    found = ip.run_line_magic("nn_lr_find", "m t --steps 40 --seed 0")
    assert _same(_state(model), before) and float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.003)
    assert len(found.rates) == len(found.losses) == len(found.smoothed) <= 40 and found.rates[0] == pytest.approx(1e-7)
    ip.run_line_magic("nn_lr_find", "fresh t --steps 20 --end 1")
    assert _same(_state(fresh), fresh_before) and not getattr(fresh, "compiled", False)   # still never compiled
    assert int(model.optimizer.iterations.numpy()) == int(before["slots"][0])


def test_the_suggestion_is_a_tenth_of_the_lowest_point_and_says_why():
    rates = list(np.geomspace(1e-6, 10, 70))
    # flat, then falling from 1e-4 to 1e-2, then blowing up after 0.3
    curve = [1.0 - 0.6 * min(1, max(0, (math.log10(r) + 4) / 2)) + (3 if r > 0.3 else 0) for r in rates]
    suggestion, lowest, steepest, reason = suggest(rates, curve)
    assert lowest == pytest.approx(rates[int(np.argmin(curve))]) and suggestion == pytest.approx(lowest / 10)
    assert 1e-4 <= steepest <= lowest and reason.startswith(f"a tenth of {lowest:.1e}, where the smoothed loss")
    flat = suggest(rates, [1.0 + 0.001 * math.sin(i) for i in range(70)])
    assert flat[0] is None and flat[3].startswith("the loss hardly fell anywhere")
    rising = suggest(rates, [0.5 + i for i in range(70)])
    assert rising[0] is None and "hardly fell" in rising[3]
    early = suggest(rates, [1.0, 0.1] + [5.0] * 68)
    assert early[0] is None and early[3].startswith("the loss rose from the first rates on; start lower")


def test_a_features_mode_model_tests_its_head_on_cached_features(tiny_images):
    from nnmagics.training.range_test import lr_find
    from nnmagics.transfer import vgg_transfer

    model = vgg_transfer(mode="features", data=tiny_images, weights="none", name="fm")
    before = _state(model)
    found = lr_find(model, tiny_images, steps=20, seed=0)
    assert len(found.rates) >= 5 and _same(_state(model), before)


@pytest.mark.notebook
def test_the_notebook_shows_the_curve_and_the_suggestion(kernel):
    setup = ("import numpy as np, pandas as pd\nrng = np.random.default_rng(1)\nX = rng.normal(size=(160, 2))\n"
             "pd.DataFrame({'X1': X[:, 0], 'X2': X[:, 1], 'Y': np.where(X.sum(1) > 0, 'up', 'down')})"
             ".to_csv('lr.csv', index=False)\n%nn_data lrt lr.csv\n%nn_build lrm --layers 'dense 8 relu' --from lrt --quiet")
    assert kernel.run(setup).status == "ok"
    cell = kernel.run("%nn_lr_find lrm lrt --steps 60 --seed 0")
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    mimes = [m for out in cell.outputs for m in out.get("data", {})]
    assert mimes.count("image/png") == 1
    assert "the model's weights and optimizer are unchanged" in cell.text
    assert "Suggested --lr" in cell.text or "No suggestion: " in cell.text
