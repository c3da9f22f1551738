"""The input pipeline through nnmagics' real training path vs the course's ``ImageDataGenerator`` + ``fit``.

"What a GPU would see": the model costs (almost) nothing — ``Input(150, 150, 3) → GlobalAveragePooling2D
→ Dense(1, sigmoid)`` — so the time of a fit is the time of its input pipeline. On ``--images``
photo-like JPEGs (300–500 px, ~20–30 KB, written offline into a temporary folder with one sub-folder
per class), batch 20, ``--epochs`` epochs, the same number of steps on both sides, side by side in one
run:

- **course**: ``ImageDataGenerator(rescale=1./255).flow_from_directory(root, target_size=(150, 150),
  batch_size=20, class_mode='binary')`` + ``model.fit(generator, epochs=3)`` (the notes' recipe in Keras 3);
- **nnmagics**: ``load_images(root, image_size=150)`` + ``nnmagics.train(model, data, epochs=3,
  reporter=False)`` — the ``%nn_train`` path (its model starts with ``Rescaling(1/255)``, as nnmagics'
  image models do);

without augmentation (target ≥ 5×) and with the course's augmentation (``ImageDataGenerator(rotation_range=40,
width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2, zoom_range=0.2, horizontal_flip=True,
fill_mode='nearest')`` vs ``--augment``; target ≥ 3×).

**What is counted**: the training cell — compiling, tracing and every epoch, the first one included. The
data cell is timed apart, and the ratio of both cells together is reported next to it: the course's
``flow_from_directory`` only lists the files (its generator decodes, resizes and augments every image on
one thread, every epoch, in the training cell), while ``load_images`` (``%nn_data``) checks every file
(cold here) and decodes them all once, in parallel, into memory, so that no training cell decodes again. The files are read once beforehand so that neither side pays for the disk, and both
sides run once on 20 images before timing (process-wide first-use costs; each timed run still traces its
own steps). Sides alternate (course, nnmagics, then nnmagics, course) and the ratio of the medians over
``--rounds`` is reported. Last, the free model's plain ``compile`` + ``fit`` on the same in-memory batches
is timed: Keras' default loop, which nnmagics' ``train`` runs faster for such a small model (several steps
per call, the model built before the first trace: ``training/execution.py``).

Run: ``.venv/bin/python bench/bench_input_pipeline.py [--images 1000] [--epochs 3] [--rounds 3] [--small]``
(``--small``: 300 images, 1 round); appends a JSON line to ``bench/results/input_pipeline.jsonl``.
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
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_fused_augment import cpu_description  # noqa: E402
from bench_image_pipeline import COURSE_AUGMENT, image_data_generator, photo, warm_page_cache  # noqa: E402
from bench_panel_overhead import machine, write_result  # noqa: E402

BATCH, SIZE = 20, 150
TARGETS = {"plain": 5.0, "augmented": 3.0}


def make_photos(root: str, n: int, seed: int = 0, quality: int = 85) -> float:
    """``n`` photo-like JPEGs (300–500 px) in ``root/cats`` and ``root/dogs``; returns their mean size in KB."""
    import numpy as np

    rng = np.random.default_rng(seed)
    total = 0
    for index in range(n):
        label = ("cats", "dogs")[index % 2]
        folder = os.path.join(root, label)
        os.makedirs(folder, exist_ok=True)
        h, w = (int(v) for v in rng.integers(300, 501, 2))
        path = os.path.join(folder, f"{label[:-1]}.{index}.jpg")
        photo(rng, h, w).save(path, quality=quality)
        total += os.path.getsize(path)
    return total / max(n, 1) / 1e3


def free_model(rescale: bool):
    """The model that costs nothing: (Rescaling →) GlobalAveragePooling2D → Dense(1, sigmoid)."""
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs) if rescale else inputs
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))


def run_course(root: str, weights, epochs: int, augment: bool) -> dict:
    """The course's recipe: the data cell (``flow_from_directory``), then the training cell (compile + fit)."""
    IDG = image_data_generator()
    start, cpu = time.perf_counter(), time.process_time()
    gen = IDG(rescale=1.0 / 255, **(COURSE_AUGMENT if augment else {})).flow_from_directory(
        root, target_size=(SIZE, SIZE), batch_size=BATCH, class_mode="binary", seed=0)
    load = time.perf_counter() - start
    model = free_model(rescale=False)
    model.set_weights(weights)
    begin, begin_cpu = time.perf_counter(), time.process_time()
    model.compile(loss="binary_crossentropy", metrics=["acc"], optimizer="rmsprop")
    model.fit(gen, epochs=epochs, verbose=0)
    end = time.perf_counter()
    return {"load_s": load, "train_s": end - begin, "seconds": end - start, "cpu_s": time.process_time() - cpu,
            "train_cpu_s": time.process_time() - begin_cpu,
            "steps": len(gen) * epochs}


def run_nnmagics(root: str, weights, epochs: int, augment: bool) -> dict:
    """``load_images`` (the data cell: scan + check every file), then ``nnmagics.train(..., reporter=False)``."""
    import tempfile

    from nnmagics.data.images import load_images
    from nnmagics.training import train

    os.environ["NNMAGICS_CACHE_DIR"] = tempfile.mkdtemp(prefix="nnmagics-bench-cache-")  # every check runs cold
    start, cpu = time.perf_counter(), time.process_time()
    data = load_images(root, image_size=SIZE, batch_size=BATCH)
    load = time.perf_counter() - start
    model = free_model(rescale=True)
    model.set_weights(weights)
    begin, begin_cpu = time.perf_counter(), time.process_time()
    history = train(model, data, epochs=epochs, augment=augment, seed=0, reporter=False)
    end = time.perf_counter()
    shutil.rmtree(os.environ.pop("NNMAGICS_CACHE_DIR"), ignore_errors=True)
    fit = history.fits[-1]["params"]
    return {"load_s": load, "train_s": end - begin, "seconds": end - start, "cpu_s": time.process_time() - cpu,
            "train_cpu_s": time.process_time() - begin_cpu,
            "steps": fit["steps"] * epochs, "epoch_s": list(history.seconds),
            "precision": fit.get("precision"), "augment_placement": fit.get("augment")}


