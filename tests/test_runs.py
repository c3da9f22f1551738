"""Runs that are never lost: every fit recorded, listed, loaded back, resumed after a killed kernel."""
from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest

TABLE = """
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2))
pd.DataFrame({"X1": X[:, 0], "X2": X[:, 1], "Y": np.where(X.sum(1) > 0, "up", "down")}).to_csv("t.csv", index=False)
"""


@pytest.fixture
def table(tmp_path, monkeypatch):
    """A 200-row, two-class table (loaded with nnmagics), the working folder a scratch one."""
    monkeypatch.chdir(tmp_path)
    exec(TABLE, {})
    from nnmagics.data import load_data

    return load_data("t.csv")


def _model():
    from nnmagics.model.build import build_model

    return build_model(layers="input 2, dense 8 relu, dense 1 sigmoid")


def test_a_run_folder_keeps_recipe_history_verdict_weights_and_fingerprint(table):
    from nnmagics.files import runs_dir
    from nnmagics.runs import find_run, runs_table
    from nnmagics.training import train

    model = _model()
    train(model, table, val_split=0.2, epochs=3, seed=0, reporter=False, model_name="m", data_name="t")
    train(model, table, val_split=0.2, epochs=2, seed=0, reporter=False, model_name="m", data_name="t")
    run = find_run("m")
    assert run.name == "m-1" and os.path.dirname(run.folder) == runs_dir()   # one run across both fits
    files = set(os.listdir(run.folder))
    assert {"run.json", "history.json", "recipe.py", "model.json", "best.weights.h5", "last"} <= files
    meta = run.meta
    assert meta["epochs"] == 5 and meta["status"] == "finished" and meta["data"] == "t"
    assert meta["data_fingerprint"]["samples"] == 200 and meta["data_fingerprint"]["classes"] == ["down", "up"]
    assert meta["verdict"]["kind"] in ("converging", "under-fitting", "too early", "over-fitting")
    assert meta["best"]["epoch"] == 1 + int(np.argmin(run.history()["val_loss"]))
    assert run.history()["loss"] == pytest.approx(list(model_history_of(model).history["loss"]))
    recipe = open(run.path("recipe.py")).read()
    assert recipe.count(".fit(") == 2 and "# fit 2: epochs 4-5" in recipe
    table_ = runs_table(sort="val_loss")
    assert list(table_.index) == ["m-1"] and table_.loc["m-1", "epochs"] == 5


def model_history_of(model):
    from nnmagics.training.history import history_of

    return history_of(model)


def test_resume_in_this_kernel_trains_only_what_the_cut_fit_missed(table, capsys):
    """Stopped after 2 of 5 epochs, ``--resume --epochs 5`` trains 3; once done, running it again trains none."""
    from nnmagics.training import train

    class StopAfterTwo:
        def on_train_begin(self, info): self.info = info
        def on_batch(self, *args): pass
        def on_epoch(self, epoch, logs, history, verdict):
            if epoch == 1:
                self.info.stop.request()
        def on_train_end(self, status): pass

    model = _model()
    history = train(model, table, epochs=5, seed=0, reporter=StopAfterTwo(), model_name="m")
    assert history.epochs_done == 2 and history.status == "stopped"
    train(model, table, epochs=5, seed=0, reporter=False, model_name="m", resume=True)
    assert history.epoch == [0, 1, 2, 3, 4] and history.status == "finished"
    iterations = int(model.optimizer.iterations.numpy())
    train(model, table, epochs=5, seed=0, reporter=None, model_name="m", resume=True)
    assert history.epochs_done == 5 and int(model.optimizer.iterations.numpy()) == iterations
    assert "already has its 5 epochs" in capsys.readouterr().out


def test_a_new_network_or_other_data_cannot_resume_the_run(table):
    from nnmagics.data import load_data
    from nnmagics.errors import NNUsageError
    from nnmagics.model.build import build_model
    from nnmagics.training import train

    train(_model(), table, epochs=1, reporter=False, model_name="m")
    wider = build_model(layers="input 2, dense 9 relu, dense 1 sigmoid")
    with pytest.raises(NNUsageError, match=r"^Run 'm-1' was made by another network than 'm' \(it had 33 parameters, "
                                           r"this one 37\); build the same network again"):
        train(wider, table, epochs=1, reporter=False, model_name="m", resume=True)
    assert wider.optimizer is None or not wider.optimizer.built    # nothing trained, nothing loaded
    import pandas as pd

    pd.read_csv("t.csv").iloc[:150].to_csv("fewer.csv", index=False)
    with pytest.raises(NNUsageError, match=r"trained on other data than 'fewer' \(it was 200 rows .* now 150 rows"):
        train(_model(), load_data("fewer.csv"), epochs=1, reporter=False, model_name="m", data_name="fewer", resume=True)


