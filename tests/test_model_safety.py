"""Models stay safe and usable: weights files of trained models, no code injection through names
or layer arguments, metrics checked before compiling, absurd sizes and unwritable paths refused."""
from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from IPython.core.error import UsageError

from nnmagics.model.build import build_model, make_layer, model_code
from nnmagics.errors import NNUsageError
from nnmagics.model.spec import LayerSpec
from nnmagics.training import train
from nnmagics.model.weights_io import load_weights, save_weights

INJECTED_NAME = 'm" if __import__("os").system("touch pwned") else "m'


def halves(n=80, seed=0):
    import pandas as pd

    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    frame = pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "right", "left")})
    return load_table(frame, name="halves")


def one_sentence(exc) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.endswith((".", "?")), text
    return text


# -- weights files ------------------------------------------------------------------------------
def test_checkpoint_of_a_trained_model_loads_into_the_same_and_a_fresh_model(tmp_path):
    data = halves()
    model = build_model("dense 6 relu", data=data)
    path = str(tmp_path / "best.weights.h5")
    train(model, data, val=halves(30, seed=1), epochs=2, optimizer="adam", checkpoint=path, seed=0, reporter=False)
    trained = model.get_weights()
    saved = save_weights(model, str(tmp_path / "trained"))         # holds Adam's variables too
    for source in (path, saved):
        fresh = build_model("dense 6 relu", data=data, api="sequential")
        load_weights(fresh, source)
        if source == saved:
            assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), trained))
    load_weights(model, path)                                     # back into the trained model itself
    other = build_model("dense 7 relu", data=data)
    before = other.get_weights()
    with pytest.raises(NNUsageError, match="saved from another architecture") as info:
        load_weights(other, saved)
    one_sentence(info)
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))


def test_weights_of_a_subclassed_model_into_a_functional_one_say_which_api(tmp_path):
    path = save_weights(build_model(preset="course-dense", api="subclass"), str(tmp_path / "sub"))
    functional = build_model(preset="course-dense")
    before = functional.get_weights()
    with pytest.raises(NNUsageError, match="build the model with the same --api") as info:
        load_weights(functional, path)
    one_sentence(info)
    assert all(np.array_equal(a, b) for a, b in zip(functional.get_weights(), before))


def test_nn_build_load_of_a_trained_models_file(ip, tmp_path):
    data = halves()
    model = build_model("dense 6 relu", data=data)
    train(model, data, epochs=1, optimizer="adam", reporter=False)
    path = save_weights(model, str(tmp_path / "w"))
    ip.run_line_magic("nn_build", f"again --layers 'input 2, dense 6 relu, dense 1 sigmoid' --load {path} --quiet")
    assert all(np.array_equal(a, b) for a, b in zip(ip.user_ns["again"].get_weights(), model.get_weights()))


# -- code injection -----------------------------------------------------------------------------
def test_injected_model_name_is_refused_and_runs_nothing(ip, tmp_path):
    with pytest.raises(UsageError, match="not a valid model name"):
        ip.run_line_magic("nn_build", f"""'{INJECTED_NAME}' --layers "input 2, dense 3 relu" """)
    with pytest.raises(NNUsageError, match="not a valid model name") as info:
        build_model("input 2, dense 3 relu", name=INJECTED_NAME)
    one_sentence(info)
    with pytest.raises(NNUsageError, match="not a valid model name"):
        model_code("input 2, dense 3 relu", name='x", trainable=__import__("os").system("touch pwned"), n="')
    with pytest.raises(UsageError, match="'a/b' is not a valid model name"):
        ip.run_line_magic("nn_build", "a/b --preset course-dense")
    assert not os.path.exists(tmp_path / "pwned")


def test_injected_name_in_the_layer_editor_is_refused(ip, tmp_path):
    from nnmagics.display.builder_panel import BuilderPanel

    with pytest.raises(NNUsageError, match="not a valid model name"):
        BuilderPanel(ip.user_ns, INJECTED_NAME)
    panel = BuilderPanel(ip.user_ns, "edited")
    panel.rows[1]["value"].value = '3), __import__("os").system("touch pwned"), (1'
    assert panel.build() is None and "edited" not in ip.user_ns
    assert "is not a whole number" in panel.status.value
    panel.rows[1]["value"].value = "<img src=x onerror=alert(1)>"
    assert "&lt;img src=x" in panel.status.value and "<img" not in panel.status.value
    assert not os.path.exists(tmp_path / "pwned")


