"""An upstream that records exactly the bytes it receives, for smuggling scenarios.

It answers each connection's first request with a small 200 and closes, so everything a test
caused upstream is in `received()`, connection by connection. It frames requests with its own
strict reader (below) only to know when to answer; the tests judge the recorded bytes.
"""
import re
import socket
import threading

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
REQUEST_LINE = re.compile(rb"^([A-Z]+) (/[^ ]*|\*) HTTP/1\.1$")


class RecordingUpstream:
    def __init__(self):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        with self.lock:
            self.connections = []

    def received(self):
        with self.lock:
            return [bytes(c) for c in self.connections]

    def close(self):
        self.srv.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = bytearray()
        with self.lock:
            self.connections.append(buf)
        c.settimeout(2.0)
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                with self.lock:
                    buf += data
                if parse_canonical(bytes(buf))[0] == "complete":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    # Keep reading briefly: anything more would be a smuggled request.
                    c.settimeout(0.3)
        except (socket.timeout, OSError):
            return
        finally:
            c.close()


def parse_canonical(raw):
    """Checks that `raw` is exactly one request in dpuguard's canonical form.

    Returns ("complete", None), ("partial", None) or ("bad", reason)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return ("partial", None)
    lines = raw[:end].split(b"\r\n")
    if not REQUEST_LINE.match(lines[0]):
        return ("bad", "request line %r" % lines[0])
    fields = []
    for line in lines[1:]:
        name, sep, value = line.partition(b": ")
        if not sep or not TOKEN.match(name) or value != value.strip(b" \t"):
            return ("bad", "field line %r" % line)
        if any(b < 0x20 and b != 0x09 or b == 0x7F for b in value):
            return ("bad", "control byte in %r" % line)
        fields.append((name.lower(), value))
    names = [n for n, _ in fields]
    if names.count(b"host") != 1:
        return ("bad", "%d Host fields" % names.count(b"host"))
    for hop in (b"connection", b"keep-alive", b"upgrade", b"te", b"trailer", b"http2-settings",
                b"proxy-connection", b"expect"):
        if hop in names:
            return ("bad", "hop-by-hop field %r forwarded" % hop)
    cl = [v for n, v in fields if n == b"content-length"]
    te = [v for n, v in fields if n == b"transfer-encoding"]
    if len(cl) + len(te) > 1 or te and te != [b"chunked"]:
        return ("bad", "framing fields cl=%r te=%r" % (cl, te))
    body = raw[end + 4:]
    if cl:
        if not re.match(rb"^(0|[1-9][0-9]*)$", cl[0]):
            return ("bad", "content-length %r" % cl[0])
        n = int(cl[0])
        if len(body) < n:
            return ("partial", None)
        return ("complete", None) if len(body) == n else ("bad", "%d bytes after the body" % (len(body) - n))
    if te:
        pos = 0
        while True:
            eol = body.find(b"\r\n", pos)
            if eol < 0:
                return ("partial", None)
            size_line = body[pos:eol]
            if not re.match(rb"^[0-9a-f]+$", size_line):
                return ("bad", "chunk size line %r (extensions must be dropped)" % size_line)
            size = int(size_line, 16)
            pos = eol + 2
            if size == 0:
                if len(body) < pos + 2:
                    return ("partial", None)
                if body[pos:pos + 2] != b"\r\n":
                    return ("bad", "trailers forwarded")
                rest = len(body) - pos - 2
                return ("complete", None) if rest == 0 else ("bad", "%d bytes after the body" % rest)
            if len(body) < pos + size + 2:
                return ("partial", None)
            if body[pos + size:pos + size + 2] != b"\r\n":
                return ("bad", "chunk not followed by CRLF")
            pos += size + 2
    return ("complete", None) if not body else ("bad", "%d bytes after a bodiless request" % len(body))
