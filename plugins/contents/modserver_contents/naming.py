"""Names the server picks: ``untitled1.txt``, ``Untitled Folder 2``, ``report-Copy1.ipynb``.

The numbering follows jupyter_server so clients and users see the names they expect: the
number goes before the whole suffix (``data-Copy1.tar.gz``), except for notebooks, where it
goes before ``.ipynb`` only (``my.analysis-Copy1.ipynb``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

UNTITLED_FILE = "untitled"
UNTITLED_NOTEBOOK = "Untitled"
UNTITLED_DIRECTORY = "Untitled Folder"

_COPY_MARK = re.compile(r"-Copy\d*\.")


def split_suffix(filename: str) -> tuple[str, str]:
    """``("base", ".suffix")``: the last suffix for notebooks, all suffixes otherwise."""
    base, dot, ext = filename.rpartition(".")
    if ext != "ipynb" or not dot:
        base, dot, ext = filename.partition(".")
    return base, dot + ext


def first_free(filename: str, taken: Callable[[str], bool], insert: str = "") -> str:
    """``filename`` itself if free, else the first free ``base{insert}N{suffix}``, N = 1, 2..."""
    base, suffix = split_suffix(filename)
    for number in itertools.count():
        candidate = f"{base}{insert}{number}{suffix}" if number else f"{base}{suffix}"
        if not taken(candidate):
            return candidate
    raise AssertionError("unreachable")


def untitled_name(kind: str, ext: str, taken: Callable[[str], bool]) -> str:
    """Name of a new untitled ``file``, ``notebook`` or ``directory``."""
    if kind == "directory":
        return first_free(UNTITLED_DIRECTORY + ext, taken, insert=" ")
    if kind == "notebook":
        return first_free(UNTITLED_NOTEBOOK + ".ipynb", taken)
    return first_free(UNTITLED_FILE + ext, taken)


def copy_name(source_name: str, taken: Callable[[str], bool]) -> str:
    """Name of a copy of ``source_name``: an existing ``-CopyN`` mark is renumbered."""
    return first_free(_COPY_MARK.sub(".", source_name), taken, insert="-Copy")
