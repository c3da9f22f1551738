"""%vgg_transfer: weights, predictions, the course's transfer model, the fast features mode, fine-tuning.

Real TensorFlow, kept small: the whole VGG16 (224×224) is built a few times per module only,
features-mode models use 32×32 images. No test downloads anything.
"""
import os
import re
import time

import numpy as np
import pytest
from IPython.core.error import UsageError

from nnmagics import transfer as tr
from nnmagics.errors import NNUsageError
from nnmagics.training import feature_cache as fc
from nnmagics.training.features_fit import fit_features_model
from nnmagics import progress
from nnmagics.transfer import weights as tw

TOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
BLACKHOLE = "https://10.255.255.1/vgg16.h5"  # not routable: the request cannot be answered


def _save_legacy(model, path):
    """Write weights in the layout of Keras' downloadable files (legacy .h5: by layer name, in order).

    Those files do not end in ``.weights.h5``, so Keras 3 reads them with its legacy loader;
    public ``save_weights`` only writes the Keras 3 layout, hence h5py here.
    """
    import h5py

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        handle.attrs["backend"], handle.attrs["keras_version"] = b"tensorflow", b"2.2.4"
        for layer in model.layers:
            group = handle.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for n, w in zip(names, layer.weights):
                group.create_dataset(n, data=np.asarray(w.numpy()))
    return path


def _images(folder, n_per_class=4, size=(40, 48), seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c in ("cats", "dogs"):
        os.makedirs(os.path.join(folder, c), exist_ok=True)
        for i in range(n_per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, c, f"{c[:-1]}.{i}.png"))
    return folder


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    return _images(str(tmp_path_factory.mktemp("tl_images")))


@pytest.fixture(scope="module")
def small_data(image_dir):
    from nnmagics.data.images import load_images

    return load_images(image_dir, image_size=32, batch_size=4)


@pytest.fixture(scope="module")
def full_vgg():
    """Keras' own VGG16 with random weights: the reference for the course's manual recipe."""
    import keras

    return keras.applications.VGG16(weights=None)


@pytest.fixture(scope="module")
def keras_home(tmp_path_factory, full_vgg):
    """A Keras home whose cache holds the whole-network weights file, as Keras downloads it."""
    home = str(tmp_path_factory.mktemp("keras_home"))
    _save_legacy(full_vgg, os.path.join(home, "models", TOP_FILE))
    return home


@pytest.fixture
def use_home(monkeypatch):
    def use(home):
        monkeypatch.setenv("KERAS_HOME", home)
        monkeypatch.delenv(tw.OFFLINE_ENV, raising=False)
    return use


@pytest.fixture
def offline(monkeypatch):
    """No network: the probe asks an address that never answers; a download attempt fails the test."""
    monkeypatch.setattr(tw, "PROBE_URL", BLACKHOLE)
    monkeypatch.delenv(tw.OFFLINE_ENV, raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("offline: no download may be attempted")

    monkeypatch.setattr(tw, "_download", no_download)


@pytest.fixture(scope="module")
def tl(ip_session, keras_home, small_data):
    """The course's model built by the magic, with the ImageNet weights file of the cache."""
    old = os.environ.get("KERAS_HOME")
    os.environ["KERAS_HOME"] = keras_home
    ip_session.user_ns["small"] = small_data
    try:
        ip_session.run_line_magic("vgg_transfer", "build tl --from small --quiet")
    finally:
        if old is None:
            os.environ.pop("KERAS_HOME", None)
        else:
            os.environ["KERAS_HOME"] = old
    return ip_session.user_ns["tl"]


def _features_model(data, **kwargs):
    kwargs.setdefault("weights", "none")
    return tr.vgg_transfer(mode="features", data=data, name="fm", **kwargs)


# ----------------------------------------------------------------------------- architecture & preprocessing
def test_weight_shapes_are_keras_vgg16s(full_vgg):
    shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in full_vgg.layers if layer.weights}
    assert shapes == tr.weight_shapes(include_top=True)
    assert tr.conv_layer_names() == [name for name in shapes if "conv" in name]


