"""``%nn_diagnose --code``: the plain Keras + scikit-learn/mlxtend of what one diagnosis computed.

``diagnose()`` records a ``DiagnoseRecipe`` in ``report.recipe`` (``record_diagnosis``) from the values
it used: the data's own attributes, the output units, the label encoding ``evaluate`` fed the loss
(``evaluation._label_mode_for``, the function ``evaluate`` calls), whether the outputs were logits,
the threshold, the class names shown, the parts shown and the history's keys. ``diagnose_code``
renders it: the data in its fixed order, ``evaluate``, ``predict``, threshold or argmax,
``confusion_matrix``, ``classification_report``, ``plot_confusion_matrix`` and the course's curves
from ``history.history``. The data lines are ``training.code_data``'s, the ones ``%nn_train --code`` prints.

Example::

    report = diagnose(cnn, cats_val, show="confusion")
    print(diagnose_code(report.recipe))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..i18n import _

# ``nnmagics.training`` imports Keras: its code helpers (``training.code_data``) are imported where they
# are used, so that importing nnmagics.diagnosis stays light


@dataclass(frozen=True)
class DiagnoseRecipe:
    """What one ``diagnose()`` computed, as data: ``diagnose_code`` writes it as plain code."""

    model_name: str
    data_name: str | None
    sections: tuple
    data: Any = None                     # a training.code_data.DataRecipe
    units: int | None = None
    label_mode: str | None = None        # the labels model.evaluate got; None: computed from the predictions
    converted: bool = False              # the outputs were logits: sigmoid/softmax applied
    threshold: float = 0.5
    class_names: tuple = ()
    history_keys: tuple = ()             # (accuracy key or None, has validation)
    n_predictions: int | None = None
    n_errors: int | None = None
    gradcam: Any = None                  # a gradcam_code.GradCAMRecipe
    backend: str = "tensorflow"          # tf.data on TensorFlow, numpy arrays on JAX and PyTorch


def record_diagnosis(report, *, units: int | None = None, converted: bool = False) -> DiagnoseRecipe:
    """The recipe of ``report`` (called by ``diagnose()`` once the numbers are computed).

    Example::

        report.recipe = record_diagnosis(report, units=1, converted=False)
    """
    from ..training.code_data import data_recipe
    from .curves import accuracy_key
    from .evaluation import _label_mode_for

    mode = None
    if report.data is not None and units is not None and (report.evaluation_source or "").startswith("model.evaluate"):
        mode = _label_mode_for(report.model, units)
    keys = ()
    if report.history:
        keys = (accuracy_key(report.history), "val_loss" in report.history)
    cam = None
    if report.gradcam is not None:
        from .gradcam_code import gradcam_recipe

        cam = gradcam_recipe(report.model, report.gradcam)
    return DiagnoseRecipe(
        model_name=str(report.model_name or "model"), data_name=report.data_name, sections=tuple(report.sections),
        data=data_recipe(report.data) if report.data is not None else None, units=units, label_mode=mode,
        converted=bool(converted), threshold=float(report.threshold),
        class_names=tuple(report.class_names or ()), history_keys=keys,
        n_predictions=report.n_predictions, n_errors=report.n_errors, gradcam=cam, backend=_backend())


def _backend() -> str:
    from ..runtime.backend import name

    return name()


def _data_lines(recipe: DiagnoseRecipe, model: str) -> list[str]:
    """Load, evaluate and predict, in the data's fixed order; ends with ``probs`` and ``y_true``."""
    from ..training.code_data import encode_code, images_lines, literal, shown_name, table_read_lines
    data = recipe.data
    k = len(data.class_names)
    mode = recipe.label_mode
    lines = ["# " + _("the data ({data}), in its fixed order (no shuffle): predictions and labels stay aligned").format(
        data=shown_name(recipe.data_name))]
    if data.kind == "table":
        lines += table_read_lines(data)
        if mode is not None:
            lines += [f"results = {model}.evaluate(X, {encode_code('labels', mode, k)}, batch_size={data.batch_size}, "
                      "return_dict=True)"]
        lines += [f"probs = {model}.predict(X, batch_size={data.batch_size})", "y_true = labels"]
    elif recipe.backend != "tensorflow":   # JAX, PyTorch: numpy arrays, no tf.data
        from ..training.code_data import folder_arrays_lines

        lines += folder_arrays_lines(data, "x", "labels") + ["x = x.astype('float32')"]
        if mode is not None:
            lines += [f"results = {model}.evaluate(x, {encode_code('labels', mode, k)}, batch_size={data.batch_size}, "
                      "return_dict=True)"]
        lines += [f"probs = {model}.predict(x, batch_size={data.batch_size})", "y_true = labels"]
    else:
        lines += images_lines(data, "data", mode or "int") + [f"data = data.batch({data.batch_size})"]
        if mode is not None:
            lines += [f"results = {model}.evaluate(data, return_dict=True)"]
        lines += [f"probs = {model}.predict(data)"]
        labels = "np.concatenate([np.asarray(y) for _, y in data])"
        if mode == "categorical":
            lines += [f"y_true = {labels}.argmax(axis=1)"]
        else:
            lines += [f"y_true = {labels}.reshape(-1).astype(int)"]
    if recipe.converted:
        if recipe.units == 1:
            lines += ["probs = 1 / (1 + np.exp(-probs))  # " + _("the model outputs logits: a sigmoid gives probabilities")]
        else:
            lines += ["probs = np.exp(probs - probs.max(axis=1, keepdims=True))  # "
                      + _("logits: a softmax gives probabilities"),
                      "probs = probs / probs.sum(axis=1, keepdims=True)"]
    if recipe.units == 1:
        lines += [f"y_pred = (probs[:, 0] > {literal(recipe.threshold)}).astype(int)  # "
                  + _("one sigmoid unit: class 1 when p > threshold"),
                  "p_class = np.stack([1 - probs[:, 0], probs[:, 0]], axis=1)"]
    else:
        lines += ["y_pred = probs.argmax(axis=1)  # " + _("softmax: the most probable class"), "p_class = probs"]
    if mode is None:
        lines += ["# " + _("the model is not compiled: accuracy and cross-entropy from the predictions"),
                  "results = {'loss': float(-np.mean(np.log(np.clip(p_class[np.arange(len(y_true)), y_true], 1e-7, 1 - 1e-7)))),",
                  "           'accuracy': float(np.mean(y_pred == y_true))}"]
    return lines + ["print(results)"]


