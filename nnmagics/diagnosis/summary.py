"""A ``DiagnosisReport`` as plain text: what a terminal shows, and the fallback of every display.

Pure text from the report's numbers (no matplotlib, no IPython): the figures and the widgets are
the display layer's (its diagnosis view).
"""
from __future__ import annotations

import os
import textwrap


def _indent(text: str) -> str:
    return textwrap.indent(text, "  ")


def evaluation_text(report) -> str:
    """'loss 0.52, accuracy 0.74  (model.evaluate …)'."""
    values = ", ".join(f"{k} {v:.4g}" for k, v in report.evaluation.items())
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
    on = f" on '{report.data_name}' ({len(report.y_true):,} samples)" if report.y_true is not None else ""
    lines = [f"Diagnosis of '{report.model_name}'{on}" if report.model_name else "Diagnosis"]
    parts = report.sections
    if "curves" in parts and report.verdict:
        lines.append(f"Verdict: {report.verdict}")
        if report.best_epoch is not None:
            lines.append(f"Best epoch (lowest validation loss): {report.best_epoch}")
    lines += [f"Note: {note}" for note in shown_notes(report)]
    if "evaluation" in parts and report.evaluation is not None:
        lines.append("Evaluation: " + evaluation_text(report))
    if "confusion" in parts and report.confusion is not None:
        lines += ["Confusion matrix (rows: true class, columns: predicted):", _indent(report.confusion.to_string())]
    if "report" in parts and report.report is not None:
        lines += ["Per-class report:", _indent(report.report.round(3).to_string())]
    if "predictions" in parts and report.predictions is not None:
        n = report.n_predictions or 10
        lines += [f"Predictions (first {min(n, len(report.predictions))} of {len(report.predictions):,}):",
                  _indent(report.predictions.head(n).to_string(float_format=lambda v: f"{v:.3f}"))]
    if "errors" in parts and report.errors is not None:
        shown = report.shown_errors()
        lines.append(f"Most confident mistakes ({len(shown)} of {len(report.errors):,}):")
        lines.append(_indent(shown.to_string(float_format=lambda v: f"{v:.3f}")) if len(shown) else "  none")
    if "feature_maps" in parts and report.feature_map_set is not None:
        lines.append(report.feature_map_set.text())
    if "gradcam" in parts and report.gradcam is not None:
        lines.append(report.gradcam.text())
    if "augment_preview" in parts and report.augmented is not None:
        lines.append(f"Augmentation preview: the original image and {len(report.augmented[1])} random draws "
                     "(see the figure in a notebook, or save it with --save DIR).")
    if report.saved:
        lines.append(f"Saved {len(report.saved)} files to {os.path.dirname(report.saved[0])}.")
    return "\n".join(lines)


__all__ = ["report_text", "evaluation_text", "shown_notes"]
