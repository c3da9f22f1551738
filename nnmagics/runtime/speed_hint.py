"""The hint shown once a fit's first steps were timed on a CPU: how long it will take, and where it would be faster.

``ReportingCallback`` (training) measures the steps (``training.speed.SpeedProbe``) and shows this text through
its reporter's ``on_hint``.
"""
from __future__ import annotations

from ..i18n import _, ngettext, num
from .device import DeviceInfo, colab_gpu_howto

SLOW_EPOCH_SECONDS = 30.0   # one epoch this long on a CPU: worth saying a GPU would be faster
SLOW_FIT_SECONDS = 120.0    # a whole fit this long: the same, even with short epochs


def cpu_speed_hint(epoch_seconds: float | None, info: DeviceInfo, *, epochs: int = 1) -> str | None:
    """The hint shown once the first training steps were timed on a CPU: None when it is not worth saying.

    Worth saying when an epoch takes ``SLOW_EPOCH_SECONDS`` (30 s: a student waits for each point of
    the curves) or the fit ``SLOW_FIT_SECONDS`` (2 min: longer than switching to a GPU runtime and
    running again); never on a GPU or TPU.

    Example::

        cpu_speed_hint(45.0, detect(gpus=[], colab=True), epochs=15)
        # '≈ 45 s per epoch on this CPU (2 cores), ≈ 11 min for 15 epochs; a GPU runtime would be faster: Runtime → …'
    """
    if info.kind != "cpu" or epoch_seconds is None or not 0 < epoch_seconds < float("inf"):
        return None
    epochs = max(int(epochs or 1), 1)
    total = epoch_seconds * epochs
    if epoch_seconds < SLOW_EPOCH_SECONDS and total < SLOW_FIT_SECONDS:
        return None
    where = colab_gpu_howto() if info.colab else _("a GPU machine, or Google Colab with a GPU runtime")
    text = _cpu_time_text(epoch_seconds, info, epochs, total, where)
    if info.backend != "tensorflow":
        # measured on a 2-core VM, the course CNN: TensorFlow 137, PyTorch 68, JAX 18 images/s (README, Limits)
        text += " " + _("On a CPU, Keras' TensorFlow backend trains convolutional nets several times faster than "
                        "{backend}: with TensorFlow installed, set KERAS_BACKEND=tensorflow before Keras is imported.").format(
                            backend=info.backend_title)
    return text


def _cpu_time_text(epoch_seconds: float, info: DeviceInfo, epochs: int, total: float, where: str) -> str:
    if epochs > 1:
        return ngettext("≈ {epoch} per epoch on this CPU ({n} cores), ≈ {total} for {epochs} epochs; a GPU runtime "
                        "would be faster: {where}.",
                        "≈ {epoch} per epoch on this CPU ({n} cores), ≈ {total} for {epochs} epochs; a GPU runtime "
                        "would be faster: {where}.", info.cpu_count).format(
            epoch=_about(epoch_seconds), n=info.cpu_count, total=_about(total), epochs=epochs, where=where)
    return ngettext("≈ {epoch} per epoch on this CPU ({n} cores); a GPU runtime would be faster: {where}.",
                    "≈ {epoch} per epoch on this CPU ({n} cores); a GPU runtime would be faster: {where}.",
                    info.cpu_count).format(epoch=_about(epoch_seconds), n=info.cpu_count, where=where)


def _about(seconds: float) -> str:
    """A rounded duration: ``'45 s'``, ``'11 min'``, ``'1.5 h'``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{num(seconds / 3600, '.1f')} h"
