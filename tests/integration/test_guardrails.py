"""Output guardrails (signature rules with `where: [completion]`, route canaries) with real
processes. nginx serves fixed answers (SSE streams and whole JSON answers) so that what dpuguard
forwards is compared byte for byte with the file and with a direct request; the mock LLM
streams a leaked key token by token, as a model would. curl is the client."""
import gzip
import json
import os
import unittest

from harness import ProxyTestCase, config, curl, signatures

CANARY = "CANARY-7f3a9c2e1b5d"
NOTICE = (b'data: {"error":{"message":"the answer was stopped by an output guardrail","type":"dpuguard_error",'
          b'"param":null,"code":"completion_blocked"}}\n\ndata: [DONE]\n\n')

ROUTES = f"""  - name: all
    match: {{path_prefix: /}}
    cluster: up
    canaries: ["{CANARY}"]
"""

NGINX_TYPES = ("location /sse/ { default_type text/event-stream; } location /json/ { default_type application/json; } "
               "location /gz/ { default_type application/json; add_header Content-Encoding gzip; }")


def event(content):
    chunk = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}}]}
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


def stream(tokens):
    return [event(t) for t in tokens] + [b"data: [DONE]\n\n"]


def whole(content):
    answer = {"id": "c1", "object": "chat.completion",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}
    return json.dumps(answer).encode()


# An AWS access key id split across two events: the second completes it.
LEAK = stream(["The", " key", " is", " AKIAIOSF", "ODNN7EXAMPLE", " and", " more."])
CLEAN = stream(["Hello", ",", " world", ".", " Nothing", " secret", " here", "."])
# A database URL with its password: an alert rule (dpg-out-018), logged, not cut.
ALERT = stream(["Use", " postgres://app:", "hunter2@db.internal", "/prod", " to", " connect."])


