"""Feature maps for every kind of Keras model, the course's normalisation, the gallery and its widget."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg", force=True)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from nnmagics.errors import NNUsageError  # noqa: E402

LAYERS = "input 24x24x3, rescale 1/255, conv 4 3 relu, pool 2, conv 6 3 relu, pool 2, flatten, dense 1 sigmoid"


def image(seed: int = 0, size: int = 24) -> np.ndarray:
    return (np.random.default_rng(seed).random((size, size, 3)) * 255).astype("float32")


def layer_by_layer(layers, x) -> dict[str, np.ndarray]:
    """Independent reference: run the layers one after the other and keep every output."""
    out = {}
    for layer in layers:
        x = layer(x, training=False) if layer.__class__.__name__ == "Dropout" else layer(x)
        out[layer.name] = keras.ops.convert_to_numpy(x)[0]
    return out


def conv_pool(model):
    return [l for l in model.layers if type(l).__name__ in ("Conv2D", "MaxPooling2D")]


def count_calls(model) -> list:
    """Count the model's forward passes (an instance-level wrapper of ``model.call``)."""
    calls: list = []
    original = model.call

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    object.__setattr__(model, "call", counted)
    return calls


# ----------------------------------------------------------------------------- shapes and values
@pytest.mark.parametrize("api", ["functional", "sequential"])
def test_graph_models_match_keras_layer_outputs(api):
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import conv_pool_layers, feature_maps

    model = build_model(LAYERS, api=api)
    x = image()
    maps = feature_maps(model, x)
    expected = conv_pool(model)
    assert list(maps) == [l.name for l in expected] == conv_pool_layers(model)
    # the course's way (a multi-output Model on layer.output), computed by Keras itself
    course = keras.Model(model.inputs[0], [l.output for l in expected])(x[None])
    for layer, reference in zip(expected, course):
        assert maps[layer.name].shape == tuple(layer.output.shape[1:])
        np.testing.assert_allclose(maps[layer.name], keras.ops.convert_to_numpy(reference)[0], rtol=1e-5, atol=1e-5)


def test_sequential_without_input_is_built_by_the_call():
    import keras
    from keras import layers

    from nnmagics.diagnosis import feature_maps

    model = keras.Sequential([layers.Rescaling(1 / 255), layers.Conv2D(3, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(5, 3), layers.AveragePooling2D(2), layers.Flatten(), layers.Dense(2, activation="softmax")])
    assert not model.built
    x = image(1)
    maps = feature_maps(model, x)
    assert model.built
    reference = layer_by_layer(model.layers, x[None])
    names = [l.name for l in model.layers[1:5]]
    assert list(maps) == names
    for layer in model.layers[1:5]:
        assert maps[layer.name].shape == tuple(layer.output.shape[1:])
        np.testing.assert_allclose(maps[layer.name], reference[layer.name], rtol=1e-5, atol=1e-5)


def test_subclass_model_runs_its_layers():
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import feature_maps

    model = build_model(LAYERS, api="subclass")
    x = image(2)
    maps = feature_maps(model, x)
    reference = layer_by_layer(model.layers, x[None])   # Rescaling, Conv, Pool, Conv, Pool, Flatten, Dense
    expected = conv_pool(model)
    assert len(expected) == 4 and list(maps) == [l.name for l in expected]
    shape = (1, 24, 24, 3)
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        if layer in expected:
            assert maps[layer.name].shape == tuple(shape[1:])
            np.testing.assert_allclose(maps[layer.name], reference[layer.name], rtol=1e-5, atol=1e-5)


def test_nested_vgg16_base_inside_a_transfer_model():
    import keras
    from keras import layers

    from nnmagics.diagnosis import feature_maps

    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    inputs = keras.Input((32, 32, 3))
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(base(inputs)))
    model = keras.Model(inputs, outputs)
    x = image(3, 32)
    maps = feature_maps(model, x)
    inner = [l for l in base.layers if "conv" in l.name or "pool" in l.name]
    assert len(inner) == 18 and list(maps) == [l.name for l in inner]
    for layer in inner:
        assert maps[layer.name].shape == tuple(layer.output.shape[1:])
    last = keras.Model(base.inputs[0], base.get_layer("block3_pool").output)(x[None])
    np.testing.assert_allclose(maps["block3_pool"], keras.ops.convert_to_numpy(last)[0], rtol=1e-4, atol=1e-4)