def test_preprocess_layer_is_vgg16_preprocess_input():
    import keras
    from keras.applications.vgg16 import preprocess_input

    x = np.random.default_rng(1).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(tr.preprocess_layer()(x)), preprocess_input(x.copy()), atol=1e-4)


# ----------------------------------------------------------------------------- predictions
def test_predict_equals_the_course_recipe(full_vgg, keras_home, use_home, image_dir):
    import keras
    from keras.applications.vgg16 import preprocess_input

    use_home(keras_home)
    path = os.path.join(image_dir, "dogs", "dog.0.png")
    # the course: load_img(target_size=(224, 224)), img_to_array, preprocess_input, predict
    image = keras.utils.img_to_array(keras.utils.load_img(path, target_size=(224, 224)))
    expected = full_vgg.predict(preprocess_input(image[None]), verbose=0)[0]

    _, probs, _ = tr.imagenet_probabilities([path], weights="imagenet")
    assert np.allclose(probs[0], expected, rtol=1e-4, atol=1e-7)
    frame = tr.vgg_predict(path, top=5, weights="imagenet")
    assert list(frame.columns) == ["rank", "imagenet_id", "wordnet_id", "name", "probability"]
    assert frame["imagenet_id"].tolist() == np.argsort(-expected)[:5].tolist()
    from nnmagics.transfer.imagenet_labels import label

    first = label(int(frame["imagenet_id"][0]))
    assert (frame["wordnet_id"][0], frame["name"][0]) == (first.wnid, first.name)
    assert frame["probability"].is_monotonic_decreasing

    same_file = tr.vgg_predict(path, top=5, weights=os.path.join(keras_home, "models", TOP_FILE))
    assert np.allclose(same_file["probability"], frame["probability"], rtol=1e-5)


def test_predict_magic_on_a_dataset_image_and_a_folder(ip, keras_home, use_home, image_dir, small_data, capsys):
    use_home(keras_home)
    ip.user_ns["small"] = small_data
    ip.run_line_magic("vgg_transfer", "predict small[5] --top 3")
    out = capsys.readouterr().out
    assert "VGG16 (ImageNet): dog.1.png" in out and "wordnet_id" in out and "probability" in out
    rows = [row for row in out.splitlines() if re.match(r"\s*[123]\s+\d+\s+n\d{8}\s", row)]
    assert len(rows) == 3

    cats = os.path.join(image_dir, "cats")
    with open(os.path.join(cats, "notes.jpg"), "w") as fh:
        fh.write("not an image")
    try:
        frame = tr.vgg_predict(cats, weights="imagenet")
    finally:
        os.remove(os.path.join(cats, "notes.jpg"))
    assert len(frame) == 4 and list(frame.columns)[0] == "file"
    assert [os.path.basename(p) for p, _ in frame.attrs["skipped"]] == ["notes.jpg"]


# ----------------------------------------------------------------------------- weights
def test_offline_without_weights_fails_fast_naming_file_and_folder(ip, tmp_path, use_home, offline):
    use_home(str(tmp_path / "empty_keras_home"))
    folder = os.path.join(str(tmp_path / "empty_keras_home"), "models")
    start = time.perf_counter()
    with pytest.raises(UsageError) as err:
        ip.run_line_magic("vgg_transfer", "build tl --classes 2")
    elapsed = time.perf_counter() - start
    message = str(err.value)
    assert elapsed < 5.0
    assert TOP_FILE in message and folder in message and "--weights none" in message
    assert "network cannot be reached" in message
    with pytest.raises(NNUsageError, match=NOTOP_FILE):
        tr.imagenet_weights_file(include_top=False)
    assert not os.path.exists(os.path.join(folder, TOP_FILE))


