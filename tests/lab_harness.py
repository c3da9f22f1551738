"""Start JupyterLab on a free loopback port and drive it with Playwright in Debian's Chromium."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    """Path of the system Chromium (Playwright must not download its own browser)."""
    for path in CHROMIUM_PATHS:
        if os.path.exists(path):
            return path
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyter_server(root: str, app: str = "lab", log_path: str | None = None):
    """Run ``jupyter lab`` (or ``notebook``) serving ``root``; yields its base URL and token."""
    port, token = free_port(), secrets.token_hex(16)
    log = open(log_path or os.path.join(root, "server.log"), "w")
    command = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
               "--ServerApp.open_browser=False"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"jupyter {app} did not start; see {log.name}") from None
                time.sleep(0.5)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class LabPage:
    """A notebook open in JupyterLab: run cells and read their outputs from the DOM."""

    def __init__(self, page):
        self.page = page

    def open(self, base: str, token: str, notebook: str, app: str = "lab") -> None:
        url = f"{base}/lab/tree/{notebook}?token={token}" if app == "lab" else f"{base}/notebooks/{notebook}?token={token}"
        self.page.goto(url)
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        try:
            self.page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                                        ".jp-KernelStatus-idle", timeout=90_000)
        except Exception:  # noqa: BLE001 - a front end without that indicator: give the kernel time
            time.sleep(10)
        time.sleep(2)  # the kernel connection settles after the indicator turns idle

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run(self, index: int) -> None:
        """Run cell ``index`` as a user does: click into it, Shift+Enter."""
        self.cell(index).locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")

    def wait_done(self, index: int, timeout: float = 240) -> None:
        """Wait until cell ``index`` shows an execution count (it has finished)."""
        prompt = self.cell(index).locator(".jp-InputArea-prompt")
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = prompt.inner_text().strip()
            if text.startswith("[") and text not in ("[ ]:", "[*]:"):
                return
            time.sleep(0.25)
        raise TimeoutError(f"cell {index} did not finish in {timeout} s")

    def output_text(self, index: int) -> str:
        return self.cell(index).locator(".jp-OutputArea").inner_text()
