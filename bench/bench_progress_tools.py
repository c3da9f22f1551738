"""Training-progress tools on the same dense run: overhead vs ``model.fit(verbose=0)``.

Sides, each on a fresh copy of the same model and data, the same epochs, in one run:

- ``fit(verbose=0)``: the baseline;
- Keras' own progress bar (``verbose=1``) and epoch lines (``verbose=2``), printed to /dev/null;
- ``tqdm.keras.TqdmCallback`` (epoch + batch bars), written to /dev/null;
- ``livelossplot.PlotLossesKeras``: matplotlib curves redrawn after every epoch; each figure is
  rendered to PNG and closed, as the inline backend does in a notebook;
- nnmagics: the live panel (headless, doing its real work) and the text log (to /dev/null).

The sides are run ``--repeats`` times, in alternating order, and the median ratio is kept (a shared
machine drifts by ±20 % between identical runs).
Run: ``.venv/bin/python bench/bench_progress_tools.py [--seconds 20] [--repeats 2] [--small]``;
appends a JSON line to ``bench/results/progress_tools.jsonl``.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_panel_overhead import DenseRun, headless_panel, machine, write_result  # noqa: E402


def livelossplot_callback(folder: str):
    """PlotLossesKeras whose figure is rendered to PNG and closed each epoch (what inline display costs)."""
    import matplotlib.pyplot as plt
    from livelossplot import PlotLossesKeras
    from livelossplot.outputs import MatplotlibPlot

    counter = {"i": 0}

    def render_and_close(fig):
        fig.tight_layout()
        fig.savefig(os.path.join(folder, f"epoch{counter['i']}.png"))
        counter["i"] += 1
        plt.close(fig)

    return PlotLossesKeras(outputs=[MatplotlibPlot(after_plots=render_and_close)])


def tqdm_callback(sink):
    from tqdm.keras import TqdmCallback

    return TqdmCallback(verbose=1, file=sink)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="a quick run: 4 s per side, one repeat")
    args = parser.parse_args(argv)
    if args.small:
        args.seconds, args.repeats = 4.0, 1

    from nnmagics.display.text_log import TextLog

    run = DenseRun(args.rows)
    epochs = run.calibrate(args.seconds)
    print(f"dense 2-3-3-3, {args.rows:,} rows, batch {run.batch_size}, {epochs} epochs per side, "
          f"{args.repeats} interleaved repeat(s)")
    sink = open(os.devnull, "w")
    folder = tempfile.mkdtemp(prefix="nnmagics-llp-")

    def quiet(fn):
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            return fn()

    sides = {
        "model.fit(verbose=0)": lambda: run.fit(epochs),
        "Keras progress bar (verbose=1)": lambda: quiet(lambda: run.fit(epochs, verbose=1)),
        "Keras epoch lines (verbose=2)": lambda: quiet(lambda: run.fit(epochs, verbose=2)),
        "tqdm.keras.TqdmCallback": lambda: run.fit(epochs, callbacks=[tqdm_callback(sink)]),
        "livelossplot PlotLossesKeras": lambda: quiet(lambda: run.fit(epochs, callbacks=[livelossplot_callback(folder)])),
        "nnmagics live panel": lambda: run.nnmagics(epochs, headless_panel()),
        "nnmagics.LivePanel in model.fit": lambda: run.fit(epochs, callbacks=[headless_panel()]),
        "nnmagics text log (--no-live)": lambda: run.nnmagics(epochs, TextLog(stream=sink, final_png=False)),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    ratios: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for repeat in range(args.repeats):
        order = names if repeat % 2 == 0 else names[::-1]     # alternate the order: drifts cancel out
        this = {}
        for name in order:
            this[name] = sides[name]()
        for name in names:
            times[name].append(this[name])
            ratios[name].append(this[name] / this[names[0]])
            print(f"  repeat {repeat + 1}: {name:<32} {this[name]:7.2f} s  ×{ratios[name][-1]:.3f}", flush=True)
    print()
    print(f"| tool (same dense run, {epochs} epochs) | seconds (median) | × fit(verbose=0) (median) |")
    print("|---|---|---|")
    summary = {}
    for name in sides:
        summary[name] = {"seconds": statistics.median(times[name]), "ratio": statistics.median(ratios[name])}
        print(f"| {name} | {summary[name]['seconds']:.2f} | {summary[name]['ratio']:.3f} |")
    path = write_result("progress_tools.jsonl", {
        "bench": "progress_tools", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": args.rows,
        "epochs": epochs, "steps_per_epoch": math.ceil(args.rows / run.batch_size), "times": times,
        "ratios": ratios, "summary": summary, "small": args.small, "load_avg": os.getloadavg(), **machine()})
    print(f"\nResult appended to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
