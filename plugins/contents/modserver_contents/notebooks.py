"""Notebooks on disk: parse and validate once on read, serialise exactly as nbformat writes.

The fast path handles current v4 notebooks with orjson and nbformat's compiled schema
validator, touching each notebook once. Anything unusual (older formats, a schema error
nbformat knows how to repair) goes through nbformat itself, so behaviour matches Jupyter.
On disk the format is nbformat's: sorted keys, one-space indent, multi-line strings split
into lists of lines, transient keys (trust marks, signature) left out.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import secrets
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from modserver.api.contents import ContentsError
from modserver.imports import late_import
from modserver.jsonbody import InvalidJSON, loads

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


def _is_lines(value: Any) -> bool:
    """True for a list of strings (a multi-line string as stored on disk)."""
    return isinstance(value, list) and all(isinstance(line, str) for line in value)


def _rejoin_and_strip(nb: Notebook) -> None:
    """Turn lists of lines back into strings and drop transient keys, in place."""
    metadata = nb.get("metadata")
    if isinstance(metadata, dict):
        for key in ("orig_nbformat", "orig_nbformat_minor", "signature"):
            metadata.pop(key, None)
    cells = nb.get("cells")
    for cell in cells if isinstance(cells, list) else ():
        if not isinstance(cell, dict):
            continue
        if _is_lines(cell.get("source")):
            cell["source"] = "".join(cell["source"])
        cell_meta = cell.get("metadata")
        if isinstance(cell_meta, dict):
            cell_meta.pop("trusted", None)
        attachments = cell.get("attachments")
        if isinstance(attachments, dict):
            for attachment in attachments.values():
                _join_bundle(attachment)
        if cell.get("cell_type") == "code":
            outputs = cell.get("outputs")
            for output in outputs if isinstance(outputs, list) else ():
                if not isinstance(output, dict):
                    continue
                kind = output.get("output_type")
                if kind in ("execute_result", "display_data"):
                    _join_bundle(output.get("data"))
                elif kind and _is_lines(output.get("text")):
                    output["text"] = "".join(output["text"])


def _validator(minor: int) -> Any:
    with late_import("jsonschema"):
        from nbformat.validator import get_validator

    return get_validator(version=4, version_minor=minor)  # type: ignore[no-untyped-call]


# Importing nbformat imports jsonschema (~0.5 s, most of it building an IRI grammar), so
# the fast path reads nbformat's schema files itself and compiles them with fastjsonschema;
# nbformat is imported only for what it alone does (old formats, repairs, error wording).
_SCHEMA_FILE = re.compile(r"nbformat\.v4\.(\d+)\.schema\.json")


@functools.cache
def _schema_files() -> dict[int, Path]:
    """nbformat's v4 schema file per minor version, found without importing nbformat."""
    spec = importlib.util.find_spec("nbformat")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    files: dict[int, Path] = {}
    for folder in folders:
        for path in (Path(folder) / "v4").glob("nbformat.v4.*.schema.json"):
            match = _SCHEMA_FILE.fullmatch(path.name)
            if match:
                files[int(match.group(1))] = path
    return files


@functools.cache
def _current_minor() -> int:
    """nbformat's current v4 minor: it ships one schema file per minor, up to the current."""
    files = _schema_files()
    if files:
        return max(files)
    with late_import("jsonschema"):
        import nbformat

    return int(nbformat.current_nbformat_minor)


def _schema(minor: int) -> dict[str, Any] | None:
    """The v4.minor schema exactly as nbformat's validator loads it (None: ask nbformat)."""
    path = _schema_files().get(minor)
    if path is None or minor > _current_minor():
        return None  # nbformat relaxes the newest schema for future minors
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else None


_compiling = threading.Lock()


def compile_checks() -> None:
    """Compile the current schema's checks (~0.04 s; ~10 ms when kept in the user's cache
    from an earlier start), so the first notebook opened does not wait for it (the plugin
    does it in a worker thread before the server listens)."""
    _dispatching_validator(_current_minor())


def import_nbformat() -> None:
    """Import nbformat (new notebooks, old formats, repairs): the plugin's warm-up."""
    with late_import("jsonschema"):
        importlib.import_module("nbformat")


Check = Callable[[Any], Any]


