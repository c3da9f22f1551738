"""The course's augmentation as ONE projective transform per image, drawn and applied per batch.

The course writes ``ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest')``. Keras 3 has no single op
for that: its ``RandomRotation``/``RandomTranslation``/``RandomShear``/``RandomZoom``/``RandomFlip``
layers resample the image once each (five interpolations, five kernels — about 90× slower than the
model on a GPU) and do not share ``ImageDataGenerator``'s parameter meanings (``shear_range`` is in
*degrees* there; its zoom is drawn per axis). So this module composes rotation, shear, zoom, shift
and flip into one 3×3 matrix per image, exactly as ``ImageDataGenerator.apply_transform`` does
(about the image centre), and resamples once with ``keras.ops.image.affine_transform``. Parameters
are drawn with ``keras.random`` for the whole batch (no Python loop per image), so the same code runs
in a ``tf.data`` map on the CPU and inside the training step on a GPU/TPU, on every Keras backend.

Two documented deviations from the legacy generator, both invisible for the course (square images,
equal shift ranges): the centre is the image's true centre, and ``width_shift_range`` moves
horizontally (the legacy code swaps the two for non-square images).

Keras is imported lazily: ``AugmentParams`` and ``placement`` import nothing heavy.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple, Sequence

from ..i18n import _

FILL_MODES = ("nearest", "constant", "reflect", "wrap")
INTERPOLATIONS = ("bilinear", "nearest")
_ACCELERATORS = ("GPU", "TPU", "CUDA", "ROCM")


@dataclass(frozen=True)
class AugmentParams:
    """``ImageDataGenerator``'s geometric arguments, with their meanings (the course's values by default).

    ``rotation_range`` and ``shear_range`` are degrees; shifts are fractions of the width/height;
    ``zoom_range`` is ``(low, high)`` — a float ``z`` means ``(1 - z, 1 + z)`` as in the generator —
    and x and y zooms are drawn independently; ``interpolation`` "bilinear" is the generator's
    ``interpolation_order=1``.

    Example::

        >>> AugmentParams().code()
        "ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode='nearest')"
    """

    rotation_range: float = 40.0
    width_shift_range: float = 0.2
    height_shift_range: float = 0.2
    shear_range: float = 0.2
    zoom_range: Any = (0.8, 1.2)
    horizontal_flip: bool = True
    vertical_flip: bool = False
    fill_mode: str = "nearest"
    interpolation: str = "bilinear"

    def __post_init__(self):
        zoom = self.zoom_range
        zoom = (1.0 - float(zoom), 1.0 + float(zoom)) if isinstance(zoom, (int, float)) else tuple(map(float, zoom))
        if len(zoom) != 2 or not 0 < zoom[0] <= zoom[1]:
            raise ValueError(_("zoom_range must be a float in [0, 1) or a pair 0 < low ≤ high, not {value}.").format(
                value=repr(self.zoom_range)))
        object.__setattr__(self, "zoom_range", zoom)
        for name in ("width_shift_range", "height_shift_range"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(_("{name} is a fraction of the image size in [0, 1), not {value}.").format(
                    name=name, value=repr(getattr(self, name))))
        if self.rotation_range < 0 or self.shear_range < 0:
            raise ValueError(_("rotation_range and shear_range are angles in degrees ≥ 0."))
        if self.fill_mode not in FILL_MODES or self.interpolation not in INTERPOLATIONS:
            raise ValueError(_("fill_mode must be one of {fill_modes} and interpolation one of {interpolations}.").format(
                fill_modes=FILL_MODES, interpolations=INTERPOLATIONS))

    def changed(self) -> dict[str, Any]:
        """The fields that differ from the course's (``AugmentParams(**changed())`` is these parameters).

        Example::

            >>> AugmentParams(rotation_range=20).changed()
            {'rotation_range': 20}
        """
        course = AugmentParams()
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != getattr(course, f.name)}

    def generator_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the equivalent ``ImageDataGenerator`` (only those that differ from its defaults,
        plus ``fill_mode``, which the course writes)."""
        low, high = self.zoom_range
        zoom: Any = round(1 - low, 10) if math.isclose(1 - low, high - 1) else [low, high]
        out = {"rotation_range": self.rotation_range, "width_shift_range": self.width_shift_range,
               "height_shift_range": self.height_shift_range, "shear_range": self.shear_range,
               "zoom_range": zoom, "horizontal_flip": self.horizontal_flip, "vertical_flip": self.vertical_flip}
        out = {k: v for k, v in out.items() if v not in (0, False, [1.0, 1.0])}
        out["fill_mode"] = self.fill_mode
        if self.interpolation == "nearest":
            out["interpolation_order"] = 0
        return out

    def code(self) -> str:
        """The exact ``ImageDataGenerator(...)`` call these parameters reproduce (for ``--code``)."""
        def lit(v):
            return f"{v:g}" if isinstance(v, float) else repr(v)
        return "ImageDataGenerator(" + ", ".join(f"{k}={lit(v)}" for k, v in self.generator_kwargs().items()) + ")"


