"""API-key identities with real processes: keys made by `dpuguard keys add`, curl clients
sending `Authorization: Bearer KEY` (or a wrong one, or none) in front of a real nginx that
echoes the Authorization it receives. 401 in OpenAI's shape, the key removed before the
request goes upstream (or passed when the route says so), the key's identity in the flow log,
/edges and policy (identity_from), the key in neither the log nor /config, the key file
reloaded with SIGHUP, and its errors named file:line:col."""
import json
import os
import subprocess
import unittest
import urllib.request

from harness import BIN, ProxyTestCase, config, curl, identities, raw_exchange, status_of, wait_until

NOTEBOOK = "spiffe://cluster/ns/research/sa/notebook"
TEAM_A = "spiffe://cluster/ns/apps/sa/team-a"

# nginx answers /auth/... with the Authorization it received.
ECHO_AUTH = 'location /auth/ { return 200 "auth=[$http_authorization]\\n"; }'

ROUTES = """  - name: chat
    match: {path_prefix: /auth/chat}
    cluster: up
    api_key: required
  - name: passed
    match: {path_prefix: /auth/passed}
    cluster: up
    api_key: required
    pass_api_key: true
  - name: strong
    match: {path_prefix: /auth/strong}
    cluster: up
    api_key: optional
  - name: other
    match: {path_prefix: /}
    cluster: up
"""

POLICY = """policy:
  mode: rules
  default: allow
  rules:
    - id: strong-only
      routes: [strong]
      identity_from: [mtls, api_key]
      action: allow
"""

KEY_ERROR = ("{file}:3:1: expected 'sha256:<64 hex digits> IDENTITY' (the key's digest)")


