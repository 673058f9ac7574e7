"""Settings: core keys plus one section per plugin, from layered sources with provenance.

Sources, lowest first: defaults, ``modserver.toml`` (or ``--config FILE``), environment
``MODSERVER_<KEY>`` / ``MODSERVER_<SECTION>__<KEY>``, command line. Each value remembers
where it came from, so ``modserver config show`` can tell and errors can point at it.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "MODSERVER_"
DEFAULT_CONFIG_FILE = "modserver.toml"
CORE = "core"


class SettingsError(Exception):
    """A setting is invalid; the message names the key, the value, its source and the fix."""


def _default_runtime_dir() -> Path:
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "modserver"
    return Path.home() / ".local" / "share" / "modserver" / "runtime"


class CoreSettings(BaseSettings):
    """The core's own settings (top level of modserver.toml, env ``MODSERVER_<KEY>``)."""

    # Values arrive already merged from our layered sources; pydantic-settings only validates.
    model_config = SettingsConfigDict(extra="forbid", env_prefix="__modserver_unused_")

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(
        8888, ge=0, le=65535, description="Port; if busy and not set, the next free one."
    )
    root_dir: Path = Field(default_factory=Path.cwd, description="Folder served to clients.")
    base_url: str = Field("/", description="URL prefix of every route, e.g. /jupyter/.")
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    plugins: list[str] = Field(
        default_factory=list, description="Plugins to enable (empty: every installed plugin)."
    )
    shutdown_timeout: float = Field(10.0, gt=0, description="Seconds each plugin may take to stop.")
    websocket_ping_interval: float = Field(
        0.0,
        ge=0,
        description="Seconds between WebSocket pings (0: none; TCP keepalive finds dead peers).",
    )
    max_body_size: int = Field(
        512 * 1024 * 1024,
        ge=0,
        description="Largest request body in bytes (413 above it, refused before reading).",
    )
    runtime_dir: Path = Field(
        default_factory=_default_runtime_dir, description="Where running servers are recorded."
    )

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: str) -> str:
        if "://" in value or "?" in value or "#" in value:
            raise ValueError("must be a URL path such as /jupyter/")
        return "/" + value.strip("/") + "/" if value.strip("/") else "/"

    @field_validator("plugins", mode="before")
    @classmethod
    def _split_plugins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("root_dir")
    @classmethod
    def _existing_dir(cls, value: Path) -> Path:
        value = value.expanduser().resolve()
        if not value.is_dir():
            raise ValueError(f"{value} is not an existing folder")
        return value


class PluginSettings(BaseModel):
    """Base for a plugin's settings section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class RawSettings:
    """Merged, not yet validated values: ``{section: {key: value}}`` plus where each came from."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    #: ``MODSERVER_<KEY>`` variables that name no core setting: a plugin must claim them
    #: (``Plugin.environment``), or they are typos (see ``check_environment``).
    unclaimed_env: list[str] = field(default_factory=list)

    def set(self, section: str, key: str, value: Any, origin: str) -> None:
        self.values.setdefault(section, {})[key] = value
        self.origins[f"{section}.{key}"] = origin

    def origin(self, section: str, key: str) -> str:
        return self.origins.get(f"{section}.{key}", "default")

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.values.get(name, {}))


def parse_value(text: str) -> Any:
    """Turn a string from env or CLI into a value: JSON when it parses as such, else text."""
    stripped = text.strip()
    if stripped[:1] in '[{"' or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    return text


def _split_key(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.rpartition(".")
    return (section or CORE), key.replace("-", "_")


def gather(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
    cli_sets: list[str] | None = None,
) -> RawSettings:
    """Merge every source, lowest first, remembering each value's origin.

    ``cli`` holds first-class flags (``{"port": 9000}``); ``cli_sets`` holds
    ``section.key=value`` strings from ``--set``.
    """
    raw = RawSettings()
    path = config_file or (
        Path(DEFAULT_CONFIG_FILE) if Path(DEFAULT_CONFIG_FILE).is_file() else None
    )
    if path is not None:
        _merge_toml(raw, path)
    for name, text in sorted((env if env is not None else os.environ).items()):
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.rpartition("__")
        if not section and key not in CoreSettings.model_fields:
            raw.unclaimed_env.append(name)  # e.g. MODSERVER_TOKEN, read by the auth plugin
            continue
        raw.set(section or CORE, key, parse_value(text), f"env {name}")
    for key, value in (cli or {}).items():
        if value is not None:
            raw.set(CORE, key, value, f"--{key.replace('_', '-')}")
    for item in cli_sets or []:
        dotted, sep, text = item.partition("=")
        if not sep or not dotted.strip():
            raise SettingsError(f"--set {item!r}: expected section.key=value (e.g. auth.token=abc)")
        section, key = _split_key(dotted.strip())
        raw.set(section, key, parse_value(text), f"--set {dotted.strip()}")
    return raw


def _merge_toml(raw: RawSettings, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    origin = str(path)
    for key, value in data.items():
        if isinstance(value, dict) and key not in CoreSettings.model_fields:
            for sub_key, sub_value in value.items():
                raw.set(key, sub_key.replace("-", "_"), sub_value, origin)
        else:
            raw.set(CORE, key.replace("-", "_"), value, origin)


def check_environment(names: list[str], claimed: Iterable[str]) -> None:
    """Refuse ``MODSERVER_<KEY>`` variables that are no core setting and no plugin's.

    A typo such as ``MODSERVER_PROT=9000`` would otherwise be ignored silently.
    """
    unknown = sorted(set(names) - set(claimed))
    if not unknown:
        return
    lines = []
    for name in unknown:
        key = name[len(ENV_PREFIX) :].lower()
        close = difflib.get_close_matches(key, CoreSettings.model_fields, n=1)
        hint = f"did you mean {ENV_PREFIX}{close[0].upper()}? " if close else ""
        lines.append(
            f"unknown setting {key} (from env {name}): {hint}core settings are "
            f"{ENV_PREFIX}<KEY>, a plugin's are {ENV_PREFIX}<SECTION>__<KEY>"
        )
    raise SettingsError("; ".join(lines))


def validate_section(model: type[BaseModel], raw: RawSettings, section: str) -> BaseModel:
    """Validate one section; errors name the key, the value, its source and what is allowed."""
    try:
        return model.model_validate(raw.section(section))
    except ValidationError as exc:
        raise SettingsError(_describe(exc, raw, section)) from None


def validate_core(raw: RawSettings) -> CoreSettings:
    """Validate the core section."""
    settings = validate_section(CoreSettings, raw, CORE)
    assert isinstance(settings, CoreSettings)
    return settings


def _describe(exc: ValidationError, raw: RawSettings, section: str) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "?"
        top = str(error["loc"][0]) if error["loc"] else key
        name = key if section == CORE else f"{section}.{key}"
        source = raw.origin(section, top)
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name} (from {source})")
        else:
            lines.append(
                f"invalid setting {name} = {error.get('input')!r} (from {source}): {error['msg']}"
            )
    return "; ".join(lines)
