"""Integration-test harness: starts real processes on loopback (dpuguard, nginx, mock-llm)
on free ports, with temporary config files, and tears them down after each test.

Environment (set by CMake/ctest): DPUGUARD_BIN, DPUGUARD_SRC.

Segmented mode (DPUGUARD_SEGMENTED=1, the ctest tests integration.segmented.<suite>): every
connection a test makes to dpuguard's listener and every connection dpuguard makes to an
upstream the harness started goes through a SegmentingRelay (segmenting_relay.py), which
forwards in pieces of random size (1 byte included) with pauses up to 2 ms. Tests need not
know: Dpuguard.port / url() are the client-side relay's, and nginx(), mock_llm(),
recording_upstream() and relay() return the port of a relay in front of the server, which is
what goes into the generated configs. The cuts are seeded: DPUGUARD_SEGMENT_SEED (random if
unset, printed with every failure) replays them; each test's relays are seeded from it and
the test's id, so one test can be replayed alone.
"""
import json
import os
import random
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
SEGMENTED = os.environ.get("DPUGUARD_SEGMENTED", "") not in ("", "0")
SEGMENT_SEED = os.environ.get("DPUGUARD_SEGMENT_SEED") or str(random.SystemRandom().randrange(10 ** 9))
# DPUGUARD_SANDBOX=enforce|audit (ctest sets enforce): every config the harness writes that has
# no `sandbox:` section of its own gets `sandbox: {mode: ...}`, so the whole suite proves the
# seccomp allowlist covers every feature it exercises (a syscall off the list kills dpuguard).
SANDBOX = os.environ.get("DPUGUARD_SANDBOX", "")


def with_sandbox(text):
    """`text` with the suite's sandbox mode added unless it sets one itself."""
    if not SANDBOX or re.search(r"^sandbox:", text, re.M):
        return text
    return text.rstrip("\n") + f"\nsandbox:\n  mode: {SANDBOX}\n"


def whole_only(reason):
    """Skips a test in segmented mode, saying why it cannot meaningfully run relayed."""
    return unittest.skipIf(SEGMENTED, "not run segmented: " + reason)


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
    """Reads socket `s` until the peer closes it, then closes it; returns everything read.
    A reset ends it too: a peer that answers before it has read everything it was sent (a
    refusal mid-body) closes with unread bytes, which is a RST."""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
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

    def __init__(self, seed=SEGMENT_SEED):
        self.dir = tempfile.mkdtemp(prefix="dpuguard-it-")
        self.procs = []
        self.logs = []
        self.seed = seed
        self.relays = []
        self.behind = {}  # relay port -> the port of the server behind it
        self.cleanups = []

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
        for relay in self.relays:
            relay.close()
        for cleanup in self.cleanups:
            cleanup()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- segmented mode ---------------------------------------------------------------------
    def relay(self, port, name="upstream"):
        """The port to reach the server on `port` through: in segmented mode a SegmentingRelay
        in front of it, else `port` itself."""
        if not SEGMENTED:
            return port
        from segmenting_relay import SegmentingRelay
        r = SegmentingRelay(port, self.seed, f"{name}-{len(self.relays) + 1}")
        self.relays.append(r)
        self.behind[r.port] = port
        return r.port

    def real_port(self, port):
        """The server's own port behind a relay port (the port itself when not relayed)."""
        return self.behind.get(port, port)

    def relay_report(self):
        return "\n".join(r.report() for r in self.relays)

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
        return self.relay(port, "mock")

    def recording_upstream(self):
        """A RecordingUpstream (recording_upstream.py) closed with the test; its .port is the
        one to configure (a relay's in segmented mode)."""
        from recording_upstream import RecordingUpstream
        up = RecordingUpstream()
        self.cleanups.append(up.close)
        up.port = self.relay(up.port, "recording")
        return up

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
        return self.relay(port, "nginx")

    def nginx_access_log(self, port):
        """The path of the access log of the nginx started on (or relayed at) `port`."""
        return self.path(f"nginx-{self.real_port(port)}-access.log")

    def nginx_connections(self, port):
        """Distinct client connections nginx saw (from its access log)."""
        with open(self.nginx_access_log(port)) as f:
            return {line.split()[0] for line in f if line.strip()}

    def dpuguard(self, config_yaml, name="dpuguard.yaml", prefix=()):
        """Writes `config_yaml` ({port}/{admin} are filled in) and starts dpuguard on it
        (`prefix`: a command to run it under, such as prlimit)."""
        port, admin = free_port(), free_port()
        cfg = self.path(name)
        with open(cfg, "w") as f:
            f.write(with_sandbox(config_yaml.replace("{port}", str(port)).replace("{admin}", str(admin))
                                 .replace("{dir}", self.dir)))
        p = self.spawn([*prefix, BIN, "--config", cfg], "dpuguard.log")
        # Start-up compiles the signature sets: 250 shipped rules take ~1.6 s, ~8 s under ASan
        # (its malloc), more when ctest runs suites in parallel on two cores.
        wait_port(port, p, timeout=60.0)
        wait_port(admin, p)
        return Dpuguard(p, self.relay(port, "client"), admin, cfg, self.path("dpuguard.log"), listen_port=port)


