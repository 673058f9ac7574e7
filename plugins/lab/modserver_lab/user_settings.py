"""Users' values for the settings schemas: ``<folder>/<package>/<plugin>.jupyterlab-settings``.

The file holds exactly the JSON5 text the frontend sent (comments and all), the layout
JupyterLab uses, so a user's settings carry over between both servers. Values are checked
against the schema (schemas.py) before they are written; files are written atomically and
only inside the user's folder (user_files.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from modserver.imports import late_import

from modserver_lab.schemas import SchemaCatalog, load_json5
from modserver_lab.user_files import UserFolder

log = logging.getLogger("modserver.lab")

SETTINGS_EXTENSION = ".jupyterlab-settings"
#: The plugin whose ``locale`` setting is the user's language.
LANGUAGE_SCHEMA_ID = "@jupyterlab/translation-extension:plugin"


class InvalidSettings(ValueError):
    """The settings text does not parse, or does not satisfy the schema."""


def _relative_path(schema_id: str) -> str:
    package, plugin = schema_id.split(":", 1)
    return f"{package}/{plugin}{SETTINGS_EXTENSION}"


def _iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).replace(tzinfo=None).isoformat()


@dataclass
class UserSettings:
    """One user's settings, in one folder."""

    catalog: SchemaCatalog
    folder: UserFolder
    #: Translates schemas in place for the user's language (translations.py), if any.
    translate: Callable[[dict[str, Any]], None] | None = None

    def plugin(self, schema_id: str) -> dict[str, Any]:
        """The settings of one plugin as ``GET /lab/api/settings/{id}`` answers them.

        Raises ``UnknownSchema`` for an id no installed package declares.
        """
        schema, version = self.catalog.schema(schema_id)
        values = self._user_values(schema_id, schema)
        if self.translate is not None:
            self.translate(schema)
        return {"id": schema_id, "schema": schema, "version": version, **values}

    def listing(self, ids_only: bool) -> list[dict[str, Any]]:
        """Every plugin's settings (or only ids), skipping schemas that are unusable."""
        if ids_only:
            return [{"id": schema_id} for schema_id in self.catalog.ids()]
        found = []
        for schema_id in self.catalog.ids():
            try:
                found.append(self.plugin(schema_id))
            except LookupError:
                continue  # logged by the catalog
        return found

    def display_locale(self) -> str:
        """The language the user chose in JupyterLab's settings (``default``: the server's)."""
        try:
            raw = self.folder.path(_relative_path(LANGUAGE_SCHEMA_ID)).read_text(encoding="utf-8")
            chosen = parse_settings(raw).get("locale")
        except (OSError, ValueError):
            chosen = None
        return chosen if isinstance(chosen, str) and chosen else "default"

    def save(self, schema_id: str, raw: str) -> None:
        """Validate ``raw`` (JSON5) against the schema, then store it verbatim.

        Raises ``UnknownSchema``, ``InvalidSettings`` or ``OutsideFolder``.
        """
        schema, _ = self.catalog.schema(schema_id)
        values = parse_settings(raw)
        problem = validation_problem(schema, values)
        if problem:
            raise InvalidSettings(f"Invalid settings for {schema_id}: {problem}")
        self.folder.write(_relative_path(schema_id), raw)

    def _user_values(self, schema_id: str, schema: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "raw": "{}",
            "settings": {},
            "last_modified": None,
            "created": None,
        }
        try:
            path = self.folder.path(_relative_path(schema_id))
            stat = path.stat()
            raw = path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return values  # never saved (or not readable from here): the defaults apply
        values["last_modified"] = _iso_time(stat.st_mtime)
        values["created"] = _iso_time(stat.st_ctime)
        try:
            parsed = parse_settings(raw)
        except InvalidSettings as exc:
            log.warning("ignoring user settings in %s: %s", path, exc)
            return values
        problem = validation_problem(schema, parsed)
        if problem:
            # As jupyterlab_server: values the schema no longer accepts are dropped, so an
            # upgraded extension does not break the UI.
            log.warning("ignoring user settings in %s: %s", path, problem)
            return values
        values["raw"] = raw if raw.strip() else "{}"
        values["settings"] = parsed
        return values


def parse_settings(raw: str) -> dict[str, Any]:
    """Parse settings text (JSON5: comments, trailing commas); empty text means ``{}``."""
    if not raw.strip():
        return {}
    try:
        parsed = load_json5(raw)
    except Exception as exc:  # json5 raises ValueError, and RecursionError for deep input
        raise InvalidSettings(f"Failed parsing settings as JSON5: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidSettings("Settings must be a JSON object")
    return parsed


def validation_problem(schema: dict[str, Any], values: dict[str, Any]) -> str | None:
    """The most relevant schema violation in ``values`` in one line, or None if valid."""
    with late_import("jsonschema"):  # slow to import: not at startup
        from jsonschema import Draft7Validator
        from jsonschema.exceptions import best_match

    error = best_match(Draft7Validator(schema).iter_errors(values))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where or '(top level)'}: {error.message}"
