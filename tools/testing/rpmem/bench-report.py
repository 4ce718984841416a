#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise benchmark runs (bench_run.sh's raw.jsonl, one per clock):
per workload, poison level and driver every round's value, their median
and spread, the mean latency, and the ratio rpmem / nd_pmem (the median of
the rounds' ratios: each round measures both drivers back to back); then the
poison store's scale run. Written as results.json, results.md (printed too)
and chart.svg (one bar pair per workload, normalised to nd_pmem).

usage: bench-report.py RESULTS_DIR TITLE [CLOCK=DIR ...]
  CLOCK=DIR: a run's folder (holding raw.jsonl), e.g. icount=RESULTS/icount;
  without any, RESULTS_DIR/raw.jsonl as one run named "run".
"""
import json
import statistics
import sys
from pathlib import Path

HIGHER_IS_BETTER = {"IOPS": True, "MiB/s": True, "pages/s": True}
SCALE_PREFIXES = ("inject_", "memory_", "lookup_", "repair_write_", "clean_write_")
PROBE_PREFIX = "probe_"


def spread(vals):
    """(max - min) / median, in percent."""
    med = statistics.median(vals)
    return (max(vals) - min(vals)) / med * 100 if med else 0.0


def summarise(rows):
    work = {}
    for r in rows:
        if r["workload"].startswith(SCALE_PREFIXES + (PROBE_PREFIX,)):
            continue
        key = (r["workload"], r.get("records", 0))
        w = work.setdefault(key, {"unit": r["unit"], "drivers": {}, "rounds": {}, "lat": {}})
        w["drivers"].setdefault(r["driver"], []).append(r["value"])
        if r.get("lat_ns"):
            w["lat"].setdefault(r["driver"], []).append(r["lat_ns"])
        w["rounds"].setdefault(r["round"], {})[r["driver"]] = r["value"]
    out = []
    for (name, records), w in work.items():
        entry = {"workload": name, "records": records, "unit": w["unit"], "drivers": {}}
        for drv, vals in w["drivers"].items():
            entry["drivers"][drv] = {
                "rounds": vals,
                "median": statistics.median(vals),
                "spread_pct": spread(vals),
            }
            if drv in w["lat"]:
                entry["drivers"][drv]["lat_ns"] = statistics.median(w["lat"][drv])
        higher = HIGHER_IS_BETTER.get(w["unit"], True)
        ratios = [(r["rpmem"] / r["nd_pmem"]) if higher else (r["nd_pmem"] / r["rpmem"])
                  for r in w["rounds"].values()
                  if r.get("nd_pmem", 0) > 0 and r.get("rpmem", 0) > 0]
        if ratios:
            entry["ratio"] = statistics.median(ratios)
            entry["ratio_min"], entry["ratio_max"] = min(ratios), max(ratios)
        out.append(entry)
    return out


def scale_table(rows):
    """The poison store's scale run: one row per record count."""
    by_n = {}
    for r in rows:
        name = r["workload"]
        if not name.startswith(SCALE_PREFIXES):
            continue
        kind, n = name.rsplit("_records_", 1)
        by_n.setdefault(int(n), {}).setdefault(kind, []).append(r["value"])
    return {n: {k: statistics.median(v) for k, v in kinds.items()} for n, kinds in sorted(by_n.items())}


def probe_table(rows):
    """The probe run: (size, mode, ranges) -> {driver: (ns, KiB)}."""
    out = {}
    for r in rows:
        name = r["workload"]
        if not name.startswith(PROBE_PREFIX):
            continue
        mem = name.startswith("probe_memory_")
        size, mode = name.split("_")[-2:]
        slot = out.setdefault((int(size.rstrip("G")), mode, r["records"]), {}).setdefault(r["driver"], [0, 0])
        slot[1 if mem else 0] = r["value"]
    return dict(sorted(out.items()))


def probe_markdown(probe):
    if not probe:
        return []
    out = ["", "Probe: one bind of a namespace (guest time, instruction-clocked) and the memory it took "
           "(MemFree before less after). fsdax map=mem keeps the struct pages in RAM, map=dev on the "
           "device. Ranges: known poison on the bus when the namespace binds.", "",
           "| size | mode | ranges on the bus | nd_pmem ms | rpmem ms | ratio | nd_pmem MiB | rpmem MiB |",
           "| --: | --- | --: | --: | --: | --: | --: | --: |"]
    for (size, mode, ranges), d in probe.items():
        nd, rp = d.get("nd_pmem", [0, 0]), d.get("rpmem", [0, 0])
        ratio = f"{nd[0] / rp[0]:.3f}" if nd[0] > 0 and rp[0] > 0 else "-"
        out.append(f"| {size} GiB | {'raw' if mode == 'raw' else 'fsdax, map=' + mode} | {ranges:,} "
                   f"| {nd[0] / 1e6:,.2f} | {rp[0] / 1e6:,.2f} | {ratio} | {nd[1] / 1024:,.1f} "
                   f"| {rp[1] / 1024:,.1f} |")
    return out


def fmt(v):
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


def cell(s):
    if s is None:
        return "-"
    if max(s["rounds"]) == 0:
        return "fails (0)"
    return " / ".join(fmt(v) for v in s["rounds"]) + f" ({s['spread_pct']:.2f}%)"


def markdown(runs, title):
    lines = [f"### {title}", ""]
    for clock, (summary, scale, probe) in runs.items():
        if not summary and not scale:
            lines += [f"#### {clock}"] + probe_markdown(probe) + [""]
            continue
        lines += [f"#### {clock}", "",
                  "Each driver's rounds (spread: (max - min) / median); ratio: rpmem / nd_pmem "
                  "(for latencies and costs: nd_pmem / rpmem), so above 1.00 rpmem is cheaper.", "",
                  "| workload | records | unit | nd_pmem rounds (spread) | rpmem rounds (spread) "
                  "| mean latency ns, nd_pmem / rpmem | ratio (min..max) |",
                  "| --- | --: | --- | --- | --- | --- | --- |"]
        for e in summary:
            d = e["drivers"]
            if "-" in d:
                lines.append(f"| {e['workload']} | - | {e['unit']} | {cell(d['-'])} | (reference) | - | - |")
                continue
            lat = "-"
            if "lat_ns" in d.get("nd_pmem", {}) or "lat_ns" in d.get("rpmem", {}):
                lat = " / ".join(fmt(d[x]["lat_ns"]) if "lat_ns" in d.get(x, {}) else "-"
                                 for x in ("nd_pmem", "rpmem"))
            ratio = f"{e['ratio']:.3f} ({e['ratio_min']:.3f}..{e['ratio_max']:.3f})" if "ratio" in e else "-"
            lines.append(f"| {e['workload']} | {e['records']:,} | {e['unit']} | {cell(d.get('nd_pmem'))} "
                         f"| {cell(d.get('rpmem'))} | {lat} | {ratio} |")
        worst = max((s["spread_pct"] for e in summary for s in e["drivers"].values()
                     if len(s["rounds"]) > 1 and max(s["rounds"]) > 0), default=None)
        if worst is not None:
            lines += ["", f"Largest spread of one driver's rounds: {worst:.2f}%."]
        lines += matrix_markdown(summary)
        lines += recovery_markdown(summary)
        lines += scale_markdown(scale)
        lines.append("")
    return "\n".join(lines) + "\n"


def matrix_markdown(summary):
    """The ratios of every workload at every poison level, side by side."""
    levels = sorted({e["records"] for e in summary if "ratio" in e or "rpmem" in e["drivers"]})
    if len(levels) < 2:
        return []
    names = list(dict.fromkeys(e["workload"] for e in summary if "-" not in e["drivers"]))
    at = {(e["workload"], e["records"]): e for e in summary}
    out = ["", "Ratios by poison level (rpmem / nd_pmem; at levels nd_pmem cannot hold, marked *, "
           "rpmem against nd_pmem at the largest level it holds):", "",
           "| workload | " + " | ".join(f"{n:,} records" for n in levels) + " |",
           "| --- |" + " --: |" * len(levels)]
    for name in names:
        cells = []
        for n in levels:
            e = at.get((name, n))
            if e is None:
                cells.append("-")
            elif "ratio" in e:
                cells.append(f"{e['ratio']:.3f}")
            elif "rpmem" in e["drivers"] and (ref := nd_pmem_below(at, name, n)):
                cells.append(f"{e['drivers']['rpmem']['median'] / ref:.3f}*")
            else:
                cells.append("-")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def nd_pmem_below(at, name, n):
    """nd_pmem's median of NAME at the largest level below N it ran."""
    runs = [(m, e["drivers"]["nd_pmem"]["median"]) for (w, m), e in at.items()
            if w == name and m < n and e["drivers"].get("nd_pmem", {}).get("median", 0) > 0]
    return max(runs)[1] if runs else None


def recovery_markdown(summary):
    """What a recovery write costs against the same write without poison."""
    rate = {(e["workload"], d): s["median"] for e in summary if e["records"] == 0
            for d, s in e["drivers"].items()}
    out = []
    for fs, bus in (("xfs", "NFIT"), ("ext4", "e820")):
        cells = []
        for drv in ("nd_pmem", "rpmem"):
            rec, plain = rate.get((f"recovery_{fs}", drv), 0), rate.get((f"plain_write_{fs}", drv), 0)
            if plain <= 0:
                continue
            cells.append(f"{drv} " + (f"x{plain / rec:.2f}" if rec > 0 else "fails"))
        if cells:
            out.append(f"Recovery write over poisoned pages on {bus} ({fs}), time against the same "
                       f"overwrite without poison: {', '.join(cells)}.")
    return [""] + out if out else []


def scale_markdown(scale):
    if not scale:
        return []
    base = scale.get(512, {}).get("lookup") or scale.get(min(scale), {}).get("lookup")
    out = ["", "Poison store at scale (rpmem): records over the whole raw namespace.", "",
           "| records | inject ascending, ns/record | inject scattered, ns/record | memory, bytes/record "
           "| lookup, ns | lookup / 512-record lookup | 4 KiB write repairing a record, ns "
           "| 4 KiB write, clean page, ns |",
           "| --: | --: | --: | --: | --: | --: | --: | --: |"]
    for n, k in scale.items():
        def v(name, div=1.0):
            return fmt(k[name] / div) if name in k else "-"
        rel = f"{k['lookup'] / base:.2f}" if base and "lookup" in k else "-"
        out.append(f"| {n:,} | {v('inject_asc')} | {v('inject_random')} | {v('memory')} "
                   f"| {v('lookup', 1000)} | {rel} | {v('repair_write')} | {v('clean_write')} |")
    return out


def svg(summary, title):
    pairs = [e for e in summary if "ratio" in e]
    row, left, width = 22, 300, 420
    height = 74 + row * len(pairs)
    top = max([1.0] + [max(e["drivers"][d]["rounds"]) / e["drivers"]["nd_pmem"]["median"]
                       for e in pairs for d in ("nd_pmem", "rpmem")])
    scale = width / (top * 1.05)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">{title}</text>',
           '<text x="10" y="34">bars: median normalised to nd_pmem (grey: nd_pmem, orange: rpmem); '
           'whiskers: min..max of the rounds; right: ratio (above 1: rpmem cheaper)</text>',
           f'<line x1="{left + scale}" y1="42" x2="{left + scale}" y2="{height - 10}" stroke="#888" '
           'stroke-dasharray="3,3"/>']
    for i, e in enumerate(pairs):
        y = 48 + i * row
        base = e["drivers"]["nd_pmem"]["median"]
        label = f'{e["workload"]}, {e["records"]:,} records'
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{label}</text>')
        for j, (drv, colour) in enumerate((("nd_pmem", "#999"), ("rpmem", "#c50"))):
            s = e["drivers"][drv]
            yy = y + j * 9
            out.append(f'<rect x="{left}" y="{yy}" width="{s["median"] / base * scale:.1f}" height="8" '
                       f'fill="{colour}"/>')
            out.append(f'<line x1="{left + min(s["rounds"]) / base * scale:.1f}" y1="{yy + 4}" '
                       f'x2="{left + max(s["rounds"]) / base * scale:.1f}" y2="{yy + 4}" stroke="#000"/>')
        out.append(f'<text x="{left + width + 4}" y="{y + 13}">{e["ratio"]:.3f}</text>')
    out.append('</svg>')
    return "\n".join(out) + "\n"


def main():
    results = Path(sys.argv[1])
    title = sys.argv[2] if len(sys.argv) > 2 else "rpmem / nd_pmem"
    dirs = dict(a.split("=", 1) for a in sys.argv[3:]) or {"run": str(results)}
    runs = {}
    for clock, d in dirs.items():
        raw = Path(d) / "raw.jsonl"
        if not raw.exists():
            continue
        rows = [json.loads(line) for line in raw.read_text().splitlines() if line]
        runs[clock] = (summarise(rows), scale_table(rows), probe_table(rows))
    if not runs:
        sys.exit("bench-report: no raw.jsonl found")
    (results / "results.json").write_text(json.dumps(
        {c: {"workloads": s, "scale": sc, "probe": [{"size_gib": k[0], "mode": k[1], "ranges": k[2],
                                                     "drivers": v} for k, v in p.items()]}
         for c, (s, sc, p) in runs.items()}, indent=1) + "\n")
    md = markdown(runs, title)
    (results / "results.md").write_text(md)
    first = next(iter(runs))
    (results / "chart.svg").write_text(svg(runs[first][0], f"{title} ({first})"))
    print(md)


if __name__ == "__main__":
    main()
