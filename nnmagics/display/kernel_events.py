"""Handle the front end's widget messages (a Stop click) while a cell keeps the kernel busy.

A click reaches the kernel as a ``comm_msg`` that a busy kernel normally handles only after the
cell. JupyterLab ≥ 4.4 / Notebook ≥ 7.4 send comm messages to a kernel subshell (ipykernel ≥ 7),
which handles them at once in its own thread. Elsewhere ``KernelEventPoller`` (called with the
throttled batch updates) handles pending comm messages itself and hands every other message back
to the kernel, in order, when training ends.
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class KernelEventPoller:
    """Handle the front end's widget (comm) messages while a cell keeps the kernel busy.

    Other messages (an execute request for the next cell, completions, …) are kept and given back
    to the kernel, in their order, by ``close()``. Works with ipykernel 7 (messages for the main
    shell arrive on an inproc socket) and ipykernel 6 (``shell_stream`` + ``msg_queue``); does
    nothing anywhere else. Any failure disables it: training must never break because of it.
    """

    def __init__(self, kernel: Any = None):
        self.kernel = kernel if kernel is not None else _current_kernel()
        self.mode = _kernel_mode(self.kernel)
        self.kind = self.mode  # kept when polling is disabled after a failure: deferred messages still go back
        self.deferred: list[Any] = []
        self.handled = 0

    @property
    def active(self) -> bool:
        return self.mode is not None

    def poll(self, limit: int = 20) -> int:
        """Handle up to ``limit`` pending comm messages; returns how many were handled."""
        if self.mode is None:
            return 0
        try:
            if self.mode == "ipykernel7":
                return self._poll7(limit)
            return self._poll6(limit)
        except Exception:  # noqa: BLE001 - a kernel we do not understand: stop trying
            log.debug("kernel event polling disabled", exc_info=True)
            self.mode = None
            return 0

    def _dispatch_if_comm(self, frames) -> bool:
        kernel = self.kernel
        session = kernel.session
        idents, parts = session.feed_identities(frames, copy=False)
        # peek at the header without checking the signature: a checked message goes into the session's
        # replay history, and the kernel would then refuse the messages we hand back to it
        header = parts[1].bytes if hasattr(parts[1], "bytes") else parts[1]
        if session.unpack(header).get("msg_type") != "comm_msg":
            return False
        msg = session.deserialize(parts, content=True, copy=False)
        # dispatched without set_parent: anything a handler prints stays with the training cell
        kernel.comm_manager.comm_msg(None, idents, msg)
        self.handled += 1
        return True

    def _poll7(self, limit: int) -> int:
        import zmq

        socket = self.kernel.shell_channel_thread.manager._shell_channel_to_main.to_socket
        handled = 0
        while handled < limit and socket.poll(0, zmq.POLLIN):
            frames = socket.recv_multipart(copy=False)
            if self._dispatch_if_comm(frames):
                handled += 1
            else:
                self.deferred.append(frames)
        return handled

    def _poll6(self, limit: int) -> int:
        import zmq

        kernel = self.kernel
        kernel.shell_stream.flush(zmq.POLLIN, limit)
        queue = kernel.msg_queue
        items = []
        while True:
            try:
                items.append(queue.get_nowait())
            except Exception:  # noqa: BLE001 - tornado/asyncio QueueEmpty
                break
        handled = 0
        for item in items:
            _, dispatch, args = item
            frames = args[0] if args else None
            if frames is not None and getattr(dispatch, "__name__", "") == "dispatch_shell" and self._dispatch_if_comm(frames):
                handled += 1
            else:
                queue.put_nowait(item)
        return handled

    def close(self) -> None:
        """Give the kept messages back to the kernel (ipykernel 7), in order."""
        deferred, self.deferred = self.deferred, []
        if not deferred or self.kind != "ipykernel7":
            return
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = asyncio.get_event_loop()
        for frames in deferred:
            loop.create_task(self.kernel.shell_main(None, frames))


def _current_kernel():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    shell = get_ipython()
    return getattr(shell, "kernel", None) if shell is not None else None


def _kernel_mode(kernel) -> str | None:
    if kernel is None or not hasattr(kernel, "session") or not hasattr(kernel, "comm_manager"):
        return None
    thread = getattr(kernel, "shell_channel_thread", None)
    if thread is not None and getattr(kernel, "_supports_kernel_subshells", False):
        manager = getattr(thread, "manager", None)
        if manager is not None and hasattr(manager, "_shell_channel_to_main") and hasattr(kernel, "shell_main"):
            return "ipykernel7"
        return None
    if getattr(kernel, "shell_stream", None) is not None and hasattr(kernel, "msg_queue"):
        return "ipykernel6"
    return None
