"""``--resume`` and ``%nn_runs load``: a recorded run put back into a model, in this kernel or a new one.

``resume_fit`` is what ``train(..., resume=True)`` asks before it plans the fit. The model continues
its run: the one its history records into, else the latest run of a model of that name. From a run
folder it gets the weights, the history (curves and epoch count continue) and the optimizer's state
(loaded when the fit begins, into the optimizer that trains). ``--epochs N --resume`` ends the run
at the epoch the cut fit was heading for (its first epoch + N), so running the same cell again after
a restart trains only the epochs missing, and nothing once they are done.

Example::

    resumed = resume_fit(cnn, cats, None, 30, model_name="cnn", data_name="cats")
    resumed.epochs, resumed.note       # (18, "Resumed run 'cnn-1' at epoch 12 …")
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import NNUsageError
from ..files import runs_dir
from ..i18n import _, ngettext
from .fingerprint import data_difference, data_fingerprint, model_difference, model_signature
from .state import load_optimizer, read_state
from .store import BEST_FILE, MODEL_FILE, Run, find_run, read_run

COMPLETE = ("finished", "early-stopped")


@dataclass
class Resumed:
    """What ``resume_fit`` decided: the epochs this fit runs (0: none), the note to show, the epoch the
    cut fit started from (``plan_start``), the optimizer variables to load, whether ``--lr`` wins."""

    epochs: int
    note: str
    plan_start: int = 0
    optimizer_state: dict | None = None
    keep_lr: bool = False
    undo: Any = None        # puts the model's weights and history back (a failure before training)


def resume_fit(model, data, val, epochs: int, *, model_name: str, data_name: str, lr_given: bool = False) -> Resumed:
    """Put the run ``model`` continues back into it (see the module) and say how many epochs are left.

    Raises one sentence when the run was made by another network or on other data.

    Example::

        resume_fit(cnn, cats, None, 30, model_name="cnn", data_name="cats").epochs     # 18
    """
    from ..config import settings
    from ..training.history import history_of

    if not settings().record_runs:
        raise NNUsageError(_("--resume continues a recorded run, but recording is off; turn it on with "
                             "%config NNMagics.record_runs = True (or train without --resume)."))
    history = history_of(model)
    if history is not None and history.epochs_done:   # this kernel's own run: nothing to read back
        run = read_run(history.run_folder) if history.run_folder else None
        if run is not None:
            _check_data(run, data, val, data_name)
        return _plan(history, epochs, run.name if run else model_name, restored=False, lr_given=lr_given)
    run = find_run(model_name)
    if run is None:
        return Resumed(epochs, _("No recorded run of '{model}' in {folder}: training starts at epoch 1.").format(
            model=model_name, folder=runs_dir()))
    why = model_difference(run.meta.get("model_signature"), model_signature(model))
    if why:
        raise NNUsageError(_("Run '{run}' was made by another network than '{model}' ({why}); build the same "
                             "network again to resume it, or train without --resume to start a new run.").format(
            run=run.name, model=model_name, why=why))
    _check_data(run, data, val, data_name)
    state = read_state(run.folder)
    if state is None:
        return Resumed(epochs, _("Run '{run}' has no finished epoch to resume from: training starts at epoch 1.")
                       .format(run=run.name))
    weights, kept = model.get_weights(), history

    def undo() -> None:
        from ..training.history import adopt, forget

        model.set_weights(weights)
        adopt(model, kept) if kept is not None else forget(model)

    restored = restore(run, model, state)
    plan = _plan(restored, epochs, run.name, restored=True, lr_given=lr_given)
    plan.undo = undo
    if plan.epochs == 0:
        load_optimizer(model, state.optimizer)
    else:
        plan.optimizer_state = state.optimizer
    return plan


def _check_data(run: Run, data, val, data_name: str) -> None:
    why = data_difference(run.meta.get("data_fingerprint"), data_fingerprint(data))
    if why:
        raise NNUsageError(_("Run '{run}' was trained on other data than '{data}' ({why}); load the same data to "
                             "resume it, or train without --resume to start a new run.").format(
            run=run.name, data=data_name, why=why))


def _plan(history, epochs: int, name: str, *, restored: bool, lr_given: bool) -> Resumed:
    """How many epochs are left: the last fit heads for its first epoch + ``epochs``; a fit that ended
    by itself (finished, early-stopped) only goes on for the epochs asked beyond its own."""
    done = history.epochs_done
    last = history.fits[-1] if history.fits else {"first_epoch": done, "params": {}, "status": "finished"}
    start = int(last.get("params", {}).get("plan_start", last.get("first_epoch", done)))
    asked = int(last.get("params", {}).get("epochs") or 0)
    ended = start + asked if last.get("status") in COMPLETE else done
    left = max(0, start + epochs - max(ended, done))
    if left == 0:
        values = dict(run=name, done=done, first=start + 1, last=start + epochs)
        note = (_("Run '{run}' already has its {done} epochs (this fit asked for epochs {first}–{last}): its "
                  "weights, optimizer and history are restored and there is nothing to train; give a larger "
                  "--epochs to train on.").format(**values) if restored else
                _("Run '{run}' already has its {done} epochs (this fit asked for epochs {first}–{last}): there is "
                  "nothing to train; give a larger --epochs to train on.").format(**values))
    else:
        values = dict(run=name, done=done, left=left, last=done + left)
        note = (ngettext("Resumed run '{run}' after epoch {done} (weights, optimizer and history restored): {left} "
                         "more to epoch {last}.",
                         "Resumed run '{run}' after epoch {done} (weights, optimizer and history restored): {left} "
                         "more to epoch {last}.", left).format(**values) if restored else
                ngettext("Resumed run '{run}' after epoch {done}: {left} more to epoch {last}.",
                         "Resumed run '{run}' after epoch {done}: {left} more to epoch {last}.", left).format(**values))
    return Resumed(left, note, start, None, lr_given)


def restore(run: Run, model, state=None):
    """Put the run's last state (weights, history) into ``model``; returns the history it now has.

    Example::

        restore(find_run("cnn-1"), cnn).epochs_done      # 12
    """
    from ..model.weights_io import load_weights
    from ..training.history import TrainHistory, adopt

    state = state or read_state(run.folder)
    if state is None:
        raise NNUsageError(_("Run '{run}' has no finished epoch yet, so there is nothing to load.").format(run=run.name))
    load_weights(model, state.weights)
    history = TrainHistory.from_dict(state.history, model)
    for fit in history.fits:
        if fit.get("status") == "running":   # the kernel went away during that fit
            fit["status"] = "cut short"
            fit["last_epoch"] = history.epochs_done - 1
    history.run_folder = run.folder
    return adopt(model, history)


def load_run(name: str, *, best: bool = False):
    """``(model, history, run)``: the model of run ``name`` rebuilt from its architecture, compiled as it
    trained, with its last weights and optimizer state (``best=True``: the best epoch's weights), and its
    history; training it again continues the run.

    Example::

        cnn, history, run = load_run("cnn")          # in a new kernel
        %nn_diagnose cnn cats_val
    """
    run = find_run(name)
    if run is None:
        raise NNUsageError(_("There is no recorded run named '{name}' in {folder}; %nn_runs lists them.").format(
            name=name, folder=runs_dir()))
    model = rebuild(run)
    state = read_state(run.folder)
    history = restore(run, model, state)
    if best:
        from ..model.weights_io import load_weights

        if not os.path.exists(run.path(BEST_FILE)):
            raise NNUsageError(_("Run '{run}' kept no best weights (no epoch improved); load its last ones with "
                                 "%nn_runs load {run}.").format(run=run.name))
        load_weights(model, run.path(BEST_FILE))
    elif getattr(model, "optimizer", None) is not None:
        load_optimizer(model, state.optimizer)
    return model, history, run


def rebuild(run: Run):
    """The run's model from its ``model.json``, compiled as it trained when that can be read back."""
    import keras

    from ..data import augment_fused  # noqa: F401 - registers nnmagics' layers with Keras
    from ..transfer import app_code, code  # noqa: F401 - the transfer models' preprocessing layers

    path = run.path(MODEL_FILE)
    if not os.path.exists(path):
        raise NNUsageError(_("Run '{run}' kept no architecture (a subclassed model); build the same model, then "
                             "continue it with %nn_train {model} DATA --resume.").format(run=run.name,
                                                                                         model=run.model_name))
    try:
        with open(path, encoding="utf8") as handle:
            model = keras.models.model_from_json(handle.read())
    except Exception as exc:  # noqa: BLE001 - Keras raises TypeError, ValueError… for configs it cannot read
        raise NNUsageError(_("Keras cannot rebuild run '{run}' from its architecture ({error}); build the same "
                             "model, then continue it with %nn_train {model} DATA --resume.").format(
            run=run.name, error=type(exc).__name__, model=run.model_name)) from None
    config = run.meta.get("compile")
    if config:
        try:
            model.compile_from_config(config)
        except Exception:  # noqa: BLE001 - the next %nn_train compiles it (loss from the output layer)
            pass
    return model


__all__ = ["Resumed", "resume_fit", "restore", "load_run", "rebuild"]
