"""What a person in JupyterLab feels: modserver against jupyter_server in one run.

Run: ``python -m benchmarks.browser [--quick] [--executions N] [--loads N] [...]``.
Both servers run side by side (``modserver run`` with every installed plugin, and
``jupyter lab``), each serving a fresh folder with a one-cell notebook; Debian's chromium
(headless, driven by Playwright from PyPI, as in tests/e2e) measures on each:

- page load: JupyterLab to a usable launcher (the notebook card shown), in a fresh
  browser profile each time (cold: empty cache, logs in with the token URL), then once
  more in the same profile (warm: cached bundles); the very first load after the server
  started is kept apart;
- execution: Shift+Enter on ``print(1)`` to its output in the cell, ``--executions``
  times after a few untimed warm-ups, interleaved between the servers in rounds.

Writes ``benchmarks/results/browser.json`` (``browser-quick.json`` with ``--quick``) and
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from contextlib import ExitStack
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.browser import lab_steps
from benchmarks.browser.servers import LabServer, jupyter_executable, running

RESULTS = Path(__file__).resolve().parents[1] / "results"
SERVERS = ("modserver", "jupyter_server")
NOTEBOOK = "bench.ipynb"
# Headless on a closed network, as tests/e2e launches it: no sandbox (root), no GPU, and
# none of chromium's background calls home.
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.browser",
        description="JupyterLab in chromium: modserver vs jupyter_server.",
    )
    parser.add_argument("--quick", action="store_true", help="10 executions, 2 loads (smoke)")
    parser.add_argument("--executions", type=int, help="timed Shift+Enter runs (default 50)")
    parser.add_argument("--rounds", type=int, help="rounds the executions are split in (5)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed executions first")
    parser.add_argument("--loads", type=int, help="cold + warm page loads per server (5)")
    parser.add_argument("--chromium", default=os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--jupyter", help="the jupyter executable (default: beside python)")
    parser.add_argument("--output", type=Path, help="results file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    args.executions = args.executions or (10 if args.quick else 50)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.loads = args.loads or (2 if args.quick else 5)
    return args


def write_notebook(root: Path) -> None:
    """A notebook with one empty code cell and the python3 kernelspec (no kernel dialog)."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "id": "c0",
                "source": "",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / NOTEBOOK).write_text(json.dumps(notebook))


