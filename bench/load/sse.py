"""A streaming client of our own: time to first byte and per-event latency of SSE completions.

One keep-alive connection per target; each stream is a POST /v1/chat/completions with
"stream": true to the mock LLM (Host llm.bench), whose events carry the CLOCK_MONOTONIC moment
they were sent (t_mono_ns). Per stream: TTFB = request written -> first response byte, and per
event: received - sent. The same client measures direct-to-upstream, so the difference is
what the proxy adds."""
import json
import re
import socket
import statistics
import time

STAMP = re.compile(rb'"t_mono_ns": (\d+)')
REQUEST_BODY = json.dumps({"model": "dpuguard-demo-1", "stream": True, "max_tokens": 24,
                           "messages": [{"role": "user", "content": "one two three four five six seven"}]})


def _request(host):
    body = REQUEST_BODY.encode()
    return (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def stream_once(sock, request):
    """One streamed completion on `sock`: (ttfb_ns, [event latency ns])."""
    t0 = time.monotonic_ns()
    sock.sendall(request)
    data = b""
    ttfb = None
    latencies = []
    seen = 0
    while not data.endswith(b"\r\n0\r\n\r\n"):
        chunk = sock.recv(65536)
        now = time.monotonic_ns()
        if not chunk:
            raise RuntimeError("connection closed mid-stream")
        if ttfb is None:
            ttfb = now - t0
        data += chunk
        stamps = STAMP.findall(data)
        latencies += [now - int(s) for s in stamps[seen:]]
        seen = len(stamps)
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"stream refused: {data[:80]!r}")
    return ttfb, latencies


def measure(port, host, streams, context=None):
    """`streams` completions over one connection: medians and p99 in microseconds. `context`:
    an ssl.SSLContext to speak TLS through (the handshake is before the first stream)."""
    request = _request(host)
    ttfbs, events = [], []
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname=host)
    with sock:
        stream_once(sock, request)  # warm-up: the proxy's upstream connection
        for _ in range(streams):
            ttfb, lat = stream_once(sock, request)
            ttfbs.append(ttfb)
            events += lat
    events.sort()
    return {"streams": streams, "events": len(events),
            "ttfb_p50_us": statistics.median(ttfbs) / 1000, "event_p50_us": statistics.median(events) / 1000,
            "event_p99_us": events[int(len(events) * 0.99)] / 1000}
