"""TLS termination on a listener (issue 19): SNI, resumption, client certificates and their
SPIFFE IDs, ALPN, and every bad input the issue names (garbage, plain HTTP, a ClientHello cut
at every byte, an oversized one, a stalled handshake, renegotiation, bad certificates). The
test PKI is made per test class with the openssl CLI (tls_pki.py). Clients are Python's ssl
module, curl and openssl s_client; in segmented mode every TLS record crosses the relay in
random pieces."""
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from harness import ProxyTestCase, config, curl, read_to_end, status_of, wait_until
from tls_pki import TestPki

API = "api.example.test"


def tls_section(pki, extra="", client_auth=None):
    auth = ""
    if client_auth:
        auth = (f"      client_auth: {{mode: {client_auth}, ca_file: {pki.ca_bundle}, "
                f"trust_domains: [prod.example]}}\n")
    return (f"    tls:\n      certificates:\n"
            f"        - {{cert_file: {pki.server_chain}, key_file: {pki.server_key}}}\n"
            f"        - {{cert_file: {pki.other_chain}, key_file: {pki.other_key}}}\n"
            f"        - {{cert_file: {pki.wild_chain}, key_file: {pki.wild_key}}}\n"
            f"{auth}{extra}")


def tls_config(pki, upstreams, extra="", client_auth=None, extra_top=""):
    text = config(upstreams, extra_top=extra_top)
    marker = "    address: 127.0.0.1:{port}\n"
    return text.replace(marker, marker + tls_section(pki, extra, client_auth), 1)


def context(pki, cert=None, alpn=("http/1.1",), version=None):
    ctx = ssl.create_default_context(cafile=pki.root_cert)
    if cert:
        ctx.load_cert_chain(*cert)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def connect(port, ctx, name=API, session=None, timeout=10):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=name, session=session)
    except Exception:
        raw.close()
        raise


def get(s, path="/hello", close=True):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {API}\r\n{'Connection: close' if close else ''}\r\n\r\n".encode())
    if close:
        return read_to_end(s)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def handshake_fails(port, ctx, name=API):
    """True if the handshake (or the first read after it: TLS 1.3 client certificates are
    judged after the client's Finished) fails."""
    try:
        s = connect(port, ctx, name)
    except (ssl.SSLError, OSError):
        return True
    try:
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return status_of(read_to_end(s)) is None
    except (ssl.SSLError, OSError):
        return True


