"""Settings: core keys plus one section per plugin, from layered sources with provenance.

Sources, lowest first: defaults, ``modserver.toml`` (or ``--config FILE``), environment
``MODSERVER_<KEY>`` / ``MODSERVER_<SECTION>__<KEY>``, command line, ``create_app``. Reading
and decoding are pydantic-settings' (``TomlConfigSettingsSource``, ``EnvSettingsSource``,
``InitSettingsSource``); merging is ours, so that each value remembers where it came from
for ``modserver config show`` and for errors. The environment is decoded against a schema
of the core plus each section's model: before the plugins are chosen a section's values
stay text, and ``RawSettings.decode`` reads them again once the enabled plugins are known.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

ENV_PREFIX = "MODSERVER_"
NESTED_DELIMITER = "__"
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

    # How pydantic-settings' sources read the environment (``gather`` runs them, on the
    # environment it is given). Validation goes through ``validate_core``.
    model_config = SettingsConfigDict(
        extra="forbid", env_prefix=ENV_PREFIX, env_nested_delimiter=NESTED_DELIMITER
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values given: validating must not read the process environment too.

        Otherwise ``create_app(use_env=False)`` (and ``gather(env={})``) still took
        ``MODSERVER_PORT`` and the other core keys from ``os.environ``.
        """
        return (init_settings,)

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(
        8888, ge=0, le=65535, description="Port; if busy and not set, the next free one."
    )
    root_dir: Path = Field(
        default_factory=Path.cwd, description="Folder served to clients (default: the current one)."
    )
    base_url: str = Field("/", description="URL prefix of every route, e.g. /jupyter/.")
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        "info", description="Least severe messages logged."
    )
    # NoDecode: the environment may give a comma list as well as JSON (see _split_list).
    plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Plugins to enable, a comma list (default: every installed plugin).",
    )
    shutdown_timeout: float = Field(10.0, gt=0, description="Seconds each plugin may take to stop.")
    websocket_ping_interval: float = Field(
        0.0,
        ge=0,
        description="Seconds between WebSocket pings (0: none; TCP keepalive finds dead peers).",
    )
    # NoDecode: a comma list from the environment or a flag, as for plugins.
    websocket_compression: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Route families (path prefixes under base_url, e.g. api/terminals; / for all) "
            "whose WebSockets may negotiate permessage-deflate; none by default."
        ),
    )
    max_body_size: int = Field(
        512 * 1024 * 1024,
        ge=0,
        description="Largest request body in bytes (413 above it, refused before reading).",
    )
    body_timeout: float = Field(
        60.0,
        ge=0,
        description="Seconds a request body may go without data before a 408 (0: no limit).",
    )
    warm_up: bool = Field(
        True,
        description=(
            "Prepare big libraries in the background once the server listens (~0.4 CPU-s), "
            "so the first notebook, kernel or document does not wait for them; off: each "
            "loads on first use."
        ),
    )
    runtime_dir: Path = Field(
        default_factory=_default_runtime_dir,
        description="Where running servers are recorded (default: $XDG_RUNTIME_DIR/modserver).",
    )

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: str) -> str:
        if "://" in value or "?" in value or "#" in value:
            raise ValueError("must be a URL path such as /jupyter/")
        return "/" + value.strip("/") + "/" if value.strip("/") else "/"

    @field_validator("plugins", "websocket_compression", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().startswith("["):
            return json.loads(value)  # a JSON list, as for any list setting
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


#: ``{section: {key: value}}``; the core's keys are in section ``core``.
Sections = dict[str, dict[str, Any]]
#: Where a source's value for ``(section, key)`` came from, e.g. ``env MODSERVER_PORT``.
Origin = Callable[[str, str], str]


@dataclass(frozen=True)
class Layer:
    """One source of settings: its values, decoded for a schema, and where each came from."""

    read: Callable[[type[CoreSettings]], Sections]
    origin: Origin


@dataclass
class RawSettings:
    """Merged, not yet validated values: ``{section: {key: value}}`` plus where each came from.

    ``layers`` are the sources, lowest first; a higher one replaces a key's whole value (a
    table too), so each key has one origin. ``decode`` reads them all again for a schema
    that knows more sections.
    """

    values: Sections = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    #: ``MODSERVER_<KEY>`` variables that name no core setting: a plugin must claim them
    #: (``Plugin.environment``), or they are typos (see ``check_environment``).
    unclaimed_env: list[str] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    #: Sections that ``MODSERVER_<SECTION>__<KEY>`` variables name: the schema needs a
    #: field for each, or pydantic-settings would skip their variables without a word.
    env_sections: set[str] = field(default_factory=set)
    schema: type[CoreSettings] = CoreSettings
    #: The process environment the settings were gathered from (plugins' ``detect``).
    environ: dict[str, str] = field(default_factory=dict)

    def add(self, layer: Layer) -> None:
        """Add a source above all others."""
        self.layers.append(layer)
        self._merge(layer)

    def add_defaults(self, layer: Layer) -> None:
        """Add a source below all others (defaults an enabled plugin derives)."""
        self.layers.insert(0, layer)
        self.values, self.origins = {}, {}
        for each in self.layers:
            self._merge(each)

    def set(self, section: str, key: str, value: Any, origin: str) -> None:
        """Set one value above all sources."""
        document = {key: value} if section == CORE else {section: {key: value}}
        self.add(document_layer(document, origin))

    def decode(self, models: Mapping[str, type[BaseModel]]) -> None:
        """Read every source again, decoding each section in ``models`` as its model asks.

        Called once the enabled plugins are known: until then a section's values from the
        environment are text, since only its model says which ones are JSON lists or tables.
        """
        self.schema = settings_schema(models, self.env_sections)
        self.values, self.origins = {}, {}
        for layer in self.layers:
            self._merge(layer)

    def _merge(self, layer: Layer) -> None:
        for section, entries in layer.read(self.schema).items():
            target = self.values.setdefault(section, {})
            self.origins[f"[{section}]"] = layer.origin(section, "")
            for key, value in entries.items():
                target[key] = value
                self.origins[f"{section}.{key}"] = layer.origin(section, key)

    def origin(self, section: str, key: str) -> str:
        return self.origins.get(f"{section}.{key}", "default")

    def section_origin(self, section: str) -> str:
        """Where a section came from: its first key's source, or where its table was."""
        keys = self.values.get(section) or {}
        first = next(iter(keys), None)
        if first is not None:
            return self.origin(section, first)
        return self.origins.get(f"[{section}]", "default")

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.values.get(name, {}))


