"""How a ``DiagnosisReport`` looks: the course's curves, the mlxtend confusion matrix, tables, galleries.

Every figure is a matplotlib ``Figure`` that is not left in pyplot's state (safe under any
backend, never shown twice by the inline backend); the notebook gets PNGs and HTML tables and
the feature gallery as a widget, a terminal gets text (``nnmagics.diagnosis.summary``).

The core (``nnmagics.diagnosis``) does not import this module: ``register()`` tells
``nnmagics.registry`` where to find the report's view, HTML and figures, and the report asks
the registry when it is displayed. Drawn figures and the gallery are kept in ``report.views``.

Example::

    register()                       # done by nnmagics.display.register() when the extension loads
    show_report(diagnose(cnn, val))  # what displaying the report does
"""
from __future__ import annotations

import base64
import html
import os
import textwrap

from ..i18n import _, ngettext, num
from ..registry import register as _register
from .output import figure_png, frame_html

# importing this module stays light (register() runs when the extension loads): NumPy, matplotlib
# and the diagnosis core are imported by the functions that draw


def _title(part: str) -> str:
    """The heading of one part of the report, in the language in use."""
    return {
        "curves": _("Training curves"),
        "evaluation": _("Evaluation"),
        "confusion": _("Confusion matrix"),
        "report": _("Per-class report"),
        "predictions": _("Predictions"),
        "errors": _("Most confident mistakes"),
        "feature_maps": _("Feature maps"),
        "gradcam": "Grad-CAM",   # not translated: a method's name
        "augment_preview": _("Augmentation preview"),
    }[part]


_ERRORS_PER_ROW = 5


