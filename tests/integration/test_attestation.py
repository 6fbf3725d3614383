"""Attestation end to end: dpuguard measures itself, its config and its rule files, signs a
quote over the verifier's nonce with its device key, and dpuguard-host verifies it before it
bridges anything (ATTESTATION.md).

Real processes: dpuguard with a device key made by `dpuguard keys attestation-init`, its admin
/attestation endpoint, `dpuguard measure` offline, `dpuguard-host verify` and `dpuguard-host
serve --expect` in front of a real nginx.
"""
import json
import os
import shutil
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from harness import BIN, HOST_BIN, ProxyTestCase, SRC, curl, wait_port, wait_until


def http_code(url):
    return curl("-o", "/dev/null", "-w", "%{http_code}", url)[1].decode()


def read(path):
    with open(path) as f:
        return f.read()


def edited_config(dg, old, new):
    """dg's config file with `old` replaced by `new`, written back atomically."""
    with open(dg.config_path) as f:
        text = f.read()
    dg.rewrite_config(text.replace(old, new))

RULES = os.path.join(SRC, "config/rules/path-traversal.yaml")


def attested_config(cluster_endpoint, extra=""):
    return f"""listeners:
  - name: public
    address: 127.0.0.1:{{port}}
admin:
  address: 127.0.0.1:{{admin}}
workers: 1
host_channel:
  socket_dir: {{dir}}/sock
clusters:
  - name: up
    endpoints: ["{cluster_endpoint}"]
routes:
  - name: all
    match: {{path_prefix: /}}
    cluster: up
signatures:
  files: [rules.yaml]
attestation:
  key_file: dev.key
logging:
  flow_log: stderr
{extra}"""


class AttestationTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        shutil.copy(RULES, self.p.path("rules.yaml"))
        out = subprocess.run([BIN, "keys", "attestation-init", "--file", self.p.path("dev.key")],
                             capture_output=True, text=True, check=True)
        self.assertIn("dev.key.pub", out.stdout)
        self.pub = self.p.path("dev.key.pub")

    def start(self, extra=""):
        self.nginx = self.p.nginx()
        self.cfg_text = attested_config(f"127.0.0.1:{self.nginx}", extra)
        return self.p.dpuguard(self.cfg_text)

    def expect_file(self, dg, name="expect.json", drop_exe_path=False):
        """`dpuguard measure --expect` of dg's config, as the operator writes it offline."""
        out = subprocess.run([BIN, "measure", "--config", dg.config_path, "--expect"],
                             capture_output=True, text=True, check=True).stdout
        expect = json.loads(out)
        if drop_exe_path:  # the binary may be installed anywhere: match it by digest only
            for e in expect["expect"]:
                if e["component"] == "executable":
                    del e["path"]
        path = self.p.path(name)
        with open(path, "w") as f:
            json.dump(expect, f)
        return path

    def verify(self, dg, expect, pub=None):
        return subprocess.run([HOST_BIN, "verify", "--expect", expect, "--pubkey", pub or self.pub,
                               "--admin", f"http://127.0.0.1:{dg.admin}"],
                              capture_output=True, text=True, timeout=30)

    def admin_get(self, dg, target):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{dg.admin}{target}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_reloaded(self, dg, generation):
        wait_until(f"reload to generation {generation}",
                   lambda: f"(generation {generation}," in dg.log(), timeout=30)

    def test_a_good_quote_verifies_and_the_log_is_the_same_from_measure(self):
        dg = self.start()
        measured = json.loads(subprocess.run([BIN, "measure", "--config", dg.config_path, "--json"],
                                             capture_output=True, text=True, check=True).stdout)
        status, body = self.admin_get(dg, "/measurement")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), measured)
        components = [e["component"] for e in measured["entries"]]
        self.assertEqual(components, ["executable", "config", "rules", "attestation_public_key"])
        r = self.verify(dg, self.expect_file(dg))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), f"verified: measurement {measured['id']}")
        # Every verdict names the binary and rules that made it.
        self.assertEqual(http_code(dg.url("/hello")), "200")
        self.assertEqual(dg.wait_flow_log(1)[-1]["measurement"], measured["id"])

    def test_a_changed_config_or_rule_file_is_refused_naming_the_component(self):
        dg = self.start()
        expect = self.expect_file(dg)
        self.assertEqual(self.verify(dg, expect).returncode, 0)
        edited_config(dg, "workers: 1", "workers: 1\nmax_connections: 999")
        dg.reload()
        self.wait_reloaded(dg, 2)
        r = self.verify(dg, expect)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"refused: component 'config' ({dg.config_path}) differs: sha256 ", r.stderr)
        edited_config(dg, "\nmax_connections: 999", "")
        with open(self.p.path("rules.yaml"), "a") as f:
            f.write("# one more line\n")
        dg.reload()
        self.wait_reloaded(dg, 3)
        r = self.verify(dg, expect)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"refused: component 'rules' ({self.p.path('rules.yaml')}) differs", r.stderr)

    def test_a_binary_with_one_byte_flipped_is_refused_as_the_executable(self):
        dg = self.start()
        expect = self.expect_file(dg, drop_exe_path=True)
        self.assertEqual(self.verify(dg, expect).returncode, 0)
        dg.proc.kill()
        dg.proc.wait()
        # Flip one byte of the .comment section: the copy still runs, and measures differently.
        copy = self.p.path("dpuguard-copy")
        shutil.copy(BIN, copy)
        sections = subprocess.run(["readelf", "-SW", copy], capture_output=True, text=True).stdout
        line = next(l for l in sections.splitlines() if " .comment " in l)
        offset = int(line.split(".comment")[1].split()[2], 16)
        with open(copy, "r+b") as f:
            f.seek(offset)
            b = f.read(1)
            f.seek(offset)
            f.write(bytes([b[0] ^ 0x01]))
        # Run the copy on the very config the expectation was made from.
        proc = self.p.spawn([copy, "--config", dg.config_path], "copy.log")
        wait_port(dg.admin, proc, timeout=60.0)
        r = self.verify(dg, expect)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(f"refused: component 'executable' ({copy}) differs: sha256 ", r.stderr)

    def test_a_replayed_quote_or_another_key_is_refused(self):
        dg = self.start()
        expect = self.expect_file(dg)
        nonce = os.urandom(32).hex()
        status, quote = self.admin_get(dg, f"/attestation?nonce={nonce}")
        self.assertEqual(status, 200)
        with open(self.p.path("quote.json"), "w") as f:
            f.write(quote)
        offline = [HOST_BIN, "verify", "--expect", expect, "--quote", self.p.path("quote.json")]
        r = subprocess.run([*offline, "--pubkey", self.pub, "--nonce", nonce], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The verifier's own nonce, spelt in upper case, is the same nonce; a malformed one is
        # a usage error, not a "replay".
        r = subprocess.run([*offline, "--pubkey", self.pub, "--nonce", nonce.upper()], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([*offline, "--pubkey", self.pub, "--nonce", "001"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--nonce: the nonce must be whole bytes", r.stderr)
        # Input files are bounded regular files: a device or a FIFO is refused, not read forever.
        os.mkfifo(self.p.path("fifo"))
        for bad in ("/dev/zero", self.p.path("fifo")):
            r = subprocess.run([HOST_BIN, "verify", "--expect", expect, "--quote", bad, "--pubkey", self.pub,
                                "--nonce", nonce], capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn("is not a regular file", r.stderr)
        r = subprocess.run([*offline, "--pubkey", self.pub, "--nonce", os.urandom(32).hex()],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused: the quote answers another nonce (a replay?)", r.stderr)
        subprocess.run([BIN, "keys", "attestation-init", "--file", self.p.path("other.key")], check=True,
                       capture_output=True)
        r = self.verify(dg, expect, pub=self.p.path("other.key.pub"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused: the signature does not verify with the given public key", r.stderr)
        # A malformed or cut quote is refused with what is wrong with it.
        with open(self.p.path("quote.json"), "w") as f:
            f.write(quote[: len(quote) // 2])
        r = subprocess.run([*offline, "--pubkey", self.pub, "--nonce", nonce], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused: the quote is not JSON", r.stderr)

    def test_bad_nonces_get_a_precise_400(self):
        dg = self.start()
        cases = {
            "/attestation": "a nonce is required",
            "/attestation?nonce=" + "ab" * 8: "must be 16 to 64 bytes (32 to 128 hex digits), not 16",
            "/attestation?nonce=" + "ab" * 65: "not 130 digits",
            "/attestation?nonce=" + "zz" * 16: "the nonce must be hex digits",
            "/attestation?nonce=" + "a" * 33: "an even number of hex digits, not 33",
            "/attestation?nonce=" + "ab" * 16 + "&nonce=" + "ab" * 16: "nonce given twice",
            "/attestation?n=1": "takes one parameter, nonce=HEX",
        }
        for target, why in cases.items():
            status, body = self.admin_get(dg, target)
            self.assertEqual(status, 400, target)
            self.assertIn(why, body, target)
        # Upper-case hex is the same nonce.
        status, body = self.admin_get(dg, "/attestation?nonce=" + "AB" * 16)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["nonce"], "ab" * 16)

    def test_no_key_no_quote(self):
        nginx = self.p.nginx()
        dg = self.p.dpuguard(attested_config(f"127.0.0.1:{nginx}").replace(
            "attestation:\n  key_file: dev.key\n", ""))
        status, body = self.admin_get(dg, "/attestation?nonce=" + "ab" * 16)
        self.assertEqual(status, 404)
        self.assertIn("no attestation.key_file", body)
        self.assertEqual(self.admin_get(dg, "/measurement")[0], 200)

    def test_a_key_readable_by_others_is_a_config_error(self):
        os.chmod(self.p.path("dev.key"), 0o644)
        path = self.p.path("bad.yaml")
        with open(path, "w") as f:
            f.write(attested_config("127.0.0.1:1").replace("{port}", "1").replace("{admin}", "2").replace(
                "{dir}", self.p.dir))
        r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"bad\.yaml:19:13: attestation: '.*dev\.key' is a private key with mode "
                                   r"0644: it must be readable by its owner only \(chmod 600\)")

    def test_an_encrypted_key_is_a_config_error_never_a_prompt(self):
        subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-aes-128-cbc", "-pass", "pass:x",
                        "-out", self.p.path("dev.key")], check=True, capture_output=True)
        os.chmod(self.p.path("dev.key"), 0o600)
        path = self.p.path("bad.yaml")
        with open(path, "w") as f:
            f.write(attested_config("127.0.0.1:1").replace("{port}", "1").replace("{admin}", "2").replace(
                "{dir}", self.p.dir))
        # A terminal would be asked for the passphrase: give it one that never answers.
        r = subprocess.run([BIN, "check-config", path], capture_output=True, text=True, timeout=20,
                           stdin=subprocess.PIPE)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"bad\.yaml:19:13: attestation: '.*dev\.key' is an encrypted key: dpuguard "
                                   r"reads unencrypted keys only")
        self.assertNotIn("pass phrase", r.stdout + r.stderr)

    def test_serve_bridges_nothing_until_the_quote_verifies(self):
        nginx = self.p.nginx()
        self.cfg_text = attested_config("host://inference")
        dg = self.p.dpuguard(self.cfg_text)
        good = self.expect_file(dg)
        # An expectation of another config: the host must refuse to bridge.
        with open(good) as f:
            wrong = json.load(f)
        wrong["expect"][1]["sha256"] = ["0" * 64]
        with open(self.p.path("wrong.json"), "w") as f:
            json.dump(wrong, f)
        access = self.p.nginx_access_log(nginx)

        def serve(expect):
            return self.p.dpuguard_host("serve", "inference", "--forward", f"http://127.0.0.1:{nginx}",
                                        "--expect", expect, "--pubkey", self.pub,
                                        "--attest-interval-ms", "200")

        host = serve(self.p.path("wrong.json"))
        log = self.p.path("host-inference-serve.log")
        # The first request opens the channel; the host challenges it, the quote is refused.
        for _ in range(3):
            self.assertEqual(http_code(dg.url("/hello")), "503")
        wait_until("the host's verdict", lambda: "not trusted" in read(log))
        self.assertIn("component 'config'", read(log))
        self.assertEqual(os.path.getsize(access) if os.path.exists(access) else 0, 0)
        host.kill()
        host.wait()

        serve(good)
        wait_until("a bridged request", lambda: http_code(dg.url("/hello")) == "200")
        self.assertIn("quote verified", read(log))
        # A reload to a measurement the host does not know stops the bridging.
        edited_config(dg, "workers: 1", "workers: 1\nmax_connections: 999")
        dg.reload()
        self.wait_reloaded(dg, 2)
        # (the second host's log: spawn started it afresh)
        wait_until("the host's refusal", lambda: "not trusted" in read(log))
        seen = len(read(access).splitlines())
        self.assertEqual(http_code(dg.url("/hello")), "503")
        time.sleep(0.2)
        self.assertEqual(len(read(access).splitlines()), seen)

    def test_the_first_request_waits_for_the_verdict_and_a_dpu_without_a_key_is_refused(self):
        nginx = self.p.nginx()
        self.cfg_text = attested_config("host://inference")
        dg = self.p.dpuguard(self.cfg_text)
        expect = self.expect_file(dg)
        self.p.dpuguard_host("serve", "inference", "--forward", f"http://127.0.0.1:{nginx}",
                             "--expect", expect, "--pubkey", self.pub)
        log = self.p.path("host-inference-serve.log")
        # The channel opens with this request; it is held until the quote verifies, not refused.
        self.assertEqual(http_code(dg.url("/hello")), "200")
        self.assertIn("quote verified: measurement ", read(log))
        # A dpuguard with no device key cannot answer the challenge: nothing is bridged.
        dg.proc.terminate()
        dg.proc.wait(timeout=15)
        self.cfg_text = self.cfg_text.replace("attestation:\n  key_file: dev.key\n", "")
        dg = self.p.dpuguard(self.cfg_text, name="nokey.yaml")
        self.assertEqual(http_code(dg.url("/hello")), "503")
        wait_until("the host's refusal", lambda: "the DPU did not quote: attestation is not configured"
                   in read(log))

    def test_a_stream_is_cut_when_its_channel_stops_being_trusted(self):
        llm = self.p.mock_llm(token_delay_ms=20)
        self.cfg_text = attested_config("host://inference")
        dg = self.p.dpuguard(self.cfg_text)
        self.p.dpuguard_host("serve", "inference", "--forward", f"http://127.0.0.1:{llm}",
                             "--expect", self.expect_file(dg), "--pubkey", self.pub,
                             "--attest-interval-ms", "200")
        log = self.p.path("host-inference-serve.log")
        body = json.dumps({"model": "m", "stream": True, "messages": [
            {"role": "user", "content": " ".join(f"w{i}" for i in range(300))}]})
        out = {}

        def stream():  # ~310 events, 20 ms apart: about 6 s when nothing cuts it
            out["r"] = curl("-sN", "--max-time", "20", dg.url("/v1/chat/completions"), "-d", body)

        import threading
        t = threading.Thread(target=stream)
        t.start()
        wait_until("the stream under way", lambda: "quote verified" in read(log))
        time.sleep(0.5)
        edited_config(dg, "workers: 1", "workers: 1\nmax_connections: 999")
        dg.reload()
        t.join(timeout=25)
        self.assertIn("not trusted", read(log))
        events = out["r"][1].count(b"data: ")
        self.assertGreater(events, 5)
        self.assertLess(events, 300, "the stream went on after its channel lost trust")
        self.assertNotIn(b"data: [DONE]", out["r"][1])

    def test_flow_events_pass_only_with_the_verified_measurement(self):
        self.cfg_text = attested_config(f"127.0.0.1:{self.p.nginx()}").replace(
            "  socket_dir: {dir}/sock", "  socket_dir: {dir}/sock\n  events: audit")
        dg = self.p.dpuguard(self.cfg_text)
        self.p.dpuguard_host("events", "audit", "--expect", self.expect_file(dg), "--pubkey", self.pub,
                             "--attest-interval-ms", "200")
        log = self.p.path("host-audit-events.log")

        def events():
            return [json.loads(l) for l in read(log).splitlines() if l.startswith("{")]

        # The first event opens the channel; it is held until the quote verifies, then printed.
        self.assertEqual(http_code(dg.url("/hello")), "200")
        wait_until("a flow event", lambda: events())
        measured = read(log).split("quote verified: measurement ")[1][:16]
        self.assertEqual({e["measurement"] for e in events()}, {measured})
        # After a reload to a measurement the host does not know, no event passes.
        edited_config(dg, "workers: 1", "workers: 1\nmax_connections: 999")
        dg.reload()
        self.wait_reloaded(dg, 2)
        wait_until("the host's refusal", lambda: "not trusted" in read(log))
        seen = len(events())
        for _ in range(3):
            self.assertEqual(http_code(dg.url("/hello")), "200")
        wait_until("the dropped events", lambda: "dropping flow events of measurement" in read(log))
        self.assertEqual(len(events()), seen)


if __name__ == "__main__":
    unittest.main()
