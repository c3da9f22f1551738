"""Several runs in one picture: their training and validation curves on shared axes, a verdict each.

The course's lesson is a comparison (the plain CNN over-fits, augmentation and dropout close the
gap, transfer learning beats both). ``compare`` takes models of this kernel (their history), their
histories, or recorded runs by name (``nnmagics.runs``: a run of another kernel), and returns a
``Comparison``: the histories, each one's verdict and best epoch, and a table of the runs. Its
figure and HTML belong to the display layer (``"compare.view"``, ``"compare.figure"`` in
``nnmagics.registry``); without it, the comparison shows itself as text. ``compare_code`` writes the
matplotlib that draws the picture from ``history.history``.

Example::

    c = compare(cnn, cnn_aug, "tl")     # two models of this kernel, one recorded run
    c.table                             # run, data, epochs, best epoch, val loss/accuracy, verdict
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .. import registry
from ..errors import NNUsageError
from ..i18n import _, num
from ..training.verdict import Verdict, verdict
from .curves import accuracy_key, resolve_history


@dataclass
class Entry:
    """One compared run: its label, ``history.history``, verdict, where it came from (for ``--code``)."""

    name: str
    history: dict[str, list[float]]
    verdict: Verdict
    data: str | None = None
    run: str | None = None          # the recorded run's name (``cnn-2``), when there is one
    source: str | None = None       # the history file of a run read from its folder; None: this kernel's

    @property
    def best_epoch(self) -> int | None:
        return self.verdict.best_epoch


@dataclass(eq=False, repr=False)
class Comparison(registry.Displayed):
    """What ``compare`` found; displays as one figure and a table (text in a terminal).

    Example::

        c = compare(cnn, cnn_aug); c.entries[0].verdict.kind, c.table.loc["cnn", "best_epoch"]
    """

    entries: list[Entry]
    views: dict[str, Any] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)
    display_kind = "compare"

    @property
    def table(self):
        """One row per run: data, epochs, best epoch and its validation loss/accuracy, last validation
        accuracy, verdict."""
        import pandas as pd

        rows = []
        for entry in self.entries:
            h, best = entry.history, entry.best_epoch
            key = accuracy_key(h)
            val_acc = h.get(f"val_{key}", []) if key else []
            at = (lambda values: values[best - 1] if best and best <= len(values) else None)
            rows.append({"run": entry.name, "data": entry.data, "epochs": len(h.get("loss", [])), "best_epoch": best,
                         "val_loss": at(h.get("val_loss", [])), "val_accuracy": at(val_acc),
                         "last_val_accuracy": val_acc[-1] if val_acc else None, "verdict": entry.verdict.kind})
        return pd.DataFrame(rows).set_index("run")

    def figure(self):
        """The overlay (a matplotlib Figure), drawn once by the display layer."""
        return self._figure()

    def save(self, folder: str | os.PathLike) -> list[str]:
        """Write ``compare.png`` (the figure) and ``runs.csv`` (the table) into ``folder``; return the paths.

        Example::

            compare(cnn, cnn_aug).save("story/")      # ['story/compare.png', 'story/runs.csv']
        """
        from ..files import atomic_write

        folder = os.fspath(folder)
        os.makedirs(folder, exist_ok=True)
        png, csv = os.path.join(folder, "compare.png"), os.path.join(folder, "runs.csv")
        atomic_write(png, lambda tmp: self.figure().savefig(tmp, format="png", dpi=90, bbox_inches="tight"))
        atomic_write(csv, lambda tmp: self.table.to_csv(tmp))
        self.saved = [png, csv]
        return self.saved

    def text(self) -> str:
        """The comparison as plain text: the table, then each run's verdict."""
        lines = [_("Comparison of {n} runs (best epoch: lowest validation loss)").format(n=len(self.entries)),
                 self.table.to_string(float_format=lambda v: num(v, ".4g"))]
        lines += [f"{entry.name}: {entry.verdict.text}" for entry in self.entries]
        if self.saved:
            lines.append(_("Saved {files}.").format(files=", ".join(self.saved)))
        return "\n".join(lines)