@pytest.mark.parametrize("spec", [
    LayerSpec("dense", {"units": 3, "activation": 'relu"); __import__("os").system("touch pwned"); ("'}),
    LayerSpec("dense", {"units": '3); __import__("os").system("touch pwned"); (1'}),
    LayerSpec("conv", {"filters": 4, "kernel": "3); __import__('os').system('touch pwned'"}),
    LayerSpec("rescale", {"scale": "__import__('os').system('touch pwned')", "value": 1.0}),
    LayerSpec("dropout", {"rate": "0.5); __import__('os').system('touch pwned'"}),
    LayerSpec("dense", {"units": 3, "kernel_initializer": "__import__('os')"}),
    LayerSpec("dense", {"units": True}),
])
def test_layer_specs_with_code_in_their_arguments_are_refused(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NNUsageError) as info:
        build_model([LayerSpec("input", {"shape": (2,)}), spec, LayerSpec("dense", {"units": 1})])
    one_sentence(info)
    with pytest.raises(NNUsageError):
        make_layer(spec)
    assert not os.path.exists(tmp_path / "pwned")


def test_printed_code_is_the_code_that_runs():
    code = model_code("input 2, rescale 1/255, dense 3 relu, dropout 0.5, dense 1 sigmoid", api="sequential",
                      name="net")
    assert 'layers.Dense(3, activation="relu")' in code and "layers.Rescaling(1/255)" in code
    assert 'name="net"' in code
    model = build_model("input 2, rescale 1/255, dense 3 relu, dropout 0.5, dense 1 sigmoid", api="sequential",
                        name="net")
    namespace: dict = {}
    exec(code, namespace)
    assert namespace["model"].count_params() == model.count_params() and namespace["model"].name == "net"


# -- sizes --------------------------------------------------------------------------------------
def test_absurd_layer_sizes_are_refused_before_allocating(ip):
    with pytest.raises(NNUsageError, match=r"10,000,100,000 parameters \(37\.3 GiB of float32 weights\)") as info:
        build_model("input 100000, dense 100000")
    one_sentence(info)
    with pytest.raises(UsageError, match="parameters"):
        ip.run_line_magic("nn_build", "huge --layers 'input 150x150x3, flatten, dense 100000 relu, dense 1 sigmoid'")
    assert "huge" not in ip.user_ns
    with pytest.raises(NNUsageError, match="leaves nothing of the image"):
        build_model("input 4x4x3, conv 8 5, flatten, dense 1 sigmoid")
    assert build_model(preset="course-cnn").count_params() == 9_494_561   # the course's CNN is fine


# -- fine-tuning under mixed precision (the default on GPUs) -------------------------------------
def test_fine_tune_phase_two_under_mixed_precision_trains_block5_at_its_learning_rate(tiny_images):
    from nnmagics import transfer as tr
    from nnmagics.training.runner import _RUNNERS

    data = tiny_images
    model = tr.vgg_transfer(mode="features", data=data, weights="none", name="ft")
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    # phase 1 end to end (augmentation: no feature cache), so a bfloat16 clone with block5 frozen is kept
    train(model, data, epochs=1, augment=True, mixed_precision="on", seed=0, reporter=False)
    assert _RUNNERS[model][0][0] == "mixed_bfloat16"
    block5 = model.get_layer("block5_conv1").get_weights()[0].copy()
    block4 = model.get_layer("block4_conv3").get_weights()[0].copy()
    tr.fine_tune(model, "block5", learning_rate=1e-3)
    train(model, data, epochs=1, mixed_precision="on", seed=0, reporter=False)
    assert not np.array_equal(model.get_layer("block5_conv1").get_weights()[0], block5)   # phase 2 trains block5
    assert np.array_equal(model.get_layer("block4_conv3").get_weights()[0], block4)       # … and only block5
    assert float(_RUNNERS[model][1].optimizer.learning_rate.numpy()) == pytest.approx(1e-3)


