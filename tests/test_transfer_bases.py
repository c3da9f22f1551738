"""%nn_transfer: every keras.applications base, the course's InceptionV3 cut at mixed7 and fine-tuned after mixed6.

Random weights (``--weights none``) and weights saved to a file; no test downloads anything.
"""
import inspect
import os

import numpy as np
import pytest

from nnmagics import transfer as tr
from nnmagics.errors import NNUsageError
from nnmagics.transfer import app_models as am
from nnmagics.transfer import bases as tb
from nnmagics.training import feature_cache as fc
from nnmagics.transfer import weights as tw


def _images(folder, n_per_class=3, size=(80, 80), seed=0):
    from test_transfer import _images as write_images  # the same small PNG folders

    return write_images(folder, n_per_class, size, seed)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    return _images(str(tmp_path_factory.mktemp("bases_images")))


@pytest.fixture(scope="module")
def cats(image_dir):
    from nnmagics.data.images import load_images

    return load_images(image_dir, image_size=75, batch_size=3)


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """An empty Keras cache and no network: the probe answers no at once."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv(tw.OFFLINE_ENV, "1")
    return tmp_path / "keras_home" / "models"


@pytest.fixture(scope="module")
def inception(cats):
    """The course's source exercise: InceptionV3 cut at mixed7, Flatten, Dense(1024), Dropout(0.2)."""
    return am.transfer_model("inception_v3", data=cats, cut="mixed7", pooling="flatten", head_units=1024,
                             dropout=0.2, weights="none", name="tl")


# ----------------------------------------------------------------------------- the table
def test_the_table_names_every_base_keras_ships():
    import keras

    shipped = {name for name, value in vars(keras.applications).items()
               if inspect.isfunction(value) and name[:1].isupper()}
    assert shipped == {b.cls for b in tb.BASES}, shipped ^ {b.cls for b in tb.BASES}
    for b in tb.BASES:   # each row's module holds the class and its preprocess_input
        module = getattr(keras.applications, b.module)
        assert callable(getattr(module, "preprocess_input")) and tb.constructor(b).__name__ == b.cls


@pytest.mark.parametrize("typed, name", [("InceptionV3", "inception_v3"), ("inception-v3", "inception_v3"),
                                         ("RESNET50", "resnet50"), ("efficientnetb0", "efficientnet_b0")])
def test_base_names_are_forgiving(typed, name):
    assert tb.find_base(typed).name == name


def test_an_unknown_base_names_the_closest():
    with pytest.raises(NNUsageError, match="Did you mean 'inception_v3'"):
        tb.find_base("inceptoin_v3")


# ----------------------------------------------------------------------------- the course's exercise
def test_inception_cut_at_mixed7_is_the_course_model(inception):
    import keras

    base = inception.get_layer("inception_v3")
    assert base.output.shape[1:] == keras.applications.InceptionV3(
        weights=None, include_top=False, input_shape=(75, 75, 3)).get_layer("mixed7").output.shape[1:]
    assert base.layers[-1].name == "mixed7" and not base.trainable
    assert [layer.name for layer in inception.layers] == ["preprocess", "inception_v3", "flatten", "head_dense",
                                                          "head_dropout", "output"]
    assert inception.get_layer("head_dense").units == 1024 and inception.get_layer("head_dropout").rate == 0.2
    # raw 0-255 pixels in: the model applies InceptionV3's own preprocess_input
    x = np.random.default_rng(0).uniform(0, 255, (2, 75, 75, 3)).astype("float32")
    inner = keras.Model(inception.inputs, inception.get_layer("preprocess").output)
    expected = keras.applications.inception_v3.preprocess_input(x.copy())
    np.testing.assert_allclose(np.asarray(inner(x)), expected, atol=1e-6)
    assert tr.transfer_info(inception)["mode"] == "features"


