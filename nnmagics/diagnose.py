"""Diagnose a Keras classifier: curves and verdict, evaluation, confusion matrix, per-class report,
predictions, worst mistakes, feature maps, augmentation preview.

``diagnose(model, data)`` returns a ``DiagnosisReport`` whose attributes hold the numbers
(pandas DataFrames, dicts) and whose rich display draws them (``nnmagics.display.diagnosis_view``).

Predictions and labels come from ONE pass over ``data.as_tf_dataset(shuffle=False)``: each
batch's images are predicted and its labels kept, so they can never be misaligned (the course's
``confusion_matrix(validation_generator.classes, y_pred)`` on a shuffled generator is), and every
sample counts once, the last partial batch included.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import NNUsageError, unknown

# parts of the report that can be shown; the first four are chosen with show=/--curves/…
SELECTABLE = ("curves", "evaluation", "confusion", "report")
NEEDS_DATA = ("evaluation", "confusion", "report", "predictions", "errors")
_ACCURACY_KEYS = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy")
_EPS = 1e-7  # Keras' epsilon, for the cross-entropy of an uncompiled model


# ----------------------------------------------------------------------------- checks
def _name(obj: Any, default: str) -> str:
    return str(getattr(obj, "name", None) or default)


def _a(word: str) -> str:
    """'a list', 'an ImageData'."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


from .checks import check_data, check_model  # noqa: E402 - the one implementation, re-exported


def check_threshold(threshold: Any) -> float:
    """``threshold`` as a float strictly between 0 and 1, else a UsageError."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value < 1:
        raise NNUsageError(f"The threshold must be a number between 0 and 1 (exclusive), not {threshold!r}; e.g. --threshold 0.5.")
    return value


def parse_class_names(class_names: str | Sequence[str] | None, data: Any) -> list[str]:
    """The class names to show: ``class_names`` ("a,b" or a list) checked against the data, else the data's."""
    classes = [str(c) for c in data.classes]
    if class_names is None:
        return classes
    names = [n.strip() for n in class_names.split(",")] if isinstance(class_names, str) else [str(n) for n in class_names]
    if len(names) != len(classes) or not all(names):
        raise NNUsageError(
            f"--class-names gives {len(names)} name(s) but the data has {len(classes)} classes "
            f"({', '.join(classes)}); give one name per class, in that order."
        )
    return names


