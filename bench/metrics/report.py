"""Tabulates bench/metrics/run's measurements (stdin: embedded ingest JSON, VictoriaMetrics ingest
JSON, then one "side|query|round<TAB>json" line per query run)."""
import json
import sys

lines = sys.stdin.read().splitlines()
pa, vm = json.loads(lines[0]), json.loads(lines[1])
queries = {}
for line in lines[2:]:
    key, value = line.split("\t")
    side, query, _ = key.split("|")
    result = json.loads(value)
    best = queries.setdefault(query, {}).get(side)
    if best is None or result["p50_ms"] < best["p50_ms"]:
        queries[query][side] = result


def row(name, ours, theirs, unit, better):
    ratio = ours / theirs if theirs else float("nan")
    print(f"  {name:<46} {ours:>11.3f} {theirs:>11.3f} {ratio:>7.2f}x  {unit}, {better} is better")


series, samples = pa["series"], pa["samples"]
print(f"bench/metrics: {series} series, {samples:,} samples; embedded vs VictoriaMetrics 1.79, same run")
print(f"  {'measure':<46} {'embedded':>11} {'VictoriaM.':>11} {'ratio':>8}")
row("ingest: samples/s, one writer (millions)", samples / pa["wall_s"] / 1e6,
    vm["samples"] / vm["wall_s"] / 1e6, "M/s", "higher")
row("ingest: samples per CPU-second (millions)", samples / pa["cpu_s"] / 1e6,
    vm["samples"] / vm["cpu_s"] / 1e6, "M/CPU-s", "higher")
row("disk: bytes per sample after compaction", pa["disk_bytes"] / samples,
    vm["disk_bytes"] / vm["samples"], "B", "lower")
row("memory: RSS growth per active series (KiB)", pa["rss_delta_bytes"] / series / 1024,
    vm["rss_delta_bytes"] / vm["series"] / 1024, "KiB", "lower")
for query, sides in queries.items():
    for p in ("p50_ms", "p99_ms"):
        row(f"{query[:38]} {p[:3]}", sides["pa"][p], sides["vm"][p], "ms", "lower")
    if sides["pa"]["series"] != sides["vm"]["series"]:
        print(f"  NOTE: {query}: {sides['pa']['series']} series from us, "
              f"{sides['vm']['series']} from VictoriaMetrics")
print(f"  compaction/merge time: embedded {pa['compact_s']:.1f} s, VictoriaMetrics {vm['compact_s']:.1f} s")
