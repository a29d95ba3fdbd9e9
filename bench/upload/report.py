"""Tabulates bench/upload/run's measurements.

stdin: "note<TAB>text" lines and "side|phase|round<TAB>json" lines, side = peer | pa | pg (PrimoART
on PostgreSQL), phase = max | rate, json = one upload_bench line. argv: peer workers, clients,
the fixed rate. Exits 0 whatever the figures say.
"""
import json
import sys

workers, clients, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
notes, runs = [], {}
for line in sys.stdin.read().splitlines():
    key, _, value = line.partition("\t")
    if key == "note":
        notes.append(value)
        continue
    side, phase, _ = key.split("|")
    result = json.loads(value)
    best = runs.get((side, phase))
    if best is None or result["results_per_s"] > best["results_per_s"]:
        runs[(side, phase)] = result


def errors(r):
    if r is None:
        return "not run"
    e = r["errors"]
    return ", ".join(f"{k} x{v}" for k, v in sorted(e.items())) if e else "none"


def fmt(r, field, spec):
    if r is None or (field != "results_per_s" and r["ok"] == 0):
        return "-"
    return format(r[field], spec)


peer, pa, pg = runs.get(("peer", "max")), runs.get(("pa", "max")), runs.get(("pg", "max"))
pa_rate, pg_rate = runs.get(("pa", "rate")), runs.get(("pg", "rate"))
body = next((r["body_bytes"] for r in runs.values() if r), 0)

print(f"bench/upload: 10-step results ({body / 1024:.1f} KiB JSON each), {clients} keep-alive clients, "
      "durable acknowledgement, same run")
for n in notes:
    if n.startswith("peer-versions"):
        print(f"  peer: {n.split(' ', 1)[1]}, {workers} uvicorn worker(s), SQLite WAL synchronous=FULL")
print(f"  {'measure':<34} {'PrimoART':>11} {'FastAPI':>11} {'ratio':>9}")


def row(name, field, spec, ratio_better):
    ours, theirs = fmt(pa, field, spec), fmt(peer, field, spec)
    ratio = "-"
    if pa and peer and pa["ok"] and peer["ok"] and peer[field]:
        value = pa[field] / peer[field] if ratio_better == "higher" else peer[field] / pa[field]
        ratio = f"{value:.1f}x"
    print(f"  {name:<34} {ours:>11} {theirs:>11} {ratio:>9}")


row("max: results/s", "results_per_s", ".0f", "higher")
row("max: p50 latency (ms)", "p50_ms", ".2f", "lower")
row("max: p99 latency (ms)", "p99_ms", ".2f", "lower")
row("max: max latency (ms)", "max_ms", ".1f", "lower")
print(f"  {'max: errors':<34} PrimoART: {errors(pa)}; FastAPI: {errors(peer)}")
print(f"  {f'PrimoART at {rate:.0f}/s: p50 / p99 (ms)':<34} "
      f"{fmt(pa_rate, 'p50_ms', '.2f')} / {fmt(pa_rate, 'p99_ms', '.2f')}   "
      f"achieved {fmt(pa_rate, 'results_per_s', '.0f')}/s, errors: {errors(pa_rate)}")
print("  (ratio: how many times better PrimoART is; for latencies, peer / PrimoART)")

if pg or pg_rate:
    print("PrimoART with PostgreSQL as the relational store:")
    print(f"  max: {fmt(pg, 'results_per_s', '.0f')} results/s, p50 {fmt(pg, 'p50_ms', '.2f')} ms, "
          f"p99 {fmt(pg, 'p99_ms', '.2f')} ms; errors: {errors(pg)}")
    print(f"  at {rate:.0f}/s: p50 {fmt(pg_rate, 'p50_ms', '.2f')} ms, "
          f"p99 {fmt(pg_rate, 'p99_ms', '.2f')} ms, achieved {fmt(pg_rate, 'results_per_s', '.0f')}/s; "
          f"errors: {errors(pg_rate)}")

print("goals (reported, not enforced):")


def goal(text, met):
    print(f"  {'met   ' if met else 'MISSED' if met is not None else 'n/a   '} {text}")


if pa and pa["ok"] and peer and peer["ok"]:
    goal(f">= 20x the peer's results/s ({pa['results_per_s'] / peer['results_per_s']:.1f}x)",
         pa["results_per_s"] >= 20 * peer["results_per_s"])
else:
    goal(">= 20x the peer's results/s (no successful PrimoART run)", None)
goal(f">= 10 000 results/s ({fmt(pa, 'results_per_s', '.0f')})",
     pa["results_per_s"] >= 10000 if pa and pa["ok"] else None)
goal(f"p99 <= 20 ms at {rate:.0f} results/s ({fmt(pa_rate, 'p99_ms', '.2f')} ms, "
     f"errors: {errors(pa_rate)})",
     not pa_rate["errors"] and pa_rate["p99_ms"] <= 20 if pa_rate and pa_rate["ok"] else None)

for side, name in (("pa", "PrimoART"), ("pg", "PrimoART on PostgreSQL"), ("peer", "the peer")):
    r = runs.get((side, "max"))
    if r is not None and r["ok"] == 0:
        codes = ", ".join(sorted(r["errors"])) or "nothing"
        hint = " — the upload route does not exist (yet?)" if "404" in r["errors"] else ""
        print(f"WARNING: {name} accepted no result: every request ended in {codes}{hint}")
for n in notes:
    if not n.startswith("peer-versions"):
        print(f"note: {n}")