def settings_schema(
    models: Mapping[str, type[BaseModel]], text_sections: Iterable[str] = ()
) -> type[CoreSettings]:
    """The model that sources decode against: core keys, then one field per section.

    A section with a model is decoded as its fields ask (a list or table from the
    environment is JSON); any other section is a table of text, refused or ignored later.
    Only sources use this model: each section is validated on its own.
    """
    fields: dict[str, Any] = {name: (dict[str, Any], None) for name in text_sections}
    fields.update({name: (model, None) for name, model in models.items()})
    for name in CoreSettings.model_fields:
        fields.pop(name, None)
    if not fields:
        return CoreSettings
    return create_model("ModserverSettings", __base__=CoreSettings, **fields)


def _by_section(document: Mapping[str, Any]) -> Sections:
    """Split a document shaped like ``modserver.toml``: core keys on top, a table per section."""
    sections: Sections = {}
    for name, value in document.items():
        key = name.replace("-", "_")  # keys may be spelt root-dir; section names are plugins'
        if isinstance(value, Mapping) and key not in CoreSettings.model_fields:
            sections[name] = {k.replace("-", "_"): v for k, v in value.items()}
        else:
            sections.setdefault(CORE, {})[key] = value
    return sections


def document_layer(document: Mapping[str, Any], origin: str | Origin) -> Layer:
    """Values given as a document shaped like ``modserver.toml`` (flags, --set, create_app).

    They are typed already, so pydantic-settings' ``InitSettingsSource`` only maps them
    onto the schema's fields.
    """
    given = dict(document)
    name_origin: Origin = origin if callable(origin) else (lambda section, key: origin)

    def read(schema: type[CoreSettings]) -> Sections:
        return _by_section(InitSettingsSource(schema, init_kwargs=given)())

    return Layer(read, name_origin)


