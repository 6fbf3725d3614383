"""TLS to upstreams (clusters[].tls) against a real nginx with TLS: requests reach it over TLS,
a certificate that fails verification (another CA, another name, no IP SAN) is a 502 with the
precise reason, mTLS to the backend works with a client certificate and not without, new
pooled connections resume the endpoint's last session (nginx's $ssl_session_reused), SSE still
arrives event by event, and a TLS failure is a connect failure (retried elsewhere, ejected).
The PKI is made at test time with the openssl CLI (tls_pki.py)."""
import json
import os
import time
import unittest
import urllib.request

from harness import NGINX, ProxyTestCase, config, curl, free_port, wait_port, wait_until
from test_streaming import read_events
from tls_pki import TestPki

SERVER_NAME = "api.example.test"


def nginx_tls(p, chain, key, client_ca=None, locations="", protocols="TLSv1.2 TLSv1.3"):
    """An nginx serving HTTPS with the certificate `chain` and its `key`; `client_ca`: require
    client certificates chaining to it. Each response says whether the TLS session was resumed and
    which client certificate (if any) was verified. Returns its port (a relay's, segmented)."""
    port = free_port()
    d = p.dir
    verify = (f"ssl_verify_client on; ssl_client_certificate {client_ca}; ssl_verify_depth 2;"
              if client_ca else "")
    conf = p.path(f"nginx-tls-{port}.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx-{port}.pid;
error_log {d}/nginx-{port}-error.log;
events {{ worker_connections 1024; }}
http {{
  log_format tls '$connection $ssl_session_reused $ssl_protocol $request_method $request_uri $status';
  access_log {d}/nginx-{port}-access.log tls;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {chain};
    ssl_certificate_key {key};
    ssl_protocols {protocols};
    ssl_session_cache shared:tls:1m;
    {verify}
    add_header X-Session-Reused $ssl_session_reused always;
    location = /hello {{ return 200 "hello over $ssl_protocol sni=$ssl_server_name\\n"; }}
    location = /whoami {{ return 200 "$ssl_client_verify $ssl_client_s_dn\\n"; }}
    {locations}
  }}
}}
""")
    proc = p.spawn([NGINX, "-c", conf, "-e", f"{d}/nginx-{port}-error.log"], f"nginx-{port}.log")
    wait_port(port, proc)
    return p.relay(port, "nginx-tls")


def tls_cluster(**keys):
    """`cluster_extra` for harness.config(): the cluster's tls mapping."""
    if not keys:
        return "    tls: {}"
    return "    tls:\n" + "".join(f"      {k}: {v}\n" for k, v in keys.items())


def access_log(p, port, lines=0):
    """nginx's access log, split, once it has at least `lines` lines (nginx logs a request
    after its response has gone, so the last line can trail the response)."""
    def read():
        with open(p.path(f"nginx-{p.real_port(port)}-access.log")) as f:
            return [line.split() for line in f if line.strip()]
    wait_until(f"{lines} lines in nginx's access log", lambda: len(read()) >= lines)
    return read()


