"""The course's CNN on a folder of photo-sized JPEGs: nnmagics (tf.data) vs the course's ImageDataGenerator.

Writes ``--images`` training JPEGs (half "cats", half "dogs") and ``--images / 2`` validation
JPEGs of 300–500 px with photo-like content into a temporary folder laid out like
cats_and_dogs_filtered, then trains the same model (the course's CNN, same initial weights)
for ``--epochs`` epochs with validation, side by side in one run:

- **course**: ``ImageDataGenerator(rescale=1./255).flow_from_directory(…, target_size=(150, 150),
  batch_size=20, class_mode='binary')`` + ``model.fit`` (the notes' recipe, in Keras 3);
- **nnmagics**: ``load_images`` + ``train`` (parallel decode, decoded images cached in memory,
  prefetch; the live panel headless);

and the same with the course's augmentation on both sides (``ImageDataGenerator(rotation_range=40,
width_shift_range=0.2, …)`` vs ``--augment``). Its old targets (≥ 2.5× and ≥ 2× whole epochs) mixed the
two halves of an epoch; ``make bench`` now measures them apart and no longer runs this script:
``bench_input_pipeline.py`` (the input pipeline, with a model that costs nothing: what a GPU sees) and
``bench_cpu_epoch.py`` (the course CNN's compute on this CPU). Its photo generator is shared by both.

Run: ``.venv/bin/python bench/bench_image_pipeline.py [--images 1000] [--epochs 3] [--small]``
(``--small``: 200 images, 2 epochs, a quick check); appends a JSON line to
``bench/results/image_pipeline.jsonl``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_panel_overhead import headless_panel, machine, write_result  # noqa: E402

COURSE_AUGMENT = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2,
                      zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")
TARGETS = {"plain": 2.5, "augmented": 2.0}


def photo(rng, height: int, width: int):
    """A photo-like RGB image: smooth colour fields, edges and sensor noise (JPEG-compresses like a photo)."""
    import numpy as np
    from PIL import Image, ImageFilter

    base = Image.fromarray((rng.random((6, 6, 3)) * 255).astype("uint8")).resize((width, height), Image.BICUBIC)
    pixels = np.asarray(base, dtype="float32")
    for _ in range(3):  # a few hard-edged blobs
        cy, cx, r = rng.integers(0, height), rng.integers(0, width), rng.integers(20, 120)
        yy, xx = np.ogrid[:height, :width]
        pixels[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.random(3) * 255
    pixels += rng.normal(0, 10, pixels.shape)
    image = Image.fromarray(pixels.clip(0, 255).astype("uint8")).filter(ImageFilter.SMOOTH)
    return image


def make_folder(root: str, n_train: int, n_val: int, seed: int = 0) -> None:
    """cats_and_dogs_filtered-like tree of JPEGs, 300–500 px on each side."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("validation", n_val)):
        for index in range(count):
            label = ("cats", "dogs")[index % 2]
            folder = os.path.join(root, split, label)
            os.makedirs(folder, exist_ok=True)
            h, w = (int(v) for v in rng.integers(300, 501, 2))
            photo(rng, h, w).save(os.path.join(folder, f"{label[:-1]}.{index}.jpg"), quality=90)


def warm_page_cache(root: str) -> int:
    """Read every file once so that no side pays for the first disk read."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                total += len(handle.read())
    return total


def course_model(weights):
    """The course's CNN without the Rescaling layer (ImageDataGenerator rescales), given weights."""
    from nnmagics.model.build import build_model

    model = build_model("input 150x150x3, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, conv 64 3 relu, pool 2, "
                        "flatten, dense 512 relu, dense 1 sigmoid")
    model.set_weights(weights)
    return model


def image_data_generator():
    import tensorflow as tf

    try:
        return tf.keras.preprocessing.image.ImageDataGenerator          # what the course writes
    except AttributeError:  # pragma: no cover - newer Keras without the legacy alias
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

        return ImageDataGenerator


