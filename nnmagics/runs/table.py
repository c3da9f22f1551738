"""``%nn_runs``: the recorded runs as one table, sortable by any column.

Example::

    runs_table()                     # newest first: run, model, data, epochs, best epoch, val_loss, …
    runs_table(sort="val_loss")      # the lowest validation loss first
"""
from __future__ import annotations

from ..errors import NNUsageError, did_you_mean
from ..i18n import _
from .store import Run, all_runs

COLUMNS = ("run", "model", "data", "epochs", "best_epoch", "val_loss", "val_accuracy", "verdict", "status",
           "time_s", "updated")
# sorting by these puts the largest first; the others, the smallest (the best loss, a name's order)
DESCENDING = ("epochs", "val_accuracy", "time_s", "updated")


def run_row(run: Run) -> dict:
    """One run as a row of the table (what ``run.json`` says, the status checked against its process).

    Example::

        run_row(find_run("cnn"))["verdict"]       # 'over-fitting'
    """
    meta = run.meta
    best = meta.get("best") or {}
    return {"run": run.name, "model": run.model_name, "data": meta.get("data"), "epochs": meta.get("epochs", 0),
            "best_epoch": best.get("epoch"), "val_loss": best.get("val_loss"),
            "val_accuracy": best.get("val_accuracy", best.get("val_acc")),
            "verdict": (meta.get("verdict") or {}).get("kind"), "status": run.status,
            "time_s": round(float(meta.get("seconds") or 0.0), 1), "updated": meta.get("updated")}


def runs_table(sort: str | None = None, folder: str | None = None):
    """The runs as a DataFrame indexed by run name; ``sort``: a column (``-val_loss`` reverses it);
    default: the newest first. ``val_loss``/``val_accuracy`` are the best epoch's. The columns keep their
    names (``--sort`` takes them); the verdict and the status are shown in the language in use (``run_row``
    keeps the identifiers that ``run.json`` stores).

    Example::

        runs_table(sort="val_accuracy").head(3)       # the three most accurate runs
    """
    import pandas as pd

    frame = pd.DataFrame([run_row(run) for run in all_runs(folder)], columns=list(COLUMNS))
    key = (sort or "-updated").strip()
    reverse = key.startswith("-")
    key = key.lstrip("-").replace("-", "_")
    if key == "time":
        key = "time_s"
    if key not in COLUMNS:
        raise NNUsageError(_("--sort takes a column of the runs table, not '{column}'.").format(column=key)
                           + did_you_mean(key, COLUMNS))
    ascending = (key not in DESCENDING) != reverse
    frame = frame.sort_values(key, ascending=ascending, na_position="last", kind="stable")
    from ..training.words import kind_words, status_words

    frame["verdict"] = frame["verdict"].map(kind_words)
    frame["status"] = frame["status"].map(status_words)
    return frame.set_index("run")


__all__ = ["runs_table", "run_row", "COLUMNS"]
