"""`make bench`: run every benchmark in one go, print one table of the figures measured side by side,
and rewrite the README's table (between ``<!-- bench:start -->`` and ``<!-- bench:end -->``) with it.

Each script compares nnmagics with its baseline in the same run and appends a JSON line to
bench/results/; this script runs them in turn (``--quick`` passes ``--small`` where supported, and then
leaves the README alone unless ``--readme``) and reads back the newest full-size line of each.
``--table-only`` reprints the table from the stored results (``--table-only --readme`` writes it too).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("NNMAGICS_BENCH_RESULTS") or os.path.join(HERE, "results")
README = os.path.join(os.path.dirname(HERE), "README.md")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from readme_table import machine_description, render_table, rewrite_readme  # noqa: E402

SCRIPTS = [
    ("bench_load_ext.py", [], []),
    ("bench_input_pipeline.py", [], ["--small"]),
    ("bench_cpu_epoch.py", [], ["--small"]),
    ("bench_fused_augment.py", [], ["--small"]),
    ("bench_panel_overhead.py", [], ["--small"]),
    ("bench_progress_tools.py", [], ["--small"]),
    ("bench_transfer.py", [], []),
    ("bench_feature_maps.py", [], []),
    ("bench_gpu_train.py", ["--quick"], []),   # a check here; its figure is a GPU's (README says which machine)
]


def latest(name: str) -> dict:
    path = os.path.join(RESULTS, f"{name}.jsonl")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    full = [line for line in lines if not line.get("small") and "pipeline_only" not in line]
    return (full or lines)[-1] if lines else {}


def rows() -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) for the table."""
    out = []
    r = latest("load_ext")
    if r:
        out.append(("`%load_ext nnmagics`", f"{r['seconds'] * 1000:.0f} ms, TensorFlow not imported"
                    if not r["tensorflow_imported"] else f"{r['seconds'] * 1000:.0f} ms, TensorFlow imported!",
                    "< 0.5 s", _ok(r["seconds"] < 0.5 and not r["tensorflow_imported"])))
    r = latest("input_pipeline")
    for side, label in (("plain", ""), ("augmented", ", course augmentation (`--augment`)")):
        v = r.get("sides", {}).get(side) if r else None
        if v:
            out.append((f"input pipeline{label}: `train` vs `ImageDataGenerator` + `fit`, free model, "
                        f"{r['images']:,} JPEGs, {r['epochs']} epochs (what a GPU would see)",
                        f"{v['speedup']:.1f}× training cell ({v['nnmagics_s']:.1f} vs {v['course_s']:.1f} s); "
                        f"data + training cells {v['speedup_whole']:.1f}×",
                        f"≥ {v['target']:g}×", _ok(v["speedup"] >= v["target"])))
    r = latest("cpu_epoch")
    if r:
        out.append((f"course CNN, steady epoch on this CPU ({r['machine_kind']}): `train` (`auto`: "
                    f"{r['nnmagics'][0]['precision']}) vs the course's float32 recipe, {r['images']} JPEGs",
                    f"{r['speedup']:.2f}× ({r['nnmagics_steady_s']:.1f} vs {r['course_steady_s']:.1f} s; "
                    f"whole run {r['speedup_whole_run']:.2f}×)", f"≥ {r['target']:g}×", _ok(r["speedup"] >= r["target"])))
    r = latest("panel_overhead")
    if r:
        out.append(("live panel vs `model.fit(verbose=0)` (dense net, ~20 s)", f"{r['ratio']:.3f}×", "≤ 1.05×",
                    _ok(r["ratio"] <= 1.05)))
    r = latest("progress_tools")
    if r and "summary" in r:
        for tool, v in r["summary"].items():
            if tool != "model.fit(verbose=0)":
                out.append((f"same run with {tool}", f"{v['ratio']:.2f}×", "(comparison)", ""))
    r = latest("transfer")
    if r:
        speed = r.get("speedup") or (r["replace_top_10_epochs_s"] / r["features_10_epochs_cold_s"])
        out.append(("VGG16 `features` vs `replace-top`, 10 epochs, 60 images", f"{speed:.1f}×", "≥ 8×", _ok(speed >= 8)))
        if r.get("vgg16_224_images_per_s"):
            out.append(("VGG16 forward pass, 224×224, this CPU", f"{r['vgg16_224_images_per_s']:.2f} images/s",
                        "(information)", ""))
    r = latest("feature_maps")
    if r:
        out.append(("feature-map gallery, course CNN, one image", f"{r['gallery_cold_s']:.2f} s", "< 1.5 s",
                    _ok(r["gallery_cold_s"] < 1.5)))
    r = latest("fused_augment")
    if r and "cpu_ms_per_batch" in r:
        c = r["cpu_ms_per_batch"]
        for side in ("Keras layers ×5", "ImageDataGenerator.flow"):
            if side in c:
                out.append((f"fused augmentation vs {side}, CPU time per batch of 20 at 150×150",
                            f"{c[side] / c['fused']:.1f}× ({c['fused']:.0f} vs {c[side]:.0f} ms)", "(comparison)", ""))
    return out


def _ok(flag: bool) -> str:
    return "meets" if flag else "misses"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs where a script supports it")
    parser.add_argument("--table-only", action="store_true", help="print the table from the stored results")
    parser.add_argument("--readme", nargs="?", const=README, metavar="PATH",
                        help="rewrite the table of README.md (or PATH) even with --quick/--table-only")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md alone")
    args = parser.parse_args()
    start, note = time.perf_counter(), ""
    if not args.table_only:
        before = os.getloadavg()[0]
        env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"}
        for script, extra, quick in SCRIPTS:
            print(f"== {script}", flush=True)
            subprocess.run([sys.executable, os.path.join(HERE, script), *extra, *(quick if args.quick else [])],
                           check=False, env=env)
        minutes = (time.perf_counter() - start) / 60
        note = (f"; one run of {minutes:.0f} min, load average {before:.1f} at its start and "
                f"{os.getloadavg()[0]:.1f} at its end")
        print(f"\nAll benchmarks ran in {minutes:.1f} min.")
    block = render_table(rows(), machine_description(note=note))
    print()
    print(block)
    full_run = not (args.quick or args.table_only)
    if (full_run or args.readme) and not args.no_readme:
        path = args.readme or README
        changed = rewrite_readme(path, block)
        print(f"\n{'Rewrote' if changed else 'Unchanged:'} the table in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
