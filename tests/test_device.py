"""Device detection (injected device lists), precision and strategy choices, %nn_gpu, MirroredStrategy."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from nnmagics.runtime import device as dev
from nnmagics.runtime.speed_hint import cpu_speed_hint
from nnmagics.errors import NNUsageError

BUILD = {"tf_version": "2.99", "is_cuda_build": True, "cuda_version": "12.5", "cudnn_version": "9"}
T4 = {"name": "Tesla T4", "memory_bytes": 15 * 1024**3, "compute_capability": (7, 5)}
A100 = {"name": "NVIDIA A100-SXM4-40GB", "memory_bytes": 40 * 1024**3, "compute_capability": (8, 0)}
K80 = {"name": "Tesla K80", "memory_bytes": 12 * 1024**3, "compute_capability": (3, 7)}


def info(**kw):
    kw.setdefault("build", BUILD)
    kw.setdefault("gpus", [])
    kw.setdefault("tpu", False)
    kw.setdefault("colab", False)
    kw.setdefault("cpu_flags", [])
    return dev.detect(**kw)


def test_cpu_only_machine():
    cpu = info()
    assert cpu.kind == "cpu"
    assert cpu.badge().startswith("CPU (")
    assert "nvidia-smi" in cpu.gpu_hint()
    assert dev.choose_precision("auto", cpu).policy == "float32"


def test_colab_cpu_runtime_says_how_to_get_a_gpu():
    colab = info(colab=True)
    assert "Runtime → Change runtime type" in colab.gpu_hint()
    rows = dict(dev.report_rows(colab))
    assert rows["Colab"] == "yes"
    assert "Change runtime type" in rows["How to get a GPU"]


def test_cpu_only_tensorflow_build_is_named():
    rows = dict(dev.report_rows(info(build={"tf_version": "2.99", "is_cuda_build": False})))
    assert rows["CUDA build"].startswith("no")
    assert "tensorflow[and-cuda]" in rows["How to get a GPU"]


def test_gpu_details_in_badge_and_report():
    t4 = info(gpus=[T4])
    assert t4.kind == "gpu"
    assert t4.badge() == "GPU: Tesla T4 · 15.0 GiB · compute 7.5"
    assert t4.gpu_hint() is None
    rows = dict(dev.report_rows(t4))
    assert rows["GPU 0"] == "Tesla T4 · 15.0 GiB · compute 7.5"
    assert "CUDA 12.5" in rows["CUDA build"]
    assert "How to get a GPU" not in rows


@pytest.mark.parametrize("gpus, mode, policy", [
    ([T4], "auto", "mixed_float16"),
    ([A100], "auto", "mixed_bfloat16"),
    ([K80], "auto", "float32"),
    ([K80], "on", "mixed_float16"),
    ([T4, A100], "auto", "mixed_float16"),   # the weakest GPU decides
    ([T4], "off", "float32"),
    ([], "on", "mixed_bfloat16"),
    ([], "mixed_float16", "mixed_float16"),
])
def test_precision_choice(gpus, mode, policy):
    assert dev.choose_precision(mode, info(gpus=gpus)).policy == policy


def test_cpu_with_bf16_picks_bfloat16_under_auto_for_models_that_pay():
    import keras

    cpu = info(cpu_flags=["avx512_bf16"])
    assert cpu.cpu_bf16 and info(cpu_flags=["amx_bf16"]).cpu_bf16 and not info(cpu_flags=["amx_tile"]).cpu_bf16
    assert dev.choose_precision("auto", cpu).policy == "mixed_bfloat16"
    cnn = keras.Sequential([keras.Input((150, 150, 3)), keras.layers.Conv2D(32, 3), keras.layers.MaxPooling2D(2),
                            keras.layers.Conv2D(64, 3), keras.layers.Flatten(), keras.layers.Dense(1)])   # ~100 M
    dense = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(3)])
    assert dev.choose_precision("auto", cpu, cnn).policy == "mixed_bfloat16"
    small = dev.choose_precision("auto", cpu, dense)
    assert small.policy == "float32" and "too small" in small.reason
    assert dev.choose_precision("auto", info(), cnn).policy == "float32"          # no bfloat16 units
    assert "AVX512_BF16" in dev.choose_precision("on", cpu).reason


def test_tpu_uses_bfloat16():
    tpu = info(tpu="10.0.0.2:8470", colab=True)
    assert tpu.kind == "tpu" and tpu.badge().startswith("TPU")
    assert dev.choose_precision("auto", tpu).policy == "mixed_bfloat16"


def test_unknown_precision_mode_is_a_usage_error():
    with pytest.raises(NNUsageError, match="Did you mean 'auto'"):
        dev.choose_precision("autp", info())


def test_strategy_choice_without_accelerators():
    assert dev.choose_strategy("auto", info()) is None
    assert dev.choose_strategy("default", info(gpus=[T4, T4])) is None
    with pytest.raises(NNUsageError, match="no TPU"):
        dev.choose_strategy("tpu", info())
    with pytest.raises(NNUsageError, match="Unknown strategy"):
        dev.choose_strategy("mirorred", info())


def test_parse_nvidia_smi():
    rows = dev.parse_nvidia_smi("Tesla T4, 15360, 7.5\nNVIDIA A100-SXM4-40GB, 40960, 8.0\n")
    assert rows[0] == {"name": "Tesla T4", "memory_bytes": 15360 * 1024**2, "compute_capability": (7, 5)}
    assert rows[1]["compute_capability"] == (8, 0)


def test_real_detection_on_this_machine():
    import keras

    found = dev.detect(refresh=True)
    assert found.kind in ("cpu", "gpu", "tpu")
    assert found.backend == keras.backend.backend() and found.backend_version[0].isdigit()
    assert (found.tf_version[0].isdigit()) == (found.backend == "tensorflow")


def test_cpu_hint_says_the_measured_epoch_time_only_when_it_is_worth_saying():
    colab = info(colab=True)
    hint = cpu_speed_hint(45.0, colab, epochs=15)
    assert hint.startswith("≈ 45 s per epoch on this CPU (") and "≈ 11 min for 15 epochs" in hint
    assert "Change runtime type" in hint and "minutes per epoch" not in hint
    assert cpu_speed_hint(12.0, info(), epochs=15).startswith("≈ 12 s per epoch")   # 3 min in all
    assert cpu_speed_hint(12.0, info(), epochs=5) is None                          # 1 min in all
    assert cpu_speed_hint(2.0, info(), epochs=20) is None
    assert cpu_speed_hint(45.0, info(gpus=[T4]), epochs=15) is None                 # never on a GPU
    assert cpu_speed_hint(None, info()) is None
    assert "TensorFlow backend" not in hint                                               # TensorFlow: the fastest here


def test_cpu_hint_on_jax_or_pytorch_points_to_tensorflow_for_convolutions():
    for backend, title in (("jax", "JAX"), ("torch", "PyTorch")):
        on = info(build={"backend": backend, "backend_version": "0.1"})
        hint = cpu_speed_hint(45.0, on, epochs=15)
        assert hint.startswith("≈ 45 s per epoch") and hint.endswith(
            f"several times faster than {title}: with TensorFlow installed, set KERAS_BACKEND=tensorflow before Keras "
            "is imported.")
        assert cpu_speed_hint(2.0, on, epochs=20) is None                               # a quick fit: nothing


def test_nn_gpu_magic_prints_the_report(ip, capsys):
    ip.run_line_magic("nn_gpu", "")
    out = capsys.readouterr().out
    import keras

    assert f"Keras backend            {keras.backend.backend()}" in out and "CUDA build" in out and "Colab" in out
    assert "How to get a GPU" in out or "GPU 0" in out


MIRRORED = textwrap.dedent("""
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, pandas as pd
    from nnmagics.data.tables import load_table
    from nnmagics.model.build import build_model
    from nnmagics.training import train
    from nnmagics.training.runner import _RUNNERS
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    frame = pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "right", "left")})
    data = load_table(frame, name="halves")
    model = build_model("dense 8 relu", data=data)
    before = [w.copy() for w in model.get_weights()]
    history = train(model, data, val_split=0.2, epochs=2, batch_size=20, seed=0, strategy="mirrored", reporter=False)
    runner = _RUNNERS[model][1]
    print(json.dumps({
        "replicas": runner.distribute_strategy.num_replicas_in_sync,
        "strategy": type(runner.distribute_strategy).__name__,
        "epochs": history.epoch, "loss": history.history["loss"],
        "strategy_param": history.params["strategy"],
        "weights_copied_back": all(np.allclose(a, b) for a, b in zip(model.get_weights(), runner.get_weights())),
        "weights_changed": any(not np.allclose(a, b) for a, b in zip(model.get_weights(), before)),
    }))
