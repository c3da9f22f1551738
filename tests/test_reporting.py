"""The reporting seam: reporters chosen by the caller, LivePanel/TextLog in plain ``model.fit`` (notebook,
terminal), ``%nn_train --callbacks``, typed fit options (``--epochs`` counts on every fit path), layering."""
from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

import nnmagics
from nnmagics.errors import NNUsageError
from nnmagics.training.history import TrainHistory
from nnmagics.training.reporting import FanOut, ReportingCallback, Silent, StopSignal, as_reporter
from nnmagics.training import FitOptions, train

ROOT = pathlib.Path(nnmagics.__file__).parent


def halves(n=80, seed=0):
    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return load_table(pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "r", "l")}), name="halves")


def tiny_keras_model():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")], name="tiny")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def xy(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype("float32")
    return x, (x[:, 0] > 0).astype("float32")


class Spy:
    """A reporter that writes down what it is told."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, info):
        self.calls.append(("begin", info.epochs, info.initial_epoch))

    def on_batch(self, epoch, batch, steps, logs, elapsed):
        pass

    def on_epoch(self, epoch, logs, history, verdict):
        self.calls.append(("epoch", epoch, verdict.kind))

    def on_train_end(self, status):
        self.calls.append(("end", status))


# -- plain model.fit with nnmagics' reporters ----------------------------------------------------
def test_live_panel_in_plain_model_fit_records_epochs_curves_and_status():
    import keras

    from nnmagics.display.panel import TrainingPanel

    panel = nnmagics.LivePanel(display=False)
    assert isinstance(panel, TrainingPanel) and isinstance(panel, keras.callbacks.Callback)
    x, y = xy()
    model = tiny_keras_model()
    model.fit(x, y, validation_data=xy(32, seed=1), epochs=3, batch_size=16, verbose=0, callbacks=[panel])
    assert panel.status == "finished" and panel.history.epoch == [0, 1, 2]
    assert len(panel.history.history["val_loss"]) == 3 and panel.history.fits[-1]["status"] == "finished"
    assert panel.info.model_name == "tiny" and panel.info.monitor == "val_loss" and panel.info.steps == 4
    assert panel.table.value.count("<tr") == 1 + 3
    assert panel.curves.value.count("<polyline") == 4                    # loss, val_loss, accuracy, val_accuracy
    assert "finished" in panel.status_line.value and "best val_loss" in panel.status_line.value
    assert panel.epoch_text.value.startswith("epoch 3/3")

    model.fit(x, y, epochs=5, initial_epoch=3, verbose=0, callbacks=[panel])   # a second fit: a fresh history
    assert panel.history.epoch == [3, 4] and panel.info.initial_epoch == 3 and panel.info.epochs == 2
    assert panel.info.monitor == "loss"


def test_text_log_in_plain_model_fit_prints_one_line_per_epoch_and_stop_works(capsys):
    import keras

    log = nnmagics.TextLog(final_png=False)

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                log.info.stop.request("test")                           # what the Stop button does

    x, y = xy()
    # asked before the log's epoch end: the fit ends with that epoch (else after the next batch)
    tiny_keras_model().fit(x, y, epochs=10, batch_size=16, verbose=0, callbacks=[StopAfterTwo(), log])
    out = capsys.readouterr().out
    assert out.startswith("Training 'tiny'") and "Epoch 1/10 ·" in out and "Epoch 2/10 ·" in out
    assert "Epoch 3/10" not in out and "Stopped (test) after 2 finished epoch(s)" in out
    assert "'tiny' keeps its weights and its history has all 2 epoch(s)" in out
    assert log.status == "stopped" and log.history.epoch == [0, 1]


def test_early_stopping_in_plain_model_fit_is_reported_as_such(capsys):
    import keras

    log = nnmagics.TextLog(final_png=False)
    x, y = xy()
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)   # never improves enough
    tiny_keras_model().fit(x, y, epochs=10, verbose=0, callbacks=[log, stopper])
    assert log.status == "early-stopped" and len(log.history.epoch) < 10
    assert "Early stop after" in capsys.readouterr().out


def test_in_a_terminal_live_panel_is_the_text_log_and_prints_lines():
    code = (
        "import numpy as np, keras, nnmagics\n"
        "panel = nnmagics.LivePanel()\n"
        "print('kind', type(panel).__name__)\n"
        "x = np.random.default_rng(0).normal(size=(32, 2)).astype('float32'); y = (x[:, 0] > 0).astype('float32')\n"
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation='sigmoid')], name='t')\n"
        "m.compile(optimizer='sgd', loss='binary_crossentropy')\n"
        "m.fit(x, y, epochs=2, verbose=0, callbacks=[panel])\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "kind TextLog" and lines[1].startswith("Training 't'")
    assert [line.split(" ·")[0] for line in lines[2:4]] == ["Epoch 1/2", "Epoch 2/2"]
    assert lines[4].startswith("Finished: 2 epoch(s)")


@pytest.mark.notebook
def test_live_panel_in_plain_model_fit_shows_a_widget_in_a_kernel(kernel):
    cell = kernel.run(
        "import numpy as np, keras, nnmagics\n"
        "x = np.random.default_rng(0).normal(size=(64, 2)).astype('float32'); y = (x[:, 0] > 0).astype('float32')\n"
        "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation='sigmoid')], name='t')\n"
        "m.compile(optimizer='sgd', loss='binary_crossentropy', metrics=['accuracy'])\n"
        "panel = nnmagics.LivePanel()\n"
        "m.fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[panel])\n"
        "print(type(panel).__name__, panel.status, len(panel.history.epoch))"
    )
    assert cell.status == "ok", cell.text
    views = [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, cell.outputs
    assert "LivePanel finished 2" in cell.text
    assert "image/png" in views[-1]["data"]                              # the static twin at the end


# -- the choice of reporter is the caller's --------------------------------------------------------
def test_train_feeds_the_reporters_it_is_given_and_judges_each_epoch_once(monkeypatch):
    import nnmagics.training.reporting as reporting
    from nnmagics.model.build import build_model

    judged = []
    real = reporting.verdict
    monkeypatch.setattr(reporting, "verdict", lambda history: judged.append(1) or real(history))
    one, two = Spy(), Spy()
    data = halves()
    train(build_model("dense 4 relu", data=data), data, epochs=2, reporter=[one, two], seed=0)
    assert one.calls == two.calls
    assert [c[0] for c in one.calls] == ["begin", "epoch", "epoch", "end"] and one.calls[-1] == ("end", "finished")
    assert len(judged) == 2                                              # once per epoch, not once per reporter


def test_as_reporter_uses_the_registered_display_else_stays_silent(monkeypatch):
    from nnmagics import registry

    from nnmagics.training.reporting import Reporter

    monkeypatch.setattr(registry, "_ENTRIES", {})
    assert isinstance(as_reporter(None), Silent) and isinstance(as_reporter(False), Silent)
    assert all(isinstance(r, Reporter) for r in (Silent(), FanOut([]), nnmagics.TextLog(), nnmagics.LivePanel(display=False)))
    spy = Spy()
    assert as_reporter(spy) is spy
    fan = as_reporter([spy, False])
    assert isinstance(fan, FanOut) and fan.reporters[0] is spy and isinstance(fan.reporters[1], Silent)
    registry.register("training.reporter", lambda: spy)
    assert as_reporter(None) is spy


def test_fan_out_closes_every_reporter_even_when_one_fails():
    class Broken(Spy):
        def on_train_end(self, status):
            raise RuntimeError("broken display")

    after = Spy()
    with pytest.raises(RuntimeError, match="broken display"):
        FanOut([Broken(), after]).on_train_end("finished")
    assert after.calls == [("end", "finished")]


def test_batch_updates_are_throttled():
    import keras

    class Batches(Spy):
        def on_batch(self, epoch, batch, steps, logs, elapsed):
            self.calls.append(("batch", batch))

    now = [0.0]
    spy = Batches()
    feed = ReportingCallback(spy, TrainHistory(), StopSignal(), steps=100, clock=lambda: now[0])
    feed.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    feed.on_epoch_begin(0)
    for batch in range(100):
        now[0] += 0.02                                                   # 50 batches a second
        feed.on_train_batch_end(batch, {"loss": 1.0})
    sent = [c[1] for c in spy.calls if c[0] == "batch"]
    assert 18 <= len(sent) <= 21 and sent[0] == 4                       # one update per 0.1 s


# -- the CPU hint, from measured steps (issue 12) ----------------------------------------------------
def cpu(colab=False):
    from nnmagics.runtime.device import detect

    return detect(gpus=[], tpu=False, colab=colab, build={"tf_version": "2.99"}, cpu_flags=[])


def test_speed_probe_skips_the_compiling_batch_and_estimates_step_time_times_steps():
    from nnmagics.training.speed import SpeedProbe

    probe = SpeedProbe(steps=100)
    ends = [9.0] + [9.0 + 0.5 * i for i in range(1, 6)]          # batch 0 compiles for 9 s, then 0.5 s a step
    estimates = [probe.batch_end(batch, now) for batch, now in enumerate(ends)]
    assert estimates == [None] * 5 + [50.0]                      # ready after 5 timed steps (≥ 1 s): 0.5 s × 100
    assert probe.batch_end(6, 12.5) is None and probe.epoch_end(100) is None   # said once

    fast = SpeedProbe(steps=10_000)
    assert all(fast.batch_end(b, 0.002 * b) is None for b in range(400))     # 0.8 s measured: not enough yet
    assert fast.batch_end(501, 0.002 * 501) == pytest.approx(20.0)          # 1 s of 2 ms steps: × 10,000

    unknown = SpeedProbe(steps=None)                             # a generator of unknown length
    assert all(unknown.batch_end(b, 3.0 + 0.25 * b) is None for b in range(40))
    assert unknown.epoch_end(40) == pytest.approx(10.0)          # at the end of the epoch: 0.25 s × 40 batches
    assert SpeedProbe(steps=5).epoch_end(1) is None              # one batch, the compiling one: nothing to time


class Hints(Spy):
    def on_hint(self, text):
        self.calls.append(("hint", text))


def feed_steps(reporter, step_seconds, *, steps=100, epochs=10, device=None, batches=None, first_batch=8.0):
    """Drive a ReportingCallback with a fake clock: the first batch compiles, then ``step_seconds`` a step."""
    import keras

    now = [0.0]
    feed = ReportingCallback(reporter, TrainHistory(), StopSignal(), steps=steps, clock=lambda: now[0],
                             device=device or cpu())
    feed.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    feed.set_params({"epochs": epochs, "steps": steps})
    feed.on_epoch_begin(0)
    for batch in range(batches or steps):
        now[0] += first_batch if batch == 0 else step_seconds
        feed.on_train_batch_end(batch, {"loss": 1.0})
    feed.on_epoch_end(0, {"loss": 1.0})
    return feed


def test_a_slow_cpu_epoch_gives_one_measured_hint_before_the_epoch_line():
    spy = Hints()
    feed_steps(spy, 0.5)                                          # 100 steps of 0.5 s: ≈ 50 s an epoch
    hints = [c[1] for c in spy.calls if c[0] == "hint"]
    assert len(hints) == 1 and [c[0] for c in spy.calls] == ["hint", "epoch"]
    assert hints[0].startswith("≈ 50 s per epoch on this CPU (") and "≈ 8 min for 10 epochs" in hints[0]
    assert "a GPU runtime would be faster" in hints[0] and "minutes per epoch" not in hints[0]


def test_no_hint_when_epochs_are_quick_on_a_gpu_or_for_a_reporter_without_on_hint():
    quick = Hints()
    feed_steps(quick, 0.05, epochs=10)                            # 5 s an epoch, 50 s in all: not worth saying
    assert not [c for c in quick.calls if c[0] == "hint"]
    many = Hints()
    feed_steps(many, 0.05, epochs=30)                             # 5 s an epoch but 2.5 min in all: worth it
    assert [c[1] for c in many.calls if c[0] == "hint"][0].startswith("≈ 5 s per epoch")
    from nnmagics.runtime.device import detect

    gpu = Hints()
    feed_steps(gpu, 0.5, device=detect(gpus=[{"name": "Tesla T4"}], tpu=False, colab=False, build={}, cpu_flags=[]))
    assert not [c for c in gpu.calls if c[0] == "hint"]
    plain = Spy()                                                 # on_hint is optional
    feed_steps(plain, 0.5)
    assert [c[0] for c in plain.calls] == ["epoch"]


def test_the_measured_hint_reaches_the_live_panel_and_the_text_log():
    import io

    from nnmagics.display.panel import TrainingPanel
    from nnmagics.training.reporting import TrainInfo

    panel = TrainingPanel(display=False, poll_kernel=False)
    stream = io.StringIO()
    log = nnmagics.TextLog(stream, final_png=False)
    history = TrainHistory()
    info = TrainInfo(model_name="cnn", data_name="cats", epochs=15, initial_epoch=0, steps=100, batch_size=20,
                     samples=2000, val_samples=None, device="CPU (2 cores)", history=history,
                     hints=["No GPU in this Colab runtime: Runtime → …"])
    fan = FanOut([panel, log])
    fan.on_train_begin(info)
    feed_steps(fan, 0.45, epochs=15, device=cpu(colab=True), batches=7)   # told after 6 timed steps, not the epoch
    assert "≈ 45 s per epoch on this CPU" in panel.hints.value and "No GPU in this Colab runtime" in panel.hints.value
    assert "Change runtime type" in panel.hints.value
    lines = stream.getvalue().splitlines()
    assert lines[1] == "  Note: No GPU in this Colab runtime: Runtime → …"
    assert lines[2].startswith("  Note: ≈ 45 s per epoch on this CPU") and lines[3].startswith("Epoch 1/15")
    assert "Note: ≈ 45 s per epoch" in panel.text_summary()


def test_the_panel_says_the_verdict_in_words_after_each_epoch():
    from nnmagics.display.panel import TrainingPanel
    from nnmagics.training.reporting import TrainInfo
    from nnmagics.training.verdict import verdict

    panel = TrainingPanel(display=False, poll_kernel=False)
    history = TrainHistory()
    panel.on_train_begin(TrainInfo(model_name="m", data_name="d", epochs=5, initial_epoch=0, steps=1, batch_size=4,
                                   samples=4, val_samples=4, device="CPU (2 cores)", history=history))
    curve = [(0.69, 0.55, 0.69, 0.55), (0.62, 0.64, 0.66, 0.65), (0.55, 0.70, 0.62, 0.72),
             (0.45, 0.80, 0.64, 0.60), (0.35, 0.88, 0.70, 0.52)]                 # the run
    for epoch, (loss, acc, val_loss, val_acc) in enumerate(curve):
        logs = {"loss": loss, "accuracy": acc, "val_loss": val_loss, "val_accuracy": val_acc}
        history.record(epoch, logs, 1.0)
        panel.on_epoch(epoch, dict(logs, seconds=1.0), history, verdict(history.history))
        if epoch == 1:
            assert "Too early to judge after 2 epochs" in panel.verdict_line.value and panel.warning.value == ""
    assert "Over-fitting from epoch 4" in panel.warning.value and "0.72 → 0.52" in panel.warning.value
    assert panel.verdict_line.value == ""


STEPS_CELL = '''
import time, numpy as np, pandas as pd, keras, nnmagics
from nnmagics.runtime.device import detect
x = np.random.default_rng(0).normal(size=(600, 2))
hint_data = nnmagics.load_data(pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "r", "l")}))

class Steps(keras.callbacks.Callback):
    """Each step takes ``seconds`` more; the fit stops after 20 steps (the hint is told by then)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)
        if batch >= 19:
            self.model.stop_training = True

