"""Where a big kernel message's time goes on its way out, stage by stage, in-process.

``python -m benchmarks.kernels.frame_costs [--size BYTES] [--count N]`` times each step
one outgoing frame takes through the server: the ZMQ receive (pyzmq copying the frame
into ``bytes``, or handing out a view with ``copy=False``), the v1 encoding (one join),
and wsproto's serialisation as hypercorn calls it (``Connection.send``: the payload is
copied into a ``bytearray``, joined with the header into another, and appended to
``b""``). Run it twice, with and without glibc's allocator told to keep big blocks
(``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``), to see whether a step costs
its copy or the page faults of the fresh memory it copies into. Not a test: it prints.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import zmq
from modserver_kernels.wire import encode_v1, from_zmq
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, BytesMessage, Request


def _best_ms(step: Callable[[], object], count: int, rounds: int = 5) -> float:
    """Best of ``rounds`` of ``count`` calls, in ms per call (noise only adds time)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(count):
            step()
        best = min(best, (time.perf_counter() - start) / count)
    return best * 1000


def _server_connection() -> WSConnection:
    """A wsproto server connection past its handshake, as hypercorn holds one."""
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="localhost", target="/")))
    for event in server.events():
        if isinstance(event, Request):
            server.send(AcceptConnection())
    return server


def main() -> None:
    """Print the cost of each stage for one frame of ``--size`` bytes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2_000_000, help="payload bytes")
    parser.add_argument("--count", type=int, default=50, help="frames per timed round")
    args = parser.parse_args()
    payload = b"x" * args.size
    frames = [b"<IDS|MSG>", b"", b'{"msg_type":"display_data"}', b"{}", b"{}", payload]

    context = zmq.Context()
    sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    sender.bind("inproc://frame-costs")
    receiver.connect("inproc://frame-costs")

    def zmq_round_trip(copy: bool) -> Callable[[], object]:
        def step() -> object:
            sender.send_multipart(frames, copy=False)
            return receiver.recv_multipart(copy=copy)

        return step

    message = from_zmq("iopub", frames)
    connection = _server_connection()
    encoded = encode_v1(message)
    stages = [
        ("ZMQ send + receive, copy=True (pyzmq copies)", zmq_round_trip(True)),
        ("ZMQ send + receive, copy=False (a view)", zmq_round_trip(False)),
        ("encode_v1 (one join)", lambda: encode_v1(message)),
        (
            "wsproto Connection.send (hypercorn's call)",
            lambda: connection.send(BytesMessage(data=encoded)),
        ),
    ]
    tuned = {name: os.environ[name] for name in os.environ if name.startswith("MALLOC_")}
    allocator = tuned or "default"
    print(f"payload {args.size:,} bytes, {args.count} frames per round, allocator: {allocator}")
    for label, step in stages:
        print(f"  {label:48s} {_best_ms(step, args.count):8.3f} ms per frame")
    sender.close(linger=0)
    receiver.close(linger=0)
    context.term()


if __name__ == "__main__":
    main()
