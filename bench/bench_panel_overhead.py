"""Overhead of the live training panel: ``train(..., reporter=TrainingPanel)`` vs ``model.fit(verbose=0)``.

The same dense network (the course's 2 → 3 → 3 → 3, batch 32) on the same synthetic table, the
same number of epochs (about ``--seconds`` of training per side), the same steps per call (``train``
runs this small model 10 steps per call; the ``fit`` side is compiled so too), measured side by side in one
run, alternating the two sides ``--repeats`` times (the median ratio is reported). The panel is a
real ipywidgets panel, not displayed (no front end here), doing its real work: throttled batch
updates (≥ 0.1 s apart), per-epoch table and verdict, curves redrawn at most once a second and at
the end (the display bundle's PNG included). Target: ≤ 1.05×.

Besides the wall clock (noisy on a shared machine: the two sides are alternated and the median
ratio kept), the panel adds up the seconds spent in its own methods, and the callback's per-batch
path is timed apart: their sum over the run is the noise-free cost of nnmagics' own code.

Run: ``.venv/bin/python bench/bench_panel_overhead.py [--seconds 20] [--repeats 4] [--small]``;
appends a JSON line to ``bench/results/panel_overhead.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET = 1.05
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def rings(rows: int, seed: int = 0):
    """A TableData of three concentric rings (like the course's data4), ``rows`` rows."""
    import numpy as np
    import pandas as pd

    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, rows)
    radius = label + rng.normal(0, 0.25, rows) + 0.5
    angle = rng.uniform(0, 2 * np.pi, rows)
    frame = pd.DataFrame({"X1": radius * np.cos(angle), "X2": radius * np.sin(angle),
                          "Y": np.array(["inner", "middle", "outer"])[label]})
    return load_table(frame, name="rings")


class DenseRun:
    """One dense model and its initial weights, re-used by every side of a comparison."""

    def __init__(self, rows: int, batch_size: int = 32):
        from nnmagics.model.build import build_model

        self.data = rings(rows)
        self.batch_size = batch_size
        self.template = build_model(preset="course-dense")
        self.weights = self.template.get_weights()

    def fresh_model(self, compiled: bool = True):
        """A new model with the same initial weights, compiled as nnmagics compiles it — with the steps per
        call ``train`` uses for it (``training/execution.py``), so that the sides differ by the reporter only."""
        from nnmagics.model.build import build_model
        from nnmagics.training.execution import steps_per_call

        model = build_model(preset="course-dense")
        model.set_weights(self.weights)
        if compiled:
            steps = math.ceil(len(self.data) / self.batch_size)
            model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                          steps_per_execution=steps_per_call(model, self.batch_size, steps))
        return model

    def fit(self, epochs: int, callbacks=(), verbose: int = 0) -> float:
        """Wall seconds of ``model.fit(X, y, …)`` on a fresh model (process CPU seconds in ``last_cpu``)."""
        model = self.fresh_model()
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(self.data.X, self.data.y, batch_size=self.batch_size, epochs=epochs, shuffle=True,
                  callbacks=list(callbacks), verbose=verbose)
        self.last_cpu = time.process_time() - cpu
        return time.perf_counter() - start

    def nnmagics(self, epochs: int, reporter) -> float:
        """Wall seconds of ``nnmagics.train`` on a fresh (uncompiled) model with ``reporter``."""
        from nnmagics.training import train

        model = self.fresh_model(compiled=False)
        start, cpu = time.perf_counter(), time.process_time()
        train(model, self.data, epochs=epochs, batch_size=self.batch_size, reporter=reporter)
        self.last_cpu = time.process_time() - cpu
        return time.perf_counter() - start

    def calibrate(self, seconds: float) -> int:
        """Epochs that take about ``seconds`` with ``fit(verbose=0)`` (after a warm-up run): the time of an
        epoch is the difference between a 3-epoch and a 1-epoch fit, so the compile and tracing (a large
        share of a short fit once steps run several per call) do not count as epochs."""
        self.fit(1)
        per_epoch = max((self.fit(3) - self.fit(1)) / 2, 1e-3)
        return max(2, math.ceil(seconds / per_epoch))


def headless_panel():
    """A real panel, not displayed, that does all of its work (incl. the final PNG of the display bundle).

    It also adds up the seconds spent in its own methods (``busy``): a noise-free measure of its cost.
    """
    from nnmagics.display.panel import TrainingPanel

    class HeadlessPanel(TrainingPanel):
        busy = 0.0

        def _timed(self, method, *args):
            start = time.perf_counter()
            try:
                return method(*args)
            finally:
                self.busy += time.perf_counter() - start

        def begin(self, info):
            self._timed(super().begin, info)

        def on_batch(self, *args):
            self._timed(super().on_batch, *args)

        def on_epoch(self, *args):
            self._timed(super().on_epoch, *args)

        def end(self, status):
            self._timed(super().end, status)
            self._timed(lambda: setattr(self, "final_bundle", self._bundle(final=True)))  # what update_display sends

    return HeadlessPanel(display=False)


