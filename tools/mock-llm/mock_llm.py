#!/usr/bin/env python3
"""mock-llm: a small OpenAI-compatible inference backend for the demo and the tests.

  GET  /v1/models                      model list
  POST /v1/chat/completions            {"messages": [...], "stream": false|true, "max_tokens": N,
                                        "stream_options": {"include_usage": true}}
  POST /v1/completions                 same, with "prompt"
  GET  /_mock/stats                    {"connections": N, "requests": N} (tests count reuse)
  POST /_mock/echo                     echoes the request body (streamed, chunked) and headers
  GET  /_mock/bytes?n=N                N bytes of body, streamed (large responses)
  GET  /_mock/status?code=C            an empty response with that status
  GET  /_mock/sleep?ms=M               answers after M ms
  GET  /_mock/headers                  the request headers as JSON

Streaming answers are SSE: one `data: {...}` event per token, each in its own chunk, with
`--token-delay-ms` between them, then `data: [DONE]`. Each event carries the moment it was
sent (`t_ms` wall clock, `t_mono_ns` CLOCK_MONOTONIC, for latency measured on this machine).

The answer is a greeting, then the prompt echoed, one token per word. A prompt that asks for
an AWS access key (it names "AWS" and "access key") gets instead an answer that leaks one:
AWS's documented example key id AKIAIOSFODNN7EXAMPLE, streamed as five tokens, AKIA | IOSF |
ODNN | 7EXA | MPLE. (the last with the period after it, so the event that completes the key's
shape is also the one that ends it): what rules on completions are there to stop.
Standard library only.
"""
import argparse
import json
import re
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

MODEL = "dpuguard-demo-1"
STATS = {"connections": 0, "requests": 0}
LOCK = threading.Lock()
TOKEN_DELAY = 0.05


LEAK_PROMPT = re.compile(r"(?is)(?=.*\baws\b)(?=.*\baccess\s+key)")
LEAK_ANSWER = ["Sure.", " The", " deploy", " user's", " access", " key", " id", " is", " AKIA", "IOSF", "ODNN",
               "7EXA", "MPLE.", " Its", " secret", " key", " is", " in", " the", " vault."]


def tokens_for(prompt_text, max_tokens):
    """The answer's tokens, spacing included: a greeting, then the prompt echoed, one token per
    word (or the leaked key, see above). Without max_tokens the whole reply is generated, as
    vLLM does up to the context length."""
    if LEAK_PROMPT.search(prompt_text):
        reply = list(LEAK_ANSWER)
    else:
        words = ("Hello from the mock LLM behind dpuguard. You said: " + prompt_text).split()
        reply = [(" " if i else "") + w for i, w in enumerate(words)]
    return reply if max_tokens is None else reply[: max(1, max_tokens)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-llm/1.0"

    def setup(self):
        super().setup()
        # Like uvicorn and every real inference server: events go out when written, not held
        # back by Nagle until the peer's (delayed) ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with LOCK:
            STATS["connections"] += 1

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("mock-llm: " + (fmt % args) + "\n")

    # --- helpers -------------------------------------------------------------------------
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(1024).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.read(2)
        n = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(n) if n else b""

    def send_json(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- routes --------------------------------------------------------------------------
    def do_GET(self):
        with LOCK:
            STATS["requests"] += 1
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/v1/models":
            return self.send_json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "dpuguard"}]})
        if url.path == "/_mock/stats":
            with LOCK:
                return self.send_json(200, dict(STATS))
        if url.path == "/_mock/headers":
            return self.send_json(200, {k.lower(): v for k, v in self.headers.items()})
        if url.path == "/_mock/status":
            code = int(q.get("code", ["200"])[0])
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if url.path == "/_mock/sleep":
            time.sleep(int(q.get("ms", ["0"])[0]) / 1000.0)
            return self.send_json(200, {"slept_ms": int(q.get("ms", ["0"])[0])})
        if url.path == "/_mock/bytes":
            n = int(q.get("n", ["0"])[0])
            self.start_chunked("application/octet-stream")
            block = b"x" * 65536
            while n > 0:
                self.chunk(block[: min(n, len(block))])
                n -= min(n, len(block))
            return self.end_chunked()
        return self.send_json(404, {"error": {"message": "no such path", "type": "invalid_request_error", "code": "not_found"}})

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "42")
        self.end_headers()

    def do_POST(self):
        with LOCK:
            STATS["requests"] += 1
        url = urlparse(self.path)
        body = self.read_body()
        if url.path == "/_mock/echo":
            self.start_chunked(self.headers.get("Content-Type", "application/octet-stream"))
            for i in range(0, len(body), 65536):
                self.chunk(body[i : i + 65536])
            return self.end_chunked()
        if url.path not in ("/v1/chat/completions", "/v1/completions"):
            return self.send_json(404, {"error": {"message": "no such path", "type": "invalid_request_error", "code": "not_found"}})
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error", "code": "bad_json"}})
        chat = url.path.endswith("chat/completions")
        if not isinstance(req, dict):
            return self.send_json(400, {"error": {"message": "body is not a JSON object", "type": "invalid_request_error", "code": "bad_json"}})
        messages = req.get("messages", [{}]) if chat else None
        if chat and (not isinstance(messages, list) or not messages or not isinstance(messages[-1], dict)):
            return self.send_json(400, {"error": {"message": "'messages' must be a non-empty list of objects",
                                                  "type": "invalid_request_error", "code": "bad_messages"}})
        prompt = messages[-1].get("content", "") if chat else req.get("prompt", "")
        max_tokens = req.get("max_tokens")
        tokens = tokens_for(str(prompt), None if max_tokens is None else int(max_tokens))
        usage = {"prompt_tokens": len(str(prompt).split()), "completion_tokens": len(tokens),
                 "total_tokens": len(str(prompt).split()) + len(tokens)}
        created = int(time.time())
        if not req.get("stream"):
            text = "".join(tokens)
            choice = {"index": 0, "finish_reason": "stop"}
            choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
            return self.send_json(200, {
                "id": "cmpl-mock", "object": "chat.completion" if chat else "text_completion", "created": created,
                "model": req.get("model", MODEL), "choices": [choice], "usage": usage})
        self.start_chunked("text/event-stream")
        for token in tokens:
            delta = {"index": 0, "delta": {"content": token}, "finish_reason": None}
            if not chat:
                delta = {"index": 0, "text": token, "finish_reason": None}
            event = {"id": "cmpl-mock", "object": "chat.completion.chunk" if chat else "text_completion",
                     "created": created, "model": req.get("model", MODEL), "choices": [delta],
                     "t_ms": round(time.time() * 1000, 3), "t_mono_ns": time.monotonic_ns()}
            self.chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            time.sleep(self.server.token_delay)
        if (req.get("stream_options") or {}).get("include_usage"):
            final = {"id": "cmpl-mock", "object": "chat.completion.chunk" if chat else "text_completion",
                     "created": created, "model": req.get("model", MODEL), "choices": [], "usage": usage}
            self.chunk(b"data: " + json.dumps(final).encode() + b"\n\n")
        self.chunk(b"data: [DONE]\n\n")
        return self.end_chunked()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)")
    ap.add_argument("--token-delay-ms", type=float, default=50.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    srv = Server((host, int(port)), Handler)
    srv.token_delay = args.token_delay_ms / 1000.0
    srv.verbose = args.verbose
    print(f"mock-llm: listening on {host}:{srv.server_address[1]}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
