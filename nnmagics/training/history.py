"""The training history of a model across all its fits, shaped like Keras' ``History``.

``train()`` keeps one ``TrainHistory`` per model (a ``WeakKeyDictionary``): training again
appends to it and continues the epoch count (``initial_epoch``). The course's plotting code
runs on it unchanged::

    acc = history.history['acc']            # alias of 'accuracy'
    val_loss = history.history['val_loss']
    epochs = range(len(acc))
"""
from __future__ import annotations

import weakref
from typing import Any, Iterable

from ..i18n import _, ngettext, num

# the course (and Keras 2) wrote 'acc'; Keras 3 logs the metric as it was named in compile
_ALIASES = {
    "acc": "accuracy", "val_acc": "val_accuracy",
    "accuracy": "acc", "val_accuracy": "val_acc",
}

ACCURACY_KEYS = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")


def accuracy_key(columns) -> str | None:
    """The training-accuracy key of a history ('accuracy', 'acc', 'binary_accuracy', …), if any.

    Example::

        >>> accuracy_key(["loss", "binary_accuracy", "val_binary_accuracy"])
        'binary_accuracy'
    """
    columns = list(columns)
    return next((k for k in ACCURACY_KEYS if k in columns), None)

_HISTORIES: "weakref.WeakKeyDictionary[Any, TrainHistory]" = weakref.WeakKeyDictionary()


class HistoryDict(dict):
    """A dict of per-epoch lists where ``'acc'`` and ``'accuracy'`` (and ``val_`` forms) are aliases.

    Only the keys Keras logged are listed; the alias answers lookups, ``get`` and ``in``.

    Example::

        h = HistoryDict(accuracy=[0.5, 0.7])
        h["acc"]          # [0.5, 0.7]
    """

    def __missing__(self, key):
        alias = _ALIASES.get(key)
        if alias is not None and dict.__contains__(self, alias):
            return dict.__getitem__(self, alias)
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or dict.__contains__(self, _ALIASES.get(key, object()))


