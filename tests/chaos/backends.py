"""Small upstreams for fault cases, each a real TCP server on loopback in a thread:
ControlledBackend answers GET /health with a status the test sets, anything else with its
name (or a status the test sets, with Retry-After); SlowAcceptBackend has a small accept
queue and accepts slowly, and streams an SSE-like chunked answer to every request."""
import socket
import threading
import time


def read_head(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = c.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(rest) < length:
        chunk = c.recv(65536)
        if not chunk:
            break
        rest += chunk
    read_head.last_body = rest[:length]
    return head


class ControlledBackend:
    def __init__(self, name):
        self.name = name.encode()
        self.health = 200
        self.status = 200  # for ordinary requests
        self.retry_after = None
        self.hits = 0
        self.bodies = []
        self.health_checks = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(128)
        self.port = self.srv.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            while True:
                head = read_head(c)
                if head is None:
                    return
                path = head.split(b" ")[1]
                if path == b"/health":
                    self.health_checks += 1
                    status, body, extra = self.health, b"health\n", b""
                else:
                    self.hits += 1
                    self.bodies.append(read_head.last_body)
                    status, body = self.status, self.name + b"\n"
                    extra = b"Retry-After: %d\r\n" % self.retry_after if self.retry_after is not None else b""
                c.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n%s\r\n%s" % (status, len(body), extra, body))
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.srv.close()


class SlowAcceptBackend:
    """listen(backlog), one accept every `accept_gap` s: under a burst the queue overflows and
    the kernel drops SYNs, so connects time out although the backend is alive and answering."""

    def __init__(self, backlog=8, accept_gap=0.005, stream_s=1.0):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(backlog)
        self.port = self.srv.getsockname()[1]
        self.accept_gap, self.stream_s = accept_gap, stream_s
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()
            time.sleep(self.accept_gap)

    def _serve(self, c):
        try:
            while True:
                head = read_head(c)
                if head is None:
                    return
                if b" /stream" not in head.split(b"\r\n")[0]:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                    continue
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in range(int(self.stream_s / 0.1)):
                    ev = b"data: tok\n\n"
                    c.sendall(b"%x\r\n%s\r\n" % (len(ev), ev))
                    time.sleep(0.1)
                c.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.srv.close()