def test_download_is_announced_before_it_starts(tmp_path, use_home, monkeypatch):
    import socket

    import keras

    use_home(str(tmp_path))
    events = []

    def fake_get_file(fname, origin, cache_dir=None, cache_subdir=None, file_hash=None, **kwargs):
        events.append(("get_file", fname, origin, os.path.join(cache_dir, cache_subdir), file_hash))
        assert socket.getdefaulttimeout() == tr.DOWNLOAD_READ_TIMEOUT  # a stalled download cannot hang
        return os.path.join(cache_dir, cache_subdir, fname)

    monkeypatch.setattr(tw, "network_available", lambda *a, **k: True)
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    path = tr.imagenet_weights_file(include_top=True, announce=lambda text: events.append(("announce", text)))
    assert [e[0] for e in events] == ["announce", "get_file"]
    assert "528 MB" in events[0][1] and TOP_FILE in events[0][1]
    assert events[1][1:] == (TOP_FILE, tr.WEIGHT_FILES[True].url, os.path.join(str(tmp_path), "models"),
                             tr.WEIGHT_FILES[True].md5)
    assert path == os.path.join(str(tmp_path), "models", TOP_FILE)
    assert socket.getdefaulttimeout() is None

    def failing(*args, **kwargs):
        raise OSError("connection reset")

    monkeypatch.setattr(keras.utils, "get_file", failing)
    with pytest.raises(NNUsageError, match=r"Downloading .*notop\.h5 failed \(connection reset\).*put it in"):
        tr.imagenet_weights_file(include_top=False, announce=lambda text: None)


def test_network_probe_gives_up_within_its_timeout():
    start = time.perf_counter()
    assert tr.network_available(BLACKHOLE, timeout=0.5) is False
    assert time.perf_counter() - start < 2.0


def test_offline_switch_answers_at_once(monkeypatch):
    monkeypatch.setenv(tw.OFFLINE_ENV, "1")
    start = time.perf_counter()
    assert tr.network_available() is False
    assert time.perf_counter() - start < 0.1


def test_imagenet_conv_base_from_keras_cache(tmp_path, use_home, small_data):
    import keras

    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    _save_legacy(reference, str(tmp_path / "models" / NOTOP_FILE))
    use_home(str(tmp_path))
    model = _features_model(small_data, weights="imagenet")
    for layer in reference.layers:
        if layer.weights:
            mine = model.get_layer(layer.name).get_weights()
            assert all(np.array_equal(a, b) for a, b in zip(mine, layer.get_weights())), layer.name
    assert "ImageNet" in tr.transfer_info(model)["weights"]


def test_weights_path_keras3_file_and_wrong_files(tmp_path, small_data):
    import keras

    reference = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    good = str(tmp_path / "vgg_base.weights.h5")
    reference.save_weights(good)
    model = _features_model(small_data, weights=good)
    assert np.array_equal(model.get_layer("block5_conv3").get_weights()[0],
                          reference.get_layer("block5_conv3").get_weights()[0])

    # a network of another shape (32 filters where VGG16 has 64)
    other = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(32, 3), keras.layers.Conv2D(64, 3)])
    wrong = str(tmp_path / "other.weights.h5")
    other.save_weights(wrong)
    with pytest.raises(NNUsageError, match=r"does not fit VGG16.*block1_conv1"):
        _features_model(small_data, weights=wrong)
    # the convolutional base only, where the course's model needs the whole network
    legacy_base = _save_legacy(reference, str(tmp_path / "base_only.h5"))
    with pytest.raises(NNUsageError, match="holds only VGG16's convolutional base"):
        tr.vgg_transfer(2, weights=legacy_base)
    # not a weights file at all
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(NNUsageError, match="is not a Keras weights file"):
        tr.vgg_transfer(2, weights=str(text))
    with pytest.raises(NNUsageError, match="not found"):
        tr.vgg_transfer(2, weights=str(tmp_path / "missing.h5"))
    # the whole network's file where features mode needs the base's (Keras would fail on the layer count)
    whole = keras.applications.VGG16(weights=None)
    whole_file = _save_legacy(whole, str(tmp_path / "whole.h5"))
    with pytest.raises(NNUsageError, match=r"holds more layers than VGG16's convolutional base \(fc1, fc2"):
        _features_model(small_data, weights=whole_file)
    other_suffix = tmp_path / "vgg.bin"
    other_suffix.write_bytes(open(good, "rb").read())
    with pytest.raises(NNUsageError, match=r"give a \.h5 or \.weights\.h5 file"):
        _features_model(small_data, weights=str(other_suffix))