def _curves_lines(recipe: DiagnoseRecipe, model: str) -> list[str]:
    """The course's plotting code, on the history's own keys."""
    from ..training.code_data import literal
    acc, has_val = recipe.history_keys
    lines = [f"history = {model}_history  # " + _("what %nn_train kept (after model.fit: history = model.fit(...))")]
    pairs = ([("acc", acc, "accuracy")] if acc else []) + [("loss", "loss", "loss")]
    for short, key, _title in pairs:
        lines.append(f"{short} = history.history[{literal(key)}]")
        if has_val:
            lines.append(f"val_{short} = history.history[{literal('val_' + key)}]")
    lines.append(f"epochs = range(1, len({pairs[0][0]}) + 1)")
    for i, (short, _key, title) in enumerate(pairs):
        if i:
            lines.append("plt.figure()")
        lines.append(f"plt.plot(epochs, {short}, 'bo', label='Training {short}')")
        if has_val:
            lines.append(f"plt.plot(epochs, val_{short}, 'b', label='Validation {short}')")
        lines += [f"plt.title('Training and validation {title}')", "plt.legend()"]
    return lines + ["plt.show()"]


def diagnose_code(recipe: DiagnoseRecipe) -> str:
    """The plain Keras + scikit-learn/mlxtend of what ``recipe``'s diagnosis computed (``--code``).

    Example::

        print(diagnose_code(report.recipe))
    """
    from ..training.code_data import literal, shown_name, variable

    model = variable(recipe.model_name, "model")
    sections = set(recipe.sections)
    curves = "curves" in sections and bool(recipe.history_keys)
    with_data = recipe.data is not None and bool(sections & {"evaluation", "confusion", "report", "predictions", "errors"})
    head = ["import numpy as np"]
    if with_data:
        head.insert(0, "import keras")
        if recipe.data.kind == "table":
            head += ["import pandas as pd", "from sklearn.preprocessing import LabelEncoder"]
        elif recipe.backend == "tensorflow":
            head += ["import tensorflow as tf"]
        else:
            head.insert(0, "import os")
    if {"predictions", "errors"} & sections and with_data and "import pandas as pd" not in head:
        head += ["import pandas as pd"]
    if with_data and {"confusion", "report"} & sections:
        head += ["from sklearn.metrics import " + ", ".join(
            n for n, part in (("confusion_matrix", "confusion"), ("classification_report", "report")) if part in sections)]
    if with_data and "confusion" in sections:
        head += ["from mlxtend.plotting import plot_confusion_matrix"]
    if curves or (with_data and "confusion" in sections):
        head += ["import matplotlib.pyplot as plt"]
    if recipe.gradcam is not None:
        from .gradcam_code import gradcam_imports

        head = (["import keras"] if "import keras" not in head else []) + head
        head += [h for h in gradcam_imports(recipe.gradcam) if h not in head]
    what = f"%nn_diagnose {shown_name(recipe.model_name)}" + (f" {shown_name(recipe.data_name)}" if recipe.data_name else "")
    lines = ["# " + _("{command}: what it computed, as plain Keras + scikit-learn/mlxtend").format(command=what)] + head + [""]
    if model != recipe.model_name:
        lines.append("model = ...  # " + _("the model {name}").format(name=shown_name(recipe.model_name)))
    folder_arrays = with_data and recipe.data.kind != "table" and recipe.backend != "tensorflow"
    if recipe.gradcam is not None:
        from .gradcam_code import reads_folder

        folder_arrays = folder_arrays or reads_folder(recipe.gradcam)
    if folder_arrays:   # the helper the numpy data lines call, defined once
        from ..data.decode import load_folder_code

        lines += load_folder_code().splitlines() + [""]
    if curves:
        lines += ["# " + _("the curves (the course's plotting code)")] + _curves_lines(recipe, model) + [""]
    if with_data:
        names = list(recipe.class_names)
        lines += _data_lines(recipe, model) + ["", f"class_names = {literal(names)}"]
        if "confusion" in sections:
            lines += ["# " + _("rows: true classes, columns: predicted classes"),
                      f"cm = confusion_matrix(y_true, y_pred, labels={literal(list(range(len(names))))})",
                      "fig, ax = plot_confusion_matrix(conf_mat=cm, class_names=class_names)", "plt.show()"]
        if "report" in sections:
            lines += [f"print(classification_report(y_true, y_pred, labels={literal(list(range(len(names))))}, "
                      "target_names=class_names, zero_division=0))"]
        if {"predictions", "errors"} & sections:
            lines += ["names = np.array(class_names)",
                      "table = pd.DataFrame({'true_class': names[y_true], 'predicted_class': names[y_pred],",
                      "                      'probability': p_class[np.arange(len(y_pred)), y_pred], 'correct': y_true == y_pred})"]
            if "predictions" in sections:
                lines.append(f"print(table.head({recipe.n_predictions or 10}))")
            if "errors" in sections:
                lines += ["table['loss'] = -np.log(np.clip(p_class[np.arange(len(y_true)), y_true], 1e-7, 1))",
                          "mistakes = table[~table['correct']].sort_values('loss', ascending=False, kind='stable')",
                          f"print(mistakes.head({recipe.n_errors or 10}))  # " + _("the most confident mistakes first")]
    if recipe.gradcam is not None:
        from .gradcam_code import gradcam_lines

        lines += ([""] if lines[-1] else []) + gradcam_lines(recipe.gradcam, model)
    elif not curves and not with_data:
        lines.append("# " + _("no curves yet: train {model} first (%nn_train or {model}.fit), or give data to evaluate "
                              "on").format(model=model))
    if sections & {"feature_maps", "augment_preview"}:
        lines.append("# " + _("(the feature maps and the augmentation preview have no --code yet)"))
    return "\n".join(lines) + "\n"


__all__ = ["DiagnoseRecipe", "record_diagnosis", "diagnose_code"]
