"""Time from spawning a server to its first ``200`` on ``/api/status``; then its idle RSS.

Every target is measured the same way in the same run, the runs interleaved: same
machine, same polling client, same root folder. Targets: modserver with a trivial plugin
(``hello`` and the ``auth`` it requires: the core's own cost); the whole modserver as a
``pip install modserver`` starts it (every built-in plugin: JupyterLab, kernels,
contents, events, ...; the target of issue 16); the same with every plugin installed
here (in the test environment also the fixture plugins ``hello`` and ``explode``); and
jupyter_server. Right after the first 200, the servers that serve contents are asked
twice for a one-cell notebook (``GET /api/contents/<nb>.ipynb``): the first open after
start against a warm one. Results: ``benchmarks/results/startup.json``.
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
from functools import cache
from pathlib import Path

import httpx

TOKEN = "bench-token"
RESULTS = Path(__file__).resolve().parents[1] / "results" / "startup.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def modserver_command(port: int, root: Path, plugins: str | None = "hello") -> list[str]:
    """``modserver run``; ``plugins=None`` enables every installed plugin."""
    command = [
        sys.executable,
        "-m",
        "modserver.cli",
        "run",
        "--port",
        str(port),
        "--root-dir",
        str(root),
        "--set",
        f"auth.token={TOKEN}",
        "--log-level",
        "warning",
    ]
    return command + (["--plugins", plugins] if plugins else [])


def full_modserver_command(port: int, root: Path) -> list[str]:
    """Every installed plugin, as ``modserver run`` selects them by default."""
    return modserver_command(port, root, plugins=None)


@cache
def builtin_plugins() -> str:
    """The plugins the ``modserver`` distribution ships that ``modserver run`` selects by
    default here (so not ``jupyterhub`` outside a hub), as a ``--plugins`` list.

    Whatever else is installed here (the test environment's fixture plugins) is left out:
    a user's ``pip install modserver`` does not have it.
    """
    from importlib.metadata import distribution

    names = []
    for entry in distribution("modserver").entry_points.select(group="modserver.plugins"):
        plugin = entry.load()
        if plugin.detect(os.environ) is not False:
            names.append(entry.name)
    return ",".join(sorted(names))


def builtin_modserver_command(port: int, root: Path) -> list[str]:
    """Every built-in plugin (see ``builtin_plugins``)."""
    return modserver_command(port, root, plugins=builtin_plugins())


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


NOTEBOOK = "one-cell.ipynb"


def write_notebook(root: Path) -> None:
    """A one-cell notebook, as JupyterLab saves it."""
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "id": "a1b2c3d4",
        "metadata": {},
        "outputs": [{"name": "stdout", "output_type": "stream", "text": ["1\n"]}],
        "source": ["print(1)"],
    }
    kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook = {
        "cells": [cell],
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / NOTEBOOK).write_text(json.dumps(notebook, indent=1) + "\n")


def timed_get(client: httpx.Client, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    return elapsed


def measure_once(
    command: list[str], port: int, env: dict[str, str], *, notebook: bool
) -> dict[str, float]:
    """Seconds from spawn to the first 200 on /api/status; with ``notebook``, the first
    and second GET of the notebook right after it; RSS (MiB) after 2 s idle."""
    base = f"http://127.0.0.1:{port}/"
    headers = {"Authorization": f"token {TOKEN}"}
    result: dict[str, float] = {}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        with httpx.Client(timeout=30, headers=headers) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}: {command}")
                try:
                    if client.get(base + "api/status", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
            result["spawn_to_first_200_s"] = time.perf_counter() - start
            if notebook:
                for key in ("first_notebook_get_s", "second_notebook_get_s"):
                    result[key] = timed_get(client, base + f"api/contents/{NOTEBOOK}")
            time.sleep(2)
            result["idle_rss_mib"] = rss_mib(proc.pid)
            if notebook:
                # Warm: after 2 s idle, when any preparation in the background is done.
                result["warm_notebook_get_s"] = timed_get(client, base + f"api/contents/{NOTEBOOK}")
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


TARGETS = {
    # name: (command, serves contents)
    "modserver": (modserver_command, False),
    "modserver_builtin": (builtin_modserver_command, True),
    "modserver_full": (full_modserver_command, True),
    "jupyter_server": (jupyter_server_command, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in TARGETS}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "root"
        root.mkdir()
        write_notebook(root)
        # As installed by pip, with bytecode cached: an environment that turns caching
        # off would make the editable modserver compile its sources at every start.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("MODSERVER_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            MODSERVER_RUNTIME_DIR=f"{scratch}/rt",
            JUPYTER_RUNTIME_DIR=f"{scratch}/jrt",
            JUPYTER_CONFIG_DIR=f"{scratch}/jcfg",
        )
        # One untimed start each first: bytecode written, files in the page cache.
        for build, notebook in TARGETS.values():
            port = free_port()
            measure_once(build(port, root), port, env, notebook=notebook)
        # Interleaved, so that machine noise hits every target alike.
        for _ in range(args.runs):
            for name, (build, notebook) in TARGETS.items():
                port = free_port()
                runs[name].append(measure_once(build(port, root), port, env, notebook=notebook))
    results: dict[str, dict[str, float | list[float]]] = {}
    for name, measured in runs.items():
        row: dict[str, float | list[float]] = {}
        for key in measured[0]:
            values = [run[key] for run in measured]
            row[f"{key}_median"] = statistics.median(values)
            row[f"{key}_runs"] = values
        results[name] = row

    def median(name: str, key: str) -> float:
        return float(results[name][f"{key}_median"])

    theirs = median("jupyter_server", "spawn_to_first_200_s")
    ratio = median("modserver", "spawn_to_first_200_s") / theirs
    builtin_ratio = median("modserver_builtin", "spawn_to_first_200_s") / theirs
    full_ratio = median("modserver_full", "spawn_to_first_200_s") / theirs
    first_open = {
        name: median(name, "first_notebook_get_s") / median(name, "warm_notebook_get_s")
        for name in ("modserver_builtin", "modserver_full", "jupyter_server")
    }
    summary = {
        "runs": args.runs,
        "load_average_1_5_15_before": load_before,
        "load_average_1_5_15_after": os.getloadavg(),
        "results": results,
        "startup_ratio": ratio,
        "builtin_plugins": builtin_plugins(),
        "builtin_startup_ratio": builtin_ratio,
        "full_startup_ratio": full_ratio,
        "startup_target": "<= 0.25x jupyter_server",
        "startup_target_met": ratio <= 0.25,
        "builtin_startup_target_met": builtin_ratio <= 0.25,
        "full_startup_target_met": full_ratio <= 0.25,
        "first_notebook_get_over_warm": first_open,
        "first_notebook_get_target": "<= 1.5x a warm GET (after 2 s idle)",
        "first_notebook_get_target_met": first_open["modserver_builtin"] <= 1.5,
        "memory_target_met": median("modserver_builtin", "idle_rss_mib")
        < median("jupyter_server", "idle_rss_mib"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    columns = ["first_notebook_get_s", "second_notebook_get_s", "warm_notebook_get_s"]
    print(
        f"{'server':<16}{'spawn→200 (s)':>15}{'1st nb GET (s)':>16}{'2nd nb GET (s)':>16}"
        f"{'warm nb GET (s)':>16}{'idle RSS (MiB)':>16}"
    )
    for name, row in results.items():
        cells = [row.get(f"{key}_median") for key in columns]
        shown = "".join(f"{'-' if v is None else f'{v:.4f}':>16}" for v in cells)
        print(
            f"{name:<16}{row['spawn_to_first_200_s_median']:>15.3f}{shown}"
            f"{row['idle_rss_mib_median']:>16.1f}"
        )

    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    print(f"startup ratio, hello only {ratio:.2f}x (target <= 0.25x): {verdict(ratio <= 0.25)}")
    print(
        f"startup ratio, every built-in plugin {builtin_ratio:.2f}x (target <= 0.25x): "
        f"{verdict(builtin_ratio <= 0.25)}"
    )
    print(f"startup ratio, every installed plugin {full_ratio:.2f}x")
    for name, over in first_open.items():
        print(f"{name}: first notebook GET {over:.2f}x a warm one")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
