"""The course's augmentation on the CPU: one fused transform per image vs Keras layers vs ImageDataGenerator.

Side by side in one run, per batch of 20 images at 150×150 (cached uint8 pixels, as nnmagics serves
them), the cost of producing augmented float32 batches:

- **fused**: ``nnmagics.data.augment_fused.FusedAugment`` (rotation, shifts, shear, zoom and flip composed
  into one matrix per image, one ``affine_transform`` per batch) in a ``tf.data`` map, parallel;
- **fused, nearest**: the same with nearest-neighbour sampling (the generator's ``interpolation_order=0``);
- **Keras layers ×4**: ``RandomFlip``/``RandomRotation``/``RandomTranslation``/``RandomZoom`` in the same map;
- **Keras layers ×5**: the same plus ``RandomShear`` (nnmagics' ``--augment`` before the fused op);
- **ImageDataGenerator.flow**: the course's ``ImageDataGenerator(rotation_range=40, …)`` on the same arrays;
- **no augmentation**: the pipeline alone (cast to float32), the floor.

Sides run in alternating rounds (ABC…, CBA…) so that drifts of a shared machine cancel out; each
figure is the median over rounds of wall-clock and CPU milliseconds per batch.

Run: ``.venv/bin/python bench/bench_fused_augment.py [--images 400] [--rounds 4] [--small]``;
appends a JSON line to ``bench/results/fused_augment.jsonl``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_panel_overhead import machine, write_result  # noqa: E402

BATCH, SIZE = 20, 150
COURSE_AUGMENT = dict(rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2,
                      zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")


def cpu_description() -> dict:
    """CPU model and the flags that matter for these figures (from /proc/cpuinfo, as lscpu shows them)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"cpu_model": model, "cpu_flags": [f for f in wanted if f in flags], "cores": os.cpu_count()}


def photos(n: int, seed: int = 0):
    """Smooth random colour fields with a few hard edges, uint8 (n, 150, 150, 3)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    coarse = rng.random((n, 6, 6, 3)).astype("float32")
    images = np.repeat(np.repeat(coarse, 25, axis=1), 25, axis=2) * 200
    yy, xx = np.mgrid[:SIZE, :SIZE]
    for i in range(n):
        cy, cx, r = rng.integers(0, SIZE, 3)
        images[i][(yy - cy) ** 2 + (xx - cx) ** 2 < (r // 2) ** 2] = rng.random(3) * 255
    return (images + rng.normal(0, 8, images.shape)).clip(0, 255).astype("uint8")


def keras_layers(five: bool):
    import keras
    from keras import layers

    stack = [layers.RandomFlip("horizontal", seed=0), layers.RandomRotation(40 / 360, fill_mode="nearest", seed=0),
             layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=0)]
    if five:
        stack.append(layers.RandomShear(x_factor=0.2, y_factor=0.2, fill_mode="nearest", seed=0))
    stack.append(layers.RandomZoom(0.2, fill_mode="nearest", seed=0))
    return keras.Sequential(stack, name="augmentation")


def pipeline(images, augment):
    """cached uint8 pixels → shuffle → batch → float32 → augment (parallel map) → prefetch, as nnmagics."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(images).cache()
    ds = ds.shuffle(len(images), seed=0).batch(BATCH).map(lambda x: tf.cast(x, tf.float32),
                                                          num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        ds = ds.map(lambda x: augment(x, training=True), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.prefetch(tf.data.AUTOTUNE)

    def epoch():
        for _ in ds:
            pass
    return epoch


def generator_side(images):
    import tensorflow as tf

    try:
        IDG = tf.keras.preprocessing.image.ImageDataGenerator          # what the course writes
    except AttributeError:  # pragma: no cover
        from keras.src.legacy.preprocessing.image import ImageDataGenerator as IDG
    flow = IDG(**COURSE_AUGMENT).flow(images.astype("float32"), batch_size=BATCH, shuffle=True, seed=0)

    def epoch():
        for i in range(len(flow)):
            flow[i]
    return epoch


def timed(fn) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400, help="images per epoch (default 400: 20 batches)")
    parser.add_argument("--rounds", type=int, default=4, help="timed epochs per side (alternating order)")
    parser.add_argument("--small", action="store_true", help="a quick run: 200 images, 2 rounds")
    args = parser.parse_args(argv)
    if args.small:
        args.images, args.rounds = 200, 2

    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)  # scipy name used by the legacy generator
    from nnmagics.data.augment_fused import AugmentParams, FusedAugment

    images = photos(args.images)
    sides = {
        "fused": pipeline(images, FusedAugment(seed=0)),
        "fused, nearest": pipeline(images, FusedAugment(AugmentParams(interpolation="nearest"), seed=0)),
        "Keras layers ×4": pipeline(images, keras_layers(five=False)),
        "Keras layers ×5": pipeline(images, keras_layers(five=True)),
        "ImageDataGenerator.flow": generator_side(images),
        "no augmentation": pipeline(images, None),
    }
    batches = -(-args.images // BATCH)
    for epoch in sides.values():  # warm-up: traces, caches
        epoch()
    walls: dict[str, list[float]] = {k: [] for k in sides}
    cpus: dict[str, list[float]] = {k: [] for k in sides}
    order = list(sides)
    for r in range(args.rounds):
        for name in (order if r % 2 == 0 else order[::-1]):
            wall, cpu = timed(sides[name])
            walls[name].append(wall / batches * 1000)
            cpus[name].append(cpu / batches * 1000)
    wall = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    cpu_info = cpu_description()
    print(f"{cpu_info['cpu_model']} · flags: {' '.join(cpu_info['cpu_flags']) or 'none of avx2/avx512/amx'} · "
          f"{cpu_info['cores']} cores · load {os.getloadavg()[0]:.1f}")
    print(f"{args.images} images 150×150, batch {BATCH}, median of {args.rounds} epochs per side\n")
    base = "fused"
    print("| side | ms per batch | CPU ms per batch | ÷ fused (wall) | ÷ fused (CPU) |")
    print("|---|---|---|---|---|")
    for name in sides:
        print(f"| {name} | {wall[name]:.1f} | {cpu[name]:.1f} | {wall[name] / wall[base]:.2f}× | "
              f"{cpu[name] / cpu[base]:.2f}× |")
    ratios = {f"{k}_vs_fused": wall[k] / wall[base] for k in sides if k != base}
    record = {"bench": "fused_augment", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "images": args.images,
              "batch": BATCH, "size": SIZE, "rounds": args.rounds, "small": args.small,
              "ms_per_batch": wall, "cpu_ms_per_batch": cpu, "ratios": ratios,
              "load_avg": os.getloadavg(), **cpu_info, **machine()}
    path = write_result("fused_augment.jsonl", record)
    print(f"\nResult appended to {path}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
