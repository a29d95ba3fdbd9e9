"""Tabulates bench/robot/run's measurements.

stdin: "note<TAB>text" lines and "kind|side|round<TAB>json" lines:
  http|pa|N      robot_http_bench load (checks, cpu_s, seconds, p50_ms, p99_ms, errors)
  http|bb|N      blackbox_exporter through wrk (probes_ok, probes_failed, seconds, cpu_s, p50_ms,
                 p99_ms of /probe as wrk saw it)
  ttfb|T|pa      {"ttfb_ms": [...]}, T = nginx | delay; ttfb|T|curl the same from curl, request i
                 of each side having run right after the other's request i
  browser|S|N    S = pa | pw: runs, failed, seconds, runs_per_min, p50_ms, max_pss_mib, ...
argv: concurrency, http seconds, browser seconds. Exits 0 whatever the figures say.
"""
import json
import statistics
import sys

concurrency, http_s, browser_s = sys.argv[1], sys.argv[2], sys.argv[3]
notes, runs, ttfb = {}, {}, {}
for line in sys.stdin.read().splitlines():
    key, _, value = line.partition("\t")
    if key == "note":
        name, _, text = value.partition(" ")
        notes[name] = text
        continue
    kind, side, round_ = key.split("|")
    r = json.loads(value)
    if kind == "ttfb":
        ttfb.setdefault(side, {}).setdefault(round_, []).append(r["ttfb_ms"])
    else:
        runs.setdefault((kind, side), []).append(r)

# Normalise the two http sides to the same fields.
for r in runs.get(("http", "bb"), []):
    r["checks"], r["failed"] = r["probes_ok"], r["probes_failed"]
for r in runs.get(("http", "pa"), []):
    r["failed"] = sum(r["errors"].values())
for kind in ("http",):
    for side in ("pa", "bb"):
        for r in runs.get((kind, side), []):
            r["per_s"] = r["checks"] / r["seconds"] if r["seconds"] else 0
            r["per_cpu_s"] = r["checks"] / r["cpu_s"] if r["cpu_s"] else 0


def best(kind, side, field):
    rs = runs.get((kind, side), [])
    return max(rs, key=lambda r: r[field]) if rs else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def row(name, ours, theirs, spec, better="higher", unit=""):
    ratio = "-"
    if ours is not None and theirs:
        ratio = f"{(ours / theirs if better == 'higher' else theirs / ours if ours else 0):.2f}x"
    print(f"  {name:<40} {fmt(ours, spec):>11} {fmt(theirs, spec):>11} {ratio:>8}  {unit}")


goals = []

# --- http ---
pa, bb = best("http", "pa", "per_cpu_s"), best("http", "bb", "per_cpu_s")
print(f"bench/robot: robot checks vs blackbox_exporter {notes.get('blackbox', '?')}, same run")
print(f"  GET of a 3-byte static file on nginx, status 200 asserted, {concurrency} at a time, "
      f"{http_s} s, better of 2 alternating rounds")
print(f"  {'measure':<40} {'PrimoART':>11} {'blackbox':>11} {'ratio':>9}")
row("checks per CPU-second", pa and pa["per_cpu_s"], bb and bb["per_cpu_s"], ".0f", unit="higher is better")
row("checks/s", pa and pa["per_s"], bb and bb["per_s"], ".0f", unit="higher is better")
row("CPU seconds used", pa and pa["cpu_s"], bb and bb["cpu_s"], ".2f", "lower", "lower is better")
row("p50 of a check (ms)", pa and pa["p50_ms"], bb and bb["p50_ms"], ".2f", "lower", "lower is better")
row("p99 of a check (ms)", pa and pa["p99_ms"], bb and bb["p99_ms"], ".2f", "lower", "lower is better")
print(f"  failed checks: PrimoART {fmt(pa and pa['failed'], 'd')}"
      f"{' (' + pa['first_error'] + ')' if pa and pa.get('first_error') else ''}, "
      f"blackbox {fmt(bb and bb['failed'], 'd')}")
print("  (our CPU is the whole bench process, load generation included; blackbox's excludes wrk;")
print("   our latency is the step's duration_ms, blackbox's is /probe's round trip as wrk saw it)")
all_pa = [f"{r['per_cpu_s']:.0f}" for r in runs.get(("http", "pa"), [])]
all_bb = [f"{r['per_cpu_s']:.0f}" for r in runs.get(("http", "bb"), [])]
print(f"  per CPU-second, every round: PrimoART {', '.join(all_pa) or '-'}; blackbox {', '.join(all_bb) or '-'}")
goals.append(("≥ 2× blackbox_exporter's checks per CPU-second",
              pa["per_cpu_s"] >= 2 * bb["per_cpu_s"] if pa and bb and bb["per_cpu_s"] else None))