slow, quick = Steps(0.06), Steps(0.0)
print("KIND=" + detect().kind)
'''


@pytest.mark.notebook
def test_nn_train_text_log_shows_the_measured_hint_for_slow_steps_and_none_for_quick_ones(kernel):
    import re

    setup = kernel.run(STEPS_CELL)
    assert setup.status == "ok", setup.text
    if "KIND=cpu" not in setup.text:
        pytest.skip("the CPU hint is for machines without GPU")
    assert kernel.run("%nn_build hint_m --layers 'dense 4 relu' --from hint_data --quiet").status == "ok"
    slow = kernel.run("%nn_train hint_m hint_data --epochs 1 --batch-size 1 --no-live --callbacks slow")
    assert slow.status == "ok", slow.text
    found = re.search(r"Note: ≈ (\d+) s per epoch on this CPU \(\d+ cores\); a GPU runtime would be faster", slow.text)
    assert found, slow.text                                   # 600 steps of ≥ 60 ms: ≥ 36 s an epoch
    assert 30 <= int(found.group(1)) <= 200 and "minutes per epoch" not in slow.text
    quick = kernel.run("%nn_train hint_m hint_data --epochs 1 --batch-size 1 --no-live --callbacks quick")
    assert quick.status == "ok", quick.text
    assert "Epoch 2/2" in quick.text and "per epoch on this CPU" not in quick.text


# -- %nn_train --callbacks -------------------------------------------------------------------------
def test_nn_train_takes_keras_callbacks_from_the_namespace(ip, tmp_path):
    import keras

    from nnmagics.model.build import build_model

    data = halves()
    ip.user_ns.update(m=build_model("dense 4 relu", data=data), d=data,
                      csv=keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
                      more=[keras.callbacks.TerminateOnNaN()], text="log.csv")
    history = ip.run_line_magic("nn_train", "m d --epochs 2 --no-live --callbacks csv,more")
    assert history.status == "finished"
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3               # a header and one row per epoch
    with pytest.raises(UsageError, match="There is no callback named 'nope' in the notebook"):
        ip.run_line_magic("nn_train", "m d --epochs 1 --no-live --callbacks csv,nope")
    with pytest.raises(UsageError, match="'text' is a str, not a Keras callback"):
        ip.run_line_magic("nn_train", "m d --epochs 1 --no-live --callbacks text")
    with pytest.raises(NNUsageError, match="A str is not a Keras callback"):
        train(ip.user_ns["m"], data, epochs=1, callbacks=["log.csv"], reporter=False)


# -- typed fit options: --epochs counts on every fit path -------------------------------------------
def test_fit_options_parse_text_once_with_one_vocabulary():
    options = FitOptions.parse(epochs="20", batch_size="32", val_split="0.2", lr="0.01", seed="0")
    assert (options.epochs, options.batch_size, options.val_split, options.lr, options.seed) == (20, 32, 0.2, 0.01, 0)
    with pytest.raises(NNUsageError, match="--epochs must be a positive whole number, not 'ten'; e.g. --epochs 20"):
        FitOptions.parse(epochs="ten")
    with pytest.raises(NNUsageError, match="--early-stop .* must be a positive whole number, not 0"):
        FitOptions.parse(early_stop=0)
    with pytest.raises(AttributeError):
        options.epochs = 3                                                # frozen


def test_epochs_is_the_number_run_by_this_call_on_the_plain_path():
    from nnmagics.model.build import build_model

    data = halves()
    model = build_model("dense 4 relu", data=data)
    spy = Spy()
    train(model, data, epochs=2, reporter=spy)
    history = train(model, data, epochs="3", reporter=spy)
    assert history.epoch == [0, 1, 2, 3, 4] and history.params["epochs"] == 3 and history.params["initial_epoch"] == 2
    assert [c for c in spy.calls if c[0] == "begin"] == [("begin", 2, 0), ("begin", 3, 2)]
    assert [c[1] for c in spy.calls if c[0] == "epoch"] == [0, 1, 2, 3, 4]


def test_epochs_is_the_number_run_by_this_call_on_the_features_cache_path(tiny_images, monkeypatch):
    import nnmagics.training.features_fit as fc

    cached = []
    real = fc.fit_features_model
    monkeypatch.setattr(fc, "fit_features_model", lambda *a, **k: cached.append(k["epochs"]) or real(*a, **k))

    data = tiny_images
    model = nnmagics.vgg_transfer(mode="features", data=data, weights="none", name="fm")
    spy = Spy()
    train(model, data, epochs=2, reporter=spy, seed=0)
    history = train(model, data, epochs=3, reporter=spy, seed=0)
    assert cached == [2, 3]                                              # the cached-features path, both times
    assert history.epoch == [0, 1, 2, 3, 4] and [f["first_epoch"] for f in history.fits] == [0, 2]
    assert [c[1] for c in spy.calls if c[0] == "epoch"] == [0, 1, 2, 3, 4]


# -- layering and public names -----------------------------------------------------------------------
def _nnmagics_imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_the_training_core_imports_nothing_from_display():
    core = [ROOT / "model" / "compile.py", *sorted((ROOT / "training").glob("*.py"))]
    for path in core:
        shown = {m for m in _nnmagics_imports(path) if "display" in m}
        assert not shown, (path.name, shown)
    for path in (ROOT / "training").glob("*.py"):
        assert path.stem not in nnmagics._LAZY, path                     # no submodule named like a public name


def test_public_names_stay_what_they_are():
    code = (
        "import sys, nnmagics\n"
        "import nnmagics.training, nnmagics.training.fit, nnmagics.training.reporting\n"
        "assert not [m for m in sys.modules if m.startswith('nnmagics.display')], 'display imported by the core'\n"
        "for _ in range(2):\n"
        "    assert callable(nnmagics.train) and nnmagics.train is nnmagics.training.train\n"
        "    assert isinstance(nnmagics.LivePanel, type) and isinstance(nnmagics.TextLog, type)\n"
        "    assert nnmagics.Reporter is nnmagics.training.reporting.Reporter\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_stop_click_is_polled_when_every_epoch_is_shorter_than_the_throttle():
    """A 400-row table on JAX: 5 calls of 10 steps an epoch, 20 ms an epoch. A click pending in the kernel must be
    handled within the throttle period (0.1 s), not never (the reset throttle clock let 3000 epochs run)."""
    import keras

    now = [0.0]
    stop = StopSignal()

    class Clicked(Spy):
        polls = 0

        def poll(self):
            self.polls += 1
            if now[0] > 1.0:
                stop.request()                                        # the front end's click, handled by the poll

    spy = Clicked()
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    feed = ReportingCallback(spy, TrainHistory(), stop, steps=50, clock=lambda: now[0])
    feed.set_model(model)
    epochs = 0
    while not getattr(model, "stop_training", False) and epochs < 3000:
        feed.on_epoch_begin(epochs)
        for batch in range(9, 50, 10):
            now[0] += 0.004
            feed.on_train_batch_end(batch, {"loss": 1.0})
        feed.on_epoch_end(epochs, {"loss": 1.0})
        epochs += 1
    assert model.stop_training and spy.polls >= 10
    assert 1.0 < now[0] < 1.2 and epochs < 60                          # stopped within the throttle of the click


def test_a_stop_mid_epoch_from_the_batch_hook_ends_the_fit_cleanly():
    """Keras may run the batch hook on a worker thread (JAX, PyTorch). On JAX, touching ``Callback.model`` there
    synced the training state under the running step: the fit failed with "Buffer has been deleted or donated"."""
    import keras

    stop = StopSignal()

    class StopAtBatch7(Spy):
        def on_batch(self, epoch, batch, steps, logs, elapsed):
            if epoch == 1 and batch >= 6:
                stop.request()                                        # the Stop button, mid-epoch

    x = np.random.default_rng(0).normal(size=(400, 2)).astype("float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile("rmsprop", "mse")
    history = TrainHistory()
    feed = ReportingCallback(StopAtBatch7(), history, stop, steps=50, throttle=0.0)
    model.fit(x, x[:, :1], batch_size=8, epochs=50, verbose=0, callbacks=[feed])
    assert stop.requested and history.epoch == [0, 1]                  # stopped in the second epoch
    assert np.isfinite(model.predict(x[:4], verbose=0)).all()            # the weights are the model's again
