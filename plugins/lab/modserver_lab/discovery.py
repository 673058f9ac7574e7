"""Finding what the lab plugin serves: the two frontends and the prebuilt labextensions.

Runs once per app at startup, in a worker thread (it reads many small files). The result,
``Frontends``, is immutable: pages, static routes and the lab API read it without I/O.

- JupyterLab's application folder (``static/``, ``schemas/``, ``themes/``) comes from the
  ``jupyterlab-js`` wheel, which installs it as ``<prefix>/share/jupyter/lab``.
- Notebook 7's ``static/`` and ``templates/`` come from the ``notebook-frontend`` package.
- Labextensions are the folders with a ``package.json`` under every ``labextensions``
  folder of the Jupyter data path (``jupyter labextension`` and pip put them there).
- Disabled extensions come from ``labconfig/page_config.json`` (and ``page_config.d/``) in
  the Jupyter config path, as ``jupyter labextension disable`` writes them, plus the
  ``disabled_extensions`` setting. Each user may disable more for themselves
  (user_extensions.py).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

log = logging.getLogger("modserver.lab")

LAB_DIST = "jupyterlab-js"
NOTEBOOK_PACKAGE = "notebook_frontend"


class FrontendMissing(RuntimeError):
    """A frontend's files are not installed (the message says which package to install)."""


@dataclass(frozen=True)
class LabExtension:
    """One prebuilt (federated) labextension: its folder and its ``jupyterlab`` metadata."""

    name: str
    version: str
    path: Path
    jupyterlab: Mapping[str, Any]

    @property
    def disables(self) -> list[str]:
        """Plugins it replaces (``jupyterlab.disabledExtensions``): off while it is on."""
        listed = self.jupyterlab.get("disabledExtensions")
        if not isinstance(listed, list):
            return []
        return [item for item in listed if isinstance(item, str)]

    @property
    def build(self) -> Mapping[str, Any]:
        """The ``jupyterlab._build`` entry the extension builder wrote (load, extension...)."""
        value = self.jupyterlab.get("_build")
        return value if isinstance(value, Mapping) else {}

    def page_config_entry(self) -> dict[str, Any]:
        """The entry of ``federated_extensions`` in the page config, as the frontend reads it."""
        build = self.build
        entry: dict[str, Any] = {"name": self.name, "load": build["load"]}
        for key in ("extension", "mimeExtension", "style"):
            if key in build:
                entry[key] = build[key]
        entry["entrypoints"] = build.get("entrypoints")
        return entry


@dataclass(frozen=True)
class Frontends:
    """Everything discovered at startup; read-only afterwards."""

    lab_app_dir: Path
    lab_version: str
    notebook_dir: Path
    notebook_version: str
    extensions: Mapping[str, LabExtension]
    disabled: tuple[str, ...]
    labextensions_path: tuple[Path, ...] = field(default=())
    #: Every labextension found, the disabled ones too (the extension manager lists them).
    installed: Mapping[str, LabExtension] = field(default_factory=dict)
    #: What the server's configuration disables: page_config.json files and the setting.
    config_disabled: frozenset[str] = field(default=frozenset())

    @property
    def lab_static(self) -> Path:
        """JupyterLab's bundles and its page template (index.html)."""
        return self.lab_app_dir / "static"

    @property
    def notebook_static(self) -> Path:
        """Notebook 7's bundles."""
        return self.notebook_dir / "static"

    @property
    def notebook_templates(self) -> Path:
        """Notebook 7's page templates (tree.html, notebooks.html, ...)."""
        return self.notebook_dir / "templates"

    @cached_property
    def extension_dirs(self) -> dict[str, Path]:
        """Each enabled labextension's folder, by package name (for the lab API)."""
        return {name: ext.path for name, ext in self.extensions.items()}


def discover(
    *,
    app_dir: Path | None,
    extra_labextensions_path: Iterable[Path],
    disabled_setting: Iterable[str],
) -> Frontends:
    """Find both frontends and every enabled labextension (blocking I/O: run in a thread)."""
    lab_app_dir = (app_dir or find_lab_app_dir()).expanduser().resolve()
    if not (lab_app_dir / "static" / "index.html").is_file():
        raise FrontendMissing(
            f"{lab_app_dir} is not a JupyterLab application folder (no static/index.html); "
            "set lab.app_dir or reinstall the jupyterlab-js package"
        )
    notebook_dir = find_notebook_dir()
    paths = labextensions_path(extra_labextensions_path)
    found = find_labextensions(paths)
    configured = {name for name, off in labconfig_disabled().items() if off}
    configured.update(disabled_setting)
    disabled = disabled_with(found.values(), configured)
    enabled = {name: ext for name, ext in found.items() if name not in disabled}
    return Frontends(
        lab_app_dir=lab_app_dir,
        lab_version=_version(LAB_DIST) or _static_version(lab_app_dir),
        notebook_dir=notebook_dir,
        notebook_version=_version("notebook-frontend") or "",
        extensions=enabled,
        disabled=tuple(sorted(disabled)),
        labextensions_path=tuple(paths),
        installed=found,
        config_disabled=frozenset(configured),
    )


