"""``--save DIR``: a report's tables as CSV and its figures as PNG, each file written atomically.

Tables are the report's own data; figures are drawn by the display layer, found through
``nnmagics.registry`` (``"diagnosis.figure"``). Where no display is registered (plain Python
without ``%load_ext nnmagics`` or ``nnmagics.register_displays()``), the tables are written and a
note says why the figures are not.
"""
from __future__ import annotations

import os

from .. import registry
from ..errors import NNUsageError
from ..files import atomic_write
from ..i18n import _


def no_figures() -> str:
    """The note of a report saved without a display layer (the figures are the display layer's)."""
    return _("Figures were not saved: figures are drawn by nnmagics' display layer, which registers itself with "
             "%load_ext nnmagics (in plain Python: nnmagics.register_displays()).")


NO_FIGURES = f"Figures were not saved: {registry.NO_DISPLAYS}."   # the English note (no_figures() is shown)


def _folder(folder: str | os.PathLike) -> str:
    folder = os.path.abspath(os.path.expanduser(os.fspath(folder)))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NNUsageError(_("--save needs a folder but '{folder}' is a file; give a folder name.").format(folder=folder))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise NNUsageError(_("Cannot create the folder '{folder}' ({reason}); choose a writable place.").format(
            folder=folder, reason=exc.strerror or exc)) from None
    return folder


def save_report(report, folder: str | os.PathLike) -> list[str]:
    """Write what ``report`` holds into ``folder``: tables as CSV, figures as PNG; return the paths.

    Example::

        >>> save_report(diagnose(cnn, val), "diagnosis/")             # doctest: +SKIP
        ['…/diagnosis/curves.csv', '…/diagnosis/curves.png', '…/diagnosis/evaluation.csv', …]
    """
    folder = _folder(folder)
    written: list[str] = []
    figures = report.can_draw()

    def table(name: str, frame, index: bool = True) -> None:
        if frame is not None:
            path = os.path.join(folder, f"{name}.csv")
            written.append(atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index)))

    def picture(name: str, part: str) -> None:
        fig = report.figure(part) if figures else None
        if fig is not None:
            path = os.path.join(folder, f"{name}.png")
            written.append(atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")))

    if report.curves is not None:
        table("curves", report.curves)
        picture("curves", "curves")
    if report.evaluation is not None:
        import pandas as pd

        table("evaluation", pd.DataFrame([report.evaluation]), index=False)
    if report.confusion is not None:
        table("confusion", report.confusion)
        picture("confusion", "confusion")
    table("report", report.report)
    table("predictions", report.predictions, index=False)
    if report.errors is not None:
        table("errors", report.errors, index=False)
        if "errors" in report.sections:
            picture("errors", "errors")
    if report.feature_map_set is not None:
        picture("feature_maps", "feature_maps")
    if report.gradcam is not None:
        picture("gradcam", "gradcam")
    if report.augmented is not None:
        picture("augment_preview", "augment_preview")
    if not figures and no_figures() not in report.notes:
        report.notes.append(no_figures())
    return written


__all__ = ["save_report"]
