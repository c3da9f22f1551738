"""A dataset that augments itself (``%nn_data cats DIR --augment [PARAMS] --seed N``): what ``model.fit`` sees.

The course's ``model.fit(train_generator)`` trains on augmented images; a ``%nn_data --augment`` dataset
does the same: a new draw every epoch, the same pixels for the same seed and epoch, validation never
augmented, and ``%nn_train`` augments with the dataset's parameters.
"""
from __future__ import annotations

import numpy as np
import pytest

from nnmagics.data.augment_args import parse_augment
from nnmagics.data.augment_fused import COURSE_PARAMS
from nnmagics.data.image_augment import augmentation_layer, augments, set_augmentation
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def folder(tmp_path):
    """cats/dogs of 6 random 32×32 PNGs each (no download)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(6):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / "images" / name / f"{i}.png")
    return str(tmp_path / "images")


def load(folder, seed=None, params=COURSE_PARAMS):
    from nnmagics.data.images import load_images

    return set_augmentation(load_images(folder, image_size=32, batch_size=4), params, seed)


def recording_model(seen: list):
    """A tiny model whose first layer keeps, eagerly, every batch ``fit`` gives it (training and validation)."""
    import keras

    class Record(keras.layers.Layer):
        def call(self, x, training=None):
            try:
                value = keras.ops.convert_to_numpy(x).copy()
            except Exception:  # noqa: BLE001 - a symbolic pass (JAX traces the model once to build it)
                return x
            seen.append((bool(training), value))
            return x

    model = keras.Sequential([keras.Input((32, 32, 3)), Record(), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", run_eagerly=True)
    return model


def fit_pixels(data, epochs, validation=None):
    """What ``model.fit(data, epochs=…)`` fed the model: per epoch, the training batches stacked; and validation's."""
    seen: list = []
    recording_model(seen).fit(data, epochs=epochs, validation_data=validation, verbose=0, shuffle=False)
    train = [x for training, x in seen if training]
    per_epoch = data.num_batches
    epochs_seen = [np.concatenate(train[i * per_epoch:(i + 1) * per_epoch]) for i in range(epochs)]
    return epochs_seen, [x for training, x in seen if not training]


def plain_pixels(data):
    """Every image of ``data`` as stored (no augmentation), in file order."""
    return np.stack([data.load_image(i) for i in range(len(data))])


def test_model_fit_sees_new_augmented_pixels_every_epoch(folder):
    data = load(folder, seed=3)
    (first, second), _ = fit_pixels(data, epochs=2)
    assert first.shape == (12, 32, 32, 3)
    assert not np.array_equal(first, second)
    stored = plain_pixels(data)
    # augmented: no batch image equals any stored image
    assert not any(np.array_equal(img, ref) for img in first for ref in stored)


def test_the_same_seed_gives_the_same_pixels_a_different_seed_others(folder):
    a, _ = fit_pixels(load(folder, seed=7), epochs=2)
    b, _ = fit_pixels(load(folder, seed=7), epochs=2)
    c, _ = fit_pixels(load(folder, seed=8), epochs=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_validation_is_never_augmented(folder):
    data = load(folder, seed=0)
    train, val = data.split(0.25, seed=0)
    assert augments(train) and not augments(val)
    _, validation = fit_pixels(train, epochs=1, validation=val)
    assert np.array_equal(np.concatenate(validation), plain_pixels(val))


def test_without_augmentation_fit_sees_the_stored_pixels(folder):
    data = load(folder, seed=0, params=None)
    assert not augments(data)
    data.shuffle = False
    (pixels,), _ = fit_pixels(data, epochs=1)
    assert np.array_equal(pixels, plain_pixels(data))


def test_custom_parameters_flip_only(folder):
    flip = parse_augment("rotation_range=0, width_shift_range=0, height_shift_range=0, shear_range=0, "
                         "zoom_range=0, horizontal_flip=True")
    data = load(folder, seed=1, params=flip)
    data.shuffle = False
    (pixels,), _ = fit_pixels(data, epochs=1)
    stored = plain_pixels(data)
    for img, ref in zip(pixels, stored):   # each image is itself or its mirror, and some are mirrored
        assert np.array_equal(img, ref) or np.array_equal(img, ref[:, ::-1])
    assert any(np.array_equal(img, ref[:, ::-1]) and not np.array_equal(img, ref) for img, ref in zip(pixels, stored))


@pytest.mark.tensorflow(reason="as_tf_dataset is the tf.data pipeline")
def test_next_and_the_tf_pipeline(folder):
    data = load(folder, seed=0)
    x, y = next(data)
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.float32
    plain = data.as_tf_dataset()                                       # only when asked
    asked = data.as_tf_dataset(augment=augmentation_layer(data), seed=0)
    a, b = (np.concatenate([x.numpy() for x, _ in ds]) for ds in (plain, asked))
    assert np.array_equal(a, plain_pixels(data)) and not np.array_equal(a, b)


def test_train_uses_the_datasets_augmentation_and_refuses_a_second(folder):
    import keras

    from nnmagics.training import train

    data = load(folder, seed=0)
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    history = train(model, data, epochs=1, reporter=False)
    assert history.fits[-1]["params"]["augment"] in ("pipeline", "model")
    plain = load(folder, params=None)
    history = train(model, plain, epochs=1, reporter=False)
    assert history.fits[-1]["params"]["augment"] is False

    from nnmagics.model.build import build_model

    augmenting = build_model("input 32x32x3, augment, rescale 1/255, flatten, dense 1 sigmoid")
    with pytest.raises(NNUsageError, match=r"augments its images \(%nn_data --augment\) and model"):
        train(augmenting, data, epochs=1, reporter=False)


def _tiny(keras):
    return keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                             keras.layers.Dense(1, activation="sigmoid")])


