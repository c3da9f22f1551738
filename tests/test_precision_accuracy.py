"""bfloat16 where the CPU has it: training under mixed_bfloat16 ends where float32 ends (table: within 0.02)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _final_val_accuracy(model_factory, data, policy, epochs, **kw) -> float:
    from nnmagics.training import train

    model = model_factory()
    history = train(model, data, epochs=epochs, seed=0, mixed_precision=policy, reporter=False, **kw)
    assert history.params["precision"] == ("float32" if policy == "off" else "mixed_bfloat16")
    return history.history["val_accuracy"][-1]


def test_table_task_bfloat16_matches_float32(samples):
    from nnmagics.build import build_model
    from nnmagics.data.tables import load_table

    data4 = load_table(samples["table"], sheet="data4", name="data4")
    make = lambda: build_model("dense 32 relu, dense 32 relu", data=data4, api="functional")   # noqa: E731
    f32 = _final_val_accuracy(make, data4, "off", 40, val_split=0.3, lr=0.01, optimizer="adam")
    b16 = _final_val_accuracy(make, data4, "on", 40, val_split=0.3, lr=0.01, optimizer="adam")
    assert f32 > 0.8
    assert abs(f32 - b16) <= 0.02, (f32, b16)


def test_image_task_bfloat16_matches_float32(samples):
    from nnmagics.build import build_model
    from nnmagics.data import load_data

    cats = load_data(samples["images"], image_size=48, name="cats")
    layers = "rescale 1/255, conv 8 3 relu, pool 2, conv 16 3 relu, pool 2, flatten, dense 16 relu"
    make = lambda: build_model(layers, data=cats, api="functional")   # noqa: E731
    f32 = _final_val_accuracy(make, cats, "off", 6)
    b16 = _final_val_accuracy(make, cats, "on", 6)
    # 60 validation images after 6 epochs is noisy (one image is 0.017 and the two runs round differently
    # from the first step on; measured 0.63 vs 0.55 once), so this checks the same ballpark; the 0.02
    # criterion is checked on the table task above.
    assert b16 > 0.5 and abs(f32 - b16) <= 0.1, (f32, b16)
