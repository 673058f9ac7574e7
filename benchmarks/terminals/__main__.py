"""Keystroke-to-echo round trip of a terminal: modserver against jupyter_server.

Both servers run the same shell, ``/bin/sh`` (the PTY's line discipline echoes in
canonical mode, so the time is the servers' path, not a shell's line editor), on free
loopback ports with their own temporary folders: modserver with the ``terminals`` plugin,
jupyter_server 2.x with jupyter_server_terminals (terminado). One asyncio ``websockets``
client per server sends ``["stdin", "a"]`` and waits for the ``stdout`` frame echoing it,
then erases it the same way (``\\x7f`` echoes ``\\b \\b``), so the line never grows.
Rounds interleave the servers so machine noise hits both alike.
Results: ``benchmarks/results/terminals.json``.
Run: ``python -m benchmarks.terminals [--rounds N] [--per-round N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import websockets

TOKEN = "bench-token"
SHELL = ["/bin/sh"]
RESULTS = Path(__file__).resolve().parents[1] / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def modserver_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable, "-m", "modserver.cli", "run", "--port", str(port),
        "--root-dir", str(root), "--plugins", "terminals",
        "--set", f"auth.token={TOKEN}",
        "--set", f"terminals.shell_command={json.dumps(SHELL)}",
        "--log-level", "warning",
    ]  # fmt: skip


def jupyter_server_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable, "-m", "jupyter_server", "--port", str(port), "--no-browser",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.port_retries=0", "--log-level=WARN", "--allow-root",
        f"--ServerApp.terminado_settings={json.dumps({'shell_command': SHELL})}",
    ]  # fmt: skip


class Target:
    """One running server and one terminal WebSocket on it."""

    def __init__(self, name: str, command: list[str], port: int, env: dict[str, str]) -> None:
        self.name = name
        self.port = port
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        self.ws: Any = None
        self.times: list[float] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    async def open(self) -> None:
        base = f"http://127.0.0.1:{self.port}/"
        async with httpx.AsyncClient(base_url=base, headers=self.headers, timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
                try:
                    if (await client.get("api/status")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not start")
                await asyncio.sleep(0.05)
            response = await client.post("api/terminals", json={})
            response.raise_for_status()
            name = response.json()["name"]
        url = f"ws://127.0.0.1:{self.port}/terminals/websocket/{name}"
        self.ws = await websockets.connect(url, additional_headers=self.headers, max_size=None)
        # Let the shell print its prompt, and drain it.
        await self.drain(1.0)

    async def drain(self, quiet: float) -> None:
        """Read until nothing came for ``quiet`` seconds."""
        while True:
            try:
                await asyncio.wait_for(self.ws.recv(), quiet)
            except asyncio.TimeoutError:
                return

    async def keystroke(self, key: str, echo: str) -> float:
        """Seconds from sending ``key`` to receiving output that contains ``echo``."""
        seen = ""
        start = time.perf_counter()
        await self.ws.send(json.dumps(["stdin", key]))
        while echo not in seen:
            message = json.loads(await self.ws.recv())
            if message[0] == "stdout":
                seen += message[1]
        return time.perf_counter() - start

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(rounds: int, per_round: int, env: dict[str, str], root: Path) -> dict[str, Any]:
    targets = [
        Target("modserver", modserver_command(p := free_port(), root), p, env),
        Target("jupyter_server", jupyter_server_command(q := free_port(), root), q, env),
    ]
    try:
        for target in targets:
            await target.open()
        for target in targets:  # warm up
            for _ in range(10):
                await target.keystroke("a", "a")
                await target.keystroke("\x7f", "\b \b")
        for _ in range(rounds):
            for target in targets:
                for _ in range(per_round):
                    target.times.append(await target.keystroke("a", "a"))
                    target.times.append(await target.keystroke("\x7f", "\b \b"))
    finally:
        for target in targets:
            if target.ws is not None:
                await target.ws.close()
            target.stop()
    return {
        t.name: {
            "keystrokes": len(t.times),
            "p50_ms": statistics.median(t.times) * 1000,
            "p99_ms": percentile(t.times, 0.99) * 1000,
            "mean_ms": statistics.fmean(t.times) * 1000,
        }
        for t in targets
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 5: a smoke test")
    args = parser.parse_args()
    rounds, per_round = (3, 5) if args.quick else (args.rounds, args.per_round)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "root"
        root.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
        env.update(
            MODSERVER_RUNTIME_DIR=f"{scratch}/rt",
            JUPYTER_RUNTIME_DIR=f"{scratch}/jrt",
            JUPYTER_CONFIG_DIR=f"{scratch}/jcfg",
        )
        results = asyncio.run(run(rounds, per_round, env, root))
    ours, theirs = results["modserver"], results["jupyter_server"]
    summary = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{os.cpu_count()} cores {platform.machine()}",
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("jupyter_server", "jupyter_server_terminals", "terminado", "ptyprocess")
        },
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "shell": SHELL,
        "results": results,
        "p50_ratio": ours["p50_ms"] / theirs["p50_ms"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / ("terminals-quick.json" if args.quick else "terminals.json")
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'server':<16}{'p50 (ms)':>10}{'p99 (ms)':>10}{'mean (ms)':>11}")
    for name, row in results.items():
        print(f"{name:<16}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}{row['mean_ms']:>11.2f}")
    print(f"p50 ratio modserver / jupyter_server: {summary['p50_ratio']:.2f}x")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
