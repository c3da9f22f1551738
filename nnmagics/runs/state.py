"""A run's resumable state (``RUN/last/``): the model's weights, the optimizer's, the history, the epoch.

Why not ``keras.callbacks.BackupAndRestore`` alone: it restores inside ``fit`` (in
``on_train_begin``), while nnmagics must know the history and the epoch count before ``fit`` (the
panel, ``initial_epoch``) and put the weights back before a features-mode base computes its cached
outputs or a mixed-precision clone copies them; it backs up whichever model Keras trains (a clone,
a head, a model behind an augmentation wrapper), which another kernel on another device does not
build the same way; it keeps no history, writes in place (a kill mid-write loses the backup) and
resumes the epoch through a private attribute (keras-team/keras#19179). What it does is kept, with
Keras' own pieces: the user's model's ``save_weights``/``load_weights``, and the training
optimizer's ``save_own_variables``/``load_own_variables`` (its slots, its step count, its
learning rate), loaded into the optimizer that trains after building it on the trainable
variables, as ``BackupAndRestore`` does. The four files are written as one folder
(``files.atomic_folder``): a kill leaves the previous state or the new one.

Example::

    write_state(run_folder, model, model.optimizer, history)
    state = read_state(run_folder)        # State(epochs=12, weights='…/last/model.weights.h5', …)
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..files import atomic_folder
from ..i18n import _
from .store import HISTORY_FILE, STATE_FILE, STATE_FOLDER, STATE_OPTIMIZER, STATE_WEIGHTS, read_json, state_folder, \
    write_json


@dataclass
class State:
    """What ``read_state`` found: the epochs done, the weights file, the optimizer's variables, the history."""

    epochs: int
    weights: str
    optimizer: dict[str, np.ndarray] | None
    history: dict


def optimizer_store(optimizer: Any) -> dict[str, np.ndarray]:
    """The optimizer's variables as Keras saves them (``save_own_variables``), a loss-scale
    optimizer's inner one under ``inner/``; empty for an optimizer not built yet.

    Example::

        optimizer_store(model.optimizer)      # {'0': array(12), '1': array(0.001), '2': …}
    """
    store: dict[str, np.ndarray] = {}
    if optimizer is None or not getattr(optimizer, "built", False):
        return store
    optimizer.save_own_variables(store)
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None and getattr(inner, "built", False):
        nested: dict[str, np.ndarray] = {}
        inner.save_own_variables(nested)
        store.update({f"inner/{k}": v for k, v in nested.items()})
    return {k: np.asarray(v) for k, v in store.items()}


def load_optimizer(model: Any, store: dict[str, np.ndarray] | None, keep_lr: bool = False) -> str | None:
    """Put ``store`` into ``model.optimizer`` (built first on the trainable variables, as Keras'
    ``BackupAndRestore`` does); ``keep_lr``: the learning rate set now wins over the saved one.
    Returns None when restored, else why not (the optimizer then starts afresh).

    Example::

        load_optimizer(model, state.optimizer)       # None: slots, step count and rate restored
    """
    optimizer = getattr(model, "optimizer", None)
    if not store or optimizer is None:
        return _("no optimizer state was saved") if not store else _("the model is not compiled")
    from ..training.runner import learning_rate

    rate = learning_rate(optimizer)
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    parts = [(optimizer, {k: v for k, v in store.items() if not k.startswith("inner/")})]
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is not None:
        parts.append((inner, {k[len("inner/"):]: v for k, v in store.items() if k.startswith("inner/")}))
    for part, values in parts:
        wanted = [tuple(v.shape) for v in part.variables]
        saved = [tuple(values[str(i)].shape) if str(i) in values else None for i in range(len(values))]
        if wanted != saved:
            return _("the saved optimizer has {saved} variables, {optimizer} here has {wanted} (another optimizer "
                     "or other trainable layers)").format(saved=len(saved), optimizer=type(optimizer).__name__.lower(),
                                                          wanted=len(wanted))
    for part, values in parts:
        part.load_own_variables(values)
    if keep_lr and rate is not None:
        optimizer.learning_rate = rate
    return None


def write_state(run_folder: str, model: Any, optimizer: Any, history: Any) -> str:
    """Replace ``RUN/last/`` with the model's weights, ``optimizer``'s variables and the history, as one folder.

    Example::

        write_state("nnmagics-runs/cnn-1", cnn, cnn.optimizer, cnn_history)
    """
    store = optimizer_store(optimizer)

    def build(tmp: str) -> None:
        os.makedirs(tmp)
        model.save_weights(os.path.join(tmp, STATE_WEIGHTS))
        if store:
            with open(os.path.join(tmp, STATE_OPTIMIZER), "wb") as handle:
                np.savez(handle, **store)
        write_json(os.path.join(tmp, HISTORY_FILE), history.to_dict())
        write_json(os.path.join(tmp, STATE_FILE), {"epochs": history.epochs_done,
                                                   "optimizer": type(optimizer).__name__ if optimizer else None})

    return atomic_folder(os.path.join(run_folder, STATE_FOLDER), build)


def read_state(run_folder: str) -> State | None:
    """The state ``write_state`` left in a run folder, or None (no epoch finished, or unreadable).

    Example::

        read_state("nnmagics-runs/cnn-1").epochs       # 12
    """
    folder = state_folder(run_folder)
    if folder is None:
        return None
    meta = read_json(os.path.join(folder, STATE_FILE)) or {}
    history = read_json(os.path.join(folder, HISTORY_FILE))
    weights = os.path.join(folder, STATE_WEIGHTS)
    if not isinstance(history, dict) or not os.path.exists(weights):
        return None
    optimizer = None
    path = os.path.join(folder, STATE_OPTIMIZER)
    if os.path.exists(path):
        try:
            with np.load(path) as saved:
                optimizer = {k: saved[k] for k in saved.files}
        except (OSError, ValueError):
            optimizer = None
    return State(int(meta.get("epochs", len(history.get("epoch", [])))), weights, optimizer, history)


__all__ = ["State", "optimizer_store", "load_optimizer", "write_state", "read_state"]
