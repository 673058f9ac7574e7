"""A minimal real kernel process: answers kernel_info and shutdown, nothing else.

It speaks the Jupyter protocol over ZMQ like any kernel, but starts in a fraction of
ipykernel's time, so the 100 start/stop cycles of the leak test stay fast. Run as
``python tiny_kernel.py -f <connection file> [--lose-port-once <marker file>]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from typing import Any

import zmq

DELIM = b"<IDS|MSG>"


#: Holds a port until killed (at most two minutes): "another process" that took it.
HOLDER = (
    "import socket, sys, time\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "s.listen()\n"
    "print('bound', flush=True)\n"
    "time.sleep(120)\n"
)


def lose_port_once(marker: str, port: int) -> None:
    """On the first start only: let another process take the shell port, then exit.

    As when a port the server picked free is taken before the kernel binds it. The
    holder's pid goes to ``marker``, for the test to end it.
    """
    if os.path.exists(marker):
        return
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(port)], stdout=subprocess.PIPE, start_new_session=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"bound\n"
    with open(marker, "w") as file:
        file.write(str(holder.pid))
    sys.exit(f"tiny kernel: shell port {port} is taken")


def main() -> None:
    with open(sys.argv[sys.argv.index("-f") + 1]) as file:
        info = json.load(file)
    if "--lose-port-once" in sys.argv:
        lose_port_once(sys.argv[sys.argv.index("--lose-port-once") + 1], info["shell_port"])
    key = info["key"].encode()
    session = uuid.uuid4().hex
    context = zmq.Context()

    def bind(kind: int, port_key: str) -> zmq.Socket:
        socket = context.socket(kind)
        socket.linger = 0
        socket.bind(f"tcp://{info['ip']}:{info[port_key]}")
        return socket

    shell = bind(zmq.ROUTER, "shell_port")
    control = bind(zmq.ROUTER, "control_port")
    # Kept referenced (a collected socket closes): clients connect to it; never read.
    _stdin = bind(zmq.ROUTER, "stdin_port")
    iopub = bind(zmq.PUB, "iopub_port")
    heartbeat = bind(zmq.REP, "hb_port")

    def sign(parts: list[bytes]) -> bytes:
        mac = hmac.new(key, digestmod=hashlib.sha256)
        for part in parts:
            mac.update(part)
        return mac.hexdigest().encode()

    def send(
        socket: zmq.Socket, idents: list[bytes], kind: str, content: dict[str, Any], parent: bytes
    ) -> None:
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": kind,
            "session": session,
            "username": "tiny",
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        parts = [json.dumps(header).encode(), parent, b"{}", json.dumps(content).encode()]
        socket.send_multipart([*idents, DELIM, sign(parts), *parts])

    poller = zmq.Poller()
    for socket in (shell, control, heartbeat):
        poller.register(socket, zmq.POLLIN)
    while True:
        for socket, _ in poller.poll():
            frames = socket.recv_multipart()
            if socket is heartbeat:
                socket.send_multipart(frames)
                continue
            split = frames.index(DELIM)
            idents, header = frames[:split], frames[split + 2]
            kind = json.loads(header)["msg_type"]
            send(iopub, [], "status", {"execution_state": "busy"}, header)
            if kind == "kernel_info_request":
                reply = {
                    "status": "ok",
                    "protocol_version": "5.3",
                    "implementation": "tiny",
                    "implementation_version": str(os.getpid()),  # tests read the pid
                    "language_info": {"name": "text"},
                    "banner": "",
                }
                send(socket, idents, "kernel_info_reply", reply, header)
            elif kind == "shutdown_request":
                send(socket, idents, "shutdown_reply", {"status": "ok", "restart": False}, header)
                send(iopub, [], "status", {"execution_state": "idle"}, header)
                context.destroy(linger=100)
                return
            send(iopub, [], "status", {"execution_state": "idle"}, header)


if __name__ == "__main__":
    main()
