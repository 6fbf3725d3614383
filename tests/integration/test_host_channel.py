"""host:// backends end to end: curl -> dpuguard -> shm rings -> dpuguard-host -> nginx / mock LLM.

Also what happens when the host side is absent, dies mid-stream or comes back, and the flow
events `dpuguard-host events` prints.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest

from harness import HOST_BIN, ProxyTestCase, ResponseStream, curl, decoded_body, raw_exchange, read_to_end, recv_head, status_of



def host_config(extra_host_channel="", timeout_ms=0):
    return f"""listeners:
  - name: public
    address: 127.0.0.1:{{port}}
admin:
  address: 127.0.0.1:{{admin}}
workers: 1
host_channel:
  socket_dir: {{dir}}/sock
  stall_timeout_ms: 500
{extra_host_channel}
clusters:
  - name: host-llm
    endpoints: ["host://inference"]
routes:
  - name: all
    match: {{path_prefix: /}}
    cluster: host-llm
    timeout_ms: {timeout_ms}
logging:
  flow_log: stderr
"""


def open_completion_stream(port, max_tokens):
    """Sends a streaming chat completion (Connection: close); returns the socket."""
    req = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                      "stream": True, "max_tokens": max_tokens}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(req), req))
    return s


class HostChannelTest(ProxyTestCase):
    def start_host(self, backend_port, name="inference", mode="serve"):
        forward = ["--forward", f"http://127.0.0.1:{backend_port}"] if mode == "serve" else []
        return self.p.dpuguard_host(mode, name, *forward)

    def test_nginx_behind_the_ring(self):
        nginx = self.p.nginx()
        with open(self.p.path("www/big.bin"), "wb") as f:
            f.write(os.urandom(300_000))  # many ring messages per response
        self.start_host(nginx)
        dg = self.p.dpuguard(host_config())
        rc, out, err = curl("-i", dg.url("/hello"))
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(b"HTTP/1.1 200 OK\r\n"), out[:80])
        self.assertTrue(out.endswith(b"hello from nginx\n"))
        rc, out, _ = curl(dg.url("/big.bin"))
        with open(self.p.path("www/big.bin"), "rb") as f:
            self.assertEqual(out, f.read())
        rc, out, _ = curl("-i", dg.url("/nocontent"))
        self.assertEqual(status_of(out), 204)
        rc, out, _ = curl("-I", dg.url("/hello"))  # HEAD: a length, no body
        self.assertEqual(status_of(out), 200)
        rc, out, _ = curl(dg.url("/path/x?q=1"))
        self.assertEqual(out, b"/path/x?q=1\n")
        flows = dg.flow_log()
        self.assertTrue(all(f["endpoint"] == "host://inference" and f["status"] in (200, 204) for f in flows), flows)
        self.assertGreater(dg.metric("dpuguard_host_messages_received_total"), 5)
        self.assertEqual(dg.metric("dpuguard_host_channel_faults_total"), 0)

    def test_request_bodies_and_streamed_completion(self):
        llm = self.p.mock_llm(token_delay_ms=30)
        self.start_host(llm)
        dg = self.p.dpuguard(host_config())
        body = os.urandom(200_000).hex().encode()  # 400 KB: many ring messages each way
        with open(self.p.path("body.txt"), "wb") as f:
            f.write(body)
        rc, out, err = curl("-X", "POST", "--data-binary", "@" + self.p.path("body.txt"), dg.url("/_mock/echo"))
        self.assertEqual(rc, 0, err)
        self.assertTrue(out == body, f"echo differs: {len(out)} bytes back for {len(body)}")
        # The same body sent chunked by the client (framing is re-done on both sides).
        rc, out, err = curl("-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary",
                            "@" + self.p.path("body.txt"), dg.url("/_mock/echo"))
        self.assertTrue(out == body, f"chunked echo differs: {len(out)} bytes back for {len(body)}")

        # SSE: events arrive one by one, spaced by the mock's token delay, not all at the end.
        s = open_completion_stream(dg.port, 6)
        arrivals, stream, seen = [], ResponseStream(), 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            stream.feed(chunk)
            events = stream.body.count(b"data: ")  # (an event may arrive in pieces)
            arrivals.append((time.monotonic(), events - seen))
            seen = events
        s.close()
        buf = stream.body
        events = sum(n for _, n in arrivals)
        self.assertEqual(events, 7, buf[-300:])  # 6 tokens + [DONE]
        with_events = [t for t, n in arrivals if n]
        self.assertGreater(len(with_events), 3, "events were batched instead of streamed")
        self.assertGreater(with_events[-1] - with_events[0], 0.1)

    def test_concurrent_streams_share_the_channel_thread(self):
        # The bridge is an event loop on the channel's thread: 40 streams in flight at once
        # cost dpuguard-host no thread each, and every one still streams event by event.
        llm = self.p.mock_llm(token_delay_ms=60)
        host = self.start_host(llm)
        dg = self.p.dpuguard(host_config())
        streams = [open_completion_stream(dg.port, 8) for _ in range(40)]
        bufs = [ResponseStream() for _ in streams]  # chunked on the wire: count decoded events
        for s in streams:
            s.setblocking(False)
        deadline = time.monotonic() + 30
        threads = []
        open_streams = set(range(len(streams)))
        while open_streams and time.monotonic() < deadline:
            for i in list(open_streams):
                try:
                    chunk = streams[i].recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    open_streams.discard(i)
                    streams[i].close()
                bufs[i].feed(chunk)
            if len(open_streams) == len(streams) and all(b.body.count(b"data: ") >= 2 for b in bufs):
                threads.append(len(os.listdir(f"/proc/{host.pid}/task")))  # all 40 mid-stream
            time.sleep(0.005)
        self.assertFalse(open_streams, "streams did not finish")
        for b in bufs:
            self.assertEqual(b.body.count(b"data: "), 9, b.body[-200:])  # 8 tokens + [DONE]
        self.assertTrue(threads, "never saw all 40 streams in flight together")
        self.assertLessEqual(max(threads), 3, f"dpuguard-host threads with 40 streams: {threads}")
        self.assertEqual(dg.metric("dpuguard_host_channel_faults_total"), 0)

    def test_a_large_answer_fills_the_ring_and_arrives_whole(self):
        # 24 MB from nginx: the host's queue for the ring fills (the bridge stops reading its
        # backend, then starts again); the bytes arrive unchanged, twice on one connection.
        nginx = self.p.nginx()
        data = os.urandom(24 << 20)
        with open(self.p.path("www/large.bin"), "wb") as f:
            f.write(data)
        self.start_host(nginx)
        dg = self.p.dpuguard(host_config())
        rc, out, err = curl("-o", self.p.path("got1"), "-o", self.p.path("got2"),
                            dg.url("/large.bin"), dg.url("/large.bin"))
        self.assertEqual(rc, 0, err)
        for name in ("got1", "got2"):
            with open(self.p.path(name), "rb") as f:
                self.assertTrue(f.read() == data, f"{name} differs from what nginx sent")
        self.assertEqual(dg.metric("dpuguard_host_channel_faults_total"), 0)

    def test_a_client_that_stops_reading_holds_back_only_its_own_backend(self):
        # Per-stream flow control: while one client reads nothing for 2 s, the host sends no
        # more than the stream's window for it (its 24 MB answer is not cut for lagging), and
        # another client on the same channel is answered meanwhile.
        nginx = self.p.nginx()
        data = os.urandom(24 << 20)
        with open(self.p.path("www/large.bin"), "wb") as f:
            f.write(data)
        self.start_host(nginx)
        dg = self.p.dpuguard(host_config())
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.connect(("127.0.0.1", dg.port))
        s.sendall(b"GET /large.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(0.5)
        rc, out, err = curl(dg.url("/hello"))
        self.assertEqual((rc, out), (0, b"hello from nginx\n"), err)
        time.sleep(1.5)
        stream = ResponseStream()
        s.settimeout(20)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            stream.feed(chunk)
        s.close()
        self.assertEqual(status_of(stream.head), 200)
        self.assertTrue(stream.body == data, f"{len(stream.body)} bytes of {len(data)}")
        self.assertEqual(dg.metric("dpuguard_host_channel_faults_total"), 0)

    def test_bad_numbers_on_dpuguard_hosts_command_line_are_usage_errors(self):
        base = [HOST_BIN, "serve", "x", "--forward", "http://127.0.0.1:1", "--socket-dir", self.p.path("sock")]
        for flag, value in (("--attest-interval-ms", "abc"), ("--attest-interval-ms", "-1"),
                            ("--attest-interval-ms", "0"), ("--attest-interval-ms", "99999999999999999999"),
                            ("--ring-slots", "abc"), ("--drain-ms", ""), ("--forward", "http://127.0.0.1:80x")):
            r = subprocess.run([*base, flag, value], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (flag, value, r.stderr))
            self.assertIn("usage: dpuguard-host", r.stderr)
        r = subprocess.run([*base, "--drain-ms"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, "a flag without its value")

    def test_no_host_is_a_fast_502(self):
        dg = self.p.dpuguard(host_config())
        t0 = time.monotonic()
        rc, out, _ = curl("-i", dg.url("/v1/models"))
        self.assertEqual(status_of(out), 502)
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(dg.wait_flow_log(1)[-1]["reason"], "upstream_connect_failed")

    def test_host_dies_mid_stream_then_comes_back(self):
        llm = self.p.mock_llm(token_delay_ms=200)
        host = self.start_host(llm)
        dg = self.p.dpuguard(host_config())
        s = open_completion_stream(dg.port, 50)
        first = recv_head(s)
        self.assertEqual(status_of(first), 200)
        t0 = time.monotonic()
        host.send_signal(signal.SIGKILL)
        host.wait()
        rest = read_to_end(s)  # the client connection is cut (the response had started): no hang
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertNotIn(b"[DONE]", decoded_body(first + rest))
        self.assertGreaterEqual(dg.metric("dpuguard_host_channel_faults_total"), 1)
        # Meanwhile new requests fail fast; then the host is back and the channel re-created.
        self.assertEqual(status_of(raw_exchange(dg.port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 502)
        self.start_host(llm)
        time.sleep(0.3)  # past the reconnect back-off
        rc, out, _ = curl("-i", dg.url("/v1/models"))
        self.assertEqual(status_of(out), 200)
        self.assertGreaterEqual(dg.metric("dpuguard_host_channel_connects_total"), 2)

    def test_stalled_host_gives_504_or_502_not_a_hang(self):
        llm = self.p.mock_llm()
        host = self.start_host(llm)
        dg = self.p.dpuguard(host_config())
        rc, out, _ = curl("-i", dg.url("/v1/models"))
        self.assertEqual(status_of(out), 200)
        host.send_signal(signal.SIGSTOP)  # alive, socket open, never polls: a stall
        try:
            t0 = time.monotonic()
            rc, out, _ = curl("-i", "-m", "10", dg.url("/v1/models"))
            self.assertEqual(status_of(out), 502)
            self.assertLess(time.monotonic() - t0, 3.0)  # stall_timeout_ms is 500
            self.assertIn("stalled", dg.log())
        finally:
            host.send_signal(signal.SIGCONT)

    def test_host_drain_lets_streams_finish(self):
        llm = self.p.mock_llm(token_delay_ms=100)
        host = self.start_host(llm)
        dg = self.p.dpuguard(host_config())
        s = open_completion_stream(dg.port, 8)
        buf = s.recv(65536)
        host.send_signal(signal.SIGTERM)  # graceful host restart: drain, then exit
        time.sleep(0.2)
        # No new requests go to a draining host...
        self.assertEqual(status_of(raw_exchange(dg.port, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")), 502)
        buf = read_to_end(s, buf)  # ...but the stream in flight runs to its end.
        self.assertIn(b"data: [DONE]", decoded_body(buf))
        self.assertEqual(host.wait(timeout=10), 0)
        self.assertIn("host asked to drain", dg.log())
        self.assertEqual(dg.metric("dpuguard_host_channel_faults_total"), 0)
        self.start_host(llm)  # the restarted host serves again
        time.sleep(0.3)
        rc, out, _ = curl("-i", dg.url("/v1/models"))
        self.assertEqual(status_of(out), 200)

    def test_flow_events_reach_dpuguard_host_events(self):
        nginx = self.p.nginx()
        self.start_host(nginx)
        events = self.start_host(0, name="audit", mode="events")
        dg = self.p.dpuguard(host_config("  events: audit"))
        for path in ("/hello", "/nocontent", "/missing"):
            curl(dg.url(path))
        deadline = time.time() + 5
        lines = []
        while time.time() < deadline and len(lines) < 3:
            with open(self.p.path("host-audit-events.log")) as f:
                lines = [json.loads(l) for l in f if l.startswith("{")]
            time.sleep(0.05)
        self.assertEqual([e["status"] for e in lines], [200, 204, 404])
        self.assertEqual({e["route"] for e in lines}, {"all"})
        self.assertEqual(lines[0]["client"], "127.0.0.1")
        # Each event names the measurement that judged it: the one dpuguard logged at start.
        measured = re.search(r"dpuguard: measurement ([0-9a-f]{16}) ", dg.log())
        self.assertIsNotNone(measured, dg.log()[-500:])
        self.assertEqual({e["measurement"] for e in lines}, {measured.group(1)})


if __name__ == "__main__":
    unittest.main()
