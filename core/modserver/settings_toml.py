"""Effective settings as TOML that ``modserver.toml`` accepts as it is (``config show``).

Core keys come first at the top level, then one ``[section]`` per plugin. Every value is
written on one line (tables and lists inline), so a table inside a section, such as
auth's ``users``, stays inside it; each line ends with a comment naming the value's
source. Unset values and secrets are comments: a secret is never printed.
"""

from __future__ import annotations

import re
from typing import Any

import tomli_w
from pydantic import BaseModel, SecretBytes, SecretStr

from modserver.settings import CORE, RawSettings

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def settings_toml(sections: list[tuple[str, BaseModel]], raw: RawSettings) -> str:
    """The TOML document of ``sections`` (core first), each line commented with its source."""
    lines: list[str] = []
    for name, model in sections:
        if name != CORE:
            lines += ["", f"[{name}]"]
        dumped = model.model_dump(mode="json")
        for key in type(model).model_fields:
            source = raw.origin(name, key)
            if isinstance(getattr(model, key), SecretStr | SecretBytes):
                lines.append(f"# {toml_key(key)} = (secret, not shown)  # {source}")
            elif dumped.get(key) is None:
                lines.append(f"# {toml_key(key)} = (unset)  # {source}")
            else:
                lines.append(f"{toml_key(key)} = {inline(dumped[key])}  # {source}")
    return "\n".join(lines) + "\n"


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return key if BARE_KEY.fullmatch(key) else _scalar(key)


def inline(value: Any) -> str:
    """One TOML value on one line: inline tables and arrays; None entries are left out."""
    if isinstance(value, dict):
        items = [f"{toml_key(str(k))} = {inline(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value if v is not None) + "]"
    return _scalar(value)


def _scalar(value: Any) -> str:
    # tomli_w knows TOML's escapes and number forms; take the value part of `v = ...`.
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()
