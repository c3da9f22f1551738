"""Every ``train()`` recorded: the Keras callback that writes a run folder at each epoch end.

``record_run`` opens the run (a new ``MODEL-N`` folder, or the one the history already records
into) and returns a ``RunRecorder``, one more callback of the fit. At each epoch end it rewrites
``history.json`` and ``run.json`` (a few KB) and the resumable state (``state.write_state``); the
state is skipped while writing it would take more than a tenth of the time since the last one (a
500 MB VGG16 model trained on cached features in a fraction of a second per epoch, a tiny table
model whose epochs are shorter than a write), so a kill loses at most a few such epochs, and it is
always written when the fit ends. ``best.weights.h5`` follows the best written epoch. Recording never fails a fit: a folder
that cannot be written is one warning line (``RunRecordWarning``), and training goes on.

Example::

    recorder = record_run(history, model, runner=model, data=cats, val=None, info=tinfo)
    model.fit(..., callbacks=[..., recorder]); recorder.close("finished")
"""
from __future__ import annotations

import math
import os
import shutil
import time
from typing import Any

import keras

from ..errors import warn_line
from ..i18n import _
from ..files import atomic_write, runs_dir
from .fingerprint import data_fingerprint, model_signature
from .state import load_optimizer, write_state
from .store import BEST_FILE, FORMAT, HISTORY_FILE, MODEL_FILE, RECIPE_FILE, RUN_FILE, STATE_FOLDER, STATE_WEIGHTS, \
    best_values, new_run_folder, now, owner, read_json, write_json, write_text

WRITE_SHARE = 0.1    # the state is written when it takes at most this share of the training time


class RunRecordWarning(UserWarning):
    """A run folder could not be written (training goes on without it)."""


class RunRecorder(keras.callbacks.Callback):
    """Writes one run folder while a model trains (see the module); ``close(status)`` ends the fit.

    ``target``: the user's model (its weights are the run's); ``runner``: the model Keras trains
    when it is a clone (its weights are copied into ``target`` before a write). ``optimizer_state``:
    variables to put into the training optimizer when the fit begins (``--resume``).
    """

    async_safe = False

    def __init__(self, folder: str, history: Any, target: Any, meta: dict, *, runner: Any = None,
                 optimizer_state: dict | None = None, keep_lr: bool = False, clock=time.perf_counter):
        super().__init__()
        self.folder, self.history, self.target, self.meta = folder, history, target, meta
        self.runner = runner if runner is not target else None
        self.optimizer_state, self.keep_lr, self.clock = optimizer_state, keep_lr, clock
        self.disabled = False
        self.written_epochs = -1       # epochs in the last state written
        self._write_seconds = 0.0
        self._written_at = None        # the clock when the last state was written
        self._closed = False

    @property
    def name(self) -> str:
        return os.path.basename(self.folder)

    # -- Keras ---------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if self.optimizer_state is not None:
            state, self.optimizer_state = self.optimizer_state, None
            self._safely(self._load_optimizer, state)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == (self.params or {}).get("epochs"):
            return   # the fit's last epoch: close() writes it when fit returns, once
        self._safely(self._write_summary, "running")
        since = self.clock() - self._written_at if self._written_at is not None else math.inf
        if since * WRITE_SHARE >= self._write_seconds:
            self._safely(self._write_state)

    # -- the end of a fit (train() calls it whatever happened) ---------------------------------
    def close(self, status: str) -> None:
        """Write the final state and the status; never raises."""
        if self._closed:
            return
        self._closed = True
        if self.history.epochs_done == 0:
            self._safely(self._discard)
            return
        self._safely(self._write_state)   # what the model holds now (best weights put back, a clone copied)
        self._safely(self._write_summary, status)

    # -- writing -----------------------------------------------------------------------------------
    def _safely(self, write, *args) -> None:
        if self.disabled:
            return
        try:
            write(*args)
        except Exception as exc:  # noqa: BLE001 - recording must never fail a fit
            self.disabled = True
            reason = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).lower()
            warn_line(_("Could not record run '{run}' in {folder} ({reason}); training goes on without recording "
                        "it: set %config NNMagics.runs_dir to a folder you can write.").format(
                          run=self.name, folder=os.path.dirname(self.folder), reason=reason),
                      RunRecordWarning)

    def _load_optimizer(self, state: dict) -> None:
        why = load_optimizer(self.model or self.target, state, keep_lr=self.keep_lr)
        if why:
            warn_line(_("Run '{run}' resumes with a fresh optimizer: {why}.").format(run=self.name, why=why),
                      RunRecordWarning)

    def _write_state(self) -> None:
        start = self.clock()
        if self.runner is not None:
            self.target.set_weights(self.runner.get_weights())
        trained = self.model if self.model is not None else self.runner or self.target
        write_state(self.folder, self.target, getattr(trained, "optimizer", None), self.history)
        self.written_epochs = self.history.epochs_done
        self._written_at = self.clock()
        self._write_seconds = self._written_at - start
        best = best_values(self.history.history, self.meta.get("monitor", "val_loss"))
        if best.get("epoch") == self.history.epochs_done:   # this state is the best so far: keep its weights
            weights = os.path.join(self.folder, STATE_FOLDER, STATE_WEIGHTS)
            atomic_write(os.path.join(self.folder, BEST_FILE), lambda tmp: shutil.copyfile(weights, tmp),
                         suffix=".weights.h5")
            self.meta["best_saved_epoch"] = best["epoch"]

    def _write_summary(self, status: str) -> None:
        write_json(os.path.join(self.folder, HISTORY_FILE), self.history.to_dict())
        write_json(os.path.join(self.folder, RUN_FILE), summary(self.meta, self.history, status))

    def _discard(self) -> None:
        """A new run that never finished an epoch (a failure at the first batch) leaves no folder."""
        if self.meta.get("fresh"):
            shutil.rmtree(self.folder, ignore_errors=True)
            self.history.run_folder = None


