"""Out of file descriptors (issue 18, item 3): under `prlimit --nofile=256`, 400 idle
connections take every descriptor dpuguard may give clients; the worker stops polling its
listener instead of spinning (CPU under 20%), keeps serving the keep-alive canary that was
already open, /healthz keeps answering, the refusals are counted, and it accepts again once
descriptors are free."""
import time
import unittest

from chaos import KeepAlive, ProxyTestCase, config, cpu_share, get, open_idle, whole_only
from test_admin_abuse import healthz


@whole_only("counts descriptors and CPU of the proxy process; relays hold descriptors of their own")
class FdExhaustionTest(ProxyTestCase):
    def test_out_of_descriptors_the_worker_rests_and_serves_what_is_open(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  header_timeout_ms: 25000"),
                            prefix=("prlimit", "--nofile=256:256"))
        canary = KeepAlive(d.port)
        self.assertEqual(canary.get(), 200)
        idle = open_idle(d.port, 400, timeout=1.0)
        time.sleep(0.5)
        cpu = cpu_share(d.proc.pid, 2.0)
        answers = [canary.get() for _ in range(6)]
        health = [healthz(d.admin, timeout=2.0) for _ in range(4)]
        m = d.metrics()
        refused = m['dpuguard_accept_errors_total{reason="fd_reserve"}'] + m['dpuguard_accept_errors_total{reason="emfile"}']
        print(f"\nchaos figure: 400 idle connections under ulimit -n 256: dpuguard CPU {cpu * 100:.1f}% of a core, "
              f"{m['dpuguard_connections_active']:.0f} connections open, {refused:.0f} accepts refused, "
              f"canary {answers.count(200)}/6, /healthz {sum(h[0] == 200 for h in health)}/4 "
              f"(max {max(h[2] for h in health) * 1000:.0f} ms)")
        self.assertLess(cpu, 0.20)
        self.assertEqual(answers, [200] * 6)
        self.assertEqual([h[0] for h in health], [200] * 4)
        self.assertGreater(refused, 0)
        self.assertEqual(m["dpuguard_accept_paused"], 1)
        self.assertIn("accept failed", d.log())
        for s in idle:
            s.close()
        canary.close()
        # Recovery: descriptors are back, new clients are served again.
        deadline = time.time() + 10
        status = None
        while time.time() < deadline and status != 200:
            status, _ = get(d.port, timeout=2.0)
            time.sleep(0.1)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
