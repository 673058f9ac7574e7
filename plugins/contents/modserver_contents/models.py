"""Contents models in jupyter_server 2.x's shape, built from one ``stat`` result.

Listings build thousands of these, so everything here works from a stat result the caller
already has (a ``DirEntry``'s, usually) and makes no system call of its own.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from datetime import datetime, timezone
from email.utils import formatdate
from functools import lru_cache
from typing import Any

ContentsModel = dict[str, Any]

_EPOCH = "1970-01-01T00:00:00Z"
_DAY_PREFIXES: dict[int, str] = {}


def iso_from_ns(ns: int) -> str:
    """ISO 8601 in UTC with a ``Z`` from nanoseconds since the epoch (as in ``st_mtime_ns``).

    Listings format two timestamps per entry, so this avoids building datetimes: the date
    part is cached per day, the time of day is plain integer arithmetic.
    """
    seconds, rest_ns = divmod(ns, 1_000_000_000)
    day, second_of_day = divmod(seconds, 86_400)
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        try:
            prefix = datetime.fromtimestamp(day * 86_400, timezone.utc).strftime("%Y-%m-%dT")
        except (ValueError, OverflowError, OSError):
            return _EPOCH  # a broken timestamp must not fail the listing
        if len(_DAY_PREFIXES) > 100_000:
            _DAY_PREFIXES.clear()
        _DAY_PREFIXES[day] = prefix
    hours, rest = divmod(second_of_day, 3600)
    minutes, secs = divmod(rest, 60)
    micro = rest_ns // 1000
    if micro:
        return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}.{micro:06d}Z"
    return f"{prefix}{hours:02d}:{minutes:02d}:{secs:02d}Z"


def iso_timestamp(seconds: float) -> str:
    """ISO 8601 in UTC with a ``Z``, as Jupyter clients parse it; the epoch if invalid."""
    try:
        return iso_from_ns(int(seconds * 1_000_000_000))
    except (ValueError, OverflowError):
        return _EPOCH


@lru_cache(maxsize=1024)
def http_date(iso: str) -> str:
    """An ISO timestamp from a model as an HTTP date (for ``Last-Modified``; cached, as the
    same file is often asked for again)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return formatdate(0, usegmt=True)
    return formatdate(moment.timestamp(), usegmt=True)


class WriteAccess:
    """Answers "is this writable?" from a stat result, without an ``access()`` call each."""

    def __init__(self) -> None:
        self.uid = os.geteuid() if hasattr(os, "geteuid") else -1
        self.groups = set(os.getgroups()) | {os.getegid()} if hasattr(os, "getegid") else set()

    def writable(self, info: os.stat_result) -> bool:
        """True when this process may write the file or folder ``info`` describes."""
        if self.uid == 0:
            return True
        if self.uid == -1:  # no POSIX ids (Windows): the read-only attribute is all there is
            return bool(info.st_mode & stat.S_IWRITE)
        if info.st_uid == self.uid:
            return bool(info.st_mode & stat.S_IWUSR)
        if info.st_gid in self.groups:
            return bool(info.st_mode & stat.S_IWGRP)
        return bool(info.st_mode & stat.S_IWOTH)


_MIMETYPES: dict[str, str | None] = {}


def guess_mimetype(name: str) -> str | None:
    """The mimetype for a file name, cached by extension (listings ask thousands of times)."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    try:
        return _MIMETYPES[ext]
    except KeyError:
        guessed = mimetypes.guess_type("x." + ext)[0] if ext else None
        _MIMETYPES[ext] = guessed
        return guessed


def _created_ns(info: os.stat_result) -> int:
    # Linux has no birth time in stat(); ctime is the best stand-in, as in Jupyter.
    birth = getattr(info, "st_birthtime", None)
    return int(birth * 1_000_000_000) if birth is not None else info.st_ctime_ns


def base_model(
    api_path: str, info: os.stat_result, access: WriteAccess, kind: str
) -> ContentsModel:
    """A model without content for ``api_path`` (a ``kind`` entry described by ``info``)."""
    name = api_path.rpartition("/")[2]
    return {
        "name": name,
        "path": api_path,
        "type": kind,
        "writable": access.writable(info),
        "created": iso_from_ns(_created_ns(info)),
        "last_modified": iso_from_ns(info.st_mtime_ns),
        "mimetype": guess_mimetype(name) if kind == "file" else None,
        "content": None,
        "format": None,
        "size": None if kind == "directory" else info.st_size,
        "hash": None,
        "hash_algorithm": None,
    }


def listing_model(
    prefix: str, name: str, info: os.stat_result, writable: bool
) -> ContentsModel | None:
    """The model of a folder entry, or None for what is neither file nor folder.

    The hot path of a listing: no system call, no file read (a notebook is recognised by
    its name), one dict per entry.
    """
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        kind, size, mimetype = "directory", None, None
    elif stat.S_ISREG(mode):
        size = info.st_size
        if name.endswith(".ipynb"):
            kind, mimetype = "notebook", None
        else:
            kind, mimetype = "file", guess_mimetype(name)
    else:
        return None  # sockets, fifos, devices
    modified_ns = info.st_mtime_ns
    modified = iso_from_ns(modified_ns)
    created_ns = _created_ns(info)
    return {
        "name": name,
        "path": prefix + name,
        "type": kind,
        "writable": writable,
        # A file written once has ctime == mtime: format that timestamp only once.
        "created": modified if created_ns == modified_ns else iso_from_ns(created_ns),
        "last_modified": modified,
        "mimetype": mimetype,
        "content": None,
        "format": None,
        "size": size,
        "hash": None,
        "hash_algorithm": None,
    }
