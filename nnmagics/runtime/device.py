"""Which accelerator is there, and how training uses it: memory growth, mixed precision, strategies.

Detection takes injectable device lists (``detect(gpus=[...], colab=True)``) so its logic is
tested without a GPU. Choices:

- **memory growth** on every GPU (TensorFlow otherwise grabs all GPU memory at start);
  it only works before TensorFlow initialises the GPUs, so ``enable_memory_growth_env()``
  (no TensorFlow import) is also offered for the earliest possible moment.
- **mixed precision** ``auto``: ``mixed_bfloat16`` on TPUs and GPUs of compute capability
  ≥ 8.0 (Ampere and later), ``mixed_float16`` on GPUs ≥ 7.0, ``float32`` otherwise — CPU
  included, even with AVX512_BF16/AMX (``on`` asks for ``mixed_bfloat16`` there).
  A Keras policy acts when layers are *created*, so ``train()`` trains a clone of the model
  built under the policy (output layer kept ``float32``) and copies the weights back into
  the user's model (variables stay float32 under mixed policies, so they match exactly).
- **strategies**: ``MirroredStrategy`` across several GPUs, ``TPUStrategy`` on a (Colab) TPU,
  none otherwise; the model is cloned under the strategy's scope the same way.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import NNUsageError, did_you_mean

STRATEGIES = ("auto", "default", "mirrored", "tpu")
COLAB_GPU_HOWTO = "Runtime → Change runtime type → Hardware accelerator: GPU (T4) → Save, then run the notebook again"


@dataclass(frozen=True)
class GPUInfo:
    """One GPU: ``name``, ``memory_bytes`` (None if unknown), ``compute_capability`` e.g. ``(7, 5)``."""

    name: str
    memory_bytes: int | None = None
    compute_capability: tuple[int, int] | None = None
    index: int = 0

    @property
    def label(self) -> str:
        """e.g. ``Tesla T4 · 15.0 GiB · compute 7.5``"""
        parts = [self.name]
        if self.memory_bytes:
            parts.append(f"{self.memory_bytes / 1024**3:.1f} GiB")
        if self.compute_capability:
            parts.append("compute {}.{}".format(*self.compute_capability))
        return " · ".join(parts)


@dataclass(frozen=True)
class DeviceInfo:
    """What TensorFlow can train on here."""

    tf_version: str = "?"
    cuda_build: bool = False
    cuda_version: str | None = None
    cudnn_version: str | None = None
    gpus: tuple[GPUInfo, ...] = ()
    tpu: str | None = None
    colab: bool = False
    cpu_count: int = 1
    cpu_bf16: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        """``'tpu'``, ``'gpu'`` or ``'cpu'``."""
        if self.tpu:
            return "tpu"
        return "gpu" if self.gpus else "cpu"

    @property
    def min_compute_capability(self) -> tuple[int, int] | None:
        """The lowest compute capability over the GPUs (None when unknown or no GPU)."""
        caps = [g.compute_capability for g in self.gpus if g.compute_capability]
        return min(caps) if caps and len(caps) == len(self.gpus) else None

    def badge(self) -> str:
        """One short line: ``GPU: Tesla T4 · 15.0 GiB · compute 7.5`` or ``CPU (2 cores)``."""
        if self.tpu:
            return f"TPU ({self.tpu})"
        if len(self.gpus) == 1:
            return f"GPU: {self.gpus[0].label}"
        if self.gpus:
            return f"{len(self.gpus)} GPUs: {self.gpus[0].label}"
        return f"CPU ({self.cpu_count} cores)"

    def gpu_hint(self) -> str | None:
        """How to get a GPU, when there is none (Colab gets the menu path)."""
        if self.kind != "cpu":
            return None
        if self.colab:
            return f"No GPU in this Colab runtime: {COLAB_GPU_HOWTO}."
        if not self.cuda_build:
            return "This TensorFlow build has no CUDA support; install tensorflow[and-cuda] on a machine with an NVIDIA GPU."
        return "No GPU visible to TensorFlow (check the NVIDIA driver with nvidia-smi)."


# -- detection ----------------------------------------------------------------------------------
_DETECTED: DeviceInfo | None = None


def detect(*, gpus: Sequence[Any] | None = None, tpu: str | None | bool = None, colab: bool | None = None,
           build: dict | None = None, cpu_flags: Sequence[str] | None = None, refresh: bool = False) -> DeviceInfo:
    """Detect the devices; every argument replaces one probe (for tests and for what-ifs).

    ``gpus`` is a list of ``GPUInfo`` or dicts ``{'name', 'memory_bytes', 'compute_capability'}``.

    Example::

        detect().badge()                                               # 'CPU (2 cores)'
        detect(gpus=[{"name": "Tesla T4", "compute_capability": (7, 5)}]).kind   # 'gpu'
    """
    global _DETECTED
    injected = any(v is not None for v in (gpus, tpu, colab, build, cpu_flags))
    if not injected and _DETECTED is not None and not refresh:
        return _DETECTED
    build = build if build is not None else _build_info()
    notes: list[str] = []
    gpu_list = tuple(_as_gpu(g, i) for i, g in enumerate(gpus)) if gpus is not None else _probe_gpus(notes)
    tpu_name = (tpu or None) if tpu is not None else _probe_tpu()
    if tpu_name is True:
        tpu_name = "TPU"
    flags = set(cpu_flags) if cpu_flags is not None else _cpu_flags()
    info = DeviceInfo(
        tf_version=str(build.get("tf_version", "?")),
        cuda_build=bool(build.get("is_cuda_build", False)),
        cuda_version=build.get("cuda_version"),
        cudnn_version=build.get("cudnn_version"),
        gpus=gpu_list,
        tpu=tpu_name,
        colab=in_colab() if colab is None else bool(colab),
        cpu_count=os.cpu_count() or 1,
        cpu_bf16=bool(flags & {"avx512_bf16", "amx_bf16"}),
        notes=tuple(notes),
    )
    if not injected:
        _DETECTED = info
    return info


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or bool(os.environ.get("COLAB_RELEASE_TAG") or os.environ.get("COLAB_GPU"))


def _as_gpu(value: Any, index: int) -> GPUInfo:
    if isinstance(value, GPUInfo):
        return value
    if isinstance(value, str):
        return GPUInfo(value, index=index)
    cap = value.get("compute_capability")
    return GPUInfo(str(value.get("name", f"GPU {index}")), value.get("memory_bytes"),
                   tuple(cap) if cap else None, int(value.get("index", index)))


def _build_info() -> dict:
    import tensorflow as tf

    info = dict(tf.sysconfig.get_build_info())
    info["tf_version"] = tf.__version__
    return info


def _probe_gpus(notes: list[str]) -> tuple[GPUInfo, ...]:
    """GPUs TensorFlow sees, with names and compute capability from TF and memory from nvidia-smi."""
    import tensorflow as tf

    devices = tf.config.list_physical_devices("GPU")
    smi = _nvidia_smi()
    found = []
    for i, device in enumerate(devices):
        try:
            details = tf.config.experimental.get_device_details(device)
        except Exception:  # noqa: BLE001 - older TF or odd drivers: keep what nvidia-smi says
            details = {}
        row = smi[i] if i < len(smi) else {}
        cap = details.get("compute_capability") or row.get("compute_capability")
        found.append(GPUInfo(details.get("device_name") or row.get("name") or f"GPU {i}",
                             row.get("memory_bytes"), tuple(cap) if cap else None, i))
    if smi and not devices:
        notes.append(f"nvidia-smi sees {len(smi)} GPU(s) but TensorFlow sees none (CUDA libraries missing?).")
    return tuple(found)


def _nvidia_smi() -> list[dict]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total,compute_cap", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(out)


def parse_nvidia_smi(text: str) -> list[dict]:
    """Rows of ``nvidia-smi --query-gpu=name,memory.total,compute_cap --format=csv,noheader,nounits``."""
    rows = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2:
            continue
        row: dict[str, Any] = {"name": parts[0]}
        try:
            row["memory_bytes"] = int(float(parts[1]) * 1024**2)
        except ValueError:
            pass
        if len(parts) > 2:
            try:
                major, minor = parts[2].split(".")
                row["compute_capability"] = (int(major), int(minor))
            except ValueError:
                pass
        rows.append(row)
    return rows


def _probe_tpu() -> str | None:
    for name in ("COLAB_TPU_ADDR", "TPU_NAME"):
        if os.environ.get(name):
            return os.environ[name]
    if os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0"):
        return "local"
    return None


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# -- memory growth ------------------------------------------------------------------------------
def enable_memory_growth_env() -> None:
    """Ask TensorFlow for GPU memory growth through the environment (no TensorFlow import).

    Effective only before TensorFlow is imported; ``%load_ext nnmagics`` is the moment.
    """
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")


def enable_memory_growth() -> bool:
    """Turn on memory growth for every GPU; False when TensorFlow had already initialised them."""
    import tensorflow as tf

    ok = True
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):
            ok = False
    return ok


# -- mixed precision: nnmagics.runtime.precision (re-exported here for older imports) --------------------
from .precision import (  # noqa: E402,F401
    BF16_MIN_FLOPS, PRECISION_MODES, PrecisionChoice, choose_precision, model_flops)


# -- strategies ---------------------------------------------------------------------------------
_TPU_STRATEGY = None


def choose_strategy(strategy: Any, info: DeviceInfo):
    """A ``tf.distribute.Strategy`` (or None for the default device) for ``strategy``.

    ``'auto'``: TPUStrategy on a TPU, MirroredStrategy with several GPUs, else None.
    ``'mirrored'``: MirroredStrategy over the GPUs, or over the logical CPU devices when there
    are several (how it is tested without GPUs). A Strategy object is used as given.

    Example::

        choose_strategy("auto", detect())     # None on a one-GPU or CPU machine
    """
    if strategy is None or strategy == "default":
        return None
    if not isinstance(strategy, str):
        return strategy
    name = strategy.lower()
    if name not in STRATEGIES:
        raise NNUsageError(f"Unknown strategy '{strategy}'." + did_you_mean(name, STRATEGIES))
    if name == "auto":
        if info.kind == "tpu":
            return tpu_strategy(info.tpu)
        if len(info.gpus) > 1:
            return mirrored_strategy()
        return None
    if name == "tpu":
        if info.kind != "tpu":
            raise NNUsageError("There is no TPU here; on Colab choose Runtime → Change runtime type → TPU.")
        return tpu_strategy(info.tpu)
    return mirrored_strategy()


def mirrored_strategy():
    """MirroredStrategy over all GPUs, else over all logical CPU devices (at least two)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        raise NNUsageError("MirroredStrategy needs several devices but there is one CPU and no GPU; leave --strategy out.")
    return tf.distribute.MirroredStrategy([d.name for d in cpus],
                                          cross_device_ops=tf.distribute.ReductionToOneDevice())


