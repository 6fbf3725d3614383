"""Every error a client can cause or meet gets its precise status, a JSON body, a metric and
a flow-log line: 400, 404, 408, 413, 414, 417, 431, 502, 503, 504."""
import json
import re
import socket
import threading
import time
import unittest

from harness import ProxyTestCase, config, curl, free_port, raw_exchange, status_of


def read_request(c):
    """Reads one request (head, and a Content-Length body) from `c`, however it arrives."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = c.recv(65536)
        if not chunk:
            return buf
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    while m and len(body) < int(m.group(1)):
        chunk = c.recv(65536)
        if not chunk:
            break
        body += chunk
    return buf


def fake_upstream(answer):
    """A TCP server that reads one request per connection and then runs answer(conn)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            read_request(c)
            answer(c)
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


def body_of(resp):
    return json.loads(resp.split(b"\r\n\r\n", 1)[1])


class ErrorsTest(ProxyTestCase):
    def check_local(self, d, resp, status, code, closed=True):
        self.assertEqual(status_of(resp), status, resp[:200])
        err = body_of(resp)["error"]
        self.assertEqual(err["code"], code)
        self.assertEqual(err["type"], "dpuguard_error")
        if closed:
            self.assertIn(b"Connection: close", resp.split(b"\r\n\r\n")[0])
        time.sleep(0.1)  # the flow log is flushed once per loop iteration
        self.assertIn(code, [r["reason"] for r in d.flow_log()])

    def test_client_errors(self):
        ng = self.p.nginx()
        mock = self.p.mock_llm()  # reads a whole request body before it answers; nginx's `return` does not
        routes = ("  - name: echo\n    match: {path_prefix: /_mock/}\n    cluster: mock\n"
                  "  - name: all\n    match: {path_prefix: /}\n    cluster: up\n")
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  max_header_bytes: 2048\n  max_uri_bytes: 512\n"
                                                "  max_body_bytes: 1000\n  header_timeout_ms: 500",
                                   cluster_extra=f'  - name: mock\n    endpoints: ["127.0.0.1:{mock}"]\n', routes=routes))
        # 400: malformed request line; the connection is closed after the answer.
        self.check_local(d, raw_exchange(d.port, b"GET / HTTP/1.1 junk\r\n\r\n"), 400, "bad_request")
        # 400: obs-fold (header continuation line).
        self.check_local(d, raw_exchange(d.port, b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n"), 400, "bad_request")
        # 400: HTTP/1.1 without Host.
        self.check_local(d, raw_exchange(d.port, b"GET / HTTP/1.1\r\n\r\n"), 400, "bad_request")
        # 431: head larger than max_header_bytes.
        self.check_local(d, raw_exchange(d.port, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 3000 + b"\r\n\r\n"),
                         431, "bad_request")
        # 414: URI longer than max_uri_bytes.
        self.check_local(d, raw_exchange(d.port, b"GET /" + b"a" * 600 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414, "bad_request")
        # 413: declared body over max_body_bytes: refused before any byte goes upstream.
        self.check_local(d, raw_exchange(d.port, b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"),
                         413, "body_too_large")
        # 413: chunked body that grows past the limit. (To an upstream that waits for the body:
        # nginx answers at the head, and with a body arriving in pieces its 200 would come first.)
        chunked = b"POST /_mock/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"a" * 512 + b"\r\n"
        self.check_local(d, raw_exchange(d.port, chunked * 1 + b"400\r\n" + b"b" * 1024 + b"\r\n0\r\n\r\n"),
                         413, "body_too_large")
        # 408: a head that does not finish within header_timeout_ms.
        start = time.time()
        resp = raw_exchange(d.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n", timeout=5)
        self.check_local(d, resp, 408, "header_timeout")
        self.assertLess(time.time() - start, 3)
        m = d.metrics()
        self.assertGreaterEqual(m['dpuguard_parse_errors_total{side="client",kind="obs_fold"}'], 1)
        self.assertGreaterEqual(m['dpuguard_parse_errors_total{side="client",kind="head_too_large"}'], 1)
        self.assertGreaterEqual(m['dpuguard_parse_errors_total{side="client",kind="uri_too_long"}'], 1)
        self.assertGreaterEqual(m['dpuguard_outcomes_total{reason="body_too_large"}'], 2)
        # Nothing malformed reached nginx.
        with open(self.p.nginx_access_log(ng)) as f:
            self.assertEqual(f.read(), "")

    def test_refusal_mid_body_is_a_clean_close(self):
        """A 413 for a body the client is still sending: dpuguard shuts its side and drops
        the rest (lingering close), so the client reads the answer and then an orderly end,
        not a reset that could destroy the answer."""
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  max_body_bytes: 1000"))
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", d.port))
            s.sendall(b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b"a" * 20000)
            s.settimeout(5)
            resp = b""
            while b"\r\n\r\n" not in resp:
                resp += s.recv(65536)
            self.assertEqual(status_of(resp), 413)
            for _ in range(10):  # the client goes on with its body after the answer
                s.sendall(b"b" * 8000)
                time.sleep(0.01)
            time.sleep(0.2)
            try:
                while s.recv(65536):
                    pass
            except ConnectionResetError:
                self.fail("the connection was reset instead of closed")
            s.close()
        with open(self.p.nginx_access_log(ng)) as f:
            self.assertEqual(f.read(), "")

    def test_zero_body_limit_refuses_every_body(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  max_body_bytes: 0"))
        chunked = b"POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
        self.check_local(d, raw_exchange(d.port, chunked), 413, "body_too_large")
        self.check_local(d, raw_exchange(d.port, b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"),
                         413, "body_too_large")
        self.assertEqual(status_of(raw_exchange(d.port, b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 200)
        with open(self.p.nginx_access_log(ng)) as f:
            self.assertNotIn("POST", f.read())

    def test_no_route_keeps_the_connection(self):
        ng = self.p.nginx()
        routes = "  - name: api\n    match: {path_prefix: /path/, methods: [GET]}\n    cluster: up\n"
        d = self.p.dpuguard(config([ng], routes=routes))
        out = raw_exchange(d.port, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\nGET /path/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(out), 404)
        self.assertIn(b'"code":"no_route"', out)
        self.assertIn(b"/path/ok", out)  # the second request on the same connection was served
        rc, out, _ = curl("-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", d.url("/path/x"))
        self.assertEqual(out, b"404")  # method not in the route's list
        self.assertEqual(d.metric('dpuguard_requests_total{route="",status="404"}'), 2)

    def test_upstream_refused_is_502_then_503_once_ejected(self):
        dead = free_port()
        # max_ejection_percent 100: the operator lets the last endpoint go (the default keeps it).
        d = self.p.dpuguard(config([dead], cluster_extra="    eject_after_failures: 2\n    eject_ms: 60000\n"
                                                         "    max_ejection_percent: 100"))
        r1 = raw_exchange(d.port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.check_local(d, r1, 502, "upstream_connect_failed")
        r2 = raw_exchange(d.port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.check_local(d, r2, 502, "upstream_connect_failed")
        r3 = raw_exchange(d.port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.check_local(d, r3, 503, "no_healthy_upstream")
        self.assertEqual(d.metric('dpuguard_requests_total{route="all",status="503"}'), 1)

    def test_upstream_reset_is_502(self):
        srv, port = fake_upstream(lambda c: None)  # reads the request, closes without a word
        d = self.p.dpuguard(config([self.p.relay(port)]))
        resp = raw_exchange(d.port, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        self.check_local(d, resp, 502, "upstream_reset")
        srv.close()

    def test_upstream_garbage_is_502(self):
        def cl_and_te(c):  # CL.TE conflict in a response: must not be forwarded
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")
            time.sleep(0.5)

        srv, port = fake_upstream(cl_and_te)
        d = self.p.dpuguard(config([self.p.relay(port)]))
        resp = raw_exchange(d.port, b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        self.check_local(d, resp, 502, "upstream_protocol_error")
        srv.close()

    def test_timeouts_are_504(self):
        up = self.p.mock_llm()
        routes = (f"  - name: slow\n    match: {{path_prefix: /_mock/sleep}}\n    cluster: up\n    timeout_ms: 300\n"
                  f"  - name: all\n    match: {{path_prefix: /}}\n    cluster: up\n")
        d = self.p.dpuguard(config([up], routes=routes))
        start = time.time()
        resp = raw_exchange(d.port, b"GET /_mock/sleep?ms=2000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertLess(time.time() - start, 1.5)
        self.check_local(d, resp, 504, "route_timeout")
        # Connect timeout: an address that never answers a SYN is not available on loopback, so
        # fill a listener's backlog instead... simpler and deterministic: the idle timeout.
        d2 = self.p.dpuguard(config([up], extra_top="limits:\n  idle_timeout_ms: 300"), name="idle.yaml")
        resp = raw_exchange(d2.port, b"GET /_mock/sleep?ms=2000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.check_local(d2, resp, 504, "idle_timeout")


if __name__ == "__main__":
    unittest.main()