COURSE_PARAMS = AugmentParams()


class Placement(NamedTuple):
    """Where the augmentation runs: ``"model"`` (training step, accelerator) or ``"pipeline"`` (``tf.data``, CPU)."""

    where: str
    reason: str


def placement(devices: Sequence[str]) -> Placement:
    """Choose where the fused augmentation runs, from device names such as ``["CPU:0", "GPU:0"]``.

    With a GPU or TPU it goes inside the model (the training step, on the accelerator) and the CPU
    only feeds cached uint8 batches; otherwise into the ``tf.data`` pipeline, mapped in parallel.

    Example::

        >>> placement(["CPU:0", "GPU:0"]).where
        'model'
        >>> placement(["/physical_device:CPU:0"]).where
        'pipeline'
    """
    names = [str(d) for d in devices]
    accel = [d for d in names if any(k in d.upper() for k in _ACCELERATORS)]
    if accel:
        return Placement("model", _("augmentation on {device}, inside the training step (one fused transform per "
                                    "batch); the CPU feeds uint8 batches").format(
                                        device=accel[0].split('/')[-1].replace('physical_device:', '')))
    return Placement("pipeline", _("no GPU/TPU: augmentation in the tf.data pipeline on the CPU "
                                   "(one fused transform per batch, batches mapped in parallel)"))


# ---------------------------------------------------------------------------------------------- the op
def _public_ops():
    import keras
    from types import SimpleNamespace

    return SimpleNamespace(numpy=keras.ops, image=keras.ops.image, random=keras.random,
                           cast=keras.ops.cast, shape=keras.ops.shape)


def transform_matrices(theta, tx, ty, shear, zx, zy, flip_h, flip_v, height, width, ops=None):
    """``(B, 8)`` projective transforms for ``keras.ops.image.affine_transform``, one per image.

    Each row maps an OUTPUT pixel ``(x, y)`` (column, row) to the INPUT pixel it is read from, as
    ``ImageDataGenerator.apply_transform``: ``rotation(theta°) @ shift(tx, ty) @ shear(shear°) @
    zoom(zx, zy)`` about the image centre, then the flips (0/1) applied to the result. Arguments are
    ``(B,)`` tensors/arrays; this is the deterministic entry point (tests, previews).

    Example::

        m = transform_matrices(*[np.array([v], "float32") for v in (90, 0, 0, 0, 1, 1, 0, 0)], 48, 48)
        keras.ops.image.affine_transform(images, m)   # ≈ np.rot90(images, 1, axes=(1, 2))
    """
    n = (ops or _public_ops()).numpy
    rad = math.pi / 180.0
    t = n.multiply(theta, rad)
    ts = n.add(t, n.multiply(shear, rad))
    cos_t, sin_t = n.cos(t), n.sin(t)
    # R(theta) @ Shear @ Zoom, with Shear = [[1, -sin s], [0, cos s]]  (the generator's matrices)
    a00, a01 = cos_t * zx, -n.sin(ts) * zy
    a10, a11 = sin_t * zx, n.cos(ts) * zy
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    b0 = cos_t * tx - sin_t * ty + cx - a00 * cx - a01 * cy       # R @ t, about the centre
    b1 = sin_t * tx + cos_t * ty + cy - a10 * cx - a11 * cy
    sx, sy = 1.0 - 2.0 * flip_h, 1.0 - 2.0 * flip_v              # M @ Flip (flips act on the output)
    b0 = b0 + a00 * flip_h * (width - 1) + a01 * flip_v * (height - 1)
    b1 = b1 + a10 * flip_h * (width - 1) + a11 * flip_v * (height - 1)
    zero = n.zeros_like(a00)
    return n.stack([a00 * sx, a01 * sy, b0, a10 * sx, a11 * sy, b1, zero, zero], axis=-1)


