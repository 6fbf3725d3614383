"""Upstream faults (issue 18, item 4): an overloaded backend whose accept queue overflows is
not ejected (its connect timeouts come while it answers, and the last endpoint is never
ejected), active health checks take a failing endpoint out and bring it back, and a single
dead endpoint stays in (502, not 503)."""
import json
import selectors
import socket
import threading
import time
import unittest
import urllib.request

from backends import ControlledBackend, SlowAcceptBackend
from chaos import KeepAlive, ProxyTestCase, config, get, raw_exchange, status_of, wait_until, whole_only


def clusters(d):
    return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{d.admin}/clusters", timeout=5).read())["clusters"]


def streams(port, n, path="/stream"):
    """`n` requests at once on `n` connections; returns their statuses (None: no answer)."""
    sel = selectors.DefaultSelector()
    out = {}
    for i in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE, i)
        out[i] = b""
    deadline = time.time() + 25
    while sel.get_map() and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            if ev & selectors.EVENT_WRITE:
                s.send(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                sel.modify(s, selectors.EVENT_READ, key.data)
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if chunk:
                out[key.data] += chunk
            else:
                sel.unregister(s)
                s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    return [status_of(v) for v in out.values()]


class UpstreamFaultsTest(ProxyTestCase):
    @whole_only("overflows the backend's accept queue; a relay in front would take the connects itself")
    def test_an_overflowing_accept_queue_does_not_eject_the_only_endpoint(self):
        up = SlowAcceptBackend(backlog=8, accept_gap=0.004)
        self.p.cleanups.append(up.close)
        # max_ejection_percent 100: only the connect-timeout rule keeps the endpoint in.
        d = self.p.dpuguard(config([up.port], cluster_extra="    connect_timeout_ms: 400\n    eject_after_failures: 3\n"
                                                            "    max_ejection_percent: 100\n"))
        seen = []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                seen.append(min(c["available"] for c in clusters(d)))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        statuses = streams(d.port, 500)
        stop.set()
        watcher.join()
        counts = {s: statuses.count(s) for s in set(statuses)}
        print(f"\nchaos figure: 500 streams at once into an 8-deep accept queue: {counts}, "
              f"fewest available endpoints seen {min(seen)}")
        self.assertNotIn(503, statuses)
        self.assertGreater(counts.get(200, 0), 0)
        self.assertEqual(min(seen), 1)
        canary = [get(d.port, "/hello")[0] for _ in range(10)]
        self.assertEqual(canary, [200] * 10)

    def test_max_ejection_percent_keeps_the_last_endpoint(self):
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        dead.close()  # nothing listens: connects are refused
        good = ControlledBackend("good")
        self.p.cleanups.append(good.close)
        d = self.p.dpuguard(config([dead_port, self.p.relay(good.port)],
                                   cluster_extra="    eject_after_failures: 1\n    eject_ms: 60000\n"))
        for _ in range(6):
            self.assertEqual(get(d.port)[0], 200)  # the dead one is ejected, the good one serves
        self.assertEqual(d.metric("dpuguard_upstream_ejections_total"), 1)
        # Only the dead one left: it stays in (502 each time), it is never ejected.
        d2 = self.p.dpuguard(config([dead_port], cluster_extra="    eject_after_failures: 1\n"), name="one.yaml")
        self.assertEqual([get(d2.port)[0] for _ in range(4)], [502] * 4)
        self.assertGreaterEqual(d2.metric("dpuguard_upstream_ejections_refused_total"), 1)

    def test_health_checks_take_a_failing_endpoint_out_and_bring_it_back(self):
        a, b = ControlledBackend("a"), ControlledBackend("b")
        self.p.cleanups += [a.close, b.close]
        hc = ("    health_check: {path: /health, interval_ms: 200, timeout_ms: 150,"
              " healthy_threshold: 2, unhealthy_threshold: 2}\n")
        d = self.p.dpuguard(config([self.p.relay(a.port), self.p.relay(b.port)], cluster_extra=hc))
        wait_until("both checked healthy", lambda: [e["health_check"] for e in clusters(d)[0]["endpoints"]]
                   == ["healthy", "healthy"])
        c = KeepAlive(d.port)
        a.health = 503
        wait_until("a unhealthy", lambda: clusters(d)[0]["endpoints"][0]["health_check"] == "unhealthy")
        before = a.hits
        for _ in range(10):
            self.assertEqual(c.get("/who"), 200)
        self.assertEqual(a.hits, before)  # nothing went to a while it failed its checks
        m = d.metrics()
        ep_a = clusters(d)[0]["endpoints"][0]["endpoint"]
        self.assertEqual(m[f'dpuguard_upstream_endpoint_healthy{{cluster="up",endpoint="{ep_a}"}}'], 0)
        self.assertGreater(m[f'dpuguard_upstream_health_checks_total{{cluster="up",endpoint="{ep_a}",result="fail"}}'], 0)
        a.health = 200
        wait_until("a healthy again", lambda: clusters(d)[0]["endpoints"][0]["health_check"] == "healthy")
        for _ in range(10):
            self.assertEqual(c.get("/who"), 200)
        self.assertGreater(a.hits, before)  # back in rotation
        # Both failing: panic, requests still go out instead of 503.
        a.health = b.health = 500
        wait_until("both unhealthy", lambda: [e["health_check"] for e in clusters(d)[0]["endpoints"]]
                   == ["unhealthy", "unhealthy"])
        self.assertEqual(c.get("/who"), 200)
        self.assertGreaterEqual(d.metric("dpuguard_upstream_panics_total"), 1)
        c.close()


if __name__ == "__main__":
    unittest.main()
