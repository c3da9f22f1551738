"""The course's main steps in a real kernel on the Keras backend given by ``KERAS_BACKEND``.

The same module runs under ``tensorflow`` (``make test``), ``jax`` (``make test-jax``, an environment
without TensorFlow) and ``torch`` (``make test-torch``): the steps of demos 01–04 and of
``tests/test_kernel_happy_paths.py`` on tiny data — a table and an image folder, the three APIs,
summary and weights, training, diagnosis with feature maps and confusion, transfer models without
downloaded weights, and ``--code`` that runs as printed. Each cell must end ``ok`` with no traceback.
"""
from __future__ import annotations

import os
import re

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")


def _ok(kernel, cell: str):
    result = kernel.run(cell)
    assert result.status == "ok", f"{cell}\n{result.text[-3000:]}"
    assert not result.has_traceback, f"{cell}\n{result.text[-3000:]}"
    return result


def _code(cell) -> str:
    """The code block a cell shows (``kernel_harness.code_block``)."""
    from kernel_harness import code_block

    return code_block(cell)


def _run_code(kernel, code: str, model: str | None = None, then: str = ""):
    """Execute printed code in a fresh namespace (``model``: a fresh copy of that model in it)."""
    fresh = f"{{{model!r}: keras.models.clone_model({model})}}" if model else "dict(globals())"
    return _ok(kernel, f"import keras\nns = {fresh}\nexec({code!r}, ns)\n{then}")


@pytest.fixture(scope="module")
def course(kernel, tmp_path_factory):
    """The course's sample data in the kernel: the xlsx and a small cats/dogs tree (10 + 6 per class, 32×32)."""
    folder = tmp_path_factory.mktemp("course")
    _ok(kernel, f"from nnmagics.data.samples import make_samples\n"
                f"paths = make_samples({str(folder)!r}, images_per_class=(10, 6))")
    _ok(kernel, "%nn_data data4 {paths['table']} --sheet data4")
    _ok(kernel, "%nn_data cats {paths['images']} --image-size 32 --batch-size 8")
    return folder


def test_the_kernel_runs_on_the_backend_asked_for(kernel):
    cell = _ok(kernel, "import keras, sys\nprint(keras.backend.backend(), 'tensorflow' in sys.modules)")
    backend, tf_loaded = cell.text.split()[-2:]
    assert backend == BACKEND
    if BACKEND != "tensorflow":
        assert tf_loaded == "False", "nnmagics imported TensorFlow on a backend that does not need it"
    gpu = _ok(kernel, "%nn_gpu")
    assert "Keras backend" in gpu.text and BACKEND in gpu.text and "CPU" in gpu.text


def test_tables_three_apis_summary_weights_train_and_code(kernel, course):
    _ok(kernel, '%nn_build seq_m --preset course-dense --api sequential --quiet')
    _ok(kernel, '%nn_build fun_m --layers "dense 3 relu, dense 3 relu" --from data4 --quiet')
    _ok(kernel, '%%nn_build sub_m --api subclass --quiet\ninput 2\ndense 3 relu\ndense 3 relu\ndense 3 softmax')
    summary = _ok(kernel, '%nn_build fun2 --layers "dense 3 relu, dense 3 relu" --from data4')
    assert "dense" in summary.text.lower()
    _ok(kernel, "%nn_build fun_m --weights --quiet")
    _ok(kernel, "%nn_build fun_m --save course_dense.weights.h5 --quiet")
    _ok(kernel, "%nn_build sub_m --load course_dense.weights.h5 --quiet")
    trained = _ok(kernel, "%nn_train fun_m data4 --val-split 0.2 --epochs 3 --optimizer adam --lr 0.05 --seed 0 "
                          "--no-live --code")
    assert "epoch 3" in trained.text.lower() or "3/3" in trained.text, trained.text[-2000:]
    code = _code(trained)
    assert "import tensorflow" not in code or BACKEND == "tensorflow"
    _run_code(kernel, code, "fun_m", "assert len(ns['history'].history['loss']) == 3")
    _ok(kernel, "%nn_train seq_m data4 --epochs 2 --steps-per-epoch 3 --validation-steps 2 --val-split 0.2 "
                "--seed 0 --no-live")
    diagnosis = _ok(kernel, "%nn_diagnose fun_m data4 --code")
    assert re.search(r"accuracy", diagnosis.text, re.I)
    _run_code(kernel, _code(diagnosis), then="assert ns['cm'].sum() == len(data4)")


def test_images_cnn_train_augment_diagnose_feature_maps_and_code(kernel, course):
    _ok(kernel, "%nn_build cnn --layers 'rescale 1/255, conv 8 3 relu, pool 2, conv 8 3 relu, pool 2, flatten, "
                "dense 16 relu' --from cats --quiet")
    trained = _ok(kernel, "%nn_train cnn cats --epochs 2 --seed 0 --no-live --code")
    code = _code(trained)
    assert "import tensorflow" not in code or BACKEND == "tensorflow"
    _run_code(kernel, code, "cnn", "assert len(ns['history'].history['loss']) == 2")
    _ok(kernel, "%nn_train cnn cats --epochs 1 --augment --seed 0 --no-live")
    _ok(kernel, "history = cnn.fit(cats, validation_data=cats_val, epochs=1, verbose=0)\n"
                "x, y = next(cats)\nassert x.shape == (8, 32, 32, 3)")
    report = _ok(kernel, "%nn_diagnose cnn cats_val --code")
    assert "confusion" in report.text.lower() or "accuracy" in report.text.lower()
    _run_code(kernel, _code(report), then="assert ns['cm'].sum() == len(cats_val)")
    maps = _ok(kernel, "%nn_diagnose cnn --feature-maps cats_val[0]")
    assert {"image/png"} <= {m for out in maps.outputs for m in out.get("data", {})} or "conv" in maps.text.lower()
    _ok(kernel, "%nn_diagnose --augment-preview cats[3]")


def test_transfer_without_downloaded_weights(kernel, course):
    _ok(kernel, "%vgg_transfer build fast --from cats --mode features --weights none")
    _ok(kernel, "%nn_train fast cats --epochs 1 --seed 0 --no-live")
    confusion = _ok(kernel, "%nn_diagnose fast cats_val --confusion")
    assert "cats" in confusion.text or confusion.outputs
    _ok(kernel, "%vgg_transfer predict cats[0] --weights none --top 3")
    _ok(kernel, "%nn_transfer build mob --base mobilenet_v2 --from cats --weights none --quiet")
    _ok(kernel, "assert mob.predict(next(cats)[0], verbose=0).shape == (8, 2)")
