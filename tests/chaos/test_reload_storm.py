"""Reload storm (issue 18): 40 SIGHUPs, every third file broken (a YAML error, an unknown key,
an unknown cluster), under wrk: zero failed requests, every broken file rejected and logged,
every good one taken."""
import os
import re
import signal
import subprocess
import time
import unittest

from chaos import ProxyTestCase, config, whole_only

BROKEN = ["listeners: [\n", "loging:\n  flow_log: stderr\n", None]


@whole_only("a load generator against the proxy; the relays would be what is measured")
class ReloadStormTest(ProxyTestCase):
    def test_forty_reloads_with_broken_files_under_load_fail_no_request(self):
        ng = self.p.nginx()
        good = config([ng]).replace("flow_log: stderr", "flow_log: off")
        d = self.p.dpuguard(good)
        text = open(d.config_path).read()
        wrk = subprocess.Popen(["wrk", "-t1", "-c16", "-d12s", "--latency", f"http://127.0.0.1:{d.port}/hello"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        broken = 0
        for i in range(40):
            if i % 3 == 2:
                bad = BROKEN[(i // 3) % 3]
                d.rewrite_config(bad if bad is not None else text.replace("cluster: up", "cluster: nowhere"))
                broken += 1
            else:
                d.rewrite_config(text.replace("timeout_ms", "timeout_ms") + f"# reload {i}\n")
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(0.25)
        out, _ = wrk.communicate(timeout=60)
        m = re.search(r"(\d+) requests in", out)
        requests = int(m.group(1)) if m else 0
        errors = re.search(r"Socket errors: (.*)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(f"\nchaos figure: reload storm: {requests} requests under 40 SIGHUPs ({broken} broken files), "
              f"socket errors: {errors.group(1) if errors else 'none'}, non-2xx: {non2xx.group(1) if non2xx else 0}")
        self.assertGreater(requests, 1000, out)
        self.assertIsNone(errors, out)
        self.assertIsNone(non2xx, out)
        m = d.metrics()
        self.assertEqual(m['dpuguard_config_reloads_total{result="rejected"}'], broken)
        self.assertEqual(m['dpuguard_config_reloads_total{result="ok"}'], 40 - broken)
        self.assertEqual(d.log().count("reload rejected"), broken)


if __name__ == "__main__":
    unittest.main()
