"""Time from spawning a server to its first ``200`` on ``/api/status``; then its idle RSS.

Both servers are measured the same way in the same run: same machine, same polling
client, same empty root folder. modserver runs with a couple of trivial plugins
(``hello`` and the ``auth`` it requires). Results: ``benchmarks/results/startup.json``.
Run: ``python -m benchmarks.startup [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "startup.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def modserver_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "modserver.cli",
        "run",
        "--port",
        str(port),
        "--root-dir",
        str(root),
        "--plugins",
        "hello",
        "--set",
        f"auth.token={TOKEN}",
        "--log-level",
        "warning",
    ]


def jupyter_server_command(port: int, root: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyter_server",
        "--port",
        str(port),
        "--no-browser",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.port_retries=0",
        "--log-level=WARN",
        "--allow-root",
    ]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_once(command: list[str], port: int, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn to the first 200 on /api/status, and RSS (MiB) after 2 s idle."""
    url = f"http://127.0.0.1:{port}/api/status"
    headers = {"Authorization": f"token {TOKEN}"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        with httpx.Client(timeout=1) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}: {command}")
                try:
                    if client.get(url, headers=headers).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
        elapsed = time.perf_counter() - start
        time.sleep(2)
        return elapsed, rss_mib(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, dict[str, float | list[float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "root"
        root.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODSERVER_")}
        env.update(
            MODSERVER_RUNTIME_DIR=f"{scratch}/rt",
            JUPYTER_RUNTIME_DIR=f"{scratch}/jrt",
            JUPYTER_CONFIG_DIR=f"{scratch}/jcfg",
        )
        for name, build in (
            ("modserver", modserver_command),
            ("jupyter_server", jupyter_server_command),
        ):
            times, memory = [], []
            for _ in range(args.runs):
                port = free_port()
                elapsed, rss = measure_once(build(port, root), port, env)
                times.append(elapsed)
                memory.append(rss)
            results[name] = {
                "spawn_to_first_200_s_median": statistics.median(times),
                "spawn_to_first_200_s_runs": times,
                "idle_rss_mib_median": statistics.median(memory),
            }
    ours, theirs = results["modserver"], results["jupyter_server"]
    ratio = float(ours["spawn_to_first_200_s_median"]) / float(
        theirs["spawn_to_first_200_s_median"]
    )
    summary = {
        "runs": args.runs,
        "results": results,
        "startup_ratio": ratio,
        "startup_target": "<= 0.25x jupyter_server",
        "startup_target_met": ratio <= 0.25,
        "memory_target_met": float(ours["idle_rss_mib_median"])
        < float(theirs["idle_rss_mib_median"]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{'server':<16}{'spawn→200 (s)':>16}{'idle RSS (MiB)':>16}")
    for name, row in results.items():
        seconds, rss = row["spawn_to_first_200_s_median"], row["idle_rss_mib_median"]
        print(f"{name:<16}{seconds:>16.3f}{rss:>16.1f}")
    verdict = "met" if summary["startup_target_met"] else "MISSED"
    print(f"startup ratio {ratio:.2f}x (target <= 0.25x): {verdict}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
