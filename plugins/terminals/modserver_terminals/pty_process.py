"""A shell in a PTY, driven from anyio: non-blocking reads and writes, and a clean end.

``ptyprocess`` forks the shell as the leader of a new session with the PTY as its
controlling terminal. Reads and writes go through the master file descriptor in
non-blocking mode, waiting with ``anyio.wait_readable``/``wait_writable``, so the event
loop never blocks. Ending a terminal ends its whole session (the shell and every job it
started), then reaps the shell and closes the descriptor: no zombie, no descriptor left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Mapping, Sequence
from functools import partial

import anyio
import ptyprocess

#: Bytes asked for per read (the PTY hands out at most a few KiB at a time anyway).
READ_SIZE = 65536


class SpawnError(RuntimeError):
    """The shell could not be started (no such program, no permission, ...)."""


class PtyProcess:
    """One process session on a PTY: the shell started by ``spawn`` and its jobs."""

    def __init__(self, process: ptyprocess.PtyProcess) -> None:
        self._process = process
        self.pid: int = process.pid
        self.fd: int = process.fd
        self.closed = False
        os.set_blocking(self.fd, False)

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: str,
        env: Mapping[str, str],
        rows: int = 24,
        cols: int = 80,
    ) -> PtyProcess:
        """Start ``argv`` in ``cwd`` on a new PTY (fork and exec in a worker thread)."""
        start = partial(
            ptyprocess.PtyProcess.spawn,
            list(argv),
            cwd=cwd,
            env=dict(env),
            dimensions=(rows, cols),
        )
        try:
            process = await anyio.to_thread.run_sync(start)
        except (OSError, ptyprocess.PtyProcessError) as exc:
            raise SpawnError(f"Could not start {' '.join(argv)!r}: {exc}") from None
        return cls(process)

    async def read(self, size: int = READ_SIZE) -> bytes:
        """The next output (at most ``size`` bytes), or ``b""`` once the PTY is closed."""
        while not self.closed:  # once closed, the descriptor's number may be reused
            try:
                return os.read(self.fd, size)
            except BlockingIOError:
                try:
                    await anyio.wait_readable(self.fd)
                except anyio.ClosedResourceError:
                    break
            except OSError as exc:
                # Linux answers EIO once no process holds the other side of the PTY.
                if exc.errno in (errno.EIO, errno.EBADF):
                    break
                raise
        return b""

    async def write(self, data: bytes) -> None:
        """Write all of ``data``, waiting (without blocking) while the PTY's buffer is full."""
        view = memoryview(data)
        while view and not self.closed:  # once closed, the number may be another file's
            try:
                written = os.write(self.fd, view)
            except BlockingIOError:
                try:
                    await anyio.wait_writable(self.fd)
                except anyio.ClosedResourceError:
                    return
                continue
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return  # the shell is gone: its end is reported by the reader
                raise
            view = view[written:]

    def resize(self, rows: int, cols: int) -> None:
        """Set the PTY's window size (the shell gets SIGWINCH)."""
        if not self.closed:
            with contextlib.suppress(OSError):
                self._process.setwinsize(rows, cols)

    def window_size(self) -> tuple[int, int]:
        """The PTY's (rows, cols); (0, 0) once closed."""
        if self.closed:
            return 0, 0
        rows, cols = self._process.getwinsize()
        return int(rows), int(cols)

    async def end(self, grace: float) -> None:
        """End the session: SIGHUP, then SIGKILL after ``grace`` s; reap; close the PTY.

        Safe to call twice. Runs its waits in a worker thread and cannot be cancelled
        half-way, so the descriptor is always closed and the shell always reaped.
        """
        if self.closed:
            return
        self.closed = True
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(end_session, self.pid, grace)
            # Wake anyone waiting on the descriptor before it goes away.
            anyio.notify_closing(self.fd)
            self._process.fileobj.close()
            # ptyprocess must not try to close or reap it again (its __del__ would).
            self._process.closed = True
            self._process.terminated = True


def session_members(session: int) -> list[int]:
    """Live processes of ``session`` (from /proc; empty where there is none).

    Zombies are left out: they are dead, and init reaps them once their parent is gone.
    """
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        # After the command name: state, ppid, pgrp, session, ...
        if len(fields) > 3 and int(fields[3]) == session and fields[0] != b"Z":
            members.append(int(entry))
    return members


def _signal_session(leader: int, sig: int) -> None:
    """Send ``sig`` to every process of the session ``leader`` leads."""
    # The leader's own group always (also where /proc does not exist) ...
    with contextlib.suppress(OSError):
        os.killpg(leader, sig)
    # ... and every other group of the session: the shell's jobs.
    for pid in session_members(leader):
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def _leader_exited(pid: int) -> bool:
    """True once ``pid`` (our child) has exited; it is not reaped, so its id stays taken."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def end_session(leader: int, grace: float) -> None:
    """Hang up the session of ``leader``, kill what is left after ``grace`` s, reap the leader.

    Blocking: run it in a worker thread. The leader is reaped last, so until then its
    process id (which is also the session's id) cannot be reused by a stranger.
    """
    _signal_session(leader, signal.SIGHUP)
    _signal_session(leader, signal.SIGCONT)  # stopped jobs must run to see the hangup
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _leader_exited(leader) and not session_members(leader):
            break
        time.sleep(0.01)
    _signal_session(leader, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(leader, 0)
