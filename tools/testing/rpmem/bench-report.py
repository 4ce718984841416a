#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a benchmark run (bench_run.sh's raw.jsonl): per workload and
driver the median, min and max, and the ratio rpmem / nd_pmem: the median
of the rounds' ratios (each round measures both drivers back to back, so
its ratio is free of the host's slow drift), with their min..max; written
as results.json, results.md (printed too) and chart.svg (one bar pair per
workload, normalised to nd_pmem's median, with the min..max spread as
whiskers).

usage: bench-report.py RESULTS_DIR [TITLE]
"""
import json
import math
import statistics
import sys
from pathlib import Path

HIGHER_IS_BETTER = {"MiB/s": True, "pages/s": True, "ps/call": False}


def summarise(rows):
    work = {}
    for r in rows:
        w = work.setdefault(r["workload"], {"unit": r["unit"], "drivers": {}, "rounds": {}})
        w["drivers"].setdefault(r["driver"], []).append(r["value"])
        w["rounds"].setdefault(r["round"], {})[r["driver"]] = r["value"]
    out = []
    for name, w in work.items():
        entry = {"workload": name, "unit": w["unit"], "drivers": {}}
        for drv, vals in w["drivers"].items():
            entry["drivers"][drv] = {
                "median": statistics.median(vals),
                "min": min(vals),
                "max": max(vals),
                "rounds": len(vals),
            }
        ratios = [r["rpmem"] / r["nd_pmem"] for r in w["rounds"].values()
                  if r.get("nd_pmem", 0) > 0 and "rpmem" in r]
        if ratios:
            entry["ratio"] = statistics.median(ratios)
            entry["ratio_min"], entry["ratio_max"] = min(ratios), max(ratios)
        out.append(entry)
    return out


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def markdown(summary, title):
    lines = [f"### {title}", "",
             "| workload | unit | nd_pmem median (min..max) | rpmem median (min..max) "
             "| rpmem / nd_pmem, median of rounds (min..max) |",
             "| --- | --- | --- | --- | --- |"]
    for e in summary:
        cells = []
        for drv in ("nd_pmem", "rpmem"):
            s = e["drivers"].get(drv)
            if s is None:
                cells.append("-")
            elif s["max"] == 0:
                cells.append("fails (0)")
            else:
                cells.append(f"{fmt(s['median'])} ({fmt(s['min'])}..{fmt(s['max'])})")
        if "-" in e["drivers"]:
            s = e["drivers"]["-"]
            cells = [f"{fmt(s['median'])} ({fmt(s['min'])}..{fmt(s['max'])})", "(reference)"]
        ratio = f"{e['ratio']:.2f} ({e['ratio_min']:.2f}..{e['ratio_max']:.2f})" if "ratio" in e else "-"
        lines.append(f"| {e['workload']} | {e['unit']} | {cells[0]} | {cells[1]} | {ratio} |")
    lines += lookup_growth(summary)
    return "\n".join(lines) + "\n"


def lookup_growth(summary):
    """How the lookup cost grows with the number of poison records."""
    cost = {}
    for e in summary:
        if e["workload"].startswith("lookup_records_") and "rpmem" in e["drivers"]:
            cost[int(e["workload"].rsplit("_", 1)[1])] = e["drivers"]["rpmem"]["median"]
    if not {1, 512, 10000} <= cost.keys() or min(cost.values()) <= 0:
        return []
    return ["", f"Lookup cost from 1 to 512 records: x{cost[512] / cost[1]:.2f} (flat: x1.00); "
            f"from 512 to 10,000 records: x{cost[10000] / cost[512]:.2f} "
            f"(log n: x{math.log2(10000) / math.log2(512):.2f})."]


def svg(summary, title):
    pairs = [e for e in summary if "ratio" in e]
    row, left, width = 22, 230, 420
    height = 74 + row * len(pairs)
    top = max([1.0] + [e["drivers"][d]["max"] / e["drivers"]["nd_pmem"]["median"]
                       for e in pairs for d in ("nd_pmem", "rpmem")])
    scale = width / (top * 1.05)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">{title}</text>',
           '<text x="10" y="34">bars: median normalised to nd_pmem (grey: nd_pmem, orange: rpmem); '
           'whiskers: min..max; right: rpmem / nd_pmem</text>',
           f'<line x1="{left + scale}" y1="42" x2="{left + scale}" y2="{height - 10}" stroke="#888" '
           'stroke-dasharray="3,3"/>']
    for i, e in enumerate(pairs):
        y = 48 + i * row
        base = e["drivers"]["nd_pmem"]["median"]
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{e["workload"]}</text>')
        for j, (drv, colour) in enumerate((("nd_pmem", "#999"), ("rpmem", "#c50"))):
            s = e["drivers"][drv]
            yy = y + j * 9
            out.append(f'<rect x="{left}" y="{yy}" width="{s["median"] / base * scale:.1f}" height="8" '
                       f'fill="{colour}"/>')
            out.append(f'<line x1="{left + s["min"] / base * scale:.1f}" y1="{yy + 4}" '
                       f'x2="{left + s["max"] / base * scale:.1f}" y2="{yy + 4}" stroke="#000"/>')
        out.append(f'<text x="{left + width + 4}" y="{y + 13}">{e["ratio"]:.2f}</text>')
    out.append('</svg>')
    return "\n".join(out) + "\n"


def main():
    results = Path(sys.argv[1])
    title = sys.argv[2] if len(sys.argv) > 2 else "rpmem / nd_pmem"
    rows = [json.loads(line) for line in (results / "raw.jsonl").read_text().splitlines() if line]
    summary = summarise(rows)
    (results / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    md = markdown(summary, title)
    (results / "results.md").write_text(md)
    (results / "chart.svg").write_text(svg(summary, title))
    print(md)


if __name__ == "__main__":
    main()