def test_fine_tune_after_mixed6_is_the_course_loop(cats):
    import keras

    model = am.transfer_model("inception_v3", data=cats, cut="mixed7", weights="none", name="ft")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    am.fine_tune_after(model, "mixed6", learning_rate=1e-5)
    base = model.get_layer("inception_v3")
    names = [layer.name for layer in base.layers]
    after = base.layers[names.index("mixed6") + 1:]
    assert all(not layer.trainable for layer in base.layers[: names.index("mixed6") + 1])
    assert all(layer.trainable == (not isinstance(layer, keras.layers.BatchNormalization)) for layer in after)
    assert any(layer.trainable_weights for layer in after)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(1e-5)
    assert fc.cache_plan(model)[0] is False  # the base trains now: no cached features
    code = am.app_transfer_code(model)
    assert 'if layer.name == "mixed6":' in code and "keras.optimizers.SGD(learning_rate=1e-05)" in code


def test_features_mode_trains_the_head_on_cached_base_outputs(inception, cats, monkeypatch):
    import nnmagics as nm

    passes = []
    real = fc._run_base
    monkeypatch.setattr(fc, "_run_base", lambda *a, **k: passes.append(1) or real(*a, **k))
    fc.clear_memory_cache()
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(os.path.join(os.path.dirname(cats.files[0]), "..", "cache")))
    before = [np.array(w) for w in inception.get_layer("inception_v3").get_weights()[:3]]
    nm.train(inception, cats, epochs=2, reporter=False)
    nm.train(inception, cats, epochs=1, reporter=False)
    assert len(passes) == 1   # InceptionV3 ran once, for the first epoch; later epochs trained the head only
    after = inception.get_layer("inception_v3").get_weights()[:3]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # the base stayed frozen
    assert len(nm.history_of(inception).history["loss"]) == 3


# ----------------------------------------------------------------------------- code and weights
def test_printed_code_builds_the_same_model(inception):
    import keras

    namespace = {}
    exec(am.app_transfer_code(inception), namespace)  # the program a user copies
    model = namespace["model"]
    assert model.count_params() == inception.count_params()
    assert [type(a).__name__ for a in model.layers] == [type(b).__name__ for b in inception.layers]
    assert isinstance(model.get_layer("inception_v3"), keras.Model)


def test_a_saved_weights_file_loads_and_a_wrong_one_is_one_sentence(tmp_path):
    import keras

    reference = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))
    path = str(tmp_path / "mobilenet.weights.h5")
    reference.save_weights(path)
    model = am.transfer_model("mobilenet_v2", 2, input_shape=(64, 64), weights=path, name="mn")
    for got, want in zip(model.get_layer("mobilenet_v2").get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert "from" in tr.transfer_info(model)["weights"] and repr(path) in am.app_transfer_code(model)
    wrong = str(tmp_path / "resnet.weights.h5")
    keras.applications.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3)).save_weights(wrong)
    with pytest.raises(NNUsageError, match="'resnet.weights.h5' does not fit MobileNetV2"):
        am.transfer_model("mobilenet_v2", 2, input_shape=(64, 64), weights=wrong, name="mn2")
    with pytest.raises(NNUsageError, match="not found"):
        am.transfer_model("mobilenet_v2", 2, input_shape=(64, 64), weights=str(tmp_path / "nope.h5"))


def test_offline_names_the_base_file_and_the_folder(offline):
    with pytest.raises(NNUsageError) as caught:
        am.transfer_model("inception_v3", 2, input_shape=(75, 75), weights="imagenet")
    message = str(caught.value)
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(offline) in message and "--weights none" in message and "\n" not in message


