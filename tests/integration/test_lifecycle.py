"""Process life: check-config, admin endpoints, SIGHUP reload under load (no failed request,
a bad file keeps the old config), SIGTERM drain (in-flight requests finish). The demo: test_demo.py."""
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import urllib.request

from harness import BIN, SRC, ProxyTestCase, config, curl, free_port, wait_port, wait_until


class LifecycleTest(ProxyTestCase):
    def test_check_config_cli(self):
        bad = self.p.path("bad.yaml")
        with open(bad, "w") as f:
            f.write("listeners:\n  - name: p\n    address: 127.0.0.1:80800\nclusters: []\nrutes: []\n")
        r = subprocess.run([BIN, "check-config", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.splitlines()
        self.assertIn(f"{bad}:5:1: unknown key 'rutes' in the top level (did you mean 'routes'?)", lines)
        self.assertIn(f"{bad}:3:14: 'address': '127.0.0.1:80800' port must be a number from 0 to 65535", lines)
        # demo.yaml: test_demo.py starts it (rules on answers make it need the newest loader)
        for example in ("inference-gateway.yaml", "host-backend.yaml", "secure-inference.yaml"):
            r = subprocess.run([BIN, "check-config", os.path.join(SRC, "config/examples", example)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout)
        r = subprocess.run([BIN, "--config", bad], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("rutes", r.stderr)

    def test_a_fifo_or_device_as_a_file_is_refused_at_once(self):
        # A FIFO given by mistake (or a device) would block open(2) until a writer comes: the
        # config, a rule file, a key, a certificate are each refused as "not a regular file".
        up = self.p.mock_llm()
        fifo = self.p.path("fifo")
        os.mkfifo(fifo)
        rules = config([up], extra_top=f"signatures:\n  files: [{fifo}]\n")
        key = config([up], extra_top=f"attestation:\n  key_file: {fifo}\n")
        cert = config([up]).replace("    address: 127.0.0.1:{port}\n", "    address: 127.0.0.1:{port}\n"
                                    f"    tls:\n      certificates:\n        - {{cert_file: /dev/zero, "
                                    f"key_file: {fifo}}}\n", 1)
        for name, text in (("rules.yaml", rules), ("key.yaml", key), ("cert.yaml", cert)):
            path = self.p.path(name)
            with open(path, "w") as f:
                f.write(text.replace("{port}", "1").replace("{admin}", "2"))
            r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1, (name, r.stdout))
            self.assertIn("not a regular file", r.stdout, name)
        r = subprocess.run([BIN, "check-config", fifo], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a regular file", r.stdout + r.stderr)
        # A reload onto such a config is refused and the process still stops on SIGTERM.
        d = self.p.dpuguard(config([up]))
        d.rewrite_config(rules)
        d.reload()
        wait_until("the refused reload", lambda: "not a regular file" in d.log())
        self.assertEqual(curl("-o", "/dev/null", "-w", "%{http_code}", d.url("/v1/models"))[1], b"200")
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=15), 0)

    def test_admin_endpoints(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        curl(d.url("/hello"))
        base = f"http://127.0.0.1:{d.admin}"
        self.assertEqual(urllib.request.urlopen(base + "/healthz").read(), b"ok\n")
        cfg = json.loads(urllib.request.urlopen(base + "/config").read())
        self.assertEqual(cfg["clusters"][0]["endpoints"], [f"127.0.0.1:{ng}"])
        text = urllib.request.urlopen(base + "/metrics").read().decode()
        self.assertIn('dpuguard_requests_total{route="all",status="200"} 1', text)
        self.assertIn("# TYPE dpuguard_request_duration_seconds histogram", text)
        self.assertIn('dpuguard_request_duration_seconds_count{route="all"} 1', text)

    def test_reload_under_load_loses_nothing(self):
        a = self.p.nginx()
        b = self.p.mock_llm(token_delay_ms=40)
        d = self.p.dpuguard(config([a]), name="reload.yaml")
        results = []
        stop = threading.Event()

        def load():
            while not stop.is_set():
                rc, out, err = curl("-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}", d.url("/hello"), d.url("/hello"))
                results.append((rc, out))

        in_flight = threading.Event()

        def stream():  # a ~2 s stream (48 events, 40 ms apart) in flight across every reload
            prompt = " ".join(f"w{i}" for i in range(40))
            proc = subprocess.Popen(["curl", "-sS", "-N", "-H", "Content-Type: application/json", "-d",
                                     json.dumps({"stream": True, "max_tokens": 48, "messages": [{"content": prompt}]}),
                                     d.url("/v1/chat/completions")], stdout=subprocess.PIPE)
            out = proc.stdout.read1(65536)  # the first bytes: the stream is on the mock, in flight
            in_flight.set()
            out += proc.stdout.read()
            rc = proc.wait(timeout=60)
            complete = out.count(b"data: ") == 49 and out.rstrip().endswith(b"data: [DONE]")
            results.append((rc, b"stream" if complete else out[-200:]))

        # Daemons, and stopped on every way out: a failed wait must fail the test, not hang it.
        threads = [threading.Thread(target=load, daemon=True) for _ in range(3)]
        self.addCleanup(stop.set)
        for t in threads:
            t.start()
        # Switch /v1/ to the mock and back, several times, and push one bad file in between.
        with_mock = config([a], routes=f"  - name: v1\n    match: {{path_prefix: /v1/}}\n    cluster: llm\n"
                                         f"  - name: all\n    match: {{path_prefix: /}}\n    cluster: up\n")
        with_mock = with_mock.replace("routes:", f'  - name: llm\n    endpoints: ["127.0.0.1:{b}"]\nroutes:', 1)
        with_mock = with_mock.replace("{port}", str(d.listen_port)).replace("{admin}", str(d.admin))
        plain = config([a]).replace("{port}", str(d.listen_port)).replace("{admin}", str(d.admin))
        d.rewrite_config(with_mock)
        d.reload()
        reloads_ok = lambda: d.metrics().get('dpuguard_config_reloads_total{result="ok"}', 0)
        wait_until("the first reload", lambda: reloads_ok() == 1)
        st = threading.Thread(target=stream, daemon=True)
        st.start()
        self.assertTrue(in_flight.wait(10), "the stream did not start")
        for i in range(6):
            time.sleep(0.15)
            d.rewrite_config(with_mock if i % 2 else plain.replace("routes:", "routes:\n  - name: extra\n    cluster: up\n    match: {path_exact: /x}", 1))
            d.reload()
        time.sleep(0.15)  # let the last reload read its file before the next write
        d.rewrite_config("listeners: [oops")
        d.reload()
        time.sleep(0.2)
        d.rewrite_config(with_mock)
        d.reload()
        st.join(60)
        wait_until("the last reload", lambda: reloads_ok() == 8)
        stop.set()
        for t in threads:
            t.join()
        failures = [r for r in results if r not in ((0, b"200200"), (0, b"stream"))]
        print(f"\nreload under load: {len(results)} curl runs, 8 reloads (1 bad), failures: {len(failures)}")
        self.assertEqual(failures, [])
        m = d.metrics()
        self.assertEqual(m['dpuguard_config_reloads_total{result="rejected"}'], 1, [l for l in d.log().splitlines() if not l.startswith('{')])
        self.assertEqual(m['dpuguard_config_reloads_total{result="ok"}'], 8)
        self.assertIn("reload rejected", d.log())
        # The bad file did not replace the running config: /v1/ still goes to the mock.
        rc, out, _ = curl(d.url("/v1/models"))
        self.assertIn(b"dpuguard-demo-1", out)

    def test_sigterm_drains_in_flight_requests(self):
        up = self.p.mock_llm()
        d = self.p.dpuguard(config([up]))
        out = {}

        def slow():
            out["r"] = curl("-w", "%{http_code}", "-o", "/dev/null", d.url("/_mock/sleep?ms=800"))

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.3)
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        # No new connections once draining.
        rc, _, _ = curl("--max-time", "2", d.url("/v1/models"))
        self.assertNotEqual(rc, 0)
        t.join()
        self.assertEqual(out["r"][1], b"200")
        self.assertEqual(d.proc.wait(timeout=10), 0)
        self.assertIn("dpuguard: stopped", d.log())


if __name__ == "__main__":
    unittest.main()
