"""The upstream connect timeout for real (issue 18): in a network namespace of its own (ctest
runs this suite under integration/in_private_net.sh) a SYN to 10.99.0.7 leaves into a veth
pair and is dropped, never answered; dpuguard answers 504 upstream_connect_timeout at
connect_timeout_ms. No nft/iptables needed: a neighbour entry for a MAC nobody has."""
import os
import subprocess
import time
import unittest

from chaos import ProxyTestCase, config, raw_exchange, status_of, whole_only

IN_NETNS = os.environ.get("DPUGUARD_PRIVATE_NET") == "1"


def blackhole():
    """10.99.0.0/24 on one end of a veth pair whose other end has no address, with a static
    neighbour for 10.99.0.7: SYNs to it leave and are dropped (no host has that MAC); nothing
    answers, not even ARP failure."""
    for cmd in (["ip", "link", "add", "dg-bh0", "type", "veth", "peer", "name", "dg-bh1"],
                ["ip", "addr", "add", "10.99.0.1/24", "dev", "dg-bh0"],
                ["ip", "link", "set", "dg-bh0", "up"], ["ip", "link", "set", "dg-bh1", "up"],
                ["ip", "neigh", "replace", "10.99.0.7", "lladdr", "02:00:00:00:00:07", "dev", "dg-bh0",
                 "nud", "permanent"]):
        subprocess.run(cmd, check=False, capture_output=True)
    r = subprocess.run(["ip", "route", "get", "10.99.0.7"], capture_output=True, text=True)
    return "dg-bh0" in r.stdout


@unittest.skipUnless(IN_NETNS, "needs a network namespace of its own (in_private_net.sh)")
@whole_only("the relays would take the connect themselves")
class ConnectTimeoutTest(ProxyTestCase):
    def test_a_black_holed_syn_is_504_at_connect_timeout_ms(self):
        self.assertTrue(blackhole(), "could not route 10.99.0.0/24 into a veth pair")
        d = self.p.dpuguard(config([7]).replace('"127.0.0.1:7"', '"10.99.0.7:8000"')
                            .replace("    endpoints:", "    connect_timeout_ms: 700\n    endpoints:"))
        t0 = time.monotonic()
        out = raw_exchange(d.port, b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=10)
        took = time.monotonic() - t0
        print(f"\nchaos figure: black-holed SYN: {status_of(out)} after {took * 1000:.0f} ms (connect_timeout_ms 700)")
        self.assertEqual(status_of(out), 504)
        self.assertIn(b'"code":"upstream_connect_timeout"', out)
        self.assertGreater(took, 0.6)
        self.assertLess(took, 1.5)
        self.assertEqual([f["reason"] for f in d.wait_flow_log(1)], ["upstream_connect_timeout"])


if __name__ == "__main__":
    unittest.main()