# ----------------------------------------------------------------------------- the course's model
def test_replace_top_is_the_course_recipe(tl, full_vgg):
    assert type(tl).__name__ == "Sequential"
    total, trainable = tr.trainable_summary(tl)
    assert (total, trainable) == (134_268_738, 8_194)
    names = [layer.name for layer in tl.layers]
    assert names[:2] == ["resize_224", "vgg16_preprocess"]  # 32×32 data → resized inside
    assert names[2:-1] == [layer.name for layer in full_vgg.layers[1:-1]]  # every VGG16 layer but the last
    assert all(not layer.trainable for layer in tl.layers[:-1] if layer.weights)  # VGG16's layers, frozen
    out = tl.layers[-1]
    assert out.units == 2 and out.activation.__name__ == "softmax" and out.trainable
    for name in ("block1_conv1", "fc2"):  # the weights of the cached ImageNet file
        assert np.array_equal(tl.get_layer(name).get_weights()[0], full_vgg.get_layer(name).get_weights()[0])
    assert tr.transfer_info(tl)["classes"] == ["cats", "dogs"]
    assert fc.split_features_model(tl) is None  # the course's recipe trains end to end


def test_transfer_model_predicts_on_raw_images_with_its_classes(ip, tl, small_data, capsys):
    ip.user_ns["tl"] = tl
    ip.user_ns["small"] = small_data
    ip.run_line_magic("vgg_transfer", "predict small[0] --model tl")
    out = capsys.readouterr().out
    assert "Model 'tl'" in out and "cats" in out and "dogs" in out
    frame = tr.model_predict(tl, small_data.files[0])
    assert frame["class"].tolist() in (["cats", "dogs"], ["dogs", "cats"])
    assert abs(frame["probability"].sum() - 1.0) < 1e-5


# ----------------------------------------------------------------------------- features mode
def test_features_model_layout(small_data):
    model = _features_model(small_data)
    names = [layer.name for layer in model.layers]
    assert names[0] == "vgg16_preprocess" and names[1] == "block1_conv1"
    assert names[-5:] == ["block5_pool", "gap", "head_dense", "head_dropout", "output"]
    assert model.input_shape == (None, 32, 32, 3)
    total, trainable = tr.trainable_summary(model)
    assert total == 14_714_688 + 512 * 256 + 256 + 256 * 2 + 2 and trainable == 512 * 256 + 256 + 256 * 2 + 2
    from nnmagics.diagnosis import feature_maps

    maps = feature_maps(model, small_data.load_image(0), layers="block1_conv1,block5_pool")
    assert maps["block1_conv1"].shape == (32, 32, 64) and maps["block5_pool"].shape == (1, 1, 512)


