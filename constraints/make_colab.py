"""Write ``constraints/colab.txt`` from Google Colab's published ``pip freeze`` (GPU runtime).

Usage (from the project root)::

    python constraints/make_colab.py ../shared/colab/pip-freeze.gpu.txt

Every ``name==version`` line is kept as a pip constraint; lines that point at a URL or a local file
(``google-colab @ file:///…``, NVIDIA wheels) cannot be constraints and are listed as comments. The
file is committed so that a clean clone (CI) builds ``.venv-colab`` without ``../shared``.
"""
from __future__ import annotations

import sys
from pathlib import Path

HEADER = """\
# Google Colab's GPU runtime as published (googlecolab/backend-info, pip-freeze.gpu.txt).
# Made by constraints/make_colab.py; do not edit by hand.
# Colab runs Python 3.13; .venv-colab uses Python 3.11 with these same versions (3.13 is not
# installable on the project's machines). google-colab itself pins ipython==7.34.0.
"""


# Colab's versions of these need Python >= 3.12 (Colab has 3.13): on the 3.11 stand-in pip picks the
# newest release that supports 3.11. None of them is imported by nnmagics or pinned by google-colab.
NEEDS_NEWER_PYTHON = {
    "tifffile",
}


def make(freeze: str) -> str:
    """The constraints text for the lines of a ``pip freeze`` output."""
    pins, skipped = [], []
    for raw in freeze.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "==" in line and " @ " not in line:
            name = line.split("==")[0].strip().lower()
            if name in NEEDS_NEWER_PYTHON:
                pins.append("# " + line + "  (needs Python >= 3.12: left to pip on 3.11)")
            else:
                pins.append(line)
        else:
            skipped.append(line.split(" @ ")[0])
    body = "\n".join(sorted(pins, key=lambda pin: pin.lstrip("# ").lower()))
    note = "# not constrainable (installed from a URL or a file in Colab): " + ", ".join(sorted(skipped))
    return HEADER + note + "\n" + body + "\n"


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/colab/pip-freeze.gpu.txt")
    target = Path(__file__).with_name("colab.txt")
    target.write_text(make(source.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {target} from {source}")