def keras_floor(root: str, weights, epochs: int) -> dict:
    """Plain ``compile`` + ``model.fit`` of the free model on nnmagics' in-memory batches: Keras' default
    loop (compile, tracing, one step per call), for comparison with ``train``'s."""
    from nnmagics.data.images import load_images

    data = load_images(root, image_size=SIZE, batch_size=BATCH)
    ds = data.as_tf_dataset(shuffle=True, seed=0, class_mode="binary")
    for _ in ds:   # decode and cache, not timed
        pass
    model = free_model(rescale=True)
    model.set_weights(weights)
    start, cpu = time.perf_counter(), time.process_time()
    model.compile(loss="binary_crossentropy", metrics=["accuracy"], optimizer="rmsprop")
    model.fit(ds, epochs=epochs, verbose=0)
    return {"seconds": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


def warm_up(root: str, weights) -> None:
    """Both sides once on a few images, not timed: the process-wide first-use costs (TensorFlow's runtime,
    autograph, oneDNN kernels) are then paid by neither side; every timed run still traces its own steps."""
    small = tempfile.mkdtemp(prefix="nnmagics-warm-")
    for label in ("cats", "dogs"):
        os.makedirs(os.path.join(small, label))
        for name in sorted(os.listdir(os.path.join(root, label)))[:10]:
            shutil.copy(os.path.join(root, label, name), os.path.join(small, label, name))
    for augment in (False, True):
        run_course(small, weights, 1, augment)
        run_nnmagics(small, weights, 1, augment)
    shutil.rmtree(small, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is kept")
    parser.add_argument("--small", action="store_true", help="quick check: 300 images, 1 round")
    parser.add_argument("--keep", metavar="DIR", help="write the JPEGs into DIR and keep them")
    args = parser.parse_args(argv)
    if args.small:
        args.images, args.rounds = 300, 1

    root = args.keep or tempfile.mkdtemp(prefix="nnmagics-input-")
    start = time.perf_counter()
    if not os.path.isdir(os.path.join(root, "dogs")):
        mean_kb = make_photos(root, args.images)
        print(f"wrote {args.images} JPEGs (300–500 px, mean {mean_kb:.0f} KB) in {time.perf_counter() - start:.0f} s")
    else:
        files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
        mean_kb = sum(map(os.path.getsize, files)) / max(len(files), 1) / 1e3
    warm_page_cache(root)
    weights = free_model(rescale=False).get_weights()
    warm_up(root, weights)
    print(f"free model (GAP → Dense 1), {SIZE}×{SIZE}, batch {BATCH}, {args.epochs} epochs, {args.rounds} round(s); "
          f"counted: the training cell (compile + every epoch); the data cell apart (nnmagics decodes there)\n")

    record = {"bench": "input_pipeline", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "images": args.images,
              "mean_jpeg_kb": round(mean_kb, 1), "epochs": args.epochs, "rounds": args.rounds, "small": args.small,
              "counted": "training cell: compile + every epoch; nnmagics decodes in the data cell (whole: + the data cell)",
              **machine(), **cpu_description(), "sides": {}}
    print("| augmentation | course fit (s) | nnmagics train (s) | speed-up | target | course data cell (s) | "
          "nnmagics data cell (s) | speed-up, both cells |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in ("plain", "augmented"):
        augment = mode == "augmented"
        course, ours = [], []
        for r in range(args.rounds):
            order = ((course, run_course), (ours, run_nnmagics))
            for runs, fn in (order if r % 2 == 0 else order[::-1]):
                runs.append(fn(root, weights, args.epochs, augment))
        c = statistics.median(x["train_s"] for x in course)
        o = statistics.median(x["train_s"] for x in ours)
        cl = statistics.median(x["load_s"] for x in course)
        ol = statistics.median(x["load_s"] for x in ours)
        whole = statistics.median(x["seconds"] for x in course) / statistics.median(x["seconds"] for x in ours)
        if course[0]["steps"] != ours[0]["steps"]:
            print(f"warning: {course[0]['steps']} course steps vs {ours[0]['steps']} nnmagics steps")
        record["sides"][mode] = {"course": course, "nnmagics": ours, "course_s": c, "nnmagics_s": o,
                                 "speedup": c / o, "target": TARGETS[mode], "course_load_s": cl,
                                 "nnmagics_load_s": ol, "speedup_whole": whole,
                                 "load_avg": os.getloadavg()}
        print(f"| {mode} | {c:.1f} | {o:.1f} | {c / o:.1f}× | ≥ {TARGETS[mode]:g}× | {cl:.2f} | {ol:.2f} | {whole:.1f}× |",
              flush=True)
    record["keras_floor"] = floor = keras_floor(root, weights, args.epochs)
    print(f"\nKeras' default fit loop on the same in-memory batches: {floor['seconds']:.1f} s, "
          f"{floor['cpu_s']:.1f} CPU s")
    path = write_result("input_pipeline.jsonl", record)
    print(f"\nResult appended to {path}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
