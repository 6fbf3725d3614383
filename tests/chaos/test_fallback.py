"""Fallback clusters (issue 18, item 5): a request its cluster refuses with 429 or 503 (the
endpoint's Retry-After honoured), or cannot connect to, is sent to the next cluster of
clusters[].fallback before any answer byte went out; an inference body collected whole is
replayed; the flow log names every attempt. A streamed body is never sent twice."""
import json
import socket
import time
import unittest

from backends import ControlledBackend
from chaos import KeepAlive, ProxyTestCase, free_port, raw_exchange, status_of


def fallback_config(primary, secondary, extra_top="", fallback="[second]"):
    return f"""listeners:
  - name: public
    address: 127.0.0.1:{{port}}
admin:
  address: 127.0.0.1:{{admin}}
workers: 1
{extra_top}
clusters:
  - name: first
    endpoints: ["127.0.0.1:{primary}"]
    fallback: {fallback}
  - name: second
    endpoints: ["127.0.0.1:{secondary}"]
routes:
  - name: chat
    match: {{path_prefix: /v1/}}
    cluster: first
  - name: all
    match: {{path_prefix: /}}
    cluster: first
logging:
  flow_log: stderr
"""


CHAT = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hello " * 50}]}).encode()


class FallbackTest(ProxyTestCase):
    def backends(self):
        a, b = ControlledBackend("first"), ControlledBackend("second")
        self.p.cleanups += [a.close, b.close]
        return a, b

    def test_429_and_503_go_to_the_fallback_cluster(self):
        a, b = self.backends()
        d = self.p.dpuguard(fallback_config(self.p.relay(a.port), self.p.relay(b.port)))
        for status in (429, 503):
            a.status = status
            out = raw_exchange(d.port, b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertEqual(status_of(out), 200)
            self.assertTrue(out.endswith(b"second\n"), out)
        flows = d.wait_flow_log(2)
        self.assertEqual([[(t["cluster"], t["status"], t["reason"]) for t in f["attempts"]] for f in flows],
                         [[("first", 429, "upstream_429"), ("second", 200, "proxied")],
                          [("first", 503, "upstream_503"), ("second", 200, "proxied")]])
        self.assertEqual(d.metric("dpuguard_upstream_fallbacks_total"), 2)

    def test_retry_after_rests_the_refusing_endpoint(self):
        a, b = self.backends()
        a2 = ControlledBackend("first-2")
        self.p.cleanups.append(a2.close)
        ra, rb, ra2 = self.p.relay(a.port), self.p.relay(b.port), self.p.relay(a2.port)
        text = fallback_config(ra, rb).replace(f'endpoints: ["127.0.0.1:{ra}"]',
                                               f'endpoints: ["127.0.0.1:{ra}", "127.0.0.1:{ra2}"]')
        d = self.p.dpuguard(text)
        a.status, a.retry_after = 429, 30
        c = KeepAlive(d.port)
        for _ in range(8):
            self.assertEqual(c.get("/who"), 200)
        c.close()
        self.assertEqual(a.hits, 1)  # refused once with Retry-After: 30, then left alone
        self.assertEqual(a2.hits + b.hits, 8)

    def test_retry_after_on_the_only_endpoint_sends_straight_to_the_fallback(self):
        a, b = self.backends()
        d = self.p.dpuguard(fallback_config(self.p.relay(a.port), self.p.relay(b.port)))
        a.status, a.retry_after = 429, 30
        c = KeepAlive(d.port)
        for _ in range(6):
            self.assertEqual(c.get("/who"), 200)
        c.close()
        self.assertEqual((a.hits, b.hits), (1, 6))  # the resting cluster is not asked again
        flows = d.wait_flow_log(6)
        self.assertEqual([(t["cluster"], t["reason"]) for t in flows[-1]["attempts"]],
                         [("first", "no_healthy_upstream"), ("second", "proxied")])

    def test_a_failed_connect_falls_back(self):
        _, b = self.backends()
        dead = free_port()  # nothing listens
        d = self.p.dpuguard(fallback_config(dead, self.p.relay(b.port)))
        out = raw_exchange(d.port, b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(out), 200)
        flow = d.wait_flow_log(1)[0]
        self.assertEqual([t["reason"] for t in flow["attempts"]], ["upstream_connect_failed", "proxied"])

    def test_a_collected_inference_body_is_replayed_whole(self):
        a, b = self.backends()
        d = self.p.dpuguard(fallback_config(self.p.relay(a.port), self.p.relay(b.port),
                                            extra_top="inference:\n  routes: [chat]\n"))
        a.status = 503
        out = raw_exchange(d.port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(CHAT), CHAT))
        self.assertEqual(status_of(out), 200, out)
        self.assertEqual(a.bodies, [CHAT])
        self.assertEqual(b.bodies, [CHAT])

    def test_a_streamed_body_is_not_sent_twice(self):
        a, b = self.backends()
        d = self.p.dpuguard(fallback_config(self.p.relay(a.port), self.p.relay(b.port)))
        a.status = 503
        out = raw_exchange(d.port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        self.assertEqual(status_of(out), 503)  # the refusal itself: the body is gone upstream
        self.assertEqual(b.hits, 0)

    def test_no_fallback_left_forwards_the_refusal(self):
        a, b = self.backends()
        d = self.p.dpuguard(fallback_config(self.p.relay(a.port), self.p.relay(b.port)))
        a.status = b.status = 429
        out = raw_exchange(d.port, b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status_of(out), 429)
        self.assertTrue(out.endswith(b"second\n"))


if __name__ == "__main__":
    unittest.main()
