"""The runs folder: one folder per run, each file written atomically, read back in any kernel.

A *run* is one model's training history on its data, across its fits (``%nn_train cnn cats`` then
``%nn_train cnn cats --epochs 5`` is one run of 20 epochs); a new model under the same name starts
a new run. ``RUNS_DIR/NAME/`` (NAME = ``MODEL-N``: ``cnn-1``, ``cnn-2`` …) holds:

- ``run.json``: what ``%nn_runs`` lists (model, data and their fingerprints, epochs, best epoch,
  verdict, status, times, the compile to rebuild it with)
- ``history.json``: every finished epoch (``TrainHistory.to_dict``), rewritten at each epoch end
- ``recipe.py``: the plain Keras of each fit (what ``--code`` prints)
- ``model.json``: the architecture (``model.to_json()``), to rebuild the model in another kernel
- ``best.weights.h5``: the weights of the best epoch (lowest validation loss, else loss)
- ``last/``: the state ``--resume`` continues from, replaced as a whole (``files.atomic_folder``):
  ``model.weights.h5``, ``optimizer.npz``, ``history.json``, ``state.json``; a kill at any moment
  leaves the previous state or the new one, never half of each.

Example::

    run = find_run("cnn")          # the latest run of model 'cnn' (or the run named 'cnn-2')
    run.meta["epochs"], run.history()["val_loss"][-1]
"""
from __future__ import annotations

import glob
import json
import math
import os
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

from ..files import atomic_write, runs_dir

FORMAT = 1
RUN_FILE, HISTORY_FILE, RECIPE_FILE, MODEL_FILE = "run.json", "history.json", "recipe.py", "model.json"
BEST_FILE, STATE_FOLDER = "best.weights.h5", "last"
STATE_WEIGHTS, STATE_OPTIMIZER, STATE_FILE = "model.weights.h5", "optimizer.npz", "state.json"


def write_text(path: str, text: str) -> str:
    """Write ``text`` to ``path`` atomically (UTF-8).

    Example::

        write_text("nnmagics-runs/cnn-1/recipe.py", code)
    """
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf8") as handle:
            handle.write(text)

    return atomic_write(path, write)


def write_json(path: str, value: Any) -> str:
    """Write ``value`` as JSON to ``path`` atomically (NaN kept as Python writes it).

    Example::

        write_json("nnmagics-runs/cnn-1/run.json", {"epochs": 3})
    """
    return write_text(path, json.dumps(value, indent=1, default=str))


