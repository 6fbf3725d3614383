"""Early replies and silent clients (issue 18, items 1-2): a 413 for a body the client is
still sending is read by real clients (Python urllib, curl), not lost to a reset; pipelined
bytes after it are never parsed; a silent connection and one that sends a byte a second both
end at header_timeout_ms, counted from accept; max_connections pauses the accepts."""
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from chaos import ProxyTestCase, config, curl, get, open_idle, raw_exchange, status_of, whole_only

BIG = 5 * 1000 * 1000  # over the default 1 MiB max_body_bytes


class EarlyRepliesTest(ProxyTestCase):
    def test_413_is_read_by_urllib_while_it_is_still_sending(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        body = b"a" * BIG
        statuses = []
        for _ in range(10):
            req = urllib.request.Request(d.url("/hello"), data=body, method="POST")
            try:
                urllib.request.urlopen(req, timeout=20)
                statuses.append(200)
            except urllib.error.HTTPError as e:
                statuses.append(e.code)
            except OSError as e:  # reset, broken pipe: the answer was lost
                statuses.append(repr(e))
        self.assertEqual(statuses, [413] * 10)
        with open(self.p.nginx_access_log(ng)) as f:
            self.assertEqual(f.read(), "")  # nothing of it went upstream

    def test_413_is_read_by_curl_with_and_without_expect(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng]))
        path = self.p.path("big.bin")
        with open(path, "wb") as f:
            f.write(b"a" * BIG)
        results = []
        for i in range(10):
            # Without Expect curl sends the body at once; with it (its default for big bodies) it
            # waits for 100-continue and gets the 413 instead.
            extra = ["-H", "Expect:"] if i % 2 == 0 else []
            rc, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + path, *extra,
                                d.url("/hello"))
            results.append((rc, out))
        self.assertEqual(results, [(0, b"413")] * 10)

    def test_pipelined_bytes_after_an_error_are_never_parsed(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port], extra_top="limits:\n  max_body_bytes: 10"))
        smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        out = raw_exchange(d.port, b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
                           + b"b" * 20 + smuggled + smuggled)
        self.assertEqual(status_of(out), 413)
        self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)  # one answer: the rest was dropped
        time.sleep(0.3)
        self.assertNotIn(b"smuggled", b"".join(up.received()))
        self.assertEqual([f["reason"] for f in d.wait_flow_log(1)], ["body_too_large"])


class HeaderTimeoutTest(ProxyTestCase):
    def test_silent_and_slow_connections_end_at_header_timeout(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  header_timeout_ms: 1000"))
        silent = socket.create_connection(("127.0.0.1", d.port))
        slow = socket.create_connection(("127.0.0.1", d.port))
        t0 = time.monotonic()
        ends = {}
        slow_out = b""
        for byte in b"GET /hello HTTP/1.1\r\n":  # a byte every 0.25 s: never a whole head in time
            if "slow" in ends:
                break
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                ends.setdefault("slow", time.monotonic() - t0)
            for name, s in (("silent", silent), ("slow", slow)):
                if name in ends:
                    continue
                s.settimeout(0.25 if name == "slow" else 0.001)
                try:
                    data = s.recv(4096)
                    if name == "slow":
                        slow_out += data
                    if not data or b"\r\n\r\n" in data:
                        ends[name] = time.monotonic() - t0
                except socket.timeout:
                    pass
                except OSError:
                    ends[name] = time.monotonic() - t0
        for name, s in (("silent", silent), ("slow", slow)):
            s.settimeout(3)
            if name not in ends:
                try:
                    s.recv(4096)
                except OSError:
                    pass
                ends[name] = time.monotonic() - t0
            s.close()
        print(f"\nchaos figure: time to 408 / close at header_timeout_ms 1000: silent {ends['silent']:.2f} s, "
              f"a byte every 0.25 s {ends['slow']:.2f} s")
        for name in ("silent", "slow"):
            self.assertGreater(ends[name], 0.8, name)
            self.assertLess(ends[name], 2.0, name)
        self.assertEqual(status_of(slow_out), 408)
        flows = d.wait_flow_log(2)
        self.assertEqual(sorted((f["status"], f["reason"]) for f in flows), [(408, "header_timeout")] * 2)

    def test_idle_keep_alive_is_closed_without_a_reply(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  header_timeout_ms: 800"))
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while b"hello from nginx\n" not in first:  # the whole body: segmented, its last byte may come apart
            first += s.recv(65536)
        t0 = time.monotonic()
        rest = s.recv(65536)  # blocks until dpuguard closes the idle connection
        self.assertEqual(rest, b"")
        self.assertGreater(time.monotonic() - t0, 0.6)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual([f["status"] for f in d.wait_flow_log(1)], [200])

    @whole_only("counts connections the kernel queues for the worker")
    def test_max_connections_pauses_accepts_until_one_closes(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="max_connections: 5\nlimits:\n  header_timeout_ms: 30000"))
        idle = open_idle(d.port, 5)
        self.assertEqual(len(idle), 5)
        time.sleep(0.3)
        # The sixth waits in the listen queue, unanswered, while five are open...
        waiting = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        waiting.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        waiting.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            waiting.recv(100)
        self.assertEqual(d.metric("dpuguard_accept_paused"), 1)
        self.assertGreaterEqual(d.metric("dpuguard_connections_limited_total"), 1)
        # ...and is served as soon as one closes.
        idle.pop().close()
        waiting.settimeout(5)
        out = b""
        while True:
            chunk = waiting.recv(65536)
            if not chunk:
                break
            out += chunk
        self.assertEqual(status_of(out), 200)
        for s in idle:
            s.close()


if __name__ == "__main__":
    unittest.main()
