"""A folder of many files listed through ``GET /api/contents/{folder}`` (``content=1``).

The folder is written once into a temporary root that both servers serve (started with
``benchmarks.contents.servers``: modserver with the ``contents`` plugin, jupyter_server),
side by side; the timed requests alternate between them after one untimed request each.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.contents.servers import TOKEN, running
from benchmarks.kernels.targets import rss_mib

FOLDER = "many"


def write_folder(root: Path, files: int) -> float:
    """Write ``files`` small files (every tenth a ``.ipynb``) under ``root/many``; seconds."""
    began = time.perf_counter()
    folder = root / FOLDER
    folder.mkdir()
    for index in range(files):
        suffix = ".ipynb" if index % 10 == 0 else ".txt"
        (folder / f"file{index:06d}{suffix}").write_text("x" * (index % 100))
    return time.perf_counter() - began


def list_folder(root: Path, scratch: Path, files: int, runs: int) -> dict[str, Any]:
    """Median seconds to list the folder on each server, and what each answered."""
    with (
        running("jupyter_server", root, scratch) as (jupyter_url, jupyter_pid),
        running("modserver", root, scratch) as (mod_url, mod_pid),
    ):
        servers = {"modserver": (mod_url, mod_pid), "jupyter_server": (jupyter_url, jupyter_pid)}
        samples: dict[str, list[float]] = {name: [] for name in servers}
        answered: dict[str, dict[str, Any]] = {}
        with httpx.Client(timeout=600, headers={"Authorization": f"token {TOKEN}"}) as client:
            for name, (url, pid) in servers.items():
                rss_before = rss_mib(pid)
                response = client.get(f"{url}api/contents/{FOLDER}")
                response.raise_for_status()
                answered[name] = {
                    "entries": len(response.json()["content"]),
                    "response_bytes": len(response.content),
                    "server_rss_mib_before": rss_before,
                }
            for index in range(runs):
                order = list(servers) if index % 2 == 0 else list(servers)[::-1]
                for name in order:
                    began = time.perf_counter()
                    response = client.get(f"{servers[name][0]}api/contents/{FOLDER}")
                    samples[name].append(time.perf_counter() - began)
                    response.raise_for_status()
            for name, (_url, pid) in servers.items():
                answered[name]["server_rss_mib_after"] = rss_mib(pid)
    return {
        name: {
            "files": files,
            "median_s": statistics.median(samples[name]),
            "runs_s": samples[name],
            **answered[name],
        }
        for name in servers
    }