def output_units(model, data) -> int:
    """Number of output units of the model (from its graph, else by predicting one sample)."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) > 1:
            raise NNUsageError(f"Model '{_name(model, 'model')}' has {len(outputs)} outputs; diagnosis works for a classifier with one output.")
        units = outputs[0].shape[-1]
        if units is not None:
            return int(units)
    x, _ = next(iter(data.as_tf_dataset(shuffle=False, batch_size=1, class_mode="int")))
    return int(np.asarray(_predict(model, x, data)).reshape(1, -1).shape[1])


def check_classes(model, data, units: int) -> None:
    """A UsageError when the data's classes do not fit the model's output units."""
    k = len(data.classes)
    fits = (units == 1 and k == 2) or (units > 1 and units == k)
    if fits:
        return
    want = "2 classes (one sigmoid unit)" if units == 1 else f"{units} classes"
    raise NNUsageError(
        f"Model '{_name(model, 'model')}' has {units} output unit{'s' if units != 1 else ''} (it predicts {want}) but "
        f"'{_name(data, 'the data')}' has {k} classes ({', '.join(map(str, data.classes))}); diagnose it on data with "
        f"the classes it was trained on, or rebuild it with %nn_build NAME ... --from DATA."
    )


def check_input_shape(model, data) -> None:
    """A UsageError when the model's input shape (if known) differs from the data's samples."""
    from .shapes import graph_input_shape, shape_fits

    expected, got = graph_input_shape(model), tuple(data.input_shape)
    if not shape_fits(expected, got):
        raise NNUsageError(
            f"Model '{_name(model, 'model')}' expects inputs of shape {expected} but '{_name(data, 'the data')}' gives "
            f"{got}; use data of that shape (e.g. --image-size {expected[0] if expected else ''} in %nn_data)."
        )


# ----------------------------------------------------------------------------- history
def resolve_history(model, history: Any = None) -> dict[str, list[float]] | None:
    """The training history as a dict of lists: ``history`` if given (a Keras ``History``, an
    nnmagics ``TrainHistory`` or a dict), else the one nnmagics kept for ``model``
    (``nnmagics.history.history_of``), else Keras' ``model.history`` from the last ``fit``.
    None when there is no epoch.

    Example::

        >>> resolve_history(model, model.fit(x, y, epochs=3, verbose=0))["loss"]     # doctest: +SKIP
        [0.71, 0.62, 0.55]
    """
    candidates = [history] if history is not None else []
    if history is None and model is not None:
        try:
            from .history import history_of
        except ImportError:  # the trainer's module is not there yet
            history_of = None
        if history_of is not None:
            candidates.append(history_of(model))
        candidates.append(getattr(model, "__dict__", {}).get("history"))
    for candidate in candidates:
        values = candidate if isinstance(candidate, Mapping) else getattr(candidate, "history", None)
        if isinstance(values, Mapping):
            found = {str(k): [float(v) for v in vs] for k, vs in dict(values).items() if _is_series(vs)}
            if found.get("loss"):
                return found
    return None


def _is_series(values: Any) -> bool:
    try:
        return len(values) > 0 and all(isinstance(float(v), float) for v in values)
    except (TypeError, ValueError):
        return False


def history_frame(history: Mapping[str, Sequence[float]]):
    """The history as a DataFrame, one row per epoch (index ``epoch``, 1-based), one column per metric.

    Example::

        >>> frame = history_frame({"loss": [0.7, 0.5], "val_loss": [0.8, 0.6]})
        >>> frame.index.tolist(), list(frame.columns)
        ([1, 2], ['loss', 'val_loss'])
    """
    import pandas as pd

    n = max((len(v) for v in history.values()), default=0)
    columns = {k: list(v) + [float("nan")] * (n - len(v)) for k, v in history.items()}
    frame = pd.DataFrame(columns, index=pd.RangeIndex(1, n + 1, name="epoch"))
    return frame


def accuracy_key(columns: Iterable[str]) -> str | None:
    """The training-accuracy column of a history ('accuracy', 'acc', 'binary_accuracy', …), if any."""
    columns = list(columns)
    return next((k for k in _ACCURACY_KEYS if k in columns), None)


# ----------------------------------------------------------------------------- predictions
def _predict(model, x, data) -> np.ndarray:
    try:
        out = model.predict_on_batch(x)
    except NNUsageError:
        raise
    except Exception as exc:  # TF/Keras errors for data the model cannot take
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NNUsageError(
            f"Model '{_name(model, 'model')}' could not predict on '{_name(data, 'the data')}' ({reason[:200]}); "
            "check that the data matches the model's input."
        ) from None
    if isinstance(out, (list, tuple, dict)):
        raise NNUsageError(f"Model '{_name(model, 'model')}' has several outputs; diagnosis works for a classifier with one output.")
    return np.asarray(out, dtype="float64")


def predict_in_order(model, data) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities N×units, true labels N)`` from ONE pass over the data in its fixed order.

    Labels are taken from the very batches that are predicted, so they are aligned by
    construction; the last partial batch is included.

    Example::

        >>> probs, y_true = predict_in_order(cnn, val)                # doctest: +SKIP
        >>> probs.shape, y_true.shape                                 # doctest: +SKIP
        ((1000, 1), (1000,))
    """
    probs, labels = [], []
    for x, y in data.as_tf_dataset(shuffle=False, class_mode="int"):
        p = _predict(model, x, data)
        probs.append(p.reshape(len(p), -1))
        labels.append(np.asarray(y).reshape(-1).astype("int64"))
    if not probs:
        raise NNUsageError(f"'{_name(data, 'The data')}' holds no sample to diagnose; load data with at least one sample.")
    return np.concatenate(probs), np.concatenate(labels)


