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
- **strategies**: on TensorFlow ``MirroredStrategy`` across several GPUs, ``TPUStrategy`` on a (Colab)
  TPU; on JAX ``keras.distribution.DataParallel`` over several GPUs or TPU cores (``fit_scope``); none
  otherwise (PyTorch: one device). The model is cloned under the strategy's scope the same way.
- **which backend**: every probe asks the Keras backend in use (``runtime/probes.py``): TensorFlow's
  devices, ``jax.devices()`` or ``torch.cuda``; none imports another backend's framework.
"""
from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from ..errors import NNUsageError, did_you_mean
from ..i18n import N_, _, ngettext
from .probes import GPUInfo

STRATEGIES = ("auto", "default", "mirrored", "tpu")
# Colab's menu path (its French interface names the menus differently): translated where shown, by colab_gpu_howto()
COLAB_GPU_HOWTO = N_("Runtime → Change runtime type → Hardware accelerator: GPU (T4) → Save, then run the notebook "
                     "again")


def colab_gpu_howto() -> str:
    """``COLAB_GPU_HOWTO`` in the language in use."""
    return _(COLAB_GPU_HOWTO)


@dataclass(frozen=True)
class DeviceInfo:
    """What the Keras backend in use can train on here (``backend``: tensorflow, jax or torch)."""

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
    backend: str = "tensorflow"
    backend_version: str = "?"

    @property
    def backend_title(self) -> str:
        """``TensorFlow``, ``JAX`` or ``PyTorch``."""
        return BACKEND_TITLES.get(self.backend, self.backend)

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
            return _("GPU: {gpu}").format(gpu=self.gpus[0].label)
        if self.gpus:
            return _("{n} GPUs: {gpu}").format(n=len(self.gpus), gpu=self.gpus[0].label)
        return ngettext("CPU ({n} cores)", "CPU ({n} cores)", self.cpu_count).format(n=self.cpu_count)

    def panel_badge(self) -> str:
        """The live panel's badge: the device, the backend, Colab: ``GPU: Tesla T4 · 15.0 GiB · compute 7.5 · JAX · Colab``."""
        return " · ".join([self.badge(), self.backend_title] + (["Colab"] if self.colab else []))

    def gpu_hint(self) -> str | None:
        """How to get a GPU, when there is none (Colab gets the menu path)."""
        if self.kind != "cpu":
            return None
        if self.colab:
            return _("No GPU in this Colab runtime: {howto}.").format(howto=colab_gpu_howto())
        if not self.cuda_build:
            install = {"tensorflow": "tensorflow[and-cuda]", "jax": "jax[cuda12]",
                       "torch": _("a CUDA build of torch (pytorch.org)")}.get(self.backend) or _("a CUDA build")
            return _("This {backend} build has no CUDA support; install {install} on a machine with an NVIDIA "
                     "GPU.").format(backend=self.backend_title, install=install)
        return _("No GPU visible to {backend} (check the NVIDIA driver with nvidia-smi).").format(
            backend=self.backend_title)


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
    backend = build.get("backend") or ("tensorflow" if "tf_version" in build else _current_backend())
    notes: list[str] = []
    gpu_list = tuple(_as_gpu(g, i) for i, g in enumerate(gpus)) if gpus is not None else _probe_gpus(notes)
    tpu_name = (tpu or None) if tpu is not None else _probe_tpu()
    if tpu_name is True:
        tpu_name = "TPU"
    flags = set(cpu_flags) if cpu_flags is not None else _cpu_flags()
    info = DeviceInfo(
        backend=backend, backend_version=str(build.get("backend_version") or build.get("tf_version") or "?"),
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


def _current_backend() -> str:
    from .backend import name

    return name()


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


from .probes import (  # noqa: E402 - one probe per backend (runtime/probes.py); re-exported for older imports
    BACKEND_TITLES, build_info as _build_info, cpu_flags as _cpu_flags, nvidia_smi as _nvidia_smi,
    parse_nvidia_smi, probe_gpus as _probe_gpus, probe_tpu as _probe_tpu)


# -- memory growth ------------------------------------------------------------------------------
def enable_memory_growth_env() -> None:
    """Ask TensorFlow for GPU memory growth through the environment (no TensorFlow import).

    Effective only before TensorFlow is imported; ``%load_ext nnmagics`` is the moment.
    """
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")


def enable_memory_growth() -> bool:
    """Turn on memory growth for every GPU (TensorFlow); False when TensorFlow had already initialised them.

    JAX and PyTorch allocate as they go (JAX's preallocation is ``XLA_PYTHON_CLIENT_PREALLOCATE``): nothing to do.
    """
    if _current_backend() != "tensorflow":
        return True
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
        raise NNUsageError(_("Unknown strategy '{name}'.").format(name=strategy) + did_you_mean(name, STRATEGIES))
    if info.backend != "tensorflow":
        return _keras_distribution(name, info)
    if name == "auto":
        if info.kind == "tpu":
            return tpu_strategy(info.tpu)
        if len(info.gpus) > 1:
            return mirrored_strategy()
        return None
    if name == "tpu":
        if info.kind != "tpu":
            raise NNUsageError(_("There is no TPU here; on Colab choose Runtime → Change runtime type → TPU."))
        return tpu_strategy(info.tpu)
    return mirrored_strategy()


def _keras_distribution(name: str, info: DeviceInfo):
    """JAX: ``keras.distribution.DataParallel`` over the GPUs (or TPU cores); PyTorch: one device only."""
    if name == "tpu" and info.kind != "tpu":
        raise NNUsageError(_("There is no TPU here; on Colab choose Runtime → Change runtime type → TPU."))
    if info.backend != "jax":
        if name in ("mirrored", "tpu"):
            raise NNUsageError(_("Keras has no multi-device training on the {backend} backend; leave --strategy "
                                 "out, or use KERAS_BACKEND=jax (DataParallel) or tensorflow.").format(
                backend=info.backend_title))
        return None
    import keras

    kind = "tpu" if info.kind == "tpu" else "gpu" if info.gpus else "cpu"
    if name == "auto" and (kind == "cpu" or len(info.gpus) == 1):   # several GPUs or a TPU's cores only
        return None
    devices = keras.distribution.list_devices(kind)
    if name == "auto" and len(devices) < 2:
        return None
    if len(devices) < 2:
        raise NNUsageError(_("DataParallel needs several devices but JAX sees one {device}; leave --strategy "
                             "out.").format(device=kind.upper()))
    return keras.distribution.DataParallel(devices=devices)


@contextlib.contextmanager
def fit_scope(strategy) -> Iterator[None]:
    """Where ``fit`` runs: inside a ``keras.distribution`` (JAX's DataParallel shards every batch), else as is.

    A ``tf.distribute`` strategy needs no scope around ``fit`` (the model remembers its own).

    Example::

        with fit_scope(choose_strategy("auto", detect())):
            model.fit(x, y)
    """
    if strategy is not None and not hasattr(strategy, "num_replicas_in_sync") and hasattr(strategy, "scope"):
        with strategy.scope():
            yield
    else:
        yield


def mirrored_strategy():
    """MirroredStrategy over all GPUs, else over all logical CPU devices (at least two)."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        raise NNUsageError(_("MirroredStrategy needs several devices but there is one CPU and no GPU; leave "
                             "--strategy out."))
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
    replicas = getattr(strategy, "num_replicas_in_sync", None)
    if replicas is None:   # keras.distribution.DataParallel: its device mesh
        mesh = getattr(strategy, "device_mesh", None)
        replicas = int(getattr(getattr(mesh, "devices", None), "size", 0) or 1)
    return f"{type(strategy).__name__} × {replicas}"


# -- %nn_gpu report -----------------------------------------------------------------------------
def report_rows(info: DeviceInfo) -> list[tuple[str, str]]:
    """(label, value) rows of ``%nn_gpu``."""
    cuda = _("yes") if info.cuda_build else _("no (CPU-only build)")
    if info.cuda_build and info.cuda_version:
        cuda += f" (CUDA {info.cuda_version}, cuDNN {info.cudnn_version or '?'})"
    rows = [(_("Keras backend"), f"{info.backend} ({info.backend_title} {info.backend_version})")]
    if info.backend == "tensorflow":
        rows.append(("TensorFlow", info.tf_version))
    rows.append((_("CUDA build"), cuda))
    if info.gpus:
        for gpu in info.gpus:
            rows.append((f"GPU {gpu.index}", gpu.label))
    else:
        rows.append(("GPU", _("none found")))
    if info.tpu:
        rows.append(("TPU", info.tpu))
    cores = ngettext("{n} cores", "{n} cores", info.cpu_count).format(n=info.cpu_count)
    rows.append(("CPU", cores + (", AVX512_BF16/AMX" if info.cpu_bf16 else "")))
    rows.append(("Colab", _("yes") if info.colab else _("no")))
    policy = choose_precision("auto", info).policy
    if info.kind == "cpu" and info.cpu_bf16:
        policy = _("{policy} for models large enough").format(policy=policy)
    rows.append((_("Mixed precision (auto)"), policy))
    rows.append((_("Training runs on"), info.badge()))
    hint = info.gpu_hint()
    if hint:
        rows.append((_("How to get a GPU"), hint if info.colab else
                     _("{hint} On Google Colab: {howto}.").format(hint=hint, howto=colab_gpu_howto())))
    for note in info.notes:
        rows.append((_("Note"), note))
    return rows
