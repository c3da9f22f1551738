"""The course CNN, whole epochs on this CPU: nnmagics (``--mixed-precision auto``) vs the course's float32 recipe.

Same architecture (the course's Conv16-Pool-Conv32-Pool-Conv64-Pool-Flatten-Dense512-Dense1 at 150×150,
9,494,561 parameters, the same initial weights), same ``--images`` photo-like JPEGs (one sub-folder per
class), batch 20, same ``--epochs`` epochs, no validation on either side, side by side in one run:

- **course**: the model built by plain Keras (float32), ``ImageDataGenerator(rescale=1./255)
  .flow_from_directory(…)`` + ``model.fit`` — the notes' recipe in Keras 3;
- **nnmagics**: ``load_images`` + ``nnmagics.train(model, data, mixed_precision="auto", reporter=False)``
  with ``build_model(preset="course-cnn")`` — what ``%nn_train`` runs. ``auto`` picks ``mixed_bfloat16``
  on a CPU with AVX512_BF16/AMX and float32 elsewhere (``nnmagics.runtime.precision``).

**What is counted**: the headline is the steady epoch — the median of the epochs after the first, each
side's fit timed by a callback (the first epoch, which traces the step and decodes the JPEGs, is
reported apart, and so is each side's whole run from the folder scan to the last epoch). Sides alternate
over ``--rounds``; the process CPU seconds per steady epoch are recorded too (less sensitive to a
shared machine than the wall clock). Target: ≥ 1.7× on a CPU with bfloat16 units (AVX512_BF16 or AMX-BF16), ≥ 1.0× elsewhere;
the JSON line says which this machine is.

Run: ``.venv/bin/python bench/bench_cpu_epoch.py [--images 600] [--epochs 5] [--rounds 3] [--small]``
(``--small``: 100 images, 2 epochs, 1 round); appends a JSON line to ``bench/results/cpu_epoch.jsonl``.
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
from bench_image_pipeline import image_data_generator, warm_page_cache  # noqa: E402
from bench_input_pipeline import make_photos  # noqa: E402
from bench_panel_overhead import machine, write_result  # noqa: E402

BATCH, SIZE = 20, 150


def bf16_cpu() -> bool:
    """Whether this CPU has bfloat16 units (the flags ``nnmagics.runtime.precision`` reads)."""
    flags = set(cpu_description()["cpu_flags"])
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def course_cnn():
    """The course's CNN written in plain Keras, as in the notes (``ImageDataGenerator`` rescales the pixels)."""
    from keras import Model, layers

    img_input = layers.Input(shape=(SIZE, SIZE, 3))
    x = layers.Conv2D(16, 3, activation="relu")(img_input)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    return Model(img_input, layers.Dense(1, activation="sigmoid")(x))


def epoch_timer(seconds: list, cpu: list):
    """A callback that appends each epoch's wall seconds to ``seconds`` and process CPU seconds to ``cpu``."""
    import keras

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t, self.c = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t)
            cpu.append(time.process_time() - self.c)

    return Epochs()


def run_course(root: str, weights, epochs: int) -> dict:
    IDG = image_data_generator()
    start, seconds, cpu = time.perf_counter(), [], []
    gen = IDG(rescale=1.0 / 255).flow_from_directory(root, target_size=(SIZE, SIZE), batch_size=BATCH,
                                                     class_mode="binary", seed=0)
    model = course_cnn()
    model.set_weights(weights)
    model.compile(loss="binary_crossentropy", metrics=["acc"], optimizer="rmsprop")
    model.fit(gen, epochs=epochs, verbose=0, callbacks=[epoch_timer(seconds, cpu)])
    return {"seconds": time.perf_counter() - start, "epoch_s": seconds, "epoch_cpu_s": cpu, "precision": "float32",
            "steps": len(gen)}