def random_parameters(batch, height, width, seed=None, params: AugmentParams = COURSE_PARAMS, ops=None,
                      draws=None) -> dict:
    """Draw the generator's parameters for ``batch`` images in ONE ``keras.random`` call.

    Returns ``(B,)`` tensors ``theta, tx, ty, shear, zx, zy, flip_h, flip_v`` (degrees, pixels, 0/1),
    distributed as ``ImageDataGenerator.get_random_transform``: uniform ±range, zooms independent.
    ``draws``: the ``(B, 8)`` uniform numbers in [0, 1) to use instead of drawing them (the pipeline
    draws them in batch order, so that ``--seed`` repeats exactly).

    Example::

        p = random_parameters(20, 150, 150, seed=keras.random.SeedGenerator(0))
    """
    K = ops or _public_ops()
    n = K.numpy
    u = K.random.uniform((batch, 8), 0.0, 1.0, dtype="float32", seed=seed) if draws is None else draws
    sym = lambda i, r: (u[:, i] * 2.0 - 1.0) * r  # noqa: E731
    low, high = params.zoom_range
    flip = lambda i, on: K.cast(n.less(u[:, i], 0.5), "float32") * (1.0 if on else 0.0)  # noqa: E731
    return {"theta": sym(0, params.rotation_range), "tx": sym(1, params.width_shift_range * width),
            "ty": sym(2, params.height_shift_range * height), "shear": sym(3, params.shear_range),
            "zx": low + (high - low) * u[:, 4], "zy": low + (high - low) * u[:, 5],
            "flip_h": flip(6, params.horizontal_flip), "flip_v": flip(7, params.vertical_flip)}


def apply_transforms(images, transforms, params: AugmentParams = COURSE_PARAMS, ops=None):
    """Resample NHWC ``images`` once with ``(B, 8)`` ``transforms``; the result keeps dtype and shape.

    Example::

        out = apply_transforms(images_uint8, transform_matrices(...))   # uint8 in, uint8 out
    """
    import keras
    import numpy as np

    K = ops or _public_ops()
    dtype = keras.backend.standardize_dtype(images.dtype)
    x = K.cast(images, "float32")
    out = K.image.affine_transform(x, transforms, interpolation=params.interpolation,
                                   fill_mode=params.fill_mode, fill_value=0, data_format="channels_last")
    if "int" in dtype:
        info = np.iinfo(dtype)
        out = K.numpy.clip(K.numpy.round(out), float(info.min), float(info.max))
    return K.cast(out, dtype)


def _augment(images, seed, params: AugmentParams, K, draws=None):
    shape = K.shape(images)
    single = len(images.shape) == 3
    if single:
        images = K.numpy.expand_dims(images, 0)
        shape = K.shape(images)
    h, w = (float(s) if isinstance(s, int) else K.cast(s, "float32") for s in (shape[1], shape[2]))
    p = random_parameters(shape[0], h, w, seed, params, K, draws)
    out = apply_transforms(images, transform_matrices(**p, height=h, width=w, ops=K), params, K)
    return out[0] if single else out


_DEFAULT_GENERATOR: list = []


def course_augment(images, seed_generator=None, training: bool = True, params: AugmentParams = COURSE_PARAMS):
    """The course's ``ImageDataGenerator`` augmentation on a batch (NHWC, uint8 or float): one fused op.

    ``seed_generator`` is a ``keras.random.SeedGenerator`` (a module-wide one when None; pass your own
    inside ``jax.jit``). ``training=False`` returns ``images`` unchanged. Use ``FusedAugment`` to put it
    in a model, or in a ``tf.data`` map when Keras runs on JAX or PyTorch.

    Example::

        gen = keras.random.SeedGenerator(0)
        ds = ds.map(lambda x, y: (course_augment(x, gen), y), num_parallel_calls=tf.data.AUTOTUNE)
    """
    if not training:
        return images
    if seed_generator is None:
        if not _DEFAULT_GENERATOR:
            import keras

            _DEFAULT_GENERATOR.append(keras.random.SeedGenerator())
        seed_generator = _DEFAULT_GENERATOR[0]
    return _augment(images, seed_generator, params, _public_ops())


