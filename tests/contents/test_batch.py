"""Short blocking calls share worker-thread hops, and each caller still gets its own outcome."""

from __future__ import annotations

import threading

import anyio
import pytest
from modserver_contents.batch import ThreadBatch


def test_concurrent_calls_share_hops_and_get_their_own_results() -> None:
    batch = ThreadBatch()
    threads: set[int] = set()
    gate = threading.Event()
    results: dict[int, int] = {}

    def work(n: int) -> int:
        threads.add(threading.get_ident())
        if n == 0:
            gate.wait(5)  # hold the first hop while the others queue up
        return n * n

    async def call(n: int) -> None:
        results[n] = await batch.run(lambda: work(n))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for n in range(20):
                group.start_soon(call, n)
            await anyio.sleep(0.05)
            gate.set()

    anyio.run(main)
    assert results == {n: n * n for n in range(20)}
    assert threading.get_ident() not in threads  # never on the event loop's thread


def test_an_error_reaches_only_its_caller() -> None:
    batch = ThreadBatch()

    def fail() -> None:
        raise ValueError("boom")

    async def main() -> list[object]:
        outcomes: list[object] = []

        async def run(call: object) -> None:
            try:
                outcomes.append(await batch.run(call))  # type: ignore[arg-type]
            except ValueError as exc:
                outcomes.append(str(exc))

        async with anyio.create_task_group() as group:
            for call in (lambda: 1, fail, lambda: 3):
                group.start_soon(run, call)
        return outcomes

    assert sorted(map(str, anyio.run(main))) == ["1", "3", "boom"]


def test_a_cancelled_waiter_does_not_stall_the_others() -> None:
    batch = ThreadBatch()
    gate = threading.Event()

    async def main() -> list[int]:
        done: list[int] = []

        async def call(n: int) -> None:
            done.append(await batch.run(lambda: gate.wait(5) and n))

        async with anyio.create_task_group() as group:
            group.start_soon(call, 1)  # leads the first hop, held by the gate
            await anyio.sleep(0.02)
            with anyio.CancelScope() as scope:
                scope.cancel()
                await call(2)  # queued, then cancelled while waiting
            group.start_soon(call, 3)
            await anyio.sleep(0.02)
            gate.set()
        with anyio.fail_after(5):
            done.append(await batch.run(lambda: 4))  # the batch is free again
        return done

    assert sorted(anyio.run(main)) == [1, 3, 4]


@pytest.mark.parametrize("waiters", [1, 5])
def test_sequential_use_after_concurrent_use(waiters: int) -> None:
    batch = ThreadBatch()

    async def main() -> list[int]:
        out: list[int] = []

        async def call(n: int) -> None:
            out.append(await batch.run(lambda: n))

        async with anyio.create_task_group() as group:
            for n in range(waiters):
                group.start_soon(call, n)
        for n in range(3):
            out.append(await batch.run(lambda n=n: 100 + n))  # type: ignore[misc]
        return out

    assert sorted(anyio.run(main)) == [*range(waiters), 100, 101, 102]
