"""Training's shown words: the verdict kinds, the fit statuses, and the translation of a marked constant.

The kinds (``verdict.KINDS``) and the statuses (``reporting.STATUSES``, ``'running'``, ``'cut short'``) are
identifiers: code compares them and the runs folder stores them in English. A display shows them through
``kind_words``/``status_words``; any other constant marked with ``N_()`` is shown through ``shown``.

Example::

    kind_words("over-fitting")       # 'over-fitting' in English, 'sur-apprentissage' in French
    status_words("early-stopped")    # 'early-stopped' / 'arrêt anticipé'
"""
from __future__ import annotations

from ..i18n import N_, _

KIND_WORDS = {"converging": N_("converging"), "over-fitting": N_("over-fitting"),
              "under-fitting": N_("under-fitting"), "too early": N_("too early"), "not trained": N_("not trained")}
STATUS_WORDS = {"finished": N_("finished"), "stopped": N_("stopped"), "interrupted": N_("interrupted"),
                "early-stopped": N_("early-stopped"), "failed": N_("failed"), "running": N_("running"),
                "cut short": N_("cut short")}
# why a fit stopped (``StopSignal.reason``): the Stop button's default, ``interrupts.INTERRUPT``
REASON_WORDS = {"stop button": N_("stop button"), "kernel interrupt": N_("kernel interrupt")}


def kind_words(kind: str | None) -> str | None:
    """A verdict kind (``'over-fitting'``) as a user reads it, in the language in use."""
    return _(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def status_words(status: str | None) -> str | None:
    """A fit's status (``'early-stopped'``) as a user reads it, in the language in use."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def reason_words(reason: str | None) -> str | None:
    """Why a fit stopped (``StopSignal.reason``: ``'stop button'``, ``'kernel interrupt'``), in the language in use."""
    return _(REASON_WORDS[reason]) if reason in REASON_WORDS else reason


__all__ = ["KIND_WORDS", "STATUS_WORDS", "REASON_WORDS", "shown", "kind_words", "status_words", "reason_words"]