# -- metrics, optimizer, loss: checked before compiling ------------------------------------------
def test_unknown_metric_leaves_the_model_as_it_was(ip):
    import keras

    data = halves()
    model = build_model("dense 4 relu", data=data)
    optimizer = keras.optimizers.Adam(0.02)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(NNUsageError, match="Unknown metric 'acuracy'. Did you mean 'accuracy'?") as info:
        train(model, data, epochs=1, metrics="accuracy, acuracy", lr=0.5, reporter=False)
    one_sentence(info)
    assert model.optimizer is optimizer and float(optimizer.learning_rate.numpy()) == pytest.approx(0.02)
    ip.user_ns.update(m=model, d=data)
    with pytest.raises(UsageError, match="Unknown metric 'foo'"):
        ip.run_line_magic("nn_train", "m d --metrics foo --epochs 1 --no-live")
    history = ip.run_line_magic("nn_train", "m d --epochs 1 --no-live")
    assert history.status == "finished" and "accuracy" in history.history
    assert model.optimizer is optimizer


def test_a_compile_that_fails_at_the_first_batch_is_undone():
    data = halves()
    model = build_model("dense 4 relu", data=data)
    train(model, data, epochs=1, optimizer="adam", reporter=False)
    optimizer = model.optimizer
    with pytest.raises(NNUsageError, match="does not fit"):       # a metric for another kind of output
        train(model, data, epochs=1, metrics="top_k_categorical_accuracy", loss="binary_crossentropy",
              reporter=False)
    assert model.optimizer is optimizer
    history = train(model, data, epochs=1, reporter=False)      # the earlier compile is back: this works
    assert history.status == "finished" and history.epoch == [0, 1]
    fresh = build_model("dense 4 relu", data=data)               # never compiled: left uncompiled again
    with pytest.raises(NNUsageError, match="does not fit"):
        train(fresh, data, epochs=1, metrics="top_k_categorical_accuracy", reporter=False)
    assert train(fresh, data, epochs=1, reporter=False).status == "finished"


# -- paths for --save and --checkpoint ----------------------------------------------------------
def test_checkpoint_into_a_missing_folder_creates_it(tmp_path):
    data = halves()
    model = build_model("dense 4 relu", data=data)
    target = tmp_path / "runs" / "today" / "best"
    with pytest.raises(NNUsageError, match="Unknown metric"):
        train(model, data, epochs=1, checkpoint=str(target), metrics="foo", reporter=False)
    assert not os.path.exists(tmp_path / "runs")                  # a refused run leaves no folder behind
    train(model, data, val=halves(30, seed=1), epochs=1, checkpoint=str(target), reporter=False)
    assert os.path.exists(str(target) + ".weights.h5")


def test_unwritable_paths_are_refused_before_training(tmp_path, monkeypatch):
    data = halves()
    model = build_model("dense 4 relu", data=data)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(NNUsageError, match="Cannot create the folder .* is a file, not a folder") as info:
        train(model, data, epochs=1, checkpoint=str(blocker / "best"), reporter=False)
    one_sentence(info)
    assert not getattr(model, "compiled", False)                   # refused before anything started
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    with pytest.raises(NNUsageError, match="is read-only") as info:
        train(model, data, epochs=1, checkpoint=str(tmp_path / "best"), reporter=False)
    one_sentence(info)
    with pytest.raises(NNUsageError, match="is read-only"):
        save_weights(model, str(tmp_path / "w"))
    monkeypatch.setattr(os, "access", real_access)

    import shutil

    from nnmagics.model.weights_io import check_writable

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9, 1000))
    with pytest.raises(NNUsageError, match="MB free") as info:
        check_writable(str(tmp_path / "w"), "--save", 10**6)
    one_sentence(info)


