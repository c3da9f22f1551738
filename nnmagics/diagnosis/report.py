"""``diagnose()`` and the ``DiagnosisReport`` it returns: the numbers, and how to show them.

The report is data (pandas DataFrames, dicts, arrays, the feature maps). Its rich display, its
figures and the feature-gallery widget belong to the display layer, which this module never
imports: they are found through ``nnmagics.registry`` (``"diagnosis.view"``, ``"diagnosis.html"``,
``"diagnosis.figure"``), registered when the extension loads. Without them the report shows
itself as text (``nnmagics.diagnosis.summary``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .. import registry
from ..checks import check_data, check_model, number_in_range, optional_whole_number
from ..errors import NNUsageError, unknown
from ..i18n import _
from .augment import augment_preview as _augment_preview, dataset_image
from .class_names import parse_class_names
from .curves import history_frame, no_history_error, not_trained_text, resolve_history
from .evaluation import (as_probabilities, check_classes, check_input_shape, confusion_frame, decide, errors_frame,
                         evaluate, output_units, predict_in_order, predictions_frame, report_frame)
from .map_images import FeatureMapSet, feature_map_set
from .maps import check_layers
from .summary import report_text

# parts of the report that can be shown; the first four are chosen with show=/--curves/…
SELECTABLE = ("curves", "evaluation", "confusion", "report")
EXTRAS = ("predictions", "errors", "feature_maps", "gradcam", "augment_preview")
NEEDS_DATA = ("evaluation", "confusion", "report", "predictions", "errors")


def _name(obj: Any, default: str) -> str:
    return str(getattr(obj, "name", None) or default)


@dataclass(eq=False, repr=False)
class DiagnosisReport(registry.Displayed):
    """What ``diagnose`` found; displays as curves, tables and figures (text in a terminal).

    Attributes (None when not computed):

    - ``verdict`` (plain words), ``verdict_kind`` ('converging', 'over-fitting', 'under-fitting',
      'not trained'), ``best_epoch`` (1-based, lowest validation loss), ``curves`` (history DataFrame)
    - with data: ``evaluation`` ({'loss', 'accuracy', …}) and ``evaluation_source``, ``confusion``
      (rows = true classes, columns = predicted), ``report`` (per-class precision/recall/F1),
      ``predictions`` (file or row, true_class, predicted_class, probability, correct),
      ``errors`` (the mistakes, most confident first), ``probabilities``, ``y_true``, ``y_pred``
    - ``feature_maps`` (layer → H×W×C array of the chosen image) and ``feature_map_set`` (the images,
      layers and maps the gallery browses)
    - ``gradcam``: a ``GradCAM`` (heat maps, predictions, the layer) for ``--gradcam``
    - ``augmented`` (original, draws) for ``--augment-preview``; ``saved`` (files written); ``notes``
    - ``views``: what the display layer drew for this report (figures, the gallery widget), kept
    - ``recipe``: what was computed, as data (``%nn_diagnose --code`` prints it as plain code)

    Example::

        >>> r = diagnose(cnn, val)                                    # doctest: +SKIP
        >>> r.verdict_kind, r.best_epoch, r.evaluation["accuracy"]    # doctest: +SKIP
        ('over-fitting', 5, 0.74)
        >>> r.confusion                                               # doctest: +SKIP
    """

    model: Any = None
    data: Any = None
    model_name: str | None = None
    data_name: str | None = None
    sections: tuple[str, ...] = ()
    history: dict[str, list[float]] | None = None
    curves: Any = None
    verdict: str | None = None
    verdict_kind: str | None = None
    verdict_info: Any = None
    best_epoch: int | None = None
    from_epoch: int | None = None
    class_names: list[str] | None = None
    threshold: float = 0.5
    evaluation: dict[str, float] | None = None
    evaluation_source: str | None = None
    probabilities: np.ndarray | None = None
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    confusion: Any = None
    report: Any = None
    predictions: Any = None
    errors: Any = None
    n_predictions: int | None = None
    n_errors: int | None = None
    feature_maps: Any = None
    feature_map_set: FeatureMapSet | None = None
    gradcam: Any = None
    augmented: tuple[np.ndarray, np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)
    views: dict[str, Any] = field(default_factory=dict)
    recipe: Any = None   # what was computed, as data: ``diagnosis.code.diagnose_code`` writes it (--code)
    display_kind = "diagnosis"   # its view, HTML and figures: the display layer's (``nnmagics.registry``)

    def __post_init__(self) -> None:
        if self.model_name is None and self.model is not None:
            self.model_name = _name(self.model, "model")
        if self.data_name is None and self.data is not None:
            self.data_name = _name(self.data, "data")

    def shown_errors(self):
        """The mistakes shown: the first ``n_errors`` (10 by default) of ``errors``."""
        return None if self.errors is None else self.errors.head(self.n_errors or 10)

    # -- the display layer, found through the registry ----------------------------------------
    @staticmethod
    def can_draw() -> bool:
        """True when a display layer is registered to draw figures (``%load_ext nnmagics``)."""
        return registry.lookup("diagnosis.figure") is not None

    def figure(self, part: str):
        """The matplotlib Figure of ``part`` ('curves', 'confusion', 'errors', 'feature_maps',
        'augment_preview'), drawn once by the display layer; None when there is nothing to draw."""
        return self._figure(part)

    def save(self, folder: str | os.PathLike) -> list[str]:
        """Write the tables (CSV) and figures (PNG) into ``folder``; return the paths."""
        from .export import save_report

        self.saved = save_report(self, folder)
        return self.saved

    def text(self) -> str:
        """The report as plain text."""
        return report_text(self)


def _choose_sections(show: Iterable[str] | str | None, data: Any, extras_given: dict[str, Any]) -> tuple[str, ...]:
    """The parts to display: ``show`` (curves/evaluation/confusion/report) plus the extras asked for;
    nothing asked at all → curves, and with data evaluation, confusion and report."""
    if isinstance(show, str):
        show = [s.strip() for s in show.split(",") if s.strip()]
    chosen = list(show or [])
    for part in chosen:
        if part not in SELECTABLE:
            raise unknown(_("Unknown report part '{word}'."), part, SELECTABLE)
    if ("confusion" in chosen or "report" in chosen) and "evaluation" not in chosen:
        chosen.append("evaluation")
    extras = [name for name in EXTRAS if extras_given.get(name) is not None]
    if not chosen and not extras:
        chosen = ["curves"] + (["evaluation", "confusion", "report"] if data is not None else [])
    return tuple(p for p in SELECTABLE + EXTRAS if p in chosen or p in extras)


def _count(value: Any, option: str) -> int | None:
    return optional_whole_number(value, option, example=f"{option} 10")


def diagnose(model, data=None, *, history=None, threshold: float = 0.5, class_names=None,
             predictions: int | None = None, errors: int | None = None, feature_maps: Any = None,
             save: str | os.PathLike | None = None, show: Iterable[str] | str | None = None,
             layer: str | None = None, augment_preview: Any = None, gradcam: Any = None) -> DiagnosisReport:
    """Diagnose ``model``: curves with a verdict; with ``data`` evaluation, confusion matrix,
    per-class report and predictions; optionally feature maps and an augmentation preview.

    - ``history``: a Keras ``History`` (what ``fit`` returns), a ``TrainHistory`` or a dict;
      default: the history nnmagics kept for the model, else Keras' ``model.history``.
    - ``threshold``: for one sigmoid unit, class 1 when ``p > threshold``.
    - ``class_names``: names to show instead of the data's ("kitty,doggy" or a list), in the
      data's order; the data's own names in another order are refused.
    - ``predictions=N`` / ``errors=N``: show the first N predictions / the N most confident mistakes.
    - ``feature_maps``: an image path, an array, an index into ``data``, or ``(dataset, i)``;
      ``layer`` picks one conv/pool layer of the gallery.
    - ``gradcam``: images to explain with Grad-CAM heat maps (``(dataset, slice(0, 8))``, a dataset: its
      first 8, arrays, paths; see ``nnmagics.diagnosis.gradcam``); ``layer`` picks its layer (default:
      the last convolution).
    - ``show``: the parts to display among curves, evaluation, confusion, report (default: all
      that apply, or only the extras when extras are asked for).
    - ``save``: a folder to write the figures (PNG) and tables (CSV) into.
    - ``augment_preview``: an ``ImageData`` (or ``(ImageData, i)``) to show under random augmentations;
      ``model`` may be None for this one.

    Long passes (predicting, evaluating, the feature-map pass) show a progress bar after two seconds.

    Example::

        report = diagnose(cnn, val)
        report.verdict, report.evaluation, report.confusion
        diagnose(cnn, feature_maps=(val, 0), layer="conv2d_1")
        diagnose(cnn, gradcam=(val, slice(0, 8))).gradcam.heatmaps
    """
    sections = _choose_sections(show, data, {"predictions": predictions, "errors": errors,
                                             "feature_maps": feature_maps, "gradcam": gradcam,
                                             "augment_preview": augment_preview})
    if model is None and any(p != "augment_preview" for p in sections):
        raise NNUsageError(_("Give the model to diagnose, e.g. %nn_diagnose cnn val."))
    if model is not None:
        check_model(model)
    if data is not None:
        check_data(data)
    report = DiagnosisReport(model, data, sections=sections)
    report.threshold = number_in_range(threshold, "--threshold", low=0, high=1, low_inclusive=False,
                                       high_inclusive=False, example="--threshold 0.5")
    report.n_predictions = _count(predictions, "--predictions")
    report.n_errors = _count(errors, "--errors")
    if layer is not None and feature_maps is None and gradcam is None:
        raise NNUsageError(_("--layer picks a layer of the feature-map gallery or of Grad-CAM; add --feature-maps IMAGE "
                             "(a path or DATA[i]) or --gradcam DATA[a:b]."))
    if data is None:
        missing = [p for p in sections if p in NEEDS_DATA and p != "evaluation"] or [p for p in sections if p == "evaluation"]
        if missing:
            raise NNUsageError(_("--{part} needs data to predict on; give it, e.g. %nn_diagnose {model} val "
                                 "--{part}.").format(part=missing[0], model=report.model_name))
    if feature_maps is not None:
        check_layers(model, layer)
    if augment_preview is not None:
        dataset_image(augment_preview, "--augment-preview")

    if gradcam is not None:   # first: a misspelt --layer is one sentence before any long pass
        _add_gradcam(report, gradcam, layer, class_names)
    if model is not None:
        _add_curves(report, history, wanted="curves" in sections, has_data=data is not None)
    if data is not None:
        _add_data_results(report, class_names)
    if feature_maps is not None:
        _add_feature_maps(report, feature_maps, layer)
    if augment_preview is not None:
        report.augmented = _augment_preview(augment_preview)
    if model is not None and report.recipe is None:
        from .code import record_diagnosis

        report.recipe = record_diagnosis(report)
    if save is not None:
        report.save(save)
    return report


def _is_selection(value: Any) -> bool:
    """An index, a slice or a list of indices (into ``data``), not images."""
    return isinstance(value, (int, np.integer, slice)) and not isinstance(value, bool) or (
        isinstance(value, list) and all(isinstance(i, (int, np.integer)) for i in value) and bool(value))


def _add_curves(report: DiagnosisReport, history: Any, *, wanted: bool, has_data: bool) -> None:
    from ..training import verdict as verdict_module

    found = resolve_history(report.model, history)
    if found is None:
        if wanted and not has_data:
            raise no_history_error(report.model_name)
        report.verdict_kind = "not trained"
        report.verdict = not_trained_text(report.model_name, has_data)
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


def _add_data_results(report: DiagnosisReport, class_names) -> None:
    model, data = report.model, report.data
    names = parse_class_names(class_names, data)
    check_input_shape(model, data)
    units = output_units(model, data)
    check_classes(model, data, units)
    outputs, y_true = predict_in_order(model, data)
    probs, converted = as_probabilities(outputs)
    if converted:
        report.notes.append(_("The model outputs logits (values outside 0–1): probabilities were computed with a "
                              "sigmoid.") if units == 1 else
                            _("The model outputs logits (values outside 0–1): probabilities were computed with a "
                              "softmax."))
    y_pred, confidence, per_class = decide(probs, report.threshold)
    report.class_names = names
    report.probabilities, report.y_true, report.y_pred = probs, y_true, y_pred
    report.evaluation, report.evaluation_source = evaluate(model, data, per_class, y_true, y_pred, units)
    report.confusion = confusion_frame(y_true, y_pred, names)
    report.report = report_frame(y_true, y_pred, names)
    report.predictions = predictions_frame(data, y_true, y_pred, confidence, names)
    report.errors = errors_frame(report.predictions, per_class[np.arange(len(y_true)), y_true])
    from .code import record_diagnosis

    report.recipe = record_diagnosis(report, units=units, converted=converted)


def _add_gradcam(report: DiagnosisReport, spec: Any, layer: str | None, class_names) -> None:
    from .cam import gradcam

    images = (report.data, spec) if report.data is not None and _is_selection(spec) else spec
    source = images[0] if isinstance(images, tuple) else (images if hasattr(images, "class_names") else report.data)
    names = parse_class_names(class_names, source) if class_names is not None and source is not None else None
    report.gradcam = gradcam(report.model, images, layer, threshold=report.threshold, class_names=names)


def _add_feature_maps(report: DiagnosisReport, spec: Any, layer: str | None) -> None:
    from ..checks import model_image_size

    model = report.model
    was_built = bool(getattr(model, "built", True))
    report.feature_map_set = feature_map_set(model, spec, report.data, layer)
    report.feature_maps = report.feature_map_set.maps()
    if not was_built and getattr(model, "built", False):
        built_for = model_image_size(model)
        if built_for:
            note = _("'{model}' had not been built yet: running it on this image built it for {height}×{width} "
                     "images.").format(model=report.model_name, height=built_for[0], width=built_for[1])
        else:
            note = _("'{model}' had not been built yet: running it on this image built it.").format(
                model=report.model_name)
        report.notes.append(note)


__all__ = ["diagnose", "DiagnosisReport", "SELECTABLE", "EXTRAS"]
