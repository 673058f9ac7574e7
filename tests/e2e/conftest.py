"""Browser end-to-end harness: a real server, Debian's chromium driven by Playwright.

One browser per session, a fresh server, browser context and page per test. When a test fails,
a screenshot of each open page, the browser console, the failed or error-answered requests and
the server log go to ``tests/e2e/artifacts/<test>/`` and their paths are printed with the
failure. Every request of the run is summarised in ``artifacts/endpoints.json``. See
docs/e2e-tests.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.e2e.recorder import Allowed, NetworkRecorder
from tests.e2e.servers import LabServer, start, target

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", Path(__file__).parent / "artifacts"))
HEADED = os.environ.get("E2E_HEADED") == "1"
# "all": also keep the last screenshot of every passing test, to look at what a run showed.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS", "failures")
# Headless on a closed network: no sandbox (root in CI), no GPU, and none of chromium's
# background calls home, which would only time out here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
# A user waits this long for anything in the UI (kernel start included) on a loaded CI machine.
UI_TIMEOUT_MS = 60_000
expect.set_options(timeout=UI_TIMEOUT_MS)

# Error answers the frontend asks for on purpose, in normal use. Anything else is a failure.
ALLOWED_ERRORS: tuple[Allowed, ...] = (
    Allowed(
        "GET",
        re.compile(r"^/api/contents/[^?]+\?content=0"),
        404,
        "JupyterLab asks for a path's metadata to learn whether it exists (restoring the "
        "documents a workspace had open, e.g. a notebook renamed on its first save; checking "
        "a name before using it): 404 means 'not there' and the UI carries on",
    ),
)

RECORDER = pytest.StashKey[NetworkRecorder]()
MEASUREMENTS = pytest.StashKey[dict[str, Any]]()
SAVED = pytest.StashKey[list[str]]()
FAILED = pytest.StashKey[bool]()  # on a test item: its setup or call failed
MORE_CONTEXTS = pytest.StashKey[list[BrowserContext]]()  # on a test item: see more_contexts


def pytest_configure(config: pytest.Config) -> None:
    """Fresh recorders and an empty artifacts folder for this run."""
    config.stash[RECORDER] = NetworkRecorder()
    config.stash[MEASUREMENTS] = {}
    config.stash[SAVED] = []
    # What is in the artifacts folder after a run belongs to that run.
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)


@pytest.fixture(scope="session")
def recorder(pytestconfig: pytest.Config) -> NetworkRecorder:
    """The run's network and console recorder."""
    return pytestconfig.stash[RECORDER]


@pytest.fixture(scope="session")
def measurements(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Figures the tests measure; written to ``artifacts/measurements.json`` and printed."""
    return pytestconfig.stash[MEASUREMENTS]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver (from PyPI; it drives the system chromium, downloads nothing)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless, one for the whole session."""
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: `apt-get install -y chromium` (or set E2E_CHROMIUM)"
    )
    instance = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=not HEADED
    )
    yield instance
    instance.close()


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    """The server under test (``E2E_TARGET``) serving a fresh, empty folder."""
    root = tmp_path / "root"
    root.mkdir()
    server = start(root, tmp_path / "scratch")
    yield server
    server.stop()


def recorded_context(browser: Browser, recorder: NetworkRecorder, test: str) -> BrowserContext:
    """A fresh browser profile (no cookies, no storage) whose pages are recorded for ``test``."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=False)
    ctx.set_default_timeout(UI_TIMEOUT_MS)
    ctx.on("page", lambda page: recorder.attach(page, test))
    recorder.watch_websockets(ctx, test)
    return ctx


@pytest.fixture
def context(
    browser: Browser,
    recorder: NetworkRecorder,
    lab_server: LabServer,
    request: pytest.FixtureRequest,
) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies, no storage); every page it opens is recorded.

    It closes before the server stops, so no request of the test meets a stopped server.
    """
    ctx = recorded_context(browser, recorder, request.node.nodeid)
    yield ctx
    ctx.close()


@pytest.fixture
def more_contexts(
    browser: Browser,
    recorder: NetworkRecorder,
    lab_server: LabServer,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[[], BrowserContext]]:
    """Opens further fresh browser profiles: other users, or the same user on another device.

    Their pages are recorded and checked like ``page``'s, screenshotted on failure, and closed
    before the server stops.
    """
    opened: list[BrowserContext] = []
    request.node.stash[MORE_CONTEXTS] = opened

    def open_context() -> BrowserContext:
        ctx = recorded_context(browser, recorder, request.node.nodeid)
        opened.append(ctx)
        return ctx

    yield open_context
    for ctx in opened:
        ctx.close()


