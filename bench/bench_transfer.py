"""VGG16 transfer: 10 epochs of ``features`` mode vs the course's ``replace-top``, same 60 images (target ≥ 8×).

Measures, on the same machine in one run:

- ``features``: ``%vgg_transfer build fast --from data --mode features`` trained 10 epochs by
  ``training.features_fit.fit_features_model`` (what ``%nn_train`` calls for such a model), from a cold
  cache: one VGG16 pass over the images, then 10 epochs of the head on the cached outputs;
  and again with the cache warm (a second training of the same data);
- ``replace-top``: ``%vgg_transfer build tl --from data`` (the course's recipe, resized to
  224×224 inside) trained with ``model.fit`` on the ``tf.data`` pipeline, every epoch running
  VGG16. By default 3 epochs are run and 10 extrapolated (first epoch + 9 × the median of the
  others: an epoch costs the same every time); ``--full`` runs all 10 (about 8 minutes on 2 cores);
- VGG16's forward pass in images/s: the whole network at 224×224 (``%vgg_transfer predict``)
  and the convolutional base at 150×150 (what features mode computes once).

Weights are random (``--weights none``): the timing is the same as with ImageNet's.
``--trainer nn_train`` trains both through ``nnmagics.train.train`` instead (once it uses the
feature cache). Run: ``.venv/bin/python bench/bench_transfer.py [--full]``; appends a JSON line to
``bench/results/transfer.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_RATIO = 8.0
EPOCHS = 10
IMAGES = 60
SIZE = 150


def make_images(folder: str, n: int = IMAGES, size: int = SIZE, seed: int = 0) -> str:
    """``n`` smooth random 'photos' (JPEG, ``size``×``size``) in cats/ and dogs/, made with PIL."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n):
        cls = ("cats", "dogs")[i % 2]
        os.makedirs(os.path.join(folder, cls), exist_ok=True)
        small = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
        small.resize((size, size), Image.BICUBIC).save(os.path.join(folder, cls, f"{cls[:-1]}.{i}.jpg"), quality=90)
    return folder


def epoch_timer():
    """A Keras callback recording the duration of every epoch."""
    import keras

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimes()


def build(shell, line: str):
    shell.run_line_magic("vgg_transfer", line)
    name = line.split()[1]
    model = shell.user_ns[name]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_features(model, data, trainer: str) -> float:
    from nnmagics.training.features_fit import fit_features_model

    start = time.perf_counter()
    if trainer == "nn_train":
        from nnmagics.training import train

        train(model, data, epochs=EPOCHS, reporter=False)
    else:
        fit_features_model(model, data, epochs=EPOCHS)
    return time.perf_counter() - start


def train_replace_top(model, data, epochs: int, trainer: str) -> tuple[float, list[float]]:
    timer = epoch_timer()
    start = time.perf_counter()
    if trainer == "nn_train":
        from nnmagics.training import train

        train(model, data, epochs=epochs, reporter=False, callbacks=[timer])
    else:
        model.fit(data.as_tf_dataset(shuffle=True, seed=0, class_mode="int"), epochs=epochs, verbose=0,
                  callbacks=[timer])
    return time.perf_counter() - start, timer.times


def forward_rate(model, shape, n: int = 16, batch: int = 8) -> float:
    """Images per second of ``model.predict`` (after one warm-up batch)."""
    import numpy as np

    x = np.random.default_rng(0).uniform(0, 255, (n, *shape)).astype("float32")
    model.predict(x[:batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(x, batch_size=batch, verbose=0)
    return n / (time.perf_counter() - start)


def main(full: bool = False, trainer: str = "api") -> dict:
    from IPython.core.interactiveshell import InteractiveShell

    from nnmagics.training import feature_cache as fc
    from nnmagics import transfer as tr
    from nnmagics.data.images import load_images

    work = tempfile.mkdtemp(prefix="nnmagics-bench-transfer-")
    os.environ["NNMAGICS_CACHE_DIR"] = os.path.join(work, "cache")  # a cold feature cache
    data = load_images(make_images(os.path.join(work, "images")), image_size=SIZE, batch_size=20, name="data")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nnmagics")
    shell.user_ns["data"] = data

    fast = build(shell, "build fast --from data --mode features --weights none --quiet")
    fc.clear_memory_cache()
    features_cold = train_features(fast, data, trainer)
    features_warm = train_features(fast, data, trainer)

    slow = build(shell, "build tl --from data --weights none --quiet")
    epochs_run = EPOCHS if full else 3
    replace_run, epoch_times = train_replace_top(slow, data, epochs_run, trainer)
    if full:
        replace_10 = replace_run
    else:
        replace_10 = epoch_times[0] + (EPOCHS - 1) * statistics.median(epoch_times[1:])
    total, trainable = tr.trainable_summary(slow)
    del slow

    whole = tr.imagenet_model("none")
    whole_rate = forward_rate(whole, (224, 224, 3))
    base, _ = fc.split_features_model(fast)
    base_rate = forward_rate(base, (SIZE, SIZE, 3), n=32)

    import tensorflow as tf

    ratio = replace_10 / features_cold
    return {
        "bench": "transfer",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, TF {tf.__version__}",
        "trainer": trainer,
        "images": len(data), "image_size": SIZE, "epochs": EPOCHS, "batch_size": data.batch_size,
        "features_10_epochs_cold_s": round(features_cold, 2),
        "features_10_epochs_warm_s": round(features_warm, 2),
        "replace_top_epochs_run": epochs_run,
        "replace_top_epoch_s": [round(t, 2) for t in epoch_times],
        "replace_top_10_epochs_s": round(replace_10, 2),
        "replace_top_extrapolated": not full,
        "replace_top_params": [total, trainable],
        "ratio": round(ratio, 1),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "vgg16_224_images_per_s": round(whole_rate, 2),
        "vgg16_base_150_images_per_s": round(base_rate, 2),
    }


def report(r: dict) -> None:
    rows = [
        ("features, 10 epochs (cold cache: 1 VGG16 pass)", f"{r['features_10_epochs_cold_s']:.1f} s"),
        ("features, 10 epochs (warm cache)", f"{r['features_10_epochs_warm_s']:.1f} s"),
        (f"replace-top, 10 epochs{' (extrapolated from 3)' if r['replace_top_extrapolated'] else ''}",
         f"{r['replace_top_10_epochs_s']:.1f} s"),
        ("replace-top epochs run", ", ".join(f"{t:.1f}" for t in r["replace_top_epoch_s"]) + " s"),
        ("speed-up (replace-top / features cold)",
         f"{r['ratio']:.1f}× (target ≥ {r['target_ratio']:.0f}×: {'OK' if r['meets_target'] else 'MISSED'})"),
        ("VGG16 forward, 224×224 whole network", f"{r['vgg16_224_images_per_s']:.2f} images/s"),
        ("VGG16 forward, 150×150 conv base", f"{r['vgg16_base_150_images_per_s']:.2f} images/s"),
    ]
    width = max(len(a) for a, _ in rows)
    print(f"VGG16 transfer, {r['images']} images {r['image_size']}×{r['image_size']}, batch {r['batch_size']}, "
          f"{r['machine']} (trainer: {r['trainer']})")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run all 10 replace-top epochs (slow)")
    parser.add_argument("--trainer", choices=("api", "nn_train"), default="api",
                        help="api: fit_features_model vs model.fit; nn_train: nnmagics.train.train for both")
    options = parser.parse_args()
    result = main(full=options.full, trainer=options.trainer)
    report(result)
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "transfer.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")
