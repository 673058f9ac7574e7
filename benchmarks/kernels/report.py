"""Turn the scenario results into the targets of issues 5 and 16 and a Markdown table.

Ratios are always taken inside one run: modserver against direct ZMQ (the physical
limit); jupyter_server's ratio against the same reference is shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Result = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """``modserver metric / reference metric`` compared with ``limit``."""

    name: str
    scenario: str
    metric: str
    row: str
    reference: str
    limit: float
    at_most: bool  # True: ratio <= limit; False: ratio >= limit

    @property
    def text(self) -> str:
        sign = "≤" if self.at_most else "≥"
        reference = self.reference.split("/")[0].replace("direct", "direct ZMQ")
        return f"{sign} {self.limit:g}x {reference}"


# Throughput and fan-out are judged on each row's best run: on a shared machine noise
# only ever adds time, so the best run is the closest to what the path itself costs.
# The medians are in the table and the JSON too.
TARGETS = [
    Target("round trip p50 (v1)", "roundtrip", "p50_ms", "modserver/v1", "direct/zmq", 1.10, True),
    Target(
        "round trip p50 (json)", "roundtrip", "p50_ms", "modserver/json", "direct/zmq", 1.10, True
    ),
    Target("iopub throughput", "iopub", "best_mb_per_s", "modserver/v1", "direct/zmq", 0.95, False),
    Target("big messages", "display", "best_mb_per_s", "modserver/v1", "direct/zmq", 0.8, False),
    Target("binary buffers", "buffers", "best_mb_per_s", "modserver/v1", "direct/zmq", 0.8, False),
    Target("fan-out", "fanout", "best_seconds", "modserver/v1", "direct/zmq", 1.3, True),
]


def _value(results: Result, scenario: str, row: str, metric: str) -> float | None:
    value = results.get(scenario, {}).get(row, {}).get(metric)
    return float(value) if isinstance(value, (int, float)) else None


def evaluate(results: Result) -> list[Result]:
    """Each target with its ratio and whether it is met (``None`` when not measurable)."""
    verdicts = []
    for target in TARGETS:
        ours = _value(results, target.scenario, target.row, target.metric)
        theirs = _value(results, target.scenario, target.reference, target.metric)
        ratio = ours / theirs if ours is not None and theirs else None
        met = (
            None
            if ratio is None
            else (ratio <= target.limit if target.at_most else ratio >= target.limit)
        )
        verdicts.append(
            {
                "name": target.name,
                "ratio": ratio,
                "target": target.text,
                "met": met,
                "row": target.row,
                "reference": target.reference,
            }
        )
    return verdicts


def _cell(results: Result, scenario: str, row: str, metric: str, digits: int) -> str:
    entry = results.get(scenario, {}).get(row)
    if entry is None:
        return "-"
    value = entry.get(metric)
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return "error" if "error" in entry else "-"


@dataclass(frozen=True)
class Line:
    """One table line: a metric of a scenario, for the three targets' rows."""

    label: str
    scenario: str
    metric: str
    protocol: str
    digits: int = 1
    target: str | None = None  # the TARGETS name this line is judged by


