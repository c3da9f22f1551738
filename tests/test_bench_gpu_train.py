"""``bench/bench_gpu_train.py --quick`` (the whole ``%nn_train`` path against plain Keras ``fit``) runs on a CPU,
on the backend in use, and reports images/s for both sides and their ratio."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_the_gpu_bench_runs_in_its_quick_mode(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "MPLBACKEND": "Agg", "NNMAGICS_BENCH_RESULTS": str(tmp_path),
           "NNMAGICS_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_gpu_train.py"), "--quick"],
                          capture_output=True, text=True, env=env, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == os.environ["KERAS_BACKEND"] and result["small"] is True
    for side in ("plain", "augmented"):
        row = result["sides"][side]
        assert row["nnmagics"]["images_per_s"] > 0 and row["keras"]["images_per_s"] > 0
        assert row["ratio"] == pytest.approx(row["nnmagics"]["images_per_s"] / row["keras"]["images_per_s"], rel=1e-2)
    assert result["sides"]["augmented"]["nnmagics"]["augment"] in ("model", "pipeline")
    assert (tmp_path / "gpu_train.jsonl").exists()   # the stored line (bench/results/ outside tests)