def summary(meta: dict, history: Any, status: str) -> dict:
    """``run.json``: ``meta`` (what the run is) and what its history says now. Language-independent: the
    verdict is its kind and epochs (its sentence is judged again where it is shown, in the reader's language).

    Example::

        summary({"name": "cnn-1"}, cnn_history, "finished")["best"]     # {'epoch': 5, 'val_loss': 0.52, …}
    """
    from ..training.verdict import verdict

    found = verdict(history.history)
    seconds = [s for s in history.seconds if math.isfinite(s)]
    fits = [{"first_epoch": f.get("first_epoch"), "last_epoch": f.get("last_epoch"), "status": f.get("status"),
             "data": (f.get("params") or {}).get("data")} for f in history.fits]
    out = {k: v for k, v in meta.items() if k != "fresh"}
    out.update(status=status, updated=now(), updated_ts=time.time(), owner=owner(), epochs=history.epochs_done,
               fits=fits, seconds=sum(seconds), longest_epoch_s=max(seconds, default=0.0),
               best=best_values(history.history, meta.get("monitor", "val_loss")), last=history.last(),
               verdict={"kind": found.kind, "best_epoch": found.best_epoch, "from_epoch": found.from_epoch})
    return out


def record_run(history: Any, model: Any, *, runner: Any, data: Any, val: Any, info: Any, val_name: str | None = None,
               resumed: Any = None) -> RunRecorder | None:
    """Open the run ``history`` records into (a new ``MODEL-N`` folder the first time) and return its
    recorder; None when recording is off (``%config NNMagics.record_runs = False``) or the folder cannot
    be made (one warning line). ``resumed``: what ``--resume`` restored (``resume.Resumed``).

    Example::

        recorder = record_run(history, model, runner=runner, data=cats, val=cats_val, info=tinfo)
    """
    from ..config import settings

    if history.fits:   # the epoch this fit was planned from: a resumed fit keeps the one it continues
        history.fits[-1]["params"]["plan_start"] = resumed.plan_start if resumed is not None else info.initial_epoch
    if not settings().record_runs:
        return None
    val = val if val is not None else getattr(data, "validation", None)
    folder = history.run_folder if history.run_folder and os.path.isdir(history.run_folder) else None
    fresh = folder is None
    try:
        folder = folder or new_run_folder(info.model_name)
        meta = dict(read_json(os.path.join(folder, RUN_FILE)) or {}) if not fresh else {}
        first_model = meta.get("model")   # a run loaded under another name keeps the model name it began with
        meta.update(_describe(model, data, val, info, os.path.basename(folder), val_name))
        meta["model"] = first_model or meta["model"]
        meta.setdefault("created", now())
        meta["fresh"] = fresh and history.epochs_done == 0
        _write_model(folder, model, history)
    except Exception as exc:  # noqa: BLE001 - recording must never fail a fit
        reason = (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).lower()
        warn_line(_("Could not record this run in {folder} ({reason}); training goes on without recording it: "
                    "set %config NNMagics.runs_dir to a folder you can write.").format(folder=runs_dir(), reason=reason),
                  RunRecordWarning)
        return None
    history.run_folder = folder
    hint = drive_hint(folder)
    if hint:
        info.hints.append(hint)
    if history.fits:
        history.fits[-1]["params"]["data"] = info.data_name
        history.fits[-1]["params"]["run"] = os.path.basename(folder)
    return RunRecorder(folder, history, model, meta, runner=runner,
                       optimizer_state=resumed.optimizer_state if resumed is not None else None,
                       keep_lr=bool(resumed is not None and resumed.keep_lr))


