"""The processes of a load run: upstreams (nginx with fixed responses, the mock LLM for SSE)
and the proxies as equivalent reverse proxies: one worker/thread each, keep-alive to the
upstream, the same limits, and the same two routes (Host llm.bench -> mock LLM, else nginx).
nginx_modsec is nginx again with ModSecurity v3 and the OWASP Core Rule Set (bench/load/inspection).
With `tls` (a bench/load/tls.py Certificate), a proxy's listener terminates TLS instead: the same
ECDSA P-256 certificate on all three, TLS 1.3 only, TLS_AES_128_GCM_SHA256 and X25519 only,
ALPN http/1.1, session tickets on (each proxy's own ticket keys).

Pinned (Processes(work, pin=("0", "1"))): upstreams on the first CPU list (with the load
generator, see measure.wrk), proxies on the second, each started under taskset (which execs
it: the PID is the process's own)."""
import os
import shutil
import socket
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
TASKSET = shutil.which("taskset") or "/usr/bin/taskset"
# Debian's libnginx-mod-http-modsecurity (ModSecurity v3) and modsecurity-crs (OWASP CRS 3.3).
MODSEC_MODULE = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"
MODSEC_RECOMMENDED = "/usr/share/nginx/docs/modsecurity/modsecurity.conf"  # Debian's copy, unedited
CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"
CRS_RULES = "/usr/share/modsecurity-crs/rules"
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

    def __init__(self, work, pin=None):
        """`pin`: (upstream CPUs, proxy CPUs) as taskset lists, or None."""
        self.work = work
        self.procs = []
        self.pin = pin

    def spawn(self, args, name, role="proxy"):
        """`role`: "upstream" or "proxy", the CPUs it is pinned to in pinned mode."""
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        if self.pin:
            args = [TASKSET, "-c", self.pin[0] if role == "upstream" else self.pin[1], *args]
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
        p = self.spawn([NGINX, "-c", conf, "-e", f"{w}/upstream-error.log"], "upstream", role="upstream")
        wait_port(port, p)
        return port

    def mock_llm(self, token_delay_ms):
        port = free_port()
        p = self.spawn(["python3", os.path.join(ROOT, "tools", "mock-llm", "mock_llm.py"),
                        "--listen", f"127.0.0.1:{port}", "--token-delay-ms", str(token_delay_ms)], "mock-llm",
                       role="upstream")
        wait_port(port, p)
        return port

    # --- proxies: each returns (port, process) ------------------------------------------
    def dpuguard(self, upstream, llm, tag="", inspect="", tls=None, ktls=False, sandbox=None, endpoint=None,
                 extra=""):
        """`inspect`: inspection keys appended to the config (bench/load/inspection).
        `endpoint`: the `up` cluster's endpoint instead of nginx's address (a relay, host://NAME);
        `extra`: more top-level keys (host_channel).
        `ktls`: with `tls`, listeners[].tls.ktls (the kernel's record layer, where it has one).
        `sandbox`: a sandbox mode (off, audit, enforce), dropping to nobody/nogroup when run as
        root; None leaves the key out."""
        port = free_port()
        listener = f'{{name: public, address: "127.0.0.1:{port}"}}'
        if tls:
            listener = (f'{{name: public, address: "127.0.0.1:{port}", tls: {{certificates: '
                        f'[{{cert_file: "{tls.cert}", key_file: "{tls.key}"}}], min_version: "1.3", '
                        f'ciphersuites: {tls.SUITE}, groups: {tls.GROUP}, ktls: {str(ktls).lower()}}}}}')
        admin_port = free_port() if tls else None  # /metrics: handshakes and resumptions counted
        admin = f'admin: {{address: "127.0.0.1:{admin_port}"}}\n' if tls else ""
        conf = self.write(f"dpuguard{tag}.yaml", f"""listeners: [{listener}]
{admin}workers: 1
limits: {{max_body_bytes: 1048576}}
clusters:
  - {{name: up, endpoints: ["{endpoint or f'127.0.0.1:{upstream}'}"], max_idle_connections: 256}}
  - {{name: llm, endpoints: ["127.0.0.1:{llm}"], max_idle_connections: 256}}
routes:
  - {{name: llm, match: {{host: {LLM_HOST}}}, cluster: llm}}
  - {{name: chat, match: {{path_exact: /v1/chat/completions, methods: [POST]}}, cluster: up}}
  - {{name: all, match: {{path_prefix: /}}, cluster: up}}
logging: {{flow_log: "off"}}
{inspect}{extra}""" + self.sandbox_key(sandbox))
        p = self.spawn([os.path.join(ROOT, "build", "dpuguard"), "--config", conf], f"dpuguard{tag}")
        wait_port(port, p)
        p.admin_port = admin_port
        return port, p

    @staticmethod
    def sandbox_key(mode):
        if mode is None:
            return ""
        user = ", user: nobody, group: nogroup" if os.geteuid() == 0 and mode != "off" else ""
        return f"sandbox: {{mode: {mode}{user}}}\n"

    def haproxy(self, upstream, llm, tag="", tls=None):
        port = free_port()
        bind = f"127.0.0.1:{port}"
        if tls:  # HAProxy wants the key in the certificate's PEM
            bind += (f" ssl crt {tls.pem} alpn http/1.1 ssl-min-ver TLSv1.3 ciphersuites {tls.SUITE}"
                     f" curves {tls.GROUP}")
        stats = f"{self.work}/haproxy{tag}.sock"  # SSL counters (bench/load/tls.py)
        stats_line = f"\n  stats socket {stats}" if tls else ""
        conf = self.write(f"haproxy{tag}.cfg", f"""global
  nbthread 1
  maxconn 8000{stats_line}
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend public
  bind {bind}
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
        p.stats_socket = stats if tls else None
        return port, p

    def haproxy_relay(self, upstream, tag=""):
        """HAProxy in `mode tcp`: a loopback TCP hop in front of `upstream`; returns (port, process)."""
        port = free_port()
        conf = self.write(f"haproxy-relay{tag}.cfg", f"""global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
listen relay
  bind 127.0.0.1:{port}
  server s1 127.0.0.1:{upstream}
""")
        p = self.spawn([HAPROXY, "-db", "-f", conf], f"haproxy-relay{tag}")
        wait_port(port, p)
        return port, p

    def dpuguard_host(self, name, upstream, socket_dir, tag=""):
        """`dpuguard-host serve NAME` forwarding to `upstream`, listening in `socket_dir`."""
        path = os.path.join(socket_dir, f"{name}.sock")
        p = self.spawn([os.path.join(ROOT, "build", "dpuguard-host"), "serve", name, "--forward",
                        f"http://127.0.0.1:{upstream}", "--socket-dir", socket_dir], f"dpuguard-host{tag}")
        deadline = time.time() + 10
        while not os.path.exists(path):
            if p.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"dpuguard-host did not listen on {path}")
            time.sleep(0.02)
        return p

    def nginx(self, upstream, llm, tag="", modsec=False, tls=None):
        """`modsec`: with ModSecurity on, running modsec_rules() (nginx_modsec)."""
        port = free_port()
        w = self.work
        ssl = ""
        if tls:  # http level: both servers (the default and llm.bench) share the port
            ssl = (f"ssl_certificate {tls.cert}; ssl_certificate_key {tls.key}; ssl_protocols TLSv1.3;\n"
                   f"  ssl_conf_command Ciphersuites {tls.SUITE}; ssl_ecdh_curve {tls.GROUP}; "
                   f"ssl_session_tickets on;")
        listen = f"127.0.0.1:{port}" + (" ssl" if tls else "")
        module = f"load_module {MODSEC_MODULE};\n" if modsec else ""
        waf = f"modsecurity on; modsecurity_rules_file {self.modsec_rules()};" if modsec else ""
        conf = self.write(f"nginx-proxy{tag}.conf", f"""{module}daemon off; master_process off; worker_processes 1;
pid {w}/proxy{tag}.pid; error_log {w}/proxy-error{tag}.log; worker_rlimit_nofile 20000;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 1000000; client_max_body_size 1m;
  client_body_buffer_size 64k; client_body_temp_path {w}/pbody; proxy_temp_path {w}/ptemp;
  {waf}
  {ssl}
  upstream up {{ server 127.0.0.1:{upstream}; keepalive 256; }}
  upstream llm {{ server 127.0.0.1:{llm}; keepalive 256; }}
  server {{ listen {listen} backlog=4096;
    location / {{ proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";
                  proxy_buffering off; }}
  }}
  server {{ listen {listen}; server_name {LLM_HOST};
    location / {{ proxy_pass http://llm; proxy_http_version 1.1; proxy_set_header Connection "";
                  proxy_buffering off; }}
  }}
}}
""")
        p = self.spawn([NGINX, "-c", conf, "-e", f"{w}/proxy-error{tag}.log"], f"nginx-proxy{tag}")
        wait_port(port, p)
        return port, p

    def nginx_modsec(self, upstream, llm, tag=""):
        """The WAF users would otherwise deploy: the same nginx proxy with ModSecurity v3 on and
        the OWASP Core Rule Set (Debian packages)."""
        return self.nginx(upstream, llm, tag=f"-modsec{tag}", modsec=True)

    def modsec_rules(self):
        """The main rules file: Debian's recommended ModSecurity settings (request bodies read,
        JSON bodies parsed into ARGS, response bodies of text types read), the engine On
        instead of DetectionOnly, the audit log here, then the CRS at paranoia level 1 (its
        default, set explicitly) with its anomaly scoring (inbound threshold 5: blocks with 403)."""
        for path in (MODSEC_MODULE, MODSEC_RECOMMENDED, CRS_SETUP, CRS_RULES):
            if not os.path.exists(path):
                raise SystemExit(f"{path} is missing: scripts/install-deps installs "
                                 "libnginx-mod-http-modsecurity and modsecurity-crs")
        return self.write("modsec-main.conf", f"""Include {MODSEC_RECOMMENDED}
SecRuleEngine On
SecRequestBodyAccess On
SecAuditLog {self.work}/modsec-audit.log
Include {CRS_SETUP}
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include {CRS_RULES}/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
""")
