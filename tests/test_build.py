"""Building models the three ways, the printed code, summaries, weights and their files."""
import os

import numpy as np
import pytest

from nnmagics.model.build import build_model, model_code, specs_of
from nnmagics.errors import NNUsageError
from nnmagics.model.inspect import summary_table, weights_tables
from nnmagics.model.weights_io import load_weights, save_weights

APIS = ["functional", "sequential", "subclass"]


@pytest.mark.parametrize("api", APIS)
def test_course_dense_same_network_each_api(api):
    model = build_model(preset="course-dense", api=api)
    assert model.count_params() == 33  # 2*3+3 + 3*3+3 + 3*3+3
    x = np.zeros((4, 2), dtype="float32")
    assert model.predict(x, verbose=0).shape == (4, 3)
    kinds = {"functional": "Functional", "sequential": "Sequential", "subclass": "Net"}
    assert type(model).__name__ == kinds[api]


def test_course_cnn_parameter_count_and_rescaling():
    model = build_model(preset="course-cnn")
    assert model.count_params() == 9_494_561
    assert type(model.layers[1]).__name__ == "Rescaling"
    assert model.output_shape == (None, 1)


@pytest.mark.parametrize("api", APIS)
def test_printed_code_runs_and_rebuilds_the_same_model(api):
    import keras

    model = build_model("input 32x32x3, rescale 1/255, augment, conv 4 3 relu, pool 2, batchnorm, flatten, "
                        "dropout 0.5, dense 2 softmax", api=api)
    code = model_code(specs_of(model), api=api)
    namespace = {}
    exec(code, namespace)
    rebuilt = namespace["model"]
    assert isinstance(rebuilt, keras.Model)
    assert rebuilt.count_params() == model.count_params()
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in model.weights]


def test_summary_explains_dense_parameters():
    table = summary_table(build_model(preset="course-dense"))
    dense = table[table["type"] == "Dense"]
    assert list(dense["params"]) == [9, 12, 12]
    assert dense["why"].iloc[0] == "2 inputs × 3 units + 3 biases = 9"
    assert table.attrs["total"] == 33 and table.attrs["trainable"] == 33


def test_weights_tables_are_labelled_kernel_and_bias():
    tables = weights_tables(build_model(preset="course-dense"))
    titles = [t for t, _ in tables]
    assert len(tables) == 6
    assert "kernel (2, 3)" in titles[0] and "bias (3,)" in titles[1]
    kernel = tables[0][1]
    assert list(kernel.index) == ["input 0", "input 1"] and list(kernel.columns) == ["unit 0", "unit 1", "unit 2"]
    assert (tables[1][1].to_numpy() == 0).all()  # untrained biases are zero, as the course notes


def test_weights_round_trip_across_apis(tmp_path):
    source = build_model(preset="course-dense", api="functional")
    path = save_weights(source, str(tmp_path / "dense"))
    assert path.endswith("dense.weights.h5") and os.path.exists(path)
    target = build_model(preset="course-dense", api="subclass")
    load_weights(target, path)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loading_another_architecture_is_refused_and_keeps_weights(tmp_path):
    path = save_weights(build_model(preset="course-dense"), str(tmp_path / "w.weights.h5"))
    other = build_model("input 2, dense 3 relu, dense 3 softmax")
    before = other.get_weights()
    with pytest.raises(NNUsageError, match="another architecture"):
        load_weights(other, path)
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(NNUsageError, match="not found"):
        load_weights(other, str(tmp_path / "missing.weights.h5"))


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = build_model(preset="course-dense")
    path = save_weights(model, str(tmp_path / "keep.weights.h5"))
    original = open(path, "rb").read()

    def broken_save(self, filepath, *a, **k):
        with open(filepath, "wb") as handle:
            handle.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(type(model), "save_weights", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_weights(model, path)
    assert open(path, "rb").read() == original
    assert [f for f in os.listdir(tmp_path) if f.startswith(".nnmagics-")] == []


@pytest.mark.tensorflow(reason="tf.distribute.MirroredStrategy")
def test_builds_inside_a_distribution_strategy_scope():
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        model = build_model(preset="course-dense")
    outside = build_model(preset="course-dense")
    assert strategy.extended.variable_created_in_scope(model.weights[0].value)
    assert not strategy.extended.variable_created_in_scope(outside.weights[0].value)


def test_bad_api_and_both_preset_and_layers():
    with pytest.raises(NNUsageError, match="Unknown API 'seq'. Did you mean 'sequential'"):
        build_model(preset="course-dense", api="seq")
    with pytest.raises(NNUsageError, match="either --preset or layers"):
        build_model("dense 3 relu", preset="course-dense")
