"""The layer-kind table: one row per kind, read by parsing, formatting, the code, the size check, the editor
and the summary's explanations; a new kind is one row (``register_layer_kind``). The ``augment`` row is the
course's augmentation as one ``FusedAugment`` layer, also behind ``make_augmentation`` and ``AUGMENT_CODE``."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from nnmagics.model import network as nw
from nnmagics.model import spec as sp
from nnmagics.model import layer_sizes as ls
from nnmagics.model import spec_checks as sc
from nnmagics.model.build import AUGMENT_CODE, build_model, layer_code, make_augmentation, make_layer, model_code
from nnmagics.errors import NNUsageError

APIS = ["functional", "sequential", "subclass"]


def _explain_avgpool(layer, count):
    return f"{layer.pool_size[0]}×{layer.pool_size[1]} averages: no weights"


AVGPOOL = sp.LayerKind(
    "avgpool", (sp.Arg("size", sp.COUNT, 2, what="the pool size"),), "layers.AveragePooling2D",
    shape=ls.pool_shape, explain=_explain_avgpool, hint="size (e.g. 2)", example="avgpool 2",
    aliases=("meanpool",), image_only=True,
)


@pytest.fixture
def avgpool():
    """The new kind, registered as one row for the test and removed after it."""
    row = sp.register_layer_kind(AVGPOOL)
    yield row
    sp.unregister_layer_kind("avgpool")


# -- a new kind is one row ----------------------------------------------------------------------
def test_one_row_adds_the_word_to_the_language(avgpool):
    specs = sp.parse_layers("input 8x8x3, AvgPool 3, meanpool, averagepooling2d 2, flatten, dense 1 sigmoid")
    assert [s.kind for s in specs[1:4]] == ["avgpool"] * 3
    assert [s.size for s in specs[1:4]] == [3, 2, 2]                       # default size 2
    assert [str(s) for s in specs[1:4]] == ["avgpool 3", "avgpool 2", "avgpool 2"]
    assert "avgpool" in sp.layer_words()
    with pytest.raises(NNUsageError, match=r"Cannot read 'avgpool x': the pool size 'x' is not a whole number; "
                                           r"write it as: avgpool \[SIZE\], e.g\. avgpool 2\."):
        sp.parse_layers("input 8x8x3, avgpool x")
    with pytest.raises(NNUsageError, match="'avgpool 2' needs image inputs"):
        nw.check_layers(sp.parse_layers("input 4, avgpool 2"))
    with pytest.raises(NNUsageError, match="leaves nothing of the image"):
        nw.check_layers(sp.parse_layers("input 4x4x3, avgpool 8, flatten, dense 1 sigmoid"))


def test_without_the_row_the_word_is_unknown():
    with pytest.raises(NNUsageError, match="Unknown layer 'avgpool'"):
        sp.parse_layers("input 8x8x3, avgpool 2")


@pytest.mark.parametrize("api", APIS)
def test_one_row_gives_code_a_model_and_the_same_parameter_count(avgpool, api):
    text = "input 12x12x3, conv 4 3 relu, avgpool 2, flatten, dense 2 softmax"
    assert layer_code(sp.parse_layer("avgpool 2")) == "layers.AveragePooling2D(2)"
    code = model_code(text, api=api)
    assert "layers.AveragePooling2D(2)" in code
    model = build_model(text, api=api)
    assert any(type(layer).__name__ == "AveragePooling2D" for layer in model.layers)
    assert model.count_params() == nw.count_params(nw.check_layers(sp.parse_layers(text))) == 4 * 27 + 4 + 100 * 2 + 2
    namespace: dict = {}
    exec(code, namespace)                                    # the printed code builds the same network
    assert namespace["model"].count_params() == model.count_params()
    assert model.predict(np.zeros((1, 12, 12, 3), "float32"), verbose=0).shape == (1, 2)


def test_one_row_gives_the_summary_its_explanation(avgpool):
    from nnmagics.model.inspect import explain_params, summary_table

    model = build_model("input 8x8x3, avgpool 2, flatten, dense 1 sigmoid")
    table = summary_table(model).set_index("type")
    assert table.loc["AveragePooling2D", "why"] == "2×2 averages: no weights"
    assert table.loc["AveragePooling2D", "output shape"] == "(None, 4, 4, 3)"
    assert explain_params(model.layers[-1]) == "48 inputs × 1 units + 1 biases = 49"   # the dense row's


def test_one_row_appears_in_the_layer_editor(avgpool):
    from nnmagics.display.builder_panel import BuilderPanel

    ns: dict = {}
    panel = BuilderPanel(ns, "net", initial_layers="input 8x8x3\navgpool 2\nflatten\ndense 1 sigmoid")
    row = panel.rows[1]
    assert "avgpool" in row["kind"].options and row["kind"].value == "avgpool"
    assert row["value"].value == "2" and row["value"].placeholder == "size (e.g. 2)"
    assert row["activation"].disabled                           # the row takes no activation
    assert "49 parameters" in panel.status.value                 # 4*4*3 inputs × 1 + 1
    row["value"].value = "4"
    assert "13 parameters" in panel.status.value and "AveragePooling2D" in panel.summary.value
    row["kind"].value = "pool"                                   # the placeholder follows the kind's row
    assert row["value"].placeholder == "[size]"
    row["kind"].value = "avgpool"
    assert panel.build() is ns["net"] and type(ns["net"].layers[1]).__name__ == "AveragePooling2D"


def test_registration_refuses_words_of_other_kinds_and_replaces_on_request(avgpool):
    with pytest.raises(ValueError, match="exists already"):
        sp.register_layer_kind(AVGPOOL)
    with pytest.raises(ValueError, match="not already naming a kind"):
        sp.register_layer_kind(sp.LayerKind("avg", (), "layers.Flatten", aliases=("pool",)))
    with pytest.raises(TypeError):
        sp.register_layer_kind("avgpool SIZE")
    sp.register_layer_kind(sp.LayerKind("avgpool", (sp.Arg("size", sp.COUNT),), "layers.AveragePooling2D",
                                        shape=ls.pool_shape, image_only=True), replace=True)
    assert sp.kind_of("avgpool").usage == "avgpool SIZE" and "meanpool" not in sp.layer_words()
    with pytest.raises(NNUsageError, match="Unknown layer 'meanpool'"):
        sp.kind_of("meanpool")                                   # the old row's alias went with it


# -- every built-in row is consistent -----------------------------------------------------------
@pytest.mark.parametrize("row", sp.LAYER_KINDS, ids=lambda row: row.name)
def test_each_built_in_row_round_trips_and_makes_its_keras_class(row):
    line = row.example.split(" or ")[0] or row.name
    spec = sp.parse_layer(line)
    assert spec.kind == row.name and sp.format_layer(spec) == line
    assert sp.parse_layer(sp.format_layer(spec)) == spec
    assert sp.kind_of(row.keras_class) is row                    # Keras' class name is a word of the language
    if row.name == "input":
        assert layer_code(spec) == "keras.Input(shape=(2,))"
        return
    layer = make_layer(spec)
    assert type(layer).__name__ == row.keras_class and sp.kind_for_layer(layer) is row
    assert sp.check_spec(spec) == spec                           # canonical specs are a fixed point


def test_table_and_usage_match_what_the_docs_list():
    assert sp.layer_words() == ("input", "dense", "conv", "pool", "flatten", "dropout", "batchnorm", "gap",
                                "augment", "rescale")
    usages = {row.name: row.usage for row in sp.LAYER_KINDS}
    assert usages["dense"] == "dense UNITS [ACTIVATION], e.g. dense 3 relu"
    assert usages["conv"] == "conv FILTERS KERNEL [ACTIVATION], e.g. conv 16 3 relu"
    assert usages["augment"] == "augment [SEED]"
    assert [r.name for r in sp.LAYER_KINDS if r.training] == ["dropout", "batchnorm", "augment"]
    assert [r.name for r in sp.LAYER_KINDS if r.takes_activation] == ["dense", "conv"]


# -- augment: the fused, course-faithful augmentation -------------------------------------------
def test_augment_row_prints_the_fused_layer_its_import_and_the_course_line():
    from nnmagics.data.augment_fused import COURSE_PARAMS

    assert AUGMENT_CODE == layer_code(sp.LayerSpec("augment", {})) == "FusedAugment()"
    assert layer_code(sp.parse_layer("augment 7")) == "FusedAugment(seed=7)"
    for api in APIS:
        code = model_code("input 16x16x3, augment 3, flatten, dense 1 sigmoid", api=api)
        lines = code.splitlines()
        assert "from nnmagics.data.augment_fused import FusedAugment" in lines[:4]
        assert "Random" not in code                             # never the separate Keras augmentation layers
        comment = next(i for i, line in enumerate(lines) if line.strip().startswith("#") and "ImageDataGenerator" in line)
        assert COURSE_PARAMS.code() in lines[comment] and "FusedAugment(seed=3)" in lines[comment + 1]
    assert "FusedAugment" not in model_code("input 2, dense 1 sigmoid")    # imported only where used


@pytest.mark.parametrize("api", APIS)
def test_augment_builds_fused_augment_active_only_in_training(api):
    model = build_model("input 16x16x3, augment 5, flatten, dense 1 sigmoid", api=api)
    fused = [layer for layer in model.layers if type(layer).__name__ == "FusedAugment"]
    assert len(fused) == 1 and fused[0].seed == 5
    images = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    numpy = keras.ops.convert_to_numpy   # a tensor on any backend (PyTorch's may require grad)
    assert np.array_equal(numpy(model(images, training=False)), numpy(model(images, training=False)))
    assert not np.array_equal(numpy(fused[0](images, training=True)), images)


def test_make_augmentation_reads_the_same_row():
    layer = make_augmentation(seed=0)
    assert type(layer).__name__ == "FusedAugment" and layer.seed == 0
    images = np.random.default_rng(1).uniform(0, 255, (3, 20, 20, 3)).astype("float32")
    again = make_augmentation(seed=0)
    assert np.array_equal(keras.ops.convert_to_numpy(layer(images, training=True)),
                          keras.ops.convert_to_numpy(again(images, training=True)))
    assert make_augmentation().seed is None
    with pytest.raises(NNUsageError, match="seed must be a whole number"):
        make_augmentation(seed=-1)
