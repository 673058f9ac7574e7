"""Run the kernel benchmarks: ``python -m benchmarks.kernels [--quick] [...]``.

Starts modserver, jupyter_server and a direct-ZMQ target, runs every scenario on all of
them in the same run, prints the Markdown table and writes
``benchmarks/results/kernels.json`` (``kernels-quick.json`` with ``--quick``).
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
from contextlib import AsyncExitStack
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import anyio

from benchmarks.kernels import report, scenarios
from benchmarks.kernels.scenarios import Row, describe_error
from benchmarks.kernels.targets import DirectTarget, ServerTarget, launch_direct, launch_server

RESULTS = Path(__file__).resolve().parents[1] / "results"
SERVERS = ("modserver", "jupyter_server")
ALL_TARGETS = (*SERVERS, "direct")
ALL_SCENARIOS = ("roundtrip", "iopub", "display", "buffers", "fanout", "start", "many")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kernels",
        description="Kernel message path: modserver vs jupyter_server vs direct ZMQ.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="few iterations and small payloads (smoke test)"
    )
    parser.add_argument(
        "--targets",
        default=",".join(ALL_TARGETS),
        help=f"comma-separated subset of {', '.join(ALL_TARGETS)}",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(ALL_SCENARIOS),
        help=f"comma-separated subset of {', '.join(ALL_SCENARIOS)}",
    )
    parser.add_argument(
        "--json-everywhere",
        action="store_true",
        help="also run the legacy JSON protocol in the throughput and fan-out scenarios",
    )
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="offer permessage-deflate like a browser does (default: no compression)",
    )
    parser.add_argument(
        "--modserver-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment variable for the modserver process (repeatable; experiments)",
    )
    parser.add_argument("--repeats", type=int, help="runs per throughput/fan-out/start row")
    parser.add_argument("--output", type=Path, help="results file (default benchmarks/results/)")
    args = parser.parse_args(argv)
    args.targets = _subset(parser, args.targets, ALL_TARGETS)
    args.scenarios = _subset(parser, args.scenarios, ALL_SCENARIOS)
    return args


def _subset(parser: argparse.ArgumentParser, text: str, allowed: tuple[str, ...]) -> list[str]:
    chosen = [item.strip() for item in text.split(",") if item.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        parser.error(f"unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return chosen


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """Iteration counts and payloads: the issue's numbers, or small ones with --quick."""
    if args.quick:
        plan = dict(
            rt_iterations=30,
            rt_rounds=3,
            iopub_lines=20_000,
            display_count=10,
            buffer_count=10,
            fanout_listeners=10,
            fanout_messages=200,
            repeats=1,
            short_repeats=1,
            start_repeats=1,
            many=20,
        )
    else:
        plan = dict(
            rt_iterations=300,
            rt_rounds=30,
            iopub_lines=200_000,
            display_count=50,
            buffer_count=50,
            fanout_listeners=10,
            fanout_messages=2_000,
            repeats=5,
            short_repeats=9,
            start_repeats=5,
            many=100,
        )
    if args.repeats:
        plan["repeats"] = plan["short_repeats"] = plan["start_repeats"] = args.repeats
    return plan


def versions() -> dict[str, str]:
    found = {}
    for name in (
        "modserver",
        "jupyter_server",
        "ipykernel",
        "jupyter_client",
        "pyzmq",
        "websockets",
        "hypercorn",
        "tornado",
    ):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = sizes(args)
    load_before = os.getloadavg()
    results: dict[str, Any] = {}
    started: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="modserver-bench-") as scratch:
        async with AsyncExitStack() as stack:
            servers: dict[str, ServerTarget] = {}
            direct: DirectTarget | None = None
            for name in args.targets:
                try:
                    if name == "direct":
                        direct = await stack.enter_async_context(launch_direct(Path(scratch)))
                    else:
                        extra = dict(item.split("=", 1) for item in args.modserver_env)
                        servers[name] = await stack.enter_async_context(
                            launch_server(
                                name, Path(scratch), extra if name == "modserver" else None
                            )
                        )
                    started[name] = "ok"
                except Exception as exc:
                    started[name] = describe_error(exc)
                    print(f"! {name} did not start: {started[name]}", file=sys.stderr)

            def rows(protocols: tuple[str, ...]) -> list[Row]:
                chosen = [
                    Row(name, protocol, server=servers[name], deflate=args.deflate)
                    for name in SERVERS
                    if name in servers
                    for protocol in protocols
                ]
                if direct is not None:
                    chosen.append(Row("direct", "zmq", direct=direct))
                return chosen

            streams = ("v1", "json") if args.json_everywhere else ("v1",)
            steps = {
                "roundtrip": lambda: scenarios.roundtrip(
                    rows(("v1", "json")), plan["rt_iterations"], plan["rt_rounds"]
                ),
                "iopub": lambda: scenarios.throughput(
                    rows(streams), scenarios.iopub_workload(plan["iopub_lines"]), plan["repeats"]
                ),
                "display": lambda: scenarios.throughput(
                    rows(streams),
                    scenarios.display_workload(plan["display_count"], 2_000_000),
                    plan["short_repeats"],
                ),
                "buffers": lambda: scenarios.throughput(
                    rows(streams),
                    scenarios.buffers_workload(plan["buffer_count"], 1_000_000),
                    plan["short_repeats"],
                ),
                "fanout": lambda: scenarios.fanout(
                    rows(streams),
                    plan["fanout_listeners"],
                    plan["fanout_messages"],
                    plan["repeats"],
                ),
                "start": lambda: scenarios.kernel_start(rows(("v1",)), plan["start_repeats"]),
                "many": lambda: scenarios.many_websockets(rows(("v1",)), plan["many"]),
            }
            for name in args.scenarios:
                began = time.perf_counter()
                print(f"… {name}", file=sys.stderr, flush=True)
                try:
                    results[name] = await steps[name]()
                except Exception as exc:
                    results[name] = {"error": describe_error(exc)}
                print(f"  {name} took {time.perf_counter() - began:.1f}s", file=sys.stderr)
            for name, server in servers.items():
                if server.process.returncode is not None:
                    started[name] += f"; exited early:\n{server.log_tail()}"
    verdicts = report.evaluate(results)
    return {
        "meta": {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": "python -m benchmarks.kernels " + shlex.join(sys.argv[1:]),
            "quick": args.quick,
            "deflate_offered": args.deflate,
            "modserver_env": args.modserver_env,
            "plan": plan,
            "targets_started": started,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            # The machine is shared: the load around the run says how noisy it was.
            "load_average_1_5_15_before": load_before,
            "load_average_1_5_15_after": os.getloadavg(),
            "versions": versions(),
        },
        "results": results,
        "targets": verdicts,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    summary = anyio.run(run, args)
    output = args.output or RESULTS / ("kernels-quick.json" if args.quick else "kernels.json")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=2) + "\n")
    print(report.table(summary["results"], summary["targets"]))
    problems = report.errors(summary["results"])
    for name, state in summary["meta"]["targets_started"].items():
        if state != "ok":
            problems.insert(0, f"{name} did not start: {state}")
    if problems:
        print("\nErrors:")
        for problem in problems:
            print(f"- {problem}")
    print(f"\nResults written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