def test_features_cache_hit_on_second_fit(small_data, image_dir, monkeypatch):
    model = _features_model(small_data)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    calls = []
    real = fc._run_base
    monkeypatch.setattr(fc, "_run_base", lambda *a, **k: calls.append(1) or real(*a, **k))
    before = model.get_layer("output").get_weights()[0].copy()

    first = fit_features_model(model, small_data, small_data, epochs=2)
    assert len(calls) == 1  # train and validation are the same files: one VGG16 pass
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(first.history)
    second = fit_features_model(model, small_data, epochs=3, initial_epoch=2)
    assert len(calls) == 1 and second.epoch == [2, 3, 4]
    fc.clear_memory_cache()
    fit_features_model(model, small_data, epochs=1)
    assert len(calls) == 1  # read back from the disk cache
    assert os.listdir(fc.features_dir())

    # the head is the model's: the model changed and predicts what base → head computes
    assert not np.array_equal(before, model.get_layer("output").get_weights()[0])
    base, head = fc.split_features_model(model)
    x = np.stack([small_data.load_image(i) for i in range(3)])
    assert np.allclose(model.predict(x, verbose=0), head.predict(base.predict(x, verbose=0), verbose=0), atol=1e-5)

    # a file touched after %nn_data checked it: the dataset says so (never features of stale pixels);
    # loaded again, the files have a new key and VGG16 runs again
    key = fc.cache_key(base, small_data)
    path = small_data.files[0]
    original = os.stat(path)
    os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns + 10**9))
    try:
        with pytest.raises(NNUsageError, match="was changed after %nn_data checked it"):
            fit_features_model(model, small_data, epochs=1)
        from nnmagics.data.images import load_images

        fresh = load_images(image_dir, image_size=32, batch_size=4)
        assert fc.cache_key(base, fresh) != key
        fit_features_model(model, fresh, epochs=1)
        assert len(calls) == 2
    finally:
        os.utime(path, ns=(original.st_atime_ns, original.st_mtime_ns))  # small_data is shared by the module


def test_no_cache_with_augmentation_or_fine_tuning(small_data):
    model = _features_model(small_data)
    use, message = fc.cache_plan(model, augment=True)
    assert use is False and "augmentation" in message and "cannot be cached" in message
    assert fc.cache_plan(model)[0] is True
    import keras

    dense = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    assert fc.cache_plan(dense) == (False, None)  # not a transfer model: trained as usual, nothing said
    assert fc.split_features_model(dense) is None


def test_fine_tune_block5(small_data):
    model = _features_model(small_data)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    unfrozen = tr.fine_tune(model, "block5", learning_rate=1e-5)
    assert unfrozen == ["block5_conv1", "block5_conv2", "block5_conv3"]
    for layer in model.layers:
        if layer.name.startswith("block") and layer.weights:
            assert layer.trainable == layer.name.startswith("block5"), layer.name
    _, trainable = tr.trainable_summary(model)
    block5 = sum(model.get_layer(f"block5_conv{i}").count_params() for i in (1, 2, 3))
    assert trainable == block5 + 512 * 256 + 256 + 256 * 2 + 2
    assert type(model.optimizer).__name__ == "RMSprop"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-5)
    use, message = fc.cache_plan(model)
    assert use is False and "fine-tuning" in message
    with pytest.raises(NNUsageError):
        fit_features_model(model, small_data, epochs=1)
    with pytest.raises(NNUsageError, match="Did you mean 'block5'"):
        tr.fine_tune(model, "blok5")


# ----------------------------------------------------------------------------- magics
def test_labels_magic(ip, capsys):
    ip.run_line_magic("vgg_transfer", "labels --group dog")
    out = capsys.readouterr().out
    assert "118 classes, indices 151–268" in out and "Chihuahua" in out and "Mexican hairless" in out
    ip.run_line_magic("vgg_transfer", "labels --contains dog")
    out = capsys.readouterr().out
    assert "--group dog gives all 118" in out
    ip.run_line_magic("vgg_transfer", "labels --group cat")
    out = capsys.readouterr().out
    assert all(name in out for name in ("tabby", "Siamese", "Persian", "Egyptian"))
    ip.run_line_magic("vgg_transfer", "labels --groups")
    assert "151–268" in capsys.readouterr().out


