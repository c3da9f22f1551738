"""`make bench` rewrites the README's benchmark table, and only it (no timing here: stored results)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, BENCH)

from readme_table import END, START, cpu_info, machine_description, render_table, replace_block  # noqa: E402

RESULTS = {
    "load_ext": {"bench": "load_ext", "seconds": 0.2, "tensorflow_imported": False},
    "input_pipeline": {"bench": "input_pipeline", "images": 1000, "epochs": 3, "small": False, "sides": {
        "plain": {"speedup": 6.2, "course_s": 12.4, "nnmagics_s": 2.0, "target": 5.0, "speedup_whole": 3.1},
        "augmented": {"speedup": 2.5, "course_s": 25.0, "nnmagics_s": 10.0, "target": 3.0, "speedup_whole": 2.2}}},
    "cpu_epoch": {"bench": "cpu_epoch", "images": 300, "small": False, "machine_kind": "CPU with bfloat16 units",
                  "nnmagics": [{"precision": "mixed_bfloat16"}], "speedup": 1.8, "nnmagics_steady_s": 2.0,
                  "course_steady_s": 3.6, "speedup_whole_run": 1.5, "target": 1.7},
}


def run_all(*args, results):
    env = {**os.environ, "NNMAGICS_BENCH_RESULTS": str(results), "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, os.path.join(BENCH, "run_all.py"), *args], env=env,
                          capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    for name, record in RESULTS.items():
        small = {**record, "small": True, "speedup": 0.1} if name == "cpu_epoch" else None
        lines = [json.dumps(record)] + ([json.dumps(small)] if small else [])   # a later --quick line
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_rewrites_only_between_the_markers_and_is_idempotent(tmp_path, results):
    readme = tmp_path / "README.md"
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        original = handle.read()
    assert original.count(START) == 1 and original.count(END) == 1   # the real README has its markers
    readme.write_text(original, encoding="utf-8")

    out = run_all("--table-only", "--readme", str(readme), results=results)
    first = readme.read_text(encoding="utf-8")
    head, tail = original.split(START)[0], original.split(END)[1]
    assert first.startswith(head + START + "\n") and first.endswith("\n" + END + tail)
    block = first.split(START)[1].split(END)[0]
    assert "| input pipeline: `train` vs `ImageDataGenerator` + `fit`" in block
    assert "| 6.2× training cell (2.0 vs 12.4 s); data + training cells 3.1× | ≥ 5× | meets |" in block
    assert "| 2.5× training cell (10.0 vs 25.0 s); data + training cells 2.2× | ≥ 3× | misses |" in block
    assert "1.80× (2.0 vs 3.6 s; whole run 1.50×) | ≥ 1.7× | meets |" in block   # the full run, not the --quick line
    assert f"{os.cpu_count()} CPU cores" in block and cpu_info()["model"] in block
    assert block.strip() in out                                       # what was printed is what was written

    run_all("--table-only", "--readme", str(readme), results=results)
    assert readme.read_text(encoding="utf-8") == first                # idempotent


def test_table_only_leaves_the_readme_alone(tmp_path, results):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\nrest\n", encoding="utf-8")
    out = run_all("--table-only", results=results)
    assert "| `%load_ext nnmagics` | 200 ms, TensorFlow not imported | < 0.5 s | meets |" in out
    assert readme.read_text(encoding="utf-8") == f"intro\n{START}\nold\n{END}\nrest\n"


@pytest.mark.parametrize("text", ["no markers\n", f"{END}\n{START}\n", f"{START}\n{START}\n{END}\n"])
def test_missing_or_broken_markers_are_refused(text):
    with pytest.raises(ValueError, match="bench:start"):
        replace_block(text, "table")


def test_machine_description_names_the_flags_that_matter(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile sse\n"
                       "model name\t: Test CPU 9000\nflags\t\t: fpu\n")
    cpu = cpu_info(str(cpuinfo))
    assert cpu["model"] == "Test CPU 9000" and cpu["flags"] == ["avx2", "avx512f", "amx_bf16", "amx_tile"]
    line = machine_description(cpu, ["NVIDIA H100"], date="2026-01-02")
    assert line.startswith("Measured 2026-01-02 on Test CPU 9000 (avx2, avx512f, amx_bf16, amx_tile: bfloat16 units)")
    assert "NVIDIA H100" in line
    plain = machine_description({"model": "Old CPU", "flags": [], "cores": 2, "bf16": False}, [], date="2026-01-02")
    assert "(no AVX2/AVX-512: no bfloat16 units), 2 CPU cores, no GPU" in plain
    assert render_table([], plain).splitlines()[2] == "| benchmark | measured | target | |"
    noted = machine_description(cpu, [], date="2026-01-02", note="; load average 3.0")
    assert noted.endswith("; load average 3.0:")
