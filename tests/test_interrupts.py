"""A kernel interrupt during ``train`` stops it after the current batch, even when Python would have lost it."""
from __future__ import annotations

import gc
import os
import signal

import numpy as np
import pytest

from nnmagics.training.reporting import StopSignal
from nnmagics.training.interrupts import INTERRUPT, stop_on_interrupt


@pytest.fixture(autouse=True)
def python_handles_sigint():
    """A kernel has Python's SIGINT handler; a shell's background job inherits SIGINT ignored, which
    ``stop_on_interrupt`` rightly leaves alone. Give each test the kernel's case whoever launched pytest."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_the_first_interrupt_asks_to_stop_the_second_raises_and_restore_puts_the_handler_back():
    before = signal.getsignal(signal.SIGINT)
    stop = StopSignal()
    restore = stop_on_interrupt(stop)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.reason == INTERRUPT
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        restore()
    assert signal.getsignal(signal.SIGINT) is before


def _table(n=200):
    import pandas as pd

    from nnmagics.data.tables import load_table

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype("float32")
    frame = pd.DataFrame({"X1": x[:, 0], "X2": x[:, 1], "Y": np.where(x[:, 0] > 0, "right", "left")})
    return load_table(frame, name="halves")


def test_an_interrupt_handled_inside_a_finalizer_still_stops_training(capsys):
    """Python raises KeyboardInterrupt where the main thread is; inside ``__del__`` it is printed and lost
    ("Exception ignored in …"), and training went on to its last epoch. The flag cannot be lost."""
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.display.text_log import TextLog
    from nnmagics.training import train

    class InterruptedWhileFinalizing:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)   # handled at the next bytecode: still inside __del__
            sum(range(1000))

    class Finalize(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2 and self.model.history_epochs == 1:
                InterruptedWhileFinalizing()
                gc.collect()

        def on_epoch_end(self, epoch, logs=None):
            self.model.history_epochs = epoch + 1

        def on_train_begin(self, logs=None):
            self.model.history_epochs = 0

    data = _table()
    model = build_model("dense 8 relu", data=data)
    history = train(model, data, epochs=50, batch_size=20, callbacks=[Finalize()], reporter=TextLog(final_png=False))
    out = capsys.readouterr().out
    assert history.status == "interrupted"
    assert len(history.epoch) == 2                      # epoch 1, then epoch 2 up to the interrupted batch
    assert history.fits[-1]["partial_epoch"][1] in (3, 4)  # within a batch of the one that was running
    assert "Stopped (kernel interrupt)" in out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_where_sigint_is_ignored_the_handler_is_left_as_whoever_launched_us_chose():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = StopSignal()
    restore = stop_on_interrupt(stop)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    restore()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN and not stop.requested
