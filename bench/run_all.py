"""`make bench`: run every benchmark, then print one table of the figures measured side by side.

Each script compares nnmagics with its baseline in the same run and appends a JSON line to
bench/results/; this script runs them in turn (``--quick`` passes ``--small`` where supported)
and reads back the newest line of each.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

SCRIPTS = [
    ("bench_load_ext.py", [], []),
    ("bench_panel_overhead.py", [], ["--small"]),
    ("bench_progress_tools.py", [], ["--small"]),
    ("bench_image_pipeline.py", [], ["--small"]),
    ("bench_transfer.py", [], []),
    ("bench_feature_maps.py", [], []),
    ("bench_fused_augment.py", [], ["--small"]),
]


def latest(name: str) -> dict:
    path = os.path.join(RESULTS, f"{name}.jsonl")
    if not os.path.exists(path):
        return {}
    lines = [json.loads(line) for line in open(path) if line.strip()]
    full = [line for line in lines if line.get("bench") == name and "pipeline_only" not in line or "sides" in line]
    return (full or lines)[-1] if lines else {}


def rows() -> list[tuple[str, str, str, str]]:
    """(what, measured, target, verdict) for the table."""
    out = []
    r = latest("load_ext")
    if r:
        out.append(("`%load_ext nnmagics`", f"{r['seconds'] * 1000:.0f} ms, TensorFlow not imported"
                    if not r["tensorflow_imported"] else f"{r['seconds'] * 1000:.0f} ms, TensorFlow imported!",
                    "< 0.5 s", _ok(r["seconds"] < 0.5 and not r["tensorflow_imported"])))
    r = latest("panel_overhead")
    if r:
        out.append(("live panel vs `model.fit(verbose=0)` (dense net, ~20 s)", f"{r['ratio']:.3f}×", "≤ 1.05×",
                    _ok(r["ratio"] <= 1.05)))
    r = latest("progress_tools")
    if r and "summary" in r:
        for tool, v in r["summary"].items():
            if tool != "model.fit(verbose=0)":
                out.append((f"same run with {tool}", f"{v['ratio']:.2f}×", "(comparison)", ""))
    r = latest("image_pipeline")
    if r and "sides" in r:
        for side, target in (("plain", 2.5), ("augmented", 2.0)):
            v = r["sides"].get(side)
            if not v:
                continue
            label = "course CNN, image folder" + (", with augmentation" if side == "augmented" else "")
            out.append((f"{label}: epoch vs `ImageDataGenerator.flow_from_directory` ({r['images']} JPEGs)",
                        f"{v['speedup_later_epochs']:.2f}× (input pipeline alone: "
                        f"{v['pipeline_only']['course_epoch'][0] / v['pipeline_only']['nnmagics_cached_epoch'][0]:.1f}×)"
                        if "pipeline_only" in v else f"{v['speedup_later_epochs']:.2f}×",
                        f"≥ {target}×", _ok(v["speedup_later_epochs"] >= target)))
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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs where a script supports it")
    parser.add_argument("--table-only", action="store_true", help="print the table from the stored results")
    args = parser.parse_args()
    if not args.table_only:
        for script, extra, quick in SCRIPTS:
            print(f"== {script}", flush=True)
            subprocess.run([sys.executable, os.path.join(HERE, script), *extra, *(quick if args.quick else [])],
                           check=False)
    print()
    print(f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPU cores, "
          f"Python {platform.python_version()}")
    print("| benchmark | measured | target | |")
    print("|---|---|---|---|")
    for what, measured, target, verdict in rows():
        print(f"| {what} | {measured} | {target} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
