"""Notebooks on disk: parse and validate once on read, serialise exactly as nbformat writes.

The fast path handles current v4 notebooks with orjson and nbformat's compiled schema
validator, touching each notebook once. Anything unusual (older formats, a schema error
nbformat knows how to repair) goes through nbformat itself, so behaviour matches Jupyter.
On disk the format is nbformat's: sorted keys, one-space indent, multi-line strings split
into lists of lines, transient keys (trust marks, signature) left out.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

import orjson
from modserver.api.contents import ContentsError

Notebook = dict[str, Any]
_SPLIT_MIMES = {"application/javascript", "image/svg+xml"}


def _is_json_mime(mime: str) -> bool:
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _join_bundle(bundle: Any) -> None:
    if not isinstance(bundle, dict):
        return
    for key, value in bundle.items():
        if (
            isinstance(value, list)
            and not _is_json_mime(key)
            and all(isinstance(line, str) for line in value)
        ):
            bundle[key] = "".join(value)


def _rejoin_and_strip(nb: Notebook) -> None:
    """Turn lists of lines back into strings and drop transient keys, in place."""
    metadata = nb.get("metadata")
    if isinstance(metadata, dict):
        for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
            metadata.pop(key, None)
    for cell in nb.get("cells") or ():
        if not isinstance(cell, dict):
            continue
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        cell_meta = cell.get("metadata")
        if isinstance(cell_meta, dict):
            cell_meta.pop("trusted", None)
        for attachment in (cell.get("attachments") or {}).values():
            _join_bundle(attachment)
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs") or ():
                if not isinstance(output, dict):
                    continue
                kind = output.get("output_type")
                if kind in ("execute_result", "display_data"):
                    _join_bundle(output.get("data"))
                elif kind and isinstance(output.get("text"), list):
                    output["text"] = "".join(output["text"])


def _validator(minor: int) -> Any:
    from nbformat.validator import get_validator

    return get_validator(version=4, version_minor=minor)  # type: ignore[no-untyped-call]


def _current_minor() -> int:
    import nbformat

    return int(nbformat.current_nbformat_minor)


def validation_message(nb: Notebook) -> str | None:
    """None if ``nb`` is a valid v4 notebook, else what is wrong with it."""
    import nbformat

    minor = nb.get("nbformat_minor")
    validator = _validator(minor if isinstance(minor, int) else _current_minor())
    if validator is not None:
        try:
            validator.validate(nb)
            return None
        except Exception:
            pass  # fall through: nbformat's own validate words the error precisely
    try:
        # Validate a copy: the caller's notebook must come back exactly as it was given.
        nbformat.validate(orjson.loads(orjson.dumps(nb)))
    except nbformat.ValidationError as exc:
        return f"Notebook validation failed: {exc.message}"
    except Exception as exc:
        return f"Notebook validation failed: {exc}"
    return None


def parse(data: bytes, path: str) -> tuple[Notebook, str | None]:
    """Read notebook bytes into its in-memory v4 form; returns ``(notebook, problem)``.

    ``problem`` describes a schema violation (the notebook is still returned, as Jupyter
    does, so the user can repair it). Bytes that are not a notebook at all raise 400.
    """
    try:
        nb = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ContentsError(400, f"Unreadable Notebook: {path} {exc}") from None
    if not isinstance(nb, dict):
        raise ContentsError(400, f"Unreadable Notebook: {path} is JSON but not a notebook")
    minor = nb.get("nbformat_minor")
    if nb.get("nbformat") == 4 and isinstance(minor, int) and minor <= _current_minor():
        _rejoin_and_strip(nb)
        problem = validation_message(nb)
        if problem is None:
            return nb, None
    return _parse_with_nbformat(data, path)


def _parse_with_nbformat(data: bytes, path: str) -> tuple[Notebook, str | None]:
    import nbformat

    captured: dict[str, Any] = {}
    try:
        node = nbformat.reads(  # type: ignore[no-untyped-call]
            data.decode("utf-8"), as_version=4, capture_validation_error=captured
        )
    except Exception as exc:
        raise ContentsError(400, f"Unreadable Notebook: {path} {exc!r}") from None
    error = captured.get("ValidationError")
    problem = f"Notebook validation failed: {error.message}" if error is not None else None
    nb = orjson.loads(orjson.dumps(node))  # plain dicts, as the fast path returns
    _rejoin_and_strip(nb)
    return nb, problem


Splitter = Callable[[str], Any]


def _split_bundle(bundle: Any, split: Splitter) -> Any:
    if not isinstance(bundle, dict):
        return bundle
    return {
        key: split(value)
        if isinstance(value, str) and (key.startswith("text/") or key in _SPLIT_MIMES)
        else value
        for key, value in bundle.items()
    }


def _disk_form(nb: Notebook, split: Splitter) -> Notebook:
    """A shallow copy of ``nb`` with multi-line strings passed through ``split`` (which
    stands for ``str.splitlines(True)``) and transient keys dropped."""
    out = dict(nb)
    if isinstance(nb.get("metadata"), dict):
        out["metadata"] = {
            k: v
            for k, v in nb["metadata"].items()
            if k not in ("orig_nbformat", "orig_nbformat_minor", "signature")
        }
    cells = []
    for cell in nb.get("cells") or ():
        if not isinstance(cell, dict):
            cells.append(cell)
            continue
        cell = dict(cell)
        if isinstance(cell.get("source"), str):
            cell["source"] = split(cell["source"])
        if isinstance(cell.get("metadata"), dict) and "trusted" in cell["metadata"]:
            cell["metadata"] = {k: v for k, v in cell["metadata"].items() if k != "trusted"}
        if isinstance(cell.get("attachments"), dict):
            cell["attachments"] = {
                k: _split_bundle(v, split) for k, v in cell["attachments"].items()
            }
        if cell.get("cell_type") == "code" and isinstance(cell.get("outputs"), list):
            outputs = []
            for output in cell["outputs"]:
                if isinstance(output, dict):
                    kind = output.get("output_type")
                    if kind in ("execute_result", "display_data"):
                        output = {**output, "data": _split_bundle(output.get("data"), split)}
                    elif kind == "stream" and isinstance(output.get("text"), str):
                        output = {**output, "text": split(output["text"])}
                outputs.append(output)
            cell["outputs"] = outputs
        cells.append(cell)
    if "cells" in nb:
        out["cells"] = cells
    return out


_INDENT = re.compile(rb"\n( +)")


def _halve_indent(text: bytes) -> bytes:
    """Two-space indentation to one: nbformat's on-disk style, which orjson lacks."""
    # JSON strings never hold a raw newline, so every "\n" + spaces is indentation.
    # Split once, map each distinct indent through a small table: no per-line Python.
    parts = _INDENT.split(text)
    indents = parts[1::2]
    halves = {indent: b"\n" + indent[: len(indent) >> 1] for indent in set(indents)}
    parts[1::2] = list(map(halves.__getitem__, indents))
    return b"".join(parts)


