"""The third-party licenses of the frontend bundles, for JupyterLab's Help > Licenses.

Every bundle (the application, each federated labextension) ships a
``third-party-licenses.json`` (at its top or in ``static/``) listing the npm packages in
it. The report is JSON, Markdown or CSV, as jupyterlab_server writes them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("modserver.lab")

LICENSE_FILES = ("third-party-licenses.json", "static/third-party-licenses.json")
FORMATS = {"json": "application/json", "markdown": "text/markdown", "csv": "text/csv"}
FILE_SUFFIXES = {"json": ".json", "markdown": ".md", "csv": ".csv"}
_FIELDS = ("name", "versionInfo", "licenseId", "extractedText")
_UNKNOWN = "UNKNOWN"


def bundle_packages(folder: Path) -> list[dict[str, Any]]:
    """The packages listed in a bundle's license files (unreadable files are logged)."""
    packages: list[dict[str, Any]] = []
    for name in LICENSE_FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            listed = json.loads(path.read_text(encoding="utf-8"))["packages"]
            packages.extend(item for item in listed if isinstance(item, dict))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable license list %s: %s", path, exc)
    return packages


def app_bundle_name(app_dir: Path) -> str:
    """The application bundle's name, from its ``static/package.json``."""
    for path in (app_dir / "static" / "package.json", app_dir / "package.json"):
        try:
            name = json.loads(path.read_text(encoding="utf-8"))["name"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(name, str):
            return name
    return "@jupyterlab/application-top"


def bundles(
    app_dir: Path, extensions: Mapping[str, Path], pattern: re.Pattern[str]
) -> dict[str, Any]:
    """Bundle name -> ``{"packages": [...]}`` for the bundles whose name ``pattern`` matches."""
    found = {
        name: {"packages": bundle_packages(folder)}
        for name, folder in sorted(extensions.items())
        if pattern.match(name)
    }
    app_name = app_bundle_name(app_dir)
    if pattern.match(app_name):
        found[app_name] = {"packages": bundle_packages(app_dir / "static")}
    return found


def report(found: dict[str, Any], report_format: str, full_text: bool) -> str:
    """The report of ``found`` bundles in ``report_format`` (a key of ``FORMATS``)."""
    if report_format == "json":
        return json.dumps({"bundles": found}, indent=2, sort_keys=True)
    if report_format == "csv":
        return _csv(found)
    return _markdown(found, full_text)


def _csv(found: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["bundle", *_FIELDS])
    writer.writeheader()
    for bundle_name, bundle in found.items():
        for package in bundle["packages"]:
            writer.writerow(
                {"bundle": bundle_name, **{key: package.get(key, "") for key in _FIELDS}}
            )
    return out.getvalue()


def _markdown(found: dict[str, Any], full_text: bool) -> str:
    lines: list[str] = []
    for bundle_name, bundle in found.items():
        lines += [f"# {bundle_name}", ""]
        if not bundle["packages"]:
            lines += ["> No licenses found", ""]
            continue
        for package in bundle["packages"]:
            name = str(package.get("name", _UNKNOWN)).strip()
            version = str(package.get("versionInfo", _UNKNOWN)).strip()
            license_id = str(package.get("licenseId", _UNKNOWN)).strip()
            lines.append(f"## **{name}** `{version}` {license_id}")
            if full_text:
                text = package.get("extractedText") or ""
                lines += [
                    "",
                    f"<pre>\n{text}\n</pre>" if text else "> No license text available",
                    "",
                ]
    return "\n".join(lines)
