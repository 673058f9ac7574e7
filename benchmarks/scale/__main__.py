"""Scale: many kernels, many WebSockets, a huge folder; modserver beside jupyter_server.

Run: ``python -m benchmarks.scale [--quick] [--kernels N] [--websockets N] [...]``.

- ``idle``: ``--kernels`` (200) idle kernels on one server: the RSS the server process
  itself adds per kernel (the kernels are other processes), its CPU while they idle, and
  ``GET /api/kernels`` with all of them running;
- ``websockets``: ``--websockets`` (1,000) kernel WebSockets spread over ``--ws-kernels``
  (50) kernels, each answered (``kernel_info_reply`` or a status), held ``--hold``
  (60) seconds: the server's RSS and CPU during the hold, and ``pass`` round trips on a
  few of them while all are connected (against one socket alone before);
- ``listing``: ``GET /api/contents/many`` of a folder of ``--files`` (100,000) files.

The kernel scenarios run one server at a time (two hundred kernels each would not fit
twice on a small machine), each on a fresh server; the listing runs both side by side.
Every kernel and server is stopped at the end, even after a failure, and processes left
behind are killed and reported. ``--quick``: 20 kernels, 100 WebSockets on 5 kernels held
10 s, 5,000 files. Writes ``benchmarks/results/scale.json`` (``scale-quick.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import anyio
import psutil

from benchmarks.kernels.targets import launch_server
from benchmarks.scale import big_folder, kernel_load

RESULTS = Path(__file__).resolve().parents[1] / "results"
SERVERS = ("modserver", "jupyter_server")
SCENARIOS = ("idle", "websockets", "listing")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description="Many kernels, WebSockets and files: modserver vs jupyter_server.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--kernels", type=int, help="idle kernels on one server (200)")
    parser.add_argument("--websockets", type=int, help="WebSockets held at once (1000)")
    parser.add_argument("--ws-kernels", type=int, help="kernels they are spread over (50)")
    parser.add_argument("--hold", type=float, help="seconds the WebSockets are held (60)")
    parser.add_argument("--files", type=int, help="files in the listed folder (100000)")
    parser.add_argument("--runs", type=int, help="timed listings per server (3)")
    parser.add_argument("--batch", type=int, default=4, help="kernels started at once (4)")
    parser.add_argument(
        "--targets", default=",".join(SERVERS), help="subset of " + ",".join(SERVERS)
    )
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help="subset of " + ",".join(SCENARIOS)
    )
    parser.add_argument("--output", type=Path, help="results file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.kernels = args.kernels or (20 if quick else 200)
    args.websockets = args.websockets or (100 if quick else 1000)
    args.ws_kernels = args.ws_kernels or (5 if quick else 50)
    args.hold = args.hold or (10.0 if quick else 60.0)
    args.files = args.files or (5_000 if quick else 100_000)
    args.runs = args.runs or (2 if quick else 3)
    args.targets = [t for t in args.targets.split(",") if t]
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    for chosen, allowed in ((args.targets, SERVERS), (args.scenarios, SCENARIOS)):
        unknown = set(chosen) - set(allowed)
        if unknown:
            parser.error(f"unknown {', '.join(sorted(unknown))}; choose from {allowed}")
    return args


def error_text(exc: BaseException) -> str:
    """A short description of ``exc`` (the first of an exception group)."""
    while getattr(exc, "exceptions", None):  # an exception group (no builtin on 3.10)
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {exc}"[:1000]


async def kernel_scenarios(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """The idle-kernels and WebSockets scenarios, one fresh server at a time."""
    results: dict[str, Any] = {}
    for scenario in ("idle", "websockets"):
        if scenario not in args.scenarios:
            continue
        results[scenario] = {}
        for name in args.targets:
            print(f"… {scenario} on {name}", file=sys.stderr, flush=True)
            began = time.perf_counter()
            try:
                async with launch_server(name, scratch / f"{scenario}-{name}") as server:
                    if scenario == "idle":
                        outcome = await kernel_load.idle_kernels(server, args.kernels, args.batch)
                    else:
                        outcome = await kernel_load.many_websockets(
                            server, args.websockets, args.ws_kernels, args.hold, args.batch
                        )
            except Exception as exc:
                outcome = {"error": error_text(exc)}
            outcome["scenario_seconds"] = time.perf_counter() - began
            results[scenario][name] = outcome
            print(f"  took {outcome['scenario_seconds']:.0f}s", file=sys.stderr, flush=True)
    return results


def listing(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """The big-folder listing, both servers side by side on one generated folder."""
    root = scratch / "listing-root"
    root.mkdir()
    print(f"… writing {args.files} files", file=sys.stderr, flush=True)
    written_s = big_folder.write_folder(root, args.files)
    print("… listing", file=sys.stderr, flush=True)
    try:
        logs = scratch / "listing"
        logs.mkdir()
        outcome = big_folder.list_folder(root, logs, args.files, args.runs)
    except Exception as exc:
        outcome = {"error": error_text(exc)}
    outcome["seconds_to_write_folder"] = written_s
    return outcome


def kill_leftovers(scratch: Path) -> list[str]:
    """Kill any process whose command line names ``scratch`` (a server or kernel left
    behind); returns what was killed."""
    killed = []
    mine = os.getpid()
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or [])
            if process.info["pid"] != mine and str(scratch) in command:
                process.kill()
                killed.append(command[:200])
        except psutil.Error:
            pass
    return killed


def versions() -> dict[str, str]:
    found = {}
    for name in ("modserver", "jupyter_server", "ipykernel", "jupyter_client", "hypercorn"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="modserver-bench-scale-") as tmp:
        scratch = Path(tmp)
        try:
            results.update(anyio.run(kernel_scenarios, args, scratch))
            if "listing" in args.scenarios:
                results["listing"] = listing(args, scratch)
        finally:
            leftovers = kill_leftovers(scratch)
    return {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m benchmarks.scale " + shlex.join(sys.argv[1:]),
            "quick": args.quick,
            "sizes": {
                "kernels": args.kernels,
                "websockets": args.websockets,
                "ws_kernels": args.ws_kernels,
                "hold_s": args.hold,
                "files": args.files,
                "listing_runs": args.runs,
                "start_batch": args.batch,
            },
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
            f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
            "load_average_1_5_15_before": load_before,
            "load_average_1_5_15_after": os.getloadavg(),
            "versions": versions(),
            "leftover_processes_killed": leftovers,
        },
        "results": results,
    }


# (label, scenario, key, format): rows of the printed table.
ROWS = (
    ("idle: kernels started", "idle", "kernels_started", "{:.0f}"),
    ("idle: seconds to start them", "idle", "seconds_to_start_all", "{:.0f}"),
    ("idle: server RSS before (MiB)", "idle", "server_rss_mib_before", "{:.1f}"),
    ("idle: server RSS with the kernels (MiB)", "idle", "server_rss_mib_after", "{:.1f}"),
    ("idle: server RSS per kernel (MiB)", "idle", "server_rss_mib_per_kernel", "{:.3f}"),
    ("idle: server CPU while they idle (%)", "idle", "server_cpu_percent_while_idle", "{:.1f}"),
    ("idle: GET /api/kernels, median (ms)", "idle", "list.median_ms", "{:.1f}"),
    ("idle: GET /api/kernels, p90 (ms)", "idle", "list.p90_ms", "{:.1f}"),
    ("ws: WebSockets answered", "websockets", "answered", "{:.0f}"),
    ("ws: seconds until all answered", "websockets", "seconds_until_all_answered", "{:.1f}"),
    ("ws: still open after the hold", "websockets", "still_open_after_hold", "{:.0f}"),
    ("ws: server RSS before (MiB)", "websockets", "server_rss_mib_before", "{:.1f}"),
    ("ws: server RSS connected (MiB)", "websockets", "server_rss_mib_connected", "{:.1f}"),
    ("ws: server RSS per WebSocket (MiB)", "websockets", "server_rss_mib_per_websocket", "{:.3f}"),
    ("ws: server RSS max during hold (MiB)", "websockets", "server_rss_mib_hold_max", "{:.1f}"),
    ("ws: server CPU during hold (%)", "websockets", "server_cpu_percent_during_hold", "{:.2f}"),
    ("ws: pass round trip, alone (ms)", "websockets", "round_trip_ms_unloaded_median", "{:.2f}"),
    ("ws: pass round trip, loaded (ms)", "websockets", "round_trip_ms_loaded_median", "{:.2f}"),
    ("listing: median (s)", "listing", "median_s", "{:.3f}"),
    ("listing: entries", "listing", "entries", "{:.0f}"),
    ("listing: response (MB)", "listing", "response_bytes", "{:.1f}"),
    ("listing: server RSS after (MiB)", "listing", "server_rss_mib_after", "{:.1f}"),
)


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table with modserver / jupyter_server ratios."""
    lines = ["| measure | modserver | jupyter_server | ratio |", "|---|---:|---:|---:|"]
    for label, scenario, key, fmt in ROWS:
        values = []
        for name in SERVERS:
            value: Any = results.get(scenario, {}).get(name, {})
            for part in key.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if key == "response_bytes" and value is not None:
                value = value / 1e6
            values.append(value)
        ours, theirs = values
        if ours is None and theirs is None:
            continue
        ratio = f"{ours / theirs:.2f}x" if ours is not None and theirs else ""
        shown = ["-" if v is None else fmt.format(v) for v in values]
        lines.append(f"| {label} | {shown[0]} | {shown[1]} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    report = run(args)
    output = args.output or RESULTS / ("scale-quick.json" if args.quick else "scale.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(table(report["results"]))
    failed = 0
    for scenario, per_server in report["results"].items():
        for name, outcome in per_server.items():
            error = outcome if name == "error" else None
            if isinstance(outcome, dict):
                error = outcome.get("error")
            if error:
                failed += 1
                print(f"! {scenario} on {name}: {error}")
    if report["meta"]["leftover_processes_killed"]:
        print(f"! killed leftovers: {report['meta']['leftover_processes_killed']}")
    print(f"\nResults written to {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
