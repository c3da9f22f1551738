"""Training: happy paths (table, image folder), continue, interrupt, errors, checkpoint, early stop."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
from IPython.core.error import UsageError

from nnmagics.errors import NNUsageError
from nnmagics.training.history import history_of
from nnmagics.training import train


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.fixture(scope="module")
def data4(samples):
    from nnmagics.data.tables import load_table

    return load_table(samples["table"], sheet="data4", name="data4")


@pytest.fixture(scope="module")
def cats(samples):
    from nnmagics.data import load_data

    return load_data(samples["images"], image_size=32, name="cats")


def small_cnn(data):
    from nnmagics.model.build import build_model

    return build_model("rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 8 relu", data=data, name="cnn")


def halves(n=120, flip=False, seed=0):
    """Two classes split by the sign of X1 (labels swapped with ``flip``)."""
    import pandas as pd

    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    right = x[:, 0] > 0
    if flip:
        right = ~right
    frame = pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(right, "right", "left")})
    return load_table(frame, name="halves")


# -- happy paths --------------------------------------------------------------------------------
def test_table_training_then_continue(data4):
    from nnmagics.model.build import build_model

    model = build_model(preset="course-dense", name="dense")
    history = train(model, data4, val_split=0.2, epochs=3, seed=0, reporter=False)
    assert history is history_of(model)
    assert history.epoch == [0, 1, 2] and history.status == "finished"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert len(history.history[key]) == 3
    assert history.history["acc"] == history.history["accuracy"]          # the course's key
    assert history.history["val_acc"] == history.history["val_accuracy"]
    assert history.params["loss"] == "sparse_categorical_crossentropy"
    assert history.params["samples"] == 240 and history.params["val_samples"] == 60
    assert model.optimizer.__class__.__name__ == "RMSprop"

    again = train(model, data4, val_split=0.2, epochs=2, seed=0, reporter=False)
    assert again is history
    assert history.epoch == [0, 1, 2, 3, 4]
    assert len(history.history["val_loss"]) == 5
    assert history.params["initial_epoch"] == 3
    assert [f["first_epoch"] for f in history.fits] == [0, 3]


def test_nn_train_magic_text_log_history_and_course_plotting(ip, samples, capsys):
    ip.run_line_magic("nn_data", f"data4 {samples['table']} --sheet data4")
    ip.run_line_magic("nn_build", "model --preset course-dense --quiet")
    capsys.readouterr()
    result = ip.run_line_magic("nn_train", "model data4 --val-split 0.2 --epochs 2 --seed 0 --no-live")
    out = capsys.readouterr().out
    assert result is ip.user_ns["model_history"]
    assert "Epoch 1/2 ·" in out and "Epoch 2/2 ·" in out and "val_accuracy" in out
    assert "Finished: 2 epoch(s)" in out
    assert len([line for line in out.splitlines() if line.startswith("Epoch ")]) == 2

    ip.run_line_magic("nn_train", "model data4 --val-split 0.2 --epochs 1 --no-live")
    out = capsys.readouterr().out
    assert "Epoch 3/3 ·" in out and "epoch 3 " in out
    # the course's own plotting code, unchanged
    course = """