def test_taps_are_removed_and_restored():
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import feature_maps

    model = build_model(LAYERS)
    first = conv_pool(model)[0]
    calls = count_calls(first)               # an instance-level `call` the user (or a test) installed
    feature_maps(model, image())
    assert calls == [1]
    assert first.__dict__["call"].__name__ == "counted"      # restored, not deleted
    assert all("call" not in l.__dict__ for l in conv_pool(model)[1:])
    model(image()[None])
    assert calls == [1, 1]


def test_layers_argument_and_file_paths(tmp_path):
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import feature_maps

    model = build_model(LAYERS)
    path = tmp_path / "photo.png"
    Image.fromarray(image(4, 40).astype("uint8")).save(path)          # 40×40: resized to 24×24
    second_conv = conv_pool(model)[2].name
    maps = feature_maps(model, str(path), layers=second_conv)
    assert list(maps) == [second_conv] and maps[second_conv].shape == (9, 9, 6)   # 24 → 22 → 11 → 9
    first, last = conv_pool(model)[0].name, conv_pool(model)[-1].name
    both = feature_maps(model, str(path), layers=f"{first}, {last}")                  # names separated by commas
    assert list(both) == [first, last] and both[last].shape == (4, 4, 6)


# ----------------------------------------------------------------------------- normalisation
def test_normalise_map_is_the_course_formula():
    from nnmagics.diagnosis import normalise_map, normalise_maps

    x = np.random.default_rng(5).normal(3, 2, (9, 7)).astype("float32")
    course = x.copy()
    course -= course.mean()
    course /= course.std()
    course *= 64
    course += 128
    course = np.clip(course, 0, 255).astype("uint8")
    got = normalise_map(x)
    assert got.dtype == np.uint8 and np.abs(got.astype(int) - course.astype(int)).max() <= 1
    flat = normalise_map(np.full((4, 4), 7.0))                        # std 0: no division by zero
    assert flat.dtype == np.uint8 and (flat == 128).all()
    stack = np.stack([x, np.full_like(x, 2.0)], axis=-1)
    together = normalise_maps(stack)
    assert np.abs(together[..., 0].astype(int) - got.astype(int)).max() <= 1 and (together[..., 1] == 128).all()


# ----------------------------------------------------------------------------- errors
def test_feature_map_errors(tmp_path):
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import feature_maps

    dense = build_model("input 2, dense 3 relu, dense 3 softmax")
    with pytest.raises(NNUsageError, match="no convolution or pooling layer"):
        feature_maps(dense, np.zeros((2,)))
    cnn = build_model(LAYERS)
    names = [l.name for l in conv_pool(cnn)]
    with pytest.raises(NNUsageError, match="no convolution or pooling layer named 'conv99'") as info:
        feature_maps(cnn, image(), layers="conv99")
    assert all(n in str(info.value) for n in names)
    with pytest.raises(NNUsageError, match="No such image file"):
        feature_maps(cnn, str(tmp_path / "missing.jpg"))
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image")
    with pytest.raises(NNUsageError, match="is not an image"):
        feature_maps(cnn, str(fake))
    with pytest.raises(NNUsageError, match="expects 24×24×3"):
        feature_maps(cnn, image(0, 30))


