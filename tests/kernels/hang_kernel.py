"""The tiny kernel, unless its working folder says otherwise: with a file named ``hang``
there it never answers (a restart of it hangs until the server gives up on it); with a
file named ``exit`` it exits at once with status 3 (a kernel that dies while starting)."""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    if os.path.exists("exit"):
        sys.exit(3)
    if os.path.exists("hang"):
        time.sleep(3600)
    runpy.run_path(str(Path(__file__).with_name("tiny_kernel.py")), run_name="__main__")