def add_key(path, identity):
    """`dpuguard keys add IDENTITY --file PATH`: the key it prints once."""
    r = subprocess.run([BIN, "keys", "add", identity, "--file", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert key.startswith("dpg_") and len(key) == 47, key
    return key


def fetch(dp, path, *headers, source="127.0.0.1"):
    """curl with extra header lines: (status, response head, body)."""
    args = ["--interface", source, "-D", "-", "-o", "-"]
    for h in headers:
        args += ["-H", h]
    code, out, err = curl(*args, dp.url(path))
    assert code == 0, err
    head, _, body = out.partition(b"\r\n\r\n")
    return status_of(head), head.decode(), body


class ApiKeyTest(ProxyTestCase):
    def start(self, keys_text=None):
        """nginx and dpuguard with a key file holding one key for TEAM_A; returns (dp, key)."""
        self.keys = self.p.path("keys.txt")
        key = None
        if keys_text is None:
            key = add_key(self.keys, TEAM_A)
        else:
            with open(self.keys, "w") as f:
                f.write(keys_text)
        up = self.p.nginx(extra_locations=ECHO_AUTH)
        extra = identities(("127.0.0.2/32", NOTEBOOK)) + f"api_keys:\n  file: {self.keys}\n" + POLICY
        return self.p.dpuguard(config([up], extra_top=extra, routes=ROUTES)), key

    def test_missing_unknown_or_malformed_keys_get_401(self):
        dp, key = self.start()
        cases = [((), "api_key_missing"),
                 (("Authorization: Bearer dpg_wrongwrongwrong",), "api_key_unknown"),
                 (("Authorization: Basic dXNlcjpwYXNz",), "api_key_malformed"),
                 (("Authorization: Bearer",), "api_key_malformed")]
        for headers, tag in cases:
            status, head, body = fetch(dp, "/auth/chat/x", *headers)
            self.assertEqual(status, 401, (headers, head))
            self.assertIn("\r\nWWW-Authenticate: Bearer\r\n", head)
            err = json.loads(body)["error"]
            self.assertEqual((err["type"], err["param"], err["code"]), ("invalid_request_error", None, "invalid_api_key"))
            self.assertNotIn("dpg_", err["message"])
        # Two Authorization fields: which one counts is ambiguous, so neither does.
        resp = raw_exchange(dp.port, f"GET /auth/chat/x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\n"
                                     f"Authorization: Bearer {key}\r\nConnection: close\r\n\r\n".encode())
        self.assertEqual(status_of(resp), 401, resp[:300])
        log = dp.wait_flow_log(5)
        self.assertEqual([(l["status"], l["reason"], l["rule"], l["verdict"]) for l in log],
                         [(401, "unauthorized", "api_key", tag) for _, tag in cases] +
                         [(401, "unauthorized", "api_key", "api_key_malformed")])
        self.assertEqual(log[0]["identity"], "unknown")  # who tried: its address
        self.assertEqual(log[0]["identity_source"], "address")
        self.assertEqual(dp.metric('dpuguard_outcomes_total{reason="unauthorized"}'), 5)
        self.assertEqual(dp.metric('dpuguard_inspect_verdicts_total{rule="api_key",verdict="api_key_unknown"}'), 1)
        self.assertNotIn(key, dp.log())

    def test_a_known_key_names_the_client_and_stays_here(self):
        dp, key = self.start()
        status, _, body = fetch(dp, "/auth/chat/x", f"Authorization: Bearer {key}")
        self.assertEqual((status, body), (200, b"auth=[]\n"))  # removed before the upstream
        status, _, body = fetch(dp, "/auth/passed/x", f"Authorization: Bearer {key}")
        self.assertEqual((status, body), (200, f"auth=[Bearer {key}]\n".encode()))  # pass_api_key
        # A route that reads no keys leaves Authorization to the upstream, untouched.
        status, _, body = fetch(dp, "/auth/other", "Authorization: Bearer upstream-token")
        self.assertEqual((status, body), (200, b"auth=[Bearer upstream-token]\n"))
        log = dp.wait_flow_log(3)
        self.assertEqual([(l["identity"], l["identity_source"], l["route"]) for l in log],
                         [(TEAM_A, "api_key", "chat"), (TEAM_A, "api_key", "passed"), ("unknown", "address", "other")])
        graph = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{dp.admin}/edges", timeout=5).read())
        by_edge = {(e["identity"], e["route"]): e for e in graph["edges"]}
        self.assertEqual(by_edge[(TEAM_A, "chat")]["identity_sources"], ["api_key"])
        self.assertEqual(by_edge[("unknown", "other")]["identity_sources"], ["address"])
        # The key is in neither the flow log (nor anything dpuguard wrote) nor /config.
        self.assertNotIn(key, dp.log())
        cfg = urllib.request.urlopen(f"http://127.0.0.1:{dp.admin}/config", timeout=5).read().decode()
        self.assertNotIn(key, cfg)
        self.assertNotIn("sha256:", cfg)
        self.assertIn(f'"api_keys":{{"file":"{self.keys}"}}', cfg)
        self.assertIn('"api_key":"required","pass_api_key":true', cfg)

    def test_identity_from_denies_an_address_identity_and_admits_the_key(self):
        dp, key = self.start()
        status, _, body = fetch(dp, "/auth/strong/x", source="127.0.0.2")
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)["error"]["code"], "denied")
        self.assertEqual(fetch(dp, "/auth/strong/x", f"Authorization: Bearer {key}", source="127.0.0.2")[0], 200)
        log = dp.wait_flow_log(2)
        self.assertEqual([(l["identity"], l["identity_source"], l["rule"], l["verdict"], l["status"]) for l in log], [
            (NOTEBOOK, "address", "strong-only", "untrusted_identity", 403),
            (TEAM_A, "api_key", "strong-only", "allow", 200)])
        graph = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{dp.admin}/edges", timeout=5).read())
        by_edge = {(e["identity"], e["route"]): e for e in graph["edges"]}
        self.assertEqual((by_edge[(NOTEBOOK, "strong")]["blocked"], by_edge[(NOTEBOOK, "strong")]["identity_sources"]),
                         (1, ["address"]))

    def test_keys_added_and_revoked_take_effect_on_sighup(self):
        dp, first = self.start()
        second = add_key(self.keys, NOTEBOOK)
        self.assertEqual(fetch(dp, "/auth/chat/x", f"Authorization: Bearer {second}")[0], 401)  # not yet
        dp.reload()
        wait_until("the new key after SIGHUP",
                   lambda: fetch(dp, "/auth/chat/x", f"Authorization: Bearer {second}")[0] == 200)
        self.assertEqual(fetch(dp, "/auth/chat/x", f"Authorization: Bearer {first}")[0], 200)
        # Revoked: its line deleted, then SIGHUP.
        with open(self.keys) as f:
            lines = [l for l in f if TEAM_A not in l]
        with open(self.keys, "w") as f:
            f.writelines(lines)
        dp.reload()
        wait_until("the revoked key refused after SIGHUP",
                   lambda: fetch(dp, "/auth/chat/x", f"Authorization: Bearer {first}")[0] == 401)
        self.assertEqual(fetch(dp, "/auth/chat/x", f"Authorization: Bearer {second}")[0], 200)
        self.assertEqual(os.stat(self.keys).st_mode & 0o777, 0o600)

    def test_a_bad_key_file_is_a_config_error_with_its_position(self):
        dp, key = self.start()
        # check-config names the key file's line and column.
        bad = self.p.path("bad-keys.txt")
        with open(bad, "w") as f:
            f.write("# keys\n\ndpg_a-key-pasted-in-by-mistake team-b\n")
        cfg = self.p.path("bad.yaml")
        with open(dp.config_path) as f:
            text = f.read().replace(self.keys, bad)
        with open(cfg, "w") as f:
            f.write(text)
        r = subprocess.run([BIN, "check-config", cfg], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(KEY_ERROR.format(file=bad), r.stdout)
        # `keys add` refuses to append to it; a reload onto it keeps the running keys.
        r = subprocess.run([BIN, "keys", "add", "team-c", "--file", bad], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")  # no key was shown: none was added
        with open(self.keys, "a") as f:
            f.write("not-a-digest team-z\n")
        dp.reload()
        # The file's three header lines and the key: the bad line is the fifth.
        wait_until("the reload's refusal in the log", lambda: f"{self.keys}:5:1: expected" in dp.log())
        self.assertIn("reload rejected", dp.log())
        self.assertEqual(fetch(dp, "/auth/chat/x", f"Authorization: Bearer {key}")[0], 200)


if __name__ == "__main__":
    unittest.main()
