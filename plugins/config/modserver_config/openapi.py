"""The config plugin's OpenAPI fragment, read once from ``openapi.yaml`` next to it."""

from __future__ import annotations

import copy
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def _load() -> dict[str, Any]:
    import yaml

    text = files("modserver_config").joinpath("openapi.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def fragment() -> dict[str, Any]:
    """A fresh copy of the fragment (the core merges it into a shared document)."""
    return copy.deepcopy(_load())
