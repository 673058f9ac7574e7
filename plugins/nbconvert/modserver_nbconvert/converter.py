"""``Converter``: runs nbconvert for one app, in worker threads, bounded in number and time.

A thread cannot be stopped: an export past the time limit is answered (504) at once, and
its conversion keeps its place among the ``max_concurrent`` until nbconvert ends. So
requests that time out one after another cannot pile up conversions beyond the limit.

The notebook comes from the ``Contents`` service (the route reads it); nbconvert gets the
parsed notebook and the resources jupyter_server gives it (title, modification date, the
notebook's folder for relative images). An export whose result has extra files
(extracted images of a Markdown export, say) is answered as a zip, as jupyter_server does.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

import anyio
from anyio.abc import TaskGroup
from modserver.errors import RequestError
from modserver.imports import late_import

from modserver_nbconvert.exporters import (
    ToolMissing,
    check_format,
    exporter_catalog,
    usable_formats,
)

DATE_FORMAT = "%B %d, %Y"  # nbconvert's modified_date, e.g. "May 26, 2022"


class ExportFailed(RequestError):
    """nbconvert could not convert this notebook to this format (422, with its message)."""

    status_code = 422


class ExportTimedOut(RequestError):
    """The export took longer than the ``timeout`` setting (504)."""

    status_code = 504


@dataclass(frozen=True)
class Export:
    """One converted notebook, ready to send."""

    body: bytes
    media_type: str
    filename: str  # the name to save it as (``analysis.html``, ``analysis.zip``)


class Converter:
    """Exports notebooks; at most ``max_concurrent`` at once, each answered within ``timeout``.

    Conversions run as tasks of ``group`` (the app's), so that one outlives a request that
    stopped waiting for it. ``convert`` is the conversion itself (nbconvert's, by default).
    """

    def __init__(
        self,
        timeout: float,
        max_concurrent: int,
        group: TaskGroup,
        convert: Callable[[str, dict[str, Any], str | None, bool | None], Export] | None = None,
    ) -> None:
        self.timeout = timeout
        self._limiter = anyio.CapacityLimiter(max_concurrent)
        self._group = group
        self._convert = convert or _convert
        self._catalog: dict[str, str] | None = None

    async def catalog(self) -> dict[str, str]:
        """Every exporter's name and output type, read once (entry points do not change)."""
        if self._catalog is None:
            self._catalog = await anyio.to_thread.run_sync(exporter_catalog)
        return self._catalog

    async def formats(self) -> dict[str, dict[str, str]]:
        """``/api/nbconvert``: the exporters usable here (tools are looked up each time)."""
        # Not behind the export limiter: pages ask for it while exports run.
        return await anyio.to_thread.run_sync(usable_formats, await self.catalog())

    async def check(self, format: str) -> None:
        """404 for an unknown format, 422 for a format whose tool is missing."""
        catalog = await self.catalog()
        await anyio.to_thread.run_sync(check_format, format, catalog)

    async def export(
        self,
        format: str,
        model: dict[str, Any],
        folder: str | None,
        *,
        sanitize_html: bool | None = None,
    ) -> Export:
        """Convert the notebook ``model`` (a contents model with content) to ``format``.

        ``folder`` is the notebook's folder on disk, if it is on disk (relative images).
        """
        await self.check(format)
        job = partial(self._convert, format, model, folder, sanitize_html)
        conversion = _Conversion()
        self._group.start_soon(self._run, job, conversion)
        try:
            with anyio.move_on_after(self.timeout):
                await conversion.done.wait()
                return conversion.result()
        finally:
            conversion.wanted = False  # answered, timed out or the client left
        raise ExportTimedOut(
            f"Exporting {model['path']} to {format} took longer than {self.timeout:g} s "
            "(setting nbconvert.timeout)"
        )

    async def _run(self, job: Callable[[], Export], conversion: _Conversion) -> None:
        async with self._limiter:  # held until nbconvert ends, past the time limit too
            if conversion.wanted:
                try:
                    # Abandoned only when the server stops: its process ends anyway.
                    conversion.outcome = await anyio.to_thread.run_sync(job, abandon_on_cancel=True)
                except Exception as exc:  # the request's task raises it
                    conversion.outcome = exc
        conversion.done.set()


class _Conversion:
    """One export between the request that asked for it and the task that runs it."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.wanted = True  # False once the request stopped waiting: not started then
        self.outcome: Export | Exception | None = None

    def result(self) -> Export:
        """The export, or the error the conversion raised."""
        if isinstance(self.outcome, Exception):
            raise self.outcome
        assert self.outcome is not None, "a wanted conversion always has an outcome"
        return self.outcome


def _convert(
    format: str, model: dict[str, Any], folder: str | None, sanitize_html: bool | None
) -> Export:
    """Run nbconvert (in a worker thread); nbconvert's failures become 4xx errors."""
    with late_import("jsonschema", "jupyter_client"):
        import nbformat
        from nbconvert.exporters.base import get_exporter
        from nbconvert.utils.pandoc import PandocMissing

    exporter = get_exporter(format)()  # type: ignore[no-untyped-call]
    if sanitize_html is not None and hasattr(exporter, "sanitize_html"):
        exporter.sanitize_html = sanitize_html
    title = os.path.splitext(model["name"])[0]
    metadata: dict[str, Any] = {"name": title, "modified_date": _date(model["last_modified"])}
    if folder is not None:
        metadata["path"] = folder
    try:
        notebook = nbformat.from_dict(model["content"])  # type: ignore[no-untyped-call]
        output, resources = exporter.from_notebook_node(notebook, resources={"metadata": metadata})
    except PandocMissing as exc:
        raise ToolMissing(f"Exporting to {format} needs pandoc: {exc}") from None
    except RuntimeError as exc:
        # webpdf without chromium, Qt without PyQtWebEngine: the tool is missing.
        raise ToolMissing(f"Exporting to {format} failed: {exc}") from None
    except Exception as exc:  # nbconvert fails in many ways on odd notebooks or templates
        raise ExportFailed(f"nbconvert failed to export {model['path']}: {exc}") from None
    body = output if isinstance(output, bytes) else output.encode("utf-8")
    extension = str(resources.get("output_extension") or "")
    files = resources.get("outputs") or {}
    if files:
        return Export(_zip(title + extension, body, files), "application/zip", title + ".zip")
    mimetype = exporter.output_mimetype or "application/octet-stream"
    if not isinstance(output, bytes):
        mimetype += "; charset=utf-8"
    return Export(body, mimetype, title + extension)


def _zip(name: str, body: bytes, files: dict[str, bytes]) -> bytes:
    """The export and its extra files (images) in one zip, as jupyter_server sends them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, body)
        for filename, data in files.items():
            archive.writestr(os.path.basename(filename), data)
    return buffer.getvalue()


def _date(iso: str) -> str:
    """``2022-05-26T13:50:00.123Z`` -> ``May 26, 2022`` (nbconvert's ``modified_date``)."""
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        when = datetime.now(timezone.utc)
    return when.strftime(DATE_FORMAT).replace(" 0", " ")
