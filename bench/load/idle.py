"""Memory per idle keep-alive connection: a fresh proxy process, warmed up, then N client
connections that each complete one request and stay open; RSS growth / N."""
import re
import socket
import time


def rss_kb(pid):
    m = re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read())
    return int(m.group(1)) if m else 0


def _get(sock):
    sock.sendall(b"GET /small HTTP/1.1\r\nHost: bench\r\n\r\n")
    data = b""
    while not (b"\r\n\r\n" in data and data.endswith(b"ok\n")):
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("proxy closed an idle-test connection")
        data += chunk
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"idle-test request refused: {data[:60]!r}")


def _connect(port, context):
    s = socket.create_connection(("127.0.0.1", port))
    return context.wrap_socket(s, server_hostname="bench.test") if context is not None else s


def measure(port, pid, connections, context=None):
    """Opens `connections` keep-alive connections (one request each): KiB of RSS per connection.
    `context`: an ssl.SSLContext, for TLS connections (handshake, then the request)."""
    for _ in range(200):  # warm-up on one connection: pools, caches
        with _connect(port, context) as s:
            _get(s)
    time.sleep(0.2)
    before = rss_kb(pid)
    socks = []
    try:
        for _ in range(connections):
            s = _connect(port, context)
            _get(s)
            socks.append(s)
        time.sleep(0.5)  # let the proxy settle (deferred frees, timers)
        after = rss_kb(pid)
    finally:
        for s in socks:
            s.close()
    return {"connections": connections, "rss_before_kb": before, "rss_after_kb": after,
            "rss_per_conn_kb": (after - before) / connections}