def get(d, path, headers=None):
    """(status, headers, body) of a GET through dpuguard (errors included)."""
    req = urllib.request.Request(d.url(path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class UpstreamTlsTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.pki = TestPki(self.p.dir)

    def nginx(self, **kw):
        """nginx with the api.example.test certificate."""
        return nginx_tls(self.p, self.pki.server_chain, self.pki.server_key, **kw)

    def dpuguard(self, port, cluster_extra, **kw):
        return self.p.dpuguard(config([port], cluster_extra=cluster_extra, **kw))

    def test_request_reaches_nginx_over_tls_verified(self):
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME))
        for _ in range(3):
            status, _, body = get(d, "/hello")
            self.assertEqual(status, 200, body)
            self.assertEqual(body, b"hello over TLSv1.3 sni=api.example.test\n")
        # One pooled TLS connection served all three (keep-alive reuse, tickets absorbed).
        log = access_log(self.p, ng, 3)
        self.assertEqual(len(log), 3)
        self.assertEqual(len({line[0] for line in log}), 1, log)
        self.assertEqual(d.metric('dpuguard_upstream_tls_handshakes_total{resumed="false"}'), 1)
        # /config shows the paths and never what is in the files.
        cfg = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{d.admin}/config").read())
        tls = cfg["clusters"][0]["tls"]
        self.assertEqual(tls["ca_file"], self.pki.root_cert)
        self.assertEqual(tls["server_name"], SERVER_NAME)
        self.assertTrue(tls["verify"])
        self.assertEqual(tls["min_version"], "1.2")

    def check_tls_refused(self, d, failure, verify):
        status, _, body = get(d, "/hello")
        self.assertEqual(status, 502, body)
        err = json.loads(body)["error"]
        self.assertEqual(err["code"], "upstream_tls_failed")
        expected = f"TLS handshake with the upstream failed: {failure}"
        if verify:
            expected += f" ({verify})"
        self.assertEqual(err["message"], expected)
        rec = d.wait_flow_log(1)[-1]
        self.assertEqual(rec["reason"], "upstream_tls_failed")
        self.assertEqual(rec["upstream_tls_error"], failure)
        if verify:
            self.assertEqual(rec["upstream_tls_verify"], verify)
        self.assertGreaterEqual(
            d.metric(f'dpuguard_upstream_tls_handshake_failures_total{{reason="{failure}"}}'), 1)

    def test_another_ca_is_refused(self):
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.other_ca_cert, server_name=SERVER_NAME))
        self.check_tls_refused(d, "bad_certificate", "unable to get local issuer certificate")
        self.assertEqual(access_log(self.p, ng), [])  # no request reached it

    def test_the_system_trust_store_is_read_at_load_and_refuses_a_private_ca(self):
        # No ca_file: the system's CA bundle, which knows nothing of the test PKI. The bundle
        # is read when the config loads, never during a handshake (a worker opening
        # /etc/ssl/certs would be killed by the sandbox); twice, so the refusal is no fluke.
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(server_name=SERVER_NAME))
        self.check_tls_refused(d, "bad_certificate", "unable to get local issuer certificate")
        status, _, _ = get(d, "/hello")
        self.assertEqual(status, 502)
        self.assertIsNone(d.proc.poll(), "dpuguard died")
        self.assertEqual(access_log(self.p, ng), [])

    def test_another_name_is_refused(self):
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name="other.example.test"))
        self.check_tls_refused(d, "bad_certificate", "hostname mismatch")

    def test_without_server_name_the_address_is_checked(self):
        # The certificate names api.example.test only: 127.0.0.1 is not in it.
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert))
        self.check_tls_refused(d, "bad_certificate", "IP address mismatch")

    def test_verify_off_accepts_any_certificate(self):
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(verify="false"))
        status, _, body = get(d, "/hello")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"hello over TLSv1.3 sni=\n")  # no server_name: no SNI

    def test_a_plain_http_upstream_is_not_tls(self):
        ng = self.p.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME))
        self.check_tls_refused(d, "not_tls", None)

    def test_tls_failures_are_connect_failures_and_eject(self):
        bad = self.nginx()
        d = self.dpuguard(bad, tls_cluster(ca_file=self.pki.other_ca_cert, server_name=SERVER_NAME)
                          + "\n    eject_after_failures: 2\n    eject_ms: 60000"
                          # the only endpoint may go (the default keeps the last one in)
                          + "\n    max_ejection_percent: 100")
        self.assertEqual(get(d, "/hello")[0], 502)
        self.assertEqual(get(d, "/hello")[0], 502)
        status, _, body = get(d, "/hello")
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["error"]["code"], "no_healthy_upstream")
        self.assertEqual(d.metric("dpuguard_upstream_ejections_total"), 1)

    def test_a_tls_failure_is_retried_on_another_endpoint(self):
        # Two endpoints: one whose certificate is not for the name, one right. A GET that
        # meets the wrong one first goes to the other (nothing was sent).
        good = self.nginx()
        wrong = nginx_tls(self.p, self.pki.other_chain, self.pki.other_key)
        d = self.p.dpuguard(config([wrong, good], cluster_extra=tls_cluster(
            ca_file=self.pki.root_cert, server_name=SERVER_NAME)))
        for _ in range(4):
            status, _, body = get(d, "/hello")
            self.assertEqual(status, 200, body)
        self.assertGreaterEqual(d.metric("dpuguard_upstream_retries_total"), 1)

    def test_mtls_to_the_backend(self):
        client_cert, client_key = self.pki.client("dpuguard")
        ng = self.nginx(client_ca=self.pki.root_cert)
        with_cert = self.p.dpuguard(config([ng], cluster_extra=tls_cluster(
            ca_file=self.pki.root_cert, server_name=SERVER_NAME, cert_file=client_cert,
            key_file=client_key)), name="with-cert.yaml")
        status, _, body = get(with_cert, "/whoami")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"SUCCESS CN=client-dpuguard\n")
        # Without a client certificate nginx refuses the request (it answers 400 itself).
        without = self.p.dpuguard(config([ng], cluster_extra=tls_cluster(
            ca_file=self.pki.root_cert, server_name=SERVER_NAME)), name="without-cert.yaml")
        status, _, body = get(without, "/whoami")
        self.assertEqual(status, 400, body)
        self.assertIn(b"No required SSL certificate was sent", body)

    def check_resumption(self, protocols, expected_protocol):
        ng = self.nginx(protocols=protocols)
        # No pooling: every request is a new connection, so every one after the first can
        # offer the session the previous one got.
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME)
                          + "\n    max_idle_connections: 0")
        reused = []
        for _ in range(4):
            status, headers, body = get(d, "/hello")
            self.assertEqual(status, 200, body)
            reused.append(headers["X-Session-Reused"])
        self.assertEqual(reused, [".", "r", "r", "r"])
        log = access_log(self.p, ng, 4)
        self.assertEqual(len({line[0] for line in log}), 4, log)  # four connections
        self.assertEqual({line[2] for line in log}, {expected_protocol})
        self.assertEqual(d.metric('dpuguard_upstream_tls_handshakes_total{resumed="true"}'), 3)
        self.assertEqual(d.metric('dpuguard_upstream_tls_handshakes_total{resumed="false"}'), 1)

    def test_new_connections_resume_tls13(self):
        self.check_resumption("TLSv1.3", "TLSv1.3")

    def test_new_connections_resume_tls12(self):
        self.check_resumption("TLSv1.2", "TLSv1.2")

    def test_a_reload_never_reuses_a_connection_verified_under_the_old_config(self):
        ng = self.nginx()
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME))
        self.assertEqual(get(d, "/hello")[0], 200)  # a pooled connection now exists
        with open(d.config_path) as f:
            text = f.read()
        d.rewrite_config(text.replace(self.pki.root_cert, self.pki.other_ca_cert))
        d.reload()
        deadline = time.time() + 5
        while d.metric("dpuguard_config_generation") < 2 and time.time() < deadline:
            time.sleep(0.05)
        status, _, body = get(d, "/hello")
        self.assertEqual(status, 502, body)  # a fresh handshake, refused under the new CA
        self.assertEqual(json.loads(body)["error"]["code"], "upstream_tls_failed")

    def test_sse_through_a_tls_upstream_arrives_event_by_event(self):
        delay_ms = 150
        mock = self.p.mock_llm(token_delay_ms=delay_ms)
        ng = self.nginx(locations=f"""
    location /v1/ {{
      proxy_pass http://127.0.0.1:{mock};
      proxy_http_version 1.1;
      proxy_buffering off;
    }}""")
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME))
        body = json.dumps({"model": "m", "stream": True, "max_tokens": 6,
                           "messages": [{"role": "user", "content": "stream please"}]}).encode()
        events = read_events(d.port, body)
        self.assertEqual(events[-1][1], "[DONE]")
        self.assertEqual(len(events), 7)
        gaps = [(b[0] - a[0]) * 1000 for a, b in zip(events, events[1:])]
        print(f"\nSSE gaps through dpuguard over TLS (upstream every {delay_ms} ms): "
              + ", ".join(f"{g:.0f}" for g in gaps))
        for g in gaps:
            self.assertGreater(g, delay_ms * 0.5, gaps)

    def test_a_large_body_over_tls_arrives_whole(self):
        # Records of 16 KiB decrypted into a smaller buffer: the rest waits inside TLS.
        www = self.p.path("www")
        os.makedirs(www, exist_ok=True)
        blob = os.urandom(3 << 20)
        with open(os.path.join(www, "blob"), "wb") as f:
            f.write(blob)
        ng = self.nginx(locations=f"location = /blob {{ root {www}; }}")
        d = self.dpuguard(ng, tls_cluster(ca_file=self.pki.root_cert, server_name=SERVER_NAME))
        for _ in range(2):
            rc, out, err = curl("-o", "-", d.url("/blob"))
            self.assertEqual(rc, 0, err)
            self.assertEqual(len(out), len(blob))
            self.assertEqual(out, blob)


if __name__ == "__main__":
    unittest.main()