def run_nnmagics(root: str, weights, epochs: int) -> dict:
    from nnmagics.model.build import build_model
    from nnmagics.data.images import load_images
    from nnmagics.training import train

    os.environ["NNMAGICS_CACHE_DIR"] = tempfile.mkdtemp(prefix="nnmagics-bench-cache-")  # the check runs cold
    start, seconds, cpu = time.perf_counter(), [], []
    data = load_images(root, image_size=SIZE, batch_size=BATCH)
    model = build_model(preset="course-cnn")
    model.set_weights(weights)
    history = train(model, data, epochs=epochs, seed=0, mixed_precision="auto", reporter=False,
                    callbacks=[epoch_timer(seconds, cpu)])
    params = history.fits[-1]["params"]
    shutil.rmtree(os.environ.pop("NNMAGICS_CACHE_DIR"), ignore_errors=True)
    return {"seconds": time.perf_counter() - start, "epoch_s": seconds, "epoch_cpu_s": cpu,
            "precision": params.get("precision"),
            "steps": params.get("steps"), "loss": history.history["loss"][-1]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)  # 12 steady epochs per side: this VM swings ±40 %
    parser.add_argument("--small", action="store_true", help="quick check: 100 images, 2 epochs")
    parser.add_argument("--keep", metavar="DIR", help="write the JPEGs into DIR and keep them")
    args = parser.parse_args(argv)
    if args.small:
        args.images, args.epochs, args.rounds = 100, 2, 1
    args.epochs = max(args.epochs, 2)

    root = args.keep or tempfile.mkdtemp(prefix="nnmagics-cpu-epoch-")
    if not os.path.isdir(os.path.join(root, "dogs")):
        make_photos(root, args.images, seed=1)
    warm_page_cache(root)
    weights = course_cnn().get_weights()
    has_bf16 = bf16_cpu()
    target = 1.7 if has_bf16 else 1.0
    cpu = cpu_description()
    print(f"course CNN (9.49 M parameters), {args.images} JPEGs, {SIZE}×{SIZE}, batch {BATCH}, {args.epochs} epochs, "
          f"{args.rounds} round(s); {cpu['cpu_model']}, flags {' '.join(cpu['cpu_flags'])}: "
          f"{'bfloat16 units' if has_bf16 else 'no bfloat16 units'}, target ≥ {target}×\n")
    course, ours = [], []
    for r in range(args.rounds):
        order = ((course, run_course), (ours, run_nnmagics))
        for runs, fn in (order if r % 2 == 0 else order[::-1]):
            runs.append(fn(root, weights, args.epochs))
            last = runs[-1]
            print(f"  {fn.__name__[4:]:<9} {last['precision']:<15} whole run {last['seconds']:6.1f} s · epochs "
                  f"[{' '.join(f'{s:.1f}' for s in last['epoch_s'])}] s", flush=True)
    steady = lambda runs: statistics.median(s for r in runs for s in r["epoch_s"][1:])  # noqa: E731
    first = lambda runs: statistics.median(r["epoch_s"][0] for r in runs)  # noqa: E731
    whole = lambda runs: statistics.median(r["seconds"] for r in runs)  # noqa: E731
    speedup = steady(course) / steady(ours)
    steady_cpu = lambda runs: statistics.median(s for r in runs for s in r["epoch_cpu_s"][1:])  # noqa: E731
    record = {"bench": "cpu_epoch", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "images": args.images,
              "epochs": args.epochs, "rounds": args.rounds, "small": args.small, "bf16_cpu": has_bf16,
              "machine_kind": "CPU with bfloat16 units" if has_bf16 else "CPU without bfloat16 units",
              "counted": "median epoch after the first (steady state); first epoch and whole run apart",
              "course": course, "nnmagics": ours, "speedup": speedup, "target": target,
              "speedup_first_epoch": first(course) / first(ours), "speedup_whole_run": whole(course) / whole(ours),
              "course_steady_s": steady(course), "nnmagics_steady_s": steady(ours),
              "speedup_cpu_time": steady_cpu(course) / steady_cpu(ours),
              "load_avg": os.getloadavg(), **machine(), **cpu}
    print("\n| side | precision | steady epoch (s) | first epoch (s) | whole run (s) |")
    print("|---|---|---|---|---|")
    for name, runs in (("course ImageDataGenerator + fit", course), ("nnmagics train", ours)):
        print(f"| {name} | {runs[0]['precision']} | {steady(runs):.2f} | {first(runs):.2f} | {whole(runs):.1f} |")
    print(f"\nspeed-up, steady epoch: {speedup:.2f}× (target ≥ {target}×); first epoch "
          f"{record['speedup_first_epoch']:.2f}×; whole run {record['speedup_whole_run']:.2f}×; "
          f"CPU seconds per steady epoch {record['speedup_cpu_time']:.2f}×")
    path = write_result("cpu_epoch.jsonl", record)
    print(f"Result appended to {path}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
