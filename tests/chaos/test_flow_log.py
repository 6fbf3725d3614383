"""The flow log never blocks a worker (issue 18, item 7): with its reader stalled (a FIFO
nobody reads) requests go on being served at full speed, the lines that do not fit the queue
are dropped and counted; a Unix datagram socket gets one line per datagram."""
import json
import os
import socket
import threading
import time
import unittest

from chaos import KeepAlive, ProxyTestCase, config, whole_only
from test_admin_abuse import healthz


class FlowLogTest(ProxyTestCase):
    def test_a_stalled_reader_costs_lines_not_requests(self):
        ng = self.p.nginx()
        fifo = self.p.path("flow.fifo")
        os.mkfifo(fifo)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read
        try:
            text = config([ng]).replace("flow_log: stderr", f"flow_log: {fifo}\n  flow_log_queue_bytes: 65536")
            d = self.p.dpuguard(text)
            c = KeepAlive(d.port)
            t0 = time.monotonic()
            statuses = [c.get("/path/" + "x" * 200) for _ in range(3000)]
            took = time.monotonic() - t0
            c.close()
            self.assertEqual(statuses, [200] * 3000)
            status, _, _ = healthz(d.admin)
            self.assertEqual(status, 200)
            dropped = d.metric("dpuguard_flow_log_dropped_total")
            print(f"\nchaos figure: stalled flow-log reader: 3000 requests in {took:.2f} s, "
                  f"{dropped:.0f} flow-log lines dropped (64 KiB FIFO + 64 KiB queue)")
            self.assertGreater(dropped, 0)
            self.assertLess(took, 20)
            # The reader catches up: later lines arrive again.
            drained = b""
            deadline = time.time() + 5
            while time.time() < deadline:
                try:
                    chunk = os.read(reader, 1 << 20)
                    drained += chunk
                except BlockingIOError:
                    if drained:
                        break
                    time.sleep(0.05)
            self.assertTrue(drained.startswith(b"{"), drained[:100])
        finally:
            os.close(reader)

    def test_unix_datagram_socket_gets_one_line_per_datagram(self):
        ng = self.p.nginx()
        path = self.p.path("ship.sock")
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(path)
        rx.settimeout(5)
        d = self.p.dpuguard(config([ng]).replace("flow_log: stderr", f"flow_log: unix:{path}"))
        c = KeepAlive(d.port)
        for _ in range(3):
            self.assertEqual(c.get("/hello"), 200)
        c.close()
        lines = [json.loads(rx.recv(65536)) for _ in range(3)]
        self.assertEqual([(l["path"], l["status"]) for l in lines], [("/hello", 200)] * 3)
        rx.close()

    @whole_only("a config error at start-up; nothing to relay")
    def test_a_fifo_without_reader_is_a_config_error_not_a_hang(self):
        fifo = self.p.path("none.fifo")
        os.mkfifo(fifo)
        ng = self.p.nginx()
        t0 = time.monotonic()
        with self.assertRaises(RuntimeError):  # exits at once, naming the file
            self.p.dpuguard(config([ng]).replace("flow_log: stderr", f"flow_log: {fifo}"))
        self.assertLess(time.monotonic() - t0, 10)
        with open(self.p.path("dpuguard.log")) as f:
            self.assertIn("cannot open flow log", f.read())


if __name__ == "__main__":
    unittest.main()
