"""What the browser benchmark does in JupyterLab, timed by the page's own clock.

Every time is taken inside the page with ``performance.now()`` (milliseconds since the
navigation started), so Playwright's round trips to the browser do not count:

- page load: a script installed before the page's own notes when the launcher's notebook
  card first exists (the launcher is usable from then on);
- execution: a capturing ``keydown`` listener notes the Shift+Enter, a ``MutationObserver``
  notes when the cell's output area first holds the printed text, and the next animation
  frame after it (when the browser paints it).

Selectors are JupyterLab's stable hooks, as in tests/e2e (the launcher card's
``data-category``, the toolbar's debugger button that turns on once the kernel answered
``kernel_info``, the execution indicator's ``data-status``).
"""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect

NOTEBOOK_CARD = ".jp-LauncherCard[data-category='Notebook']"
ACTIVE_EDITOR = ".jp-Notebook .jp-Cell.jp-mod-active .cm-content"
ACTIVE_CELL = ".jp-Notebook .jp-Cell.jp-mod-active"
KERNEL_CONNECTED = ".jp-DebuggerBugButton[aria-disabled='false']"
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
UI_TIMEOUT_MS = 120_000

# Installed before the page's scripts: the time the launcher's notebook card first exists.
WATCH_LAUNCHER = """
((card) => {
  const mark = () => {
    if (window.__benchLauncherAt === undefined && document.querySelector(card)) {
      window.__benchLauncherAt = performance.now();
    }
  };
  new MutationObserver(mark).observe(document, { childList: true, subtree: true });
})(CARD);
""".replace("CARD", json.dumps(NOTEBOOK_CARD))

# Installed once per page: remembers the last Shift+Enter while armed.
WATCH_KEYS = """
() => {
  window.__bench = { armed: false, key: null, out: null, frame: null };
  window.addEventListener('keydown', (event) => {
    const bench = window.__bench;
    if (bench.armed && bench.key === null && event.key === 'Enter' && event.shiftKey) {
      bench.key = performance.now();
    }
  }, true);
}
"""

# Arms the watch for the cell at ``index``: the first time its output shows ``text``.
ARM = """
([index, text]) => {
  const bench = window.__bench;
  Object.assign(bench, { armed: true, key: null, out: null, frame: null });
  const cell = `.jp-Notebook .jp-Cell[data-windowed-list-index='${index}']`;
  const selector = `${cell} .jp-OutputArea-output`;
  const observer = new MutationObserver(() => {
    if (bench.out !== null) return;
    const output = document.querySelector(selector);
    if (output && output.textContent.includes(text)) {
      bench.out = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => { bench.frame = performance.now(); });
    }
  });
  observer.observe(document.body, { childList: true, subtree: true, characterData: true });
}
"""


def launcher_load_ms(page: Page, url: str) -> float:
    """Open ``url``; ms from the start of navigation until the launcher's notebook card exists.

    The page's context must have ``WATCH_LAUNCHER`` as an init script.
    """
    page.goto(url)
    expect(page.locator(NOTEBOOK_CARD).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    return float(page.evaluate("window.__benchLauncherAt"))


def open_notebook(page: Page, url: str) -> None:
    """Open the notebook at ``url`` and wait until its kernel is connected and idle."""
    page.goto(url)
    expect(page.locator(KERNEL_CONNECTED).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.locator(IDLE).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.evaluate(WATCH_KEYS)


def time_execution(page: Page, code: str = "print(1)", text: str = "1") -> dict[str, Any]:
    """Type ``code`` into the active cell, press Shift+Enter, and time its output.

    Returns ``output_ms`` (Shift+Enter to the output in the page) and ``painted_ms`` (to the
    next animation frame after it). Waits until the kernel is idle again before returning,
    so runs do not overlap.
    """
    page.locator(ACTIVE_EDITOR).click()
    index = page.locator(ACTIVE_CELL).get_attribute("data-windowed-list-index")
    page.keyboard.type(code)
    page.evaluate(ARM, [index, text])
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("window.__bench.frame !== null", timeout=UI_TIMEOUT_MS, polling="raf")
    bench = page.evaluate("window.__bench")
    expect(page.locator(IDLE).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    if bench["key"] is None:
        raise RuntimeError("the page saw no Shift+Enter keydown")
    return {
        "output_ms": float(bench["out"]) - float(bench["key"]),
        "painted_ms": float(bench["frame"]) - float(bench["key"]),
    }


def new_context(browser: Any) -> BrowserContext:
    """A fresh browser profile: no cookies, no storage, an empty cache."""
    context: BrowserContext = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.add_init_script(WATCH_LAUNCHER)
    return context
