"""The tiny kernel, except that it never answers once a file named ``hang`` exists in its
working folder: a restart of it hangs until the server gives up on it."""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

if __name__ == "__main__":
    if os.path.exists("hang"):
        time.sleep(3600)
    runpy.run_path(str(Path(__file__).with_name("tiny_kernel.py")), run_name="__main__")