def test_build_features_magic_and_fine_tune_phase_two(ip, small_data, capsys):
    ip.user_ns["small"] = small_data
    ip.run_line_magic("vgg_transfer", "build fast --from small --mode features --weights none --code --quiet")
    out = capsys.readouterr().out
    model = ip.user_ns["fast"]
    assert tr.transfer_info(model)["mode"] == "features" and "random" in out
    assert "include_top=False" in out and "GlobalAveragePooling2D" in out  # the plain Keras code
    assert fc.cache_plan(model)[0] is True
    ip.run_line_magic("vgg_transfer", "build fast --fine-tune block5")
    out = capsys.readouterr().out
    assert ip.user_ns["fast"] is model and model.get_layer("block5_conv1").trainable
    assert not model.get_layer("block4_conv3").trainable and "block5_conv3" in out


@pytest.mark.parametrize("line, message", [
    ("", "Say what to do"),
    ("predikt dog.jpg", "Did you mean 'predict'"),
    ("labels --classes 2", "--classes applies to build"),
    ("build tl", "Give the number of classes"),
    ("build tl --classes 1 --weights none", "at least 2 classes"),
    ("build tl --classes 2 --mode fast --weights none", "Unknown transfer mode"),
    ("build tl --from nothing_here", "no dataset named 'nothing_here'"),
    ("predict missing.jpg --weights none", "No such image file or folder"),
    ("predict nodata[3] --weights none", "no dataset named 'nodata'"),
    ("labels --group unicorn", "Unknown label group"),
])
def test_magic_errors_are_one_sentence(ip, line, message):
    with pytest.raises(UsageError, match=message) as err:
        ip.run_line_magic("vgg_transfer", line)
    assert "Traceback" not in str(err.value)


def test_saved_transfer_model_reloads(small_data, tmp_path):
    import keras

    model = _features_model(small_data)
    path = str(tmp_path / "fm.keras")
    model.save(path)
    again = keras.models.load_model(path)
    x = small_data.load_image(1)[None]
    assert np.allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_help_has_examples_and_the_course_warning(ip):
    doc = ip.find_line_magic("vgg_transfer").__doc__
    for example in ("%vgg_transfer predict dog.jpg", "labels --group dog", "build tl --classes 2",
                    "--mode features", "--fine-tune block5", "--weights none"):
        assert example in doc, example
    assert "misses 114 of the 118 breeds" in doc


def test_nn_train_trains_features_models_on_cached_outputs(ip, small_data, monkeypatch, capsys):
    """%nn_train on a features-mode model runs VGG16 once, then only the head, and continues the history."""
    calls = []
    real = fc._run_base
    monkeypatch.setattr(fc, "_run_base", lambda *a, **k: calls.append(1) or real(*a, **k))
    fc.clear_memory_cache()
    ip.user_ns["tiny"] = small_data
    ip.user_ns["fast"] = _features_model(small_data)
    ip.run_line_magic("nn_train", "fast tiny --val tiny --epochs 3 --no-live --seed 0")
    assert len(calls) == 1
    assert "cached outputs" in capsys.readouterr().out
    history = ip.run_line_magic("nn_train", "fast tiny --val tiny --epochs 2 --no-live")
    assert len(calls) == 1 and history.epoch == [0, 1, 2, 3, 4]
    assert len(history.history["val_loss"]) == 5
    ip.run_line_magic("nn_train", "fast tiny --epochs 1 --augment --no-live")
    assert "cannot be cached" in capsys.readouterr().out


# ----------------------------------------------------------------------------- --code is the code that runs
def _run_printed(code: str) -> dict:
    namespace: dict = {}
    exec(code.replace('weights="imagenet"', "weights=None"), namespace)  # noqa: S102 - our printed code, in a test
    return namespace


def _layout(model):
    return [(layer.name, type(layer).__name__, layer.trainable, layer.count_params()) for layer in model.layers]


