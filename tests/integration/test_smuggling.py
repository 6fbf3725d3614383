"""Raw smuggling attempts through dpuguard to an upstream that records every byte it gets.

For every case, one of two things must hold:
  - rejected: the client got a 4xx/5xx from dpuguard, its connection was closed, and the
    upstream never received a complete request (at most an aborted, canonical prefix);
  - accepted: the upstream received exactly one request, in canonical form (one Host, no
    hop-by-hop fields, one framing header, no chunk extensions or trailers, nothing after it).
"""
import re
import socket
import time
import unittest

from harness import ProxyTestCase, config
from recording_upstream import parse_canonical

H = b"Host: api\r\n"
CH = b"Transfer-Encoding: chunked\r\n"

# (name, bytes, expected): expected is "accept" or the status dpuguard must answer.
CASES = [
    ("valid_get", b"GET /v1/models HTTP/1.1\r\n" + H + b"\r\n", "accept"),
    ("valid_post_cl", b"POST /v1/chat HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello", "accept"),
    ("valid_chunked_with_extension_dropped", b"POST /v1/chat HTTP/1.1\r\n" + H + CH + b"\r\n5;ext=1\r\nhello\r\n0\r\n\r\n", "accept"),
    ("valid_trailers_dropped", b"POST /v1/chat HTTP/1.1\r\n" + H + CH + b"\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", "accept"),
    ("valid_absolute_form_becomes_origin_form", b"GET http://api/v1/x?q=1 HTTP/1.1\r\n" + H + b"\r\n", "accept"),
    ("valid_trailing_whitespace_trimmed", b"GET /v1/x HTTP/1.1\r\nHost: api \r\nX-A: b \t\r\n\r\n", "accept"),
    ("valid_expect_continue", b"POST /v1/x HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", "accept"),
    ("valid_upgrade_dropped", b"GET /v1/x HTTP/1.1\r\n" + H + b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "accept"),
    ("valid_dot_segments_normalized", b"GET /v1/a/../b/./c HTTP/1.1\r\n" + H + b"\r\n", "accept"),
    ("valid_connection_named_field_dropped", b"GET /v1/x HTTP/1.1\r\n" + H + b"Connection: X-Secret\r\nX-Secret: 1\r\n\r\n", "accept"),
    # RFC-valid forms accepted since issue 22 (SECURITY.md); the upstream gets our own framing.
    ("valid_cl_leading_zeros_rewritten", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 005\r\n\r\nhello", "accept"),
    ("valid_cl_htab_ows", b"POST / HTTP/1.1\r\n" + H + b"Content-Length:\t5\t\r\n\r\nhello", "accept"),
    ("valid_unregistered_method", b"QUERY /v1/x HTTP/1.1\r\n" + H + b"Content-Length: 2\r\n\r\nhi", "accept"),
    ("valid_chunk_extensions_dropped", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n5;a=1;b;c=\"q x\"\r\nhello\r\n0\r\n\r\n", "accept"),
    ("cl_te", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 6\r\n" + CH + b"\r\n0\r\n\r\nG", 400),
    ("te_cl", b"POST / HTTP/1.1\r\n" + H + CH + b"Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    ("te_te_first_wins", b"POST / HTTP/1.1\r\n" + H + CH + b"Transfer-Encoding: x\r\n\r\n0\r\n\r\n", 400),
    ("te_identity_chunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 501),
    ("te_xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 501),
    ("te_leading_comma", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_http10", b"POST / HTTP/1.0\r\n" + H + CH + b"\r\n0\r\n\r\n", 400),
    ("cl_duplicate", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("cl_19_digits", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0001234567890123456789\r\n\r\nhello", 400),
    ("cl_empty", b"POST / HTTP/1.1\r\n" + H + b"Content-Length:\r\n\r\n", 400),
    ("cl_space_before_colon", b"POST / HTTP/1.1\r\n" + H + b"Content-Length : 5\r\n\r\nhello", 400),
    ("obs_fold_before_cl", b"POST / HTTP/1.1\r\n" + H + b"X: a\r\n Content-Length: 5\r\n\r\nhello", 400),
    ("obs_fold_te", b"POST / HTTP/1.1\r\n" + H + CH + b" , identity\r\n\r\n0\r\n\r\n", 400),
    ("empty_name_before_cl", b"POST / HTTP/1.1\r\n" + H + b":\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("bare_lf_header", b"POST / HTTP/1.1\r\n" + H + b"X: y\nContent-Length: 5\r\n\r\nhello", 400),
    ("bare_cr_header", b"GET / HTTP/1.1\r\n" + H + b"X: y\rContent-Length: 5\r\n\r\nhello", 400),
    ("crlf_cr_x", b"GET / HTTP/1.1\r\n" + H + b"\r\rX", 400),
    ("http09", b"GET /x\r\n\r\n", 400),
    ("http2_version", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("double_space", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment_acl_bypass", b"GET /admin#/../v1/x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("nul_in_value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n", 400),
    ("host_mismatch", b"GET http://internal/admin HTTP/1.1\r\nHost: api\r\n\r\n", 400),
    ("duplicate_host", b"GET / HTTP/1.1\r\nHost: api\r\nHost: internal\r\n\r\n", 400),
    ("missing_host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("connection_te", b"POST / HTTP/1.1\r\n" + H + CH + b"Connection: Transfer-Encoding\r\n\r\n0\r\n\r\n", 400),
    ("connection_cl", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nConnection: Content-Length\r\n\r\nhello", 400),
    ("h2c_upgrade", b"GET / HTTP/1.1\r\n" + H + b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n", 400),
    ("expect_unknown", b"POST / HTTP/1.1\r\n" + H + b"Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
    ("chunk_size_0x", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_bare_lf_size_line", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n5\nhello\r\n0\r\n\r\n", 400),
    ("chunk_two_bytes_after_data", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n5\r\nhelloXX0\r\n\r\n", 400),
    ("chunk_ext_bare_lf", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n5;a=b\nc\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_ext_too_long", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n1;" + b"a" * 600 + b"\r\nx\r\n0\r\n\r\n", 400),
    ("trailer_cl", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n0\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("trailer_bare_lf_end", b"POST / HTTP/1.1\r\n" + H + CH + b"\r\n0\r\n\nGET /admin HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path_escaped_slash", b"GET /v1%2F..%2Fadmin HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path_nul", b"GET /v1/a%00b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("header_name_too_long", b"GET / HTTP/1.1\r\n" + H + b"X" * 300 + b": 1\r\n\r\n", 431),
    ("connect", b"CONNECT internal:443 HTTP/1.1\r\nHost: internal:443\r\n\r\n", 501),
]


def exchange(port, data, timeout=3.0):
    """Sends `data`; returns (response bytes, whether dpuguard closed the connection)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    closed = False
    deadline = time.time() + timeout
    try:
        s.sendall(data)
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                closed = True
                break
            out += chunk
            m = re.search(rb"\r\nContent-Length: (\d+)\r\n", out)
            end = out.find(b"\r\n\r\n")
            if m and end >= 0 and len(out) >= end + 4 + int(m.group(1)) and not out.startswith(b"HTTP/1.1 100"):
                s.settimeout(0.3)  # a full response: see whether the connection closes
    except ConnectionResetError:
        closed = True
    finally:
        s.close()
    return out, closed


def final_status(resp):
    statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3})", resp)]
    finals = [s for s in statuses if s >= 200]
    return finals[0] if finals else None


class SmugglingTest(ProxyTestCase):
    def test_every_attack_is_rejected_or_forwarded_as_one_canonical_request(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port], route_extra="    timeout_ms: 5000\n"))
        for name, raw, expected in CASES:
            with self.subTest(case=name):
                up.reset()
                resp, closed = exchange(d.port, raw)
                time.sleep(0.05)  # let the upstream record what it got
                got = up.received()
                verdicts = [parse_canonical(c) for c in got]
                status = final_status(resp)
                for v in verdicts:
                    self.assertNotEqual(v[0], "bad", f"upstream got a non-canonical request: {v[1]}: {got}")
                if expected == "accept":
                    self.assertEqual(status, 200, resp[:300])
                    self.assertEqual(len(got), 1, got)
                    self.assertEqual(verdicts[0][0], "complete", got)
                else:
                    self.assertEqual(status, expected, resp[:300])
                    self.assertTrue(closed, "dpuguard kept the connection after " + name)
                    self.assertNotIn(("complete", None), verdicts, f"a complete request reached upstream: {got}")
        # Each rejection is counted by kind.
        m = d.metrics()
        self.assertGreaterEqual(m['dpuguard_parse_errors_total{side="client",kind="content_length_with_transfer_encoding"}'], 2)
        self.assertGreaterEqual(m['dpuguard_parse_errors_total{side="client",kind="path_escaped_slash"}'], 1)
        errors = [r.get("parse_error") for r in d.flow_log()]
        self.assertIn("obs_fold", errors)
        self.assertIn("h2c_upgrade", errors)

    def test_canonical_forwarding_rewrites_target_host_and_framing(self):
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        raw = (b"POST http://api/v1/./a/%7Euser/../chat?x=%2F HTTP/1.1\r\nHOST: api\r\nX-A:  b  \r\n"
               + CH + b"\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")
        resp, _ = exchange(d.port, raw)
        self.assertEqual(final_status(resp), 200, resp)
        time.sleep(0.05)
        got = up.received()
        self.assertEqual(len(got), 1)
        head, body = got[0].split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        self.assertEqual(lines[0], b"POST /v1/a/chat?x=%2F HTTP/1.1")
        self.assertEqual(lines[1], b"Host: api")
        self.assertIn(b"X-A: b", lines)
        self.assertEqual(body, b"5\r\nhello\r\n0\r\n\r\n")

    def test_http10_request_without_host_gets_the_upstream_as_host(self):
        # HTTP/1.0 needs no Host, but we speak HTTP/1.1 upstream, where one is required.
        up = self.p.recording_upstream()
        d = self.p.dpuguard(config([up.port]))
        resp, _ = exchange(d.port, b"GET /v1/models HTTP/1.0\r\n\r\n")
        self.assertEqual(final_status(resp), 200, resp)
        time.sleep(0.05)
        got = up.received()
        self.assertEqual(len(got), 1)
        lines = got[0].split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        self.assertEqual(lines[0], b"GET /v1/models HTTP/1.1")
        self.assertEqual([l for l in lines if l.lower().startswith(b"host:")], [b"Host: 127.0.0.1:%d" % up.port])


if __name__ == "__main__":
    unittest.main()
