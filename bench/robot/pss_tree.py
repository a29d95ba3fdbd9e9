"""Memory of a process and everything it started, for bench/robot/run's browser comparison: the
same sampler for both sides (robot_browser_bench and its Chromium; node and Playwright's
Chromium), outside both, so neither measures itself differently.

    python3 pss_tree.py PID [INTERVAL_S]

Every INTERVAL_S (0.5) seconds, until PID exits (or SIGTERM): sums the PSS (proportional set
size: resident memory with each shared page split between the processes sharing it, so shared
libraries and Chromium's shared memory are counted once in total) from /proc/<pid>/smaps_rollup
over PID and its descendants (by parent). Not counted, on either side: Chromium's two crashpad
handlers (about 4 MiB resident each), which re-parent themselves to init in their own session
and keep no link to the browser that a reader of /proc can follow for both launchers alike.
Prints one JSON line: max_pss_mib, mean_pss_mib, samples, max_processes.
"""
import json
import os
import signal
import sys
import time


def processes():
    """(pid, ppid) of every process now."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        out.append((int(name), int(fields[1])))
    return out


def tree(root):
    children = {}
    for pid, ppid in processes():
        children.setdefault(ppid, []).append(pid)
    members, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in members:
            members.add(pid)
            todo.extend(children.get(pid, []))
    return members


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0  # gone, or a kernel thread


def main():
    root = int(sys.argv[1])
    interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    samples, peak, total, max_procs = 0, 0, 0, 0
    while not stop and os.path.exists(f"/proc/{root}/stat"):
        try:
            with open(f"/proc/{root}/stat") as f:
                if f.read().split(") ")[-1].startswith("Z"):
                    break  # exited, not yet reaped
        except OSError:
            break
        members = tree(root)
        kib = sum(pss_kib(pid) for pid in members)
        samples += 1
        total += kib
        peak = max(peak, kib)
        max_procs = max(max_procs, len(members))
        time.sleep(interval)
    print(json.dumps({"max_pss_mib": peak / 1024, "mean_pss_mib": total / 1024 / max(samples, 1),
                      "samples": samples, "max_processes": max_procs}))


if __name__ == "__main__":
    main()
