"""Evaluate a classifier on a dataset: ONE pass in the data's fixed order, then the numbers.

Predictions and labels come from ``data.batches(shuffle=False)`` (``tf.data`` or numpy batches): each batch's images are
predicted and its labels kept, so they can never be misaligned (the course's
``confusion_matrix(validation_generator.classes, y_pred)`` on a shuffled generator is), and every
sample counts once, the last partial batch included. From them: probabilities, predicted classes,
``evaluate``'s loss and accuracy, the confusion counts, the per-class report, the table of
predictions and the most confident mistakes.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from ..checks import model_input_shape, shape_fits
from ..errors import NNUsageError
from ..i18n import _, ngettext
from .curves import accuracy_key
from ..progress import batch_callback, batches_of, progress_bar
from ..runtime.backend import to_numpy

_EPS = 1e-7  # Keras' epsilon, for the cross-entropy of an uncompiled model


def _name(obj: Any, default: str) -> str:
    return str(getattr(obj, "name", None) or default)


# ----------------------------------------------------------------------------- model/data fit
def check_input_shape(model, data) -> None:
    """A UsageError when the model's input shape (if known) differs from the data's samples."""
    expected, got = model_input_shape(model), tuple(data.input_shape)
    if not shape_fits(expected, got):
        raise NNUsageError(
            _("Model '{model}' expects inputs of shape {expected} but '{data}' gives {got}; use data of that shape "
              "(e.g. --image-size {size} in %nn_data).").format(model=_name(model, 'model'), expected=expected,
                                                                data=_name(data, _('the data')), got=got,
                                                                size=expected[0] if expected else '')
        )


def output_units(model, data) -> int:
    """Number of output units of the model (from its graph, else by predicting one sample)."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs:
        if len(outputs) > 1:
            raise NNUsageError(_("Model '{model}' has {n} outputs; diagnosis works for a classifier with one "
                                 "output.").format(model=_name(model, 'model'), n=len(outputs)))
        units = outputs[0].shape[-1]
        if units is not None:
            return int(units)
    x, _labels = next(iter(data.batches(shuffle=False, batch_size=1, class_mode="int")))
    return int(np.asarray(_predict(model, x, data)).reshape(1, -1).shape[1])


def check_classes(model, data, units: int) -> None:
    """A UsageError when the data's classes do not fit the model's output units."""
    k = len(data.class_names)
    if (units == 1 and k == 2) or (units > 1 and units == k):
        return
    want = _("2 classes (one sigmoid unit)") if units == 1 else _("{n} classes").format(n=units)
    raise NNUsageError(
        ngettext("Model '{model}' has {units} output unit (it predicts {want}) but '{data}' has {k} classes "
                 "({classes}); diagnose it on data with the classes it was trained on, or rebuild it with "
                 "%nn_build NAME ... --from DATA.",
                 "Model '{model}' has {units} output units (it predicts {want}) but '{data}' has {k} classes "
                 "({classes}); diagnose it on data with the classes it was trained on, or rebuild it with "
                 "%nn_build NAME ... --from DATA.", units).format(
            model=_name(model, 'model'), units=units, want=want, data=_name(data, _('the data')), k=k,
            classes=", ".join(map(str, data.class_names)))
    )


# ----------------------------------------------------------------------------- predictions
def _predict(model, x, data) -> np.ndarray:
    try:
        out = model.predict_on_batch(x)
    except NNUsageError:
        raise
    except Exception as exc:  # TF/Keras errors for data the model cannot take
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NNUsageError(
            _("Model '{model}' could not predict on '{data}' ({reason}); check that the data matches the model's "
              "input.").format(model=_name(model, 'model'), data=_name(data, _('the data')), reason=reason[:200])
        ) from None
    if isinstance(out, (list, tuple, dict)):
        raise NNUsageError(_("Model '{model}' has several outputs; diagnosis works for a classifier with one "
                             "output.").format(model=_name(model, 'model')))
    return np.asarray(to_numpy(out), dtype="float64")