_HINTED: list[bool] = []


def drive_hint(folder: str, colab: bool | None = None) -> str | None:
    """On Colab, once per session: a run folder outside Drive goes with the runtime; how to keep it.

    Example::

        >>> drive_hint("/content/nnmagics-runs/cnn-1", colab=True)[:40]
        "Run 'cnn-1' is recorded in /content/nnm"
    """
    from ..runtime.device import in_colab

    if (in_colab() if colab is None else colab) is False or folder.startswith("/content/drive") or _HINTED:
        return None
    _HINTED.append(True)
    return _("Run '{run}' is recorded in {folder}, which Colab deletes with the runtime; keep your runs on Drive: "
             "from google.colab import drive; drive.mount('/content/drive'), then "
             "%config NNMagics.runs_dir = '/content/drive/MyDrive/nnmagics-runs'.").format(
        run=os.path.basename(folder), folder=os.path.dirname(folder))


def _describe(model, data, val, info, name: str, val_name: str | None) -> dict:
    """What the run is: names, fingerprints, signature, compile (JSON values)."""
    compile_config = None
    try:
        compile_config = keras.saving.serialize_keras_object(model.get_compile_config())
    except Exception:  # noqa: BLE001 - an odd compile: the run still records, it reloads uncompiled
        pass
    return {"format": FORMAT, "name": name, "model": info.model_name, "data": info.data_name,
            "val": (val_name or getattr(val, "name", None) or "validation data") if val is not None else None,
            "data_fingerprint": data_fingerprint(data),
            "val_fingerprint": data_fingerprint(val) if val is not None else None,
            "model_signature": model_signature(model), "monitor": info.monitor, "compile": compile_config,
            "keras": keras.__version__, "backend": keras.backend.backend()}


def _write_model(folder: str, model, history) -> None:
    """``model.json`` (the architecture, when Keras can serialise it) and ``recipe.py`` (each fit's code)."""
    try:
        text = model.to_json()
    except Exception:  # noqa: BLE001 - a subclassed model: no architecture to rebuild, the rest is recorded
        text = None
    if text is not None:
        write_text(os.path.join(folder, MODEL_FILE), text)
    recipe = history.fits[-1].get("recipe") if history.fits else None
    if recipe is None:
        return
    from ..training.code import train_code

    fit = history.fits[-1]
    header = "# " + _("fit {n}: epochs {first}-{last}").format(
        n=len(history.fits), first=fit['first_epoch'] + 1, last=fit['first_epoch'] + fit['params'].get('epochs', 0))
    path = os.path.join(folder, RECIPE_FILE)
    before = open(path, encoding="utf8").read() if os.path.exists(path) else ""
    code = before + ("\n\n" if before else "") + header + "\n" + train_code(recipe).strip() + "\n"
    write_text(path, code)
