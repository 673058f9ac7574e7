"""Run benchmark suites: ``python -m benchmarks [SUITE|all] [options]``.

SUITE is startup, contents, kernels, terminals, collaboration, browser or scale. Each
suite is the subpackage ``benchmarks.<name>`` with its own ``__main__``; options after the
suite name go to it (``python -m benchmarks kernels --quick``). ``all`` (the default) runs
every suite present, one after another, each in its own process so one suite's failure
or leftovers cannot disturb the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SUITES = ("startup", "contents", "kernels", "terminals", "collaboration", "browser", "scale")
HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """The suites that exist in this checkout (another may not be written yet)."""
    return [name for name in SUITES if (HERE / name / "__main__.py").is_file()]


def main(argv: list[str]) -> int:
    present = available()
    choice = argv[0] if argv and not argv[0].startswith("-") else "all"
    rest = argv[1:] if argv and not argv[0].startswith("-") else argv
    if choice not in (*SUITES, "all"):
        print(f"unknown suite {choice!r}; choose from {', '.join((*SUITES, 'all'))}")
        return 2
    if choice != "all" and choice not in present:
        print(f"suite {choice!r} is not in this checkout (present: {', '.join(present)})")
        return 2
    chosen = present if choice == "all" else [choice]
    status = 0
    for name in chosen:
        print(f"== benchmarks.{name} ==", flush=True)
        # Options are suite-specific: with "all" only --quick is passed along, to those
        # suites that accept it (the others run at their defaults).
        options = rest if choice != "all" else [o for o in rest if o == "--quick"]
        if choice == "all" and options and not _accepts_quick(name):
            options = []
        code = subprocess.call(
            [sys.executable, "-m", f"benchmarks.{name}", *options], cwd=HERE.parent
        )
        status = status or code
    return status


def _accepts_quick(name: str) -> bool:
    """Whether suite ``name`` documents a ``--quick`` flag."""
    return "--quick" in (HERE / name / "__main__.py").read_text()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
