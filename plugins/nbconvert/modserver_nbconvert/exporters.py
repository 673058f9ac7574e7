"""Which nbconvert exporters exist here, and the outside tools some of them need.

Exporter names come from nbconvert's entry points. Some formats call a program or a
package nbconvert does not install (pandoc, xelatex, playwright, PyQtWebEngine): a format
whose tool is missing is left out of ``/api/nbconvert`` (so JupyterLab's menu does not
offer it) and answered 422 with the tool's name, never tried.
"""

from __future__ import annotations

import importlib.util
import shutil

from modserver.errors import RequestError

#: Programs each format runs (its templates call pandoc for markdown cells; pdf runs LaTeX).
PROGRAMS: dict[str, tuple[str, ...]] = {
    "asciidoc": ("pandoc",),
    "latex": ("pandoc",),
    "pdf": ("pandoc", "xelatex"),
    "rst": ("pandoc",),
}
#: Python packages each format imports at export time (module to look for, what to install).
PACKAGES: dict[str, tuple[str, str]] = {
    "webpdf": ("playwright", "nbconvert[webpdf]"),
    "qtpdf": ("PyQt5", "nbconvert[qtpdf]"),
    "qtpng": ("PyQt5", "nbconvert[qtpng]"),
}
INSTALL_HELP = "https://nbconvert.readthedocs.io/en/latest/install.html"


class UnknownFormat(RequestError):
    """No exporter has this name (404, as jupyter_server)."""

    status_code = 404


class ToolMissing(RequestError):
    """The format exists but needs a program or package this machine lacks (422)."""

    status_code = 422


def exporter_catalog() -> dict[str, str]:
    """Every exporter nbconvert registers and its output type (blocking: entry points)."""
    from nbconvert.exporters.base import get_export_names, get_exporter

    catalog: dict[str, str] = {}
    for name in get_export_names():  # type: ignore[no-untyped-call]
        try:
            exporter = get_exporter(name)  # type: ignore[no-untyped-call]
        except (ValueError, ImportError):  # uninstalled meanwhile, or broken
            continue
        catalog[name] = str(exporter.output_mimetype)
    return catalog


def missing_tool(format: str) -> str | None:
    """Why ``format`` cannot run here (the missing tool and how to get it), or None."""
    for program in PROGRAMS.get(format, ()):
        if shutil.which(program) is None:
            return (
                f"Exporting to {format} needs {program}, which is not installed on this "
                f"server: install it (see {INSTALL_HELP})"
            )
    if format in PACKAGES:
        module, extra = PACKAGES[format]
        if importlib.util.find_spec(module) is None:
            return (
                f"Exporting to {format} needs the Python package {module}, which is not "
                f"installed on this server: pip install {extra!r}"
            )
    return None


def usable_formats(catalog: dict[str, str]) -> dict[str, dict[str, str]]:
    """``/api/nbconvert``: ``{name: {"output_mimetype": ...}}`` of the formats usable here.

    Blocking (PATH and package lookups): run it in a worker thread.
    """
    return {
        name: {"output_mimetype": mimetype}
        for name, mimetype in catalog.items()
        if missing_tool(name) is None
    }


def check_format(format: str, known: dict[str, str]) -> None:
    """Raise ``UnknownFormat`` or ``ToolMissing`` unless ``format`` can run here."""
    if format not in known:
        raise UnknownFormat(f"No exporter for format: {format}")
    reason = missing_tool(format)
    if reason is not None:
        raise ToolMissing(reason)
