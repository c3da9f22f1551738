"""uint8 to the accelerator: with a GPU/TPU the pipeline serves the cached uint8 pixels and the model casts.

No GPU here: the device list is injected (``device.detect(gpus=[...])`` in place of the probe), so the
accelerator path — uint8 batches, augmentation and cast in the training step — runs on this CPU.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from nnmagics.data.augment_fused import placement  # noqa: E402
from nnmagics.training import train  # noqa: E402
from nnmagics.training.inputs import input_feed, make_inputs, validation_inputs  # noqa: E402

pytestmark = pytest.mark.tensorflow(reason="reads the tf.data element_spec of the device feed (off TensorFlow "
                                            "the feed is numpy batches: tests/test_batches.py, tests/test_backends.py)")

GPU = [{"name": "Test GPU"}]   # no compute capability: auto precision stays float32 on this CPU


@pytest.fixture(scope="module")
def cats(samples):
    from nnmagics.data import load_data

    return load_data(samples["images"], image_size=32, name="cats")


@pytest.fixture
def on_gpu(monkeypatch):
    """``train`` sees one GPU (the device list injected into ``device.detect``)."""
    from nnmagics.runtime import device

    real = device.detect
    monkeypatch.setattr(device, "detect", lambda **kw: real(**(kw or {"gpus": GPU, "tpu": False})))
    return real


@pytest.fixture
def fed(monkeypatch):
    """What ``train`` hands to ``fit``: the element spec of each pipeline ``make_inputs`` builds."""
    from nnmagics.training import fit, inputs

    specs = []

    def spy(*args, **kwargs):
        out = make_inputs(*args, **kwargs)
        specs.append(out["x"].element_spec)
        return out

    monkeypatch.setattr(fit, "make_inputs", spy)         # the training pipeline
    monkeypatch.setattr(inputs, "make_inputs", spy)      # the validation pipeline (validation_inputs)
    return specs


def small_cnn(data, name="cnn"):
    from nnmagics.model.build import build_model

    return build_model("rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 8 relu", data=data, name=name)


# ------------------------------------------------------------------------------ the rule
@pytest.mark.parametrize("devices, pixels", [(["GPU:0", "CPU:0"], "uint8"), (["CPU:0", "TPU:0"], "uint8"),
                                             (["CPU:0"], "float32"), ([], "float32")])
def test_feed_follows_the_devices(cats, devices, pixels):
    feed = input_feed(placement(devices), cats, augment=True)
    assert feed.pixels == pixels and feed.on_device == (pixels == "uint8")
    assert feed.augment.where == ("model" if pixels == "uint8" else "pipeline")
    assert input_feed(placement(devices), cats, augment=False).augment is None


def test_tables_are_fed_as_they_are_on_a_gpu(samples):
    from nnmagics.data.tables import load_table

    data4 = load_table(samples["table"], sheet="data4", name="data4")
    feed = input_feed(placement(["GPU:0", "CPU:0"]), data4, augment=False)
    assert feed.pixels == "float32" and not feed.on_device


def test_uint8_pipeline_serves_the_same_pixels_uncast(cats):
    as_uint8 = make_inputs(cats, class_mode="binary", batch_size=8, shuffle=False, seed=None, pixels="uint8")["x"]
    as_float = make_inputs(cats, class_mode="binary", batch_size=8, shuffle=False, seed=None)["x"]
    assert as_uint8.element_spec[0].dtype.name == "uint8" and as_float.element_spec[0].dtype.name == "float32"
    (xu, yu), (xf, yf) = next(iter(as_uint8)), next(iter(as_float))
    assert xu.dtype.name == "uint8" and np.array_equal(xu.numpy().astype("float32"), xf.numpy())
    assert np.array_equal(yu.numpy(), yf.numpy())
    val = validation_inputs(cats, class_mode="binary", batch_size=8, pixels="uint8")
    assert val.element_spec[0].dtype.name == "uint8"


# ------------------------------------------------------------------------------ training through it
def test_training_on_an_injected_gpu_feeds_uint8_and_trains_the_model(cats, on_gpu, fed):
    model = small_cnn(cats)
    before = [w.copy() for w in model.get_weights()]
    log = []

    class Spy:
        def on_train_begin(self, info): log.append((info.device, info.augment))
        def on_batch(self, *a): pass
        def on_epoch(self, *a): pass
        def on_train_end(self, status): log.append(status)
        def poll(self): pass

    history = train(model, cats, val_split=0.25, epochs=2, augment=True, seed=0, reporter=Spy())
    assert [spec[0].dtype.name for spec in fed] == ["uint8", "uint8"]          # training and validation
    assert history.params["pixels"] == "uint8" and history.params["augment"] == "model"
    assert history.params["precision"] == "float32"
    import keras

    backend = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}[keras.backend.backend()]
    assert log[0][0] == f"GPU: Test GPU · {backend}"                          # the badge names the backend
    assert "inside the training step" in log[0][1] and "uint8" in log[0][1]
    assert log[-1] == "finished"
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    assert len(history.history["val_accuracy"]) == 2
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))    # the model's own weights
    assert model.input.dtype == "float32"                                              # the model stays as built
    assert not any(type(layer).__name__ == "FusedAugment" for layer in model.layers)


def test_uint8_without_augmentation_trains_exactly_as_float32(cats, on_gpu, fed, monkeypatch):
    """The same fit, once with uint8 batches cast in the model (injected GPU), once on float32 batches (CPU)."""
    gpu_model = small_cnn(cats, "a")
    cpu_model = small_cnn(cats, "b")
    cpu_model.set_weights(gpu_model.get_weights())
    on_gpu_history = train(gpu_model, cats, epochs=2, seed=0, reporter=False, optimizer="sgd", lr=0.01)
    from nnmagics.runtime import device

    monkeypatch.setattr(device, "detect", lambda **kw: on_gpu(**(kw or {"gpus": [], "tpu": False})))
    on_cpu_history = train(cpu_model, cats, epochs=2, seed=0, reporter=False, optimizer="sgd", lr=0.01)
    assert [spec[0].dtype.name for spec in fed] == ["uint8", "uint8", "float32", "float32"]   # train, validation
    assert on_gpu_history.params["pixels"] == "uint8" and on_cpu_history.params["pixels"] == "float32"
    assert on_gpu_history.params["augment"] is False
    steps = on_gpu_history.params["steps"]
    assert on_gpu_history.params["steps_per_execution"] == min(10, steps) > 1   # a GPU: several steps per call
    for a, b in zip(gpu_model.get_weights(), cpu_model.get_weights()):
        assert np.allclose(a, b, atol=1e-5)
    assert np.allclose(on_gpu_history.history["loss"], on_cpu_history.history["loss"], atol=1e-5)


def test_the_cpu_keeps_float32_batches_and_the_pipeline_augmentation(cats, fed, monkeypatch):
    from nnmagics.runtime import device

    real = device.detect
    monkeypatch.setattr(device, "detect", lambda **kw: real(**(kw or {"gpus": [], "tpu": False})))
    history = train(small_cnn(cats), cats, epochs=1, augment=True, seed=0, reporter=False)
    assert [spec[0].dtype.name for spec in fed] == ["float32", "float32"]
    assert history.params["pixels"] == "float32" and history.params["augment"] == "pipeline"


def test_uint8_feed_with_a_bfloat16_clone_and_a_checkpoint(cats, on_gpu, fed, tmp_path):
    """The device path composes with mixed precision (a clone) and the atomic checkpoint of the user's model."""
    from nnmagics.training.runner import _RUNNERS

    model = small_cnn(cats)
    path = str(tmp_path / "best.weights.h5")
    history = train(model, cats, epochs=1, augment=True, seed=0, reporter=False, mixed_precision="mixed_bfloat16",
                    checkpoint=path)
    runner = _RUNNERS[model][1]
    assert history.params["precision"] == "mixed_bfloat16" and history.params["pixels"] == "uint8"
    assert [spec[0].dtype.name for spec in fed] == ["uint8", "uint8"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), runner.get_weights()))
    assert os.path.exists(path) and history.params["checkpoint"] == path


def test_rescaled_data_is_fed_as_float32_with_the_augmentation_in_the_pipeline(cats, on_gpu, fed):
    """``--rescale 1/255`` makes floats in 0–1: sent as uint8 they would all become 0 or 1."""
    import copy

    rescaled = copy.copy(cats)
    rescaled.rescale = 1 / 255
    feed = input_feed(placement(["GPU:0", "CPU:0"]), rescaled, augment=True)
    assert feed.pixels == "float32" and feed.augment.where == "pipeline" and "rescale" in feed.augment.reason
    from nnmagics.model.build import build_model

    model = build_model("conv 4 3 relu, pool 2, flatten, dense 8 relu", data=rescaled, name="plain")
    history = train(model, rescaled, epochs=1, augment=True, seed=0, reporter=False)
    assert history.fits[-1]["params"]["pixels"] == "float32" and history.fits[-1]["params"]["augment"] == "pipeline"
    assert all(spec[0].dtype.name == "float32" for spec in fed)
    x = next(iter(make_inputs(rescaled, class_mode="binary", batch_size=8, shuffle=False, seed=0)["x"]))[0]
    assert 0.0 <= float(np.min(x)) and float(np.max(x)) <= 1.0