LINES = [
    Line("round trip p50, v1 (ms)", "roundtrip", "p50_ms", "v1", 2, "round trip p50 (v1)"),
    Line("round trip p99, v1 (ms)", "roundtrip", "p99_ms", "v1", 2),
    Line("round trip p50, JSON (ms)", "roundtrip", "p50_ms", "json", 2, "round trip p50 (json)"),
    Line("round trip p99, JSON (ms)", "roundtrip", "p99_ms", "json", 2),
    Line(
        "round trip: server CPU ms per execute, v1",
        "roundtrip",
        "server_cpu_ms_per_execute",
        "v1",
        3,
    ),
    Line(
        "round trip: server CPU ms per execute, JSON",
        "roundtrip",
        "server_cpu_ms_per_execute",
        "json",
        3,
    ),
    Line(
        "round trip: kernel CPU ms per execute", "roundtrip", "kernel_cpu_ms_per_execute", "v1", 3
    ),
    Line(
        "iopub 20 MB, 200k lines (MB/s, best)",
        "iopub",
        "best_mb_per_s",
        "v1",
        1,
        "iopub throughput",
    ),
    Line("iopub 20 MB, 200k lines (MB/s, median)", "iopub", "mb_per_s", "v1", 1),
    Line(
        "50 display_data x 2 MB (MB/s, best)", "display", "best_mb_per_s", "v1", 1, "big messages"
    ),
    Line("50 display_data x 2 MB (MB/s, median)", "display", "mb_per_s", "v1", 1),
    Line(
        "50 comm msgs x 1 MB buffer (MB/s, best)",
        "buffers",
        "best_mb_per_s",
        "v1",
        1,
        "binary buffers",
    ),
    Line("50 comm msgs x 1 MB buffer (MB/s, median)", "buffers", "mb_per_s", "v1", 1),
    Line("fan-out 10 WS x 2,000 msgs (s, best)", "fanout", "best_seconds", "v1", 3, "fan-out"),
    Line("fan-out 10 WS x 2,000 msgs (s, median)", "fanout", "seconds", "v1", 3),
    Line("fan-out 10 WS x 2,000 msgs (s, worst)", "fanout", "worst_seconds", "v1", 3),
    Line("display: server CPU s per run", "display", "median_server_cpu_s", "v1", 2),
    Line("buffers: server CPU s per run", "buffers", "median_server_cpu_s", "v1", 2),
    Line("fan-out: server CPU s per run", "fanout", "median_server_cpu_s", "v1", 2),
    Line("fan-out: client CPU s per run", "fanout", "median_client_cpu_s", "v1", 2),
    Line("kernel start → kernel_info_reply (s, median)", "start", "seconds", "v1", 2),
    Line("100 WS: all got kernel_info_reply", "many", "all_replied", "v1"),
    Line("100 WS: s until all replied", "many", "seconds_until_all_replied", "v1", 2),
    Line("100 WS: server RSS before (MiB)", "many", "server_rss_mib_before", "v1", 1),
    Line("100 WS: server RSS after (MiB)", "many", "server_rss_mib_after", "v1", 1),
]


def table(results: Result, verdicts: list[Result]) -> str:
    """The Markdown results table (what the README shows)."""
    by_name = {verdict["name"]: verdict for verdict in verdicts}
    header = (
        "| measure | modserver | jupyter_server | direct ZMQ | modserver ratio "
        "| jupyter_server ratio | target | met |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---|---|"]
    for line in LINES:
        ours = _cell(results, line.scenario, f"modserver/{line.protocol}", line.metric, line.digits)
        theirs = _cell(
            results, line.scenario, f"jupyter_server/{line.protocol}", line.metric, line.digits
        )
        direct_row = "direct/zmq"
        direct = (
            "-"
            if line.scenario == "many"
            else _cell(results, line.scenario, direct_row, line.metric, line.digits)
        )
        ratio = js_ratio = target = met = ""
        verdict = by_name.get(line.target or "")
        if verdict is not None:
            target = verdict["target"]
            ratio = _ratio_text(verdict["ratio"])
            met = {True: "✅ met", False: "❌ missed", None: "? n/a"}[verdict["met"]]
            reference = _value(results, line.scenario, verdict["reference"], line.metric)
            js_value = _value(
                results, line.scenario, f"jupyter_server/{line.protocol}", line.metric
            )
            if (
                reference
                and js_value is not None
                and verdict["reference"] != f"jupyter_server/{line.protocol}"
            ):
                js_ratio = _ratio_text(js_value / reference)
        cells = [line.label, ours, theirs, direct, ratio, js_ratio, target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio_text(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def errors(results: Result) -> list[str]:
    """Every recorded error, as ``scenario row: message`` lines."""
    found = []
    for scenario, rows in results.items():
        if not isinstance(rows, dict):
            continue
        for row, entry in rows.items():
            if isinstance(entry, dict) and "error" in entry:
                found.append(f"{scenario} {row}: {entry['error']}")
    return found
