"""Integration-test harness: starts real processes on loopback (dpuguard, nginx, mock-llm)
on free ports, with temporary config files, and tears them down after each test.

Environment (set by CMake/ctest): DPUGUARD_BIN, DPUGUARD_SRC.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

BIN = os.environ.get("DPUGUARD_BIN", os.path.join(os.path.dirname(__file__), "../../build/dpuguard"))
SRC = os.environ.get("DPUGUARD_SRC", os.path.join(os.path.dirname(__file__), "../.."))
MOCK = os.path.join(SRC, "tools/mock-llm/mock_llm.py")
HOST_BIN = os.path.join(os.path.dirname(BIN), "dpuguard-host")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # /usr/sbin is not on every PATH


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def wait_until(what, check, timeout=10.0):
    """Polls `check()` until it is true; fails naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def read_to_end(s, buf=b""):
    """Reads socket `s` until the peer closes it, then closes it; returns everything read."""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Processes:
    """Owns the processes and files of one test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dpuguard-it-")
        self.procs = []
        self.logs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, args, log_name, **kw):
        log = open(self.path(log_name), "wb")
        self.logs.append(log)
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- servers ------------------------------------------------------------------------
    def dpuguard_host(self, mode, name, *extra):
        """Starts `dpuguard-host MODE NAME ...` on {dir}/sock and waits for its socket."""
        sock = self.path(f"sock/{name}.sock")
        if os.path.exists(sock):  # left by one that was killed
            os.unlink(sock)
        proc = self.spawn([HOST_BIN, mode, name, "--socket-dir", self.path("sock"), *extra], f"host-{name}-{mode}.log")
        wait_until(f"dpuguard-host's socket {sock}", lambda: os.path.exists(sock))
        return proc

    def mock_llm(self, token_delay_ms=20):
        port = free_port()
        p = self.spawn([sys.executable, MOCK, "--listen", f"127.0.0.1:{port}",
                        "--token-delay-ms", str(token_delay_ms)], f"mock-{port}.log")
        wait_port(port, p)
        return port

    def nginx(self, extra_locations=""):
        """A real nginx (Debian nginx-light) serving fixed responses and files from self.dir/www."""
        port = free_port()
        www = self.path("www")
        os.makedirs(www, exist_ok=True)
        conf = self.path(f"nginx-{port}.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx-{port}.pid;
error_log {self.dir}/nginx-{port}-error.log;
events {{ worker_connections 1024; }}
http {{
  log_format conn '$connection $request_method $request_uri $status';
  access_log {self.dir}/nginx-{port}-access.log conn;
  client_body_temp_path {self.dir}/body; proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fcgi; uwsgi_temp_path {self.dir}/uwsgi; scgi_temp_path {self.dir}/scgi;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port};
    root {www};
    location = /hello {{ return 200 "hello from nginx\\n"; }}
    location /path/ {{ return 200 "$request_uri\\n"; }}
    location = /nocontent {{ return 204; }}
    {extra_locations}
  }}
}}
""")
        p = self.spawn([NGINX, "-c", conf, "-e", f"{self.dir}/nginx-{port}-error.log"], f"nginx-{port}.log")
        wait_port(port, p)
        return port

    def nginx_connections(self, port):
        """Distinct client connections nginx saw (from its access log)."""
        with open(self.path(f"nginx-{port}-access.log")) as f:
            return {line.split()[0] for line in f if line.strip()}

    def dpuguard(self, config_yaml, name="dpuguard.yaml"):
        """Writes `config_yaml` ({port}/{admin} are filled in) and starts dpuguard on it."""
        port, admin = free_port(), free_port()
        cfg = self.path(name)
        with open(cfg, "w") as f:
            f.write(config_yaml.replace("{port}", str(port)).replace("{admin}", str(admin)).replace("{dir}", self.dir))
        p = self.spawn([BIN, "--config", cfg], "dpuguard.log")
        # Start-up compiles the signature sets: 250 shipped rules take ~1.6 s, ~8 s under ASan
        # (its malloc), more when ctest runs suites in parallel on two cores.
        wait_port(port, p, timeout=60.0)
        wait_port(admin, p)
        return Dpuguard(p, port, admin, cfg, self.path("dpuguard.log"))


class Dpuguard:
    def __init__(self, proc, port, admin, config_path, log_path):
        self.proc, self.port, self.admin, self.config_path, self.log_path = proc, port, admin, config_path, log_path

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics(self):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.admin}/metrics", timeout=5).read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def metric(self, name):
        return self.metrics().get(name, 0.0)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def flow_log(self):
        return [json.loads(l) for l in self.log().splitlines() if l.startswith("{")]

    def wait_flow_log(self, n, timeout=5.0):
        """The flow log once it has at least `n` lines (each worker writes it once per loop
        iteration, so a line can trail the response it describes)."""
        deadline = time.time() + timeout
        while True:
            log = self.flow_log()
            if len(log) >= n or time.time() >= deadline:
                if len(log) < n:
                    raise AssertionError(f"expected {n} flow-log lines, got {len(log)}")
                return log
            time.sleep(0.02)

    def rewrite_config(self, text):
        # Atomic replace, as operators (and Kubernetes ConfigMap updates) do: a reload never
        # sees a half-written file.
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config_path)

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)


def config(upstreams, extra_top="", cluster_extra="", route_extra="", routes=None, workers=1):
    """A config with one listener, admin, one cluster `up` and a catch-all route."""
    eps = ", ".join(f'"127.0.0.1:{p}"' for p in upstreams)
    routes = routes or f"""  - name: all
    match: {{path_prefix: /}}
    cluster: up
{route_extra}"""
    return f"""listeners:
  - name: public
    address: 127.0.0.1:{{port}}
admin:
  address: 127.0.0.1:{{admin}}
workers: {workers}
{extra_top}
clusters:
  - name: up
    endpoints: [{eps}]
{cluster_extra}
routes:
{routes}
logging:
  flow_log: stderr
"""


def identities(*labels):
    """The `identities:` config section from (CIDR, identity) pairs."""
    return "identities:\n" + "".join(f"  - cidr: {cidr}\n    identity: {ident}\n" for cidr, ident in labels)


def signatures(*families):
    """The `signatures:` config section loading the shipped rule files named (config/rules/)."""
    files = ", ".join(os.path.join(SRC, "config", "rules", f + ".yaml") for f in families)
    return f"signatures:\n  files: [{files}]\n"


def raw_exchange(port, data, timeout=5.0, until_close=True, read_bytes=None):
    """Sends raw bytes and returns what came back (until close, timeout, or read_bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if read_bytes is not None and len(out) >= read_bytes:
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def curl(*args, timeout=60):
    r = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def status_of(response_bytes):
    m = re.match(rb"HTTP/1\.1 (\d{3})", response_bytes)
    return int(m.group(1)) if m else None


class ProxyTestCase(unittest.TestCase):
    def setUp(self):
        self.p = Processes()

    def tearDown(self):
        # On failure, show the tail of every process log of this test.
        if not getattr(self._outcome, "success", True):
            for name in sorted(os.listdir(self.p.dir)):
                if name.endswith(".log"):
                    with open(self.p.path(name), errors="replace") as f:
                        sys.stderr.write(f"\n--- {name} ---\n{f.read()[-3000:]}\n")
        self.p.stop_all()
