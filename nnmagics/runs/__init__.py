"""Runs that are never lost: every ``train()`` recorded in a folder, resumed after a restart, listed.

One module per job:

- ``store``: the runs folder (``files.runs_dir``) and one run's files, each written atomically
- ``fingerprint``: the data's fingerprint and the network's signature (what ``--resume`` compares)
- ``state``: the resumable state (weights, optimizer, history) as one folder
- ``recorder``: the Keras callback ``train()`` adds, writing at each epoch end (never failing a fit)
- ``resume``: ``--resume`` and ``%nn_runs load``
- ``table``: ``%nn_runs``'s table

Example::

    runs_table()                          # every run: data, epochs, best val loss/accuracy, verdict, time
    model, history, run = load_run("cnn") # the run back in a new kernel
"""
from __future__ import annotations

from .resume import load_run
from .store import Run, all_runs, find_run
from .table import runs_table

__all__ = ["Run", "all_runs", "find_run", "load_run", "runs_table"]