def callback_cost_per_batch(calls: int = 200_000) -> float:
    """Seconds the reporting callback itself spends per batch between two throttled updates."""
    from nnmagics.training.history import TrainHistory
    from nnmagics.training.reporting import ReportingCallback, StopSignal

    callback = ReportingCallback(None, TrainHistory(), StopSignal(), 100)
    callback.on_epoch_begin(0)
    callback._last = time.perf_counter() + 1e9          # never due: measure the common path only
    logs = {"loss": 0.5, "accuracy": 0.5}
    start = time.perf_counter()
    for i in range(calls):
        callback.on_train_batch_end(i, logs)
    return (time.perf_counter() - start) / calls


def write_result(name: str, record: dict) -> str:
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return path


def machine() -> dict:
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "cpus": os.cpu_count(),
            "machine": platform.machine(), "processor": platform.processor() or platform.machine()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="training seconds per side (default 20)")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--small", action="store_true", help="a quick run: 4 s per side, one repeat")
    args = parser.parse_args(argv)
    if args.small:
        args.seconds, args.repeats = 4.0, 1

    run = DenseRun(args.rows)
    epochs = run.calibrate(args.seconds)
    steps = math.ceil(args.rows / run.batch_size)
    print(f"dense 2-3-3-3, {args.rows:,} rows, batch {run.batch_size} ({steps} steps/epoch), {epochs} epochs per side")
    base, panel, ratios, redraws, cpu_ratios, busy = [], [], [], [], [], []
    for repeat in range(args.repeats):
        reporter = headless_panel()
        if repeat % 2 == 0:          # alternate the order (ABBA…): drifts of a shared machine cancel out
            b = run.fit(epochs)
            b_cpu = run.last_cpu
            p = run.nnmagics(epochs, reporter)
            p_cpu = run.last_cpu
        else:
            p = run.nnmagics(epochs, reporter)
            p_cpu = run.last_cpu
            b = run.fit(epochs)
            b_cpu = run.last_cpu
        run.last_cpu = p_cpu
        base.append(b)
        panel.append(p)
        ratios.append(p / b)
        cpu_ratios.append(run.last_cpu / b_cpu)
        redraws.append(reporter.redraws)
        busy.append(reporter.busy)
        print(f"  repeat {repeat + 1}: fit(verbose=0) {b:.2f} s · nnmagics + panel {p:.2f} s · ratio {p / b:.3f}"
              f" (CPU time ratio {cpu_ratios[-1]:.3f}) · {reporter.redraws} curve redraws · "
              f"{reporter.busy:.3f} s in the panel", flush=True)
    ratio = statistics.median(ratios)
    print()
    print(f"| side | wall seconds (median of {args.repeats}) | wall ratio | CPU-time ratio |")
    print("|---|---|---|---|")
    print(f"| model.fit(verbose=0) | {statistics.median(base):.2f} | 1.00 | 1.00 |")
    print(f"| %nn_train live panel | {statistics.median(panel):.2f} | {ratio:.3f} | {statistics.median(cpu_ratios):.3f} |")
    per_batch = callback_cost_per_batch()
    own = statistics.median(busy) + per_batch * steps * epochs
    own_ratio = 1 + own / statistics.median(base)
    print(f"\nTime spent in nnmagics' own code during training (noise-free): panel {statistics.median(busy):.3f} s + "
          f"callback {per_batch * 1e6:.2f} µs × {steps * epochs:,} batches = {own:.3f} s → {own_ratio:.3f}×")
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"Panel overhead, wall clock {ratio:.3f}× (median; this machine is shared, ±10 % between repeats), "
          f"own code {own_ratio:.3f}× — {verdict} the ≤ {TARGET}× target on the wall clock.")
    path = write_result("panel_overhead.jsonl", {
        "bench": "panel_overhead", "time": time.strftime("%Y-%m-%d %H:%M:%S"), "rows": args.rows,
        "epochs": epochs, "steps_per_epoch": steps, "fit_s": base, "panel_s": panel, "ratios": ratios,
        "ratio": ratio, "cpu_ratios": cpu_ratios, "panel_busy_s": busy, "callback_s_per_batch": per_batch,
        "own_code_ratio": own_ratio, "target": TARGET, "redraws": redraws, "small": args.small,
        "load_avg": os.getloadavg(), **machine()})
    print(f"Result appended to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
