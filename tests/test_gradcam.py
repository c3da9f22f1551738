"""Grad-CAM: the heat maps against independent computations, the layer chosen, every backend, the magic in a kernel.

Independent references: Keras' own Grad-CAM recipe (a ``tf.GradientTape`` on
``keras.Model(model.inputs, [conv.output, model.output])``) for the course CNN; a tape over a VGG16 base
split by hand (nested transfer model) or over the layers applied one by one (the course's flat VGG16
Sequential); central differences through the model's tail on JAX and PyTorch (a subprocess per
backend, where a ``.venv-jax`` / ``.venv-torch`` exists). Tiny images (32×32) throughout.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnmagics.errors import NNUsageError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF = pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
                        reason="the reference is Keras' TensorFlow recipe (tf.GradientTape)")


def pixels(n: int = 4, size: int = 32, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, size, size, 3)) * 255).astype("float32")


def keras_recipe(model, conv_name: str, x: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Keras' Grad-CAM example (keras.io/examples/vision/grad_cam), batched; the score is the predicted
    class's output (one sigmoid unit: p for class 1, 1 - p for class 0)."""
    import keras
    import tensorflow as tf

    grad_model = keras.Model(model.inputs[0], [model.get_layer(conv_name).output, model.outputs[0]])
    with tf.GradientTape() as tape:
        conv, preds = grad_model(x)
        if preds.shape[-1] == 1:
            score = tf.where(preds[:, 0] > threshold, preds[:, 0], 1 - preds[:, 0])
        else:
            score = tf.gather(preds, tf.argmax(preds, axis=1), axis=1, batch_dims=1)
    grads = tape.gradient(score, conv)
    heat = tf.nn.relu(tf.einsum("nhwc,nc->nhw", conv, tf.reduce_mean(grads, axis=(1, 2)))).numpy()
    return heat / heat.max(axis=(1, 2), keepdims=True)


def tape_heat(to_maps, from_maps, x: np.ndarray) -> np.ndarray:
    """Grad-CAM with a tape around a hand-made split (softmax outputs)."""
    import tensorflow as tf

    maps = to_maps(tf.convert_to_tensor(x))
    with tf.GradientTape() as tape:
        tape.watch(maps)
        preds = from_maps(maps)
        score = tf.gather(preds, tf.argmax(preds, axis=1), axis=1, batch_dims=1)
    grads = tape.gradient(score, maps)
    heat = tf.nn.relu(tf.einsum("nhwc,nc->nhw", maps, tf.reduce_mean(grads, axis=(1, 2)))).numpy()
    return heat / heat.max(axis=(1, 2), keepdims=True)


# ----------------------------------------------------------------------------- the maps, independently
@TF
@pytest.mark.parametrize("api", ["functional", "sequential"])
def test_course_cnn_matches_keras_own_recipe(api):
    from nnmagics.diagnosis import gradcam
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.model.presets import PRESETS

    keras.utils.set_random_seed(1)
    cnn = build_model(PRESETS["course-cnn"].replace("150x150x3", "32x32x3"), api=api)   # the course CNN, small
    x = pixels(4)
    cam = gradcam(cnn, x)
    last_conv = [lay.name for lay in cnn.layers if type(lay).__name__ == "Conv2D"][-1]
    assert (cam.layer, cam.auto, cam.backend) == (last_conv, True, "tensorflow")
    np.testing.assert_allclose(cam.maps, keras_recipe(cnn, last_conv, x), atol=1e-5)
    assert cam.heatmaps.shape == (4, 32, 32) and 0 <= cam.heatmaps.min() and cam.heatmaps.max() <= 1
    probs = np.asarray(cnn(x))[:, 0]
    assert cam.predicted.tolist() == (probs > 0.5).astype(int).tolist()
    np.testing.assert_allclose(cam.confidence, np.where(probs > 0.5, probs, 1 - probs), atol=1e-6)
    # --layer: any layer with maps, the same recipe
    first = [lay.name for lay in cnn.layers if type(lay).__name__ == "Conv2D"][0]
    np.testing.assert_allclose(gradcam(cnn, x, layer=first).maps, keras_recipe(cnn, first, x), atol=1e-5)


