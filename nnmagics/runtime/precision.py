"""Which dtype policy training uses: ``--mixed-precision auto|on|off`` from the devices and the model.

float16 on GPUs with tensor cores (compute capability ≥ 7.0), bfloat16 on Ampere and later, on TPUs,
and on CPUs with AVX512_BF16/AMX for models large enough to pay for the casts; float32 elsewhere.
The cached VGG16 features pass (``training.feature_cache``) runs under the same choice, with the policy in
its cache key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import NNUsageError, did_you_mean
from ..i18n import _

PRECISION_MODES = ("auto", "on", "off", "float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class PrecisionChoice:
    """The Keras dtype policy to train under and why."""

    policy: str
    reason: str

    @property
    def mixed(self) -> bool:
        return self.policy != "float32"


# Below this many multiply-adds per sample a model's step is dominated by overhead, not arithmetic:
# bfloat16 units cannot pay for the cast (the course's dense nets), so float32 stays.
BF16_MIN_FLOPS = 50_000_000


def choose_precision(mode: str | None, info: Any, model: Any = None) -> PrecisionChoice:
    """Pick the dtype policy for ``--mixed-precision auto|on|off`` (or an explicit policy name).

    Example::

        choose_precision("auto", detect(gpus=[{"name": "T4", "compute_capability": (7, 5)}])).policy
        # 'mixed_float16'
    """
    mode = (mode or "auto").lower()
    if mode not in PRECISION_MODES:
        raise NNUsageError(_("Unknown --mixed-precision '{mode}'.").format(mode=mode) + did_you_mean(mode, PRECISION_MODES))
    # the reasons are shown (training's notes), never stored or compared: in the language in use
    if mode in ("float32", "mixed_float16", "mixed_bfloat16"):
        return PrecisionChoice(mode, _("asked for"))
    if mode == "off":
        return PrecisionChoice("float32", _("mixed precision off"))
    kind = info.kind
    if kind == "tpu":
        return PrecisionChoice("mixed_bfloat16", _("TPUs compute in bfloat16"))
    if kind == "gpu":
        cap = info.min_compute_capability
        if cap is not None and cap >= (8, 0):
            return PrecisionChoice("mixed_bfloat16", _("GPU compute capability ≥ 8.0 (bfloat16 tensor cores)"))
        if cap is not None and cap >= (7, 0):
            return PrecisionChoice("mixed_float16", _("GPU compute capability ≥ 7.0 (float16 tensor cores)"))
        if mode == "on":
            return PrecisionChoice("mixed_float16", _("asked for; this GPU has no tensor cores, it may not be faster"))
        return PrecisionChoice("float32", _("GPU without tensor cores (compute capability < 7.0 or unknown)"))
    if mode == "on":
        why = (_("CPU with AVX512_BF16/AMX") if info.cpu_bf16
               else _("asked for; this CPU lacks AVX512_BF16/AMX, it may be slower"))
        return PrecisionChoice("mixed_bfloat16", why)
    if not info.cpu_bf16:
        return PrecisionChoice("float32", _("CPU without AVX512_BF16/AMX: float32"))
    if model is not None and model_flops(model) < BF16_MIN_FLOPS:
        return PrecisionChoice("float32", _("CPU with AVX512_BF16/AMX, but this model is too small for bfloat16 to pay"))
    return PrecisionChoice("mixed_bfloat16", _("CPU with AVX512_BF16/AMX (bfloat16 matrix units)"))


def model_flops(model: Any) -> int:
    """Multiply-adds per sample of the Dense and Conv layers (a rough size of the model's compute).

    Example::

        model_flops(course_cnn)      # about 1e9 at 150×150
    """
    total = 0
    from ..checks import all_layers

    for layer in all_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        size = 1
        for dim in kernel.shape:
            size *= int(dim)
        if len(kernel.shape) == 4:  # Conv2D: the kernel runs once per output position
            try:
                out = layer.output.shape
                size *= int(out[1]) * int(out[2])
            except (AttributeError, ValueError, TypeError):
                size *= 32 * 32
        total += size
    return total