def toml_layer(path: Path) -> Layer:
    """The TOML file, read by pydantic-settings' ``TomlConfigSettingsSource``."""
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise SettingsError(f"config file {path} {problem}")
    try:
        # TOML values are typed: the file is read once, whatever the schema.
        data = TomlConfigSettingsSource(CoreSettings, toml_file=path)()
    except (OSError, ValueError) as exc:  # ValueError: TOMLDecodeError, UnicodeDecodeError
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    return Layer(lambda schema: _by_section(data), lambda section, key: str(path))


class _EnvironmentSource(EnvSettingsSource):
    """pydantic-settings' environment source, over a given mapping instead of ``os.environ``."""

    def __init__(self, schema: type[CoreSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(schema)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The hook pydantic-settings' own .env source overrides; names as it expects them.
        fold = (lambda name: name) if self.case_sensitive else str.lower
        return {fold(name): text for name, text in self._environ.items()}


def environment_layer(environ: Mapping[str, str]) -> Layer:
    """``MODSERVER_<KEY>`` and ``MODSERVER_<SECTION>__<KEY>[__<SUBKEY>...]`` variables.

    pydantic-settings' ``EnvSettingsSource`` finds them (case-insensitively), nests them
    and decodes JSON where the schema's field is a list or table.
    """
    variables = {name: text for name, text in environ.items() if _is_ours(name)}
    by_lower = {name.lower(): name for name in sorted(variables)}

    def read(schema: type[CoreSettings]) -> Sections:
        try:
            return _by_section(_EnvironmentSource(schema, variables)())
        except SourceError as exc:
            raise SettingsError(_undecodable(schema, variables, exc)) from None

    def origin(section: str, key: str) -> str:
        stem = (ENV_PREFIX + (key if section == CORE else f"{section}__{key}")).lower()
        names = [n for low, n in by_lower.items() if low == stem or low.startswith(stem + "__")]
        whole = by_lower.get((ENV_PREFIX + section).lower())  # MODSERVER_AUTH='{"token": ...}'
        return f"env {(names or [whole or stem.upper()])[0]}"

    return Layer(read, origin)


def _is_ours(name: str) -> bool:
    return name.upper().startswith(ENV_PREFIX)


def _undecodable(schema: type[CoreSettings], variables: Mapping[str, str], error: Exception) -> str:
    """Name the variable pydantic-settings could not decode (its error names only the field)."""
    for name, text in sorted(variables.items()):
        try:
            _EnvironmentSource(schema, {name: text})()
        except SourceError as exc:
            key = name[len(ENV_PREFIX) :].lower().replace(NESTED_DELIMITER, ".")
            return (
                f"invalid setting {key} = {text!r} (from env {name}): not valid JSON "
                f"({exc.__cause__ or exc}); lists and tables are given as JSON"
            )
    return f"the {ENV_PREFIX}... variables could not be read: {error}"  # pragma: no cover


def _scan_environment(environ: Mapping[str, str]) -> tuple[set[str], list[str]]:
    """The sections that variables name, and the variables that are no core setting.

    pydantic-settings reads only the variables of fields its schema has and skips the rest
    silently; this scan gives the schema a field per section (so a typo in a section name
    is reported as such later) and lists the others for ``check_environment``.
    """
    sections: set[str] = set()
    unclaimed: list[str] = []
    for name in sorted(environ):
        if not _is_ours(name):
            continue
        section, nested, _ = name[len(ENV_PREFIX) :].lower().partition(NESTED_DELIMITER)
        if not nested and section in CoreSettings.model_fields:
            continue
        if nested and section.isidentifier() and section not in CoreSettings.model_fields:
            sections.add(section)
        else:
            unclaimed.append(name)  # e.g. MODSERVER_TOKEN, read by the auth plugin
    return sections, unclaimed


def parse_value(text: str) -> Any:
    """Turn a ``--set`` value into a value: JSON when it parses as such, else text."""
    stripped = text.strip()
    if stripped[:1] in '[{"' or stripped in ("true", "false", "null"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    return text


def _set_layer(items: list[str]) -> Layer:
    """``--set section.key=value`` (``--set key=value`` for a core key; deeper keys nest)."""
    document: dict[str, Any] = {}
    origins: dict[tuple[str, str], str] = {}
    for item in items:
        dotted, sep, text = item.partition("=")
        parts = [part.strip() for part in dotted.split(".")]
        if not sep or not all(parts):
            raise SettingsError(f"--set {item!r}: expected section.key=value (e.g. auth.token=abc)")
        if parts[0] == CORE and len(parts) > 1:
            parts = parts[1:]
        section, key = (CORE, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        target = document
        for part in parts[:-1]:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[parts[-1]] = parse_value(text)
        origins[(section, key.replace("-", "_"))] = f"--set {dotted.strip()}"  # as _by_section
    return document_layer(document, lambda section, key: origins.get((section, key), "--set"))


def gather(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    cli: Mapping[str, Any] | None = None,
    cli_sets: list[str] | None = None,
) -> RawSettings:
    """Merge every source, lowest first, remembering each value's origin.

    ``cli`` holds first-class flags (``{"port": 9000}``); ``cli_sets`` holds
    ``section.key=value`` strings from ``--set``. The environment's plugin sections stay
    text until ``RawSettings.decode`` is given their models.
    """
    raw = RawSettings()
    path = config_file or (
        Path(DEFAULT_CONFIG_FILE) if Path(DEFAULT_CONFIG_FILE).is_file() else None
    )
    if path is not None:
        raw.add(toml_layer(path))
    environ = dict(os.environ if env is None else env)
    raw.environ = environ
    raw.env_sections, raw.unclaimed_env = _scan_environment(environ)
    raw.schema = settings_schema({}, raw.env_sections)
    raw.add(environment_layer(environ))
    flags = {key: value for key, value in (cli or {}).items() if value is not None}
    raw.add(document_layer(flags, lambda section, key: f"--{key.replace('_', '-')}"))
    raw.add(_set_layer(cli_sets or []))
    return raw


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
        raise SettingsError(_describe(exc, raw, section, model)) from None


def validate_core(raw: RawSettings) -> CoreSettings:
    """Validate the core section."""
    settings = validate_section(CoreSettings, raw, CORE)
    assert isinstance(settings, CoreSettings)
    return settings


def _describe(exc: ValidationError, raw: RawSettings, section: str, model: type[BaseModel]) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "?"
        top = str(error["loc"][0]) if error["loc"] else key
        name = key if section == CORE else f"{section}.{key}"
        source = raw.origin(section, top)
        if error["type"] == "extra_forbidden":
            known = model.model_fields if len(error["loc"]) == 1 else ()
            close = difflib.get_close_matches(top, known, n=1)
            prefix = "" if section == CORE else f"{section}."
            hint = f": did you mean {prefix}{close[0]}?" if close else ""
            lines.append(f"unknown setting {name} (from {source}){hint}")
        else:
            lines.append(
                f"invalid setting {name} = {error.get('input')!r} (from {source}): {error['msg']}"
            )
    return "; ".join(lines)
