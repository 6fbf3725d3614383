"""Identity-based policy with real processes: curl clients bound to different loopback source
addresses (127.0.0.2, 127.0.0.3, ...) act as different workloads in front of a real nginx."""
import json
import os
import time
import unittest
import urllib.request

from harness import ProxyTestCase, config, curl, identities

NOTEBOOK = "spiffe://cluster/ns/research/sa/notebook"
PIPELINE = "spiffe://cluster/ns/train/sa/pipeline"

IDENTITIES = identities(("127.0.0.2/32", NOTEBOOK), ("127.0.0.0/29", PIPELINE))

ROUTES = """  - name: chat
    match: {path_prefix: /path/chat}
    cluster: up
  - name: admin
    match: {path_prefix: /path/admin}
    cluster: up
  - name: other
    match: {path_prefix: /}
    cluster: up
"""


def fetch(dp, path, source, method="GET"):
    """curl from `source`: (status, body)."""
    code, out, err = curl("--interface", source, "-X", method, "-o", "-", "-w", "\n%{http_code}", dp.url(path))
    assert code == 0, err
    body, status = out.rsplit(b"\n", 1)
    return int(status), body


class PolicyTest(ProxyTestCase):
    def start(self, policy, extra=""):
        up = self.p.nginx()
        return self.p.dpuguard(config([up], extra_top=IDENTITIES + policy + extra, routes=ROUTES))

    def test_rules_default_deny_and_flow_log(self):
        dp = self.start(f"""policy:
  mode: rules
  default: deny
  rules:
    - id: notebook-chat
      identities: ["{NOTEBOOK}"]
      routes: [chat]
      methods: [GET]
      action: allow
    - id: pipeline-any
      identities: ["{PIPELINE}"]
      routes: "*"
      action: allow
    - id: nobody-admin
      routes: [admin]
      action: deny
""")
        self.assertEqual(fetch(dp, "/path/chat/x", "127.0.0.2")[0], 200)       # notebook -> chat: allowed
        status, body = fetch(dp, "/path/admin/x", "127.0.0.2")                   # notebook -> admin: denied
        self.assertEqual(status, 403)
        self.assertIn(b"denied", body)
        self.assertEqual(fetch(dp, "/path/chat/x", "127.0.0.2", "POST")[0], 403)  # method not in the rule: default
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.3")[0], 200)        # pipeline: rule before the deny
        self.assertEqual(fetch(dp, "/path/chat/x", "127.0.0.9")[0], 403)         # outside every label: unknown
        log = dp.wait_flow_log(5)
        self.assertEqual([(l["identity"], l["route"], l["rule"], l["verdict"], l["status"]) for l in log], [
            (NOTEBOOK, "chat", "notebook-chat", "allow", 200),
            (NOTEBOOK, "admin", "nobody-admin", "deny", 403),
            (NOTEBOOK, "chat", "default", "deny", 403),
            (PIPELINE, "admin", "pipeline-any", "allow", 200),
            ("unknown", "chat", "default", "deny", 403)])
        self.assertEqual(log[1]["reason"], "denied")
        m = dp.metrics()
        self.assertEqual(m['dpuguard_inspect_verdicts_total{rule="default",verdict="deny"}'], 2)
        self.assertEqual(m['dpuguard_inspect_verdicts_total{rule="nobody-admin",verdict="deny"}'], 1)
        self.assertEqual(m['dpuguard_inspect_verdicts_total{rule="notebook-chat",verdict="allow"}'], 1)
        self.assertEqual(m[f'dpuguard_inspect_edge_requests_total{{identity="{NOTEBOOK}",route="chat",result="blocked"}}'], 1)
        self.assertEqual(m['dpuguard_outcomes_total{reason="denied"}'], 3)

    def test_shadow_rule_logs_would_deny_and_passes(self):
        dp = self.start("""policy:
  mode: rules
  default: allow
  rules:
    - id: no-admin-yet
      routes: [admin]
      action: deny
      shadow: true
""")
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.2")[0], 200)
        log = dp.wait_flow_log(1)
        self.assertEqual((log[0]["rule"], log[0]["verdict"], log[0]["status"]), ("no-admin-yet", "shadow_deny", 200))
        self.assertEqual(dp.metric('dpuguard_inspect_verdicts_total{rule="no-admin-yet",verdict="shadow_deny"}'), 1)

    def test_learn_then_enforce_blocks_a_new_edge(self):
        baseline = self.p.path("edges.baseline")
        dp = self.start(f"""policy:
  mode: learn
  default: allow
  baseline_file: {baseline}
""")
        self.assertEqual(fetch(dp, "/path/chat/x", "127.0.0.2")[0], 200)
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.3")[0], 200)
        deadline = time.time() + 5  # the baseline is written within a second
        while time.time() < deadline and not (os.path.exists(baseline) and "admin" in open(baseline).read()):
            time.sleep(0.1)
        edges = [l.split() for l in open(baseline) if l.strip() and not l.startswith("#")]
        self.assertEqual(sorted(edges), sorted([[NOTEBOOK, "chat"], [PIPELINE, "admin"]]))
        # /edges: the observed graph with counts and times
        graph = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{dp.admin}/edges", timeout=5).read())
        by_edge = {(e["identity"], e["route"]): e for e in graph["edges"]}
        self.assertEqual(by_edge[(NOTEBOOK, "chat")]["allowed"], 1)
        self.assertGreater(by_edge[(NOTEBOOK, "chat")]["first_seen_ms"], 1_700_000_000_000)
        self.assertEqual(graph["edges_dropped"], 0)

        # Enforce on the same baseline (hot reload): learned edges pass, a new one is blocked.
        text = open(dp.config_path).read().replace("mode: learn", "mode: enforce")
        dp.rewrite_config(text)
        dp.reload()
        requests = 2
        deadline = time.time() + 5
        while time.time() < deadline and fetch(dp, "/path/admin/x", "127.0.0.2")[0] != 403:
            requests += 1
            time.sleep(0.1)
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.2")[0], 403)  # notebook -> admin: new edge
        self.assertEqual(fetch(dp, "/path/chat/x", "127.0.0.2")[0], 200)
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.3")[0], 200)
        requests += 4  # the loop's last fetch (the 403) and the three above
        last = dp.wait_flow_log(requests)[-3]
        self.assertEqual((last["rule"], last["verdict"]), ("baseline", "unknown_edge"))

    def test_enforce_alert_only_passes_new_edges(self):
        baseline = self.p.path("edges.baseline")
        with open(baseline, "w") as f:
            f.write(f"# reviewed\n{NOTEBOOK} chat\n")
        dp = self.start(f"""policy:
  mode: enforce
  default: allow
  unknown_edge: alert
  baseline_file: {baseline}
""")
        self.assertEqual(fetch(dp, "/path/admin/x", "127.0.0.2")[0], 200)
        log = dp.wait_flow_log(1)
        self.assertEqual((log[0]["rule"], log[0]["verdict"]), ("baseline", "unknown_edge"))


if __name__ == "__main__":
    unittest.main()
