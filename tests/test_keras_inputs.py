"""nnmagics' datasets are what Keras and the course's own code take: fit/evaluate/predict, next(), .classes,
the pixel scale (rescaled twice or never: one line), and the table's encoded target for ``c=Y``."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from nnmagics.data.pixel_scale import (PixelScaleWarning, data_pixel_scale, model_pixel_scale, pixel_scale_notes,
                                       scale_mismatch, warn_pixel_scale)
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))


def tiny_cnn(rescale: bool = True, size: int = 32):
    import keras
    from keras import layers

    first = [layers.Rescaling(1 / 255)] if rescale else []
    model = keras.Sequential([keras.Input((size, size, 3)), *first, layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    return model


def pixel_rows(ds):
    """All ``(x, y)`` of a batched tf.data pipeline, concatenated."""
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


# ----------------------------------------------------------------------------- the course's code, in a real kernel
def test_the_course_keras_code_runs_on_nnmagics_images(kernel, samples):
    made = kernel.run(f"%nn_data kcats {samples['images']} --image-size 32 --batch-size 10")
    assert made.status == "ok" and not made.has_traceback, made.text
    cell = kernel.run(
        "import keras, numpy as np\n"
        "from keras import layers\n"
        "from sklearn.metrics import confusion_matrix\n"
        "model = keras.Sequential([keras.Input((32, 32, 3)), layers.Rescaling(1/255), layers.Conv2D(4, 3, activation='relu'),\n"
        "                          layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1, activation='sigmoid')])\n"
        "model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])\n"
        "history = model.fit(kcats, epochs=2, validation_data=kcats_val, verbose=0)\n"
        "loss, acc = model.evaluate(kcats_val, verbose=0)\n"
        "preds = model.predict(kcats_val, verbose=0)\n"
        "x, y = next(kcats)\n"
        "cm = confusion_matrix(kcats_val.classes, preds > 0.5)\n"
        "one = model.predict(np.stack([kcats_val.load_image(i) for i in (0, len(kcats_val) - 1)]), verbose=0)\n"
        "print('shapes', x.shape, y.shape, preds.shape, int(cm.sum()), len(kcats_val))\n"
        "print('aligned', bool(np.allclose(one.ravel(), preds.ravel()[[0, -1]], atol=1e-5)))\n"
        "print('names', kcats.class_indices, kcats.class_names, kcats_val.classes[:3].tolist(), kcats_val.classes[-1])\n"
        "print('keys', sorted(history.history))\n"
    )
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    assert "shapes (10, 32, 32, 3) (10,) (60, 1) 60 60" in cell.text
    assert "aligned True" in cell.text                                # predict(cats_val) follows cats_val.classes
    assert "names {'cats': 0, 'dogs': 1} ['cats', 'dogs'] [0, 0, 0] 1" in cell.text
    assert "keys ['acc', 'loss', 'val_acc', 'val_loss']" in cell.text
    assert not [line for line in cell.error_lines if "Warning" in line], cell.error_lines   # raw data, rescaling model

    # the course's generator arguments: more steps than one pass holds → Keras ends each epoch after one pass
    course = kernel.run("h = model.fit(kcats, steps_per_epoch=100, epochs=2, validation_data=kcats_val,"
                        " validation_steps=50, verbose=0)\nprint('epochs', len(h.history['val_acc']))")
    assert course.status == "ok" and not course.has_traceback and "epochs 2" in course.text, course.text

    loop = kernel.run("n = 0\nfor xb, yb in kcats_val:\n    n += len(yb)\nprint('seen', n, len(kcats_val))")
    assert "seen 60 60" in loop.text, loop.text


def test_double_rescaling_warns_once_in_one_line(kernel, samples):
    kernel.run(f"%nn_data kscaled {samples['images']} --image-size 32 --rescale 1/255")
    kernel.run(f"%nn_data kraw {samples['images']} --image-size 32")
    kernel.run("import nnmagics\n"
               "%nn_build kcnn --layers 'rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 8 relu' --from kraw --quiet")
    cell = kernel.run("x, _ = next(kscaled)\nprint('max', float(x.max()) <= 1.0)\n"
                      "maps = nnmagics.feature_maps(kcnn, kscaled_val.load_image(0))")
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    assert "max True" in cell.text
    warned = [line for line in cell.error_lines if "PixelScaleWarning" in line]
    assert len(warned) == 1 and "already rescaled to 0–1" in warned[0] and "without --rescale" in warned[0], cell.text
    assert len([line for line in cell.error_lines if line.strip()]) == 1, cell.error_lines   # one line, no code line
    again = kernel.run("maps = nnmagics.feature_maps(kcnn, kscaled_val.load_image(1))")
    assert "PixelScaleWarning" not in again.text                       # once per (model, data)

    right = kernel.run("maps = nnmagics.feature_maps(kcnn, kraw_val.load_image(0))")
    assert right.status == "ok" and "PixelScaleWarning" not in right.text, right.text

    trained = kernel.run("%nn_train kcnn kscaled --epochs 1 --no-live")
    assert trained.status == "ok" and not trained.has_traceback, trained.text
    assert trained.text.count("already rescaled to 0–1 but model 'kcnn'") == 1, trained.text
    twice = kernel.run("%nn_train kcnn kscaled --epochs 1 --no-live")
    assert "already rescaled" not in twice.text, twice.text

    plain = kernel.run("import keras\nfrom keras import layers\n"
                       "plain = keras.Sequential([keras.Input((32, 32, 3)), layers.Conv2D(4, 3), layers.Flatten(),"
                       " layers.Dense(1, activation='sigmoid')], name='plain')\n"
                       "maps = nnmagics.feature_maps(plain, kraw_val.load_image(0))")
    warned = [line for line in plain.error_lines if "PixelScaleWarning" in line]
    assert len(warned) == 1 and "raw 0–255 values but model 'plain' does not rescale" in warned[0], plain.text


def test_the_course_scatter_runs_on_the_table(kernel, samples):
    made = kernel.run(f"%nn_data kdata4 {samples['table']} --sheet data4")
    assert made.status == "ok", made.text
    cell = kernel.run(
        "import matplotlib.pyplot as plt\n"
        "plt.figure(figsize=(4, 3))\n"
        "plt.scatter(kdata4['X1'], kdata4['X2'], c=kdata4['Y'], edgecolors='red')\n"
        "plt.scatter(kdata4.frame['X1'], kdata4.frame['X2'], c=kdata4.frame['Y'])\n"
        "plt.close('all')\n"
        "print('target', kdata4.frame['Y'].dtype.kind, sorted(set(kdata4.frame['Y'])), len(kdata4.class_names),\n"
        "      kdata4.target_names[0] == kdata4.class_names[kdata4.y[0]])"
    )
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    assert "target i [0, 1, 2] 3 True" in cell.text


def test_rescale_is_for_images_and_reads_like_the_course(kernel, samples):
    table = kernel.run(f"%nn_data kt {samples['table']} --sheet data4 --rescale 1/255")
    assert table.status == "error" and "--rescale applies to image folders" in table.text and not table.has_traceback
    bad = kernel.run(f"%nn_data kb {samples['images']} --rescale 1/zero")
    assert bad.status == "error" and "rescale factor must be a positive number" in bad.text and not bad.has_traceback
    code = kernel.run(f"%nn_data kc {samples['images']} --image-size 32 --rescale 1./255 --code")
    scaled = "x * 0.00392" if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow" else \
        "x = x.astype('float32') * 0.00392"   # tf.data's map, or numpy arrays on JAX and PyTorch
    assert code.status == "ok" and "rescale 1/255" in code.text and scaled in code.text, code.text


# ----------------------------------------------------------------------------- unit: the Keras face of ImageData
@pytest.mark.tensorflow(reason="compares with the tf.data pipeline")
def test_batches_are_the_pipeline_pixels_with_keras_labels(tiny_images):
    data = tiny_images
    data.shuffle = False
    x, y = data[0]
    tf_x, tf_y = pixel_rows(data.as_tf_dataset(shuffle=False))
    assert x.dtype == np.float32 and y.dtype == np.float32 and x.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(np.concatenate([data[i][0] for i in range(data.num_batches)]), tf_x)
    np.testing.assert_array_equal(np.concatenate([data[i][1] for i in range(data.num_batches)]), tf_y)
    assert len(data) == 8 and data.num_batches == 2 and data[-1][1].tolist() == [1, 1, 1, 1]
    with pytest.raises(IndexError):
        data[2]
    data.class_mode = "categorical"
    assert data[0][1].tolist() == [[1, 0]] * 4 and data[0][1].dtype == np.float32
    data.class_mode = "int"                                          # flow_from_directory's 'sparse'
    assert data[1][1].dtype == np.int32 and data[1][1].tolist() == [1, 1, 1, 1]
    assert data.classes.tolist() == [0, 0, 0, 0, 1, 1, 1, 1] and data.class_indices == {"cats": 0, "dogs": 1}


@pytest.mark.tensorflow(reason="compares with the tf.data pipeline")
def test_training_sets_shuffle_each_epoch_and_validation_sets_keep_their_order(tiny_images):
    data = tiny_images
    assert data.shuffle is True
    data.seed = None
    orders = []
    for _ in range(4):
        data.on_epoch_begin()
        orders.append(tuple(np.concatenate([data[i][0][:, 0, 0, 0] for i in range(data.num_batches)])))
        data.on_epoch_end()
    assert len(set(orders)) > 1 and len({tuple(sorted(o)) for o in orders}) == 1   # new order, same images
    train, val = data.split(0.5, seed=0)
    assert train.shuffle is True and val.shuffle is False
    val.on_epoch_begin()
    x = np.concatenate([val[i][0] for i in range(val.num_batches)])
    np.testing.assert_array_equal(x, pixel_rows(val.as_tf_dataset(shuffle=False))[0])
    first = next(val)
    for _ in range(val.num_batches - 1):
        next(val)
    np.testing.assert_array_equal(next(val)[0], first[0])             # next() goes round, as the generator does


def test_pickled_datasets_keep_their_names_and_batches(tiny_images):
    data = pickle.loads(pickle.dumps(tiny_images))
    assert data.class_names == ["cats", "dogs"] and data.classes.tolist() == [0] * 4 + [1] * 4
    assert next(data)[0].shape == (4, 32, 32, 3)
    from nnmagics.data.tables import TableData

    old = TableData.__new__(TableData)   # pickled by an nnmagics whose .classes held the names
    old.__setstate__({"classes": ["a", "b"], "labels": np.array([0, 1, 1])})
    assert old.class_names == ["a", "b"] and old.classes.tolist() == [0, 1, 1]


def test_a_file_changed_after_loading_is_named_by_the_batch(tiny_images):
    import os

    os.remove(tiny_images.files[5])
    with pytest.raises(NNUsageError, match="deleted"):
        for i in range(tiny_images.num_batches):
            tiny_images[i]


@pytest.mark.tensorflow(reason="reads the tf.data pipeline")
def test_rescaled_images_are_served_scaled_everywhere(tmp_path):
    from nnmagics.data.images import load_images, parse_rescale
    from PIL import Image

    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (10, 10), (255, 51 * i, 0)).save(tmp_path / name / f"{i}.png")
    data = load_images(str(tmp_path), image_size=10, batch_size=3, rescale="1/255")
    assert data.rescale == pytest.approx(1 / 255) and "rescale 1/255" in repr(data)
    data.shuffle = False
    assert data[0][0].max() == pytest.approx(1.0) and data.load_image(0).max() == pytest.approx(1.0)
    assert pixel_rows(data.as_tf_dataset())[0].max() == pytest.approx(1.0)
    from nnmagics.diagnosis.augment import augment_preview

    original, _ = augment_preview(data, index=0, n=1)                 # the preview still shows 0–255 pixels
    assert original.max() == 255
    assert parse_rescale(1) is None and parse_rescale("0.5") == 0.5
    with pytest.raises(NNUsageError, match="rescale factor"):
        parse_rescale("-1/255")


# ----------------------------------------------------------------------------- unit: the pixel scale
def test_what_models_and_data_expect():
    import keras
    from keras import layers

    assert model_pixel_scale(tiny_cnn(rescale=True)) == "raw"
    assert model_pixel_scale(tiny_cnn(rescale=False)) == "unit"
    augmented = keras.Sequential([keras.Input((8, 8, 3)), keras.Sequential([layers.RandomFlip()]),
                                  layers.Rescaling(1 / 255), layers.Dense(2)])
    assert model_pixel_scale(augmented) == "raw"
    assert model_pixel_scale(keras.Sequential([keras.Input((8, 8, 3)), layers.Normalization(), layers.Dense(2)])) is None
    assert model_pixel_scale(keras.Sequential([keras.Input((2,)), layers.Dense(2)])) == "unit"
    # a bare keras.applications VGG16 base wants its own preprocess_input, not a scale: no guess, no warning
    base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model_pixel_scale(keras.Sequential([keras.Input((32, 32, 3)), base, layers.Flatten(), layers.Dense(1)])) is None

    assert data_pixel_scale(np.full((4, 4, 3), 0.5)) == "unit" and data_pixel_scale(np.full((4, 4, 3), 200.0)) == "raw"
    assert data_pixel_scale(np.zeros((4, 4, 3))) is None and data_pixel_scale(np.full((5, 2), 0.5)) is None


def test_the_warning_is_one_sentence_once_per_pair(tiny_images):
    model = tiny_cnn(rescale=True)
    tiny_images.rescale = 1 / 255
    sentence = scale_mismatch(model, tiny_images)
    assert sentence.count(". ") == 0 and sentence.endswith(".") and "--rescale" in sentence
    assert pixel_scale_notes(model, tiny_images) == [sentence]
    assert pixel_scale_notes(model, tiny_images) == []                  # once per (model, data)
    tiny_images.rescale = None
    assert scale_mismatch(model, tiny_images) is None
    assert scale_mismatch(tiny_cnn(rescale=False), tiny_images).startswith("The pixels of ")
    other = tiny_cnn(rescale=True)
    with pytest.warns(PixelScaleWarning, match="already rescaled"):
        warn_pixel_scale(other, np.full((32, 32, 3), 0.5, dtype="float32"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_pixel_scale(other, np.full((32, 32, 3), 0.7, dtype="float32")) is None
        assert warn_pixel_scale(other, np.full((32, 32, 3), 120.0, dtype="float32")) is None   # right scale