@pytest.fixture
def allowed_errors() -> tuple[Allowed, ...]:
    """Error answers a test's pages may get (a test module overrides it to add its own)."""
    return ALLOWED_ERRORS


@pytest.fixture
def page(
    context: BrowserContext,
    recorder: NetworkRecorder,
    allowed_errors: tuple[Allowed, ...],
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A new page; after the test, no request of the test's pages was answered 4xx/5xx.

    Errors the frontend provokes on purpose are listed, with the reason, in ``ALLOWED_ERRORS``
    (a module may add its own: ``allowed_errors``).
    """
    tab = context.new_page()
    yield tab
    if request.node.stash.get(FAILED, False):
        return  # the failure's artifacts already list the bad answers (failed-requests.json)
    errors = recorder.errors(request.node.nodeid, allowed_errors)
    assert not errors, "the server answered the frontend with errors:\n" + "\n".join(
        f"  {e.method} {e.path} -> {e.status or e.failure}" for e in errors
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed setup or test: save screenshots, console, bad requests, server log."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        item.stash[FAILED] = True
        paths = save_failure_artifacts(item)
        if paths:
            item.config.stash[SAVED].extend(paths)
            report.sections.append(("e2e artifacts", "\n".join(paths)))
    elif report.passed and report.when == "call" and SCREENSHOTS == "all":
        save_screenshots(item, artifacts_folder(item))
    return report


def artifacts_folder(item: pytest.Item) -> Path:
    """``artifacts/<test name>/``, created."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", item.nodeid.split("::", 1)[-1])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshots(item: pytest.Item, folder: Path) -> list[Path]:
    """A screenshot of every page the test's browser context has open; return the paths."""
    saved: list[Path] = []
    ctx = getattr(item, "funcargs", {}).get("context")
    contexts = [ctx] if isinstance(ctx, BrowserContext) else []
    contexts += item.stash.get(MORE_CONTEXTS, [])
    tabs = [tab for each in contexts for tab in each.pages]
    for number, tab in enumerate(tabs):
        shot = folder / f"screenshot-{number}.png"
        try:
            tab.screenshot(path=str(shot), full_page=True, timeout=10_000)
            saved.append(shot)
        except Exception as error:  # a crashed page must not hide the test's own failure
            (folder / f"screenshot-{number}.error.txt").write_text(str(error))
    return saved


def save_failure_artifacts(item: pytest.Item) -> list[str]:
    """Write what there is to see of a failed test into ``artifacts/<test>/``; return the paths."""
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    folder = artifacts_folder(item)
    saved = save_screenshots(item, folder)
    recorder = item.config.stash[RECORDER]
    console = [m for m in recorder.console if m["test"] == item.nodeid]
    if console:
        path = folder / "console.json"
        path.write_text(json.dumps(console, indent=1) + "\n")
        saved.append(path)
    bad = [
        {"method": e.method, "path": e.path, "status": e.status, "failure": e.failure}
        for e in recorder.of_test(item.nodeid)
        if e.status is None or e.status >= 400
    ]
    if bad:
        path = folder / "failed-requests.json"
        path.write_text(json.dumps(bad, indent=1) + "\n")
        saved.append(path)
    server = funcargs.get("lab_server")
    if isinstance(server, LabServer):
        path = folder / "server.log"
        path.write_text(server.log())
        saved.append(path)
    return [str(p) for p in saved]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the endpoint list and the measurements of the whole run."""
    config = session.config
    config.stash[RECORDER].write(ARTIFACTS, target())
    figures = config.stash[MEASUREMENTS]
    if figures:
        (ARTIFACTS / "measurements.json").write_text(
            json.dumps({"target": target(), **figures}, indent=1) + "\n"
        )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the measured figures and where the artifacts are."""
    terminalreporter.section(f"e2e ({target()})")
    for name, value in config.stash[MEASUREMENTS].items():
        terminalreporter.write_line(f"{name}: {value}")
    terminalreporter.write_line(f"endpoints called: {ARTIFACTS / 'endpoints.json'}")
    for path in config.stash[SAVED]:
        terminalreporter.write_line(f"failure artifact: {path}")