import matplotlib.pyplot as plt
history = model_history
acc = history.history['acc']
val_acc = history.history['val_acc']
loss = history.history['loss']
val_loss = history.history['val_loss']
epochs = range(len(acc))
plt.plot(epochs, acc)
plt.plot(epochs, val_acc)
plt.title('Training and validation accuracy')
plt.figure()
plt.plot(epochs, loss)
plt.plot(epochs, val_loss)
plt.title('Training and validation loss')
n_points = len(epochs)
plt.close('all')
"""
    assert ip.run_cell(course).success
    assert ip.user_ns["n_points"] == 3


def test_image_folder_training_with_augmentation(ip, samples, capsys):
    ip.run_line_magic("nn_data", f"cats {samples['images']} --image-size 32")
    ip.run_line_magic("nn_build", "cnn --layers 'rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 8 relu' "
                                  "--from cats --quiet")
    capsys.readouterr()
    history = ip.run_line_magic("nn_train", "cnn cats --epochs 2 --augment --seed 1 --no-live")
    out = capsys.readouterr().out
    assert history.params["loss"] == "binary_crossentropy"
    tf_backend = os.environ["KERAS_BACKEND"] == "tensorflow"
    # no GPU here: the tf.data map on TensorFlow; JAX and PyTorch augment in the training step
    assert history.params["augment"] == ("pipeline" if tf_backend else "model")
    assert history.params["val_samples"] == len(ip.user_ns["cats_val"])     # the folder's validation/
    assert len(history.history["val_accuracy"]) == 2
    assert "Epoch 2/2" in out
    assert ("augmentation in the tf.data pipeline" if tf_backend else "augmentation inside the training step") in out


def test_augmentation_placement_follows_the_devices():
    from nnmagics.runtime import device
    from nnmagics.training.fit import augment_placement

    assert augment_placement(device.detect(gpus=[{"name": "Tesla T4", "compute_capability": (7, 5)}])).where == "model"
    assert augment_placement(device.detect(tpu="grpc://10.0.0.2:8470")).where == "model"
    cpu = augment_placement(device.detect(gpus=[], tpu=False)).where   # in the step off TensorFlow (no tf.data)
    assert cpu == ("pipeline" if os.environ["KERAS_BACKEND"] == "tensorflow" else "model")


def test_augmentation_inside_the_training_step(cats, monkeypatch):
    """The accelerator placement, run on this CPU: the model trains behind FusedAugment, stays free of it."""
    import numpy as np

    from nnmagics.data.augment_fused import Placement
    from nnmagics.training import fit

    monkeypatch.setattr(fit, "augment_placement", lambda info: Placement("model", "augmentation on GPU:0, test"))
    model = small_cnn(cats)
    before = [w.copy() for w in model.get_weights()]
    log = []

    class Spy:
        def on_train_begin(self, info): log.append(info.augment)
        def on_batch(self, *a): pass
        def on_epoch(self, *a): pass
        def on_train_end(self, status): log.append(status)
        def poll(self): pass

    history = train(model, cats, epochs=1, augment=True, seed=0, reporter=Spy())
    assert history.params["augment"] == "model" and log == ["augmentation on GPU:0, test", "finished"]
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))     # the model's own weights
    assert not any(type(layer).__name__ == "FusedAugment" for layer in model.layers)   # model stays as built


def test_image_val_split_and_steps(cats):
    model = small_cnn(cats)
    history = train(model, cats, val_split=0.25, epochs=1, steps_per_epoch=3, validation_steps=1,
                    batch_size=10, seed=0, reporter=False)
    held_out = math.ceil(len(cats) * 0.25)                       # as train_test_split rounds
    assert history.params["samples"] == len(cats) - held_out
    # one validation step of 10 validates a part of the held-out images
    assert history.params["val_samples"] == 10 and history.params["val_total"] == held_out
    assert history.params["steps"] == 3
    assert len(history.history["val_loss"]) == 1


def test_mixed_precision_on_cpu_trains_a_bfloat16_clone(keras):
    from nnmagics.model.build import build_model
    from nnmagics.training.runner import _RUNNERS

    data = halves()
    model = build_model("dense 8 relu", data=data)
    history = train(model, data, epochs=1, mixed_precision="on", seed=0, reporter=False)
    runner = _RUNNERS[model][1]
    assert history.params["precision"] == "mixed_bfloat16"
    assert runner.layers[1].dtype_policy.name == "mixed_bfloat16"
    assert runner.layers[-1].dtype_policy.name == "float32"              # output layer kept float32
    assert model.layers[1].dtype_policy.name == "float32"               # the user's model is untouched …
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), runner.get_weights()))  # … but trained


def test_mixed_precision_clone_follows_unfreezing_recompiling_and_lr(keras):
    """The kept bfloat16 clone must not train with stale trainable flags, compile or learning rate."""
    from nnmagics.model.build import build_model
    from nnmagics.training.runner import _RUNNERS

    data = halves()
    model = build_model("dense 8 relu, dense 4 relu", data=data)
    hidden = model.layers[1]
    hidden.trainable = False                                     # phase 1: the first layer frozen
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    frozen = hidden.get_weights()[0].copy()
    train(model, data, epochs=1, mixed_precision="on", seed=0, reporter=False)
    assert np.array_equal(hidden.get_weights()[0], frozen)
    first = _RUNNERS[model][1]

    hidden.trainable = True                                      # unfrozen, not recompiled
    train(model, data, epochs=1, mixed_precision="on", seed=0, reporter=False)
    assert not np.array_equal(hidden.get_weights()[0], frozen)   # phase 2 trains the unfrozen layer
    assert _RUNNERS[model][1] is not first

    train(model, data, epochs=1, lr=0.123, mixed_precision="on", reporter=False)
    runner = _RUNNERS[model][1]
    assert float(runner.optimizer.learning_rate.numpy()) == pytest.approx(0.123)

    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = train(model, data, epochs=1, mixed_precision="on", reporter=False)
    runner = _RUNNERS[model][1]
    assert type(runner.optimizer).__name__ == "SGD"              # the user's recompile reaches the clone
    assert float(runner.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    assert history.params["precision"] == "mixed_bfloat16"
    kept = runner
    train(model, data, epochs=1, mixed_precision="on", reporter=False)
    assert _RUNNERS[model][1] is kept                            # nothing changed: the clone is reused


def test_unfreezing_without_recompiling_trains_the_layer_on_the_plain_path(keras):
    from nnmagics.model.build import build_model

    data = halves()
    model = build_model("dense 8 relu", data=data)
    model.layers[1].trainable = False
    train(model, data, epochs=1, optimizer="adam", lr=0.01, mixed_precision="off", reporter=False)
    frozen = model.layers[1].get_weights()[0].copy()
    model.layers[1].trainable = True
    history = train(model, data, epochs=1, mixed_precision="off", reporter=False)
    assert not np.array_equal(model.layers[1].get_weights()[0], frozen)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert history.epoch == [0, 1]


def test_optimizer_and_learning_rate(data4):
    from nnmagics.model.build import build_model

    model = build_model(preset="course-dense")
    train(model, data4, epochs=1, optimizer="adam", lr=0.01, reporter=False)
    assert model.optimizer.__class__.__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    train(model, data4, epochs=1, lr=0.002, reporter=False)       # only --lr: keeps Adam and its state
    assert model.optimizer.__class__.__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.002)
    with pytest.raises(NNUsageError, match="Did you mean 'rmsprop'"):
        train(model, data4, epochs=1, optimizer="rmsporp", reporter=False)


# -- stop and interrupt -------------------------------------------------------------------------
def test_keyboard_interrupt_keeps_weights_and_finished_epochs(keras, capsys):
    from nnmagics.model.build import build_model
    from nnmagics.display.text_log import TextLog

    data = halves(200)
    model = build_model("dense 8 relu", data=data)

    class Interrupt(keras.callbacks.Callback):
        weights = None

        def on_train_batch_end(self, batch, logs=None):
            if self.params and batch == 2 and len(history_of(model).epoch) == 1:
                Interrupt.weights = [w.copy() for w in self.model.get_weights()]
                raise KeyboardInterrupt

    history = train(model, data, epochs=5, batch_size=20, callbacks=[Interrupt()], reporter=TextLog(final_png=False))
    out = capsys.readouterr().out
    assert history.status == "interrupted"
    assert history.epoch == [0]                                  # the unfinished epoch 2 is not recorded
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), Interrupt.weights))
    assert "Stopped (kernel interrupt) after 1 finished epoch(s)" in out
    # the model is still usable: training goes on from epoch 2
    train(model, data, epochs=1, batch_size=20, reporter=False)
    assert history.epoch == [0, 1]


def test_keyboard_interrupt_with_early_stop_restores_the_best_weights_as_stop_does(keras):
    from nnmagics.model.build import build_model

    data = halves(200)
    per_epoch, at_interrupt = [], []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            per_epoch.append([w.copy() for w in self.model.get_weights()])

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if len(per_epoch) == 3 and batch == 2:                # mid-way through the 4th epoch
                at_interrupt.append([w.copy() for w in self.model.get_weights()])
                raise KeyboardInterrupt

    class StopAt:                                                  # the Stop button, at the same batch
        def on_train_begin(self, info):
            self.stop = info.stop

        def on_batch(self, epoch, batch, steps, logs, elapsed):
            pass

        def on_epoch(self, epoch, logs, history, verdict):
            if epoch == 2:
                self.stop.request()

        def on_train_end(self, status):
            pass

    # validation labels are flipped: validation loss is best early, so the best epoch is not the last
    options = dict(val=halves(60, flip=True, seed=1), epochs=8, batch_size=20, optimizer="adam", lr=0.05,
                   early_stop=5, seed=0)
    model = build_model("dense 8 relu", data=data)
    history = train(model, data, callbacks=[Keep(), Interrupt()], reporter=False, **options)
    assert history.status == "interrupted"
    assert history.epoch == [0, 1, 2]                              # finished epochs kept
    best = int(np.argmin(history.history["val_loss"]))
    assert best != 2 and history.fits[-1]["best_epoch"] == best
    assert all(np.allclose(a, b) for a, b in zip(model.get_weights(), per_epoch[best]))
    assert not all(np.allclose(a, b) for a, b in zip(model.get_weights(), at_interrupt[0]))

    per_epoch.clear()
    stopped = build_model("dense 8 relu", data=data)
    stop_history = train(stopped, data, callbacks=[Keep()], reporter=StopAt(), **options)
    assert stop_history.status == "stopped" and stop_history.epoch == [0, 1, 2]
    assert all(np.allclose(a, b) for a, b in zip(stopped.get_weights(), per_epoch[best]))


# -- mistakes -----------------------------------------------------------------------------------
def test_loss_that_contradicts_the_output_layer(ip, data4, keras):
    from nnmagics.model.build import build_model

    model = build_model(preset="course-dense")                 # 3 softmax units
    with pytest.raises(NNUsageError, match="sparse_categorical_crossentropy"):
        train(model, data4, epochs=1, loss="binary_crossentropy", reporter=False)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])   # as the course once did
    with pytest.raises(NNUsageError, match="3 softmax units"):
        train(model, data4, epochs=1, reporter=False)
    binary = build_model("dense 4 relu", data=halves())        # 1 sigmoid unit
    with pytest.raises(NNUsageError, match="binary_crossentropy"):
        train(binary, halves(), epochs=1, loss="sparse_categorical_crossentropy", reporter=False)
    with pytest.raises(NNUsageError, match="Unknown loss 'binary_crossentropi'"):
        train(binary, halves(), epochs=1, loss="binary_crossentropi", reporter=False)
    ip.user_ns.update(m=build_model(preset="course-dense"), d=data4)
    with pytest.raises(UsageError, match="expects one sigmoid output unit"):
        ip.run_line_magic("nn_train", "m d --loss binary_crossentropy --epochs 1 --no-live")


def test_categorical_loss_feeds_one_hot_labels(data4):
    from nnmagics.model.build import build_model

    model = build_model(preset="course-dense")
    history = train(model, data4, epochs=1, loss="categorical_crossentropy", reporter=False)
    assert history.params["loss"] == "categorical_crossentropy" and np.isfinite(history.history["loss"][0])


def test_bad_options_name_the_mismatch(ip, data4, cats):
    from nnmagics.model.build import build_model

    dense = build_model(preset="course-dense")
    with pytest.raises(NNUsageError, match="positive whole number, not 0"):
        train(dense, data4, epochs=0, reporter=False)
    with pytest.raises(NNUsageError, match="positive whole number, not -3"):
        train(dense, data4, epochs=-3, reporter=False)
    with pytest.raises(NNUsageError, match=r"takes tables .* holds images 32×32×3"):
        train(dense, cats, epochs=1, reporter=False)
    cnn = small_cnn(cats)
    with pytest.raises(NNUsageError, match=r"takes images \(input 32×32×3\) but 'data4' holds a table"):
        train(cnn, data4, epochs=1, reporter=False)
    big = build_model(preset="course-cnn")
    with pytest.raises(NNUsageError, match=r"expects input 150×150×3 but 'cats' gives 32×32×3; .*--image-size 150x150"):
        train(big, cats, epochs=1, reporter=False)
    other = halves()
    with pytest.raises(NNUsageError, match=r"has classes \['left', 'right'\] but training data 'data4' has"):
        train(dense, data4, val=other, epochs=1, reporter=False)
    with pytest.raises(NNUsageError, match="either --val DATA or --val-split"):
        train(dense, data4, val=data4, val_split=0.2, epochs=1, reporter=False)
    with pytest.raises(NNUsageError, match="--augment applies to image data"):
        train(dense, data4, augment=True, epochs=1, reporter=False)
    with pytest.raises(NNUsageError, match="ends with 3 unit"):
        train(dense, other, epochs=1, reporter=False)
    with pytest.raises(UsageError, match="There is no model named 'nope'"):
        ip.run_line_magic("nn_train", "nope data4")
    ip.user_ns.update(dense=dense, data4=data4)
    with pytest.raises(UsageError, match="--epochs must be a positive whole number, not 'ten'"):
        ip.run_line_magic("nn_train", "dense data4 --epochs ten")
    with pytest.raises(UsageError, match=r"--val-split must be a number in \(0, 1\), not 1.5"):
        ip.run_line_magic("nn_train", "dense data4 --val-split 1.5")
    with pytest.raises(NNUsageError, match="--lr, the learning rate must be a positive number, not -1"):
        train(dense, data4, lr=-1, reporter=False)


# -- checkpoint and early stop ------------------------------------------------------------------
def test_checkpoint_keeps_the_best_weights_atomically(tmp_path, keras, monkeypatch):
    import nnmagics.model.weights_io as wio
    from nnmagics.model.build import build_model

    saves = []
    real = wio.atomic_save
    monkeypatch.setattr(wio, "atomic_save", lambda save, path: saves.append(path) or real(save, path))

    data = halves(160)
    model = build_model("dense 8 relu", data=data)
    per_epoch = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            per_epoch.append([w.copy() for w in self.model.get_weights()])

    path = tmp_path / "best"
    history = train(model, data, val=halves(60, flip=True, seed=1), epochs=4, optimizer="adam", lr=0.05,
                    checkpoint=str(path), callbacks=[Keep()], seed=0, reporter=False)
    target = str(path) + ".weights.h5"
    assert os.path.exists(target)
    assert saves and set(saves) == {target}
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".nnmagics-")]   # no temp file left
    best = int(np.argmin(history.history["val_loss"]))
    assert history.fits[-1]["best_epoch"] == best
    fresh = build_model("dense 8 relu", data=data)
    fresh.load_weights(target)
    assert all(np.allclose(a, b) for a, b in zip(fresh.get_weights(), per_epoch[best]))


def test_early_stop_restores_the_best_weights(keras):
    from nnmagics.model.build import build_model

    data = halves(160)
    model = build_model("dense 8 relu", data=data)
    per_epoch = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            per_epoch.append([w.copy() for w in self.model.get_weights()])

    # validation labels are flipped: the better the model learns, the worse validation gets
    history = train(model, data, val=halves(60, flip=True, seed=1), epochs=20, optimizer="adam", lr=0.05,
                    early_stop=2, callbacks=[Keep()], seed=0, reporter=False)
    assert history.status == "early-stopped"
    assert len(history.epoch) < 20
    best = int(np.argmin(history.history["val_loss"]))
    assert all(np.allclose(a, b) for a, b in zip(model.get_weights(), per_epoch[best]))


# -- reporter choice ----------------------------------------------------------------------------
def test_reporter_choice(monkeypatch):
    import nnmagics.display.output as output
    from nnmagics.config import settings
    from nnmagics.display.live import LivePanel, default_reporter
    from nnmagics.display.panel import TrainingPanel
    from nnmagics.display.text_log import TextLog

    assert isinstance(default_reporter(), TextLog)                   # plain IPython / terminal
    monkeypatch.setattr(output, "in_notebook", lambda: True)
    assert isinstance(default_reporter(), LivePanel) and isinstance(default_reporter(), TrainingPanel)
    assert isinstance(default_reporter(live=False), TextLog)          # --no-live
    monkeypatch.setattr(settings(), "live", False)
    assert isinstance(default_reporter(), TextLog)                    # %config NNMagics.live = False
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)              # ipywidgets missing
    monkeypatch.setattr(settings(), "live", True)
    assert isinstance(default_reporter(), TextLog)


def test_text_log_shows_a_final_picture_in_notebooks(monkeypatch, capsys):
    import nnmagics.display.output as output
    from nnmagics.display.text_log import TextLog

    shown = []
    monkeypatch.setattr(output, "show_figure", lambda fig, dpi=90: shown.append(fig))
    data = halves(60)
    from nnmagics.model.build import build_model

    train(build_model("dense 4 relu", data=data), data, epochs=2, reporter=TextLog(final_png=True))
    assert len(shown) == 1
    titles = [ax.get_title() for ax in shown[0].axes]
    assert titles[:2] == ["Accuracy", "Loss"]
    assert len(shown[0].axes[1].lines[0].get_xdata()) == 2