def test_the_state_is_written_every_epoch_unless_writing_costs_more_than_a_tenth(table):
    """A write that takes long compared with the epochs is spaced out; the end of a fit always writes."""
    from nnmagics.runs.recorder import RunRecorder
    from nnmagics.runs.store import new_run_folder, read_json
    from nnmagics.training.history import TrainHistory

    model = _model()
    model.compile("rmsprop", "binary_crossentropy")
    ticks = iter(range(0, 10_000, 1))            # each clock read moves one "second"
    history = TrainHistory(model)
    history.start_fit({"epochs": 6})
    recorder = RunRecorder(new_run_folder("m"), history, model, {"monitor": "loss"}, clock=lambda: float(next(ticks)))
    written = []
    for epoch in range(6):
        history.record(epoch, {"loss": 1.0 / (epoch + 1)}, seconds=0.1)
        recorder.on_epoch_end(epoch)
        written.append(recorder.written_epochs)
    assert written[0] == 1 and written[-1] < 6        # the first epoch, then no more than one write in ten ticks
    history.end_fit("finished")
    recorder.close("finished")
    assert recorder.written_epochs == 6
    assert read_json(os.path.join(recorder.folder, "last", "state.json"))["epochs"] == 6


def test_nn_runs_sorts_and_loads_in_the_shell(ip, table):
    from nnmagics.training import train

    for name, lr in (("a", 1e-4), ("b", 0.05)):
        ip.user_ns[name] = model = _model()
        train(model, table, val_split=0.2, epochs=2, seed=0, lr=lr, reporter=False, model_name=name)
    frame = ip.run_line_magic("nn_runs", "--sort val_loss")
    assert list(frame.index) == sorted(frame.index, key=lambda n: frame.loc[n, "val_loss"])
    assert list(ip.run_line_magic("nn_runs", "--sort=-val_loss").index) == list(frame.index)[::-1]
    ip.run_line_magic("nn_runs", "load b --as b2")
    back, kept = ip.user_ns["b2"], ip.user_ns["b"]
    assert all(np.array_equal(x, y) for x, y in zip(back.get_weights(), kept.get_weights()))
    assert ip.user_ns["b2_history"].history["loss"] == pytest.approx(ip.user_ns["b"].history.history["loss"])
    assert int(back.optimizer.iterations.numpy()) == int(kept.optimizer.iterations.numpy())


# -- a real kernel, killed -----------------------------------------------------------------------
SLOW = """
import time, keras, numpy as np
class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.4)
slow = Slow()
"""
TRAIN = "%nn_train m d --val-split 0.2 --epochs 12 --seed 0 --no-live --callbacks slow,check"


def _wait_for_state(path: str, epochs: int, timeout: float = 180) -> None:
    """Until the run's resumable state (``last/state.json``) holds ``epochs`` epochs."""
    start = time.time()
    while time.time() - start < timeout:
        try:
            if json.load(open(path)).get("epochs", 0) >= epochs:
                return
        except (OSError, ValueError):   # not written yet, or being replaced
            pass
        time.sleep(0.05)
    raise AssertionError(f"the run's state did not reach {epochs} epochs in {timeout} s")