def _discriminated(definitions: dict[str, Any], name: str, key: str) -> dict[str, str] | None:
    """``{value of key: definition}`` when definition ``name`` is an object that is
    ``oneOf`` references each requiring ``key`` to be one constant, else None."""
    union = definitions.get(name)
    if not isinstance(union, dict) or set(union) != {"type", "oneOf"} or union["type"] != "object":
        return None
    table: dict[str, str] = {}
    for choice in union["oneOf"]:
        ref = choice.get("$ref", "") if isinstance(choice, dict) else ""
        target = definitions.get(ref.removeprefix("#/definitions/"))
        if set(choice) != {"$ref"} or not isinstance(target, dict):
            return None
        enum = target.get("properties", {}).get(key, {}).get("enum")
        if key not in target.get("required", ()) or not isinstance(enum, list) or len(enum) != 1:
            return None
        table[enum[0]] = ref.removeprefix("#/definitions/")
    return table if len(table) == len(union["oneOf"]) else None


#: Changes when the compiled checks' cache entries change shape (older ones are not read).
_CHECKS_FORMAT = "1"


def _compiled_check(definition: dict[str, Any]) -> Check:
    """``fastjsonschema.compile(definition)``, its bytecode kept between starts.

    Compiling the checks took ~40 ms of CPU at every start (two thirds of it Python's
    ``compile`` of the generated code), and a notebook opened right after the start
    waited for it. The code object is a pure derivation of the definition and of the
    fastjsonschema and Python versions, so it is kept in the user's cache folder
    (``modserver.user_cache``, private to the user, as ``__pycache__`` holds bytecode),
    named by a digest of all three.
    """
    import fastjsonschema
    from modserver.user_cache import entry_path, read_value, write_value

    text = json.dumps(definition, sort_keys=True)
    entry = entry_path("notebook-checks", _CHECKS_FORMAT, fastjsonschema.VERSION, text)
    code = read_value(entry)
    if not isinstance(code, types.CodeType):
        code = compile(fastjsonschema.compile_to_code(definition), "<notebook check>", "exec")
        write_value(entry, code)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # defines validate(), as fastjsonschema.compile does
    check: Check = namespace["validate"]
    return check


def _dispatching_validator(minor: int) -> Callable[[Notebook], bool] | None:
    """``_compile_dispatching(minor)``, compiled once even when a request and the warm-up
    ask at the same time."""
    with _compiling:
        return _compile_dispatching(minor)


@functools.lru_cache(maxsize=8)
def _compile_dispatching(minor: int) -> Callable[[Notebook], bool] | None:
    """A check equivalent to nbformat's schema validation, or None if it cannot be built.

    The schema's cells are ``oneOf`` three cell kinds, each requiring its own
    ``cell_type`` (outputs likewise, by ``output_type``), so a cell is valid exactly when
    it is an object whose ``cell_type`` names a kind and it validates as that kind. The
    compiled ``oneOf`` tries every kind (raising and catching for each miss), so here
    each cell and output is checked against its own kind's compiled schema only.
    """
    try:
        import fastjsonschema

        schema = _schema(minor)
        if schema is None:
            return None
        definitions = schema["definitions"]
        cell_kinds = _discriminated(definitions, "cell", "cell_type")
        output_kinds = _discriminated(definitions, "output", "output_type")
        cells, outputs = schema["properties"]["cells"], definitions["code_cell"]["properties"]
        if cell_kinds is None or output_kinds is None:
            return None
        if cells["items"] != {"$ref": "#/definitions/cell"}:
            return None
        if outputs["outputs"]["items"] != {"$ref": "#/definitions/output"}:
            return None
        cells["items"] = {}  # checked one by one below
        outputs["outputs"]["items"] = {}
        text = json.dumps(schema)
        if '"#/definitions/cell"' in text or '"#/definitions/output"' in text:
            return None  # referenced elsewhere too: leave it to the full schema

        def compiled(kind: str) -> Check:
            root = {"$schema": schema.get("$schema"), "definitions": definitions}
            return _compiled_check({**root, "$ref": f"#/definitions/{kind}"})

        top = _compiled_check(schema)
        per_cell = {value: compiled(kind) for value, kind in cell_kinds.items()}
        per_output = {value: compiled(kind) for value, kind in output_kinds.items()}
    except Exception:
        return None

    def valid(nb: Notebook) -> bool:
        try:
            top(nb)
            for cell in nb["cells"]:
                if not isinstance(cell, dict):
                    return False
                kind = cell.get("cell_type")
                check = per_cell.get(kind) if isinstance(kind, str) else None
                if check is None:
                    return False
                check(cell)
                if kind == "code":
                    for output in cell["outputs"]:
                        if not isinstance(output, dict):
                            return False
                        out_kind = output.get("output_type")
                        out_check = per_output.get(out_kind) if isinstance(out_kind, str) else None
                        if out_check is None:
                            return False
                        out_check(output)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return valid


