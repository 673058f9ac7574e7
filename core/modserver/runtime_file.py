"""The runtime file ``modserver-<pid>.json``: how ``modserver list`` finds running servers.

Written 0600 (it holds the URL with the token) when serving starts, removed on exit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from modserver import atomic


def runtime_file_path(runtime_dir: Path, pid: int | None = None) -> Path:
    """Where the server with ``pid`` (default: this process) records itself."""
    return runtime_dir / f"modserver-{pid or os.getpid()}.json"


def write_runtime_file(runtime_dir: Path, info: dict[str, Any]) -> Path:
    """Write this process's runtime file atomically, readable by its owner only."""
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = runtime_file_path(runtime_dir)
    # Not durable: it describes a live process (after a crash it is stale anyway), and
    # its two fsyncs held the server's start back by 10-35 ms on a busy disk.
    atomic.write_text(path, json.dumps(info, indent=2), mode=0o600, durable=False)
    return path


def remove_runtime_file(runtime_dir: Path) -> None:
    """Remove this process's runtime file, if present."""
    runtime_file_path(runtime_dir).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_servers(runtime_dir: Path) -> list[dict[str, Any]]:
    """Every live server's runtime info; files of dead processes are cleaned up."""
    servers = []
    for path in sorted(runtime_dir.glob("modserver-*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(info, dict) and isinstance(info.get("pid"), int) and _alive(info["pid"]):
            servers.append(info)
        else:
            path.unlink(missing_ok=True)
    return servers