def run_course(root: str, weights, epochs: int, augment: bool) -> dict:
    """The course's recipe; per-epoch seconds from a callback."""
    import keras

    IDG = image_data_generator()
    extra = COURSE_AUGMENT if augment else {}
    start = time.perf_counter()
    train_gen = IDG(rescale=1.0 / 255, **extra).flow_from_directory(
        os.path.join(root, "train"), target_size=(150, 150), batch_size=20, class_mode="binary")
    val_gen = IDG(rescale=1.0 / 255).flow_from_directory(
        os.path.join(root, "validation"), target_size=(150, 150), batch_size=20, class_mode="binary")
    load = time.perf_counter() - start
    model = course_model(weights)
    model.compile(loss="binary_crossentropy", metrics=["acc"], optimizer="rmsprop")
    seconds = []

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t)

    start, cpu = time.perf_counter(), time.process_time()
    model.fit(train_gen, epochs=epochs, validation_data=val_gen, callbacks=[Epochs()], verbose=0)
    return {"load_s": load, "fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - cpu,
            "epoch_s": seconds}


def run_nnmagics(root: str, weights, epochs: int, augment: bool) -> dict:
    """``load_images`` + ``train`` with the panel; per-epoch seconds from the history."""
    from nnmagics.model.build import build_model
    from nnmagics.data.images import load_images
    from nnmagics.training import train

    start = time.perf_counter()
    data = load_images(root, image_size=150, batch_size=20)
    load = time.perf_counter() - start
    model = build_model(preset="course-cnn")
    model.set_weights(weights)
    start, cpu = time.perf_counter(), time.process_time()
    history = train(model, data, epochs=epochs, augment=augment, seed=0, reporter=headless_panel())
    return {"load_s": load, "fit_s": time.perf_counter() - start, "fit_cpu_s": time.process_time() - cpu,
            "epoch_s": list(history.seconds), "val_acc": history.history["val_accuracy"][-1]}


