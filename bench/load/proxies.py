"""The processes of a load run: upstreams (nginx with fixed responses, the mock LLM for SSE)
and the three proxies as equivalent reverse proxies: one worker/thread each, keep-alive to the
upstream, the same limits, and the same two routes (Host llm.bench -> mock LLM, else nginx)."""
import os
import shutil
import socket
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
LLM_HOST = "llm.bench"  # requests with this Host go to the mock LLM on every proxy

CHAT_RESPONSE = ('{"id":"cmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",'
                 '"content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1,'
                 '"total_tokens":10}}')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on {port}")


class Processes:
    """Starts processes in `work` (configs and logs there) and kills them all on stop()."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def spawn(self, args, name):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def kill(self, p):
        if p.poll() is None:
            p.kill()
        p.wait()

    def stop(self):
        for p in self.procs:
            self.kill(p)

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # --- upstreams -----------------------------------------------------------------------
    def upstream(self):
        port = free_port()
        w = self.work
        conf = self.write("upstream.conf", f"""daemon off; master_process off; worker_processes 1; pid {w}/upstream.pid;
error_log {w}/upstream-error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; client_body_buffer_size 64k;
  client_body_temp_path {w}/ubody;
  server {{ listen 127.0.0.1:{port} backlog=4096;
    location = /small {{ return 200 "ok\\n"; }}
    location = /v1/chat/completions {{ default_type application/json; return 200 '{CHAT_RESPONSE}'; }}
  }}
}}
""")
        p = self.spawn([NGINX, "-c", conf, "-e", f"{w}/upstream-error.log"], "upstream")
        wait_port(port, p)
        return port

    def mock_llm(self, token_delay_ms):
        port = free_port()
        p = self.spawn(["python3", os.path.join(ROOT, "tools", "mock-llm", "mock_llm.py"),
                        "--listen", f"127.0.0.1:{port}", "--token-delay-ms", str(token_delay_ms)], "mock-llm")
        wait_port(port, p)
        return port

    # --- proxies: each returns (port, process) ------------------------------------------
    def dpuguard(self, upstream, llm, tag="", inspect=""):
        """`inspect`: inspection keys appended to the config (bench/load/inspection)."""
        port = free_port()
        conf = self.write(f"dpuguard{tag}.yaml", f"""listeners: [{{name: public, address: "127.0.0.1:{port}"}}]
workers: 1
limits: {{max_body_bytes: 1048576}}
clusters:
  - {{name: up, endpoints: ["127.0.0.1:{upstream}"], max_idle_connections: 256}}
  - {{name: llm, endpoints: ["127.0.0.1:{llm}"], max_idle_connections: 256}}
routes:
  - {{name: llm, match: {{host: {LLM_HOST}}}, cluster: llm}}
  - {{name: chat, match: {{path_exact: /v1/chat/completions, methods: [POST]}}, cluster: up}}
  - {{name: all, match: {{path_prefix: /}}, cluster: up}}
logging: {{flow_log: "off"}}
{inspect}""")
        p = self.spawn([os.path.join(ROOT, "build", "dpuguard"), "--config", conf], f"dpuguard{tag}")
        wait_port(port, p)
        return port, p

    def haproxy(self, upstream, llm, tag=""):
        port = free_port()
        conf = self.write(f"haproxy{tag}.cfg", f"""global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend public
  bind 127.0.0.1:{port}
  use_backend llm if {{ hdr(host) -i {LLM_HOST} }}
  default_backend up
backend up
  server s1 127.0.0.1:{upstream} maxconn 1000
backend llm
  # Streams: HAProxy's documented switch for SSE. Without it HAProxy sends with MSG_MORE and
  # the kernel holds tokens back (measured: ~19 ms TTFB, ~10 ms per event on loopback).
  option http-no-delay
  server s1 127.0.0.1:{llm} maxconn 1000
""")
        p = self.spawn([HAPROXY, "-db", "-f", conf], f"haproxy{tag}")
        wait_port(port, p)
        return port, p

    def nginx(self, upstream, llm, tag=""):
        port = free_port()
        w = self.work
        conf = self.write(f"nginx-proxy{tag}.conf", f"""daemon off; master_process off; worker_processes 1;
pid {w}/proxy{tag}.pid; error_log {w}/proxy-error{tag}.log; worker_rlimit_nofile 20000;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; client_max_body_size 1m;
  client_body_buffer_size 64k; client_body_temp_path {w}/pbody; proxy_temp_path {w}/ptemp;
  upstream up {{ server 127.0.0.1:{upstream}; keepalive 256; }}
  upstream llm {{ server 127.0.0.1:{llm}; keepalive 256; }}
  server {{ listen 127.0.0.1:{port} backlog=4096;
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
                  proxy_buffering off; }}
  }}
  server {{ listen 127.0.0.1:{port}; server_name {LLM_HOST};
    location / {{ proxy_pass http://llm; proxy_http_version 1.1; proxy_set_header Connection "";
                  proxy_buffering off; }}
  }}
}}
""")
        p = self.spawn([NGINX, "-c", conf, "-e", f"{w}/proxy-error{tag}.log"], f"nginx-proxy{tag}")
        wait_port(port, p)
        return port, p
