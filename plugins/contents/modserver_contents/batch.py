"""Short blocking calls, many per worker-thread hop.

A thread hop is the dearest part of serving a small file: on a busy server each one
wakes a worker thread that then fights the event loop for the GIL, which costs several
times the disk work itself. ``ThreadBatch.run`` queues the call instead; one caller at a
time (the leader) takes everything queued so far to a worker thread in one hop and wakes
the others when it is done. With one request at a time that is exactly one hop per call,
as before; with many concurrent requests, one hop serves all the calls that came in while
the previous hop ran.

Only for calls that are short and never block for long (a ``stat`` and a small read): a
call waits for the others in its batch. The leader's hop completes even if the leader is
cancelled (anyio does not abandon a worker thread), so no queued call is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("call", "done", "error", "lead", "result", "wake")

    def __init__(self, call: Callable[[], T]) -> None:
        self.call = call
        self.wake: anyio.Event | None = None  # only callers that wait need one
        self.done = False  # ran (result or error is set)
        self.lead = False  # asked to take the next batch to a worker thread
        self.result: T | None = None
        self.error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


def _run_all(batch: list[_Job[Any]]) -> None:
    for job in batch:
        try:
            job.result = job.call()
        except Exception as exc:
            job.error = exc
        job.done = True


class ThreadBatch:
    """Runs short blocking calls in a worker thread, many per hop (see the module doc)."""

    def __init__(self) -> None:
        self._queue: list[_Job[Any]] = []
        self._busy = False  # a leader is running a batch (or has been asked to)

    async def run(self, call: Callable[[], T]) -> T:
        """``call()`` in a worker thread, batched with the calls queued meanwhile."""
        job: _Job[T] = _Job(call)
        self._queue.append(job)
        if self._busy:
            job.wake = anyio.Event()
            try:
                await job.wake.wait()
            except BaseException:
                self._abandon(job)
                raise
            if job.done:
                return job.outcome()
        self._busy = True
        batch, self._queue = self._queue, []
        try:
            await anyio.to_thread.run_sync(_run_all, batch)
        finally:
            for other in batch:
                if not other.done:  # only if the hop itself failed
                    other.error = RuntimeError("the worker thread did not run this call")
                    other.done = True
                if other.wake is not None:
                    other.wake.set()
            self._hand_over()
        return job.outcome()

    def _abandon(self, job: _Job[Any]) -> None:
        """A waiting caller was cancelled: drop its call, or pass on its turn to lead."""
        if job.done:
            return  # it ran in a batch; nobody needs its result
        if job in self._queue:
            self._queue.remove(job)
        if job.lead:
            self._hand_over()

    def _hand_over(self) -> None:
        """Ask the first queued caller to lead the next batch, or stand down."""
        if self._queue:
            nxt = self._queue[0]  # queued while busy, so it waits on its event
            nxt.lead = True
            if nxt.wake is not None:
                nxt.wake.set()
        else:
            self._busy = False
