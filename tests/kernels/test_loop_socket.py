"""``LoopSocket``: the kernel client's ZMQ sockets, read by an event-loop callback.

Real ZMQ sockets over TCP loopback, as between the server and a kernel. What would go
wrong if the descriptor's signal were trusted too much: messages that arrive while the
loop socket sends, or more than one drain's batch, would wait for a signal that never
comes, and a cell's output or reply would never reach the browser.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import zmq
import zmq.asyncio
from modserver_kernels.loop_socket import DRAIN_BATCH, LoopSocket

TIMEOUT = 20
PROBE = b"probe"


class Inbox:
    """Where a loop socket's messages land (the last frame of each; probes counted)."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.probes = 0
        self._changed = anyio.Event()

    def add(self, frames: list[zmq.Frame]) -> None:
        body = frames[-1].bytes
        if body == PROBE:
            self.probes += 1
        else:
            self.bodies.append(body)
        self._changed.set()

    async def wait_for_probe(self) -> None:
        await self._wait_until(lambda: self.probes > 0)

    async def wait_for(self, count: int) -> None:
        await self._wait_until(lambda: len(self.bodies) >= count)

    async def _wait_until(self, done: Callable[[], bool]) -> None:
        with anyio.fail_after(TIMEOUT):
            while not done():
                await self._changed.wait()
                self._changed = anyio.Event()


@asynccontextmanager
async def pair(
    *, high_water_mark: int = 1000
) -> AsyncIterator[tuple[LoopSocket, zmq.asyncio.Socket, Inbox]]:
    """A DEALER read by a LoopSocket (not started), connected to a ROUTER peer."""
    context = zmq.Context()
    peer: zmq.Socket[bytes] = context.socket(zmq.ROUTER)
    peer.setsockopt(zmq.RCVHWM, high_water_mark)
    port = peer.bind_to_random_port("tcp://127.0.0.1")
    dealer: zmq.Socket[bytes] = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.IDENTITY, b"dealer")
    dealer.setsockopt(zmq.SNDHWM, high_water_mark)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    inbox = Inbox()
    socket = LoopSocket(dealer, inbox.add)
    try:
        yield socket, zmq.asyncio.Socket.from_socket(peer), inbox
    finally:
        socket.close()
        peer.close(linger=0)
        context.term()


async def introduce(socket: LoopSocket, peer: zmq.asyncio.Socket) -> None:
    """One message to the ROUTER, so that it knows the dealer's identity."""
    await socket.send([b"hello"])
    with anyio.fail_after(TIMEOUT):
        await peer.recv_multipart()


def test_messages_queued_before_start_and_beyond_one_batch_all_arrive() -> None:
    count = DRAIN_BATCH * 5 + 3

    async def main() -> None:
        async with pair() as (socket, peer, inbox):
            socket.start()
            await introduce(socket, peer)
            socket.stop()
            # Queued while nobody reads: one signal at most for all of them.
            for number in range(count):
                await peer.send_multipart([b"dealer", str(number).encode()])
            await anyio.sleep(0.2)
            restarted = LoopSocket(socket.socket, inbox.add)
            restarted.start()
            try:
                await inbox.wait_for(count)
            finally:
                restarted.stop()
            assert inbox.bodies == [str(n).encode() for n in range(count)]

    anyio.run(main)


def test_a_message_its_handler_fails_on_does_not_strand_the_next_ones() -> None:
    async def main() -> None:
        async with pair() as (socket, peer, inbox):

            def handle(frames: list[zmq.Frame]) -> None:
                if frames[-1].bytes == b"bad":
                    raise ValueError("cannot handle this one")
                inbox.add(frames)

            reader = LoopSocket(socket.socket, handle)
            reader.start()
            try:
                await introduce(reader, peer)
                plain_peer: zmq.Socket[bytes] = zmq.Socket.shadow(peer.underlying)
                for body in (b"1", b"bad", b"2", b"3"):
                    plain_peer.send_multipart([b"dealer", body])
                # Blocks the loop: all four arrive behind one signal of the descriptor.
                time.sleep(0.3)  # noqa: ASYNC251 - on purpose
                await inbox.wait_for(3)
            finally:
                reader.stop()
            assert inbox.bodies == [b"1", b"2", b"3"]

    anyio.run(main)


def test_replies_arriving_while_it_sends_are_not_lost() -> None:
    # An echo peer answers each request at once, so replies arrive while later requests
    # are being sent: each send processes the socket's commands and may take the
    # descriptor's signal for a reply that is already there.
    count = 3000

    async def main() -> None:
        async with pair() as (socket, peer, inbox):
            socket.start()
            await introduce(socket, peer)
            stop = anyio.Event()
            # In a thread of its own, as a kernel is a process of its own: replies come
            # back while the event loop is still sending.
            plain_peer: zmq.Socket[bytes] = zmq.Socket.shadow(peer.underlying)

            def echo() -> None:
                poller = zmq.Poller()
                poller.register(plain_peer, zmq.POLLIN)
                while not stop.is_set():
                    if poller.poll(50):
                        plain_peer.send_multipart(plain_peer.recv_multipart())

            async with anyio.create_task_group() as group:
                group.start_soon(anyio.to_thread.run_sync, echo)
                try:
                    for number in range(count):
                        await socket.send([str(number).encode()])
                        if number % 50 == 0:
                            await anyio.lowlevel.checkpoint()
                    await inbox.wait_for(count)
                finally:
                    stop.set()
            assert sorted(inbox.bodies, key=int) == [str(n).encode() for n in range(count)]

    anyio.run(main)


