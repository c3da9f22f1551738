"""The layer language: parsing, presets, completion from data, and its errors."""
import pytest

from nnmagics.errors import NNUsageError
from nnmagics.model.presets import complete_layers, preset_layers
from nnmagics.model.network import check_layers
from nnmagics.model.spec import format_layer, parse_layers


def test_parses_every_layer_word_and_round_trips():
    text = ("input 150x150x3, rescale 1/255, augment, conv 16 3 relu, pool 2, batchnorm, conv 8 3x5, gap, "
            "dropout 0.5, dense 10 relu, flatten, dense 1 sigmoid")
    specs = parse_layers(text)
    assert [s.kind for s in specs] == ["input", "rescale", "augment", "conv", "pool", "batchnorm", "conv", "gap",
                                       "dropout", "dense", "flatten", "dense"]
    assert specs[0].shape == (150, 150, 3)
    assert specs[3].filters == 16 and specs[3].kernel == 3 and specs[3].activation == "relu"
    assert specs[6].kernel == (3, 5) and specs[6].activation is None
    assert specs[1].value == pytest.approx(1 / 255)
    assert [format_layer(s) for s in parse_layers(", ".join(format_layer(s) for s in specs))] == \
        [format_layer(s) for s in specs]


def test_cell_form_with_comments_and_aliases():
    specs = parse_layers("""
        # the course's dense net
        Input 2
        Dense 3 ReLU   # hidden
        dense 3 softmax
    """)
    assert [str(s) for s in specs] == ["input 2", "dense 3 relu", "dense 3 softmax"]


@pytest.mark.parametrize("text, words", [
    ("input 2, dense 3 rleu", ["activation 'rleu'", "relu"]),
    ("input 2, dens 3", ["layer 'dens'", "dense"]),
    ("input 2, dense three", ["'three' is not a whole number"]),
    ("input 2, dense -3", ["must be positive"]),
    ("input 2, dropout 1", ["[0, 1)"]),
    ("input 2, dropout x", ["needs a number in [0, 1), not 'x'", "dropout RATE"]),
    ("input 2, augment x", ["seed must be a whole number"]),
    ("input 8x8x3, conv 4 3x3x3", ["kernel must be one size or HxW"]),
    ("input 2, conv 16", ["conv FILTERS KERNEL"]),
    ("input 0", ["must be positive"]),
])
def test_errors_say_what_and_how(text, words):
    with pytest.raises(NNUsageError) as info:
        check_layers(parse_layers(text))
    for word in words:
        assert word in str(info.value)


def test_conv_on_a_flat_input_is_refused():
    with pytest.raises(NNUsageError, match="needs image inputs"):
        check_layers(parse_layers("input 2, conv 16 3 relu"))


def test_image_network_needs_flatten_before_dense():
    with pytest.raises(NNUsageError, match="flatten"):
        check_layers(parse_layers("input 32x32x3, conv 4 3, dense 2 softmax"))


def test_missing_input_is_explained():
    with pytest.raises(NNUsageError, match="--from DATA"):
        check_layers(parse_layers("dense 3 relu"))


def test_presets_and_unknown_preset():
    assert [str(s) for s in preset_layers("course-dense")] == ["input 2", "dense 3 relu", "dense 3 relu", "dense 3 softmax"]
    assert preset_layers("course-cnn")[1].kind == "rescale"
    with pytest.raises(NNUsageError, match="Did you mean 'course-cnn'"):
        preset_layers("course-cn")


def test_completion_from_data_shape_and_classes():
    specs = complete_layers(parse_layers("dense 3 relu, dense 3 relu"), input_shape=(2,), num_classes=3)
    assert [str(s) for s in specs] == ["input 2", "dense 3 relu", "dense 3 relu", "dense 3 softmax"]
    # an existing output layer is replaced by the one the data needs: 2 classes -> 1 sigmoid unit
    specs = complete_layers(preset_layers("course-dense"), input_shape=(2,), num_classes=2, dropout=0.5)
    assert [str(s) for s in specs][-2:] == ["dropout 0.5", "dense 1 sigmoid"]


def test_completion_refuses_a_contradicting_input():
    with pytest.raises(NNUsageError, match="shape 4"):
        complete_layers(parse_layers("input 2, dense 3 softmax"), input_shape=(4,), num_classes=3)


@pytest.mark.parametrize("text", [
    "input 2, dense 3 relu, dense 3 relu, dense 3 softmax",
    "input 150x150x3, rescale 1/255, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, conv 64 3 relu, pool 2, "
    "flatten, dense 512 relu, dense 1 sigmoid",
    "input 20x24x3, augment, conv 4 3x5, batchnorm, pool 3, gap, dropout 0.5, dense 2 softmax",
])
def test_parameter_count_without_building_matches_keras(text):
    from nnmagics.model.build import build_model
    from nnmagics.model.network import count_params

    specs = check_layers(parse_layers(text))
    assert count_params(specs) == build_model(specs).count_params()


def test_names_and_rescale_factors_that_reach_code_are_checked():
    from nnmagics.model.spec import LayerSpec
    from nnmagics.model.spec_checks import check_name
    from nnmagics.model.spec import check_spec

    assert check_name("model_1") == "model_1"
    for bad in ("a/b", "2x", "class", "m x", 'm"', ""):
        with pytest.raises(NNUsageError, match="not a valid model name"):
            check_name(bad)
    for scale, value in (("1/255", 1 / 255), ("0.5", 0.5), (".5", 0.5), ("1e-3", 1e-3), ("-1/127.5", -1 / 127.5),
                         (0.5, 0.5)):
        checked = check_spec(LayerSpec("rescale", {"scale": scale, "value": 0.0}))
        assert checked.value == pytest.approx(value)          # the derived value is recomputed, never trusted
    for scale in ("1/0", "1/255)", "2**30", "1e999", True, None):
        with pytest.raises(NNUsageError, match="rescale factor"):
            check_spec(LayerSpec("rescale", {"scale": scale, "value": 0.0}))


def test_python_specs_are_made_canonical_before_reaching_code():
    from nnmagics.model.build import layer_code
    from nnmagics.model.spec import LayerSpec

    assert layer_code(LayerSpec("dense", {"units": "3", "activation": "ReLU"})) == 'layers.Dense(3, activation="relu")'
    assert layer_code(LayerSpec("conv", {"filters": 4.0, "kernel": [3, 3]})) == "layers.Conv2D(4, 3)"
    assert layer_code(LayerSpec("input", {"shape": [150, 150, 3]})) == "keras.Input(shape=(150, 150, 3))"
    assert layer_code(LayerSpec("rescale", {"scale": ".5"})) == "layers.Rescaling(0.5)"  # rebuilt from the number
    assert layer_code(LayerSpec("Dropout", {"rate": 0.25})) == "layers.Dropout(0.25)"      # Keras' name works too
    with pytest.raises(NNUsageError, match=r"^Layer 'dense': the number of units 3\.5 is not a whole number"):
        layer_code(LayerSpec("dense", {"units": 3.5}))
    with pytest.raises(NNUsageError, match="the number of units is missing"):
        layer_code(LayerSpec("dense", {}))
