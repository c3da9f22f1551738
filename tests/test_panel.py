"""The live panel: state, throttled redraws (fake clock), Stop button, and Stop/interrupt in a real kernel."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from nnmagics.training.history import TrainHistory
from nnmagics.training.reporting import StopSignal, TrainInfo
from nnmagics.training import train
from nnmagics.training.verdict import verdict


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def make_info(history, epochs=10, steps=5):
    return TrainInfo(model_name="m", data_name="d", epochs=epochs, initial_epoch=len(history.epoch), steps=steps,
                     batch_size=4, samples=20, val_samples=8, device="CPU (2 cores)", history=history,
                     loss="binary_crossentropy", optimizer="rmsprop (lr 0.001)", monitor="val_loss", stop=StopSignal())


def make_panel(clock, **kw):
    from nnmagics.display.panel import TrainingPanel

    return TrainingPanel(display=False, clock=clock, poll_kernel=False, **kw)


def feed(panel, history, curve, clock, steps=5, batch_seconds=0.05):
    """Drive the panel like the training callback does: throttled batches, then the epoch."""
    for loss, val_loss in curve:
        epoch = len(history.epoch)
        start = clock()
        for batch in range(steps):
            clock.advance(batch_seconds)
            panel.on_batch(epoch, batch, steps, {"loss": loss, "accuracy": 0.5}, clock() - start)
        logs = {"loss": loss, "accuracy": 1 - loss / 2, "val_loss": val_loss, "val_accuracy": 1 - val_loss / 2}
        history.record(epoch, logs, clock() - start)
        panel.on_epoch(epoch, dict(logs, seconds=clock() - start), history, verdict(history.history))


OVERFIT = [(0.9, 0.8), (0.6, 0.6), (0.45, 0.55), (0.35, 0.6), (0.25, 0.66), (0.15, 0.75)]


def test_panel_state_table_progress_and_overfitting_warning():
    clock = FakeClock()
    history = TrainHistory()
    panel = make_panel(clock, redraw_seconds=1.0)
    panel.on_train_begin(make_info(history, epochs=6))
    assert "CPU (2 cores)" in panel.badge.value
    feed(panel, history, OVERFIT[:3], clock)
    assert panel.table.value.count("<tr>") == 1 + 3               # header + one row per epoch
    assert panel.epoch_bar.value == 3 and panel.epoch_bar.max == 6
    assert panel.batch_bar.max == 5 and panel.batch_bar.value == 5
    assert "samples/s" in panel.batch_text.value and "ETA" in panel.batch_text.value
    assert panel.warning.value == ""                              # not yet: rose for one epoch only
    feed(panel, history, OVERFIT[3:], clock)
    assert panel.table.value.count("<tr>") == 1 + 6
    assert "Over-fitting from epoch 4" in panel.warning.value
    assert panel.verdict.kind == "over-fitting"
    panel.on_train_end("finished")
    assert "finished" in panel.status_line.value and "best val_loss 0.5500 at epoch 3" in panel.status_line.value
    assert panel.stop_button.disabled
    assert "<svg" in panel.curves.value and panel.curves.value.count("<polyline") == 4


def test_curve_redraws_are_throttled_and_final():
    clock = FakeClock()
    history = TrainHistory()
    panel = make_panel(clock, redraw_seconds=1.0)
    panel.on_train_begin(make_info(history, epochs=40, steps=20))
    start_redraws = panel.redraws
    curve = [(1 / (i + 1), 1 / (i + 1)) for i in range(40)]          # 40 epochs of 20 × 0.01 s = 0.2 s each
    feed(panel, history, curve, clock, steps=20, batch_seconds=0.01)
    during = panel.redraws - start_redraws
    assert 6 <= during <= 9                                          # 8 s of training, ≤ one redraw a second
    panel.on_train_end("finished")
    assert panel.redraws == start_redraws + during + 1               # and once at the end
    assert panel.curves.value.count("<circle") == 4 * 40             # the final picture has every epoch


def test_no_redraw_without_new_epochs():
    clock = FakeClock()
    history = TrainHistory()
    panel = make_panel(clock, redraw_seconds=1.0)
    panel.on_train_begin(make_info(history, steps=1000))
    before = panel.redraws
    for batch in range(200):
        clock.advance(0.1)
        panel.on_batch(0, batch, 1000, {"loss": 0.5}, 0.1 * (batch + 1))
    assert panel.redraws == before                                   # batches alone never redraw the curves


def test_stop_button_click_ends_training_after_the_current_batch():
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.data.tables import load_table

    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    data = load_table(pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "r", "l")}))
    model = build_model("dense 4 relu", data=data)
    panel = make_panel(time.monotonic)
    seen = []

    class Clicker(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            epoch = len(model_history().epoch)
            seen.append((epoch, batch))
            if epoch == 1 and batch == 1:
                panel.stop_button.click()                            # what a click in the browser does

    def model_history():
        from nnmagics.training.history import history_of

        return history_of(model)

    history = train(model, data, epochs=50, batch_size=10, callbacks=[Clicker()], reporter=panel, seed=0)
    assert history.status == "stopped"
    assert seen[-1] == (1, 2)                                        # stopped at the next batch end
    assert len(history.epoch) == 2                                   # Keras closes the stopped epoch
    assert "stopped" in panel.status_line.value and "stop button" in panel.status_line.value
    assert panel.stop_button.disabled and panel.stop_button.description == "Stopped"


def test_panel_display_bundle_gets_a_png_at_the_end():
    clock = FakeClock()
    history = TrainHistory()
    panel = make_panel(clock)
    panel.on_train_begin(make_info(history, epochs=2))
    feed(panel, history, OVERFIT[:2], clock)
    panel.on_train_end("finished")
    live = panel._bundle()
    final = panel._bundle(final=True)
    assert "application/vnd.jupyter.widget-view+json" in live and "image/png" not in live
    assert "image/png" in final and len(final["image/png"]) > 1000
    assert "Epoch 2 · loss 0.6000" in final["text/plain"]


def test_kernel_poller_is_inactive_outside_a_kernel():
    from nnmagics.display.kernel_events import KernelEventPoller

    poller = KernelEventPoller()
    assert not poller.active and poller.poll() == 0
    poller.close()


# -- a real kernel: a click sent while the cell is busy, a queued cell, an interrupt ------------
SETUP = """
%load_ext nnmagics
import numpy as np, pandas as pd
from nnmagics.data.tables import load_table
from nnmagics.model.build import build_model
rng = np.random.default_rng(0)
x = rng.normal(size=(400, 2)).astype("float32")
data = load_table(pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "r", "l")}))
model = build_model("dense 8 relu", data=data)
"""


def _button_comm(kc, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "comm_open" and msg["content"]["data"].get("state", {}).get("_model_name") == "ButtonModel":
            return msg["content"]["comm_id"]
    raise AssertionError("the panel's Stop button never reached the front end")


def _panel_shown(kc, timeout=120):
    """Wait until the panel is displayed (training has begun: the panel shows itself then)."""
    end = time.time() + timeout
    while time.time() < end:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["msg_type"] == "display_data" and "application/vnd.jupyter.widget-view+json" in msg["content"]["data"]:
            return
    raise AssertionError("the panel was never displayed")


def _replies(kc, n, timeout=120):
    got = []
    while len(got) < n:
        msg = kc.get_shell_msg(timeout=timeout)
        got.append((msg["parent_header"].get("msg_id"), msg["content"]["status"]))
    return got


def _value(kc, expr):
    out = []
    kc.execute_interactive(f"print(repr({expr}))", timeout=60,
                           output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
    return "".join(out).strip()


def _supports_subshells(kc) -> bool:
    kc.kernel_info()
    reply = kc.get_shell_msg(timeout=30)
    return "kernel subshells" in reply["content"].get("supported_features", [])


@pytest.mark.notebook
def test_stop_click_and_interrupt_in_a_real_kernel(tmp_path):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", cwd=str(tmp_path),
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg"))
    try:
        assert kc.execute_interactive(SETUP, timeout=180)["content"]["status"] == "ok"
        # 1. a click while the kernel is busy training; a cell queued meanwhile runs afterwards
        train_id = kc.execute("h = %nn_train model data --epochs 3000 --batch-size 8")
        comm_id = _button_comm(kc)
        time.sleep(2)
        queued_id = kc.execute("after = len(model_history.epoch)")
        clicked = time.time()
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id,
                                                          "data": {"method": "custom", "content": {"event": "click"}}}))
        assert _replies(kc, 2) == [(train_id, "ok"), (queued_id, "ok")]
        assert time.time() - clicked < 30
        assert _value(kc, "model_history.status") == "'stopped'"
        epochs = int(_value(kc, "len(model_history.epoch)"))
        assert 0 < epochs < 3000 and _value(kc, "after") == str(epochs)
        assert _value(kc, "h is model_history") == "True"

        # 2. JupyterLab ≥ 4.4 tags comm messages with a subshell id (ipykernel ≥ 7; Colab's 6.17 has none)
        if _supports_subshells(kc):
            kc.control_channel.send(kc.session.msg("create_subshell_request", {}))
            subshell = kc.get_control_msg(timeout=30)["content"].get("subshell_id")
            assert subshell
            train_id = kc.execute("%nn_train model data --epochs 3000 --batch-size 8")
            comm_id = _button_comm(kc)
            time.sleep(2)
            click = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "custom", "content": {"event": "click"}}})
            click["header"]["subshell_id"] = subshell
            kc.shell_channel.send(click)
            assert _replies(kc, 1) == [(train_id, "ok")]
            assert _value(kc, "model_history.fits[-1]['status']") == "'stopped'"

        # 3. interrupting the kernel behaves like Stop: no error, weights and finished epochs kept
        before = int(_value(kc, "len(model_history.epoch)"))
        train_id = kc.execute("%nn_train model data --epochs 3000 --batch-size 8")
        _button_comm(kc)
        time.sleep(3)
        km.interrupt_kernel()
        assert _replies(kc, 1) == [(train_id, "ok")]                 # no traceback: the cell ends normally
        assert _value(kc, "model_history.fits[-1]['status']") == "'interrupted'"
        assert int(_value(kc, "len(model_history.epoch)")) > before
        assert _value(kc, "1 + 1") == "2"                           # the kernel is still usable

        # 4. nnmagics.LivePanel in a plain model.fit: the same Stop button; an interrupt closes the panel
        plain = ("import nnmagics\npanel = nnmagics.LivePanel()\n"
                 "model.fit(data.X, data.labels, epochs=3000, batch_size=8, verbose=0, callbacks=[panel])")
        train_id = kc.execute(plain)
        comm_id = _button_comm(kc)                                   # made with the panel, before fit starts
        _panel_shown(kc)
        queued_id = kc.execute("after = len(panel.history.epoch)")
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id,
                                                          "data": {"method": "custom", "content": {"event": "click"}}}))
        assert _replies(kc, 2) == [(train_id, "ok"), (queued_id, "ok")]
        assert _value(kc, "panel.status") == "'stopped'"
        assert 0 < int(_value(kc, "after")) < 3000
        train_id = kc.execute(plain, stop_on_error=False)            # the next cell is not aborted after it
        _panel_shown(kc)
        time.sleep(1)
        km.interrupt_kernel()
        assert _replies(kc, 1) == [(train_id, "error")]              # Keras lets KeyboardInterrupt through …
        assert _value(kc, "panel.status") == "'interrupted'"        # … and the panel still ends, after the cell
        assert _value(kc, "1 + 1") == "2"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