@TF
@pytest.mark.slow
def test_nested_vgg16_transfer_models_match_a_tape_over_a_hand_split():
    """%nn_transfer nests VGG16 (the outer graph cannot be cut: 'Graph disconnected'); %vgg_transfer
    holds VGG16's layers flat in a Sequential (their .output is VGG16's own graph, not the Sequential's)."""
    import keras

    from nnmagics.diagnosis import gradcam
    from nnmagics.transfer import app_models as am
    from nnmagics.transfer.models import vgg_transfer

    x = pixels(3, seed=2)
    nested = am.transfer_model("vgg16", 2, input_shape=(32, 32), weights="none", name="tl", announce=lambda *a: None)
    base = nested.get_layer("vgg16")
    # Keras' recipe, keras.Model(nested.inputs, [block5_conv3.output, ...]), is "Graph disconnected" on Keras 3.15
    cam = gradcam(nested, x)
    assert (cam.layer, cam.layer_path) == ("block5_conv3", "vgg16/block5_conv3")
    conv = base.get_layer("block5_conv3")
    inner_to, inner_from = keras.Model(base.inputs[0], conv.output), keras.Model(conv.output, base.outputs[0])
    i = nested.layers.index(base)

    def run(layers, t):
        for layer in layers:
            t = layer(t)
        return t

    reference = tape_heat(lambda t: inner_to(run(nested.layers[:i], t)),
                          lambda a: run(nested.layers[i + 1:], inner_from(a)), x)
    np.testing.assert_allclose(cam.maps, reference, atol=1e-5)

    flat = vgg_transfer(2, mode="features", weights="none", input_shape=(32, 32), name="tlf", announce=lambda *a: None)
    cam = gradcam(flat, x, layer="block4_conv3")
    assert cam.layer == "block4_conv3" and not cam.auto and cam.maps.shape == (3, 4, 4)
    k = [lay.name for lay in flat.layers].index("block4_conv3")
    np.testing.assert_allclose(cam.maps, tape_heat(lambda t: run(flat.layers[:k + 1], t),
                                                   lambda a: run(flat.layers[k + 1:], a), x), atol=1e-5)
    assert gradcam(flat, x[:1]).layer == "block5_conv3"
    keras.backend.clear_session()


GRADIENT_CHECK = textwrap.dedent('''
    import numpy as np, keras
    from keras import layers
    from nnmagics.diagnosis.gradients import layer_gradients
    from nnmagics.diagnosis import gradcam
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 3))
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Conv2D(3, 3, activation="relu", name="c1")(x)
    x = layers.Conv2D(4, 3, activation="tanh", name="c2")(x)
    x = layers.Flatten()(x)   # a smooth tail (tanh, dense, softmax): central differences are exact to eps**2
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    batch = (np.random.default_rng(0).random((2, 12, 12, 3)) * 255).astype("float32")
    one_hot = lambda p: np.eye(3, dtype="float32")[p.argmax(1)]
    A, grads, preds = layer_gradients(model, batch, model.get_layer("c2"), one_hot)
    tail = keras.Model(model.get_layer("c2").output, model.outputs[0])
    eps, k = 1e-2, A[0].size
    worst = 0.0
    for n in range(2):   # central differences of the predicted class's output, every entry of A at once
        steps = np.eye(k, dtype="float32").reshape((k,) + A.shape[1:]) * eps
        up = keras.ops.convert_to_numpy(tail(A[n] + steps))[:, preds[n].argmax()]
        down = keras.ops.convert_to_numpy(tail(A[n] - steps))[:, preds[n].argmax()]
        numeric = ((up - down) / (2 * eps)).reshape(A.shape[1:])
        worst = max(worst, float(np.abs(numeric - grads[n]).max() / np.abs(numeric).max()))
    cam = gradcam(model, batch)
    # --code on this backend (tf.GradientTape, jax.grad or PyTorch's backward) gives the same maps
    from nnmagics.diagnosis.gradcam_code import gradcam_imports, gradcam_lines, gradcam_recipe
    recipe = gradcam_recipe(model, cam)
    program = "\\n".join(["import keras", "import numpy as np", *gradcam_imports(recipe), *gradcam_lines(recipe, "model")])
    ran = {"model": model, "batch": batch}
    exec(program.replace("images = ...", "images = batch  #").replace("plt.show()", "plt.close(fig)"), ran)
    code = float(np.abs(ran["heatmaps"] - cam.maps).max())
    print("RESULT", keras.backend.backend(), cam.backend, cam.layer, f"{worst:.2e}", f"{code:.2e}", cam.maps.shape)
''')


def test_the_gradient_is_the_derivative_on_this_backend():
    out = {}
    exec(GRADIENT_CHECK.replace('print("RESULT"', 'out["result"] = ("RESULT"'), {"out": out})
    _, backend, used, layer, worst, code, shape = out["result"]
    assert backend == used and layer == "c2" and shape == (2, 8, 8) and float(worst) < 2e-2 and float(code) < 1e-4


