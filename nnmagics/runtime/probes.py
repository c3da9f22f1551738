"""What the Keras backend in use sees: its version and CUDA build, its GPUs, a TPU; nvidia-smi and CPU flags.

One probe per backend, none importing another backend's framework: TensorFlow's
``tf.config`` on the TensorFlow backend, ``jax.devices()`` on JAX, ``torch.cuda`` on PyTorch.
``runtime/device.py`` turns the answers into a ``DeviceInfo`` (and tests inject them instead).

Example::

    build_info()                # {'backend': 'jax', 'backend_version': '0.10.2', 'is_cuda_build': False, ...}
    probe_gpus([])              # (GPUInfo('NVIDIA H100 80GB HBM3', 85899345920, (9, 0), 0),) on a GPU machine
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from ..i18n import _, num

BACKEND_TITLES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


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
            parts.append(_("{size} GiB").format(size=num(self.memory_bytes / 1024**3, ".1f")))
        if self.compute_capability:
            major, minor = self.compute_capability
            parts.append(_("compute {major}.{minor}").format(major=major, minor=minor))
        return " · ".join(parts)


def current_backend() -> str:
    """The Keras backend in use (``keras.backend.backend()``)."""
    from .backend import name

    return name()


def build_info() -> dict:
    """The backend's version and CUDA build: ``backend``, ``backend_version``, ``is_cuda_build``, ``cuda_version``…

    Example::

        build_info()["backend"]            # 'tensorflow'
    """
    backend = current_backend()
    info: dict[str, Any] = {"backend": backend, "backend_version": "?", "is_cuda_build": False}
    if backend == "tensorflow":
        import tensorflow as tf

        info.update(dict(tf.sysconfig.get_build_info()))
        info["tf_version"] = info["backend_version"] = tf.__version__
    elif backend == "jax":
        import jax

        info["backend_version"] = jax.__version__
        info["is_cuda_build"] = bool(_jax_devices("gpu"))   # jax[cuda12] installs the CUDA plugin
    elif backend == "torch":
        import torch

        info["backend_version"] = torch.__version__.split("+")[0]
        info["cuda_version"] = torch.version.cuda
        info["is_cuda_build"] = torch.version.cuda is not None
        try:
            info["cudnn_version"] = str(torch.backends.cudnn.version() or "") or None
        except Exception:  # noqa: BLE001 - no cuDNN in a CPU build
            info["cudnn_version"] = None
    return info


def _jax_devices(kind: str) -> list:
    import jax

    try:
        return list(jax.devices(kind))
    except RuntimeError:   # "Unknown backend gpu": no such platform here
        return []


def probe_gpus(notes: list[str]) -> tuple:
    """The GPUs the backend in use sees, with names, memory and compute capability (``GPUInfo`` rows).

    Example::

        probe_gpus(notes := [])            # () on a CPU machine
    """
    backend, smi = current_backend(), nvidia_smi()
    found = []
    if backend == "tensorflow":
        import tensorflow as tf

        for i, device in enumerate(tf.config.list_physical_devices("GPU")):
            try:
                details = tf.config.experimental.get_device_details(device)
            except Exception:  # noqa: BLE001 - older TF or odd drivers: keep what nvidia-smi says
                details = {}
            row = smi[i] if i < len(smi) else {}
            cap = details.get("compute_capability") or row.get("compute_capability")
            found.append(GPUInfo(details.get("device_name") or row.get("name") or f"GPU {i}",
                                 row.get("memory_bytes"), tuple(cap) if cap else None, i))
    elif backend == "jax":
        for i, device in enumerate(_jax_devices("gpu")):
            row = smi[i] if i < len(smi) else {}
            cap = _capability(getattr(device, "compute_capability", None)) or row.get("compute_capability")
            try:
                memory = (device.memory_stats() or {}).get("bytes_limit")
            except Exception:  # noqa: BLE001 - not every PJRT plugin reports memory
                memory = None
            found.append(GPUInfo(getattr(device, "device_kind", None) or row.get("name") or f"GPU {i}",
                                 row.get("memory_bytes") or memory, cap, i))
    elif backend == "torch":
        import torch

        for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
            props = torch.cuda.get_device_properties(i)
            found.append(GPUInfo(props.name, int(props.total_memory), (int(props.major), int(props.minor)), i))
    if smi and not found:
        title = BACKEND_TITLES.get(backend, backend)
        notes.append(_("nvidia-smi sees {n} GPU(s) but {backend} sees none (CUDA libraries missing?).").format(
            n=len(smi), backend=title))
    return tuple(found)


def _capability(value: Any) -> tuple[int, int] | None:
    """``'9.0'`` (JAX's ``compute_capability``) → ``(9, 0)``."""
    try:
        major, minor = str(value).split(".")[:2]
        return int(major), int(minor)
    except (TypeError, ValueError):
        return None


def probe_tpu() -> str | None:
    """A TPU's address or ``'local'`` (Colab's variables, a TPU VM's device files, JAX's TPU devices)."""
    for name in ("COLAB_TPU_ADDR", "TPU_NAME"):
        if os.environ.get(name):
            return os.environ[name]
    if os.path.exists("/dev/accel0") or os.path.exists("/dev/vfio/0"):
        return "local"
    return None


def nvidia_smi() -> list[dict]:
    """The rows of ``nvidia-smi`` (name, memory, compute capability); [] without it."""
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
    """Rows of ``nvidia-smi --query-gpu=name,memory.total,compute_cap --format=csv,noheader,nounits``.

    Example::

        >>> parse_nvidia_smi("Tesla T4, 15360, 7.5")[0]["compute_capability"]
        (7, 5)
    """
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
            cap = _capability(parts[2])
            if cap:
                row["compute_capability"] = cap
        rows.append(row)
    return rows


def cpu_flags() -> set[str]:
    """The CPU's feature flags (``/proc/cpuinfo``; empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


__all__ = ["BACKEND_TITLES", "GPUInfo", "build_info", "cpu_flags", "nvidia_smi", "parse_nvidia_smi", "probe_gpus", "probe_tpu"]