def dumps(nb: Notebook) -> bytes:
    """Serialise ``nb`` byte for byte as ``nbformat.write`` would (plus the final newline).

    Lists of lines are most of a notebook's lines. They are left out of the main
    serialisation (a unique placeholder stands in for each), so re-indenting touches only
    the structure; each list is then rendered with orjson and indented by two C-level
    replaces (raw newlines in orjson's output are always indentation), and spliced in.
    """
    nonce = secrets.token_hex(8)
    pending: list[list[str]] = []

    def split(text: str) -> str:
        pending.append(text.splitlines(True))
        return f"\x01{nonce}:{len(pending) - 1}"

    try:
        text = orjson.dumps(
            _disk_form(nb, split), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        )
    except TypeError as exc:
        raise ContentsError(400, f"Notebook content cannot be saved as JSON: {exc}") from None
    text = _halve_indent(text)
    # Each placeholder is a dict value on its own line: `<indent>"key": "\u0001nonce:N"`.
    placeholder = re.compile(
        rb'\n( *)("(?:[^"\\\n]|\\.)*": )"\\u0001' + nonce.encode() + rb':(\d+)"'
    )

    def expand(match: re.Match[bytes]) -> bytes:
        indent, key = match.group(1), match.group(2)
        lines = pending[int(match.group(3))]
        if not lines:
            return b"\n" + indent + key + b"[]"
        rendered = orjson.dumps(lines, option=orjson.OPT_INDENT_2)  # "[\n  ...\n]"
        items = rendered[:-2].replace(b"\n  ", b"\n " + indent)
        return b"\n" + indent + key + items + b"\n" + indent + b"]"

    return placeholder.sub(expand, text) + b"\n"


def new_notebook() -> Notebook:
    """An empty notebook, as ``nbformat.v4.new_notebook`` makes it."""
    from nbformat.v4 import new_notebook as make

    result: Notebook = orjson.loads(orjson.dumps(make()))  # type: ignore[no-untyped-call]
    return result