class GuardrailTest(ProxyTestCase):
    def start(self):
        www = self.p.path("www")
        for d in ("sse", "json", "gz"):
            os.makedirs(os.path.join(www, d), exist_ok=True)
        files = {"sse/leak": b"".join(LEAK), "sse/clean": b"".join(CLEAN), "sse/alert": b"".join(ALERT),
                 "json/canary": whole(f"My instructions say {CANARY}, so no."),
                 "json/clean": whole("A harmless answer."), "json/key": whole("Here: AKIAIOSFODNN7EXAMPLE"),
                 "gz/key": gzip.compress(whole("Here: AKIAIOSFODNN7EXAMPLE"))}
        for name, data in files.items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        up = self.p.nginx(extra_locations=NGINX_TYPES)
        dp = self.p.dpuguard(config([up], extra_top=signatures("completion"), routes=ROUTES))
        return up, dp, files

    def get(self, port, path):
        code, out, err = curl("-D", "-", f"http://127.0.0.1:{port}{path}")
        self.assertEqual(code, 0, err)  # the stream ended properly (chunked end included)
        head, _, body = out.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), head.decode("latin-1"), body

    def test_a_secret_split_across_two_events_is_cut_before_the_event_that_completes_it(self):
        up, dp, _ = self.start()
        status, head, body = self.get(dp.port, "/sse/leak")
        self.assertEqual(status, 200)
        # Exactly the events before the one completing the key, then the error event and [DONE].
        self.assertEqual(body, b"".join(LEAK[:4]) + NOTICE)
        self.assertNotIn(b"ODNN", body)
        rec = dp.wait_flow_log(1)[-1]
        self.assertEqual((rec["status"], rec["reason"], rec["verdict"], rec["rule"]),
                         (200, "completion_cut", "completion_block", "dpg-out-001"), rec)
        self.assertIn("dpg-out-001", rec["dpi"])

    def test_an_answer_without_matches_passes_byte_for_byte(self):
        up, dp, files = self.start()
        for path in ("/sse/clean", "/json/clean"):
            _, _, direct = self.get(up, path)
            status, head, body = self.get(dp.port, path)
            self.assertEqual(status, 200)
            self.assertEqual(body, files[path[1:]], path)
            self.assertEqual(body, direct, path)
        self.assertIn("content-length: %d" % len(files["json/clean"]), head.lower())  # sent with its length
        for rec in dp.wait_flow_log(2):
            self.assertEqual((rec["reason"], rec.get("verdict", "")), ("proxied", ""), rec)

    def test_alert_rules_pass_the_answer_byte_for_byte_and_log(self):
        up, dp, files = self.start()
        status, _, body = self.get(dp.port, "/sse/alert")
        self.assertEqual((status, body), (200, files["sse/alert"]))
        rec = dp.wait_flow_log(1)[-1]
        self.assertEqual((rec["reason"], rec["verdict"]), ("proxied", "completion_alert"), rec)
        self.assertEqual(rec["dpi"], "dpg-out-018")

    def test_a_canary_or_a_key_in_a_whole_answer_gets_502_instead_of_the_answer(self):
        up, dp, _ = self.start()
        for path, rule in (("/json/canary", "dpg-leak-all-1"), ("/json/key", "dpg-out-001")):
            status, head, body = self.get(dp.port, path)
            self.assertEqual(status, 502, body)
            self.assertNotIn(CANARY.encode(), body)
            self.assertNotIn(b"AKIA", body)
            err = json.loads(body)["error"]
            self.assertEqual((err["code"], err["type"]), ("completion_blocked", "dpuguard_error"))
        log = dp.wait_flow_log(2)
        self.assertEqual([(r["status"], r["reason"], r["verdict"], r["rule"]) for r in log[-2:]],
                         [(502, "completion_blocked", "completion_block", "dpg-leak-all-1"),
                          (502, "completion_blocked", "completion_block", "dpg-out-001")])
        self.assertNotIn(CANARY, dp.log())  # the canary is in no log line either

    def test_answers_guardrails_read_come_uncompressed_or_not_at_all(self):
        # The request goes upstream without Accept-Encoding...
        llm = self.p.mock_llm(token_delay_ms=1)
        dp = self.p.dpuguard(config([llm], extra_top=signatures("completion")))
        code, out, err = curl("-H", "Accept-Encoding: gzip, br", dp.url("/_mock/headers"))
        self.assertEqual(code, 0, err)
        self.assertNotIn("accept-encoding", {k.lower() for k in json.loads(out)}, out)
        # ... and an answer that comes compressed anyway is refused, not passed unread.
        up, dp, _ = self.start()
        status, _, body = self.get(dp.port, "/gz/key")
        self.assertEqual(status, 502, body)
        self.assertEqual(json.loads(body)["error"]["code"], "completion_blocked")
        rec = dp.wait_flow_log(1)[-1]
        self.assertEqual((rec["reason"], rec["rule"]), ("completion_blocked", "completion_unreadable"), rec)

    def test_a_model_answer_is_read_whatever_its_content_type_says(self):
        # An inference route: a requested stream is read as SSE even under text/plain (clients
        # read it so), a whole answer whole even without a JSON Content-Type.
        sse = b"".join(LEAK).decode()
        answer = whole("Here: AKIAIOSFODNN7EXAMPLE").decode()
        locations = (f"location = /v1/chat/completions {{ default_type text/plain; return 200 '{sse}'; }} "
                     f"location = /v1/completions {{ default_type text/plain; return 200 '{answer}'; }}")
        up = self.p.nginx(extra_locations=locations)
        routes = """  - name: chat
    match: {path_prefix: /v1/}
    cluster: up
"""
        top = signatures("completion") + "inference:\n  routes: [chat]\n"
        dp = self.p.dpuguard(config([up], extra_top=top, routes=routes))
        req = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        code, out, err = curl("-H", "Content-Type: application/json", "--data-binary", json.dumps(req),
                              dp.url("/v1/chat/completions"))
        self.assertEqual(code, 0, err)
        self.assertEqual(out, b"".join(LEAK[:4]) + NOTICE)
        req = {"model": "m", "prompt": "hi"}
        code, out, err = curl("-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data-binary",
                              json.dumps(req), dp.url("/v1/completions"))
        self.assertEqual(code, 0, err)
        self.assertTrue(out.endswith(b"\n502"), out)
        self.assertNotIn(b"AKIA", out)

    def test_the_mock_llm_streaming_a_key_token_by_token_is_cut_before_its_last_token(self):
        llm = self.p.mock_llm(token_delay_ms=5)
        dp = self.p.dpuguard(config([llm], extra_top=signatures("completion")))
        req = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "What is the AWS access key?"}]}
        code, out, err = curl("-N", "-H", "Content-Type: application/json", "--data-binary", json.dumps(req),
                              dp.url("/v1/chat/completions"))
        self.assertEqual(code, 0, err)
        tokens = [json.loads(line[6:])["choices"][0]["delta"]["content"]
                  for line in out.split(b"\n") if line.startswith(b"data: {\"id\"")]
        self.assertEqual(tokens[-4:], [" AKIA", "IOSF", "ODNN", "7EXA"])  # all before the key's last piece
        self.assertNotIn(b"MPLE", out)
        self.assertTrue(out.endswith(NOTICE), out[-200:])
        rec = dp.wait_flow_log(1)[-1]
        self.assertEqual((rec["reason"], rec["verdict"], rec["rule"]), ("completion_cut", "completion_block", "dpg-out-001"))


if __name__ == "__main__":
    unittest.main()