def read_json(path: str) -> Any:
    """The JSON in ``path``, or None when it is missing or unreadable."""
    try:
        with open(path, encoding="utf8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def folder_name(model_name: str) -> str:
    """A model name as a folder name: letters, digits, ``_`` and ``.`` kept, the rest as ``_``.

    Example::

        >>> folder_name("cnn aug/2")
        'cnn_aug_2'
    """
    return re.sub(r"[^A-Za-z0-9_.]+", "_", str(model_name)).strip("._") or "model"


def new_run_folder(model_name: str, folder: str | None = None) -> str:
    """Create ``RUNS_DIR/MODEL-N`` with the next free N (``os.mkdir`` claims it, so two kernels never
    share one) and return its path.

    Example::

        new_run_folder("cnn")      # '/home/me/course/nnmagics-runs/cnn-3'
    """
    root = folder or runs_dir()
    os.makedirs(root, exist_ok=True)
    base = folder_name(model_name)
    taken = [_number(os.path.basename(p), base) for p in glob.glob(os.path.join(glob.escape(root), f"{base}-*"))]
    n = max([t for t in taken if t is not None], default=0) + 1
    while True:
        path = os.path.join(root, f"{base}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1


def _number(name: str, base: str) -> int | None:
    match = re.fullmatch(re.escape(base) + r"-(\d+)", name)
    return int(match.group(1)) if match else None


def owner() -> dict[str, Any]:
    """Which process writes a run (host and pid): a run still 'running' whose process is gone was cut short."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def now() -> str:
    """The time as ``2026-12-02 14:53:10`` (local), as the runs table shows it."""
    return time.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Run:
    """One run folder: ``name`` (``cnn-1``), ``folder``, and ``meta`` (its ``run.json``).

    Example::

        run = find_run("cnn-1"); run.status, run.meta["best"]["val_loss"]
    """

    name: str
    folder: str
    meta: dict

    @property
    def model_name(self) -> str:
        return str(self.meta.get("model") or self.name.rpartition("-")[0])

    @property
    def status(self) -> str:
        """How the run's last fit ended; ``'cut short'`` for a fit whose kernel went away while it ran."""
        status = str(self.meta.get("status") or "?")
        if status == "running" and not _alive(self.meta):
            return "cut short"
        return status

    def history(self) -> dict[str, list[float]]:
        """``history.history`` of the run (every recorded epoch)."""
        return dict((self.history_record() or {}).get("history") or {})

    def history_record(self) -> dict | None:
        """The run's ``TrainHistory.to_dict()`` record (the newest of ``history.json`` and the state's)."""
        records = [read_json(os.path.join(self.folder, HISTORY_FILE))]
        state = state_folder(self.folder)
        if state:
            records.append(read_json(os.path.join(state, HISTORY_FILE)))
        records = [r for r in records if isinstance(r, dict)]
        return max(records, key=lambda r: len(r.get("epoch", [])), default=None)

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)


def _alive(meta: dict) -> bool:
    """Whether the process that writes a run still runs: on this host, its pid; elsewhere (another
    Colab runtime), a run.json rewritten within the last few epochs (10 minutes at least)."""
    who = meta.get("owner") or {}
    if who.get("host") == socket.gethostname():
        try:
            os.kill(int(who.get("pid")), 0)
        except (TypeError, ValueError, ProcessLookupError):
            return False
        except PermissionError:
            return True
        return True
    patience = max(600.0, 3 * float(meta.get("longest_epoch_s") or 0))
    return time.time() - float(meta.get("updated_ts") or 0) < patience


def read_run(folder: str) -> Run | None:
    """The run in ``folder``, or None when it holds no readable ``run.json``."""
    meta = read_json(os.path.join(folder, RUN_FILE))
    if not isinstance(meta, dict):
        return None
    return Run(os.path.basename(folder), folder, meta)


def all_runs(folder: str | None = None) -> list[Run]:
    """Every run of the runs folder, oldest first.

    Example::

        [run.name for run in all_runs()]      # ['cnn-1', 'cnn_aug-1', 'tl-1']
    """
    root = folder or runs_dir()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    found = [read_run(os.path.join(root, name)) for name in names if ".partial-" not in name]
    runs = [run for run in found if run is not None]
    return sorted(runs, key=lambda run: (str(run.meta.get("created", "")), run.name))


def find_run(name: str, folder: str | None = None) -> Run | None:
    """The run named ``name`` (``cnn-2``), else the latest run of the model named ``name``; None if none.

    Example::

        find_run("cnn").name       # 'cnn-2'
    """
    runs = all_runs(folder)
    exact = [run for run in runs if run.name == name]
    if exact:
        return exact[0]
    mine = [run for run in runs if run.model_name == name]
    return mine[-1] if mine else None


def state_folder(run_folder: str) -> str | None:
    """The complete ``last/`` state of a run: the folder, or the one a kill left between two renames."""
    state = os.path.join(run_folder, STATE_FOLDER)
    if os.path.exists(os.path.join(state, STATE_FILE)):
        return state
    left = [p for p in glob.glob(os.path.join(glob.escape(run_folder), STATE_FOLDER + ".partial-*"))
            if os.path.exists(os.path.join(p, STATE_FILE))]
    return max(left, key=lambda p: (read_json(os.path.join(p, STATE_FILE)) or {}).get("epochs", -1), default=None)


def best_values(history: dict[str, list[float]], monitor: str = "val_loss") -> dict[str, Any]:
    """The best epoch (1-based) by ``monitor`` (else ``loss``) and that epoch's values.

    Example::

        >>> best_values({"loss": [0.9, 0.5], "val_loss": [0.8, 0.7], "val_accuracy": [0.5, 0.6]})
        {'epoch': 2, 'monitor': 'val_loss', 'val_loss': 0.7, 'val_accuracy': 0.6, 'loss': 0.5}
    """
    history = dict(history)   # the keys Keras logged (a HistoryDict also answers 'acc' for 'accuracy')
    key = monitor if any(_finite(v) for v in history.get(monitor, [])) else "loss"
    values = history.get(key) or []
    finite = [(v, i) for i, v in enumerate(values) if _finite(v)]
    if not finite:
        return {"epoch": None, "monitor": key}
    _, i = min(finite)
    found: dict[str, Any] = {"epoch": i + 1, "monitor": key}
    for name in (key, "val_accuracy", "val_acc", "accuracy", "acc", "loss", "val_loss"):
        series = history.get(name) or []
        if name not in found and i < len(series) and _finite(series[i]):
            found[name] = float(series[i])
    return found


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


__all__ = ["Run", "all_runs", "find_run", "read_run", "new_run_folder", "state_folder", "write_json", "read_json",
           "best_values", "folder_name", "write_text", "FORMAT"]