def test_printed_code_builds_the_same_model(tl, small_data):
    """The code --code prints, run as is (random weights), gives the model that was built: layers, params, outputs."""
    built = _features_model(small_data, head_units=16, dropout=0.25)
    code = tr.transfer_code(built)
    assert "VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))" in code
    again = _run_printed(code)["model"]
    assert _layout(again) == _layout(built) and again.name == built.name == "fm"
    assert tr.trainable_summary(again) == tr.trainable_summary(built)
    again.set_weights(built.get_weights())
    x = np.stack([small_data.load_image(i) for i in range(2)])
    np.testing.assert_allclose(again.predict(x, verbose=0), built.predict(x, verbose=0), atol=1e-5)

    code = tr.transfer_code(tl)  # the course's model, ImageNet weights: printed as Keras' "imagenet"
    assert 'vgg = VGG16(weights="imagenet")' in code and "layers.Resizing(224, 224" in code
    again = _run_printed(code)["model"]
    assert _layout(again) == _layout(tl) and tr.trainable_summary(again) == (134_268_738, 8_194)


def test_printed_phase_two_is_the_fine_tuning_done(small_data):
    built = _features_model(small_data)
    built.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tr.fine_tune(built, "block4", learning_rate=2e-5)
    code = tr.transfer_code(built)
    assert "model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=2e-05), " \
           "loss='sparse_categorical_crossentropy', metrics=['accuracy'])" in code
    again = _run_printed(code)["model"]
    assert _layout(again) == _layout(built)
    assert type(again.optimizer) is type(built.optimizer)
    assert float(again.optimizer.learning_rate.numpy()) == pytest.approx(float(built.optimizer.learning_rate.numpy()))


def test_the_name_is_checked_and_written_with_repr(small_data):
    with pytest.raises(NNUsageError, match="not a valid model name"):
        tr.vgg_transfer(2, weights="none", mode="features", name='x"); import os; ("')
    with pytest.raises(NNUsageError, match="not a valid model name"):
        tr.vgg_transfer(2, weights="none", mode="features", name="class")
    model = _features_model(small_data)
    assert "model = keras.Sequential(name='fm')" in tr.transfer_code(model)


def test_weights_path_is_written_with_repr(small_data, tmp_path):
    import keras

    folder = tmp_path / "it's here"
    folder.mkdir()
    path = str(folder / "base.weights.h5")
    keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).save_weights(path)
    model = _features_model(small_data, weights=path)
    assert f"VGG16(weights={path!r}, include_top=False" in tr.transfer_code(model)


# ----------------------------------------------------------------------------- progress on long jobs
def _recorded_bars(monkeypatch, module):
    """Make bars show at once (progress.DELAY, 2 s, is 0 here) and keep each bar ``module`` opens."""
    monkeypatch.setattr(progress, "DELAY", 0)
    bars = []

    def recording(*args, **kwargs):
        bars.append(progress.progress_bar(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(module, "progress_bar", recording)
    return bars


def test_the_feature_pass_shows_progress_by_batches(small_data, monkeypatch, capsys):
    bars = _recorded_bars(monkeypatch, fc)
    fc.clear_memory_cache()
    base, _ = fc.split_features_model(_features_model(small_data))
    fc.cached_features(base, small_data, batch_size=4)
    assert [(bar.n, bar.total, bar.unit) for bar in bars] == [(2, 2, "batch")]  # 8 images, batches of 4
    assert "VGG16 features of tl_images0" in capsys.readouterr().err
    fc.clear_memory_cache()
    fc.cached_features(base, small_data, batch_size=4)  # read back from the disk: no pass, no bar
    assert len(bars) == 1


def test_predictions_on_a_folder_show_progress_by_images(small_data, image_dir, monkeypatch, capsys):
    from nnmagics.transfer import predict

    model = _features_model(small_data)
    tr.model_predict(model, image_dir)          # compiled once (JAX compiles for seconds: a bar would show)
    capsys.readouterr()
    frame = tr.model_predict(model, image_dir)  # the default delay: a short job prints no bar
    assert len(frame) == 8 and "predictions" not in capsys.readouterr().err
    bars = _recorded_bars(monkeypatch, predict)
    tr.model_predict(model, image_dir)
    assert [(bar.n, bar.total, bar.unit) for bar in bars] == [(8, 8, "image")]
    assert "fm predictions" in capsys.readouterr().err