# ----------------------------------------------------------------------------- figures
def curves_figure(curves, verdict: str | None = None, best_epoch: int | None = None,
                  from_epoch: int | None = None, title: str | None = None):
    """The course's two plots, side by side: accuracy and loss, training vs validation, per epoch.

    The best epoch (lowest validation loss) is marked, the over-fitting epochs shaded, and the
    verdict written underneath.

    Example::

        fig = curves_figure(history_frame(history.history), verdict.text, verdict.best_epoch)
    """
    import numpy as np
    from matplotlib.figure import Figure

    from ..diagnosis.curves import accuracy_key

    acc = accuracy_key(curves.columns)
    panels = ([("accuracy", acc, f"val_{acc}")] if acc else []) + [("loss", "loss", "val_loss")]
    shown = {"accuracy": (_("training accuracy"), _("validation accuracy"), _("Training and validation accuracy"),
                          _("accuracy")),
             "loss": (_("training loss"), _("validation loss"), _("Training and validation loss"), _("loss"))}
    fig = Figure(figsize=(6.2 * len(panels), 4.4))
    epochs = np.asarray(curves.index)
    for i, (label, train_key, val_key) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        train_label, val_label, panel_title, axis_label = shown[label]
        ax.plot(epochs, curves[train_key], "o-", ms=3, label=train_label)
        if val_key in curves and curves[val_key].notna().any():
            ax.plot(epochs, curves[val_key], "o-", ms=3, label=val_label)
            if best_epoch is not None and best_epoch in curves.index:
                ax.plot([best_epoch], [curves.loc[best_epoch, val_key]], "*", ms=14, color="crimson", zorder=5)
        if from_epoch is not None:
            ax.axvspan(from_epoch - 0.5, epochs[-1] + 0.5, color="crimson", alpha=0.07, label=_("over-fitting"))
        if best_epoch is not None:
            ax.axvline(best_epoch, color="crimson", ls="--", lw=1, label=_("best epoch ({epoch})").format(epoch=best_epoch))
        ax.set_title(panel_title)
        ax.set_xlabel(_("epoch"))
        ax.set_ylabel(axis_label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if len(epochs) <= 20:
            ax.set_xticks(epochs)
    if title:
        fig.suptitle(title, fontsize=11)
    if verdict:
        fig.text(0.5, -0.02, textwrap.fill(verdict, 150), ha="center", va="top", fontsize=9)
    fig.tight_layout()
    return fig


def confusion_figure(confusion, title: str | None = None):
    """The confusion matrix drawn by mlxtend's ``plot_confusion_matrix`` (counts and rates) into a Figure.

    mlxtend draws into the ``figure``/``axis`` it is given but still sets the tick labels and axis
    titles through pyplot (``plt.xticks``, ``plt.xlabel``), which would add a stray figure to the
    pyplot state. So the figure is made current in pyplot while mlxtend draws, then closed
    (detached: it can still be shown and saved, and nothing is left in pyplot).

    Example::

        fig = confusion_figure(report.confusion)
    """
    import matplotlib.pyplot as plt
    from mlxtend.plotting import plot_confusion_matrix

    names = [str(c) for c in confusion.columns]
    k = len(names)
    size = max(4.0, 1.1 * k + 2.0)
    with plt.ioff():
        fig = plt.figure(figsize=(size + 1.0, size))
        try:
            ax = fig.add_subplot(1, 1, 1)
            plt.sca(ax)
            plot_confusion_matrix(conf_mat=confusion.to_numpy(), colorbar=True, show_absolute=True,
                                  show_normed=True, class_names=names, figure=fig, axis=ax)
        finally:
            plt.close(fig)
    ax.set_xticks(range(k), names, rotation=45 if k > 2 else 0, ha="right" if k > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel(_("predicted class"))
    ax.set_ylabel(_("true class"))
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def errors_figure(errors, data, per_row: int = _ERRORS_PER_ROW):
    """Thumbnails of the mistakes in ``errors`` (image data only), titled with file, truth, prediction.

    Returns None for tables or when there is no mistake.
    """
    from matplotlib.figure import Figure

    from ..data.filenames import printable
    from ..data.pixels import read_rgb

    files = getattr(data, "files", None)
    if files is None or errors is None or len(errors) == 0:
        return None
    n = len(errors)
    cols = min(per_row, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.0 * cols, 3.3 * rows))
    for i, (index, row) in enumerate(errors.iterrows()):
        ax = fig.add_subplot(rows, cols, i + 1)
        try:
            ax.imshow(read_rgb(files[index]))
        except Exception:  # a file removed since loading: keep the slot with its caption
            ax.text(0.5, 0.5, _("unreadable"), ha="center", va="center")
        name = printable(os.path.basename(files[index]))
        # parse_math=False: a '$' in a file or class name is text, not a formula that fails to draw
        ax.set_title(name + "\n" + _("true {true} → {predicted} ({p})").format(
            true=row['true_class'], predicted=row['predicted_class'], p=num(row['probability'], ".2f")),
                     fontsize=8, parse_math=False)
        ax.axis("off")
    fig.tight_layout()
    return fig


def augment_figure(original, draws, per_row: int = 5):
    """The original image followed by its random augmentations, in a grid."""
    from matplotlib.figure import Figure

    images = [original, *list(draws)]
    cols = min(per_row, len(images))
    rows = -(-len(images) // cols)
    fig = Figure(figsize=(2.6 * cols, 2.7 * rows))
    for i, image in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(image)
        ax.set_title(_("original") if i == 0 else _("augmented #{i}").format(i=i), fontsize=9)
        ax.axis("off")
    fig.suptitle(_("The course's augmentation (flip, rotation 40°, shifts, shear, zoom 0.2)"), fontsize=10)
    fig.tight_layout()
    return fig


def make_figure(report, part: str):
    """The Figure of one part of ``report`` (None when that part has nothing to draw)."""
    if part == "curves":
        if report.curves is None:
            return None
        from ..diagnosis.summary import verdict_label

        title = f"'{report.model_name}': {verdict_label(report.verdict_kind)}" + (
            " · " + _("best epoch {epoch}").format(epoch=report.best_epoch) if report.best_epoch is not None else "")
        return curves_figure(report.curves, report.verdict, report.best_epoch, report.from_epoch, title)
    if part == "confusion":
        if report.confusion is None:
            return None
        return confusion_figure(report.confusion, _("'{model}' on '{data}'").format(model=report.model_name,
                                                                                      data=report.data_name))
    if part == "errors":
        return errors_figure(report.shown_errors(), report.data)
    if part == "feature_maps":
        gallery = gallery_for(report)
        return gallery.figure() if gallery is not None else None
    if part == "augment_preview":
        return augment_figure(*report.augmented) if report.augmented is not None else None
    if part == "gradcam":
        return report.gradcam.figure() if report.gradcam is not None else None
    raise ValueError(f"no figure for {part!r}")  # internal: the parts are the code's own


def _figure(report, part: str):
    """``make_figure`` drawn once per report (kept in ``report.views``)."""
    key = f"figure:{part}"
    if key not in report.views:
        report.views[key] = make_figure(report, part)
    return report.views[key]


def gallery_for(report):
    """The ``FeatureGallery`` of the report's feature maps (made once, kept in ``report.views``), or None."""
    if report.feature_map_set is None:
        return None
    if "gallery" not in report.views:
        from .feature_gallery import FeatureGallery

        report.views["gallery"] = FeatureGallery(report.feature_map_set)
    return report.views["gallery"]


# ----------------------------------------------------------------------------- HTML
def _png_tag(png: bytes) -> str:
    return f"<img src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}' style='max-width:100%'/>"


def _heading(part: str) -> str:
    return f"<h4 style='margin:12px 0 4px'>{html.escape(_title(part))}</h4>"


def _verdict_html(report) -> str:
    colour = {"over-fitting": "#b00020", "under-fitting": "#a05a00", "converging": "#1b6e20"}.get(report.verdict_kind, "#444")
    best = " " + _("Best epoch: <b>{epoch}</b>.").format(epoch=report.best_epoch) if report.best_epoch is not None else ""
    return f"<p style='color:{colour}'><b>{html.escape(report.verdict or '')}</b>{best}</p>"


def part_html(report, part: str) -> str:
    """HTML of one part of the report ('' when it has nothing)."""
    if part == "curves":
        if report.curves is None:
            return _verdict_html(report) if report.verdict else ""
        return _verdict_html(report) + _png_tag(figure_png(_figure(report, "curves")))
    if part == "evaluation" and report.evaluation is not None:
        cells = "".join(f"<td><b>{html.escape(k)}</b> {num(v, '.4g')}</td>" for k, v in report.evaluation.items())
        n = len(report.y_true)
        samples = ngettext("{n} samples", "{n} samples", n).format(n=num(n, ","))
        return (f"<table><tr>{cells}</tr></table><div style='color:#666;font-size:90%'>"
                f"{html.escape(report.evaluation_source or '')} · {samples}</div>")
    if part == "confusion" and report.confusion is not None:
        return _png_tag(figure_png(_figure(report, "confusion"))) + frame_html(report.confusion)
    if part == "report" and report.report is not None:
        return frame_html(report.report.round(3))
    if part == "predictions" and report.predictions is not None:
        n = report.n_predictions or 10
        return frame_html(report.predictions.head(n), _("first {n} of {total}").format(
            n=min(n, len(report.predictions)), total=num(len(report.predictions), ",")))
    if part == "errors" and report.errors is not None:
        shown = report.shown_errors()
        if not len(shown):
            return "<p>" + html.escape(_("No mistakes.")) + "</p>"
        fig = _figure(report, "errors")
        picture = _png_tag(figure_png(fig)) if fig is not None else ""
        return picture + frame_html(shown, _("{n} of {total} mistakes, most confident first").format(
            n=len(shown), total=num(len(report.errors), ",")))
    if part == "feature_maps" and report.feature_map_set is not None:
        return gallery_for(report).html()
    if part == "augment_preview" and report.augmented is not None:
        return _png_tag(figure_png(_figure(report, "augment_preview")))
    if part == "gradcam" and report.gradcam is not None:
        from .gradcam_view import gradcam_html

        return gradcam_html(report.gradcam)
    return ""


def _header_html(report) -> str:
    from ..diagnosis.summary import shown_notes

    head = ""
    if report.model_name:
        if report.data_name and report.y_true is not None:
            title = _("Diagnosis of <b>{model}</b> on <b>{data}</b>").format(model=html.escape(report.model_name),
                                                                             data=html.escape(report.data_name))
        else:
            title = _("Diagnosis of <b>{model}</b>").format(model=html.escape(report.model_name))
        head = f"<div style='font-size:110%'>{title}</div>"
    notes = "".join(f"<p style='color:#a05a00'>{html.escape(n)}</p>" for n in shown_notes(report))
    return head + notes


def report_html(report) -> str:
    """The whole report as one static HTML block (figures inline as PNG)."""
    parts = "".join(_heading(p) + body for p in report.sections if (body := part_html(report, p)))
    saved = ""
    if report.saved:
        n = len(report.saved)
        saved = "<p>" + ngettext("Saved {n} files to {folder}.", "Saved {n} files to {folder}.", n).format(
            n=n, folder=html.escape(os.path.dirname(report.saved[0]))) + "</p>"
    return f"<div>{_header_html(report)}{parts}{saved}</div>"


def show_report(report) -> None:
    """Display the report part by part (the feature gallery as a widget in notebooks); text in a terminal."""
    from IPython.display import display

    from ..diagnosis.summary import report_text

    header = _header_html(report)
    if header:
        display({"text/html": header, "text/plain": report_text(report)}, raw=True)
    else:
        display({"text/plain": report_text(report)}, raw=True)
    from .output import in_notebook

    if not in_notebook():
        return  # a terminal: the text above says everything
    for part in report.sections:
        if part == "feature_maps" and report.feature_map_set is not None:
            display({"text/html": _heading(part)}, raw=True)
            display(gallery_for(report))
            continue
        if part == "gradcam" and report.gradcam is not None:
            display({"text/html": _heading(part)}, raw=True)
            display(report.gradcam)   # a PNG (gradcam_view.show_gradcam)
            continue
        body = part_html(report, part)
        if body:
            display({"text/html": _heading(part) + body, "text/plain": _title(part)}, raw=True)


# ----------------------------------------------------------------------------- registration
def register() -> None:
    """Tell ``nnmagics.registry`` where the report's displays are (strings: nothing is imported now)."""
    _register("diagnosis.view", "nnmagics.display.diagnosis_view:show_report")
    _register("diagnosis.html", "nnmagics.display.diagnosis_view:report_html")
    _register("diagnosis.figure", "nnmagics.display.diagnosis_view:make_figure")


__all__ = ["curves_figure", "confusion_figure", "errors_figure", "augment_figure", "make_figure", "gallery_for",
           "report_html", "show_report", "register"]
