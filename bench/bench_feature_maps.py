"""Feature-map gallery of the course CNN for one 150×150 image, once the model is built (target < 1.5 s).

Measures, on the same machine in one run:

- ``gallery``: ``FeatureGallery(cnn, image)`` + its HTML (every conv/pool layer, channels capped
  at 16 per row with the "show all" grids): what ``%nn_diagnose cnn --feature-maps IMAGE`` shows;
  the first call after building the model ("cold") and the median of warm repeats;
- its parts: the forward pass (``feature_maps``) and the rendering;
- the matplotlib figure (what ``--save`` writes);
- the course's recipe for comparison: ``Model(inputs, [layer.output …]).predict`` + one
  ``plt.imshow`` figure per layer, as in the notes.

Run: ``.venv/bin/python bench/bench_feature_maps.py``; appends a JSON line to
``bench/results/feature_maps.jsonl``.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_S = 1.5
REPEATS = 5


def photo_like(size: int = 150, seed: int = 0):
    """A smooth random 'photo' (0–255 float32) so feature maps are not pure noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    small = rng.random((10, 10, 3)) * 255
    import tensorflow as tf

    return tf.image.resize(small[None].astype("float32"), (size, size), method="bicubic")[0].numpy().clip(0, 255)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def course_recipe(model, image):
    """The notes' code, in Keras 3: a multi-output Model, predict, one pyplot figure per conv/pool layer."""
    import keras
    import matplotlib.pyplot as plt
    import numpy as np

    from nnmagics.diagnosis.maps import is_feature_layer

    layers = [layer for layer in model.layers if is_feature_layer(layer)]
    visualization_model = keras.Model(model.inputs[0], [layer.output for layer in layers])
    successive_feature_maps = visualization_model.predict(image[None], verbose=0)
    for layer, feature_map in zip(layers, successive_feature_maps):
        n_features = feature_map.shape[-1]
        size = feature_map.shape[1]
        display_grid = np.zeros((size, size * n_features))
        for i in range(n_features):
            x = feature_map[0, :, :, i].copy()
            x -= x.mean()
            x /= x.std() if x.std() > 0 else 1
            x *= 64
            x += 128
            display_grid[:, i * size: (i + 1) * size] = np.clip(x, 0, 255).astype("uint8")
        scale = 20.0 / n_features
        fig = plt.figure(figsize=(scale * n_features, scale))
        plt.title(layer.name)
        plt.grid(False)
        plt.imshow(display_grid, aspect="auto", cmap="viridis")
        fig.canvas.draw()
        plt.close(fig)


def main() -> dict:
    from nnmagics.model.build import build_model
    from nnmagics.display.feature_gallery import FeatureGallery
    from nnmagics.display.output import figure_png
    from nnmagics.diagnosis import feature_maps

    cnn = build_model(preset="course-cnn", name="cnn")
    image = photo_like()

    def gallery_html():
        gallery = FeatureGallery(cnn, image)
        return gallery, gallery.html()

    cold, (gallery, html) = timed(gallery_html)
    warm_runs = [timed(gallery_html)[0] for _ in range(REPEATS)]
    forward = statistics.median(timed(lambda: feature_maps(cnn, image))[0] for _ in range(REPEATS))
    render = statistics.median(timed(lambda: FeatureGallery(cnn, image, compute=lambda _x: gallery.maps()).html())[0]
                               for _ in range(REPEATS))
    figure = statistics.median(timed(lambda: figure_png(gallery.figure()))[0] for _ in range(3))
    course_recipe(cnn, image)  # warm its predict function once, as the gallery above was warmed
    course = statistics.median(timed(lambda: course_recipe(cnn, image))[0] for _ in range(3))
    warm = statistics.median(warm_runs)
    import tensorflow as tf

    result = {
        "bench": "feature_maps",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}, TF {tf.__version__}",
        "model": "course-cnn (150x150x3, 6 conv/pool layers)",
        "layers": {name: list(m.shape) for name, m in gallery.maps().items()},
        "gallery_cold_s": round(cold, 4),
        "gallery_warm_s": round(warm, 4),
        "forward_pass_s": round(forward, 4),
        "render_html_s": round(render, 4),
        "html_kb": round(len(html) / 1024, 1),
        "matplotlib_figure_png_s": round(figure, 4),
        "course_recipe_s": round(course, 4),
        "target_s": TARGET_S,
        "meets_target": cold < TARGET_S and warm < TARGET_S,
    }
    return result


if __name__ == "__main__":
    result = main()
    print(f"feature-map gallery, course CNN, one 150×150 image: cold {result['gallery_cold_s']:.3f} s, "
          f"warm {result['gallery_warm_s']:.3f} s (forward {result['forward_pass_s']:.3f} s + render "
          f"{result['render_html_s']:.3f} s; target < {TARGET_S} s: {'OK' if result['meets_target'] else 'MISSED'})")
    print(f"  matplotlib figure for --save: {result['matplotlib_figure_png_s']:.3f} s; "
          f"the course's recipe (Model.predict + pyplot per layer): {result['course_recipe_s']:.3f} s")
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "feature_maps.jsonl"), "a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")
