"""The settings schemas JupyterLab's plugins declare, and the default overrides on them.

Schemas come from the application folder (``<app_dir>/schemas/<package>/<plugin>.json``)
and from each federated labextension (``<ext>/schemas/<package>/<plugin>.json``); an
extension's schema wins over the application's for the same id. Ids read
``<package>:<plugin>``, e.g. ``@jupyterlab/apputils-extension:themes``. Administrators
change defaults in ``overrides.json`` (or ``.json5``, or ``overrides.d/*``) in the
application settings folder, as with jupyterlab_server. user_settings.py adds user values.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modserver.imports import late_import

log = logging.getLogger("modserver.lab")

#: ``package:plugin``: an npm package name (maybe scoped) and a plugin file name.
SCHEMA_ID = re.compile(r"(?:@[a-z0-9][\w.~-]*/)?[a-z0-9][\w.~-]*:[\w.-]+", re.IGNORECASE)

Schema = dict[str, Any]


class UnknownSchema(LookupError):
    """No installed package declares a settings schema with this id."""


@dataclass
class SchemaFile:
    """Where one schema lives and which package version it belongs to."""

    schema_id: str
    path: Path
    version: str


@dataclass
class SchemaCatalog:
    """The schemas installed for one app, read once and kept (packages do not change
    while the server runs)."""

    app_dir: Path
    extensions: Mapping[str, Path]
    settings_dir: Path
    _files: dict[str, SchemaFile] | None = None
    _schemas: dict[str, Schema] = field(default_factory=dict)
    _overrides: dict[str, Any] | None = None

    def ids(self) -> list[str]:
        """Every schema id, sorted as jupyterlab_server lists them (reverse order)."""
        return sorted(self._index(), reverse=True)

    def schema(self, schema_id: str) -> tuple[Schema, str]:
        """A copy of the schema with default overrides applied, and its package version.

        Raises ``UnknownSchema`` for an id no package declares, or whose file is unusable
        (that is logged: it is the package's fault, not the caller's).
        """
        found = self._index().get(schema_id)
        if found is None:
            raise UnknownSchema(f"Schema not found: {schema_id}")
        schema = self._schemas.get(schema_id)
        if schema is None:
            # jsonschema is slow to import (~0.5 s): not at startup (the plugin warms it).
            with late_import("jsonschema"):
                from jsonschema import Draft7Validator
                from jsonschema.exceptions import SchemaError

            try:
                schema = json.loads(found.path.read_text(encoding="utf-8"))
                if not isinstance(schema, dict):
                    raise ValueError("not a JSON object")
                apply_overrides(schema, self.overrides().get(schema_id))
                Draft7Validator.check_schema(schema)
            except (OSError, ValueError, SchemaError) as exc:
                log.warning("unusable settings schema %s (%s): %s", schema_id, found.path, exc)
                raise UnknownSchema(f"Schema {schema_id} is unusable; see the server log") from None
            self._schemas[schema_id] = schema
        return copy.deepcopy(schema), found.version

    def overrides(self) -> dict[str, Any]:
        """Default overrides by schema id, from the application settings folder."""
        if self._overrides is None:
            self._overrides = read_overrides(self.settings_dir)
        return self._overrides

    def _index(self) -> dict[str, SchemaFile]:
        if self._files is None:
            files = _schema_files(self.app_dir / "schemas", self.app_dir / "static")
            for folder in self.extensions.values():
                files.update(_schema_files(folder / "schemas", folder))
            self._files = files
        return self._files


def _schema_files(schemas: Path, package_folder: Path) -> dict[str, SchemaFile]:
    """Schemas under ``schemas``; versions from each package's ``package.json.orig``, else
    from ``package_folder/package.json``."""
    fallback = _package_version(package_folder / "package.json")
    found: dict[str, SchemaFile] = {}
    if not schemas.is_dir():
        return found
    for path in sorted(schemas.rglob("*.json")):
        package = path.parent.relative_to(schemas).as_posix()
        schema_id = f"{package}:{path.stem}"
        if not SCHEMA_ID.fullmatch(schema_id):
            continue  # package.json.orig and anything that is not a plugin's schema
        version = _package_version(path.parent / "package.json.orig") or fallback or "N/A"
        found[schema_id] = SchemaFile(schema_id, path, version)
    return found


def _package_version(path: Path) -> str | None:
    try:
        version = json.loads(path.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def read_overrides(settings_dir: Path) -> dict[str, Any]:
    """Merge ``overrides.d/*.json[5]`` (sorted), then ``overrides.json`` and ``.json5``.

    A broken file is logged and skipped: a typo by the administrator must not take the
    settings API down.
    """
    paths = sorted(
        [*settings_dir.glob("overrides.d/*.json"), *settings_dir.glob("overrides.d/*.json5")]
    )
    paths += [settings_dir / "overrides.json", settings_dir / "overrides.json5"]
    merged: dict[str, Any] = {}
    for path in paths:
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
            data = load_json5(text) if path.suffix == ".json5" else json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            log.warning("ignoring settings overrides in %s: %s", path, exc)
            continue
        for schema_id, values in data.items():
            if isinstance(values, dict):
                _merge(merged.setdefault(schema_id, {}), values)
    return merged


def apply_overrides(schema: Schema, overrides: Mapping[str, Any] | None) -> None:
    """Change the defaults of ``schema``'s properties in place (objects are merged)."""
    if not overrides:
        return
    properties = schema.setdefault("properties", {})
    for key, value in overrides.items():
        prop = properties.get(key)
        if not isinstance(prop, dict):
            properties[key] = {"default": copy.deepcopy(value)}
        elif isinstance(prop.get("default"), dict) and isinstance(value, dict):
            _merge(prop["default"], value)
        else:
            prop["default"] = copy.deepcopy(value)


def _merge(target: dict[str, Any], changes: Mapping[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def load_json5(text: str) -> Any:
    """Parse JSON5 text (json5's errors: ``ValueError``, or ``RecursionError`` when deep)."""
    with late_import("json5"):  # ~6 ms to import: warmed up after the server listens
        import json5

    return json5.loads(text)