def test_a_reply_whose_signal_a_send_took_is_still_read() -> None:
    # The reply to A arrives while the loop is busy; sending B then processes the
    # socket's commands, which clears the descriptor's signal for that reply. B gets no
    # answer, so no later signal comes either: only the check after each send finds A.
    async def main() -> None:
        async with pair() as (socket, peer, inbox):
            socket.start()
            await introduce(socket, peer)
            plain_peer: zmq.Socket[bytes] = zmq.Socket.shadow(peer.underlying)

            def answer_a() -> None:
                identity, body = plain_peer.recv_multipart()
                assert body == b"A"
                plain_peer.send_multipart([identity, b"reply to A"])

            async with anyio.create_task_group() as group:
                group.start_soon(anyio.to_thread.run_sync, answer_a)
                await anyio.sleep(0.1)  # the peer's thread is waiting for A
                await socket.send([b"A"])
                time.sleep(0.3)  # noqa: ASYNC251 - on purpose: the reply arrives, unread
                await socket.send([b"B"])
            await inbox.wait_for(1)
            assert inbox.bodies == [b"reply to A"]

    anyio.run(main)


def test_a_send_waits_while_the_peer_is_full_and_resumes_when_it_reads() -> None:
    # 20 MB in all: far more than the sockets' buffers hold while the peer reads nothing.
    count = 200

    def body(number: int) -> bytes:
        return str(number).encode().ljust(100_000, b".")

    async def main() -> None:
        async with pair(high_water_mark=1) as (socket, peer, _received):
            socket.start()
            await introduce(socket, peer)
            sent = 0

            async def send_all() -> None:
                nonlocal sent
                for number in range(count):
                    await socket.send([body(number)])
                    sent += 1

            async with anyio.create_task_group() as group:
                group.start_soon(send_all)
                await anyio.sleep(0.5)
                # The peer reads nothing yet: the sender is waiting, nothing was dropped.
                assert sent < count
                bodies = []
                with anyio.fail_after(TIMEOUT):
                    while len(bodies) < count:
                        bodies.append((await peer.recv_multipart())[-1])
            assert sent == count
            assert bodies == [body(n) for n in range(count)]

    anyio.run(main)


def test_a_stopped_socket_fails_a_waiting_send_instead_of_hanging() -> None:
    async def main() -> None:
        async with pair(high_water_mark=1) as (socket, peer, _received):
            socket.start()
            await introduce(socket, peer)
            failure: list[BaseException] = []

            async def send_forever() -> None:
                try:
                    while True:
                        await socket.send([b"x" * 100_000])
                except zmq.ZMQError as exc:
                    failure.append(exc)

            with anyio.fail_after(TIMEOUT):
                async with anyio.create_task_group() as group:
                    group.start_soon(send_forever)
                    await anyio.sleep(0.3)
                    socket.stop()
            assert failure and isinstance(failure[0], zmq.Again)

    anyio.run(main)


def test_a_sub_socket_reads_everything_a_publisher_sends() -> None:
    # iopub: a SUB socket that never sends, so only the descriptor's signal wakes it.
    count = 500

    async def main() -> None:
        context = zmq.Context()
        publisher: zmq.Socket[bytes] = context.socket(zmq.PUB)
        port = publisher.bind_to_random_port("tcp://127.0.0.1")
        subscriber: zmq.Socket[bytes] = context.socket(zmq.SUB)
        subscriber.setsockopt(zmq.SUBSCRIBE, b"")
        subscriber.connect(f"tcp://127.0.0.1:{port}")
        inbox = Inbox()
        socket = LoopSocket(subscriber, inbox.add)
        socket.start()
        try:
            # A subscription takes a moment to reach the publisher: probe until one arrives.
            with anyio.fail_after(TIMEOUT):
                while not inbox.probes:
                    publisher.send_multipart([b"topic", PROBE])
                    with anyio.move_on_after(0.02):
                        await inbox.wait_for_probe()
            for number in range(count):
                publisher.send_multipart([b"topic", str(number).encode()])
                if number % 100 == 0:
                    await anyio.sleep(0.001)
            await inbox.wait_for(count)
            assert inbox.bodies == [str(n).encode() for n in range(count)]
        finally:
            socket.close()
            publisher.close(linger=0)
            context.term()

    anyio.run(main)
