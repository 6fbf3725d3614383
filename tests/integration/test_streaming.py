"""SSE through dpuguard: each event is forwarded as soon as the upstream sends it."""
import json
import socket
import time
import unittest

from harness import ProxyTestCase, ResponseStream, config, curl


def read_events(port, body, host="x"):
    """Sends a streaming chat request; returns [(arrival_seconds, event_text)]."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (host.encode(), len(body), body))
    events, buf, stream = [], b"", ResponseStream()
    while True:
        chunk = s.recv(65536)
        now = time.monotonic()
        if not chunk:
            break
        buf += stream.feed(chunk)
        while b"data: " in buf and b"\n\n" in buf[buf.index(b"data: "):]:
            start = buf.index(b"data: ")
            end = buf.index(b"\n\n", start)
            events.append((now, buf[start + 6:end].decode()))
            buf = buf[end + 2:]
    s.close()
    return events


class StreamingTest(ProxyTestCase):
    def test_sse_events_arrive_one_by_one(self):
        delay_ms = 150
        up = self.p.mock_llm(token_delay_ms=delay_ms)
        d = self.p.dpuguard(config([up]))
        body = json.dumps({"model": "m", "stream": True, "max_tokens": 6,
                           "messages": [{"role": "user", "content": "stream please"}]}).encode()
        events = read_events(d.port, body)
        self.assertEqual(events[-1][1], "[DONE]")
        tokens = [json.loads(e) for _, e in events[:-1]]
        self.assertEqual(len(tokens), 6)
        gaps = [(b[0] - a[0]) * 1000 for a, b in zip(events, events[1:])]
        print(f"\nSSE inter-arrival gaps through dpuguard (upstream sends every {delay_ms} ms): "
              + ", ".join(f"{g:.0f}" for g in gaps))
        # Batching would show up as gaps near 0 followed by a multiple of the delay.
        for g in gaps:
            self.assertGreater(g, delay_ms * 0.5, gaps)
        # And the proxy adds no delay of its own: the upstream stamps each event when it sends it.
        lags = [(t - tokens[i]["t_ms"] / 1000.0) for i, (t, _) in enumerate(events[:-1])]
        # (monotonic vs wall clock: compare lags with each other, not with zero)
        self.assertLess(max(lags) - min(lags), 0.1, lags)

    def test_streamed_response_with_curl(self):
        up = self.p.mock_llm(token_delay_ms=10)
        d = self.p.dpuguard(config([up]))
        rc, out, err = curl("-N", "-H", "Content-Type: application/json", "-d",
                            '{"stream": true, "max_tokens": 3, "messages": [{"role": "user", "content": "x"}]}',
                            d.url("/v1/chat/completions"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.count(b"data: "), 4)
        self.assertTrue(out.rstrip().endswith(b"data: [DONE]"))


if __name__ == "__main__":
    unittest.main()