# --- ttfb ---
print("timing fidelity: TTFB of the same request, our http step vs curl -w (starttransfer - connect),")
print("  one request at a time, alternating, a fresh process and connection per request on both sides")
print(f"  {'target':<22} {'n':>4} {'ours med':>9} {'curl med':>9} {'ours mean':>10} {'curl mean':>10} "
      f"{'med |diff|':>11} {'|med diff|':>11}")
labels = {"nginx": "nginx static file", "delay": "webapp /delay?ms=20"}
for target in ("nginx", "delay"):
    t = ttfb.get(target, {})
    ours, theirs = t.get("pa", [[]])[0], t.get("curl", [[]])[0]
    if not ours or not theirs:
        print(f"  {labels[target]:<22} not run")
        if target == "nginx":
            goals.append(("our TTFB within 1 ms of curl's", None))
        continue
    # Neighbours in time are paired: ours i and curl i ran one after the other.
    med_diff = statistics.median(abs(a - b) for a, b in zip(ours, theirs))
    diff_med = abs(statistics.median(ours) - statistics.median(theirs))
    print(f"  {labels[target]:<22} {min(len(ours), len(theirs)):>4} {statistics.median(ours):>9.3f} "
          f"{statistics.median(theirs):>9.3f} {statistics.mean(ours):>10.3f} "
          f"{statistics.mean(theirs):>10.3f} {med_diff:>11.3f} {diff_med:>11.3f}  ms")
    if target == "nginx":
        goals.append(("our TTFB within 1 ms of curl's (nginx: median |diff| of neighbouring requests)",
                      med_diff <= 1.0))
print("  (med |diff|: median over pairs of neighbouring requests; |med diff|: the medians' difference;")
print("   the /delay row is for information: the Python server's own jitter dominates its pairs)")

# --- browser ---
pa, pw = best("browser", "pa", "runs_per_min"), best("browser", "pw", "runs_per_min")
peak = {s: max((r["max_pss_mib"] for r in runs.get(("browser", s), [])), default=None)
        for s in ("pa", "pw")}
print(f"browser: 3-page sign-in journey, one runner, runs back to back, {browser_s} s, better of 2 "
      f"alternating rounds; Playwright {notes.get('playwright', '-')}, Chromium {notes.get('chromium', '?')}")
print(f"  {'measure':<40} {'PrimoART':>11} {'Playwright':>11} {'ratio':>9}")
row("runs per minute", pa and pa["runs_per_min"], pw and pw["runs_per_min"], ".1f", unit="higher is better")
row("p50 of a run (ms)", pa and pa["p50_ms"], pw and pw["p50_ms"], ".0f", "lower", "lower is better")
row("peak PSS, process + Chromium (MiB)", peak["pa"], peak["pw"], ".0f", "lower", "lower is better")
row("mean PSS, process + Chromium (MiB)", pa and pa["mean_pss_mib"], pw and pw["mean_pss_mib"], ".0f",
    "lower", "lower is better")
print(f"  failed runs: PrimoART {fmt(pa and pa['failed'], 'd')}"
      f"{' (' + pa['first_error'] + ')' if pa and pa.get('first_error') else ''}, "
      f"Playwright {fmt(pw and pw['failed'], 'd')}"
      f"{' (' + pw['first_error'] + ')' if pw and pw.get('first_error') else ''}")
print(f"  processes in the tree (max): PrimoART {fmt(pa and pa['max_processes'], 'd')}, "
      f"Playwright {fmt(pw and pw['max_processes'], 'd')}; peak PSS is over both rounds")
goals.append(("≥ 1.0× Playwright's runs per minute",
              pa["runs_per_min"] >= pw["runs_per_min"] if pa and pw else None))
goals.append(("at ≤ Playwright's memory (peak PSS)",
              peak["pa"] <= peak["pw"] if peak["pa"] is not None and peak["pw"] is not None else None))

print("goals (reported, not enforced):")
for text, met in goals:
    print(f"  {'met   ' if met else 'MISSED' if met is not None else 'n/a   '} {text}")
