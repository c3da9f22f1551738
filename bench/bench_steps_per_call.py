"""Several training steps per call (Keras' ``steps_per_execution``) on an accelerator: what it is worth (a GPU check).

``train`` runs models whose step is small (``nnmagics.training.execution.steps_per_call``: under 10 M
multiply-adds per batch, the course's dense nets) 10 steps per call and others one. This measures, side by
side in one run, training samples per second with 1 and with 10 steps per call for:

- the course's dense net (2 → 3 → 3 → 3, batch 32, 20,000 rows): what ``train`` does run 10 per call;
- the course CNN (150×150, uint8 input cast in the step, batch 20): what ``train`` runs one per call —
  to see whether an accelerator would make a case for more.

Each side: one ``fit`` whose first epoch compiles (not timed); the rate is the median of the timed epochs,
each timed from its begin to its end (Keras fetches the logs there, so the device work is finished).
Made to run without TensorFlow (``KERAS_BACKEND=jax``); imports nothing from nnmagics (the JSON output and
the device description are ``bench_accelerator``'s).

Run: ``PYTHONPATH=. KERAS_BACKEND=jax python bench/bench_steps_per_call.py [--small]``; prints one JSON
line and writes it to ``$OUT/steps_per_call.json`` when ``$OUT`` is set.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_accelerator import backend_info, emit  # noqa: E402


def dense_net(keras):
    """The course's dense net: 2 inputs → 3 relu → 3 relu → 3 softmax."""
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu"),
                             keras.layers.Dense(3, activation="relu"), keras.layers.Dense(3, activation="softmax")])


def course_cnn(keras, size: int):
    """The course's CNN behind a uint8 input and the cast (what ``train`` runs on a GPU)."""
    layers = keras.layers
    inputs = keras.Input((size, size, 3), dtype="uint8")
    x = layers.Rescaling(1 / 255)(keras.ops.cast(inputs, "float32"))
    for filters in (16, 32, 64):
        x = layers.MaxPooling2D(2)(layers.Conv2D(filters, 3, activation="relu")(x))
    x = layers.Dense(512, activation="relu")(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def rate(keras, model, x, y, batch: int, per_call: int, loss: str, epochs: int) -> dict:
    """Samples/s: median over the timed epochs (the first one compiles)."""
    model.compile(optimizer="rmsprop", loss=loss, metrics=["accuracy"], steps_per_execution=per_call)
    marks: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks.append(time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            marks.append(time.perf_counter())

    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1 + epochs, shuffle=False, verbose=0, callbacks=[Timer()])
    spans = [marks[i + 1] - marks[i] for i in range(2, len(marks), 2)]
    rates = [len(x) / s for s in spans]
    return {"samples_per_s": round(statistics.median(rates), 1), "epochs": [round(r, 1) for r in rates],
            "whole_s": round(time.perf_counter() - start, 2)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    rows, size, images = (2_000, 32, 100) if args.small else (20_000, 150, 2_000)
    backend, device, versions = backend_info(keras)
    xd = rng.normal(size=(rows, 2)).astype("float32")
    yd = rng.integers(0, 3, rows)
    xi = rng.integers(0, 256, (images, size, size, 3), dtype=np.uint8)
    yi = rng.integers(0, 2, images).astype("float32")
    results = {}
    for name, make, x, y, batch, loss in (
            ("dense_net", lambda: dense_net(keras), xd, yd, 32, "sparse_categorical_crossentropy"),
            ("course_cnn", lambda: course_cnn(keras, size), xi, yi, 20, "binary_crossentropy")):
        weights = make().get_weights()
        row = results[name] = {}
        for per_call in (1, 10, 1, 10):   # twice each, alternating: the better of two is kept
            model = make()
            model.set_weights(weights)
            measured = rate(keras, model, x, y, batch, per_call, loss, args.epochs)
            key = f"per_call_{per_call}"
            if key not in row or measured["samples_per_s"] > row[key]["samples_per_s"]:
                row[key] = measured
        row["speedup_10_vs_1"] = round(row["per_call_10"]["samples_per_s"] / row["per_call_1"]["samples_per_s"], 3)
    result = {"bench": "steps_per_call", "backend": backend, "device": device, "small": args.small,
              "tensorflow_imported": "tensorflow" in sys.modules, "versions": versions, "results": results,
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    emit(result, "steps_per_call.json")
    return result


if __name__ == "__main__":
    main()
