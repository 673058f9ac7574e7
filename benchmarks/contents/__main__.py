"""Contents benchmark: modserver vs jupyter_server, same folder, same client, same run.

Run: ``python -m benchmarks.contents [--quick] [--files N] [--runs N]``. Writes
``benchmarks/results/contents.json`` (``contents-quick.json`` with ``--quick``) and prints
a table of both servers' figures, their ratio and the issue's target for each.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.contents.scenarios import measure, prepare
from benchmarks.contents.servers import running

RESULTS = Path(__file__).resolve().parents[1] / "results"

# metric: (label, unit, lower is better, target ratio modserver/jupyter_server)
METRICS = {
    "listing_s": ("folder listing", "s", True, 0.1),
    "notebook_get_s": ("notebook GET", "s", True, 0.5),
    "notebook_put_s": ("notebook PUT", "s", True, 0.5),
    "small_file_api_rps": ("small file /api/contents", "req/s", False, 2.0),
    "small_file_api_per_cpu_s": ("  same, per server CPU second", "req/s", False, 2.0),
    "small_file_files_rps": ("small file /files", "req/s", False, 2.0),
    "small_file_files_per_cpu_s": ("  same, per server CPU second", "req/s", False, 2.0),
}


def table(results: dict[str, dict[str, float]], ratios: dict[str, float]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| metric | jupyter_server | modserver | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for key, (label, unit, lower, target) in METRICS.items():
        ours, theirs, ratio = results["modserver"][key], results["jupyter_server"][key], ratios[key]
        met = ratio <= target if lower else ratio >= target
        fmt = (lambda v: f"{v * 1000:.1f} ms") if unit == "s" else (lambda v: f"{v:.0f} req/s")
        sign = "≤" if lower else "≥"
        lines.append(
            f"| {label} | {fmt(theirs)} | {fmt(ours)} | {ratio:.3f}x | {sign} {target}x | "
            f"{'yes' if met else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contents")
    parser.add_argument("--quick", action="store_true", help="small folder, fewer runs")
    parser.add_argument("--files", type=int, default=None, help="files in the listed folder")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per measurement")
    parser.add_argument("--notebook-mb", type=float, default=5.0)
    parser.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="small-file rate client: lean prepared requests (default) or httpx, whose "
        "per-request CPU exceeds either server's",
    )
    args = parser.parse_args(argv)
    files = args.files or (1000 if args.quick else 10_000)
    runs = args.runs or (2 if args.quick else 5)
    rate_seconds = 2.0 if args.quick else 8.0

    with tempfile.TemporaryDirectory(prefix="bench-contents-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        workload = prepare(root, files, args.notebook_mb)
        # Both servers run side by side (an idle server costs nothing) and every
        # measurement alternates between them, so load from elsewhere hits both alike.
        with (
            running("jupyter_server", root, Path(tmp)) as jupyter,
            running("modserver", root, Path(tmp)) as ours,
        ):
            print("measuring jupyter_server and modserver, interleaved ...", flush=True)
            results = measure(
                {"jupyter_server": jupyter, "modserver": ours}, runs, rate_seconds, args.client
            )
    ratios = {key: results["modserver"][key] / results["jupyter_server"][key] for key in METRICS}
    report = {
        "when": datetime.now(timezone.utc).isoformat(),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "workload": {
            **workload,
            "runs": runs,
            "rate_seconds": rate_seconds,
            "concurrency": 8,
            "client_processes": 2,
            "rate_client": args.client,
        },
        "results": results,
        "ratios": ratios,
        "targets": {key: spec[3] for key, spec in METRICS.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("contents-quick.json" if args.quick else "contents.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results, ratios))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