def test_disk_full_during_training_stops_with_one_sentence(tmp_path, monkeypatch):
    import nnmagics.model.weights_io as wio

    def full(save, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wio, "atomic_save", full)
    data = halves()
    model = build_model("dense 4 relu", data=data)
    with pytest.raises(NNUsageError, match="Could not write the checkpoint .*no space left on device") as info:
        train(model, data, val=halves(30, seed=1), epochs=3, checkpoint=str(tmp_path / "best"), reporter=False)
    one_sentence(info)
    history = train(model, data, epochs=1, reporter=False)          # the model is still usable
    assert history.status == "finished"


def test_nn_build_save_into_a_bad_path_builds_nothing(ip, tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(UsageError, match="Cannot create the folder"):
        ip.run_line_magic("nn_build", "m --preset course-dense --save blocker/w --quiet")
    assert "m" not in ip.user_ns
    ip.run_line_magic("nn_build", "m --preset course-dense --save sub/dir/w --quiet")
    assert os.path.exists(tmp_path / "sub" / "dir" / "w.weights.h5")


# -- what a notebook cell shows (a real kernel) -------------------------------------------------
KERNEL_SETUP = """
import numpy as np, pandas as pd
from nnmagics.data.tables import load_table
_x = np.random.default_rng(0).normal(size=(60, 2)).astype("float32")
ms_d = load_table(pd.DataFrame({"X1": _x[:, 0], "X2": _x[:, 1], "Y": np.where(_x[:, 0] > 0, "r", "l")}), name="ms_d")
"""


@pytest.fixture(scope="module")
def notebook(kernel, tmp_path_factory):
    """The shared kernel, in a fresh folder, with a small table ``ms_d``."""
    folder = tmp_path_factory.mktemp("model_safety")
    for cell in [f"import os; os.chdir({str(folder)!r})", KERNEL_SETUP]:
        result = kernel.run(cell)
        assert result.status == "ok", result.text
    kernel.safety_folder = folder
    yield kernel
    kernel.run(f"os.chdir({str(kernel.folder)!r})")


def shows_one_sentence(cell, pattern: str) -> None:
    import re

    assert cell.status == "error" and not cell.has_traceback, cell.text
    assert len(cell.lines) == 1 and re.search(pattern, cell.text), cell.text


def test_cell_injected_name_shows_one_sentence_and_runs_nothing(notebook):
    cell = notebook.run(f"""%nn_build '{INJECTED_NAME}' --layers "input 2, dense 3 relu" """)
    shows_one_sentence(cell, r"is not a valid model name; use letters, digits and underscores")
    shows_one_sentence(notebook.run("%nn_build a/b --preset course-dense"), r"'a/b' is not a valid model name")
    assert not os.path.exists(notebook.safety_folder / "pwned")


def test_cell_absurd_size_shows_one_sentence(notebook):
    cell = notebook.run("%nn_build ms_huge --layers 'input 100000, dense 100000'")
    shows_one_sentence(cell, r"10,000,100,000 parameters \(37\.3 GiB of float32 weights\)")


def test_cell_bad_metric_then_training_works(notebook):
    assert notebook.run("%nn_build ms_m --layers 'dense 4 relu' --from ms_d --quiet").status == "ok"
    shows_one_sentence(notebook.run("%nn_train ms_m ms_d --metrics foo --epochs 1 --no-live"), r"Unknown metric 'foo'")
    cell = notebook.run("%nn_train ms_m ms_d --epochs 1 --no-live")
    assert cell.status == "ok" and "Finished" in cell.text, cell.text


def test_cell_checkpoint_reloads_into_a_fresh_model(notebook):
    cell = notebook.run("%nn_train ms_m ms_d --val-split 0.25 --epochs 2 --optimizer adam "
                        "--checkpoint runs/ms_best --no-live")
    assert cell.status == "ok", cell.text
    cell = notebook.run("%nn_build ms_fresh --layers 'dense 4 relu' --from ms_d --load runs/ms_best.weights.h5 --quiet")
    assert cell.status == "ok" and "Loaded weights from runs/ms_best.weights.h5" in cell.text, cell.text
    shows_one_sentence(notebook.run("%nn_build ms_other --layers 'dense 5 relu' --from ms_d "
                                    "--load runs/ms_best.weights.h5 --quiet"), r"saved from another architecture")
