"""`make demo`'s tour, line by line. scripts/demo starts the mock LLM and dpuguard with
config/examples/demo.yaml and prints a numbered tour of curl lines; this test reads that output,
runs exactly the lines printed, in order, against those processes, checks what each shows
(status codes, rule ids, events arriving one by one, the budget cut, the completion cut, the
edges, the flow log), then stops the demo with Ctrl-C (SIGINT to its process group) and checks
it stopped cleanly.

The demo binds fixed ports (8000, 8080, 9901): ctest runs this in a network namespace of its
own (in_private_net.sh). Segmented (DPUGUARD_SEGMENTED=1), segmenting relays take 127.0.0.1:8080
and 127.0.0.1:8000, and the demo starts dpuguard and the backend behind them (DEMO_CONFIG,
DEMO_MOCK_LISTEN): the printed lines stay the same, and every connection to dpuguard and from
it to the backend arrives cut into pieces.

Step 5 needs rules on streamed answers (`where: [completion]` in config/rules/completion.yaml);
it is skipped, saying so, only when this dpuguard rejects `where: completion` in a config.
"""
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import BIN, SEGMENT_SEED, SEGMENTED, SRC, free_port, wait_port

DEMO = os.path.join(SRC, "scripts", "demo")
DEMO_CONFIG = os.path.join(SRC, "config", "examples", "demo.yaml")
COMPLETION_RULES = os.path.join(SRC, "config", "rules", "completion.yaml")
YOU = "spiffe://demo/ns/dev/sa/you"
BATCH = "spiffe://demo/ns/batch/sa/summarizer"
TOKEN_DELAY_MS = 50  # the mock's default, as the demo starts it
KEY = "AKIAIOSFODNN7EXAMPLE"  # what the mock leaks for step 5