def as_probabilities(outputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """Model outputs as probabilities: unchanged if already in [0, 1] (rows summing to 1 for
    several units), else sigmoid (one unit) or softmax (logits). Returns ``(probs, converted)``.
    """
    outputs = np.asarray(outputs, dtype="float64")
    tol = 1e-4
    in_range = outputs.min() >= -tol and outputs.max() <= 1 + tol
    if outputs.shape[1] == 1:
        if in_range:
            return np.clip(outputs, 0, 1), False
        return 1 / (1 + np.exp(-outputs)), True
    if in_range and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return np.clip(outputs, 0, 1), False
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True), True


def decide(probs: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(predicted labels, probability of the predicted class, probability of every class N×k)``.

    One sigmoid unit: class 1 when ``p > threshold`` (the course's ``y_pred > 0.5``); several
    units: argmax.
    """
    if probs.shape[1] == 1:
        p1 = probs[:, 0]
        per_class = np.stack([1 - p1, p1], axis=1)
        predicted = (p1 > threshold).astype("int64")
    else:
        per_class = probs
        predicted = probs.argmax(axis=1).astype("int64")
    confidence = per_class[np.arange(len(predicted)), predicted]
    return predicted, confidence, per_class


# ----------------------------------------------------------------------------- evaluation
def _label_mode_for(model, units: int) -> str:
    """The label encoding the compiled loss expects: 'binary', 'categorical' or 'int'."""
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", "") or ""
    name = str(name).lower()
    if "sparse" in name:
        return "int"
    if "categorical" in name:
        return "categorical"
    if "binary" in name or units == 1:
        return "binary"
    return "categorical"


def evaluate(model, data, per_class: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
             units: int) -> tuple[dict[str, float], str]:
    """``({'loss': …, 'accuracy': …}, how it was obtained)``.

    A compiled model is evaluated with ``model.evaluate`` on the fixed-order dataset (labels
    encoded for its loss). An uncompiled one cannot be: its cross-entropy and accuracy are
    computed from the predictions instead, and the source says so.
    """
    accuracy = float(np.mean(y_pred == y_true))
    if getattr(model, "compiled", False) and getattr(model, "loss", None) is not None:
        mode = _label_mode_for(model, units)
        try:
            result = model.evaluate(data.as_tf_dataset(shuffle=False, class_mode=mode), verbose=0, return_dict=True)
        except Exception as exc:  # a loss that does not fit the labels: fall back, and say why
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            source = f"computed from the predictions (model.evaluate failed: {reason[:120]})"
        else:
            return _tidy_evaluation(result, accuracy), f"model.evaluate (labels encoded as '{mode}')"
    else:
        source = "computed from the predictions (the model is not compiled, so model.evaluate cannot run)"
    p_true = np.clip(per_class[np.arange(len(y_true)), y_true], _EPS, 1 - _EPS)
    loss = float(-np.mean(np.log(p_true)))
    return {"loss": loss, "accuracy": accuracy}, source


def _tidy_evaluation(result: Mapping[str, Any], accuracy: float) -> dict[str, float]:
    values = {str(k): float(v) for k, v in result.items() if np.ndim(v) == 0}
    tidy = {"loss": values.pop("loss", float("nan"))}
    key = accuracy_key(values)
    tidy["accuracy"] = values.pop(key) if key else accuracy
    tidy.update(values)
    return tidy


# ----------------------------------------------------------------------------- tables
def confusion_frame(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]):
    """The confusion matrix as a DataFrame: rows = true classes, columns = predicted classes."""
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(names))))
    return pd.DataFrame(matrix, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))


def report_frame(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]):
    """scikit-learn's ``classification_report`` as a DataFrame (precision, recall, f1-score, support)."""
    import pandas as pd
    from sklearn.metrics import classification_report

    report = classification_report(y_true, y_pred, labels=list(range(len(names))), target_names=list(names),
                                   output_dict=True, zero_division=0)
    if isinstance(report.get("accuracy"), float):  # a scalar in the dict: lay it out as sklearn prints it
        report["accuracy"] = {"precision": float("nan"), "recall": float("nan"), "f1-score": report["accuracy"],
                              "support": len(y_true)}
    frame = pd.DataFrame(report).T
    frame["support"] = frame["support"].astype("int64")
    return frame


def predictions_frame(data, y_true: np.ndarray, y_pred: np.ndarray, confidence: np.ndarray,
                      names: Sequence[str]):
    """One row per sample: file (images, relative to the data folder) or row (tables, with the
    features), true class, predicted class, probability of the predicted class, correct."""
    import pandas as pd

    columns: dict[str, Any] = {}
    files = getattr(data, "files", None)
    if files is not None:
        root = getattr(data, "root", None)
        from .data.filenames import printable

        columns["file"] = [printable(os.path.relpath(f, root) if root else f) for f in files]
    else:
        frame = getattr(data, "frame", None)
        columns["row"] = list(frame.index) if frame is not None else list(range(len(y_true)))
        for i, feature in enumerate(getattr(data, "features", []) or []):
            columns[feature] = np.asarray(data.X)[:, i]
    names = np.asarray(list(names), dtype=object)
    columns["true_class"] = names[y_true]
    columns["predicted_class"] = names[y_pred]
    columns["probability"] = confidence
    columns["correct"] = y_true == y_pred
    return pd.DataFrame(columns)


def errors_frame(predictions, p_true: np.ndarray, n: int | None = None):
    """The mistakes, most confident first (fastai's "top losses"): ``loss`` = −log p(true class)."""
    frame = predictions.assign(p_true=p_true, loss=-np.log(np.clip(p_true, _EPS, 1.0)))
    wrong = frame[~frame["correct"]].sort_values("loss", ascending=False, kind="stable")
    return wrong if n is None else wrong.head(n)


# ----------------------------------------------------------------------------- augmentation
def _dataset_image(spec: Any, what: str) -> tuple[Any, int]:
    """``ImageData`` or ``(ImageData, i)`` → ``(data, i)``; a table or anything else is a UsageError."""
    data, index = (spec if isinstance(spec, tuple) else (spec, 0))
    if not hasattr(data, "load_image"):
        kind = "a table" if getattr(data, "kind", None) == "table" else _a(type(data).__name__)
        raise NNUsageError(f"{what} needs an image dataset (an image folder loaded with %nn_data), not {kind}.")
    return data, int(index)


def augment_preview(data: Any, index: int = 0, n: int = 8, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One image of ``data`` and ``n`` random draws of the course's augmentation (``make_augmentation``).

    Returns ``(original h×w×3, draws n×h×w×3)``, uint8.

    Example::

        >>> original, draws = augment_preview(train, index=0, n=8)    # doctest: +SKIP
        >>> draws.shape                                               # doctest: +SKIP
        (8, 150, 150, 3)
    """
    from .build import make_augmentation

    data, index = _dataset_image((data, index), "--augment-preview")
    image = data.load_image(index)
    augment = make_augmentation(seed)
    batch = np.repeat(image[None], int(n), axis=0)
    draws = np.asarray(augment(batch, training=True))
    return np.clip(image, 0, 255).astype("uint8"), np.clip(np.round(draws), 0, 255).astype("uint8")


# ----------------------------------------------------------------------------- the report
class DiagnosisReport:
    """What ``diagnose`` found; displays as curves, tables and figures (text in a terminal).

    Attributes (None when not computed):

    - ``verdict`` (plain words), ``verdict_kind`` ('converging', 'over-fitting', 'under-fitting',
      'not trained'), ``best_epoch`` (1-based, lowest validation loss), ``curves`` (history DataFrame)
    - with data: ``evaluation`` ({'loss', 'accuracy', …}) and ``evaluation_source``, ``confusion``
      (rows = true classes, columns = predicted), ``report`` (per-class precision/recall/F1),
      ``predictions`` (file or row, true_class, predicted_class, probability, correct),
      ``errors`` (the mistakes, most confident first), ``probabilities``, ``y_true``, ``y_pred``
    - ``feature_maps`` (layer → H×W×C array) and ``gallery`` (the browsable ``FeatureGallery``)
    - ``augmented`` (original, draws) for ``--augment-preview``; ``saved`` (files written); ``notes``

    Example::

        >>> r = diagnose(cnn, val)                                    # doctest: +SKIP
        >>> r.verdict_kind, r.best_epoch, r.evaluation["accuracy"]    # doctest: +SKIP
        ('over-fitting', 5, 0.74)
        >>> r.confusion                                               # doctest: +SKIP
    """

    def __init__(self, model: Any = None, data: Any = None):
        self.model = model
        self.data = data
        self.model_name = _name(model, "model") if model is not None else None
        self.data_name = _name(data, "data") if data is not None else None
        self.sections: tuple[str, ...] = ()
        self.history: dict[str, list[float]] | None = None
        self.curves = None
        self.verdict: str | None = None
        self.verdict_kind: str | None = None
        self.verdict_info: Any = None
        self.best_epoch: int | None = None
        self.from_epoch: int | None = None
        self.class_names: list[str] | None = None
        self.threshold: float = 0.5
        self.evaluation: dict[str, float] | None = None
        self.evaluation_source: str | None = None
        self.probabilities: np.ndarray | None = None
        self.y_true: np.ndarray | None = None
        self.y_pred: np.ndarray | None = None
        self.confusion = None
        self.report = None
        self.predictions = None
        self.errors = None
        self.n_predictions: int | None = None
        self.n_errors: int | None = None
        self.feature_maps: OrderedDict | None = None
        self.gallery = None
        self.augmented: tuple[np.ndarray, np.ndarray] | None = None
        self.notes: list[str] = []
        self.saved: list[str] = []
        self._figures: dict[str, Any] = {}

    def figure(self, part: str):
        """The matplotlib Figure of ``part`` ('curves', 'confusion', 'errors', 'feature_maps',
        'augment_preview'), drawn once; None when there is nothing to draw."""
        from .display import diagnosis_view

        if part not in self._figures:
            self._figures[part] = diagnosis_view.make_figure(self, part)
        return self._figures[part]

    def save(self, folder: str | os.PathLike) -> list[str]:
        """Write the figures (PNG) and tables (CSV) of the shown parts into ``folder``; return the paths."""
        from .display import diagnosis_view

        self.saved = diagnosis_view.save_report(self, folder)
        return self.saved

    def _repr_html_(self) -> str:
        from .display import diagnosis_view

        return diagnosis_view.report_html(self)

    def _ipython_display_(self) -> None:
        from .display import diagnosis_view

        diagnosis_view.display_report(self)

    def __repr__(self) -> str:
        from .display import diagnosis_view

        return diagnosis_view.report_text(self)


def _choose_sections(show: Iterable[str] | str | None, data: Any, predictions: int | None, errors: int | None,
                     feature_maps: Any, augment: Any) -> tuple[str, ...]:
    """The parts to display: ``show`` (curves/evaluation/confusion/report) plus the extras asked for;
    nothing asked at all → curves, and with data evaluation, confusion and report."""
    if isinstance(show, str):
        show = [s.strip() for s in show.split(",") if s.strip()]
    chosen = list(show or [])
    for part in chosen:
        if part not in SELECTABLE:
            raise unknown("report part", part, SELECTABLE)
    if ("confusion" in chosen or "report" in chosen) and "evaluation" not in chosen:
        chosen.append("evaluation")
    extras = [name for name, value in (("predictions", predictions), ("errors", errors),
                                       ("feature_maps", feature_maps), ("augment_preview", augment))
              if value is not None]
    if not chosen and not extras:
        chosen = ["curves"] + (["evaluation", "confusion", "report"] if data is not None else [])
    order = SELECTABLE + ("predictions", "errors", "feature_maps", "augment_preview")
    return tuple(p for p in order if p in chosen or p in extras)


def _count(value: Any, option: str) -> int | None:
    if value is None:
        return None
    try:
        n = int(value)
        if isinstance(value, bool) or n != float(value):
            raise ValueError
    except (TypeError, ValueError):
        n = 0
    if n <= 0:
        raise NNUsageError(f"{option} needs a positive whole number of rows, not {value!r}; e.g. {option} 10.")
    return n


def diagnose(model, data=None, *, history=None, threshold: float = 0.5, class_names=None,
             predictions: int | None = None, errors: int | None = None, feature_maps: Any = None,
             save: str | os.PathLike | None = None, show: Iterable[str] | str | None = None,
             layer: str | None = None, augment_preview: Any = None) -> DiagnosisReport:
    """Diagnose ``model``: curves with a verdict; with ``data`` evaluation, confusion matrix,
    per-class report and predictions; optionally feature maps and an augmentation preview.

    - ``history``: a Keras ``History`` (what ``fit`` returns), a ``TrainHistory`` or a dict;
      default: the history nnmagics kept for the model, else Keras' ``model.history``.
    - ``threshold``: for one sigmoid unit, class 1 when ``p > threshold``.
    - ``class_names``: names to show instead of the data's ("dog,cat" or a list).
    - ``predictions=N`` / ``errors=N``: show the first N predictions / the N most confident mistakes.
    - ``feature_maps``: an image path, an array, an index into ``data``, or ``(dataset, i)``;
      ``layer`` picks one conv/pool layer of the gallery.
    - ``show``: the parts to display among curves, evaluation, confusion, report (default: all
      that apply, or only the extras when extras are asked for).
    - ``save``: a folder to write the figures (PNG) and tables (CSV) into.
    - ``augment_preview``: an ``ImageData`` (or ``(ImageData, i)``) to show under random augmentations;
      ``model`` may be None for this one.

    Example::

        report = diagnose(cnn, val)
        report.verdict, report.evaluation, report.confusion
        diagnose(cnn, feature_maps=(val, 0), layer="conv2d_1")
    """
    sections = _choose_sections(show, data, predictions, errors, feature_maps, augment_preview)
    if model is None and any(p != "augment_preview" for p in sections):
        raise NNUsageError("Give the model to diagnose, e.g. %nn_diagnose cnn val.")
    if model is not None:
        check_model(model)
    if data is not None:
        check_data(data)
    report = DiagnosisReport(model, data)
    report.sections = sections
    report.threshold = check_threshold(threshold)
    report.n_predictions = _count(predictions, "--predictions")
    report.n_errors = _count(errors, "--errors")
    if layer is not None and feature_maps is None:
        raise NNUsageError("--layer picks a layer of the feature-map gallery; add --feature-maps IMAGE (a path or DATA[i]).")
    missing = [p for p in sections if p in NEEDS_DATA and p != "evaluation"] or \
        [p for p in sections if p == "evaluation"]
    missing = missing if data is None else []
    if missing:
        raise NNUsageError(f"--{missing[0]} needs data to predict on; give it, e.g. %nn_diagnose {report.model_name} val --{missing[0]}.")
    if feature_maps is not None:
        from .feature_maps import check_layers

        check_layers(model, layer)
    if augment_preview is not None:
        _dataset_image(augment_preview, "--augment-preview")

    if model is not None:
        _add_curves(report, model, history, wanted="curves" in sections, has_data=data is not None)
    if data is not None:
        _add_data_results(report, model, data, class_names)
    if feature_maps is not None:
        _add_feature_maps(report, model, data, feature_maps, layer)
    if augment_preview is not None:
        report.augmented = augment_preview_for(augment_preview)
    if save is not None:
        report.save(save)
    return report


def augment_preview_for(spec: Any, n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``augment_preview`` for an ``ImageData`` or ``(ImageData, i)``."""
    data, index = _dataset_image(spec, "--augment-preview")
    return augment_preview(data, index, n=n)


def _add_curves(report: DiagnosisReport, model, history: Any, *, wanted: bool, has_data: bool) -> None:
    from . import verdict as verdict_module

    found = resolve_history(model, history)
    if found is None:
        if wanted and not has_data:
            raise NNUsageError(
                f"Model '{report.model_name}' has not been trained yet (no history), so there are no curves; "
                f"train it first (%nn_train {report.model_name} DATA) or give data to evaluate it (%nn_diagnose {report.model_name} DATA)."
            )
        report.verdict_kind = "not trained"
        report.verdict = (f"Not trained yet: '{report.model_name}' has no training history, so there are no curves"
                          + ("; the evaluation below uses its current weights." if has_data else "."))
        if wanted:
            report.notes.append(report.verdict)
        return
    report.history = found
    report.curves = history_frame(found)
    result = verdict_module.verdict(found)
    report.verdict_info = result
    report.verdict = getattr(result, "text", str(result))
    report.verdict_kind = getattr(result, "kind", None)
    report.best_epoch = getattr(result, "best_epoch", None)
    report.from_epoch = getattr(result, "from_epoch", None)


def _add_data_results(report: DiagnosisReport, model, data, class_names) -> None:
    names = parse_class_names(class_names, data)
    check_input_shape(model, data)
    units = output_units(model, data)
    check_classes(model, data, units)
    outputs, y_true = predict_in_order(model, data)
    probs, converted = as_probabilities(outputs)
    if converted:
        report.notes.append("The model outputs logits (values outside 0–1): probabilities were computed with "
                            + ("a sigmoid." if units == 1 else "a softmax."))
    y_pred, confidence, per_class = decide(probs, report.threshold)
    report.class_names = names
    report.probabilities, report.y_true, report.y_pred = probs, y_true, y_pred
    report.evaluation, report.evaluation_source = evaluate(model, data, per_class, y_true, y_pred, units)
    report.confusion = confusion_frame(y_true, y_pred, names)
    report.report = report_frame(y_true, y_pred, names)
    report.predictions = predictions_frame(data, y_true, y_pred, confidence, names)
    report.errors = errors_frame(report.predictions, per_class[np.arange(len(y_true)), y_true])


def _add_feature_maps(report: DiagnosisReport, model, data, spec: Any, layer: str | None) -> None:
    from .display.feature_gallery import FeatureGallery

    images, index = spec, 0
    if isinstance(spec, tuple):
        images, index = spec
    elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if data is None:
            raise NNUsageError("An image index needs data to pick the image from; give DATA[i] or a file path.")
        images, index = data, int(spec)
    if hasattr(images, "kind") and not hasattr(images, "load_image"):
        raise NNUsageError(f"Feature maps need an image, but '{_name(images, 'the data')}' is a table; give an image path or IMAGES[i].")
    from .feature_maps import model_image_size

    size = None
    if model_image_size(model) is None and hasattr(data, "image_size"):
        size = tuple(data.image_size)  # a model that does not say its input size: the data's size
    was_built = bool(getattr(model, "built", True))
    report.gallery = FeatureGallery(model, images, index=index, layer=layer, image_size=size)
    report.feature_maps = report.gallery.maps()
    if not was_built and getattr(model, "built", False):
        built_for = model_image_size(model)
        shape = f" for {built_for[0]}×{built_for[1]} images" if built_for else ""
        report.notes.append(f"'{report.model_name}' had not been built yet: running it on this image built it{shape}.")


__all__ = ["diagnose", "DiagnosisReport", "resolve_history", "history_frame", "predict_in_order",
           "as_probabilities", "decide", "evaluate", "confusion_frame", "report_frame", "predictions_frame",
           "errors_frame", "augment_preview", "check_classes", "output_units"]