def client_hello(server_name=API):
    """The bytes of a real ClientHello (Python's ssl, through memory BIOs)."""
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["http/1.1"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


class TlsTest(ProxyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki_dir = tempfile.mkdtemp(prefix="dpuguard-pki-")
        cls.pki = TestPki(cls.pki_dir)

    def failures(self, d, reason):
        return d.metric(f'dpuguard_tls_handshake_failures_total{{listener="public",reason="{reason}"}}')

    def start(self, **kw):
        up = self.p.nginx()
        return self.p.dpuguard(tls_config(self.pki, [up], **kw))

    def test_sni_chooses_the_certificate_and_the_flow_log_says_what_was_negotiated(self):
        d = self.start()
        for name, cn in ((API, "api"), ("other.example.test", "other"),
                         ("x.wild.example.test", "wild"), ("unknown.test", "api")):
            s = connect(d.port, context(self.pki), name=name) if name != "unknown.test" else None
            if s is None:  # the default certificate does not verify for an unknown name
                ctx = context(self.pki)
                ctx.check_hostname = False
                s = connect(d.port, ctx, name=name)
            subject = dict(x[0] for x in s.getpeercert()["subject"]) if name != "unknown.test" else None
            peer = s.getpeercert(binary_form=True)
            self.assertEqual(status_of(get(s)), 200, name)
            if subject:
                self.assertEqual(subject["commonName"], cn, name)
            else:
                self.assertIn(b"api", peer)  # the first certificate is the default
        log = d.wait_flow_log(4)
        self.assertEqual([r["tls_sni"] for r in log],
                         [API, "other.example.test", "x.wild.example.test", "unknown.test"])
        self.assertTrue(all(r["tls_protocol"] == "TLSv1.3" and not r["tls_resumed"] for r in log))
        self.assertEqual(d.metric('dpuguard_tls_handshakes_total{listener="public"}'), 4)
        # An absolute name (a trailing dot) picks the same certificate as without one.
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}", "-servername",
                            "other.example.test.", "-CAfile", self.pki.root_cert],
                           input=b"", capture_output=True, timeout=20)
        self.assertRegex(r.stdout, rb"subject=.*CN ?= ?other")

    def test_curl_over_tls_and_keep_alive(self):
        d = self.start()
        rc, out, err = curl("--cacert", self.pki.root_cert, "--resolve", f"{API}:{d.port}:127.0.0.1",
                            f"https://{API}:{d.port}/hello", f"https://{API}:{d.port}/path/a?b")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"hello from nginx\n/path/a?b\n")
        self.assertEqual(d.metric('dpuguard_tls_handshakes_total{listener="public"}'), 1)

    def test_resumption_actually_resumes(self):
        d = self.start()
        ctx = context(self.pki)
        s = connect(d.port, ctx)
        self.assertEqual(status_of(get(s, close=False)), 200)  # the ticket came before the answer
        session = s.session
        self.assertFalse(s.session_reused)
        s.close()
        s2 = connect(d.port, ctx, session=session)
        self.assertTrue(s2.session_reused)
        self.assertEqual(status_of(get(s2)), 200)
        # openssl s_client too, with a saved session
        sess = os.path.join(self.p.dir, "sess.pem")
        outs = []
        for flag in ("-sess_out", "-sess_in"):
            r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}", "-servername", API,
                                "-CAfile", self.pki.root_cert, "-ign_eof", flag, sess],
                               input=b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                               capture_output=True, timeout=20)
            outs.append(r.stdout.decode(errors="replace"))
        self.assertIn("New, TLSv1.3", outs[0])
        self.assertIn("Reused, TLSv1.3", outs[1])
        self.assertEqual(d.metric('dpuguard_tls_resumed_total{listener="public"}'), 2)
        log = d.wait_flow_log(4)
        self.assertEqual([r["tls_resumed"] for r in log], [False, True, False, True])

    def test_client_certificates_required(self):
        d = self.start(client_auth="require")
        good = self.pki.client("notebook")
        s = connect(d.port, context(self.pki, cert=good))
        self.assertEqual(status_of(get(s)), 200)
        self.assertTrue(handshake_fails(d.port, context(self.pki)))
        wait_until("no_certificate counted", lambda: self.failures(d, "no_certificate") == 1)

    def test_client_certificates_optional(self):
        d = self.start(client_auth="optional")
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)))), 200)
        s = connect(d.port, context(self.pki, cert=self.pki.client("notebook")))
        self.assertEqual(status_of(get(s)), 200)

    def test_bad_client_certificates_are_refused_with_a_reason(self):
        d = self.start(client_auth="optional")
        cases = [
            ("bad_certificate", self.pki.client("expired", expired=True)),
            ("bad_certificate", self.pki.client("stranger", ca="other")),
            ("identity", self.pki.client("twice", uris=["spiffe://prod.example/a", "spiffe://prod.example/b"])),
            ("identity", self.pki.client("foreign", domain="evil.example")),
            ("identity", self.pki.client("nospiffe", uris=["https://example.test/x"])),
            ("identity", self.pki.client("malformed", uris=["spiffe://prod.example/a/../b"])),
            ("identity", self.pki.client("catrue", ca_leaf=True)),  # could mint any identity
            ("identity", self.pki.client("domainonly", uris=["spiffe://prod.example"])),
        ]
        expected = {}
        for reason, cert in cases:
            self.assertTrue(handshake_fails(d.port, context(self.pki, cert=cert)), cert)
            expected[reason] = expected.get(reason, 0) + 1
        for reason, n in expected.items():
            wait_until(f"{n} {reason}", lambda: self.failures(d, reason) == n)
        # The first refusal is logged with its peer and OpenSSL's reason; the rest, a moment
        # later, are left out of the log (a flood of them cannot flood it) but counted.
        self.assertRegex(d.log(), r"listener 'public': client certificate from 127\.0\.0\.1:\d+ "
                                  r"refused \(bad_certificate\): certificate has expired")
        self.assertEqual(d.flow_log(), [])  # no request was served
        self.assertIsNone(d.proc.poll())

    def test_alpn_http11_only_and_h2_refused_cleanly(self):
        d = self.start()
        s = connect(d.port, context(self.pki, alpn=("h2", "http/1.1")))
        self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
        self.assertEqual(status_of(get(s)), 200)
        with self.assertRaises(ssl.SSLError) as e:
            connect(d.port, context(self.pki, alpn=("h2",)))
        self.assertIn("NO_APPLICATION_PROTOCOL", str(e.exception).upper().replace(" ", "_"))
        wait_until("alpn counted", lambda: self.failures(d, "alpn") == 1)
        rc, out, err = curl("--http2", "--cacert", self.pki.root_cert, "--resolve", f"{API}:{d.port}:127.0.0.1",
                            "-o", "/dev/null", "-w", "%{http_code} %{http_version}", f"https://{API}:{d.port}/hello")
        self.assertEqual((rc, out), (0, b"200 1.1"), err)

    def test_garbage_and_plain_http_on_a_tls_port(self):
        d = self.start()
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_to_end(s)
        self.assertEqual(status_of(reply), 400, reply)
        self.assertIn(b"speaks TLS", reply)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(os.urandom(3000))
        self.assertNotIn(b"HTTP/1.1 200", read_to_end(s))
        wait_until("both counted", lambda: self.failures(d, "not_tls") + self.failures(d, "protocol") == 2)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)))), 200)

    def test_a_client_hello_cut_at_every_byte(self):
        d = self.start()
        hello = client_hello()
        self.assertGreater(len(hello), 100)
        before = self.failures(d, "peer_closed")  # the harness's port probe is one
        for cut in range(1, len(hello)):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(hello[:cut])
            s.close()
        wait_until("every cut counted", lambda: self.failures(d, "peer_closed") == before + len(hello) - 1)
        self.assertEqual(d.metric('dpuguard_tls_handshakes_pending{listener="public"}'), 0)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)))), 200)

    def test_a_client_hello_sent_byte_by_byte_completes(self):
        d = self.start()
        # The same handshake through a socket fed one byte per write (the record layer and
        # the handshake reassembly see every cut).
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = context(self.pki).wrap_bio(incoming, outgoing, server_hostname=API)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                for b in outgoing.read():
                    s.sendall(bytes([b]))
                incoming.write(s.recv(65536))
        obj.write(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for b in outgoing.read():
            s.sendall(bytes([b]))
        out = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            incoming.write(data)
            while True:  # every record that came in this read
                try:
                    piece = obj.read(65536)
                except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                    break
                if not piece:  # close_notify
                    break
                out += piece
        self.assertIn(b"hello from nginx", out)

    def test_an_oversized_client_hello_is_refused(self):
        d = self.start()
        # A handshake message that claims 16 MiB, sent as full-size records.
        body = struct.pack(">B", 1) + (0xFFFFFF).to_bytes(3, "big") + b"\x03\x03" + os.urandom(16000)
        record = b"\x16\x03\x01" + struct.pack(">H", len(body)) + body
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        try:
            for _ in range(8):
                s.sendall(record[:16389] if len(record) > 16389 else record)
        except OSError:
            pass
        reply = read_to_end(s)
        self.assertLess(len(reply), 100)  # an alert at most
        wait_until("refused", lambda: self.failures(d, "protocol") == 1)

    def test_a_stalled_handshake_times_out(self):
        d = self.start(extra="      handshake_timeout_ms: 300\n")
        hello = client_hello()
        s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        s.sendall(hello[: len(hello) // 2])
        t0 = time.monotonic()
        self.assertEqual(read_to_end(s), b"")
        self.assertLess(time.monotonic() - t0, 4.0)
        wait_until("timeout counted", lambda: self.failures(d, "timeout") == 1)

    def test_handshakes_in_progress_are_bounded(self):
        d = self.start(extra="      max_pending_handshakes: 3\n      handshake_timeout_ms: 20000\n")
        hello = client_hello()
        stalled = []
        for _ in range(3):  # each sends half a ClientHello and waits
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            s.sendall(hello[: len(hello) // 2])
            stalled.append(s)
        wait_until("3 pending", lambda: d.metric('dpuguard_tls_handshakes_pending{listener="public"}') == 3)
        extra = socket.create_connection(("127.0.0.1", d.port), timeout=5)
        t0 = time.monotonic()
        self.assertEqual(read_to_end(extra), b"")  # closed at accept, long before the timeout
        self.assertLess(time.monotonic() - t0, 4.0)
        wait_until("overload counted", lambda: self.failures(d, "overload") == 1)
        self.assertEqual(self.failures(d, "internal"), 0)
        for s in stalled:
            s.close()
        wait_until("none pending", lambda: d.metric('dpuguard_tls_handshakes_pending{listener="public"}') == 0)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)))), 200)

    def test_renegotiation_is_refused(self):
        d = self.start(extra='      min_version: "1.2"\n')
        r = subprocess.run(["openssl", "s_client", "-tls1_2", "-connect", f"127.0.0.1:{d.port}", "-servername", API,
                            "-CAfile", self.pki.root_cert],
                           input=b"R\n", capture_output=True, timeout=20)
        self.assertIn(b"RENEGOTIATING", r.stdout + r.stderr)
        wait_until("renegotiation counted", lambda: self.failures(d, "renegotiation") == 1)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki, version=ssl.TLSVersion.TLSv1_2)))), 200)

    def test_tls13_only_by_default(self):
        d = self.start()
        self.assertTrue(handshake_fails(d.port, context(self.pki, version=ssl.TLSVersion.TLSv1_2)))
        wait_until("protocol counted", lambda: self.failures(d, "protocol") == 1)

    def test_sse_over_tls_arrives_event_by_event(self):
        delay_ms = 150
        up = self.p.mock_llm(token_delay_ms=delay_ms)
        d = self.p.dpuguard(tls_config(self.pki, [up]))
        s = connect(d.port, context(self.pki))
        body = json.dumps({"model": "m", "stream": True, "max_tokens": 5,
                           "messages": [{"role": "user", "content": "stream please"}]}).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        arrivals, buf = [], b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while buf.count(b"data: ") > len(arrivals):
                arrivals.append(time.monotonic())
        self.assertEqual(len(arrivals), 6, buf)  # 5 tokens and [DONE]
        gaps = [(b - a) * 1000 for a, b in zip(arrivals, arrivals[1:-1])]
        for g in gaps:  # batching would show gaps near 0
            self.assertGreater(g, delay_ms * 0.5, gaps)

    def test_certificates_reload_under_load_without_a_failed_request(self):
        up = self.p.nginx()
        text = tls_config(self.pki, [up])
        d = self.p.dpuguard(text)
        keep = connect(d.port, context(self.pki))
        self.assertEqual(status_of(get(keep, close=False)), 200)
        failures, done, count = [], threading.Event(), [0]

        def load():
            ctx = context(self.pki)
            while not done.is_set():
                try:
                    if status_of(get(connect(d.port, ctx))) != 200:
                        failures.append("status")
                    count[0] += 1
                except Exception as e:  # noqa: BLE001 - every failure is the finding
                    failures.append(repr(e))

        threads = [threading.Thread(target=load) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        # The new snapshot serves api.example.test with a new certificate (same CA).
        fresh_chain, fresh_key = self.pki.leaf("api2", dns=[API])
        with open(d.config_path) as f:
            running = f.read()
        d.rewrite_config(running.replace(self.pki.server_chain, fresh_chain).replace(self.pki.server_key, fresh_key))
        before = count[0]
        d.reload()
        wait_until("reloaded", lambda: "reloaded" in d.log())
        time.sleep(0.5)
        done.set()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertGreater(count[0], before)
        # The old connection keeps its session; new ones get the new certificate.
        self.assertEqual(status_of(get(keep, close=False)), 200)
        new = connect(d.port, context(self.pki))
        with open(fresh_chain, "rb") as f:
            fresh_der = ssl.PEM_cert_to_DER_cert(f.read().decode().split("-----END CERTIFICATE-----")[0]
                                                 + "-----END CERTIFICATE-----\n")
        self.assertEqual(new.getpeercert(binary_form=True), fresh_der)

    def test_config_errors_name_the_file_line_and_column(self):
        up = self.p.nginx()
        loose = os.path.join(self.p.dir, "loose.key")
        with open(self.pki.server_key, "rb") as f, open(loose, "wb") as g:
            g.write(f.read())
        os.chmod(loose, 0o644)
        cases = [
            (self.pki.server_key, loose, "accessible by group or others"),
            (self.pki.server_key, self.pki.other_key, "does not match the certificate"),
            (self.pki.server_chain, os.path.join(self.p.dir, "missing.pem"), "missing.pem"),
        ]
        from harness import BIN
        for old, new, message in cases:
            text = tls_config(self.pki, [up]).replace(old, new, 1).replace("{port}", "1").replace("{admin}", "2")
            path = os.path.join(self.p.dir, "bad.yaml")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True, timeout=20,
                               stdin=subprocess.PIPE)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertRegex(r.stdout, rf"{path}:\d+:\d+: .*{message}")

    def test_the_spiffe_id_is_the_identity_policy_logs_and_edges_see(self):
        up = self.p.nginx()
        routes = ("""  - name: strong
    match: {path_prefix: /path/strong}
    cluster: up
  - name: all
    match: {path_prefix: /}
    cluster: up
""")
        policy = ("""policy:
  mode: rules
  default: allow
  rules:
    - id: certs-only
      routes: [strong]
      identity_from: [mtls]
      action: allow
""")
        text = config([up], extra_top=policy, routes=routes)
        marker = "    address: 127.0.0.1:{port}\n"
        d = self.p.dpuguard(text.replace(marker, marker + tls_section(self.pki, client_auth="optional"), 1))
        spiffe = "spiffe://prod.example/ns/lab/sa/notebook"
        with_cert = context(self.pki, cert=self.pki.client("notebook"))
        self.assertEqual(status_of(get(connect(d.port, with_cert), "/path/strong/x")), 200)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)), "/path/strong/x")), 403)
        self.assertEqual(status_of(get(connect(d.port, context(self.pki)), "/path/open")), 200)
        log = d.wait_flow_log(3)
        self.assertEqual([(r["identity"], r["identity_source"], r["status"]) for r in log],
                         [(spiffe, "mtls", 200), ("unknown", "address", 403), ("unknown", "address", 200)])
        import urllib.request
        edges = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{d.admin}/edges", timeout=5).read())
        text = json.dumps(edges)
        self.assertIn(spiffe, text)
        self.assertIn("mtls", text)

    def test_the_shipped_tls_gateway_example(self):
        """config/examples/tls-gateway.yaml with the README's PKI recipe: no identity is a 403,
        a client certificate or an API key is let in, each named by its source."""
        from harness import BIN, SRC
        up = self.p.mock_llm(token_delay_ms=1)
        keys = os.path.join(self.p.dir, "keys.txt")
        key = subprocess.run([BIN, "keys", "add", "spiffe://prod.example/ns/lab/sa/batch", "--file", keys],
                             capture_output=True, text=True, check=True).stdout.strip()
        with open(os.path.join(SRC, "config/examples/tls-gateway.yaml")) as f:
            text = f.read()
        text = (text.replace("../../build/pki/keys.txt", keys).replace("../../build/pki/", self.pki.dir + "/")
                .replace("127.0.0.1:8080", "127.0.0.1:{port}").replace("127.0.0.1:9901", "127.0.0.1:{admin}")
                .replace("127.0.0.1:8000", f"127.0.0.1:{up}").replace("workers: 0", "workers: 1"))
        self.assertIn(keys, text)
        d = self.p.dpuguard(text)
        body = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'

        def post(ctx, *headers):
            s = connect(d.port, ctx)
            extra = "".join(h + "\r\n" for h in headers)
            s.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: {API}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n".encode() + body)
            return status_of(read_to_end(s))

        self.assertEqual(post(context(self.pki)), 403)
        self.assertEqual(post(context(self.pki, cert=self.pki.client("team-a"))), 200)
        self.assertEqual(post(context(self.pki), f"Authorization: Bearer {key}"), 200)
        self.assertEqual(post(context(self.pki), "Authorization: Bearer dpg_wrong"), 401)
        log = d.wait_flow_log(4)
        self.assertEqual([r["identity_source"] for r in log], ["address", "mtls", "api_key", "address"])
        self.assertNotIn(key, d.log())

    def test_a_resumed_session_keeps_its_certificate_identity(self):
        up = self.p.nginx()
        text = config([up], extra_top="policy:\n  mode: rules\n  default: allow\n  rules:\n"
                      "    - id: certs-only\n      routes: [all]\n      identity_from: [mtls]\n      action: allow\n")
        marker = "    address: 127.0.0.1:{port}\n"
        d = self.p.dpuguard(text.replace(marker, marker + tls_section(self.pki, client_auth="require"), 1))
        ctx = context(self.pki, cert=self.pki.client("notebook"))
        s = connect(d.port, ctx)
        self.assertEqual(status_of(get(s, close=False)), 200)
        session = s.session
        s.close()
        for _ in range(3):  # each resumption gets a new ticket (TLS 1.3 tickets are used once)
            s = connect(d.port, ctx, session=session)
            self.assertTrue(s.session_reused)
            self.assertEqual(status_of(get(s, close=False)), 200)
            session = s.session
            s.close()
        log = d.wait_flow_log(4)
        self.assertEqual({(r["identity"], r["identity_source"]) for r in log},
                         {("spiffe://prod.example/ns/lab/sa/notebook", "mtls")})
        # Another CA after a reload: the old ticket does not resume, the old certificate fails.
        with open(d.config_path) as f:
            running = f.read()
        d.rewrite_config(running.replace(f"ca_file: {self.pki.ca_bundle}", f"ca_file: {self.pki.other_ca_cert}"))
        d.reload()
        wait_until("reloaded", lambda: "reloaded" in d.log())
        self.assertTrue(handshake_fails(d.port, ctx))
        try:
            s = connect(d.port, ctx, session=session)
            self.assertFalse(s.session_reused)
            self.assertIsNone(status_of(get(s)))
        except (ssl.SSLError, OSError):
            pass
        self.assertEqual(len(d.flow_log()), 4)

    def test_identity_claims_from_the_client_are_not_passed_on(self):
        up = self.p.nginx(extra_locations='location = /xfcc { return 200 "[$http_x_forwarded_client_cert]\\n"; }')
        d = self.p.dpuguard(tls_config(self.pki, [up], client_auth="optional"))
        s = connect(d.port, context(self.pki, cert=self.pki.client("notebook")))
        s.sendall(b"GET /xfcc HTTP/1.1\r\nHost: x\r\nX-Forwarded-Client-Cert: URI=spiffe://prod.example/admin\r\n"
                  b"Connection: close\r\n\r\n")
        reply = read_to_end(s)
        self.assertEqual(status_of(reply), 200)
        self.assertTrue(reply.endswith(b"[]\n"), reply)

    def test_close_notify_ends_every_connection(self):
        d = self.start()
        raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        ctx = context(self.pki)
        s = ctx.wrap_socket(raw, server_hostname=API, suppress_ragged_eofs=False)
        s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            data = s.recv(65536)  # a bare FIN would raise SSLEOFError here
            if not data:
                break
            out += data
        self.assertIn(b"hello from nginx", out)

    def test_trust_files_and_ciphers_an_attacker_could_use_are_refused(self):
        from harness import BIN
        up = self.p.nginx()
        loose_ca = os.path.join(self.p.dir, "loose-ca.crt")
        with open(self.pki.ca_bundle) as f, open(loose_ca, "w") as g:
            g.write(f.read())
        os.chmod(loose_ca, 0o666)
        # An encrypted key: refused, never a passphrase prompt (nor the ioctl a prompt makes).
        encrypted = os.path.join(self.p.dir, "encrypted.key")
        subprocess.run(["openssl", "pkey", "-in", self.pki.server_key, "-aes-128-cbc", "-passout", "pass:x",
                        "-out", encrypted], check=True, capture_output=True)
        os.chmod(encrypted, 0o600)
        cases = [
            (tls_config(self.pki, [up], client_auth="optional").replace(f"ca_file: {self.pki.ca_bundle}", f"ca_file: {loose_ca}"),
             "writable by group or others"),
            (tls_config(self.pki, [up]).replace(f"key_file: {self.pki.server_key}", f"key_file: {encrypted}"),
             "is an encrypted key: dpuguard reads unencrypted keys only"),
            (tls_config(self.pki, [up], extra='      min_version: "1.2"\n      ciphers: "eNULL:@SECLEVEL=0"\n'),
             "no encryption or no authentication"),
        ]
        for text, message in cases:
            path = os.path.join(self.p.dir, "bad.yaml")
            with open(path, "w") as f:
                f.write(text.replace("{port}", "1").replace("{admin}", "2"))
            r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True, timeout=20,
                               stdin=subprocess.PIPE)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertRegex(r.stdout, rf"{path}:\d+:\d+: .*{message}")

    def test_config_shows_paths_never_keys(self):
        d = self.start(client_auth="optional")
        import urllib.request
        text = urllib.request.urlopen(f"http://127.0.0.1:{d.admin}/config", timeout=5).read().decode()
        self.assertIn(self.pki.server_key, text)
        self.assertNotIn("PRIVATE KEY", text)
        self.assertIn('"mode":"optional"', text)
        expiry = d.metric(f'dpuguard_tls_certificate_expiry_timestamp_seconds{{listener="public",file="{self.pki.server_chain}"}}')
        self.assertGreater(expiry, time.time() + 20 * 86400)
        self.assertNotIn("PRIVATE KEY", d.log())


if __name__ == "__main__":
    unittest.main()