def training_model(model, seed: int | None = None, params: AugmentParams | None = COURSE_PARAMS, input_shape=None):
    """``model`` behind a uint8 input (and ``FusedAugment``): what ``fit`` runs on a GPU/TPU.

    The pipeline then serves the cached uint8 batches as they are (a quarter of float32's bytes to
    the device); the augmentation and the cast to float32 run in the training step, on the
    accelerator. ``params=None`` leaves the augmentation out (the uint8 input and the cast only). It
    shares ``model``'s layers (the same ``get_weights()`` list, the seed state is not a weight), so
    ``model`` itself stays free of augmentation for evaluate/predict/save. Compile it, then fit it on
    uint8 batches.

    Example::

        runner = training_model(model, seed=0)
        runner.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"])
        runner.fit(uint8_batches, epochs=15)                       # model's weights are trained
    """
    import keras

    inputs = keras.Input(tuple(input_shape or model.input_shape[1:]), dtype="uint8", name="pixels")
    x = inputs
    if params is not None:
        x = __getattr__("FusedAugment")(params, seed=seed, name="fused_augment")(x)
    x = keras.ops.cast(x, "float32")       # in the step, on the device (the model's layers cast further if mixed)
    suffix = "augmented" if params is not None else "uint8"
    return keras.Model(inputs, model(x), name=f"{model.name}_{suffix}")


def augment_caller(augment: Callable) -> Callable:
    """Call ``augment`` with ``training=True`` when it accepts it (Keras layers and models do).

    Example::

        >>> augment_caller(lambda x: x + 1)(1)
        2
    """
    import inspect

    try:
        params = inspect.signature(augment).parameters.values()
        takes_training = any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)
    except (TypeError, ValueError):
        takes_training = True
    if takes_training:
        return lambda x: augment(x, training=True)
    return augment


def _layer_class():
    import keras

    try:  # runs its ops with TensorFlow inside tf.data whatever the backend (TFDataLayer in older Keras)
        from keras.src.layers.preprocessing.data_layer import DataLayer as Base
    except ImportError:  # pragma: no cover - older Keras
        from keras.src.layers.preprocessing.tf_data_layer import TFDataLayer as Base

    @keras.saving.register_keras_serializable(package="nnmagics")
    class FusedAugment(Base):
        """The course's augmentation as one Keras layer: one projective transform per image, per batch.

        Identity at inference (``training=False``); seedable; works inside a model (on the accelerator,
        in the training step) and in a ``tf.data`` map (CPU), on every backend. Inside TensorFlow graphs
        (a ``tf.data`` map, the TensorFlow training step) it returns its compute dtype, as Keras'
        preprocessing layers do; use ``course_augment`` to keep uint8.

        Example::

            model = keras.Sequential([keras.Input((150, 150, 3), dtype="uint8"), FusedAugment(seed=0),
                                      layers.Rescaling(1 / 255), ...])
            ds = ds.map(lambda x, y: (FusedAugment(seed=0)(x), y))        # or in the pipeline
        """

        def __init__(self, params: AugmentParams | dict | None = None, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.params = AugmentParams(**params) if isinstance(params, dict) else (params or COURSE_PARAMS)
            self.seed = seed
            self.generator = keras.random.SeedGenerator(seed)
            self.built = True

        takes_draws = True   # call(x, draws=u): the (B, 8) uniform numbers drawn outside (see as_tf_dataset)

        def call(self, inputs, training=True, draws=None):
            if not training:
                return inputs
            backend = getattr(self, "backend", None)
            if backend is None or not hasattr(self, "_get_seed_generator"):
                return _augment(inputs, self.generator, self.params, _public_ops(), draws)
            seed = self._get_seed_generator(backend._backend) if draws is None else None
            return _augment(inputs, seed, self.params, backend, draws)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            config = super().get_config()
            params = asdict(self.params)
            params["zoom_range"] = list(params["zoom_range"])
            config.update({"params": params, "seed": self.seed})
            return config

    return FusedAugment


def __getattr__(name: str):
    if name == "FusedAugment":  # built on first use, so that importing this module does not import Keras
        cls = globals()["FusedAugment"] = _layer_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # internal: Python's own message
