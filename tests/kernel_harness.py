"""One real IPython kernel for the tests: run cells and see what a notebook would show.

The tests that check *what a user sees* (one sentence, never a traceback) need a real kernel:
an in-process ``InteractiveShell`` and ``pytest.raises`` cannot see how IPython displays an error.
``KernelHarness`` starts one ipykernel (cwd a scratch folder, ``MPLBACKEND=Agg``), runs cells
through ``jupyter_client`` exactly as a notebook front end does, and collects the outputs the way
a notebook stores them (streams merged, ``clear_output`` honoured)::

    harness = KernelHarness(cwd="/tmp/scratch")
    harness.run("%load_ext nnmagics")
    cell = harness.run("%nn_build m --layers 'dense 3 rleu'")
    cell.status            # 'error': "Run all" stops here
    cell.text              # "UsageError: Unknown activation 'rleu'. Did you mean 'relu'?"
    harness.shutdown()

In pytest use the session fixture ``kernel`` (``tests/conftest.py``), which has nnmagics loaded.
"""
from __future__ import annotations

import html
import os
import queue
import re
import sys
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAG = re.compile(r"<[^>]+>")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes: ``strip_ansi('\\x1b[31mred\\x1b[0m') == 'red'``."""
    return ANSI.sub("", text)


def html_text(markup: str) -> str:
    """The text a browser shows for ``markup`` (tags dropped, entities decoded), roughly.

    >>> html_text("<b>a &lt; b</b>")
    'a < b'
    """
    return html.unescape(TAG.sub(" ", markup)).strip()


@dataclass
class CellResult:
    """What one executed cell shows in a notebook.

    ``status`` is the execute reply's status (``'ok'`` or ``'error'``: nbclient's "Run all" stops at
    ``'error'``); ``outputs`` are the notebook outputs (nbformat-like dicts, plus ``'page'`` for the
    pager text of ``%magic?``, which front ends show beside the cell); ``text`` is the visible
    text of the cell (streams, error tracebacks, the plain text of displays) without colour codes;
    ``error_lines`` are the non-blank lines of stderr and error outputs.
    """

    status: str
    outputs: list = field(default_factory=list)
    ename: str | None = None
    evalue: str | None = None

    @property
    def text(self) -> str:
        """The visible text of the cell, outputs joined by newlines, blank lines dropped."""
        return "\n".join(line for line in self._lines(everything=True) if line.strip())

    @property
    def error_lines(self) -> list[str]:
        """The non-blank visible lines of stderr streams and error outputs."""
        return [line for line in self._lines(everything=False) if line.strip()]

    @property
    def lines(self) -> list[str]:
        """``text`` split into lines."""
        return self.text.splitlines()

    @property
    def has_traceback(self) -> bool:
        """True when the cell shows any traceback (a ``Traceback`` header or IPython's ``---->`` arrows)."""
        text = self.text
        return "Traceback" in text or "---->" in text or bool(re.search(r"^\s*File \"", text, re.M))

    def _lines(self, everything: bool) -> list[str]:
        lines: list[str] = []
        for out in self.outputs:
            kind = out["output_type"]
            if kind == "stream":
                if everything or out["name"] == "stderr":
                    lines += strip_ansi(out["text"]).splitlines()
            elif kind == "error":
                lines += strip_ansi("\n".join(out.get("traceback") or [f"{out['ename']}: {out['evalue']}"])).splitlines()
            elif everything and kind in ("display_data", "execute_result", "page"):
                data = out.get("data", {})
                if "text/plain" in data:
                    lines += strip_ansi(data["text/plain"]).splitlines()
                elif "text/html" in data:
                    lines += html_text(data["text/html"]).splitlines()
        return lines

    def __repr__(self) -> str:  # short, for assertion messages
        return f"CellResult(status={self.status!r}, text={self.text!r})"


class _Collector:
    """Turns iopub messages into notebook outputs (as nbclient does)."""

    def __init__(self):
        self.outputs: list[dict] = []
        self._clear_next = False

    def __call__(self, msg: dict) -> None:
        kind = msg["header"]["msg_type"]
        content = msg["content"]
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_next = True
            else:
                self.outputs.clear()
            return
        if kind not in ("stream", "display_data", "execute_result", "error", "update_display_data"):
            return
        if self._clear_next:
            self.outputs.clear()
            self._clear_next = False
        if kind == "stream":
            last = self.outputs[-1] if self.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == content["name"]:
                last["text"] += content["text"]
            else:
                self.outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
        elif kind == "update_display_data":
            target = content.get("transient", {}).get("display_id")
            for out in self.outputs:
                if target and out.get("display_id") == target:
                    out["data"] = content.get("data", {})
        elif kind == "error":
            self.outputs.append({"output_type": "error", "ename": content["ename"], "evalue": content["evalue"],
                                 "traceback": content.get("traceback", [])})
        else:
            self.outputs.append({"output_type": kind, "data": content.get("data", {}),
                                 "display_id": content.get("transient", {}).get("display_id")})


class KernelHarness:
    """One running ipykernel; ``run(code)`` executes a cell and returns its ``CellResult``.

    Example::

        with KernelHarness(cwd=str(tmp_path)) as k:
            assert k.run("print(1 + 1)").text == "2"
    """

    def __init__(self, cwd: str, env: dict | None = None, startup_timeout: float = 120):
        from jupyter_client.manager import KernelManager

        full_env = dict(os.environ)
        full_env.update({"MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": full_env.get("TF_CPP_MIN_LOG_LEVEL", "3")})
        full_env.pop("PYTEST_CURRENT_TEST", None)
        full_env.update(env or {})
        self.cwd = cwd
        # the kernel runs this very interpreter (the test environment), whatever kernel specs are installed
        self.manager = KernelManager(kernel_name="python3")
        self.manager.kernel_spec.argv[0] = sys.executable
        self.manager.start_kernel(cwd=cwd, env=full_env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=startup_timeout)

    def run(self, code: str, timeout: float = 300) -> CellResult:
        """Execute ``code`` as one notebook cell; on ``timeout`` the kernel is interrupted and an error returned."""
        collector = _Collector()
        try:
            reply = self.client.execute_interactive(code, output_hook=collector, timeout=timeout,
                                                    allow_stdin=False, stop_on_error=False)
        except (TimeoutError, queue.Empty):
            self.manager.interrupt_kernel()
            self._drain()
            return CellResult("error", collector.outputs, "TimeoutError", f"the cell ran longer than {timeout} s")
        content = reply["content"]
        for payload in content.get("payload", []):   # `%magic?` help arrives as a pager payload
            if payload.get("source") == "page":
                collector.outputs.append({"output_type": "page", "data": payload.get("data", {})})
        return CellResult(content["status"], collector.outputs, content.get("ename"), content.get("evalue"))

    def start(self, code: str) -> str:
        """Send ``code`` as a cell and return at once (its message id): the cell runs while the test goes on.

        Example::

            harness.start("%nn_train m d --epochs 50")     # then, say, harness.kill() mid-training
        """
        return self.client.execute(code, allow_stdin=False, stop_on_error=False)

    def kill(self) -> None:
        """Kill the kernel's process (SIGKILL, as the OS or Colab's recycling does): nothing runs after."""
        import signal

        self.client.stop_channels()
        process = self.manager.provisioner.process    # jupyter_client's local process (a Popen)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self.manager.cleanup_resources()

    def _drain(self, seconds: float = 10) -> None:
        """Wait for the interrupted cell's reply so that the next ``run`` starts clean."""
        try:
            while True:
                self.client.get_shell_msg(timeout=seconds)
        except queue.Empty:
            pass
        try:
            while True:
                self.client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            pass

    def shutdown(self) -> None:
        """Stop the kernel and its channels."""
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()


def code_block(cell: "CellResult") -> str:
    """The code block a cell shows (``show_code``: HTML ``<pre>`` + the code as plain text, ``# %nn_…`` first)."""
    for out in cell.outputs:
        data = out.get("data", {})
        text = data.get("text/plain", "")
        if out["output_type"] == "display_data" and "<pre" in data.get("text/html", "") and text.startswith("# %nn_"):
            return text
    raise AssertionError(f"no code block in the cell's outputs: {cell.text[:2000]}")


# -- which language a text is in ------------------------------------------------------------------
# English words that are not French words: a French text shows none of them (outside names and code)
ENGLISH_WORDS = frozenset(
    "the is are was were and with not from this that these those your you of to for by it its has have each "
    "which when use than into only all be can will would should must there been being does did how what "
    "why where first before after again other more less some any".split())
_NOT_PROSE = re.compile(r"--?[\w-]+|%%?\w+|'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|\S*[/\\]\S*|\S+\.(?:py|h5|csv|xlsx|jpe?g|png|keras)\b"
                        r"|\b\w+(?:_\w+)+\b|\b\w+=\S*|\w+\(\S*\)")


def english_lines(text: str) -> list[str]:
    """The lines of ``text`` that read as English prose (two or more of ``ENGLISH_WORDS`` outside option
    names, quoted names, paths and identifiers); a French text returns ``[]``.

    >>> english_lines("Époque 3 : perte 0,12\\nThe loss is lower than before")
    ['The loss is lower than before']
    """
    found = []
    for line in text.splitlines():
        words = re.findall(r"[A-Za-z]+", _NOT_PROSE.sub(" ", line))
        if sum(word.lower() in ENGLISH_WORDS for word in words) >= 2:
            found.append(line)
    return found