def summary(samples: list[float]) -> dict[str, Any]:
    """Median, p90, mean, min and max of ``samples`` (ms), and the samples."""
    ordered = sorted(samples)
    p90 = statistics.quantiles(ordered, n=10)[8] if len(ordered) > 1 else ordered[0]
    return {
        "count": len(ordered),
        "median": statistics.median(ordered),
        "p90": p90,
        "mean": statistics.fmean(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "samples": [round(value, 2) for value in samples],
    }


def page_loads(browser: Browser, servers: dict[str, LabServer], loads: int) -> dict[str, Any]:
    """Cold and warm launcher loads per server, alternating which server goes first."""
    cold: dict[str, list[float]] = {name: [] for name in servers}
    warm: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    for index in range(loads):
        for name in names if index % 2 == 0 else names[::-1]:
            context = lab_steps.new_context(browser)
            try:
                page = context.new_page()
                cold[name].append(lab_steps.launcher_load_ms(page, servers[name].login_url))
                warm[name].append(lab_steps.launcher_load_ms(page, f"{servers[name].url}lab"))
            finally:
                context.close()
    return {
        name: {
            "first_after_start_ms": cold[name][0],
            "cold": summary(cold[name]),
            "warm": summary(warm[name]),
        }
        for name in servers
    }


def executions(
    browser: Browser, servers: dict[str, LabServer], args: argparse.Namespace
) -> dict[str, Any]:
    """Shift+Enter → output, ``args.executions`` per server in interleaved rounds."""
    pages: dict[str, Page] = {}
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    with ExitStack() as stack:
        for name, server in servers.items():
            context = lab_steps.new_context(browser)
            stack.callback(context.close)
            page = context.new_page()
            page.goto(server.login_url)  # logs in
            lab_steps.open_notebook(page, f"{server.url}lab/tree/{NOTEBOOK}")
            for _ in range(args.warmups):
                lab_steps.time_execution(page)
            pages[name] = page
        per_round = [
            args.executions // args.rounds + (1 if i < args.executions % args.rounds else 0)
            for i in range(args.rounds)
        ]
        names = list(servers)
        for index, count in enumerate(per_round):
            for name in names if index % 2 == 0 else names[::-1]:
                pages[name].bring_to_front()
                for _ in range(count):
                    samples[name].append(lab_steps.time_execution(pages[name]))
    return {
        name: {
            "output": summary([s["output_ms"] for s in runs]),
            "painted": summary([s["painted_ms"] for s in runs]),
        }
        for name, runs in samples.items()
    }


def versions(browser_version: str) -> dict[str, str]:
    found = {"chromium": browser_version}
    for name in (
        "modserver",
        "jupyter_server",
        "jupyterlab",
        "jupyterlab-js",
        "ipykernel",
        "hypercorn",
        "tornado",
        "playwright",
    ):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, with modserver / jupyter_server ratios."""
    loads, runs = results.get("page_load", {}), results.get("execution", {})
    rows: list[tuple[str, Any, Any]] = []

    def pick(source: dict[str, Any], *path: str) -> tuple[Any, Any]:
        values = []
        for name in SERVERS:
            value: Any = source.get(name)
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            values.append(value)
        return values[0], values[1]

    for label, part, path in (
        ("Shift+Enter → output, median (ms)", runs, ("output", "median")),
        ("Shift+Enter → output, p90 (ms)", runs, ("output", "p90")),
        ("Shift+Enter → painted, median (ms)", runs, ("painted", "median")),
        ("launcher, first load after start (ms)", loads, ("first_after_start_ms",)),
        ("launcher, cold load, median (ms)", loads, ("cold", "median")),
        ("launcher, warm load, median (ms)", loads, ("warm", "median")),
    ):
        rows.append((label, *pick(part, *path)))
    lines = ["| measure | modserver | jupyter_server | ratio |", "|---|---:|---:|---:|"]
    for label, ours, theirs in rows:
        ratio = f"{ours / theirs:.2f}x" if ours is not None and theirs else ""
        lines.append(f"| {label} | {_fmt(ours)} | {_fmt(theirs)} | {ratio} |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    jupyter = jupyter_executable(args.jupyter)
    if not Path(args.chromium).exists():
        raise SystemExit(f"{args.chromium} is missing: apt-get install -y chromium")
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="modserver-bench-browser-") as tmp,
        ExitStack() as stack,
    ):
        servers: dict[str, LabServer] = {}
        for name in SERVERS:
            root = Path(tmp) / name / "root"
            root.mkdir(parents=True)
            write_notebook(root)
            servers[name] = stack.enter_context(running(name, root, Path(tmp), jupyter))
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True
            )
            try:
                browser_version = browser.version
                for part, step in (
                    ("page_load", lambda: page_loads(browser, servers, args.loads)),
                    ("execution", lambda: executions(browser, servers, args)),
                ):
                    print(f"… {part}", file=sys.stderr, flush=True)
                    try:
                        results[part] = step()
                    except Exception as exc:  # one part failing still reports the other
                        errors[part] = f"{type(exc).__name__}: {exc}"[:2000]
                        print(f"! {part}: {errors[part]}", file=sys.stderr)
            finally:
                browser.close()
    return {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m benchmarks.browser " + " ".join(sys.argv[1:]),
            "quick": args.quick,
            "executions": args.executions,
            "rounds": args.rounds,
            "warmups": args.warmups,
            "loads": args.loads,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "load_average_1_5_15_before": load_before,
            "load_average_1_5_15_after": os.getloadavg(),
            "versions": versions(browser_version),
        },
        "results": results,
        "errors": errors,
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report = run(args)
    output = args.output or RESULTS / ("browser-quick.json" if args.quick else "browser.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report["results"]))
    for part, error in report["errors"].items():
        print(f"! {part} failed: {error}")
    print(f"\nResults written to {output}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