def validation_message(nb: Notebook) -> str | None:
    """None if ``nb`` is a valid v4 notebook, else what is wrong with it."""
    minor = nb.get("nbformat_minor")
    minor = minor if isinstance(minor, int) else _current_minor()
    fast = _dispatching_validator(minor)
    if fast is not None:
        if fast(nb):
            return None
    else:
        validator = _validator(minor)
        if validator is not None:
            try:
                validator.validate(nb)
                return None
            except Exception:
                pass  # fall through: nbformat's own validate words the error precisely
    with late_import("jsonschema"):
        import nbformat

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
        nb = loads(data)
    except InvalidJSON as exc:
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


def readable(data: bytes) -> bool:
    """True if ``parse`` reads these bytes back as a notebook (valid or not)."""
    try:
        parse(data, "")
    except ContentsError:
        return False
    return True


def _parse_with_nbformat(data: bytes, path: str) -> tuple[Notebook, str | None]:
    with late_import("jsonschema"):
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
    try:
        nb = orjson.loads(orjson.dumps(node))  # plain dicts, as the fast path returns
    except (TypeError, orjson.JSONEncodeError, orjson.JSONDecodeError) as exc:
        raise ContentsError(400, f"Unreadable Notebook: {path} {exc}") from None
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


#: Line boundaries of ``str.splitlines`` that are not escaped in JSON (UTF-8 encoded).
_UNICODE_BREAKS = ("\x85".encode(), "\u2028".encode(), "\u2029".encode())


def _lines_json(text: str, indent: bytes) -> bytes:
    """``text.splitlines(True)`` as nbformat writes the list: items at ``indent`` + 1 space.

    Fast path: encode the whole text once and split the JSON string at its escaped
    newlines. That is exact when every backslash in the encoding starts a ``\\n``,
    ``\\"`` or ``\\t`` escape (so there is no escaped backslash, and no \\r, \\f or
    \\u00XX, the other line boundaries JSON escapes) and no unescaped line boundary
    (U+0085, U+2028, U+2029) is present. Anything else is split into a list of lines by
    ``str.splitlines`` and rendered as such.
    """
    if not text:
        return b"[]"
    item = b"\n " + indent
    encoded = orjson.dumps(text)
    parts = encoded.split(b"\\n")
    backslashes = encoded.count(b"\\") - (len(parts) - 1)
    if backslashes:
        backslashes -= encoded.count(b'\\"') + encoded.count(b"\\t")
    if backslashes or (not text.isascii() and any(b in encoded for b in _UNICODE_BREAKS)):
        rendered = orjson.dumps(text.splitlines(True), option=orjson.OPT_INDENT_2)  # "[\n  ..\n]"
        return rendered[:-2].replace(b"\n  ", item) + b"\n" + indent + b"]"
    if text.endswith("\n"):
        parts.pop()  # the closing quote alone: no empty item after the last newline
        parts[-1] += b'\\n"'
    return b"[" + item + (b'\\n",' + item + b'"').join(parts) + b"\n" + indent + b"]"


def dumps(nb: Notebook) -> bytes:
    """Serialise ``nb`` byte for byte as ``nbformat.write`` would (plus the final newline).

    Multi-line strings (lists of lines on disk) are most of a notebook's bytes. They are
    left out of the main serialisation (a unique placeholder stands in for each), so
    re-indenting touches only the structure; each is then rendered by ``_lines_json``
    at its indentation and spliced in.
    """
    nonce = secrets.token_hex(8)
    pending: list[str] = []

    def split(text: str) -> str:
        pending.append(text)
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
    # split() gives [before, indent, key, index, between, indent, key, index, ..., after].
    parts: list[bytes] = placeholder.split(text)
    out = [parts[0]]
    try:
        for at in range(1, len(parts), 4):
            indent, key, index = parts[at], parts[at + 1], parts[at + 2]
            out += (b"\n", indent, key, _lines_json(pending[int(index)], indent), parts[at + 3])
    except TypeError as exc:
        raise ContentsError(400, f"Notebook content cannot be saved as JSON: {exc}") from None
    out.append(b"\n")
    return b"".join(out)


def new_notebook() -> Notebook:
    """An empty notebook, as ``nbformat.v4.new_notebook`` makes it."""
    with late_import("jsonschema"):
        from nbformat.v4 import new_notebook as make

    result: Notebook = orjson.loads(orjson.dumps(make()))  # type: ignore[no-untyped-call]
    return result