def _backend_python(name: str) -> str | None:
    path = os.environ.get(f"NNMAGICS_{name.upper()}_PYTHON") or os.path.join(ROOT, f".venv-{name}", "bin", "python")
    return path if os.path.exists(path) else None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_gradients_through_their_own_autodiff(backend):
    python = _backend_python(backend)
    if python is None:
        pytest.skip(f"no .venv-{backend} (make the {backend} venv, or set NNMAGICS_{backend.upper()}_PYTHON)")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT, "MPLBACKEND": "Agg"}
    done = subprocess.run([python, "-c", GRADIENT_CHECK], capture_output=True, text=True, env=env, timeout=300)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, done.stderr[-2000:]
    _, keras_backend, used, layer, worst, code, *_ = line.split()
    assert (keras_backend, used, layer) == (backend, backend, "c2") and float(worst) < 2e-2, line
    assert float(code) < 1e-4, line   # the printed program, with the backend's own gradient, gives the same maps


# ----------------------------------------------------------------------------- the layer, the images, the math
def test_the_layer_is_the_last_convolution_and_mistakes_are_one_sentence():
    import keras
    from keras import layers

    from nnmagics.diagnosis import gradcam
    from nnmagics.model.build import build_model

    x = pixels(2, 24)
    # a Sequential without Input (built by the call), dropout and batch norm after the last convolution
    model = keras.Sequential([layers.Rescaling(1 / 255), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(5, 3, name="last_conv"), layers.BatchNormalization(name="bn"),
                              layers.Dropout(0.3), layers.MaxPooling2D(2), layers.Flatten(name="flat"),
                              layers.Dense(2, activation="softmax")])
    cam = gradcam(model, x)
    assert cam.layer == "bn" and cam.maps.shape == (2, 9, 9)
    assert gradcam(model, x, layer="last_conv").layer == "last_conv"
    subclass = build_model("input 24x24x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 1 sigmoid", api="subclass")
    assert gradcam(subclass, x).maps.shape == (2, 22, 22)
    with pytest.raises(NNUsageError, match=r"has no layer named 'last_cnv'\. Did you mean 'last_conv'\?"):
        gradcam(model, x, layer="last_cnv")
    with pytest.raises(NNUsageError, match=r"Layer 'flat' of '.*' gives 2-D outputs, not maps: .*such as 'bn'"):
        gradcam(model, x, layer="flat")
    dense = build_model("input 24x24x3, flatten, dense 2 softmax", name="m")
    with pytest.raises(NNUsageError, match=r"^Model 'm' has no convolution layer: Grad-CAM needs one"):
        gradcam(dense, x)
    with pytest.raises(NNUsageError, match="at most 32 images"):
        gradcam(subclass, pixels(33, 24))
    with pytest.raises(NNUsageError, match="expects 24×24×3"):
        gradcam(subclass, pixels(1, 32))


def test_heatmap_formula_and_a_flat_map_is_a_note():
    from nnmagics.diagnosis.cam import heatmap, resize_map

    maps = np.random.default_rng(0).random((3, 3, 2)).astype("float32")
    grads = np.stack([np.full((3, 3), 2.0), np.full((3, 3), -1.0)], axis=-1)
    expected = np.maximum(2 * maps[..., 0] - maps[..., 1], 0)
    np.testing.assert_allclose(heatmap(maps, grads), expected / expected.max(), rtol=1e-6)
    assert not heatmap(maps + 0.1, -np.abs(grads)).any()   # nothing raises the score: no heat at all
    big = resize_map(heatmap(maps, grads), (30, 30))
    assert big.shape == (30, 30) and 0 <= big.min() and big.max() <= 1


def test_dataset_slices_give_true_classes_and_file_captions(tiny_images, tmp_path):
    from nnmagics.data.refs import parse_slice, resolve_items
    from nnmagics.diagnosis import diagnose, gradcam
    from nnmagics.model.build import build_model

    assert parse_slice("imgs[2:6]") == ("imgs", slice(2, 6)) and parse_slice("imgs[ : -1 ]") == ("imgs", slice(None, -1))
    assert resolve_items({"imgs": tiny_images}, "imgs[-3:]")[1] == [5, 6, 7]
    assert resolve_items({"imgs": tiny_images}, "imgs[2]")[1] == [2]
    with pytest.raises(NNUsageError, match=r"'imgs\[8:\]' holds no image: 'imgs' has 8 images"):
        resolve_items({"imgs": tiny_images}, "imgs[8:]")
    cnn = build_model("rescale 1/255, conv 4 3 relu, pool 2, conv 4 3 relu, flatten", data=tiny_images, name="cnn")
    cam = gradcam(cnn, (tiny_images, slice(2, 6)))
    assert cam.captions == ["cats/2.png", "cats/3.png", "dogs/0.png", "dogs/1.png"]
    assert cam.true.tolist() == [0, 0, 1, 1] and cam.class_names == ["cats", "dogs"]
    assert re.fullmatch(r"pred (cats|dogs) \d\.\d\d · true cats", cam.title(0)), cam.title(0)
    assert "images 2 to 5 of" in cam.heading() and "(its last convolution)" in cam.heading()
    report = diagnose(cnn, tiny_images, gradcam=slice(0, 2), show="evaluation")   # an index slice into the data
    assert report.sections == ("evaluation", "gradcam") and len(report.gradcam) == 2
    assert "Grad-CAM of 'cnn' at conv2d" in report.text()
    import nnmagics

    nnmagics.register_displays()
    assert any(path.endswith("gradcam.png") for path in report.save(tmp_path / "saved"))   # --save DIR
    with pytest.raises(NNUsageError, match="--layer picks a layer of the feature-map gallery or of Grad-CAM"):
        diagnose(cnn, tiny_images, layer="conv2d")