def completion_rules_supported():
    """(supported, why): whether this dpuguard accepts a rule with `where: [completion]`."""
    with tempfile.TemporaryDirectory(prefix="dpuguard-demo-probe-") as d:
        with open(os.path.join(d, "rules.yaml"), "w") as f:
            f.write("rules:\n  - {id: probe, pattern: AKIA, where: [completion], action: block, severity: high}\n")
        with open(os.path.join(d, "probe.yaml"), "w") as f:
            f.write('listeners: [{name: p, address: "127.0.0.1:1"}]\nclusters: [{name: c, endpoints: ["127.0.0.1:2"]}]\n'
                    f"routes: [{{name: r, match: {{path_prefix: /}}, cluster: c}}]\nsignatures: {{files: [{d}/rules.yaml]}}\n")
        r = subprocess.run([BIN, "check-config", os.path.join(d, "probe.yaml")], capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    if r.returncode != 0 and "where" not in out:
        raise AssertionError(f"the completion probe config failed for another reason: {out}")
    return r.returncode == 0, out


def parse_tour(lines):
    """{step number: {"title", "notes", "commands"}} from the demo's output: after the "Tour:"
    line, "# N. title" starts step N, "#" lines are its notes, other non-blank lines its commands."""
    steps, cur, started = {}, None, False
    for line in lines:
        if line.startswith("Tour:"):
            started = True
            continue
        if not started:
            continue
        if line.startswith("Ctrl-C"):
            break
        m = re.match(r"# (\d+)\. (.*)", line)
        if m:
            cur = int(m.group(1))
            steps[cur] = {"title": m.group(2), "notes": [], "commands": []}
        elif cur is not None and line.startswith("#"):
            steps[cur]["notes"].append(line)
        elif cur is not None and line.strip():
            steps[cur]["commands"].append(line)
    return steps


def sse_events(text):
    """The data of each SSE event in `text`, in order."""
    return [e[len("data: "):] for e in text.split("\n\n") if e.startswith("data: ")]


def content_of(events):
    """The streamed answer's text: the deltas' content, joined."""
    out = ""
    for e in events:
        if e.startswith("{"):
            for c in json.loads(e).get("choices", []):
                out += (c.get("delta") or {}).get("content") or c.get("text") or ""
    return out


class DemoTourTest(unittest.TestCase):
    """One demo for the whole class; the steps run in the order printed (test_N_...)."""

    @classmethod
    def setUpClass(cls):
        cls.relays, cls.output, cls.cwd = [], [], tempfile.mkdtemp(prefix="dpuguard-demo-cwd-")
        cls.ports = (8000, 8080, 9901)  # where the demo's own processes listen
        cls.completion, cls.completion_probe = completion_rules_supported()
        env = dict(os.environ, DPUGUARD_BIN=BIN)
        if SEGMENTED:
            sys.stderr.write(f"\nsegmented mode: relays on 8080 and 8000, DPUGUARD_SEGMENT_SEED={SEGMENT_SEED}\n")
            from segmenting_relay import SegmentingRelay
            listen, mock = free_port(), free_port()
            with open(DEMO_CONFIG) as f:
                text = f.read()
            text = text.replace("address: 127.0.0.1:8080", f"address: 127.0.0.1:{listen}")
            text = text.replace("- ../rules/", f"- {os.path.join(SRC, 'config', 'rules')}/")
            cfg = os.path.join(cls.cwd, "demo-segmented.yaml")
            with open(cfg, "w") as f:
                f.write(text)
            env.update(DEMO_CONFIG=cfg, DEMO_MOCK_LISTEN=f"127.0.0.1:{mock}")
            cls.ports = (listen, mock, 9901)
            cls.relays = [SegmentingRelay(listen, f"{SEGMENT_SEED}/demo", "client", listen_port=8080),
                          SegmentingRelay(mock, f"{SEGMENT_SEED}/demo", "mock", listen_port=8000)]
        cls.demo = subprocess.Popen([DEMO], cwd=SRC, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
        cls.reader = threading.Thread(target=cls._read, daemon=True)
        cls.reader.start()
        deadline = time.time() + 120  # start-up compiles ~250 signatures (slow under ASan)
        while not any(l.startswith("Ctrl-C stops") for l in cls.output):
            if cls.demo.poll() is not None or time.time() > deadline:
                cls.reader.join(timeout=2)
                cls._stop()
                raise AssertionError("the demo did not print its tour:\n" + "".join(cls.output))
            time.sleep(0.05)
        cls.printed = [l.rstrip("\n") for l in cls.output]
        cls.steps = parse_tour(cls.printed)
        m = re.search(r"^Logs: (\S+)$", "\n".join(cls.printed), re.M)
        cls.logdir = m.group(1) if m else None
        wait_port(9901)

    @classmethod
    def _read(cls):
        for line in cls.demo.stdout:
            cls.output.append(line)

    @classmethod
    def _stop(cls):
        if cls.demo.poll() is None:
            os.killpg(cls.demo.pid, signal.SIGKILL)
            cls.demo.wait()
        for r in cls.relays:
            r.close()

    @classmethod
    def tearDownClass(cls):
        cls._stop()
        cls.demo.stdout.close()
        # (a failure's message already holds the logs' tails)
        for d in (cls.cwd, cls.logdir):
            if d and d.startswith("/tmp/"):
                shutil.rmtree(d, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------
    def context(self):
        """The demo's output and the tails of its logs, for a failure message."""
        out = "\n--- demo output ---\n" + "".join(self.output)
        if self.logdir and os.path.isdir(self.logdir):
            for name in sorted(os.listdir(self.logdir)):
                if name.endswith(".log"):
                    with open(os.path.join(self.logdir, name), errors="replace") as f:
                        out += f"\n--- {name} ---\n{f.read()[-3000:]}"
        if SEGMENTED:
            out += "\n--- segmenting relays ---\n" + "\n".join(r.report() for r in self.relays)
        return out

    def command(self, step):
        s = self.steps.get(step)
        self.assertIsNotNone(s, f"the tour has no step {step}" + self.context())
        self.assertEqual(len(s["commands"]), 1, f"step {step} should be one line: {s}")
        return s["commands"][0]

    def run_line(self, step):
        """Runs step `step`'s printed line as a user would (bash, from another directory)."""
        r = subprocess.run(["bash", "-c", self.command(step)], cwd=self.cwd, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, f"step {step}: {r.stderr}" + self.context())
        return r.stdout

    def flow_log(self):
        with open(os.path.join(self.logdir, "dpuguard.log")) as f:
            return [json.loads(l) for l in f if l.startswith("{")]

    def record_of(self, step, before):
        """The flow-log line of the request step `step` made (lines trail their responses)."""
        deadline = time.time() + 5
        while len(self.flow_log()) <= before and time.time() < deadline:
            time.sleep(0.02)
        log = self.flow_log()
        self.assertEqual(len(log), before + 1, f"step {step}: expected one new flow-log line" + self.context())
        return log[-1]

    # --- the tour -----------------------------------------------------------------------
    def test_0_tour_is_printed(self):
        self.assertEqual(sorted(self.steps), list(range(1, 8)), self.context())
        self.assertIsNotNone(self.logdir, self.context())
        for n, s in self.steps.items():
            self.assertEqual(len(s["commands"]), 1, f"step {n}: {s}")
        for n in range(1, 6):
            self.assertIn("127.0.0.1:8080", self.command(n))
        self.assertIn("127.0.0.1:9901/edges", self.command(6))
        # The demo falls back to a config without completion rules only when dpuguard needs it.
        fell_back = any("rejects `where: completion`" in l for l in self.steps[5]["notes"])
        self.assertEqual(fell_back, not self.completion, self.completion_probe)

    def test_1_streamed_answer_arrives_event_by_event(self):
        before = len(self.flow_log())
        p = subprocess.Popen(["bash", "-c", self.command(1)], cwd=self.cwd, stdout=subprocess.PIPE)
        self.addCleanup(p.stdout.close)
        arrivals, buf = [], b""
        while True:
            ready, _, _ = select.select([p.stdout], [], [], 30)
            self.assertTrue(ready, "step 1: the stream stalled" + self.context())
            chunk = os.read(p.stdout.fileno(), 65536)
            now = time.monotonic()
            if not chunk:
                break
            buf += chunk
            while b"\n\n" in buf:
                event, buf = buf.split(b"\n\n", 1)
                if event.startswith(b"data: "):
                    arrivals.append((now, event[6:].decode()))
        self.assertEqual(p.wait(timeout=10), 0)
        self.assertEqual(arrivals[-1][1], "[DONE]", arrivals)
        tokens = [json.loads(e) for _, e in arrivals[:-1]]
        self.assertEqual(content_of(e for _, e in arrivals[:-1]),
                         "Hello from the mock LLM behind dpuguard. You said: Hello")
        # The backend stamps each event when it sends it (CLOCK_MONOTONIC, as time.monotonic()).
        lags = [(t - tok["t_mono_ns"] / 1e9) * 1000 for (t, _), tok in zip(arrivals, tokens)]
        gaps = [(b[0] - a[0]) * 1000 for a, b in zip(arrivals, arrivals[1:-1])]
        print(f"\nstep 1: {len(tokens)} events, gaps (ms) " + ", ".join(f"{g:.0f}" for g in gaps)
              + "; arrival after sending (ms) " + ", ".join(f"{x:.1f}" for x in lags))
        # Streamed, not buffered: the first event is in before the backend sends the last.
        self.assertLess(arrivals[0][0], tokens[-1]["t_mono_ns"] / 1e9, lags)
        if SEGMENTED:  # the relays' pauses (Python, two hops) jitter arrivals by tens of ms
            self.assertLess(max(lags), 250, lags)
        else:  # held back and sent in bursts, many gaps would be ~0 (one short gap: a scheduling hiccup)
            self.assertLessEqual(sum(1 for g in gaps if g < TOKEN_DELAY_MS * 0.5), 1, gaps)
            self.assertLess(max(lags) - min(lags), 100, lags)
        rec = self.record_of(1, before)
        self.assertEqual((rec["identity"], rec["route"], rec["status"], rec["reason"], rec["verdict"]),
                         (YOU, "chat", 200, "proxied", "allow"), rec)

    def test_2_prompt_injection_refused_with_its_rule(self):
        before = len(self.flow_log())
        out = self.run_line(2)
        self.assertTrue(out.endswith("HTTP 403\n"), out)
        self.assertEqual(json.loads(out.rsplit("HTTP", 1)[0])["error"]["code"], "denied")
        self.assertIn("dpg-pi-001", self.steps[2]["title"])
        rec = self.record_of(2, before)
        self.assertEqual((rec["identity"], rec["status"], rec["verdict"], rec["rule"], rec["dpi"]),
                         (YOU, 403, "dpi_block", "dpg-pi-001", "dpg-pi-001"), rec)

    def test_3_unknown_identity_denied_by_default(self):
        before = len(self.flow_log())
        out = self.run_line(3)
        self.assertIn("--interface 127.0.0.9", self.command(3))
        self.assertTrue(out.endswith("HTTP 403\n"), out)
        self.assertEqual(json.loads(out.rsplit("HTTP", 1)[0])["error"]["code"], "denied")
        rec = self.record_of(3, before)
        self.assertEqual((rec["identity"], rec["route"], rec["rule"], rec["verdict"], rec["status"]),
                         ("unknown", "models", "default", "deny", 403), rec)

    def test_4_stream_cut_at_the_token_budget(self):
        before = len(self.flow_log())
        events = sse_events(self.run_line(4))
        self.assertEqual(events[-1], "[DONE]", events)
        self.assertEqual(json.loads(events[-2])["error"]["code"], "token_budget_exceeded", events)
        tokens = [e for e in events[:-2]]
        self.assertEqual(len(tokens), 10, events)  # the batch job's 10 tokens per answer
        rec = self.record_of(4, before)
        self.assertEqual((rec["identity"], rec["verdict"], rec["reason"], rec["completion_tokens"], rec["status"]),
                         (BATCH, "budget_cut", "budget_cut", 10, 200), rec)

    def test_5_stream_cut_by_a_completion_rule(self):
        if not self.completion:
            self.skipTest("this dpuguard rejects `where: completion` in a config (rules on streamed answers are "
                          f"not in this build), so the demo ran without {COMPLETION_RULES}: {self.completion_probe}")
        before = len(self.flow_log())
        out = self.run_line(5)
        events = sse_events(out)
        self.assertEqual(events[-1], "[DONE]", events)
        self.assertIn("error", json.loads(events[-2]), events)
        self.assertNotIn(KEY, out)
        self.assertNotIn("MPLE", content_of(events))  # cut before the key's last bytes
        rec = self.record_of(5, before)
        self.assertEqual((rec["identity"], rec["verdict"]), (YOU, "completion_block"), rec)
        with open(COMPLETION_RULES) as f:
            ids = set(re.findall(r"^\s*-\s*id:\s*['\"]?([\w.-]+)", f.read(), re.M))
        named = {rec.get("rule")} | set(filter(None, rec.get("dpi", "").split(",")))
        self.assertTrue(named & ids, f"the flow log names no rule of {COMPLETION_RULES}: {rec}")

    def test_6_edges_show_who_talked_to_what(self):
        edges = {(e["identity"], e["route"]): e for e in json.loads(self.run_line(6))["edges"]}
        self.assertGreaterEqual(edges[(YOU, "chat")]["allowed"], 1, edges)       # step 1
        self.assertGreaterEqual(edges[(YOU, "chat")]["blocked"], 1, edges)       # step 2
        self.assertGreaterEqual(edges[("unknown", "models")]["blocked"], 1, edges)  # step 3
        self.assertGreaterEqual(edges[(BATCH, "chat")]["allowed"], 1, edges)     # step 4

    def test_7_flow_log_of_all_of_it(self):
        out = self.run_line(7)
        self.assertIn(self.logdir, self.command(7))
        records = [json.loads(l) for l in out.splitlines()]
        verdicts = [r.get("verdict") for r in records]
        for v in ("allow", "dpi_block", "deny", "budget_cut") + (("completion_block",) if self.completion else ()):
            self.assertIn(v, verdicts, out)
        self.assertIn("dpg-pi-001", [r.get("rule") for r in records])

    def test_8_ctrl_c_stops_it(self):
        os.killpg(self.demo.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        self.assertEqual(self.demo.wait(timeout=20), 0, self.context())
        self.reader.join(timeout=5)
        self.assertIn("demo: stopped", "".join(self.output))
        for port in self.ports:
            with socket.socket() as s:
                self.assertNotEqual(s.connect_ex(("127.0.0.1", port)), 0, f"port {port} still open")


if __name__ == "__main__":
    unittest.main()
