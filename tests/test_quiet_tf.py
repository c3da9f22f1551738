"""The TensorFlow start-up hook (``nnmagics/_quiet_tf.py``) never imports TensorFlow on anyone's behalf,
and where TensorFlow is absent it does nothing: ``import keras`` after ``%load_ext nnmagics`` works on
every backend. Each case runs in a fresh interpreter."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code: str, *flags: str) -> dict:
    env = {**os.environ, "PYTHONPATH": ROOT}
    env.pop("NNMAGICS_TF_LOG", None)
    done = subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_probe_for_tensorflow_imports_nothing():
    """torch and Keras ask ``importlib.util.find_spec('tensorflow')``: the answer, not an import."""
    pytest.importorskip("tensorflow")
    report = _run(
        "import importlib.util, json, sys\n"
        "from nnmagics import _quiet_tf\n"
        "_quiet_tf.install()\n"
        "spec = importlib.util.find_spec('tensorflow')\n"
        "probed = 'tensorflow' in sys.modules\n"
        "import tensorflow as tf\n"
        "print(json.dumps({'found': spec is not None, 'probed': probed, 'hooked': _quiet_tf._finder in sys.meta_path,\n"
        "                  'value': int(tf.constant(21).numpy()) * 2, 'loader': type(tf.__loader__).__name__}))\n")
    assert report == {"found": True, "probed": False, "hooked": False, "value": 42, "loader": "SourceFileLoader"}


def test_without_tensorflow_the_hook_does_nothing():
    """No site-packages (``-S``): TensorFlow is absent, so no hook, and the probe and the import answer as Python does."""
    report = _run(
        "import importlib.util, json, sys\n"
        "from nnmagics import _quiet_tf\n"
        "_quiet_tf.install()\n"
        "hooked = _quiet_tf._finder in sys.meta_path\n"
        "sys.meta_path.insert(0, _quiet_tf._finder)   # even if it were there\n"
        "spec = importlib.util.find_spec('tensorflow')\n"
        "try:\n"
        "    import tensorflow\n"
        "    error = None\n"
        "except ModuleNotFoundError as exc:\n"
        "    error = exc.name\n"
        "print(json.dumps({'hooked': hooked, 'spec': spec, 'error': error}))\n", "-S")
    assert report == {"hooked": False, "spec": None, "error": "tensorflow"}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_import_keras_after_load_ext_works_on_every_installed_backend(backend):
    pytest.importorskip(backend)
    report = _run(
        "import json, os, sys\n"
        f"os.environ['KERAS_BACKEND'] = {backend!r}\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'nnmagics')\n"
        "import keras\n"
        "print(json.dumps({'backend': keras.backend.backend(),\n"
        "                  'tensorflow': 'tensorflow' in sys.modules and sys.modules['tensorflow'] is not None}))\n")
    assert report["backend"] == backend
    if backend != "tensorflow":
        assert report["tensorflow"] is False   # nobody imported TensorFlow on torch's or Keras' behalf