# ----------------------------------------------------------------------------- in a notebook
SETUP = textwrap.dedent('''
    import os, numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        os.makedirs(f"gc_imgs/{name}", exist_ok=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(f"gc_imgs/{name}/{i}.png")
''')


COURSE_CNN = ("rescale 1/255, conv 16 3 relu, pool 2, conv 32 3 relu, pool 2, conv 64 3 relu, pool 2, flatten, "
              "dense 512 relu, dense 1 sigmoid")


def _pngs(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.outputs)


def _printed(cell) -> str:
    return next(o["data"]["text/plain"] for o in cell.outputs
                if "Grad-CAM at" in o.get("data", {}).get("text/plain", ""))


@pytest.mark.slow
def test_the_magic_in_a_kernel_course_cnn_and_vgg16_transfer(kernel):
    for cell in [SETUP, "%nn_data gcimgs gc_imgs --image-size 32 --batch-size 4",
                 f"%nn_build gccnn --layers '{COURSE_CNN}' --from gcimgs --quiet",   # the course CNN at 32×32
                 # VGG16 nested in the model (Flatten head), and the course's flat VGG16 Sequential
                 "%nn_transfer build gctl --base vgg16 --pooling flatten --from gcimgs --weights none --quiet",
                 "%vgg_transfer build gcflat --mode features --from gcimgs --weights none --quiet"]:
        done = kernel.run(cell)
        assert done.status == "ok", done.text
    last_conv = kernel.run("print([lay.name for lay in gccnn.layers if type(lay).__name__ == 'Conv2D'][-1])").text
    shown = kernel.run("%nn_diagnose gccnn --gradcam gcimgs[0:8]")
    assert shown.status == "ok" and _pngs(shown) == 1, shown.outputs
    assert f"Grad-CAM of 'gccnn' at {last_conv} (its last convolution), images 0 to 7 of 'gcimgs'" in shown.text
    assert "cats/0.png" in shown.text and "true dogs" in shown.text and not shown.has_traceback
    # --code prints a program that gives the same maps, for the course CNN and a nested VGG16 transfer model,
    # on the backend in use: its images through tf.data on TensorFlow, numpy arrays (load_folder) elsewhere
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    gradient = {"tensorflow": "tf.GradientTape", "jax": "jax.grad", "torch": ".backward()"}[backend]
    programs = [("gc_r = %nn_diagnose gccnn --gradcam gcimgs[0:8] --code", "gccnn"),
                ("gc_r = %nn_diagnose gctl --gradcam gcimgs[3:6] --code", "gctl")]
    for cell, model in programs:
        printed = kernel.run(cell)
        assert printed.status == "ok", printed.text
        program = _printed(printed)
        assert (gradient in program and "plt.show()" in program), program
        assert ("tensorflow" in program) == (backend == "tensorflow") and ("def load_folder" in program) == (
            backend != "tensorflow"), program
        assert (model == "gctl") == ('base = gctl.get_layer(\'vgg16\')' in program), program
        ran = kernel.run(program.replace("plt.show()", "plt.close(fig)") +
                         "\nprint('same maps', np.abs(heatmaps - gc_r.gradcam.maps).max() < 1e-4)")
        assert ran.status == "ok" and "same maps True" in ran.text, ran.text
    layer = kernel.run("%nn_diagnose gcflat --gradcam gcimgs[0] --layer block4_conv3")
    assert layer.status == "ok" and _pngs(layer) == 1 and "at block4_conv3, image 0 of 'gcimgs'" in layer.text
    bad = kernel.run("%nn_diagnose gcflat --gradcam gcimgs[0:2] --layer block4_conv")
    assert bad.status == "error" and len(bad.error_lines) == 1 and "Did you mean 'block4_conv3'?" in bad.text