# ----------------------------------------------------------------------------- the gallery
def test_gallery_widget_switches_layer_and_image_from_the_cache():
    from nnmagics.model.build import build_model
    from nnmagics.display.feature_gallery import ALL_LAYERS, FeatureGallery

    model = build_model("input 24x24x3, rescale 1/255, conv 20 3 relu, pool 2, flatten, dense 1 sigmoid")
    calls = count_calls(model)
    images = [image(i) for i in range(3)]
    gallery = FeatureGallery(model, images, index=0, per_row=8)
    box = gallery.widget()
    assert type(box).__name__ == "VBox"
    conv, pool = gallery.layer_names
    assert gallery.layer_dropdown.options == (ALL_LAYERS, conv, pool)
    assert (gallery.image_slider.min, gallery.image_slider.max, gallery.image_slider.value) == (0, 2, 0)
    assert calls == [1] and gallery.compute_count == 1
    assert conv in gallery.view.value and pool in gallery.view.value and "first 8 of 20 channels" in gallery.view.value

    gallery.layer_dropdown.value = pool                      # switch layer: nothing recomputed
    assert gallery.layer == pool and pool in gallery.view.value and f">{conv} <" not in gallery.view.value
    assert calls == [1]
    gallery.image_slider.value = 2                            # a new image: one forward pass
    assert gallery.index == 2 and calls == [1, 1] and "image 2" in gallery.view.value
    assert gallery.maps()[pool].shape == (11, 11, 20)
    np.testing.assert_allclose(gallery.maps(2)[conv], gallery.maps_set.compute(images[2])[conv])   # right image
    calls.clear()
    gallery.image_slider.value = 0                            # back: cached
    gallery.layer_dropdown.value = ALL_LAYERS
    assert calls == [] and gallery.compute_count == 2 and gallery.layer is None
    before = len(gallery._png)
    gallery.show_all_toggle.value = True                      # all 20 channels in rows of 8
    assert gallery.show_all and "20 channels" in gallery.view.value and "first 8" not in gallery.view.value
    assert len(gallery._png) == before + 2 and calls == []
    gallery.show_all_toggle.value = False
    assert len(gallery._png) == before + 2                    # rendered strips are cached too


def test_gallery_static_fallback_and_figure(ip, capsys):
    import matplotlib.pyplot as plt
    from IPython.display import display

    from nnmagics.model.build import build_model
    from nnmagics.display.feature_gallery import ALL_LAYERS, FeatureGallery

    model = build_model(LAYERS)
    gallery = FeatureGallery(model, image(), layer=conv_pool(model)[1].name)
    display(gallery)                          # plain IPython: text, no widget
    out = capsys.readouterr().out
    assert "Feature maps of" in out and conv_pool(model)[1].name in out and "VBox" not in out
    assert gallery.html().count("<img") == 1
    html = gallery.html(layer=ALL_LAYERS)
    assert html.count("<img") == 4 and "data:image/png;base64," in html
    fig = gallery.figure()
    assert len(fig.axes) == 1 and plt.get_fignums() == []
    with pytest.raises(NNUsageError, match="out of range"):
        FeatureGallery(model, [image()], index=3)


def test_diagnose_builds_an_unbuilt_sequential_at_the_right_size(tmp_path):
    import keras
    from keras import layers

    from nnmagics.data.images import load_images
    from nnmagics.diagnosis import diagnose

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.full((40, 30, 3), 90 if name == "a" else 200, "uint8")).save(tmp_path / name / "x.png")
    data = load_images(str(tmp_path), image_size=20)
    photo = str(tmp_path / "a" / "x.png")                                  # a 40×30 file

    def unbuilt():
        return keras.Sequential([layers.Rescaling(1 / 255), layers.Conv2D(3, 3), layers.MaxPooling2D(2),
                                 layers.Flatten(), layers.Dense(1, activation="sigmoid")], name="noinput")

    alone = diagnose(unbuilt(), feature_maps=photo)                        # nothing says the size: the file's
    assert [m.shape for m in alone.feature_maps.values()] == [(38, 28, 3), (19, 14, 3)]
    assert any("had not been built yet" in n and "40×30" in n for n in alone.notes)
    with_data = diagnose(unbuilt(), data, feature_maps=photo, show="confusion")   # the data's size: 20×20
    assert [m.shape for m in with_data.feature_maps.values()] == [(18, 18, 3), (9, 9, 3)]
    assert with_data.confusion.to_numpy().sum() == 2
