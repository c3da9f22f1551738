"""The course CNN on an accelerator: what augmentation costs inside the training step (a GPU check).

Side by side in one run, on the course CNN (150×150, 9,494,561 parameters), batches of 20 and 100 of
uint8 images from in-memory random arrays, training images per second with:

- **none**: a uint8 input, the cast to float32 in the step, the CNN (what ``train`` runs on a GPU);
- **fused**: the same with ``nnmagics.data.augment_fused.FusedAugment`` (the course's augmentation as one
  projective transform per image) inside the training step;
- **keras_layers**: the same with Keras' separate ``RandomRotation``/``RandomTranslation``/``RandomZoom``/
  ``RandomFlip`` layers inside the step (what the issue measured 90× slower);
- **none_float32**: float32 inputs instead of uint8, no augmentation (what uint8 saves on the transfer).

Made to run WITHOUT TensorFlow (``KERAS_BACKEND=jax``, only keras, jax and numpy installed): it imports
``nnmagics.data.augment_fused`` and nothing else from nnmagics, and checks that TensorFlow stayed out.
Each side: one ``fit`` whose first epoch compiles (not timed) and whose next ``--epochs`` are timed
from batch-end callbacks (the step's outputs are fetched, so the device work is finished).

Run: ``PYTHONPATH=. KERAS_BACKEND=jax python bench/bench_accelerator.py [--small]``; prints one JSON
line and writes it to ``$OUT/accelerator.json`` when ``$OUT`` is set. ``--small``: 32×32, tiny
counts, a check that the script runs (on a CPU, any backend).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COURSE_PARAMS = 9_494_561
SIDES = ("none", "fused", "keras_layers", "none_float32")


def course_cnn(keras, size: int):
    """The course's CNN (Conv16-Pool-Conv32-Pool-Conv64-Pool-Flatten-Dense512-Dense1), float32 inputs 0–255."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((size, size, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dense(1, activation="sigmoid"),
    ], name="course_cnn")


def trainer(keras, side: str, size: int):
    """The model ``fit`` runs for ``side``: input dtype, augmentation in the step, the cast, the CNN."""
    from nnmagics.data.augment_fused import FusedAugment

    cnn = course_cnn(keras, size)
    inputs = keras.Input((size, size, 3), dtype="float32" if side == "none_float32" else "uint8")
    x = inputs
    if side == "fused":
        x = FusedAugment(seed=0)(x)
    x = keras.ops.cast(x, "float32")
    if side == "keras_layers":          # the course's values: 40°, shifts 0.2, zoom 0.2, flip, nearest fill
        for layer in (keras.layers.RandomRotation(40 / 360, fill_mode="nearest", seed=1),
                      keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=2),
                      keras.layers.RandomZoom(0.2, fill_mode="nearest", seed=3),
                      keras.layers.RandomFlip("horizontal", seed=4)):
            x = layer(x)
    model = keras.Model(inputs, cnn(x), name=f"cnn_{side}")
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model, cnn


class StepTimes:
    """Batch-end wall-clock times, per epoch (Keras fetches the step's logs: the device work is done)."""

    def __init__(self):
        self.epochs: list[list[float]] = []

    def callback(self, keras):
        outer = self

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer.epochs.append([time.perf_counter()])

            def on_train_batch_end(self, batch, logs=None):
                outer.epochs[-1].append(time.perf_counter())

        return Timer()


def measure(keras, np, side: str, batch: int, size: int, steps: int, epochs: int, seed: int = 0) -> dict:
    """Images/s of ``side`` at ``batch``: the median over timed epochs of ``steps`` batches (epoch 0 compiles)."""
    model, cnn = trainer(keras, side, size)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (steps * batch, size, size, 3), dtype=np.uint8)
    if side == "none_float32":
        x = x.astype("float32")
    y = rng.integers(0, 2, (steps * batch,)).astype("float32")
    times = StepTimes()
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch, epochs=1 + epochs, shuffle=False, verbose=0,
                        callbacks=[times.callback(keras)])
    total = time.perf_counter() - start
    # per timed epoch: from the end of its first batch to the end of its last (steps - 1 batches)
    rates = [(steps - 1) * batch / (e[-1] - e[1]) for e in times.epochs[1:] if len(e) > 2]
    return {"images_per_s": round(statistics.median(rates), 1), "epochs_images_per_s": [round(r, 1) for r in rates],
            "compile_and_run_s": round(total, 1), "loss": round(float(history.history["loss"][-1]), 4),
            "params": int(cnn.count_params())}


def backend_info(keras) -> tuple[str, str, dict]:
    """``(backend, device, versions)``: the Keras backend, the accelerator JAX sees (else ``cpu``), the versions."""
    backend, device = keras.backend.backend(), "cpu"
    versions = {"python": platform.python_version(), "keras": keras.__version__}
    if backend == "jax":
        import jax

        device = ", ".join(sorted({f"{d.platform}: {d.device_kind}" for d in jax.devices()}))
        versions["jax"] = jax.__version__
    return backend, device, versions


def emit(result: dict, filename: str) -> None:
    """Print ``result`` as one JSON line, and write it to ``$OUT/filename`` when ``$OUT`` is set (a device run)."""
    line = json.dumps(result, sort_keys=False)
    print(line, flush=True)
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, filename), "w", encoding="utf-8") as handle:
            handle.write(line + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="32×32 and a few steps: check that it runs")
    parser.add_argument("--batches", default="20,100")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per side (after the compiling one)")
    parser.add_argument("--budget", type=float, default=200.0,
                        help="seconds after which the remaining sides are skipped (reported as null)")
    args = parser.parse_args(argv)
    size = 32 if args.small else 150
    # images per epoch ≈ 2,000 for the fast sides; the Keras layers (~150 images/s at batch 20) get fewer
    steps = {"none": 100, "fused": 100, "none_float32": 100, "keras_layers": 12}
    if args.small:
        steps = {k: 4 for k in steps}

    started = time.perf_counter()
    import keras
    import numpy as np

    from nnmagics.data import augment_fused  # the only nnmagics module this needs (trainer() uses it)
    backend, device, versions = backend_info(keras)
    versions["numpy"] = np.__version__
    results: dict = {}
    for batch in (int(b) for b in args.batches.split(",")):
        row = results[str(batch)] = {}
        for side in SIDES:
            if time.perf_counter() - started > args.budget:
                row[side] = None            # out of time: say so rather than run past the device's limit
                continue
            row[side] = measure(keras, np, side, batch, size, max(steps[side], 3), args.epochs)
            if not args.small:
                assert row[side]["params"] == COURSE_PARAMS, row[side]["params"]

        def ratio(a, b):
            return round(row[a]["images_per_s"] / row[b]["images_per_s"], 3) if row[a] and row[b] else None

        row["ratios"] = {"fused_vs_none": ratio("fused", "none"), "keras_layers_vs_none": ratio("keras_layers", "none"),
                         "uint8_vs_float32": ratio("none", "none_float32")}
    result = {"bench": "accelerator", "backend": backend, "device": device, "image_size": size, "small": args.small,
              "tensorflow_imported": "tensorflow" in sys.modules, "augmentation": augment_fused.COURSE_PARAMS.code(),
              "versions": versions, "results": results,
              "seconds": round(time.perf_counter() - started, 1),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    emit(result, "accelerator.json")
    return result


if __name__ == "__main__":
    main()
