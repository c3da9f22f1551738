"""A ``DiagnosisReport`` as plain text: what a terminal shows, and the fallback of every display.

Pure text from the report's numbers (no matplotlib, no IPython): the figures and the widgets are
the display layer's (its diagnosis view).
"""
from __future__ import annotations

import os
import textwrap

from ..i18n import _, ngettext, num


def _indent(text: str) -> str:
    return textwrap.indent(text, "  ")


def verdict_label(kind: str | None) -> str:
    """A verdict's kind as shown (the kind itself is a key: compared, stored in tables and CSV files)."""
    labels = {"converging": _("converging"), "over-fitting": _("over-fitting"), "under-fitting": _("under-fitting"),
              "too early": _("too early"), "not trained": _("not trained")}
    return labels.get(kind, kind or "")


def evaluation_text(report) -> str:
    """'loss 0.52, accuracy 0.74  (model.evaluate …)'."""
    values = ", ".join(f"{k} {num(v, '.4g')}" for k, v in report.evaluation.items())
    return f"{values}  ({report.evaluation_source})"


def shown_notes(report) -> list[str]:
    """The notes to show (the verdict is not repeated when the curves part shows it)."""
    return [n for n in report.notes if n != report.verdict or "curves" not in report.sections]


def report_text(report) -> str:
    """The report as plain text, part by part, in the order of ``report.sections``.

    Example::

        >>> print(report_text(diagnose(cnn, val)))                   # doctest: +SKIP
        Diagnosis of 'cnn' on 'val' (1,000 samples)
        Verdict: Over-fitting from epoch 6: …
    """
    if not report.model_name:
        lines = [_("Diagnosis")]
    elif report.y_true is not None:
        n = len(report.y_true)
        lines = [ngettext("Diagnosis of '{model}' on '{data}' ({n} samples)", "Diagnosis of '{model}' on '{data}' ({n} samples)",
                          n).format(model=report.model_name, data=report.data_name, n=num(n, ","))]
    else:
        lines = [_("Diagnosis of '{model}'").format(model=report.model_name)]
    parts = report.sections
    if "curves" in parts and report.verdict:
        lines.append(_("Verdict: {verdict}").format(verdict=report.verdict))
        if report.best_epoch is not None:
            lines.append(_("Best epoch (lowest validation loss): {epoch}").format(epoch=report.best_epoch))
    lines += [_("Note: {text}").format(text=note) for note in shown_notes(report)]
    if "evaluation" in parts and report.evaluation is not None:
        lines.append(_("Evaluation: {values}").format(values=evaluation_text(report)))
    if "confusion" in parts and report.confusion is not None:
        lines += [_("Confusion matrix (rows: true class, columns: predicted):"), _indent(report.confusion.to_string())]
    if "report" in parts and report.report is not None:
        lines += [_("Per-class report:"), _indent(report.report.round(3).to_string())]
    if "predictions" in parts and report.predictions is not None:
        n = report.n_predictions or 10
        lines += [_("Predictions (first {n} of {total}):").format(n=min(n, len(report.predictions)),
                                                                 total=num(len(report.predictions), ",")),
                  _indent(report.predictions.head(n).to_string(float_format=lambda v: num(v, ".3f")))]
    if "errors" in parts and report.errors is not None:
        shown = report.shown_errors()
        lines.append(_("Most confident mistakes ({n} of {total}):").format(n=len(shown), total=num(len(report.errors), ",")))
        lines.append(_indent(shown.to_string(float_format=lambda v: num(v, ".3f"))) if len(shown) else "  " + _("none"))
    if "feature_maps" in parts and report.feature_map_set is not None:
        lines.append(report.feature_map_set.text())
    if "gradcam" in parts and report.gradcam is not None:
        lines.append(report.gradcam.text())
    if "augment_preview" in parts and report.augmented is not None:
        n = len(report.augmented[1])
        lines.append(ngettext("Augmentation preview: the original image and {n} random draws "
                              "(see the figure in a notebook, or save it with --save DIR).",
                              "Augmentation preview: the original image and {n} random draws "
                              "(see the figure in a notebook, or save it with --save DIR).", n).format(n=n))
    if report.saved:
        n = len(report.saved)
        lines.append(ngettext("Saved {n} files to {folder}.", "Saved {n} files to {folder}.", n).format(
            n=n, folder=os.path.dirname(report.saved[0])))
    return "\n".join(lines)


__all__ = ["report_text", "evaluation_text", "shown_notes"]
