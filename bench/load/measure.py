"""Measurements shared by the load runs (bench/load/run, bench/load/inspection): wrk rounds,
CPU seconds and peak RSS of a process from /proc, ratios taken round by round."""
import json
import os
import re
import statistics
import subprocess

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def peak_rss_kb(pid):
    m = re.search(r"VmHWM:\s+(\d+) kB", open(f"/proc/{pid}/status").read())
    return int(m.group(1)) if m else 0


def post_script(work):
    body = json.dumps({"model": "m", "max_tokens": 64, "stream": False,
                       "messages": [{"role": "user", "content": "x" * 3900}]})
    path = os.path.join(work, "post.lua")
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(body)}\n")
    return path


def wrk(port, path, script, seconds, connections, cpus=None, scheme="http"):
    """`cpus`: a taskset CPU list to pin wrk to (pinned mode), or None. `scheme`: https for TLS."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cpus:
        args = ["taskset", "-c", cpus, *args]
    if script:
        args += ["-s", script]
    out = subprocess.run([*args, f"{scheme}://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    return {"rps": rps, "requests": total, "p50_ms": pct(50), "p99_ms": pct(99),
            "errors": int(errors.group(1)) if errors else 0}


def ratio_rounds(runs, base_runs, figure):
    """Median over rounds of this round's figure / the baseline's figure in the same round."""
    ratios = [r[figure] / h[figure] for r, h in zip(runs, base_runs) if h[figure]]
    return statistics.median(ratios) if ratios else None


def wrk_rounds(targets, label, path, script, args, scheme="http"):
    """Warm-up, then args.rounds alternating wrk runs over `targets` ({name: (port, process)}),
    each with the CPU seconds its process spent per 10k requests. Returns {name: [run, ...]}."""
    cpus = getattr(args, "load_cpus", None)  # pinned mode: wrk's CPUs
    for port, _ in targets.values():  # connections, pools, caches
        wrk(port, path, script, 1, args.connections, cpus, scheme)
    runs = {name: [] for name in targets}
    for r in range(args.rounds):
        for name, (port, proc) in targets.items():
            cpu0 = cpu_seconds(proc.pid)
            res = wrk(port, path, script, args.seconds, args.connections, cpus, scheme)
            res["cpu_s_per_10k"] = (cpu_seconds(proc.pid) - cpu0) / res["requests"] * 10000
            runs[name].append(res)
            print(f"{label:13} round {r + 1} {name:9} {res['rps']:9.0f} req/s  p50 {res['p50_ms']:.3f} ms  "
                  f"p99 {res['p99_ms']:.3f} ms  cpu/10k {res['cpu_s_per_10k']:.3f} s  errors {res['errors']}",
                  flush=True)
    return runs


def summarize(runs, baseline, ratio_key):
    """Medians per target, ratios to `baseline` taken round by round (under `ratio_key`)."""
    figures = ("rps", "p50_ms", "p99_ms", "cpu_s_per_10k")
    out = {}
    for name, rs in runs.items():
        entry = {f: statistics.median(r[f] for r in rs) for f in figures}
        entry[ratio_key] = {f: ratio_rounds(rs, runs[baseline], f) for f in figures}
        entry["errors"] = sum(r["errors"] for r in rs)
        entry["rounds"] = rs
        out[name] = entry
    return out
