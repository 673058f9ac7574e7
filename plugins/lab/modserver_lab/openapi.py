"""The lab plugin's OpenAPI fragment: ``openapi.yaml`` next to this module."""

from __future__ import annotations

from typing import Any

from modserver.openapi import packaged_fragment


def fragment() -> dict[str, Any]:
    """A fresh copy of the fragment (the core merges it into a shared document)."""
    return packaged_fragment("modserver_lab")