class Dpuguard:
    """`port` is where clients connect (the client-side relay in segmented mode); the
    listener's own port, the one in its config, is `listen_port`."""

    def __init__(self, proc, port, admin, config_path, log_path, listen_port=None):
        self.proc, self.port, self.admin, self.config_path, self.log_path = proc, port, admin, config_path, log_path
        self.listen_port = port if listen_port is None else listen_port

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
            f.write(with_sandbox(text))
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
            except ConnectionResetError:  # see read_to_end
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


class ResponseStream:
    """One response as it is read, piece by piece: feed() returns the body bytes it decoded
    (chunked framing removed: a proxy may re-chunk a body wherever its reads ended, so
    an event or a word can straddle chunks). `head` is set once the head is complete."""

    def __init__(self):
        self.head, self.body, self._buf, self._chunked, self._state, self._left = None, b"", b"", False, "size", 0

    def feed(self, data):
        self._buf += data
        out = b""
        if self.head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return out
            self.head, self._buf = self._buf[:end + 4], self._buf[end + 4:]
            self._chunked = re.search(rb"\r\ntransfer-encoding: *chunked\r\n", self.head, re.I) is not None
        if not self._chunked:
            out, self._buf = self._buf, b""
        while self._chunked and self._state != "done":
            if self._state == "data":
                take = self._buf[:self._left]
                out, self._buf, self._left = out + take, self._buf[len(take):], self._left - len(take)
                if self._left:
                    break
                self._state = "crlf"
            eol = self._buf.find(b"\r\n")
            if eol < 0:
                break
            line, self._buf = self._buf[:eol], self._buf[eol + 2:]
            if self._state == "crlf":
                self._state = "size"
            elif self._state == "size":
                self._left = int(line.split(b";")[0], 16)
                self._state = "data" if self._left else "trailers"
            elif self._state == "trailers" and not line:
                self._state = "done"
        self.body += out
        return out


def decoded_body(raw):
    """The body of the response `raw` (its bytes as received), chunked framing removed."""
    r = ResponseStream()
    r.feed(raw)
    return r.body


def recv_head(s, buf=b""):
    """Reads from `s` until `buf` holds a complete head (the first CRLFCRLF); returns all read.
    One recv() returns whatever has arrived, which may be part of a head."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def curl(*args, timeout=60):
    r = subprocess.run(["curl", "-sS", *args], capture_output=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def status_of(response_bytes):
    m = re.match(rb"HTTP/1\.1 (\d{3})", response_bytes)
    return int(m.group(1)) if m else None


class ProxyTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if SEGMENTED:
            sys.stderr.write(f"\nsegmented mode: relays on, DPUGUARD_SEGMENT_SEED={SEGMENT_SEED}\n")

    def setUp(self):
        self.p = Processes(seed=f"{SEGMENT_SEED}/{self.id()}")

    def failed(self):
        """Whether this test has failed so far (from tearDown; Python 3.11 resets
        _outcome.success for each part of a test, so the result's lists are read too)."""
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not getattr(outcome, "success", True):
            return True
        result = getattr(outcome, "result", None)
        reported = getattr(result, "errors", []) + getattr(result, "failures", [])
        return any(getattr(test, "test_case", test) is self for test, _ in reported)

    def tearDown(self):
        # On failure, show the tail of every process log of this test.
        if self.failed():
            for name in sorted(os.listdir(self.p.dir)):
                if name.endswith(".log"):
                    with open(self.p.path(name), errors="replace") as f:
                        sys.stderr.write(f"\n--- {name} ---\n{f.read()[-3000:]}\n")
            if SEGMENTED:
                # the folder of the test's own module (tests/chaos imports this harness too)
                test_dir = os.path.relpath(os.path.dirname(os.path.abspath(
                    sys.modules[type(self).__module__].__file__)), os.path.abspath(SRC))
                sys.stderr.write(f"\n--- segmenting relays ---\n{self.p.relay_report()}\n"
                                 f"replay: cd {test_dir} && DPUGUARD_SEGMENTED=1 "
                                 f"DPUGUARD_SEGMENT_SEED={SEGMENT_SEED} DPUGUARD_BIN={BIN} "
                                 f"python3 -m unittest -v {self.id()}\n")
        self.p.stop_all()