def test_imagenet_weights_come_from_keras_cache_without_network(offline):
    """A file under Keras' name in Keras' cache is what loads, offline."""
    import keras

    reference = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(96, 96, 3))
    from keras.src.utils import file_utils

    class Asked(Exception):
        pass

    asked = []
    real = file_utils.get_file
    file_utils.get_file = lambda fname, *a, **k: asked.append(fname) or (_ for _ in ()).throw(Asked)
    try:
        with pytest.raises(Asked):  # Keras' own name for this base's file
            keras.applications.MobileNetV2(weights="imagenet", include_top=False, input_shape=(96, 96, 3))
    finally:
        file_utils.get_file = real
    from test_transfer import _save_legacy  # the layout of Keras' downloadable files

    _save_legacy(reference, str(offline / asked[0]))
    model = am.transfer_model("mobilenet_v2", 2, input_shape=(96, 96), weights="imagenet", name="mn")
    for got, want in zip(model.get_layer("mobilenet_v2").get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert '"imagenet"' in am.app_transfer_code(model)


def test_predictions_of_any_base_follow_the_course_recipe(image_dir):
    from nnmagics.transfer.app_predict import imagenet_network, imagenet_predict
    from nnmagics.transfer.predict import course_image
    import keras

    path = os.path.join(image_dir, "cats", "cat.0.png")
    frame = imagenet_predict(path, base="mobilenet_v2", weights="none", top=3)
    network = imagenet_network("mobilenet_v2", "none")
    x = keras.applications.mobilenet_v2.preprocess_input(course_image(path, (224, 224))[None])
    probs = np.asarray(network.predict(x, verbose=0))[0]
    assert list(frame["imagenet_id"]) == list(np.argsort(-probs)[:3])
    np.testing.assert_allclose(frame["probability"], np.sort(probs)[::-1][:3], rtol=1e-5)


def test_replace_top_keeps_all_but_the_last_layer():
    model = am.transfer_model("mobilenet_v2", 3, mode="replace-top", input_shape=(96, 96), weights="none", name="rt")
    assert model.get_layer("resize_224") is not None and model.output_shape == (None, 3)
    assert model.get_layer("mobilenet_v2").output_shape == (None, 1280)  # MobileNetV2's pooled features
    with pytest.raises(NNUsageError, match="--cut .* goes with --mode features"):
        am.transfer_model("mobilenet_v2", 3, mode="replace-top", cut="block_3_add", weights="none")


def test_too_small_images_name_the_base_and_its_smallest_size():
    with pytest.raises(NNUsageError, match="InceptionV3 needs images of at least 75×75 pixels, not 40×40"):
        am.transfer_model("inception_v3", 2, input_shape=(40, 40), weights="none")


# ----------------------------------------------------------------------------- every base
@pytest.mark.slow
@pytest.mark.parametrize("base", tb.BASES, ids=lambda b: b.name)
def test_every_base_builds_trains_in_features_mode_and_prints_runnable_code(base, tmp_path):
    import keras

    first_of_module = next(b for b in tb.BASES if b.module == base.module) == base
    if os.environ.get("NNMAGICS_STACK") == "colab" and not first_of_module:
        pytest.skip("Colab stack: one base per keras.applications module (every base runs on the newest stack), "
                    "to keep CI within its time")
    if keras.backend.backend() != "tensorflow" and not first_of_module:
        pytest.skip(f"{keras.backend.backend()}: one base per keras.applications module (every base runs on "
                    "TensorFlow; the others share their module's code), to keep CI within its time")

    import nnmagics as nm
    from nnmagics.data.images import load_images

    size = max(base.min_size, 32)
    data = load_images(_images(str(tmp_path / "img"), n_per_class=2, size=(size, size)), image_size=size,
                       batch_size=4)
    if base.module == "nasnet" and keras.backend.backend() == "torch":   # Keras' own refusal, as one sentence
        with pytest.raises(NNUsageError, match=r"^Keras could not build NASNet\w+ with these settings: .*torch backend"):
            am.transfer_model(base, data=data, weights="none", name="m")
        return
    model = am.transfer_model(base, data=data, weights="none", name="m")
    assert fc.cache_plan(model)[0] is True
    history = nm.train(model, data, epochs=1, reporter=False)
    assert np.isfinite(history.history["loss"][-1])
    # the printed program builds with the very lines that built this model, after its own imports
    from nnmagics.transfer.app_code import APP_PREPROCESS_CLASS, app_build_code, app_imports
    from nnmagics.transfer.models import transfer_info

    info = transfer_info(model)
    printed = am.app_transfer_code(model)
    assert "\n".join(app_build_code(info["app_spec"], info["weights_code"])) in printed
    namespace: dict = {}
    exec(app_imports(base) + "\n" + APP_PREPROCESS_CLASS, namespace)   # nnmagics' own code: its imports work
    assert callable(namespace[base.cls]) and "ApplicationPreprocess" in namespace
    if first_of_module:   # one base per module (each build costs CI time): a saved weights file, and the program
        reference = tb.constructor(base)(weights=None, include_top=False, input_shape=(size, size, 3))
        path = str(tmp_path / f"{base.name}.weights.h5")
        reference.save_weights(path)
        loaded = am.transfer_model(base, data=data, weights=path, name="m2")
        for got, want in zip(loaded.get_layer(base.name).get_weights(), reference.get_weights()):
            np.testing.assert_array_equal(got, want)
        namespace = {}
        exec(am.app_transfer_code(loaded), namespace)   # the printed program, loading the same file
        assert namespace["model"].count_params() == model.count_params()
        np.testing.assert_array_equal(namespace["model"].get_layer(base.name).get_weights()[0],
                                      reference.get_weights()[0])
        if base.name in GRADCAM_BASES and os.environ.get("NNMAGICS_STACK") != "colab":   # CI time
            _gradcam_inside_the_base(model, base, data)
    keras.backend.clear_session()


# one of each kind of network (plain, residual, inception, separable, inverted residual, compound-scaled,
# ConvNeXt's LayerNorm ending): Grad-CAM taps any layer alike; all 40 bases passed the same check when it was written
GRADCAM_BASES = {"vgg16", "resnet50", "inception_v3", "xception", "mobilenet_v2", "efficientnet_b0", "convnext_tiny"}


def _gradcam_inside_the_base(model, base, data):
    """Grad-CAM finds the base's last convolution maps, and its printed program (the base split at that layer)
    gives the same heat maps."""
    import keras

    from nnmagics.diagnosis import gradcam
    from nnmagics.data.decode import load_folder_code
    from nnmagics.diagnosis.gradcam_code import gradcam_imports, gradcam_lines, gradcam_recipe, reads_folder

    cam = gradcam(model, (data, slice(0, 2)))
    assert cam.layer_path.startswith(f"{base.name}/") and cam.auto and np.isfinite(cam.heatmaps).all()
    recipe = gradcam_recipe(model, cam)
    assert recipe.form == "nested"
    loader = [load_folder_code()] if reads_folder(recipe) else []   # JAX, PyTorch: the folder as numpy arrays
    program = "\n".join(["import keras", "import numpy as np", *gradcam_imports(recipe), *loader,
                         *gradcam_lines(recipe, "m")])
    assert ("tensorflow" in program) == (keras.backend.backend() == "tensorflow"), program
    namespace = {"m": model}
    exec(program.replace("plt.show()", "plt.close(fig)"), namespace)
    print("MAPS", base.name, np.abs(namespace["heatmaps"] - cam.maps).max())
    np.testing.assert_allclose(namespace["heatmaps"], cam.maps, atol=1e-4)


# ----------------------------------------------------------------------------- in a notebook
def test_the_magic_in_a_kernel(kernel, tmp_path):
    folder = _images(str(tmp_path / "imgs"))
    cells = [f"%nn_data tcats {folder!r} --image-size 75",
             "%nn_transfer build tinc --base inception_v3 --cut mixed7 --from tcats --weights none --quiet --code"]
    for cell in cells:
        result = kernel.run(cell)
        assert result.status == "ok", result.text
    assert "InceptionV3 cut at mixed7" in result.text and 'base.get_layer("mixed7")' in result.text
    bad = kernel.run("%nn_transfer build t2 --base inception_v3 --cut mixed77 --from tcats --weights none")
    assert bad.status == "error" and len(bad.error_lines) == 1
    assert "Did you mean 'mixed7'?" in bad.text
    table = kernel.run("%nn_transfer bases")
    assert table.status == "ok" and any("text/html" in o.get("data", {}) for o in table.outputs)
    assert "inception_v3" in table.text and "convnext_xlarge" in table.text
    phase2 = kernel.run("%nn_transfer build tinc --fine-tune-from mixed6")
    assert phase2.status == "ok" and "after mixed6" in phase2.text, phase2.text
    check = kernel.run("print(tinc.get_layer('inception_v3').get_layer('mixed7').trainable, "
                       "tinc.get_layer('inception_v3').get_layer('mixed5').trainable)")
    assert check.text.strip().endswith("True False"), check.text
