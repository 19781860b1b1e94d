"""Ctrl-C and termination: one line, a clean exit code, at any moment, nothing half-written.

Python turns SIGINT into ``KeyboardInterrupt`` only when the main thread next runs Python
bytecode, and many places never let it through: numba compiles a sampler for tens of seconds
inside LLVM (C++) and its compiler passes, nutpie samples in Rust threads, and code that catches
broad exceptions can swallow the interrupt (a latent-class fit interrupted while compiling ran
on for 70 s and then exited 0). SIGTERM, by default, kills the process wherever it is.

So the command line (:func:`install`, called first by :func:`hiddenrate.cli.main`; never by the
library) takes the signals itself. Python's C-level handler writes the signal number to a
socket at once (:func:`signal.set_wakeup_fd`), whatever the main thread is doing; a watcher
thread waiting on that socket then removes the temporary files of outputs in progress
(:mod:`hiddenrate.core.files`, under its lock, so a set of outputs is renamed into place either
whole or not at all), writes one line on stderr and ends the process with the shell's code for
the signal: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. The main thread is never
interrupted, so no traceback is printed and no library sees the interrupt.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from types import FrameType

from hiddenrate.core import files

#: signal -> the message; the exit code is 128 + the signal's number, as shells report it
HANDLED: dict[int, str] = {int(getattr(signal, name)): words for name, words in
                           (("SIGINT", "interrupted"), ("SIGTERM", "terminated"), ("SIGHUP", "hung up"))
                           if hasattr(signal, name)}

_installed = False
_sockets: list[socket.socket] = []  # kept open for the life of the process


def _ignore(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing (the watcher thread acts); its presence makes Python's
    C-level handler run, which writes to the wakeup socket."""


def _finish(signum: int) -> None:
    """Remove the outputs in progress, say so in one line and exit (without unwinding the main thread)."""
    with files.lock:  # waits for a commit of outputs in progress to finish: all renamed or none
        files.discard_pending()
        os.write(2, f"hiddenrate: error: {HANDLED.get(signum, 'stopped')}\n".encode())
        os._exit(128 + signum)


def _watch(reader: socket.socket) -> None:
    while True:
        try:
            data = reader.recv(1)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        if data[0] in HANDLED:
            _finish(data[0])


def install() -> None:
    """Take SIGINT, SIGTERM and SIGHUP for the rest of the process (main thread only, once)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    _sockets.extend((reader, writer))
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    for signum in HANDLED:
        signal.signal(signum, _ignore)
    threading.Thread(target=_watch, args=(reader,), name="hiddenrate-signals", daemon=True).start()
    _installed = True
