"""Messages that arrive in pieces (issue 22): a request or response head in progress must
survive the next read, wherever the stream is cut.

dpuguard kept views into its input buffer for a head in progress; once the parser had
consumed every buffered byte the buffer rewound to offset 0 and the next read overwrote the
bytes behind those views: heads sent in two writes were refused (400 discontiguous_input),
forwarded corrupted, or smuggled. Here every head is cut on purpose, on loopback, into real
dpuguard: at every offset (one connection per cut, two writes with a pause so they land in
separate reads), one byte per write, over a 536-byte MSS, inside a pipelined request, inside
chunk-size lines, extensions and trailers, in a construction whose second write, laid over
the first, would spell another request, in response heads from the upstream, and one byte
every 2 s (408 at header_timeout_ms, not a 400 at the second byte).

The upstream must receive exactly the canonical bytes it receives for the same message sent
in one write, and the client exactly the same response.
"""
import json
import re
import select
import socket
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import ProxyTestCase, config, status_of
from recording_upstream import parse_canonical

PAUSE = 0.02   # between the writes of a cut message: long enough for separate reads
WORKERS = 4    # cuts tried at once, each on its own connection


# --- client side ------------------------------------------------------------------------
def connect(port, mss=None, timeout=10.0):
    s = socket.socket()
    if mss is not None:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)  # before connect: the SYN's MSS
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def send_pieces(s, pieces, pause=PAUSE):
    for i, piece in enumerate(pieces):
        if i:
            time.sleep(pause)
        s.sendall(piece)