@cache
def find_lab_app_dir() -> Path:
    """``share/jupyter/lab`` as installed by the ``jupyterlab-js`` wheel.

    Looked up once per process, though both the routes and the discovery at startup ask.
    The wheel's RECORD is searched as text: building its file list (``.files``) took ~6 ms
    of every start.
    """
    found = _recorded_path(LAB_DIST, "share/jupyter/lab/static/index.html")
    if found is not None:
        return found.resolve().parent.parent
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("lab"):
        if (Path(folder) / "static" / "index.html").is_file():
            return Path(folder)
    raise FrontendMissing("JupyterLab's files are missing: pip install jupyterlab-js")


def _recorded_path(dist_name: str, suffix: str) -> Path | None:
    """The installed file of ``dist_name`` whose RECORD entry ends with ``suffix``."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return None
    for line in (dist.read_text("RECORD") or "").splitlines():
        # path,hash,size: the hash and size hold no comma (a path may, quoted).
        entry = line.rsplit(",", 2)[0].strip('"')
        if entry.endswith(suffix):
            return Path(str(dist.locate_file(entry)))
    return None


def find_notebook_dir() -> Path:
    """The ``notebook_frontend`` package folder (static/ and templates/), without importing it."""
    spec = importlib.util.find_spec(NOTEBOOK_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FrontendMissing("Notebook 7's files are missing: pip install notebook-frontend")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def labextensions_path(extra: Iterable[Path]) -> list[Path]:
    """The folders searched for labextensions, first ones first (a name found twice: first wins)."""
    from jupyter_core.paths import jupyter_path

    seen: set[Path] = set()
    result: list[Path] = []
    for folder in [*extra, *(Path(p) for p in jupyter_path("labextensions"))]:
        folder = folder.expanduser().absolute()
        if folder not in seen:
            seen.add(folder)
            result.append(folder)
    return result


def find_labextensions(paths: Iterable[Path]) -> dict[str, LabExtension]:
    """Every prebuilt labextension in ``paths``: ``<name>/`` or ``@scope/<name>/`` folders."""
    found: dict[str, LabExtension] = {}
    for folder in paths:
        if not folder.is_dir():
            continue
        candidates = [*folder.glob("[!@]*/package.json"), *folder.glob("@*/*/package.json")]
        for package_json in sorted(candidates):
            extension = _read_extension(package_json)
            if extension is not None and extension.name not in found:
                found[extension.name] = extension
    return found


def _read_extension(package_json: Path) -> LabExtension | None:
    try:
        data = json.loads(package_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("skipping labextension %s: %s", package_json.parent, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        log.warning("skipping labextension %s: package.json has no name", package_json.parent)
        return None
    jupyterlab = data.get("jupyterlab")
    build = jupyterlab.get("_build") if isinstance(jupyterlab, dict) else None
    if not isinstance(build, dict) or not isinstance(build.get("load"), str):
        log.warning("skipping %s: not a prebuilt labextension (no jupyterlab._build)", data["name"])
        return None
    return LabExtension(
        name=data["name"],
        version=str(data.get("version", "")),
        path=package_json.parent,
        jupyterlab=jupyterlab if isinstance(jupyterlab, dict) else {},
    )


def disabled_with(extensions: Iterable[LabExtension], disabled: Iterable[str]) -> set[str]:
    """``disabled`` plus the plugins that the extensions left on replace.

    An extension may disable plugins it replaces (package.json
    ``jupyterlab.disabledExtensions``); those stay on when the extension itself is off.
    """
    result = set(disabled)
    for extension in extensions:
        if extension.name not in result:
            result.update(extension.disables)
    return result


def labconfig_disabled() -> dict[str, bool]:
    """``disabledExtensions`` merged over the Jupyter config path, the first folder winning."""
    from jupyter_core.paths import jupyter_config_path

    merged: dict[str, bool] = {}
    for folder in reversed(jupyter_config_path()):
        labconfig = Path(folder) / "labconfig"
        files = [*sorted(labconfig.glob("page_config.d/*.json")), labconfig / "page_config.json"]
        for file in files:
            merged.update(disabled_in(file))
    return merged


def disabled_in(file: Path) -> dict[str, bool]:
    """The ``disabledExtensions`` of one page_config.json (object or list form); {} if none."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        log.warning("ignoring %s: not valid JSON", file)
        return {}
    listed = data.get("disabledExtensions") if isinstance(data, dict) else None
    if isinstance(listed, dict):
        return {str(name): bool(off) for name, off in listed.items()}
    if isinstance(listed, list):
        return {str(name): True for name in listed}
    return {}


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _static_version(app_dir: Path) -> str:
    """The version in static/package.json, for an application folder from elsewhere."""
    try:
        data = json.loads((app_dir / "static" / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else ""
