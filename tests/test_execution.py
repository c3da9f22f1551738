"""How ``fit`` runs its steps: small models run several steps per call with identical results, every batch
still runs, a user's batch callback keeps one step per call, and the model is built before the first trace."""
from __future__ import annotations

import os

import numpy as np
import pytest

from nnmagics.training import execution
from nnmagics.training.execution import STEPS_PER_CALL, fast_steps, prebuild, steps_per_call

SEVERAL = pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") == "torch",
                             reason="PyTorch runs one step per call (Keras: steps_per_execution must be 1 there); "
                                    "test_pytorch_runs_one_step_per_call checks it")


def table(n: int = 260, seed: int = 0):
    import pandas as pd

    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    frame = pd.DataFrame(x, columns=list("abcd"))
    frame["Y"] = np.where(x[:, 0] + x[:, 1] > 0, "yes", "no")
    return load_table(frame, target="Y", name="signs")


def small_model(keras):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                             keras.layers.Dense(1, activation="sigmoid")])


@SEVERAL
def test_small_models_run_several_steps_per_call_and_large_ones_one():
    import keras

    small = small_model(keras)
    assert steps_per_call(small, 32, steps=7) == 7 and steps_per_call(small, 32, steps=100) == STEPS_PER_CALL
    big = keras.Sequential([keras.Input((64, 64, 3)), keras.layers.Conv2D(64, 3), keras.layers.Flatten(),
                            keras.layers.Dense(1)])
    assert steps_per_call(big, 20, steps=50) == 1   # 7M multiply-adds per image: its step is real work
    assert steps_per_call(big, 20, steps=50, accelerator=True) == STEPS_PER_CALL   # but not on a GPU/TPU

    class EveryBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    class EveryEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    assert steps_per_call(small, 32, 100, [EveryBatch()]) == 1
    assert steps_per_call(big, 20, 50, [EveryBatch()], accelerator=True) == 1
    assert steps_per_call(small, 32, 100, [EveryEpoch()]) == STEPS_PER_CALL


@SEVERAL
def test_several_steps_per_call_give_the_same_training_and_run_every_batch(monkeypatch):
    import keras

    from nnmagics.training import train

    data = table()                       # 208 training rows after the split: 7 batches of 32, the last one short
    runs = {}
    for per_call in (1, STEPS_PER_CALL):
        monkeypatch.setattr(execution, "STEPS_PER_CALL", per_call)
        keras.utils.set_random_seed(0)
        model = small_model(keras)
        history = train(model, data, epochs=3, val_split=0.2, seed=0, reporter=False, batch_size=32)
        runs[per_call] = (model, history)
    (one, h1), (many, h10) = runs[1], runs[STEPS_PER_CALL]
    assert h1.fits[-1]["params"]["steps_per_execution"] == 1
    assert h10.fits[-1]["params"]["steps_per_execution"] == 7 and many.steps_per_execution == 7
    assert int(one.optimizer.iterations) == int(many.optimizer.iterations) == 3 * 7
    for a, b in zip(one.get_weights(), many.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1.history["val_loss"], h10.history["val_loss"], rtol=1e-5)


def test_a_failing_fit_puts_the_models_steps_per_call_back():
    import keras

    model = small_model(keras)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    x, y = np.zeros((8, 4), "float32"), np.zeros(8, "float32")
    with pytest.raises(RuntimeError, match="boom"):
        with fast_steps(model, 5, (x, y)):
            assert model.steps_per_execution == 5
            raise RuntimeError("boom")
    assert model.steps_per_execution == 1 and model.train_function is None


@pytest.mark.tensorflow(reason="building before TensorFlow traces its step (prebuild acts on TensorFlow only)")
def test_the_model_is_built_before_the_first_trace():
    import keras

    model = small_model(keras)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    x, y = np.zeros((8, 4), "float32"), np.zeros(8, "float32")
    assert not model.optimizer.built
    prebuild(model, (x, y))
    assert model.optimizer.built               # its variables exist before fit traces the step
    model.fit(x, y, epochs=1, verbose=0)        # and fit takes it from there

    class OwnStep(keras.Model):
        def train_step(self, data):
            return super().train_step(data)

    inputs = keras.Input((4,))
    custom = OwnStep(inputs, keras.layers.Dense(1)(inputs))
    custom.compile(optimizer="sgd", loss="mse")
    prebuild(custom, (x, y))
    assert not custom.optimizer.built          # a model with its own train_step is left to Keras


@pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "torch", reason="the PyTorch backend's rule")
def test_pytorch_runs_one_step_per_call():
    import keras

    from nnmagics.training import train

    small = small_model(keras)
    assert steps_per_call(small, 32, steps=7) == 1 and steps_per_call(small, 32, 100, accelerator=True) == 1
    history = train(small, table(), epochs=1, val_split=0.2, seed=0, reporter=False, batch_size=32)
    assert history.fits[-1]["params"]["steps_per_execution"] == 1 and int(small.optimizer.iterations) == 7