def cut(data, *offsets):
    """`data` cut at the given offsets."""
    bounds = [0, *offsets, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


class Reader:
    """Reads HTTP/1.1 responses off a socket, however they arrive."""

    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def _more(self):
        try:
            chunk = self.s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            raise EOFError(f"connection closed with {len(self.buf)} bytes unparsed: {self.buf[:200]!r}")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def response(self):
        """The next response's bytes, exactly as received (head and framed body)."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        end = self.buf.index(b"\r\n\r\n") + 4
        head, self.buf = self.buf[:end], self.buf[end:]
        status = status_of(head)
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(b":") for line in head.split(b"\r\n")[1:] if line)}
        if status is None or status < 200 or status in (204, 304):
            return head
        if b"content-length" in fields:
            return head + self._take(int(fields[b"content-length"]))
        if fields.get(b"transfer-encoding") == b"chunked":
            body = b""
            while True:
                line = self._line()
                body += line + b"\r\n"
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while True:  # trailer section, up to the blank line
                        t = self._line()
                        body += t + b"\r\n"
                        if not t:
                            return head + body
                body += self._take(size + 2)
        while not self.eof:  # delimited by the close
            try:
                self._more()
            except EOFError:
                break
        out, self.buf = head + self.buf, b""
        return out


def exchange_in_pieces(port, pieces, responses=1, pause=PAUSE, mss=None):
    """Sends `pieces` on a new connection (a pause between writes); returns the responses."""
    s = connect(port, mss=mss)
    try:
        send_pieces(s, pieces, pause)
        r = Reader(s)
        return [r.response() for _ in range(responses)]
    finally:
        s.close()


def body_of(response):
    return response.split(b"\r\n\r\n", 1)[1]


def dechunked(message):
    """`message` (a head and its body) with a chunked body decoded: (head, data, trailer
    lines). Where a proxy cuts the chunks it forwards depends on how the data arrived, so
    chunked bodies are compared decoded; anything else is compared byte for byte."""
    head, _, body = message.partition(b"\r\n\r\n")
    if not re.search(rb"\r\ntransfer-encoding: chunked\r\n", head + b"\r\n", re.I):
        return message
    data, pos = b"", 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            return head, data, body[pos:]
        data += body[pos:pos + size]
        if body[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError(f"chunk not followed by CRLF in {message!r}")
        pos += size + 2


def describe(data, offsets):
    return f"{data!r} cut at {list(offsets)}"


class SegmentedTest(ProxyTestCase):
    def run_cuts(self, cases, attempt):
        """Runs attempt(key) for every key of `cases`, a few at a time; fails listing every
        key whose attempt raised or returned a complaint (a string)."""
        failures = []

        def one(key):
            try:
                complaint = attempt(key)
            except Exception as e:  # noqa: BLE001 -- every failure is reported with its cut
                complaint = f"{type(e).__name__}: {e}"
            if complaint:
                failures.append((key, complaint))

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(one, cases))
        if failures:
            failures.sort(key=lambda f: f[0])
            self.fail(f"{len(failures)} of {len(cases)} cuts failed ({[k for k, _ in failures][:40]}); the first:\n"
                      + "\n".join(f"  {k}: {c}" for k, c in failures[:6]))

    def recorded(self, up, expect_connections, timeout=5.0):
        """The upstream's connections once it has `expect_connections` and every one of them
        has stopped reading (it lingers 0.3 s after its answer to catch a smuggled request)."""
        deadline = time.time() + timeout
        while len(up.received()) < expect_connections and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.4)
        return up.received()

    def reference(self, d, up, request, responses=1):
        """What the upstream receives, connection by connection, for `request` in one write."""
        up.reset()
        out = exchange_in_pieces(d.port, [request], responses=responses)
        self.assertEqual([status_of(r) for r in out], [200] * responses, out)
        got = self.recorded(up, responses)
        self.assertEqual(len(got), responses, got)
        for g in got:
            self.assertEqual(parse_canonical(g), ("complete", None), g)
        up.reset()
        return got

    def check_recorded(self, up, expected, total):
        """Every upstream connection holds exactly the request in `expected` under its X-Split
        id (chunked bodies decoded), and one connection per id."""
        got = self.recorded(up, total)
        bad, seen = [], {}
        for g in sorted(got):
            m = re.search(rb"\r\nX-Split: (\d+)\r\n", g)
            key = m and int(m.group(1))
            verdict = parse_canonical(g)
            if verdict != ("complete", None):
                bad.append(f"cut {key}: upstream got a non-canonical request ({verdict}): {g!r}")
            elif key not in expected or dechunked(g) not in [dechunked(e) for e in expected[key]]:
                bad.append(f"cut {key}: upstream got {g!r}, want one of {expected.get(key)!r}")
            seen[key] = seen.get(key, 0) + 1
        bad += [f"cut {k}: {n} upstream connections" for k, n in sorted(seen.items(), key=str) if n > 1]
        if bad:
            self.fail(f"{len(bad)} of {len(got)} upstream connections wrong; the first:\n" + "\n".join(bad[:6]))
        self.assertEqual(len(got), total, f"upstream connections {len(got)}, want {total}: {sorted(seen.items())}")

    # --- request heads ------------------------------------------------------------------
    def test_request_head_split_at_every_offset(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        request = (b"GET /v1/models/split?q=a%20b&x=1 HTTP/1.1\r\nHost: api.example\r\n"
                   b"User-Agent: segmented-test/1.0\r\nAccept: */*\r\nX-Split: 000\r\n"
                   b"X-Forwarded-For: 10.1.2.3\r\nX-Empty:\r\nX-Trim: \t padded \t\r\n\r\n")
        [ref] = self.reference(d, up, request)
        offsets = range(1, len(request))
        expected = {k: [ref.replace(b"X-Split: 000", b"X-Split: %03d" % k)] for k in offsets}

        def attempt(k):
            req = request.replace(b"X-Split: 000", b"X-Split: %03d" % k)
            [resp] = exchange_in_pieces(d.port, cut(req, k))
            if status_of(resp) != 200:
                return f"{describe(req, [k])}: answered {resp[:300]!r}"

        self.run_cuts(offsets, attempt)
        self.check_recorded(up, expected, len(offsets))
        flows = d.wait_flow_log(len(offsets) + 1)
        self.assertEqual({(f["status"], f["reason"], f["path"]) for f in flows}, {(200, "proxied", "/v1/models/split")})

    def test_request_byte_by_byte(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        first = (b"POST /v1/chat/completions?stream=0 HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
                 b"X-Split: 001\r\nContent-Length: 27\r\n\r\n{\"model\":\"m\",\"messages\":[]}")
        second = b"GET /v1/models HTTP/1.1\r\nHost: api\r\nX-Split: 002\r\nAccept: */*\r\n\r\n"
        refs = {1: self.reference(d, up, first), 2: self.reference(d, up, second)}
        # Both on one keep-alive connection, each byte its own write (TCP_NODELAY, 1 ms apart).
        s = connect(d.port)
        r = Reader(s)
        responses = []
        for request in (first, second):
            sent = 0
            try:
                for i in range(len(request)):
                    send_pieces(s, [request[i:i + 1]])
                    sent += 1
                    time.sleep(0.001)
            except OSError:  # refused early: the answer says why
                pass
            responses.append(r.response())
            self.assertEqual(status_of(responses[-1]), 200, f"after {sent} bytes of {request!r}: {responses[-1]!r}")
        s.close()
        self.check_recorded(up, refs, 2)

    def test_6k_authorization_over_536_byte_mss(self):
        ng = self.p.nginx('location = /auth { return 200 "$http_authorization"; }')
        d = self.p.dpuguard(config([ng]))
        token = "Bearer " + "".join("abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(6 * 1024))
        request = (f"GET /auth HTTP/1.1\r\nHost: api\r\nAuthorization: {token}\r\nAccept: */*\r\n\r\n").encode()
        connections, per_connection = 30, 3

        def attempt(n):
            s = connect(d.port, mss=536)
            try:
                got_mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
                r = Reader(s)
                for i in range(per_connection):
                    s.sendall(request)
                    resp = r.response()
                    if status_of(resp) != 200 or body_of(resp) != token.encode():
                        return f"connection {n} (mss {got_mss}) request {i}: answered {resp[:300]!r}"
            finally:
                s.close()

        self.run_cuts(range(connections), attempt)
        flows = d.wait_flow_log(connections * per_connection)
        self.assertEqual([(f["status"], f["reason"]) for f in flows], [(200, "proxied")] * connections * per_connection)

    def test_pipelined_requests_cut_inside_the_second(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        first = b"GET /first HTTP/1.1\r\nHost: api\r\nX-Split: 000\r\n\r\n"
        second = (b"POST /second?x=1 HTTP/1.1\r\nHost: api\r\nX-Split: 000\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: 11\r\n\r\nhello world")
        ref1, ref2 = self.reference(d, up, first + second, responses=2)
        if b"/first" not in ref1:
            ref1, ref2 = ref2, ref1
        offsets = range(0, len(second))  # 0: cut right between the two requests
        expected = {}
        for k in offsets:
            expected[2 * k] = [ref1.replace(b"X-Split: 000", b"X-Split: %03d" % (2 * k))]
            expected[2 * k + 1] = [ref2.replace(b"X-Split: 000", b"X-Split: %03d" % (2 * k + 1))]

        def attempt(k):
            a = first.replace(b"X-Split: 000", b"X-Split: %03d" % (2 * k))
            b = second.replace(b"X-Split: 000", b"X-Split: %03d" % (2 * k + 1))
            out = exchange_in_pieces(d.port, cut(a + b, len(a) + k), responses=2)
            if [status_of(x) for x in out] != [200, 200]:
                return f"{describe(a + b, [len(a) + k])}: answered {out!r}"

        self.run_cuts(offsets, attempt)
        self.check_recorded(up, expected, 2 * len(offsets))

    def test_chunked_body_cut_in_size_lines_extensions_and_trailers(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        head = (b"POST /v1/upload HTTP/1.1\r\nHost: api\r\nX-Split: 000\r\nContent-Type: text/plain\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        body = (b"1a;name=value;q=\"x y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                b"5;flag\r\nhello\r\n"
                b"0\r\nX-Trailer: t\r\nX-Other: two words\r\n\r\n")
        request = head + body
        [ref] = self.reference(d, up, request)
        self.assertTrue(ref.endswith(b"\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n5\r\nhello\r\n0\r\n\r\n"), ref)
        # Every offset from the head's last CRLF to the last byte: inside each size line, inside
        # the extension, between every CR and LF, inside and between the trailer fields...
        single = [(k,) for k in range(len(head) - 2, len(request))]
        # ...and all of those places at once in one request.
        at = lambda needle, delta=0: request.index(needle) + delta
        several = [(at(b"1a;") + 1, at(b";name") + 3, at(b"\"x y") + 2, at(b"y\"\r\n") + 3, at(b"5;flag") + 1, at(b"flag") + 2,
                    at(b"flag\r\n") + 5, at(b"X-Trailer") + 4, at(b"X-Other") + 7, len(request) - 1)]
        cases = single + several

        def split_of(i):
            return b"X-Split: %03d" % i

        expected = {i: [ref.replace(b"X-Split: 000", split_of(i))] for i in range(len(cases))}

        def attempt(i):
            req = request.replace(b"X-Split: 000", split_of(i))
            [resp] = exchange_in_pieces(d.port, cut(req, *cases[i]))
            if status_of(resp) != 200:
                return f"{describe(req, cases[i])}: answered {resp[:300]!r}"

        self.run_cuts(range(len(cases)), attempt)
        self.check_recorded(up, expected, len(cases))

    def test_second_write_laid_over_the_first_smuggles_nothing(self):
        """The first write ends right after `X-A: `: the parser has consumed every byte, and with
        the bug the second write landed at offset 0, under the views of the first. Read at
        the first write's positions, the second spells `X-P: ...\\r\\n\\r\\n` (the end of a
        request), then `GET /admin/secret HTTP/1.1\\r\\nX-Smuggled: yes` where the first had a
        38-byte field name: with the bug the upstream got GET /ok and then GET /admin/secret.
        Read properly it is one request, GET /ok, with a few odd field values."""
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        smuggled = b"GET /admin/secret HTTP/1.1\r\nX-Smuggled"
        name = b"X-Long-Field-Name-Of-38-Bytes-Exactly-"
        self.assertEqual(len(name), len(smuggled))
        w1 = (b"GET /ok HTTP/1.1\r\nHost: a\r\nX-P: " + b"p" * 20 + b"\r\n" + name + b": abc\r\nX-A: ")
        ends = len(w1)
        name_at = w1.index(name)
        # The second write: the X-A value copies the first write (CRLFs as spaces) up to 4 bytes
        # before the long name, so the views of the request line, Host and X-P read the same;
        # then a CRLF (which ends X-P's stale view), "Q:" and the smuggled line, whose CRLF and
        # "X-Smuggled" sit under the long name, and "yes" under its value "abc".
        value = w1[:name_at - 4].replace(b"\r\n", b"  ")
        w2 = value + b"\r\nQ:" + smuggled + b": yes\r\nX-B: c\r\n\r\n"
        self.assertEqual(w2.index(smuggled), name_at)
        self.assertEqual(w2[w1.index(b": abc") + 2:][:3], b"yes")
        self.assertGreater(len(w2), ends)
        [ref] = self.reference(d, up, w1 + w2)
        self.assertTrue(ref.startswith(b"GET /ok HTTP/1.1\r\n"), ref)
        flows_before = len(d.wait_flow_log(1))
        answers = []
        for attempt in range(3):
            s = connect(d.port)
            send_pieces(s, [w1, w2], pause=0.1)
            try:
                answers.append(Reader(s).response())
            except EOFError as e:
                answers.append(str(e).encode())
            s.close()
        got = self.recorded(up, 3)
        for g in got:  # what reached the upstream first: with the bug, two requests
            self.assertNotIn(b"\r\nGET /admin/secret", g, f"smuggled: {g!r}")  # (only inside the field Q)
            self.assertEqual(parse_canonical(g), ("complete", None), g)
            self.assertEqual(g, ref)
        self.assertEqual(len(got), 3, got)
        self.assertEqual([status_of(a) for a in answers], [200] * 3, answers)
        flows = d.wait_flow_log(flows_before + 3)[flows_before:]
        self.assertEqual([(f["method"], f["path"], f["status"], f["reason"]) for f in flows],
                         [("GET", "/ok", 200, "proxied")] * 3)

    # --- response heads -----------------------------------------------------------------
    def test_response_head_split_at_every_offset(self):
        plain = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Resp-A: alpha\r\nX-Resp-B: beta gamma \r\n"
                 b"Cache-Control: no-store\r\nX-Empty:\r\nContent-Length: 5\r\n\r\nhello")
        chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Resp-A: alpha\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        answers = {b"plain": plain, b"chunked": chunked}
        port = self.p.relay(start_cutting_upstream(self, answers))
        d = self.p.dpuguard(config([port]))
        cases = [(kind, k) for kind, raw in answers.items() for k in range(0, len(raw))]  # 0: one write
        reference = {kind: exchange_in_pieces(d.port, [b"GET /%s/0 HTTP/1.1\r\nHost: a\r\n\r\n" % kind])[0]
                     for kind in answers}
        for kind, resp in reference.items():
            self.assertEqual(status_of(resp), 200, resp)
            self.assertIn(b"hello", resp)

        def attempt(case):
            kind, k = case
            [resp] = exchange_in_pieces(d.port, [b"GET /%s/%d HTTP/1.1\r\nHost: a\r\n\r\n" % (kind, k)])
            if dechunked(resp) != dechunked(reference[kind]):
                return f"upstream response {describe(answers[kind], [k])}: client got {resp!r}, want {reference[kind]!r}"

        self.run_cuts(cases, attempt)
        flows = d.wait_flow_log(len(cases) + 2)
        self.assertEqual({(f["status"], f["reason"]) for f in flows}, {(200, "proxied")})

    # --- slowloris ----------------------------------------------------------------------
    def test_one_byte_every_2s_gets_408_at_header_timeout(self):
        ng = self.p.nginx()
        d = self.p.dpuguard(config([ng], extra_top="limits:\n  header_timeout_ms: 3000"))
        request = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
        s = connect(d.port)
        start = time.monotonic()
        out, sent = b"", 0
        try:
            for byte in request[:6]:  # bounded: 6 bytes, 12 s; the 408 is due after 3
                try:
                    s.sendall(bytes([byte]))
                    sent += 1
                except OSError:
                    break
                ready, _, _ = select.select([s], [], [], 2.0)
                if ready:
                    r = Reader(s)
                    out = r.response()
                    break
        finally:
            elapsed = time.monotonic() - start
            s.close()
        self.assertEqual(status_of(out), 408, f"after {sent} bytes, {elapsed:.1f} s: {out!r}")
        self.assertEqual(json.loads(body_of(out))["error"]["code"], "header_timeout")
        # Roughly header_timeout_ms after the first byte (the second went at 2 s), not at a byte.
        self.assertGreater(elapsed, 2.5, f"408 after {elapsed:.1f} s and {sent} bytes")
        self.assertLess(elapsed, 8.0)
        self.assertEqual([(f["status"], f["reason"]) for f in d.wait_flow_log(1)], [(408, "header_timeout")])
        with open(self.p.nginx_access_log(ng)) as f:
            self.assertEqual(f.read(), "")


def start_cutting_upstream(test, answers):
    """An upstream (keep-alive) answering `GET /<kind>/<k>` with answers[kind] written in two
    pieces cut at offset k, PAUSE apart (k = 0: one write). Returns its port."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    test.p.cleanups.append(srv.close)

    def serve(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with c:
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = c.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                m = re.match(rb"GET /(\w+)/(\d+) ", head)
                raw = answers.get(m.group(1)) if m else None
                if raw is None:
                    c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                k = int(m.group(2))
                try:
                    send_pieces(c, cut(raw, k) if k else [raw])
                except OSError:
                    return

    def accept():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
