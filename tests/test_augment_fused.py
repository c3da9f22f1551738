"""The fused course augmentation: ImageDataGenerator's parameters and output distribution, one op per batch."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")
stats = pytest.importorskip("scipy.stats")

from nnmagics.data import augment_fused as af  # noqa: E402

COURSE_LINE = ("ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, "
               "shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest')")
S = 48  # test image size
N = 200  # draws per side
# the legacy generator calls scipy.ndimage.interpolation.affine_transform (deprecated name) once per channel
pytestmark = pytest.mark.filterwarnings("ignore:Please import `affine_transform`:DeprecationWarning")


def generator_class():
    try:
        return tf.keras.preprocessing.image.ImageDataGenerator            # what the course writes
    except AttributeError:  # pragma: no cover - newer Keras without the legacy alias
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

        return ImageDataGenerator


def np_(x):
    return keras.ops.convert_to_numpy(x)


def matrices(n=1, theta=0.0, tx=0.0, ty=0.0, shear=0.0, zx=1.0, zy=1.0, flip_h=0.0, flip_v=0.0, size=S):
    p = {k: np.full((n,), v, "float32") for k, v in dict(theta=theta, tx=tx, ty=ty, shear=shear, zx=zx, zy=zy,
                                                              flip_h=flip_h, flip_v=flip_v).items()}
    return af.transform_matrices(**p, height=size, width=size)


@pytest.fixture(scope="module")
def probe():
    """R = x, G = y (each pixel says where it came from), B = an off-centre disc."""
    yy, xx = np.mgrid[:S, :S].astype("float32")
    image = np.stack([xx, yy, ((yy - 16) ** 2 + (xx - 30) ** 2 < 36) * 255.0], axis=-1).astype("float32")
    return image


def recovered(outputs, image):
    """Per output: the linear map output → input fitted from the coordinate channels, and pixel statistics."""
    yy, xx = np.mgrid[:S, :S].astype("float32")
    rows = []
    for out in outputs.astype("float64"):
        r, g = out[..., 0], out[..., 1]
        inside = (r > 0.01) & (r < S - 1.01) & (g > 0.01) & (g < S - 1.01)  # not clamped by the nearest fill
        design = np.stack([xx[inside], yy[inside], np.ones(inside.sum())], axis=1)
        (a00, a10), (a01, a11), (b0, b1) = np.linalg.lstsq(design, np.stack([r[inside], g[inside]], 1), rcond=None)[0]
        flip = a00 * a11 - a01 * a10 < 0
        sign = -1.0 if flip else 1.0
        c = (S - 1) / 2
        rows.append({
            "theta": np.degrees(np.arctan2(sign * a10, sign * a00)),
            "zx": np.hypot(a00, a10), "zy": np.hypot(a01, a11),
            "shear": np.degrees(np.arcsin(np.clip(-(sign * a00 * a01 + sign * a10 * a11)
                                                  / (np.hypot(a00, a10) * np.hypot(a01, a11)), -1, 1))),
            "centre_dx": a00 * c + a01 * c + b0 - c, "centre_dy": a10 * c + a11 * c + b1 - c,
            "flip": flip, "mad": np.abs(out - image).mean(),
        })
    return {k: np.array([row[k] for row in rows]) for k in rows[0]}


def generator_outputs(image, n, seed=0):
    gen = eval(af.COURSE_PARAMS.code(), {"ImageDataGenerator": generator_class()})  # noqa: S307 - our own code
    np.random.seed(seed)
    return np.stack([gen.random_transform(image) for _ in range(n)])


def fused_outputs(image, n, seed=1, params=af.COURSE_PARAMS):
    batch = np.repeat(image[None], n, axis=0)
    return np_(af.course_augment(batch, keras.random.SeedGenerator(seed), params=params))


# ------------------------------------------------------------------------------------ parameters
def test_course_params_are_the_course_generator_call():
    assert af.COURSE_PARAMS.code() == COURSE_LINE
    gen = eval(af.COURSE_PARAMS.code(), {"ImageDataGenerator": generator_class()})  # noqa: S307
    p = af.COURSE_PARAMS
    assert gen.rotation_range == p.rotation_range == 40
    assert gen.width_shift_range == p.width_shift_range == 0.2
    assert gen.height_shift_range == p.height_shift_range == 0.2
    assert gen.shear_range == p.shear_range == 0.2          # degrees, in both
    assert list(gen.zoom_range) == list(p.zoom_range) == [0.8, 1.2]
    assert gen.horizontal_flip is p.horizontal_flip is True and not gen.vertical_flip and not p.vertical_flip
    assert gen.fill_mode == p.fill_mode == "nearest"
    assert gen.interpolation_order == 1 and p.interpolation == "bilinear"


def test_other_params_round_trip_through_the_generator():
    p = af.AugmentParams(rotation_range=10, zoom_range=(0.9, 1.3), horizontal_flip=False, vertical_flip=True,
                         interpolation="nearest", fill_mode="constant")
    gen = eval(p.code(), {"ImageDataGenerator": generator_class()})  # noqa: S307
    assert list(gen.zoom_range) == [0.9, 1.3] and gen.interpolation_order == 0
    assert (gen.rotation_range, gen.horizontal_flip, gen.vertical_flip, gen.fill_mode) == (10, False, True, "constant")
    with pytest.raises(ValueError, match="fraction"):
        af.AugmentParams(width_shift_range=20)


# ------------------------------------------------------------------------------------ distribution
def test_outputs_match_image_data_generator_in_distribution(probe):
    ours = recovered(fused_outputs(probe, N), probe)
    theirs = recovered(generator_outputs(probe, N), probe)
    for key in ("theta", "zx", "zy", "shear", "centre_dx", "centre_dy", "mad"):
        p = stats.ks_2samp(ours[key], theirs[key]).pvalue
        assert p > 1e-3, f"{key}: ours {ours[key].mean():.3f}±{ours[key].std():.3f}, " \
                         f"ImageDataGenerator {theirs[key].mean():.3f}±{theirs[key].std():.3f} (KS p={p:.1e})"
    for side in (ours, theirs):
        assert abs(side["flip"].mean() - 0.5) < 0.1
        assert np.abs(side["theta"]).max() < 40.5 and 0.79 < side["zx"].min() and side["zy"].max() < 1.21
        assert np.abs(side["shear"]).max() < 1.0          # 0.2 degrees, not a shear factor of 0.2 (11°)
    assert abs(np.corrcoef(ours["zx"], ours["zy"])[0, 1]) < 0.2   # zoom drawn per axis


def test_the_distribution_test_has_power(probe):
    theirs = recovered(generator_outputs(probe, N), probe)
    wrong_rotation = recovered(fused_outputs(probe, N, params=af.AugmentParams(rotation_range=20)), probe)
    shear_as_factor = recovered(fused_outputs(probe, N, params=af.AugmentParams(shear_range=11.3)), probe)
    assert stats.ks_2samp(wrong_rotation["theta"], theirs["theta"]).pvalue < 1e-3
    assert stats.ks_2samp(shear_as_factor["shear"], theirs["shear"]).pvalue < 1e-3


# ------------------------------------------------------------------------------------ deterministic
def test_identity_parameters_give_the_identity(probe):
    batch = np.stack([probe, probe[::-1]])
    assert np.array_equal(np_(af.apply_transforms(batch, matrices(2))), batch)
    still = af.AugmentParams(rotation_range=0, width_shift_range=0, height_shift_range=0, shear_range=0,
                             zoom_range=(1, 1), horizontal_flip=False)
    assert np.array_equal(np_(af.course_augment(batch, keras.random.SeedGenerator(0), params=still)), batch)


def test_pure_flip_is_numpy_flip(probe):
    batch = np.stack([probe, probe[::-1]])
    assert np.array_equal(np_(af.apply_transforms(batch, matrices(2, flip_h=1))), np.flip(batch, axis=2))
    assert np.array_equal(np_(af.apply_transforms(batch, matrices(2, flip_v=1))), np.flip(batch, axis=1))


def test_rotation_by_90_degrees_is_rot90():
    images = np.random.default_rng(0).integers(0, 256, (2, S, S, 3)).astype("uint8")
    nearest = af.AugmentParams(interpolation="nearest")
    out = np_(af.apply_transforms(images, matrices(2, theta=90), nearest))
    assert np.array_equal(out, np.rot90(images, 1, axes=(1, 2)))   # +θ: as ImageDataGenerator, numpy's k=1
    assert not np.array_equal(out, np.rot90(images, -1, axes=(1, 2)))
    out = np_(af.apply_transforms(images.astype("float32"), matrices(2, theta=90)))
    assert np.abs(out - np.rot90(images, 1, axes=(1, 2))).max() < 0.01


def test_uint8_and_float_keep_dtype_and_shape():
    images = np.random.default_rng(1).integers(0, 256, (3, 64, 64, 3)).astype("uint8")
    gen = keras.random.SeedGenerator(0)
    out = af.course_augment(images, gen)
    assert keras.backend.standardize_dtype(out.dtype) == "uint8" and tuple(out.shape) == images.shape
    assert not np.array_equal(np_(out), images)
    single = af.course_augment(images[0].astype("float32"), gen)
    assert keras.backend.standardize_dtype(single.dtype) == "float32" and tuple(single.shape) == (64, 64, 3)
    assert af.course_augment(images, gen, training=False) is images


# ------------------------------------------------------------------------------------ layer and placement
def test_layer_is_identity_at_inference_and_serialisable():
    images = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    layer = af.FusedAugment(seed=7)
    assert np.array_equal(np_(layer(images, training=False)), images)
    assert not np.array_equal(np_(layer(images, training=True)), images)
    config = keras.saving.serialize_keras_object(layer)
    again = keras.saving.deserialize_keras_object(config)
    assert type(again).__name__ == "FusedAugment" and again.params == layer.params and again.seed == 7
    assert np.array_equal(np_(af.FusedAugment(seed=3)(images)), np_(af.FusedAugment(seed=3)(images)))


@pytest.mark.parametrize("devices, where", [
    (["CPU:0"], "pipeline"),
    (["/physical_device:CPU:0"], "pipeline"),
    ([], "pipeline"),
    (["CPU:0", "GPU:0"], "model"),
    (["/physical_device:CPU:0", "/physical_device:GPU:0", "/physical_device:GPU:1"], "model"),
    (["CPU:0", "TPU:0"], "model"),
    (["cuda:0"], "model"),
])
def test_placement_from_injected_devices(devices, where):
    chosen = af.placement(devices)
    assert chosen.where == where
    assert ("GPU" in chosen.reason or "TPU" in chosen.reason or "cuda" in chosen.reason) if where == "model" \
        else "tf.data" in chosen.reason


def test_inside_a_model_with_uint8_inputs_fit_one_step():
    x = np.random.default_rng(3).integers(0, 256, (8, 32, 32, 3)).astype("uint8")
    y = np.array([0, 1] * 4, "float32")
    model = keras.Sequential([
        keras.Input((32, 32, 3), dtype="uint8"), af.FusedAugment(seed=0), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(2, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile("adam", "binary_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))  # no augmentation at inference


def test_training_model_trains_the_model_itself_and_leaves_it_free_of_augmentation():
    x = np.random.default_rng(4).integers(0, 256, (8, 24, 24, 3)).astype("uint8")
    model = keras.Sequential([keras.Input((24, 24, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    runner = af.training_model(model, seed=0)
    assert [w.shape for w in runner.get_weights()] == [w.shape for w in model.get_weights()]
    assert not any("Fused" in type(layer).__name__ for layer in model.layers)
    before = model.get_weights()[0].copy()
    runner.compile("sgd", "binary_crossentropy")
    runner.fit(x, np.ones(8, "float32"), batch_size=8, epochs=1, verbose=0)
    assert not np.array_equal(model.get_weights()[0], before)          # the same variables were trained


def test_training_model_without_augmentation_is_a_uint8_input_and_the_cast():
    x = np.random.default_rng(5).integers(0, 256, (8, 24, 24, 3)).astype("uint8")
    model = keras.Sequential([keras.Input((24, 24, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    runner = af.training_model(model, params=None)
    assert runner.input.dtype == "uint8"
    assert not any(type(layer).__name__ == "FusedAugment" for layer in runner.layers)
    assert np.allclose(np_(runner(x, training=True)), np_(model(x.astype("float32"))), atol=1e-6)  # no augmentation


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="inspects a TensorFlow graph")
def test_one_op_per_batch_whatever_the_batch_size():
    traces = []

    @tf.function(input_signature=[tf.TensorSpec([None, S, S, 3], tf.uint8)])
    def augment(x):
        traces.append(1)
        return af.course_augment(x, generator)

    generator = keras.random.SeedGenerator(0)
    for n in (4, 8):
        assert augment(tf.zeros((n, S, S, 3), tf.uint8)).shape == (n, S, S, 3)
    assert len(traces) == 1
    ops = [op.type for op in augment.get_concrete_function().graph.get_operations()]
    assert ops.count("ImageProjectiveTransformV3") == 1              # one resampling for the whole batch
    assert not {"While", "StatelessWhile", "MapDataset"} & set(ops)   # no loop over images
    assert sum(op.startswith("StatelessRandomUniform") for op in ops) == 1  # one draw for all parameters


def test_in_a_tf_data_map_each_epoch_draws_anew():
    images = np.random.default_rng(4).integers(0, 256, (4, S, S, 3)).astype("uint8")
    layer = af.FusedAugment(seed=5)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(2).map(layer, num_parallel_calls=tf.data.AUTOTUNE)
    first, second = (np.concatenate([b.numpy() for b in ds]) for _ in range(2))
    assert first.shape == images.shape and not np.array_equal(first, second)


def test_augment_with_a_seed_repeats_exactly_in_the_parallel_pipeline(tiny_images, monkeypatch, tmp_path):
    """``--augment --seed`` on a CPU: the pipeline draws its numbers in batch order (the transforms run in
    parallel), so two runs give the same pixels and the same trained weights, and every epoch draws anew."""
    from nnmagics.model.build import make_augmentation
    from nnmagics.training import train

    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))

    def epoch(ds):
        return np.concatenate([x.numpy() for x, _ in ds])

    one = tiny_images.as_tf_dataset(shuffle=True, seed=3, augment=make_augmentation(3))
    two = tiny_images.as_tf_dataset(shuffle=True, seed=3, augment=make_augmentation(3))
    first, again, second_epoch = epoch(one), epoch(two), epoch(one)
    assert np.array_equal(first, again) and not np.array_equal(first, second_epoch)
    other = epoch(tiny_images.as_tf_dataset(shuffle=True, seed=4, augment=make_augmentation(4)))
    assert not np.array_equal(first, other)

    weights = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(1 / 255),
                                  keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
                                  keras.layers.Dense(1, activation="sigmoid")])
        history = train(model, tiny_images, epochs=3, augment=True, seed=0, reporter=False)
        assert history.fits[-1]["params"]["augment"] == "pipeline"
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
