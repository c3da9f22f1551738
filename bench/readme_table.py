"""The README's benchmark table: the machine's description, the table, and rewriting it between its markers.

Pure Python (no TensorFlow): ``run_all.py`` renders the rows it read from ``bench/results`` and replaces
exactly the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` in README.md; nothing
outside the markers changes.

Example::

    block = render_table(rows, machine_description())
    rewrite_readme("README.md", block)
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from typing import Iterable

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_info(path: str = "/proc/cpuinfo") -> dict:
    """CPU model, the flags that matter here (AVX2, AVX-512, bfloat16 units) and the cores, from ``path``.

    Example::

        cpu_info()["flags"]        # ['avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile']
    """
    model, flags = None, set()
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model is None:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return {"model": model, "flags": [f for f in FLAGS if f in flags], "cores": os.cpu_count() or 1,
            "bf16": bool(flags & {"avx512_bf16", "amx_bf16"})}


def gpus() -> list[str]:
    """The NVIDIA GPUs ``nvidia-smi -L`` lists (none without the tool); never imports TensorFlow."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(" (UUID")[0].split(": ", 1)[-1] for line in out.splitlines() if line.startswith("GPU")]


def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:  # noqa: BLE001 - not installed
        return None


def machine_description(cpu: dict | None = None, gpu_names: list[str] | None = None, date: str | None = None,
                        note: str = "") -> str:
    """One sentence: the date, the CPU model, its flags that matter, the cores, the GPU if any, the versions
    (and ``note``, e.g. the load average during the run).

    Example::

        machine_description()
        # 'Measured 2026-11-26 on Intel(R) Xeon(R) Processor (avx2, avx512f, avx512_bf16, amx_bf16, amx_tile:
        #  bfloat16 units), 2 cores, no GPU; Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.0'
    """
    cpu = cpu or cpu_info()
    gpu_names = gpus() if gpu_names is None else gpu_names
    flags = ", ".join(cpu["flags"]) or "no AVX2/AVX-512"
    units = "bfloat16 units" if cpu["bf16"] else "no bfloat16 units"
    gpu = ", ".join(gpu_names) if gpu_names else "no GPU"
    versions = [f"Python {platform.python_version()}"]
    versions += [f"{name} {v}" for name, v in (("TensorFlow", _version("tensorflow")), ("Keras", _version("keras"))) if v]
    return (f"Measured {date or time.strftime('%Y-%m-%d')} on {cpu['model']} ({flags}: {units}), "
            f"{cpu['cores']} CPU cores, {gpu}; {', '.join(versions)}{note}:")


def render_table(rows: Iterable[tuple[str, str, str, str]], description: str) -> str:
    """The block that goes between the markers: the description line, a blank line, the Markdown table.

    Example::

        >>> print(render_table([("load", "0.2 s", "< 0.5 s", "meets")], "Measured today:"))
        Measured today:
        <BLANKLINE>
        | benchmark | measured | target | |
        |---|---|---|---|
        | load | 0.2 s | < 0.5 s | meets |
    """
    lines = [description, "", "| benchmark | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {what} | {measured} | {target} | {verdict} |" for what, measured, target, verdict in rows]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block`` (markers kept, one per line).

    Raises ValueError when the markers are missing, repeated or out of order.

    Example::

        >>> replace_block("a\\n<!-- bench:start -->\\nold\\n<!-- bench:end -->\\nb\\n", "new")
        'a\\n<!-- bench:start -->\\nnew\\n<!-- bench:end -->\\nb\\n'
    """
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"README.md needs exactly one {START} … {END} pair around the benchmark table")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block.strip(chr(10))}\n{END}{tail}"


def rewrite_readme(path: str, block: str) -> bool:
    """Replace the table between the markers of the file at ``path`` (atomically); True when it changed.

    Example::

        rewrite_readme("README.md", render_table(rows, machine_description()))
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    new = replace_block(text, block)
    if new == text:
        return False
    from nnmagics.files import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(new)

    atomic_write(path, write)
    return True
