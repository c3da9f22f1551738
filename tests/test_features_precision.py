"""The cached VGG16 features pass follows ``--mixed-precision``: bfloat16 on CPUs with AVX512_BF16/AMX.

Random VGG16 weights (``weights="none"``: nothing is downloaded), 32×32 images; the CPU flags are injected
into ``device.detect`` so the choice is tested whatever this machine has.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from nnmagics import transfer as tr  # noqa: E402
from nnmagics.training import feature_cache as fc  # noqa: E402


def features_model(data):
    return tr.vgg_transfer(mode="features", data=data, name="fm", weights="none")


@pytest.fixture
def passes(monkeypatch):
    """The precision of every VGG16 pass that actually runs."""
    seen = []
    real = fc._run_base

    def spy(base, data, batch_size=fc.BASE_BATCH, precision="float32"):
        seen.append(precision)
        return real(base, data, batch_size, precision)

    monkeypatch.setattr(fc, "_run_base", spy)
    fc.clear_memory_cache()
    return seen


def cpu(monkeypatch, flags):
    from nnmagics.runtime import device

    real = device.detect
    monkeypatch.setattr(device, "detect", lambda **kw: real(**(kw or {"gpus": [], "tpu": False, "cpu_flags": flags})))


def test_bfloat16_features_are_close_to_float32_and_cached_apart(tiny_images, passes):
    model = features_model(tiny_images)
    base, _ = fc.split_features_model(model)
    f32, labels = fc.cached_features(base, tiny_images)
    b16, labels16 = fc.cached_features(base, tiny_images, precision="mixed_bfloat16")
    assert passes == ["float32", "mixed_bfloat16"]                       # two passes: two keys
    assert fc.cache_key(base, tiny_images) != fc.cache_key(base, tiny_images, precision="mixed_bfloat16")
    assert b16.dtype == f32.dtype == np.float32 and b16.shape == f32.shape == (8, 512)
    assert np.array_equal(labels, labels16)
    assert not np.array_equal(f32, b16)                                  # it really ran in bfloat16
    relative = np.linalg.norm(b16 - f32) / np.linalg.norm(f32)
    assert relative < 0.03, relative                                     # measured ~0.005 with random weights
    assert np.corrcoef(f32.ravel(), b16.ravel())[0, 1] > 0.999
    fc.clear_memory_cache()                                              # from disk, each under its own key
    assert np.array_equal(fc.cached_features(base, tiny_images, precision="mixed_bfloat16")[0], b16)
    assert np.array_equal(fc.cached_features(base, tiny_images)[0], f32)
    assert len(passes) == 2
    fast = fc.base_under(base, "mixed_bfloat16")
    assert fast.get_layer("block3_conv2").dtype_policy.name == "mixed_bfloat16"
    assert fast.get_layer("vgg16_preprocess").dtype_policy.name == "float32"
    assert base.get_layer("block3_conv2").dtype_policy.name == "float32"   # the model itself is untouched
    assert fc.base_under(base, "float32") is base


def test_train_runs_the_pass_in_bfloat16_on_a_cpu_with_avx512_bf16(tiny_images, passes, monkeypatch):
    from nnmagics.training import train

    cpu(monkeypatch, ["avx512f", "avx512_bf16"])
    hints = []

    class Spy:
        def on_train_begin(self, info): hints.extend(info.hints)
        def on_batch(self, *a): pass
        def on_epoch(self, *a): pass
        def on_train_end(self, status): pass
        def poll(self): pass

    history = train(features_model(tiny_images), tiny_images, val=tiny_images, epochs=2, seed=0, reporter=Spy())
    assert passes == ["mixed_bfloat16"]                                  # train and validation: the same files
    assert any("features computed under mixed_bfloat16" in h for h in hints), hints
    assert history.params["precision"] == "float32"                      # the head trains in float32
    assert len(history.history["val_accuracy"]) == 2


def test_train_keeps_float32_features_on_a_cpu_without_them(tiny_images, passes, monkeypatch):
    from nnmagics.training import train

    cpu(monkeypatch, ["avx2"])
    train(features_model(tiny_images), tiny_images, epochs=1, seed=0, reporter=False)
    train(features_model(tiny_images), tiny_images, epochs=1, seed=0, reporter=False, mixed_precision="on")
    assert passes == ["float32", "mixed_bfloat16"]                       # --mixed-precision on asks for it