@pytest.mark.slow
@pytest.mark.notebook
def test_a_killed_kernel_resumes_with_the_same_epochs_and_a_continuous_history(tmp_path):
    from kernel_harness import KernelHarness

    runs = tmp_path / "runs"
    env = {"NNMAGICS_RUNS_DIR": str(runs), "NNMAGICS_CACHE_DIR": str(tmp_path / "cache")}
    setup = ["%load_ext nnmagics", TABLE, "%nn_data d t.csv", "%nn_build m --layers 'dense 8 relu' --from d --quiet",
             SLOW, "check = keras.callbacks.Callback()"]
    first = KernelHarness(cwd=str(tmp_path), env=env)
    try:
        for cell in setup:
            assert first.run(cell).status == "ok", cell
        first.start(TRAIN)
        _wait_for_state(str(runs / "m-1" / "last" / "state.json"), 2)
    finally:
        first.kill()     # SIGKILL mid-training: no cleanup, no last write
    state = json.load(open(runs / "m-1" / "last" / "state.json"))["epochs"]
    assert 2 <= state < 12

    second = KernelHarness(cwd=str(tmp_path), env=env)
    try:
        for cell in setup[:-1]:
            assert second.run(cell).status == "ok", cell
        listed = second.run("%nn_runs")
        assert listed.status == "ok" and "m-1" in listed.text and "cut short" in listed.text, listed.text
        assert second.run(f"""
from nnmagics.model.weights_io import load_weights
saved = keras.models.clone_model(m); load_weights(saved, {str(runs / 'm-1' / 'last' / 'model.weights.h5')!r})
class Check(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self, "first"):
            self.first, self.iterations = epoch, int(self.model.optimizer.iterations.numpy())
            self.same = all(np.array_equal(a, b) for a, b in zip(self.model.get_weights(), saved.get_weights()))
check = Check()
""").status == "ok"
        resumed = second.run(TRAIN + " --resume")
        assert resumed.status == "ok", resumed.text
        assert f"Resumed run 'm-1' after epoch {state} (weights, optimizer and history restored)" in resumed.text
        checked = second.run("print(check.first, check.same, check.iterations, int(m.optimizer.iterations.numpy()),"
                             " m_history.epoch, [f['status'] for f in m_history.fits],"
                             " all(map(np.isfinite, m_history.history['val_loss'])))")
        steps = math.ceil(160 / 32)
        assert checked.text == (f"{state} True {state * steps} {12 * steps} {list(range(12))} ['cut short', 'finished'] "
                                "True"), checked.text
        relisted = second.run("r = %nn_runs\nprint(r.loc['m-1', 'epochs'], r.loc['m-1', 'status'])")
        assert relisted.text == "12 finished", relisted.text
        loaded = second.run("%nn_runs load m --as back\nprint(back_history.epoch == m_history.epoch)")
        assert loaded.status == "ok" and loaded.lines[-1] == "True", loaded.text
    finally:
        second.shutdown()


def test_on_colab_a_run_outside_drive_says_once_how_to_keep_it(monkeypatch):
    from nnmagics.runs import recorder

    monkeypatch.setattr(recorder, "_HINTED", [])
    hint = recorder.drive_hint("/content/nnmagics-runs/cnn-1", colab=True)
    assert "Colab deletes with the runtime" in hint and "%config NNMagics.runs_dir = '/content/drive/" in hint
    assert recorder.drive_hint("/content/nnmagics-runs/cnn-2", colab=True) is None          # once a session
    monkeypatch.setattr(recorder, "_HINTED", [])
    assert recorder.drive_hint("/content/drive/MyDrive/runs/cnn-1", colab=True) is None
    assert recorder.drive_hint("/home/me/nnmagics-runs/cnn-1", colab=False) is None


def test_a_runs_folder_that_cannot_be_written_is_one_warning_line_and_training_goes_on(table, monkeypatch):
    import warnings

    from nnmagics.runs.recorder import RunRecordWarning
    from nnmagics.training import train

    open("notes.txt", "w").write("a file where the runs folder should be")
    monkeypatch.setenv("NNMAGICS_RUNS_DIR", os.path.abspath("notes.txt/runs"))
    model = _model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = train(model, table, epochs=2, reporter=False, model_name="m")
    assert history.epochs_done == 2 and history.status == "finished" and history.run_folder is None
    recorded = [w for w in caught if issubclass(w.category, RunRecordWarning)]
    assert len(recorded) == 1
    shown = warnings.formatwarning(recorded[0].message, recorded[0].category, recorded[0].filename,
                                   recorded[0].lineno).strip()
    assert "\n" not in shown and shown.startswith("nnmagics:0: RunRecordWarning: Could not record this run in ")
    assert shown.endswith("training goes on without recording it: set %config NNMagics.runs_dir to a folder you can write.")