def compare(*items: Any, names: list[str] | None = None) -> Comparison:
    """Compare runs: each item a Keras model trained in this kernel (untrained: the latest recorded run of
    its name), a ``TrainHistory``/Keras ``History``/dict, or the name of a recorded run (``'cnn-2'``, or a
    model's name for its latest run). ``names``: the labels (default: the run's or model's name).

    Example::

        compare(cnn, cnn_aug, "tl", names=["cnn", "cnn_aug", "tl"]).table
    """
    if len(items) < 2:
        raise NNUsageError(_("A comparison needs two runs or models at least, e.g. %nn_diagnose cnn cnn_aug tl."))
    labels = list(names or [])
    entries = [_entry(item, labels[i] if i < len(labels) else None) for i, item in enumerate(items)]
    return Comparison(entries)


def _entry(item: Any, label: str | None) -> Entry:
    """One item as an ``Entry`` (one sentence when it has no curves)."""
    from ..runs import find_run

    if isinstance(item, str):
        run = find_run(item)
        if run is None:
            raise NNUsageError(_("There is no model or recorded run named '{name}'; train it first, or see the "
                                 "recorded runs with %nn_runs.").format(name=item))
        found = resolve_history(None, run.history())
        if found is None:
            raise NNUsageError(_("Run '{run}' has no finished epoch yet, so it has no curves to compare.").format(
                run=run.name))
        return Entry(label or item, found, verdict(found), run.meta.get("data"), run.name,
                     os.path.join(run.folder, "history.json"))
    model = item if hasattr(item, "layers") else None
    found = resolve_history(model, None if model is not None else item)
    name = label or getattr(item, "name", None) or "run"
    if found is None and model is not None and find_run(name) is not None:
        return _entry(name, label)   # a model rebuilt in a new kernel, not trained yet: its recorded run
    if found is None:
        raise NNUsageError(_("'{name}' has not been trained yet (no history), so it has no curves to compare; "
                             "train it first (%nn_train {name} DATA) or give a recorded run (%nn_runs lists them).").format(
            name=name))
    from ..training.history import history_of

    kept = history_of(model) if model is not None else item
    run = os.path.basename(kept.run_folder) if getattr(kept, "run_folder", None) else None
    fits = getattr(kept, "fits", None) or []
    data = (fits[-1].get("params") or {}).get("data") if fits else None
    return Entry(name, found, verdict(found), data, run)


def compare_code(comparison: Comparison) -> str:
    """The matplotlib that draws the comparison from each run's ``history.history`` (what ``--code`` prints).

    Example::

        print(compare_code(compare(cnn, "tl", names=["cnn", "tl"])))
    """
    lines = ["# " + _("the runs' curves on shared axes, from history.history"), "import json",
             "import matplotlib.pyplot as plt", "", "histories = {"]
    for entry in comparison.entries:
        where = (f"json.load(open({entry.source!r}))['history']" if entry.source
                 else f"{entry.name}_history.history")
        lines.append(f"    {entry.name!r}: {where},")
    lines += ["}", "fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.4))",
              "for (name, h), color in zip(histories.items(), plt.rcParams['axes.prop_cycle'].by_key()['color']):",
              "    epochs = range(1, len(h['loss']) + 1)",
              "    acc = next((k for k in ('accuracy', 'acc', 'binary_accuracy') if k in h), None)",
              "    for ax, key in ((ax_acc, acc), (ax_loss, 'loss')):",
              "        if key is None:",
              "            continue",
              "        ax.plot(epochs, h[key], '--', color=color, alpha=0.5)                  # " + _("training"),
              "        if 'val_' + key in h:",
              "            ax.plot(epochs, h['val_' + key], '-', color=color, label=name)       # " + _("validation"),
              "    if 'val_loss' in h:",
              "        best = min(range(len(h['val_loss'])), key=h['val_loss'].__getitem__)   # " + _("the best epoch"),
              "        ax_loss.plot(best + 1, h['val_loss'][best], '*', color=color, ms=13)",
              "for ax, title in ((ax_acc, 'accuracy'), (ax_loss, 'loss')):",
              "    ax.set_title(f'{title} (dashed: training, solid: validation)')",
              "    ax.set_xlabel('epoch')",
              "    ax.legend()",
              "plt.show()"]
    return "\n".join(lines)


__all__ = ["Comparison", "Entry", "compare", "compare_code"]
