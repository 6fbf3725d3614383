#!/usr/bin/python3
"""bench/load/chart.py RESULTS.json OUT.png: the load run as one PNG, every panel a ratio to
HAProxy (1.0 = HAProxy; lower is better) except the SSE panel, in microseconds added over
direct-to-upstream. Runs on Debian's python3 with python3-matplotlib."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PROXIES = ("haproxy", "dpuguard", "nginx")
COLORS = {"haproxy": "#7f7f7f", "dpuguard": "#1f77b4", "nginx": "#2ca02c"}


def bars(ax, groups, values, title, ylabel, baseline=None):
    width = 0.8 / len(PROXIES)
    for i, proxy in enumerate(PROXIES):
        xs = [g + (i - 1) * width for g in range(len(groups))]
        ys = [values[(group, proxy)] for group in groups]
        rects = ax.bar(xs, ys, width, label=proxy, color=COLORS[proxy])
        ax.bar_label(rects, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    if baseline is not None:
        ax.axhline(baseline, color="black", linewidth=0.8, linestyle="--")


def main():
    result = json.load(open(sys.argv[1]))
    wl = result["workloads"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    tp = ("small_get", "post_4k_json")
    bars(axes[0][0], tp, {(w, p): wl[w][p]["ratio_to_haproxy"]["cpu_s_per_10k"] for w in tp for p in PROXIES},
         "CPU seconds per request, ratio to HAProxy", "x HAProxy (lower is better)", 1.0)
    bars(axes[0][1], tp, {(w, p): wl[w][p]["ratio_to_haproxy"]["p99_ms"] for w in tp for p in PROXIES},
         "p99 latency, ratio to HAProxy", "x HAProxy (lower is better)", 1.0)
    sse = wl["sse"]
    bars(axes[1][0], ("added TTFB p50", "added per event p50"),
         {(f, p): sse[p][k] for f, k in (("added TTFB p50", "added_ttfb_us"),
                                         ("added per event p50", "added_event_p50_us")) for p in PROXIES},
         "SSE: microseconds added over direct-to-upstream", "µs (lower is better)")
    bars(axes[1][1], ("RSS per idle keep-alive conn",),
         {("RSS per idle keep-alive conn", p): wl["idle_keepalive"][p]["rss_per_conn_kb"] for p in PROXIES},
         "Memory per idle keep-alive connection", "KiB (lower is better)")
    axes[0][0].legend(loc="lower left", fontsize=8)
    m = result["machine"]
    fig.suptitle(f"dpuguard vs HAProxy vs nginx, one worker each — {m['cpus']} CPUs ({m['cpu']}), "
                 f"{result['settings']['rounds']} alternating rounds", fontsize=10)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print(f"chart: {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