def _timed(fn) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def pipeline_only(root: str, augment: bool) -> dict:
    """The input pipelines alone (no model): one epoch of training + validation batches, each side.

    This is what an epoch costs when the model's compute is not the bottleneck (a GPU): the course's
    generator decodes, resizes (and augments) every image on one thread, every epoch; nnmagics decodes
    in parallel once, then serves the cached pixels.
    """
    from nnmagics.model.build import make_augmentation
    from nnmagics.data.images import load_images

    IDG = image_data_generator()
    extra = COURSE_AUGMENT if augment else {}
    train_gen = IDG(rescale=1.0 / 255, **extra).flow_from_directory(
        os.path.join(root, "train"), target_size=(150, 150), batch_size=20, class_mode="binary")
    val_gen = IDG(rescale=1.0 / 255).flow_from_directory(
        os.path.join(root, "validation"), target_size=(150, 150), batch_size=20, class_mode="binary")

    def course_epoch():
        for gen in (train_gen, val_gen):
            for i in range(len(gen)):
                gen[i]

    data = load_images(root, image_size=150, batch_size=20)
    train_ds = data.as_tf_dataset(shuffle=True, seed=0, augment=make_augmentation(0) if augment else None)
    val_ds = data.validation.as_tf_dataset()

    def ours_epoch():
        for ds in (train_ds, val_ds):
            for _ in ds:
                pass

    return {"course_epoch": _timed(course_epoch), "nnmagics_first_epoch": _timed(ours_epoch),
            "nnmagics_cached_epoch": _timed(ours_epoch)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="training images (validation: half as many)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="quick check: 200 images, 2 epochs")
    parser.add_argument("--no-augment", action="store_true", help="skip the augmented comparison")
    parser.add_argument("--keep", metavar="DIR", help="write the images into DIR and keep them")
    parser.add_argument("--pipeline-only", action="store_true", help="measure the input pipelines only (no training)")
    args = parser.parse_args(argv)
    if args.small:
        args.images, args.epochs = 200, 2

    from nnmagics.model.build import build_model

    root = args.keep or tempfile.mkdtemp(prefix="nnmagics-photos-")
    if not os.path.isdir(os.path.join(root, "validation")):
        start = time.perf_counter()
        make_folder(root, args.images, args.images // 2)
        print(f"wrote {args.images} + {args.images // 2} JPEGs (300–500 px) in {time.perf_counter() - start:.0f} s")
    size_mb = warm_page_cache(root) / 1e6
    weights = build_model(preset="course-cnn").get_weights()
    print(f"course CNN, 150×150, batch 20, {args.epochs} epochs with validation, {size_mb:.0f} MB of JPEG\n")

    modes = ["plain"] + ([] if args.no_augment else ["augmented"])
    pipes = {}
    print("Input pipelines alone (one epoch of train + validation batches, no model):")
    print("| augmentation | course generator (s, CPU s) | nnmagics 1st epoch (s, CPU s) | nnmagics cached epoch (s, CPU s) "
          "| speed-up, cached epoch |")
    print("|---|---|---|---|---|")
    for mode in modes:
        pipe = pipes[mode] = pipeline_only(root, mode == "augmented")
        cells = " | ".join(f"{pipe[k][0]:.2f}, {pipe[k][1]:.2f}"
                           for k in ("course_epoch", "nnmagics_first_epoch", "nnmagics_cached_epoch"))
        print(f"| {mode} | {cells} | {pipe['course_epoch'][0] / pipe['nnmagics_cached_epoch'][0]:.1f}× |", flush=True)
    print()
    if args.pipeline_only:
        write_result("image_pipeline.jsonl", {"bench": "image_pipeline", "pipeline_only": pipes,
                                              "images": args.images, "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                                              "load_avg": os.getloadavg(), **machine()})
        return 0
    results = {}
    for mode in modes:
        augment = mode == "augmented"
        for side, fn in (("course", run_course), ("nnmagics", run_nnmagics)):
            result = fn(root, weights, args.epochs, augment)
            results[(mode, side)] = result
            epochs = " ".join(f"{s:.1f}" for s in result["epoch_s"])
            print(f"  {mode:<9} {side:<9} load {result['load_s']:5.1f} s · fit {result['fit_s']:6.1f} s · "
                  f"epochs [{epochs}] s", flush=True)
    print()
    print("Training (the course's CNN, same weights, with validation):")
    print("| augmentation | side | load (s) | fit, all epochs (s) | fit CPU (s) | later epoch (s) | speed-up (fit) | "
          "speed-up (later epochs) | target |")
    print("|---|---|---|---|---|---|---|---|---|")
    record = {"bench": "image_pipeline", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "images": args.images,
              "val_images": args.images // 2, "epochs": args.epochs, "small": args.small,
              "load_avg": os.getloadavg(), **machine(), "sides": {}}
    for mode in modes:
        course, ours = results[(mode, "course")], results[(mode, "nnmagics")]
        later = lambda r: statistics.mean(r["epoch_s"][1:]) if len(r["epoch_s"]) > 1 else r["epoch_s"][0]  # noqa: E731
        speed_fit = course["fit_s"] / ours["fit_s"]
        speed_later = later(course) / later(ours)
        for side, r in (("course ImageDataGenerator", course), ("nnmagics tf.data", ours)):
            mine = side.startswith("nnmagics")
            print(f"| {mode} | {side} | {r['load_s']:.1f} | {r['fit_s']:.1f} | {r['fit_cpu_s']:.1f} | {later(r):.1f} | "
                  f"{f'{speed_fit:.2f}×' if mine else '1'} | {f'{speed_later:.2f}×' if mine else '1'} | "
                  f"{f'≥ {TARGETS[mode]}×' if mine else ''} |")
        record["sides"][mode] = {"course": course, "nnmagics": ours, "speedup_fit": speed_fit,
                                 "speedup_later_epochs": speed_later, "target": TARGETS[mode],
                                 "pipeline_only": pipes[mode]}
    path = write_result("image_pipeline.jsonl", record)
    print(f"\nResult appended to {path}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
