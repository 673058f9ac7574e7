"""Which built-in plugins are real yet: tests of sessions need real kernels and contents."""

from __future__ import annotations

import pytest
from modserver.api.contents import Contents
from modserver.api.kernels import Kernels
from modserver.plugins import discover, load


def provides(plugin: str, interface: type) -> bool:
    """True when the installed plugin ``plugin`` provides ``interface`` (not a placeholder)."""
    installed = discover().get(plugin)
    return installed is not None and interface in load(installed).provides


needs_kernels = pytest.mark.skipif(
    not provides("kernels", Kernels), reason="the kernels plugin does not provide Kernels yet"
)
needs_contents = pytest.mark.skipif(
    not provides("contents", Contents), reason="the contents plugin does not provide Contents yet"
)
