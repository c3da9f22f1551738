"""Shared fixtures: quiet TensorFlow, the Agg backend, a real IPython shell with nnmagics loaded."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("PYTHONHASHSEED", "0")
if "NNMAGICS_RUNS_DIR" not in os.environ:   # session fixtures train too: never into the repository's folder
    import tempfile

    os.environ["NNMAGICS_RUNS_DIR"] = tempfile.mkdtemp(prefix="nnmagics-runs-")

if os.environ["KERAS_BACKEND"] == "jax":
    # JAX compiles each new program (seconds on 2 cores); the tests' kernels and workers build the same models
    # again and again, so one compilation cache for the run's processes reads them back instead (XLA's own)
    import tempfile

    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                          os.path.join(tempfile.gettempdir(), f"nnmagics-tests-jax-cache-{os.getuid()}"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import importlib.util  # noqa: E402

import pytest  # noqa: E402

BACKEND = os.environ["KERAS_BACKEND"]
HAS_TF = importlib.util.find_spec("tensorflow") is not None


def pytest_configure(config):
    config.addinivalue_line("markers", "tensorflow(reason): needs the TensorFlow backend; skipped on the others "
                                       "(make test-jax, make test-torch), the reason said")


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.tensorflow(reason=…)``: run on the TensorFlow backend only, each skip with its reason."""
    if BACKEND == "tensorflow" and HAS_TF:
        return
    for item in items:
        marker = item.get_closest_marker("tensorflow")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "TensorFlow only")
            item.add_marker(pytest.mark.skip(reason=f"TensorFlow backend only ({BACKEND} here): {reason}"))


def tensorflow_only(reason: str):
    """The marker for a test of a TensorFlow-only behaviour: ``pytestmark = tensorflow_only("tf.data's …")``."""
    return pytest.mark.tensorflow(reason=reason)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path_factory, monkeypatch):
    """Every test gets its own nnmagics cache folder (image checks, feature caches)."""
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path_factory.mktemp("nncache")))
    monkeypatch.setenv("NNMAGICS_RUNS_DIR", str(tmp_path_factory.mktemp("nnruns")))


@pytest.fixture(scope="session")
def ip_session():
    """One real IPython shell for the whole run, with the extension loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nnmagics")
    return shell


@pytest.fixture
def ip(ip_session, tmp_path, monkeypatch):
    """The shared shell, run from a fresh working folder with a clean namespace afterwards."""
    monkeypatch.chdir(tmp_path)
    before = set(ip_session.user_ns)
    yield ip_session
    for name in set(ip_session.user_ns) - before:
        ip_session.user_ns.pop(name, None)


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    """The course's sample data (xlsx + small cats/dogs tree), made once per run."""
    from nnmagics.data.samples import make_samples

    folder = tmp_path_factory.mktemp("samples")
    return make_samples(str(folder), images_per_class=(60, 30))   # the default 200/100 tells the over-fitting story; tests need less


@pytest.fixture(scope="session")
def kernel(tmp_path_factory):
    """One real ipykernel for the whole run (cwd a scratch folder, Agg backend), nnmagics loaded.

    ``kernel.run(cell)`` returns a ``CellResult`` (``.status``, ``.text``, ``.error_lines``,
    ``.outputs``): what a notebook shows for that cell. See ``tests/kernel_harness.py``.
    """
    from kernel_harness import KernelHarness

    folder = tmp_path_factory.mktemp("kernel")
    harness = KernelHarness(cwd=str(folder), env={"NNMAGICS_CACHE_DIR": str(folder / ".nncache"),
                                                  "NNMAGICS_RUNS_DIR": str(folder / "runs")})
    harness.folder = folder
    loaded = harness.run("%load_ext nnmagics")
    assert loaded.status == "ok", loaded.text
    yield harness
    harness.shutdown()


@pytest.fixture
def tiny_images(tmp_path):
    """A fresh cats/dogs folder of 4 random 32×32 PNGs per class, loaded with batches of 4."""
    import numpy as np
    from PIL import Image

    from nnmagics.data.images import load_images

    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    return load_images(str(tmp_path), image_size=32, batch_size=4)
