"""fuzz/report_html.py: the HTML page of `fuzz/run report` (fuzz/reports/index.html): the
index table of every target, and the exec/s and line-coverage trend of fuzz/trend.tsv drawn
as a chart (trend.png) with matplotlib. Standard library only, like fuzz/run."""
import datetime
import html
import os
import re
import subprocess

# The chart needs matplotlib from Debian (python3-matplotlib), which only Debian's own
# interpreter sees; this script itself runs on any python3 (as bench/load/run does).
CHART_PYTHON = "/usr/bin/python3"
CHART_SCRIPT = r"""
import csv, datetime, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
targets = sorted({r["target"] for r in rows})
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
for t in targets:
    rs = [r for r in rows if r["target"] == t]
    when = [datetime.datetime.fromisoformat(r["date"]) for r in rs]
    ax1.plot(when, [max(float(r["exec_per_s"]), 1) for r in rs], marker="o", label=t)
    ax2.plot(when, [float(r["line_cov"]) for r in rs], marker="o", label=t)
ax1.set_yscale("log"); ax1.set_ylabel("exec/s (log)"); ax1.grid(True, alpha=0.3)
ax1.set_title("fuzz/run continuous: exec/s and line coverage of each target's own sources per slot")
ax2.set_ylabel("line coverage %"); ax2.grid(True, alpha=0.3); ax2.axhline(85, color="grey", ls="--", lw=1)
ax2.legend(fontsize=7, ncol=3, loc="lower right")
fig.autofmt_xdate(); fig.tight_layout(); fig.savefig(sys.argv[2], dpi=90)
"""


def write_html(index_md, reports, trend_path, commit):
    """fuzz/reports/index.html: the index table, the trend chart and the trend's last lines."""
    png = os.path.join(reports, "trend.png")
    chart = ""
    if os.path.exists(trend_path) and os.path.exists(CHART_PYTHON):
        r = subprocess.run([CHART_PYTHON, "-c", CHART_SCRIPT, trend_path, png], capture_output=True, text=True)
        chart = ('<img src="trend.png" alt="exec/s and coverage trend" style="max-width:100%">' if r.returncode == 0
                 else f"<p>chart not drawn (matplotlib: {html.escape(r.stderr.strip()[-300:])})</p>")
    table = [l for l in index_md if l.startswith("|")]
    rows = []
    for i, line in enumerate(table):
        if i == 1:
            continue  # the markdown separator
        cells = [c.strip() for c in line.strip("|").split("|")]
        cells = [re.sub(r"\[`([^`]+)`\]\(([^)]+)\)", r'<a href="\2">\1</a>', html.escape(c, quote=False)) for c in cells]
        tag = "th" if i == 0 else "td"
        rows.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
    trend = open(trend_path).read().splitlines() if os.path.exists(trend_path) else []
    last = "\n".join(trend[:1] + trend[-40:])
    page = f"""<!doctype html><meta charset="utf-8"><title>dpuguard fuzzing report</title>
<style>body{{font:14px sans-serif;margin:2em;max-width:1100px}}td,th{{border:1px solid #ccc;padding:3px 8px}}
table{{border-collapse:collapse}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}</style>
<h1>dpuguard fuzzing</h1>
<p>Generated {datetime.datetime.now().isoformat(timespec='seconds')} at commit {commit} by <code>fuzz/run report</code>.
Each target's page (linked) lists every input with its outcome and tags, coverage per file, and the accepted inputs
with a suspicious tag (must be none). Coverage is of each target's own sources (<code>fuzz/targets.tsv</code>).</p>
<table>{''.join(rows)}</table>
<h2>Trend</h2>{chart}
<p>From <code>fuzz/trend.tsv</code> (one line per continuous slot); the last lines:</p><pre>{html.escape(last)}</pre>
"""
    with open(os.path.join(reports, "index.html"), "w") as f:
        f.write(page)