""")


@pytest.mark.tensorflow(reason="tf.distribute.MirroredStrategy on logical CPUs")
def test_mirrored_strategy_on_two_logical_cpus():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["strategy"] == "MirroredStrategy" and report["replicas"] == 2
    assert report["strategy_param"] == "MirroredStrategy × 2"
    assert report["epochs"] == [0, 1] and len(report["loss"]) == 2
    assert report["weights_copied_back"] and report["weights_changed"]


@pytest.mark.parametrize("backend, title, install", [("jax", "JAX", "jax[cuda12]"),
                                                     ("torch", "PyTorch", "a CUDA build of torch")])
def test_other_backends_are_named_in_the_report_and_the_badge(backend, title, install):
    cpu = info(build={"backend": backend, "backend_version": "9.9", "is_cuda_build": False}, colab=True)
    rows = dict(dev.report_rows(cpu))
    assert rows["Keras backend"] == f"{backend} ({title} 9.9)" and "TensorFlow" not in rows
    assert install in info(build={"backend": backend, "is_cuda_build": False}).gpu_hint()
    gpu = info(build={"backend": backend, "is_cuda_build": True}, gpus=[A100], colab=True)
    assert gpu.panel_badge() == f"GPU: NVIDIA A100-SXM4-40GB · 40.0 GiB · compute 8.0 · {title} · Colab"
    assert dev.choose_precision("auto", gpu).policy == "mixed_bfloat16"    # per device, whatever the backend
    assert dev.choose_strategy("auto", info(build={"backend": backend})) is None
    if backend == "torch":
        with pytest.raises(NNUsageError, match="no multi-device training on the PyTorch backend"):
            dev.choose_strategy("mirrored", info(build={"backend": backend}, gpus=[T4, T4]))


DATA_PARALLEL = textwrap.dedent("""
    import json, os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"   # two CPU devices, as two GPUs would be
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np, pandas as pd
    from nnmagics.data.tables import load_table
    from nnmagics.model.build import build_model
    from nnmagics.runtime import device as dev
    from nnmagics.training import train
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    frame = pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "right", "left")})
    data = load_table(frame, name="halves")
    model = build_model("dense 8 relu", data=data)
    history = train(model, data, val_split=0.2, epochs=2, batch_size=20, seed=0, strategy="mirrored", reporter=False)
    auto = dev.choose_strategy("auto", dev.detect())
    print(json.dumps({"strategy": history.params["strategy"], "loss": history.history["loss"], "auto": auto}))
""")


def test_data_parallel_on_jax_over_two_simulated_devices():
    pytest.importorskip("jax", reason="keras.distribution.DataParallel is JAX's")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", DATA_PARALLEL], capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["strategy"] == "DataParallel × 2" and len(report["loss"]) == 2
    assert report["auto"] is None   # two CPU devices are no reason to distribute by default