class TrainHistory:
    """Every epoch a model was trained for, across all ``train()`` calls.

    Behaves like ``keras.callbacks.History``: ``.history`` (metric → list, one value per
    epoch), ``.epoch`` (0-based epoch numbers), ``.params`` (of the last fit), ``.model``.
    ``.fits`` lists each fit (first/last epoch, status, options).

    Example::

        history = train(model, data4, epochs=5)
        history.history["loss"][-1], len(history.epoch)     # (0.61, 5)
        train(model, data4, epochs=5); len(history.epoch)   # 10: the same object, appended
    """

    def __init__(self, model: Any = None):
        self.history: HistoryDict = HistoryDict()
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}
        self.fits: list[dict[str, Any]] = []
        self.seconds: list[float] = []
        self._model_ref = _weak(model)
        self.name = getattr(model, "name", None)
        self.run_folder: str | None = None   # where nnmagics.runs records it (None: not recorded)

    # -- like keras.callbacks.History -----------------------------------------------------
    @property
    def model(self):
        """The trained model (None once it has been deleted)."""
        return self._model_ref() if self._model_ref is not None else None

    @property
    def epochs_done(self) -> int:
        """Number of finished epochs, i.e. the ``initial_epoch`` of the next fit."""
        return len(self.epoch)

    def record(self, epoch: int, logs: dict[str, Any], seconds: float | None = None) -> None:
        """Append one finished epoch's logs (missing metrics padded with NaN so lists stay aligned)."""
        n = len(self.epoch)
        self.seconds.append(float("nan") if seconds is None else float(seconds))
        for key, value in logs.items():
            if key == "seconds":
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                continue
            series = dict.setdefault(self.history, key, [])
            series.extend([float("nan")] * (n - len(series)))
            series.append(value)
        self.epoch.append(int(epoch))
        for series in dict.values(self.history):
            series.extend([float("nan")] * (n + 1 - len(series)))

    def start_fit(self, params: dict[str, Any]) -> None:
        """Note the start of a fit (its options) before its epochs are recorded."""
        self.params = dict(params)
        self.fits.append({"first_epoch": self.epochs_done, "last_epoch": None, "status": "running",
                          "params": dict(params)})

    def end_fit(self, status: str) -> None:
        """Close the current fit with ``status`` ('finished', 'stopped', 'interrupted', …)."""
        if self.fits:
            self.fits[-1]["status"] = status
            self.fits[-1]["last_epoch"] = self.epochs_done - 1

    @property
    def status(self) -> str | None:
        """How the last fit ended."""
        return self.fits[-1]["status"] if self.fits else None

    # -- as JSON (the run folder) ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The epochs, their seconds and the fits as plain JSON values (what a run folder keeps).

        Example::

            TrainHistory.from_dict(history.to_dict()).history == history.history     # True
        """
        fits = [{key: _plain(value) for key, value in fit.items() if key != "recipe"} for fit in self.fits]
        return {"name": self.name, "history": {k: list(v) for k, v in dict.items(self.history)},
                "epoch": list(self.epoch), "seconds": list(self.seconds), "params": _plain(self.params), "fits": fits}

    @classmethod
    def from_dict(cls, record: dict[str, Any], model: Any = None) -> "TrainHistory":
        """A history from ``to_dict``'s record (``model``: the model it belongs to now).

        Example::

            history = TrainHistory.from_dict(json.load(open("nnmagics-runs/cnn-1/history.json")))
        """
        history = cls(model)
        history.name = record.get("name") or history.name
        history.history = HistoryDict({str(k): [float(v) for v in vs] for k, vs in record.get("history", {}).items()})
        history.epoch = [int(e) for e in record.get("epoch", [])]
        history.seconds = [float(s) for s in record.get("seconds", [])]
        history.params = dict(record.get("params") or {})
        history.fits = [dict(fit) for fit in record.get("fits", [])]
        return history

    # -- convenience -----------------------------------------------------------------------
    def to_frame(self):
        """The history as a pandas DataFrame, one row per epoch (1-based index)."""
        import pandas as pd

        frame = pd.DataFrame(dict(self.history))
        frame.index = [e + 1 for e in self.epoch]
        frame.index.name = "epoch"
        return frame

    def verdict(self):
        """The plain-words verdict on the curves (see ``nnmagics.training.verdict.verdict``)."""
        from .verdict import verdict

        return verdict(self.history)

    def last(self) -> dict[str, float]:
        """The last epoch's values."""
        return {k: v[-1] for k, v in dict.items(self.history) if v}

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        if not self.epoch:
            return (_("TrainHistory of '{name}': no epoch yet").format(name=self.name) if self.name else
                    _("TrainHistory: no epoch yet"))
        last = ", ".join(f"{k} {num(v, '.4g')}" for k, v in self.last().items())
        values = dict(name=self.name, n=len(self.epoch), fits=len(self.fits), last=last)
        if self.name:
            text = ngettext("TrainHistory of '{name}': {n} epoch in {fits} fit(s), last: {last}",
                            "TrainHistory of '{name}': {n} epochs in {fits} fit(s), last: {last}", len(self.epoch))
        else:
            text = ngettext("TrainHistory: {n} epoch in {fits} fit(s), last: {last}",
                            "TrainHistory: {n} epochs in {fits} fit(s), last: {last}", len(self.epoch))
        return text.format(**values) + " (.history['loss'], .history['val_accuracy'], …)"


def _weak(model):
    if model is None:
        return None
    try:
        return weakref.ref(model)
    except TypeError:
        return lambda: model


def _plain(value: Any) -> Any:
    """``value`` with only JSON's kinds (dicts, lists, text, numbers, None); anything else as its text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def history_of(model, create: bool = False) -> TrainHistory | None:
    """The ``TrainHistory`` of ``model`` (None if it was never trained by nnmagics).

    Example::

        history_of(model).history["val_loss"]
    """
    try:
        found = _HISTORIES.get(model)
    except TypeError:
        return None
    if found is None and create:
        found = TrainHistory(model)
        _HISTORIES[model] = found
    return found


def adopt(model, history: TrainHistory) -> TrainHistory:
    """Make ``history`` the one nnmagics keeps for ``model`` (a run read back from its folder).

    Example::

        adopt(cnn, TrainHistory.from_dict(record, cnn)); history_of(cnn).epochs_done     # 12
    """
    history._model_ref = _weak(model)
    _HISTORIES[model] = history
    return history


def forget(model) -> None:
    """Drop the kept history of ``model`` (the next fit starts at epoch 0)."""
    try:
        _HISTORIES.pop(model, None)
    except TypeError:
        pass


def epochs_table(history: TrainHistory, keys: Iterable[str] | None = None) -> list[dict[str, float]]:
    """Rows ``{'epoch': n, 'loss': …}`` (1-based epochs) for tables and text logs."""
    keys = list(keys) if keys is not None else list(dict.keys(history.history))
    rows = []
    for i, epoch in enumerate(history.epoch):
        row = {"epoch": epoch + 1}
        for key in keys:
            values = dict.get(history.history, key, [])
            if i < len(values):
                row[key] = values[i]
        rows.append(row)
    return rows