def tpu_strategy(address: str | None = None):
    """Connect to the TPU once per process and return a ``TPUStrategy``."""
    global _TPU_STRATEGY
    if _TPU_STRATEGY is None:
        import tensorflow as tf

        tpu = None if address in (None, "local", "TPU") else address
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        _TPU_STRATEGY = tf.distribute.TPUStrategy(resolver)
    return _TPU_STRATEGY


def strategy_label(strategy) -> str:
    """``MirroredStrategy × 2`` or ``''`` for none."""
    if strategy is None:
        return ""
    return f"{type(strategy).__name__} × {strategy.num_replicas_in_sync}"


# -- hints --------------------------------------------------------------------------------------
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
    where = COLAB_GPU_HOWTO if info.colab else "a GPU machine, or Google Colab with a GPU runtime"
    fit = f", ≈ {_about(total)} for {epochs} epochs" if epochs > 1 else ""
    return (f"≈ {_about(epoch_seconds)} per epoch on this CPU ({info.cpu_count} cores){fit}; "
            f"a GPU runtime would be faster: {where}.")


def _about(seconds: float) -> str:
    """A rounded duration: ``'45 s'``, ``'11 min'``, ``'1.5 h'``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- %nn_gpu report -----------------------------------------------------------------------------
def report_rows(info: DeviceInfo) -> list[tuple[str, str]]:
    """(label, value) rows of ``%nn_gpu``."""
    cuda = "yes" if info.cuda_build else "no (CPU-only build)"
    if info.cuda_build and info.cuda_version:
        cuda += f" (CUDA {info.cuda_version}, cuDNN {info.cudnn_version or '?'})"
    rows = [("TensorFlow", info.tf_version), ("CUDA build", cuda)]
    if info.gpus:
        for gpu in info.gpus:
            rows.append((f"GPU {gpu.index}", gpu.label))
    else:
        rows.append(("GPU", "none"))
    if info.tpu:
        rows.append(("TPU", info.tpu))
    rows.append(("CPU", f"{info.cpu_count} cores" + (", AVX512_BF16/AMX" if info.cpu_bf16 else "")))
    rows.append(("Colab", "yes" if info.colab else "no"))
    rows.append(("Mixed precision (auto)", choose_precision("auto", info).policy
                 + (" for models large enough" if info.kind == "cpu" and info.cpu_bf16 else "")))
    rows.append(("Training runs on", info.badge()))
    hint = info.gpu_hint()
    if hint:
        rows.append(("How to get a GPU", hint if info.colab else
                     f"{hint} On Google Colab: {COLAB_GPU_HOWTO}."))
    for note in info.notes:
        rows.append(("Note", note))
    return rows