def predict_in_order(model, data) -> tuple[np.ndarray, np.ndarray]:
    """``(probabilities N×units, true labels N)`` from ONE pass over the data in its fixed order.

    Labels are taken from the very batches that are predicted, so they are aligned by
    construction; the last partial batch is included. A pass longer than two seconds shows a
    progress bar (batches).

    Example::

        >>> probs, y_true = predict_in_order(cnn, val)                # doctest: +SKIP
        >>> probs.shape, y_true.shape                                 # doctest: +SKIP
        ((1000, 1), (1000,))
    """
    probs, labels = [], []
    with progress_bar(batches_of(data), _("Predicting '{data}'").format(data=_name(data, 'data'))) as bar:
        for x, y in data.batches(shuffle=False, class_mode="int"):   # tf.data, or numpy batches off TensorFlow
            p = _predict(model, x, data)
            probs.append(p.reshape(len(p), -1))
            labels.append(to_numpy(y).reshape(-1).astype("int64"))
            bar.update()
    if not probs:
        raise NNUsageError(_("'{data}' holds no sample to diagnose; load data with at least one sample.").format(
            data=_name(data, _('The data'))))
    return np.concatenate(probs), np.concatenate(labels)


def as_probabilities(outputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """Model outputs as probabilities: unchanged if already in [0, 1] (rows summing to 1 for
    several units), else sigmoid (one unit) or softmax (logits). Returns ``(probs, converted)``.

    Example::

        >>> probs, converted = as_probabilities(np.array([[2.0, 0.0]]))
        >>> probs.round(3).tolist(), converted
        ([[0.881, 0.119]], True)
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

    Example::

        >>> predicted, confidence, _ = decide(np.array([[0.2], [0.7]]), threshold=0.5)
        >>> predicted.tolist(), confidence.round(2).tolist()
        ([0, 1], [0.8, 0.7])
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
    encoded for its loss; a progress bar after two seconds). An uncompiled one cannot be: its
    cross-entropy and accuracy are computed from the predictions instead, and the source says so.

    Example::

        >>> values, source = evaluate(cnn, val, per_class, y_true, y_pred, units=1)   # doctest: +SKIP
        >>> values, source                                                             # doctest: +SKIP
        ({'loss': 0.52, 'accuracy': 0.74}, "model.evaluate (labels encoded as 'binary')")
    """
    accuracy = float(np.mean(y_pred == y_true))
    if getattr(model, "compiled", False) and getattr(model, "loss", None) is not None:
        mode = _label_mode_for(model, units)
        try:
            with progress_bar(batches_of(data), _("Evaluating on '{data}'").format(data=_name(data, 'data'))) as bar:
                result = model.evaluate(data.batches(shuffle=False, class_mode=mode), verbose=0,
                                        return_dict=True, callbacks=[batch_callback(bar)])
        except Exception as exc:  # a loss that does not fit the labels: fall back, and say why
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            source = _("computed from the predictions (model.evaluate failed: {reason})").format(reason=reason[:120])
        else:
            # code.record_diagnosis tells the two sources apart by "model.evaluate" at the start, in every language
            return _tidy_evaluation(result, accuracy), _("model.evaluate (labels encoded as '{mode}')").format(mode=mode)
    else:
        source = _("computed from the predictions (the model is not compiled, so model.evaluate cannot run)")
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
    """The confusion counts as a DataFrame: rows = true classes, columns = predicted classes.

    Example::

        >>> confusion_frame(np.array([0, 0, 1]), np.array([0, 1, 1]), ["cats", "dogs"]).to_numpy().tolist()
        [[1, 1], [0, 1]]
    """
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(names))))
    return pd.DataFrame(matrix, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted"))


def report_frame(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]):
    """scikit-learn's ``classification_report`` as a DataFrame (precision, recall, f1-score, support).

    Example::

        >>> frame = report_frame(np.array([0, 0, 1]), np.array([0, 1, 1]), ["cats", "dogs"])
        >>> float(frame.loc["cats", "recall"]), int(frame.loc["dogs", "support"])
        (0.5, 1)
    """
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
    features), true class, predicted class, probability of the predicted class, correct.

    Example::

        >>> report.predictions.head(3)                                # doctest: +SKIP
    """
    import pandas as pd

    columns: dict[str, Any] = {}
    files = getattr(data, "files", None)
    if files is not None:
        root = getattr(data, "root", None)
        from ..data.filenames import printable

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
    """The mistakes, most confident first (fastai's "top losses"): ``loss`` = −log p(true class).

    Example::

        >>> report.errors.head(5)[["file", "true_class", "predicted_class", "loss"]]   # doctest: +SKIP
    """
    frame = predictions.assign(p_true=p_true, loss=-np.log(np.clip(p_true, _EPS, 1.0)))
    wrong = frame[~frame["correct"]].sort_values("loss", ascending=False, kind="stable")
    return wrong if n is None else wrong.head(n)


__all__ = ["predict_in_order", "as_probabilities", "decide", "evaluate", "confusion_frame", "report_frame",
           "predictions_frame", "errors_frame", "output_units", "check_classes", "check_input_shape"]
