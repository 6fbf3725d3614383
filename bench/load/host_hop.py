"""bench/load/run --only host: what the host channel's ring hop costs next to a TCP hop.

Three dpuguards (one worker each) in front of the same nginx, in alternating wrk rounds:
  direct  dpuguard -> nginx
  relay   dpuguard -> HAProxy `mode tcp` (one thread) -> nginx: a loopback TCP relay hop
  host    dpuguard -> host://bench (the shm ring) -> dpuguard-host serve -> nginx
The target is host >= 1.0x relay in requests/s, round by round. "added" latency is a target's
p50 minus direct's in the same round: what its hop adds per request. CPU is per 10k requests,
dpuguard plus the hop's process (HAProxy, dpuguard-host), from /proc."""
import os
import statistics

from measure import cpu_seconds, wrk

TARGETS = ("direct", "relay", "host")


def start(procs, up, llm):
    """{name: (port, [processes whose CPU counts])}: the three topologies, ready."""
    relay_port, relay = procs.haproxy_relay(up)
    sock = os.path.join(procs.work, "host-sock")
    os.makedirs(sock, exist_ok=True)
    bridge = procs.dpuguard_host("bench", up, sock)
    targets = {}
    port, p = procs.dpuguard(up, llm, tag="-direct")
    targets["direct"] = (port, [p])
    port, p = procs.dpuguard(up, llm, tag="-relay", endpoint=f"127.0.0.1:{relay_port}")
    targets["relay"] = (port, [p, relay])
    port, p = procs.dpuguard(up, llm, tag="-host", endpoint="host://bench",
                             extra=f"host_channel: {{socket_dir: {sock}}}\n")
    targets["host"] = (port, [p, bridge])
    return targets


def rounds(targets, label, path, script, args):
    """Warm-up, then args.rounds alternating wrk runs. {name: [run, ...]}."""
    for port, _ in targets.values():
        wrk(port, path, script, 1, args.connections)
    runs = {name: [] for name in targets}
    for r in range(args.rounds):
        for name, (port, procs) in targets.items():
            cpu0 = sum(cpu_seconds(p.pid) for p in procs)
            res = wrk(port, path, script, args.seconds, args.connections)
            res["cpu_s_per_10k"] = (sum(cpu_seconds(p.pid) for p in procs) - cpu0) / res["requests"] * 1e4
            runs[name].append(res)
            print(f"{label:13} round {r + 1} {name:7} {res['rps']:9.0f} req/s  p50 {res['p50_ms']:.3f} ms  "
                  f"p99 {res['p99_ms']:.3f} ms  cpu/10k {res['cpu_s_per_10k']:.3f} s  errors {res['errors']}",
                  flush=True)
    for name in ("relay", "host"):
        for res, d in zip(runs[name], runs["direct"]):
            res["added_p50_us"] = (res["p50_ms"] - d["p50_ms"]) * 1e3
    return runs


def summarize(runs):
    out = {}
    for name, rs in runs.items():
        e = {f: statistics.median(r[f] for r in rs) for f in ("rps", "p50_ms", "p99_ms", "cpu_s_per_10k")}
        if name != "direct":
            e["added_p50_us"] = statistics.median(r["added_p50_us"] for r in rs)
        e["errors"] = sum(r["errors"] for r in rs)
        e["rounds"] = rs
        out[name] = e
    host = [h["rps"] / r["rps"] for h, r in zip(runs["host"], runs["relay"]) if r["rps"]]
    out["host"]["rps_ratio_rounds"] = host
    out["host"]["rps_ratio_to_relay"] = statistics.median(host) if host else None
    return out


def markdown(workloads, args):
    md = ["| workload | topology | req/s | p50 ms | p99 ms | added p50 µs | CPU s / 10k req (proxy + hop) "
          "| req/s host / relay, by round | median |", "|---|---|---|---|---|---|---|---|---|"]
    for w, res in workloads.items():
        for name in TARGETS:
            e = res[name]
            added = f"{e['added_p50_us']:.0f}" if "added_p50_us" in e else "-"
            by_round = " ".join(f"{x:.2f}" for x in e.get("rps_ratio_rounds", []))
            median = f"{e['rps_ratio_to_relay']:.2f}x" if e.get("rps_ratio_to_relay") else ""
            md.append(f"| {w} | {name} | {e['rps']:.0f} | {e['p50_ms']:.3f} | {e['p99_ms']:.3f} | {added} | "
                      f"{e['cpu_s_per_10k']:.3f} | {by_round} | {median} |")
    md += ["", f"{os.cpu_count()} CPUs; one dpuguard worker each; {args.rounds} alternating rounds of "
               f"{args.seconds} s; wrk -t1 -c{args.connections}; relay = HAProxy mode tcp, one thread; host = "
               f"host:// over the shm ring to dpuguard-host serve; added = p50 minus direct's, same round."]
    return "\n".join(md) + "\n"
