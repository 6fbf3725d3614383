"""dpuguard in front of a real nginx and the mock LLM, with curl and raw sockets as clients:
keep-alive, pipelining, header rewriting, framing, large bodies both ways, 100-continue, LB."""
import hashlib
import re
import json
import os
import socket
import threading
import time
import unittest

from harness import ProxyTestCase, config, curl, raw_exchange, recv_head, rss_kb, status_of


class ProxyingTest(ProxyTestCase):
    def test_get_through_nginx_with_curl(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        rc, out, err = curl("-i", d.url("/hello"))
        self.assertEqual(rc, 0, err)
        self.assertIn(b"HTTP/1.1 200", out)
        self.assertIn(b"Via: 1.1 dpuguard", out)
        self.assertTrue(out.endswith(b"hello from nginx\n"))
        log = d.wait_flow_log(1)
        self.assertEqual(log[-1]["status"], 200)
        self.assertEqual(log[-1]["route"], "all")
        self.assertEqual(log[-1]["endpoint"], f"127.0.0.1:{ng}")
        self.assertEqual(log[-1]["reason"], "proxied")

    def test_upstream_keepalive_reuse(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        # 3 curl processes x 20 requests each: 3 client connections, but one upstream connection.
        for _ in range(3):
            rc, out, err = curl(*[d.url("/hello")] * 20)
            self.assertEqual(rc, 0, err)
            self.assertEqual(out.count(b"hello from nginx"), 20)
        time.sleep(0.2)
        self.assertEqual(len(self.p.nginx_connections(ng)), 1, "upstream connection was not reused")
        self.assertEqual(d.metric("dpuguard_upstream_connections_reused_total"), 59)
        self.assertEqual(d.metric("dpuguard_connections_accepted_total"), 3 + 1)  # + the harness's port probe

    def test_pipelined_requests_are_answered_in_order(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        reqs = b"".join(b"GET /path/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
        reqs += b"GET /path/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        out = raw_exchange(d.port, reqs)
        bodies = re.findall(rb"/path/\w+\n", out)
        self.assertEqual(bodies, [b"/path/%d\n" % i for i in range(5)] + [b"/path/last\n"])
        self.assertEqual(out.count(b"HTTP/1.1 200"), 6)

    def test_hop_by_hop_headers_dropped_and_forwarding_headers_added(self):
        up = self.p.mock_llm()
        d = self.p.dpuguard(config([up]))
        req = (b"GET /_mock/headers HTTP/1.1\r\nHost: api.example\r\nConnection: keep-alive, X-Secret-Hop\r\n"
               b"X-Secret-Hop: drop me\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\n"
               b"Proxy-Connection: keep-alive\r\nX-Forwarded-For: 10.1.2.3\r\nX-Kept: yes\r\n\r\n")
        out = raw_exchange(d.port, req, until_close=False, timeout=2)
        headers = json.loads(out.split(b"\r\n\r\n", 1)[1])
        for dropped in ("x-secret-hop", "keep-alive", "te", "upgrade", "proxy-connection"):
            self.assertNotIn(dropped, headers)
        self.assertEqual(headers["x-kept"], "yes")
        self.assertEqual(headers["host"], "api.example")
        self.assertEqual(headers["x-forwarded-for"], "10.1.2.3, 127.0.0.1")
        self.assertEqual(headers["via"], "1.1 dpuguard")

    def test_head_and_204_have_no_body(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        with open(self.p.path("www/file.txt"), "wb") as f:
            f.write(b"0123456789")
        # HEAD then GET on one connection: if the proxy waited for a HEAD body, the GET would hang.
        out = raw_exchange(d.port, b"HEAD /file.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                                   b"GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n"
                                   b"GET /file.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        parts = out.split(b"HTTP/1.1 ")
        self.assertEqual(len(parts), 4, out)
        self.assertTrue(parts[1].startswith(b"200"))
        self.assertIn(b"Content-Length: 10", parts[1])
        self.assertTrue(parts[1].endswith(b"\r\n\r\n"), "HEAD response carried a body")
        self.assertTrue(parts[2].startswith(b"204"))
        self.assertTrue(parts[2].endswith(b"\r\n\r\n"))
        self.assertTrue(parts[3].endswith(b"0123456789"))

    def test_chunked_upload_and_download(self):
        up = self.p.mock_llm()
        d = self.p.dpuguard(config([up], extra_top="limits:\n  max_body_bytes: 104857600"))
        data = os.urandom(3 * 1024 * 1024 + 17)
        src = self.p.path("up.bin")
        with open(src, "wb") as f:
            f.write(data)
        # curl -T - sends chunked; the mock echoes it back chunked.
        rc, out, err = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + src, d.url("/_mock/echo"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(hashlib.sha256(out).hexdigest(), hashlib.sha256(data).hexdigest())

    def test_50mb_both_ways_with_flat_memory(self):
        ng = self.p.nginx()
        up = self.p.mock_llm()
        size = 50 * 1024 * 1024
        blob = os.urandom(size)
        with open(self.p.path("www/big.bin"), "wb") as f:
            f.write(blob)
        with open(self.p.path("big-up.bin"), "wb") as f:
            f.write(blob)
        routes = f"""  - name: echo
    match: {{path_prefix: /_mock/}}
    cluster: mock
  - name: files
    match: {{path_prefix: /}}
    cluster: up
"""
        cfg = config([ng], extra_top="limits:\n  max_body_bytes: 104857600", routes=routes)
        cfg = cfg.replace("routes:", f'  - name: mock\n    endpoints: ["127.0.0.1:{up}"]\nroutes:', 1)
        d = self.p.dpuguard(cfg)
        base = rss_kb(d.proc.pid)
        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(d.proc.pid))
                time.sleep(0.01)

        t = threading.Thread(target=sample)
        t.start()
        try:
            rc, out, err = curl(d.url("/big.bin"), "-o", self.p.path("down.bin"))
            self.assertEqual(rc, 0, err)
            rc, out, err = curl("--data-binary", "@" + self.p.path("big-up.bin"), "-o", self.p.path("echo.bin"),
                                d.url("/_mock/echo"), timeout=120)
            self.assertEqual(rc, 0, err)
        finally:
            stop.set()
            t.join()
        want = hashlib.sha256(blob).hexdigest()
        for name in ("down.bin", "echo.bin"):
            with open(self.p.path(name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), want, name)
        growth_mb = (peak[0] - base) / 1024
        print(f"\n50 MB down + 50 MB up: dpuguard RSS {base / 1024:.1f} MB -> peak {peak[0] / 1024:.1f} MB")
        self.assertLess(growth_mb, 16, "memory grew with the body size: bodies are not streamed")

    def test_expect_100_continue(self):
        up = self.p.mock_llm()
        d = self.p.dpuguard(config([up]))
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(b"POST /_mock/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        first = recv_head(s)
        self.assertEqual(first, b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"hello")
        rest = b""
        while b"0\r\n\r\n" not in rest:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.close()
        self.assertIn(b"HTTP/1.1 200", rest)
        self.assertIn(b"5\r\nhello\r\n", rest)
        # curl does the same dance on its own.
        rc, out, err = curl("-H", "Expect: 100-continue", "--data-binary", "x" * 2048, d.url("/_mock/echo"))
        self.assertEqual(out, b"x" * 2048)
        # An expectation we cannot meet is refused, not forwarded.
        out = raw_exchange(d.port, b"POST /_mock/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx")
        self.assertEqual(status_of(out), 417)

    def test_round_robin_and_least_request(self):
        a, b = self.p.mock_llm(), self.p.mock_llm()
        d = self.p.dpuguard(config([a, b]))
        for _ in range(10):
            curl(d.url("/v1/models"))
        counts = [json.loads(curl(f"http://127.0.0.1:{p}/_mock/stats")[1])["requests"] - 1 for p in (a, b)]
        self.assertEqual(counts, [5, 5])
        # least_request: a slow request pins endpoint A; the next requests go to B.
        a2, b2 = self.p.mock_llm(), self.p.mock_llm()
        d2 = self.p.dpuguard(config([a2, b2], cluster_extra="    lb: least_request"), name="lr.yaml")
        slow = threading.Thread(target=curl, args=(d2.url("/_mock/sleep?ms=1500"),))
        slow.start()
        time.sleep(0.3)
        for _ in range(4):
            curl(d2.url("/v1/models"))
        slow.join()
        served = [json.loads(curl(f"http://127.0.0.1:{p}/_mock/stats")[1])["requests"] - 1 for p in (a2, b2)]
        self.assertEqual(sorted(served), [1, 4], served)

    def test_dead_endpoint_is_ejected_and_requests_still_succeed(self):
        live = self.p.mock_llm()
        from harness import free_port
        dead = free_port()  # nothing listens there: connect is refused
        d = self.p.dpuguard(config([dead, live], cluster_extra="    eject_after_failures: 2\n    eject_ms: 60000"))
        codes = [curl("-o", "/dev/null", "-w", "%{http_code}", d.url("/v1/models"))[1] for _ in range(10)]
        self.assertEqual(codes, [b"200"] * 10)  # bodiless requests are retried on the other endpoint
        self.assertEqual(d.metric("dpuguard_upstream_ejections_total"), 1)
        self.assertGreaterEqual(d.metric("dpuguard_upstream_retries_total"), 1)


if __name__ == "__main__":
    unittest.main()
