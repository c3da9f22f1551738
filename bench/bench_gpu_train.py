"""The whole ``%nn_train`` path against plain Keras ``fit`` on the same images, on JAX (a GPU check).

The course CNN (150×150, batch 20) on one image folder made by ``make_samples`` and loaded once with
``load_images`` (its pixels decoded into memory), trained side by side in one run:

- **nnmagics**: ``nnmagics.train(cnn, cats, ...)`` as ``%nn_train`` runs it — the live panel on
  (``LivePanel``), uint8 batches to the device, the fused augmentation in the step, several steps per
  call, ``--mixed-precision auto``;
- **Keras**: the same model, ``model.fit`` on the same pixels as float32 arrays, Keras' own
  augmentation layers (``RandomFlip``, ``RandomRotation``, ``RandomTranslation``, ``RandomZoom``) in
  front of the model, float32, one step per call: what a student writes without nnmagics;

and both without augmentation. Each side: one fit whose first epoch compiles (not timed); the rate is
the median of the timed epochs (images/s, from epoch begin to epoch end). Prints one JSON line with the
rates and the ratios nnmagics / Keras, and appends it to ``bench/results/gpu_train.jsonl``
(``$OUT/gpu_train.json`` on a device run).

Run: ``KERAS_BACKEND=jax PYTHONPATH=. python bench/bench_gpu_train.py [--quick]`` (``--quick``: 32×32,
a few images, on a CPU in seconds: a check that it runs).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from bench_accelerator import backend_info, emit  # noqa: E402


def course_cnn(keras, size: int, augment: bool = False):
    """The course's CNN (float32 input 0–255), with Keras' augmentation layers in front when asked."""
    layers = keras.layers
    stack = [keras.Input((size, size, 3))]
    if augment:   # ImageDataGenerator(rotation_range=40, width/height_shift 0.2, zoom 0.2, horizontal_flip)
        stack += [layers.RandomFlip("horizontal"), layers.RandomRotation(40 / 360),
                  layers.RandomTranslation(0.2, 0.2), layers.RandomZoom(0.2)]
    stack += [layers.Rescaling(1 / 255)]
    for filters in (16, 32, 64):
        stack += [layers.Conv2D(filters, 3, activation="relu"), layers.MaxPooling2D(2)]
    stack += [layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dense(1, activation="sigmoid")]
    return keras.Sequential(stack, name="cnn")


def timer(keras, marks: list):
    class Timer(keras.callbacks.Callback):   # epoch hooks only: several steps per call stay allowed
        def on_epoch_begin(self, epoch, logs=None):
            marks.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks.append(time.perf_counter())

    return Timer()


def images_per_s(marks: list, images: int) -> dict:
    spans = [marks[i + 1] - marks[i] for i in range(2, len(marks) - 1, 2)]   # the first epoch compiles
    rates = [images / s for s in spans]
    return {"images_per_s": round(statistics.median(rates), 1), "epochs": [round(r, 1) for r in rates]}


def nnmagics_side(keras, cats, size: int, epochs: int, augment: bool, panel: bool) -> dict:
    import nnmagics
    from nnmagics.model.build import build_model
    from nnmagics.training.history import history_of

    model = build_model(preset="course-cnn", data=cats) if size == 150 else \
        build_model(f"input {size}x{size}x3, rescale 1/255, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, "
                    "conv 64 3 relu, pool 2, flatten, dense 512 relu, dense 1 sigmoid")
    marks: list[float] = []
    reporter = nnmagics.LivePanel() if panel else False
    nnmagics.train(model, cats, epochs=1 + epochs, augment=augment, seed=0, mixed_precision="auto",
                   callbacks=[timer(keras, marks)], reporter=reporter)
    fit = history_of(model).fits[-1]["params"]
    return {**images_per_s(marks, len(cats)), "precision": fit.get("precision"), "pixels": fit.get("pixels"),
            "steps_per_call": fit.get("steps_per_execution"), "augment": fit.get("augment")}


def keras_side(keras, x, y, size: int, epochs: int, augment: bool) -> dict:
    keras.utils.set_random_seed(0)
    model = course_cnn(keras, size, augment)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    marks: list[float] = []
    model.fit(x, y, batch_size=20, epochs=1 + epochs, shuffle=True, verbose=0, callbacks=[timer(keras, marks)])
    return images_per_s(marks, len(x))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", "--small", dest="quick", action="store_true",
                        help="32×32, 40 images, 1 timed epoch: check that it runs (CPU, seconds)")
    parser.add_argument("--images", type=int, default=2000, help="training images (half cats, half dogs)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per side (after the compiling one)")
    parser.add_argument("--no-panel", action="store_true", help="nnmagics without the live panel")
    args = parser.parse_args(argv)
    import keras
    import numpy as np

    from nnmagics.data.images import load_images
    from nnmagics.data.samples import make_samples
    from nnmagics.runtime.device import detect

    size, images, epochs = (32, 40, 1) if args.quick else (150, args.images, args.epochs)
    backend, device, versions = backend_info(keras)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("NNMAGICS_CACHE_DIR", os.path.join(folder, "cache"))
        paths = make_samples(folder, images_per_class=(images // 2, 2))
        cats = load_images(os.path.join(paths["images"], "train"), image_size=size, batch_size=20)
        x = cats.load_pixels(desc=None)._pixels.astype("float32")
        y = np.asarray(cats.labels, dtype="float32")
        sides = {}
        for augment in (False, True):
            key = "augmented" if augment else "plain"
            sides[key] = {"nnmagics": nnmagics_side(keras, cats, size, epochs, augment, not args.no_panel),
                          "keras": keras_side(keras, x, y, size, epochs, augment)}
            sides[key]["ratio"] = round(sides[key]["nnmagics"]["images_per_s"] / sides[key]["keras"]["images_per_s"], 3)
    result = {"bench": "gpu_train", "backend": backend, "device": device, "badge": detect().badge(),
              "small": args.quick, "images": len(cats), "image_size": size, "batch": 20, "epochs_timed": epochs,
              "panel": not args.no_panel, "tensorflow_imported": "tensorflow" in sys.modules, "versions": versions,
              "sides": sides, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    emit(result, "gpu_train.json")
    results = os.environ.get("NNMAGICS_BENCH_RESULTS") or os.path.join(HERE, "results")
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, "gpu_train.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