def test_printed_code_carries_the_datasets_own_parameters_and_seed(folder):
    """--code prints the augmentation that ran: a dataset's own parameters and seed, not the course's."""
    import keras

    from nnmagics.data.augment_fused import AugmentParams, FusedAugment
    from nnmagics.training import train
    from nnmagics.training.code import train_code

    data = load(folder, seed=3, params=parse_augment("rotation_range=20, horizontal_flip=False"))
    history = train(_tiny(keras), data, epochs=1, reporter=False)
    code = train_code(history.fits[-1]["recipe"])
    line = next(x for x in code.splitlines() if x.startswith("augment = "))
    assert line == "augment = FusedAugment({'rotation_range': 20, 'horizontal_flip': False}, seed=3)", code
    assert "# ImageDataGenerator(rotation_range=20, width_shift_range=0.2" in code and "horizontal_flip" not in \
        next(x for x in code.splitlines() if x.startswith("# ImageDataGenerator"))
    layer = eval(line.split(" = ", 1)[1], {"FusedAugment": FusedAugment})   # our own printed line, rebuilt
    assert layer.params == data.augmentation == AugmentParams(rotation_range=20, horizontal_flip=False)
    assert layer.seed == 3
    # the course's parameters print as the layer table's augment line
    course = train(_tiny(keras), load(folder, seed=1), epochs=1, reporter=False)
    assert "augment = FusedAugment(seed=1)" in train_code(course.fits[-1]["recipe"])


def test_train_augment_takes_generator_keywords(folder):
    import keras

    from nnmagics.training import train
    from nnmagics.training.code import train_code

    plain = load(folder, params=None)
    history = train(_tiny(keras), plain, epochs=1, augment="rotation_range=10, vertical_flip=True", seed=0,
                    reporter=False)
    assert history.fits[-1]["params"]["augment"] in ("pipeline", "model")
    code = train_code(history.fits[-1]["recipe"])
    assert "FusedAugment({'rotation_range': 10, 'vertical_flip': True}, seed=0)" in code, code
    with pytest.raises(NNUsageError, match=r"Did you mean 'rotation_range'"):
        train(_tiny(keras), plain, epochs=1, augment="rotaton_range=10", reporter=False)


@pytest.mark.parametrize("text, message", [
    ("rotaton_range=20", r"Did you mean 'rotation_range'"),
    ("zoom_range=2", r"zoom_range must be a float in \[0, 1\)"),
    ("horizontal_flip=maybe", r"horizontal_flip is True or False, not 'maybe'"),
    ("40", r"name=value pairs, not '40'"),
    ("rescale=1/255", r"--rescale 1/255"),
    ("rotation_range=abc", r"rotation_range is a number, not 'abc'"),
])
def test_bad_augment_parameters_are_one_sentence(text, message):
    with pytest.raises(NNUsageError, match=message):
        parse_augment(text)


def test_augment_parameters_read_as_the_course_writes_them():
    p = parse_augment("rotation_range=20, zoom_range=[0.9, 1.1], horizontal_flip=False, fill_mode=reflect")
    assert (p.rotation_range, p.zoom_range, p.horizontal_flip, p.fill_mode) == (20.0, (0.9, 1.1), False, "reflect")
    assert parse_augment("") == COURSE_PARAMS == parse_augment(None)


@pytest.mark.notebook
def test_the_course_fits_an_augmenting_dataset_in_a_kernel(kernel, samples):
    made = kernel.run(f"%nn_data acats {samples['images']} --image-size 32 --batch-size 10 --augment --seed 0")
    assert made.status == "ok" and not made.has_traceback, made.text
    html = " ".join(o.get("data", {}).get("text/html", "") for o in made.outputs)
    assert "Augments its training batches every epoch" in html and "seed 0" in html
    assert "augmented every epoch" in made.text
    cell = kernel.run(
        "import keras\n"
        "from keras import layers\n"
        "model = keras.Sequential([keras.Input((32, 32, 3)), layers.Rescaling(1/255), layers.Flatten(),\n"
        "                          layers.Dense(1, activation='sigmoid')])\n"
        "model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])\n"
        "history = model.fit(acats, epochs=1, validation_data=acats_val, verbose=0)\n"
        "print('augments', acats.augmentation is not None, acats_val.augmentation is None, sorted(history.history))\n")
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    assert "augments True True ['acc', 'loss', 'val_acc', 'val_loss']" in cell.text
    trained = kernel.run("%nn_build acnn --layers 'rescale 1/255, flatten' --from acats --quiet\n"
                         "%nn_train acnn acats --epochs 1 --no-live")
    assert trained.status == "ok" and not trained.has_traceback, trained.text
    own = kernel.run("%nn_train acnn acats --epochs 1 --no-live --augment 'rotation_range=5, horizontal_flip=False' "
                     "--code")
    assert own.status == "ok" and not own.has_traceback, own.text
    assert "FusedAugment({'rotation_range': 5, 'horizontal_flip': False}, seed=None)" in own.text
    wrong = kernel.run("%nn_train acnn acats --epochs 1 --no-live --augment 'rotaton_range=5'")
    assert len(wrong.error_lines) == 1 and "Did you mean 'rotation_range'" in wrong.error_lines[0], wrong.text
    bad = kernel.run(f"%nn_data acats2 {samples['images']} --augmnt")
    assert bad.error_lines == ["UsageError: %nn_data has no option --augmnt; did you mean --augment?"], bad.text
