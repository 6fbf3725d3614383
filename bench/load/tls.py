"""TLS pieces of bench/load/run: the certificate all three proxies serve (ECDSA P-256, made at
bench time with the openssl CLI, never committed), the client context, the handshake workloads
(build/bench/tls_handshakes: a new connection per request, full or resumed), what each proxy
really negotiated and resumed, and whether this kernel can take the record layer (kTLS).

Every proxy is set to TLS 1.3 only, TLS_AES_128_GCM_SHA256 only and X25519 only (proxies.py);
the clients offer exactly those, so the three do the same cryptography."""
import errno
import json
import os
import re
import socket
import ssl
import subprocess
import urllib.request

from measure import cpu_seconds
from proxies import ROOT

SUITE = "TLS_AES_128_GCM_SHA256"
GROUP = "X25519"
SNI = "bench.test"
HANDSHAKES = os.path.join(ROOT, "build", "bench", "tls_handshakes")
TCP_ULP = 31  # linux/tcp.h


class Certificate:
    """A self-signed ECDSA P-256 certificate for bench.test and llm.bench in `work`: cert, key
    (0600) and pem (both, for HAProxy's crt)."""
    SUITE = SUITE
    GROUP = GROUP

    def __init__(self, work):
        d = os.path.join(work, "tls")
        os.makedirs(d, exist_ok=True)
        self.cert, self.key, self.pem = (os.path.join(d, n) for n in ("cert.pem", "key.pem", "both.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={SNI}",
                        "-addext", f"subjectAltName=DNS:{SNI},DNS:llm.bench"], check=True, capture_output=True)
        os.chmod(self.key, 0o600)
        with open(self.pem, "w") as out:
            out.write(open(self.cert).read() + open(self.key).read())
        os.chmod(self.pem, 0o600)


def client_context():
    """Python's client side (SSE and idle workloads): TLS 1.3, ALPN http/1.1, no chain check."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def negotiated(port):
    """What a proxy negotiates with the client context: {"protocol", "suite", "alpn"}."""
    with client_context().wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname=SNI) as s:
        return {"protocol": s.version(), "suite": s.cipher()[0], "alpn": s.selected_alpn_protocol()}


def handshake_run(port, pid, mode, seconds, connections, counters=None):
    """One timed tls_handshakes run against `port`: the client's JSON plus the CPU microseconds
    the proxy process `pid` spent per completed connection (handshake + one GET + close), and
    with `counters` (a function: the proxy's {"full", "resumed"}) what the proxy counted in the
    timed part ("server")."""
    if not os.path.exists(HANDSHAKES):
        raise SystemExit(f"{HANDSHAKES} is missing: make build")
    client = subprocess.Popen([HANDSHAKES, "--port", str(port), "--mode", mode, "--seconds", str(seconds),
                               "--connections", str(connections), "--sni", SNI],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if client.stdout.readline().strip() != "ready":
            raise RuntimeError(f"tls_handshakes could not prime its connections to {port}")
        before = counters() if counters else None
        cpu0 = cpu_seconds(pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        out = client.stdout.read()
        cpu = cpu_seconds(pid) - cpu0
        after = counters() if counters else None
    finally:
        client.wait()
    res = json.loads(out)
    if before and after:
        res["server"] = {k: after[k] - before[k] for k in ("full", "resumed")}
    if res["completed"] == 0:
        raise RuntimeError(f"tls_handshakes completed nothing against {port}: {out}")
    res["cpu_us_per_conn"] = cpu / res["completed"] * 1e6
    res["resumed_fraction"] = res["resumed"] / res["completed"]
    res["tickets_per_conn"] = res["tickets"] / res["completed"]
    return res


def dpuguard_tls_counters(admin_port):
    """dpuguard's own account of its handshakes ({"full", "resumed"}, all listeners) from /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5).read().decode()

    def total(name):
        return sum(int(float(v)) for v in re.findall(rf"^{name}{{[^}}]*}} (\S+)$", text, re.M))
    resumed = total("dpuguard_tls_resumed_total")
    return {"full": total("dpuguard_tls_handshakes_total") - resumed, "resumed": resumed}


def haproxy_tls_counters(sock_path):
    """HAProxy's account of its frontend's handshakes ({"full", "resumed"}: its SSL stats module's
    ssl_sess and ssl_reused_sess) from its stats socket, or None without that module."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock_path)
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    head = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("pxname") == "public" and row.get("svname") == "FRONTEND":
            if "ssl_sess" not in row:
                return None  # this HAProxy has no SSL stats module
            return {"full": int(row["ssl_sess"] or 0), "resumed": int(row["ssl_reused_sess"] or 0)}
    return None


def ktls_probe():
    """Whether this kernel offers the `tls` TCP upper-layer protocol (kTLS): the ULPs it lists and
    what setsockopt(TCP_ULP, "tls") on an established loopback connection says."""
    try:
        available = open("/proc/sys/net/ipv4/tcp_available_ulp").read().split()
    except OSError as e:
        available = [f"unreadable: {e}"]
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        with socket.create_connection(lst.getsockname()) as c, lst.accept()[0]:
            try:
                c.setsockopt(socket.IPPROTO_TCP, TCP_ULP, b"tls")
                result = "ok"
            except OSError as e:
                result = f"{errno.errorcode.get(e.errno, e.errno)}: {e.strerror}"
    return {"tcp_available_ulp": available, "setsockopt_tcp_ulp_tls": result, "usable": result == "ok"}


def server_counters(name, proc):
    """The proxy's own count of full and resumed handshakes, where it keeps one (nginx: None)."""
    if name.startswith("dpuguard"):
        return lambda: dpuguard_tls_counters(proc.admin_port)
    if name == "haproxy" and getattr(proc, "stats_socket", None):
        return lambda: haproxy_tls_counters(proc.stats_socket)
    return None


def handshake_rounds(targets, mode, args):
    """A warm-up, then args.rounds alternating handshake_run()s over `targets` ({name: (port,
    process)}) in `mode` ("full" or "resume"). Each run says what the client saw (resumed by
    the server per connection, tickets) and what the proxy counted in the same span; a run whose
    handshakes are not what `mode` says stops the bench. Returns {name: [run, ...]}."""
    label = "tls_" + mode
    for name, (port, proc) in targets.items():
        handshake_run(port, proc.pid, mode, 1, args.handshake_connections)
    runs = {name: [] for name in targets}
    for r in range(args.rounds):
        for name, (port, proc) in targets.items():
            res = handshake_run(port, proc.pid, mode, args.seconds, args.handshake_connections,
                                server_counters(name, proc))
            expected = res["completed"] if mode == "resume" else 0
            server = res.get("server")
            if res["resumed"] != expected or (server and server["resumed"] != expected):
                raise SystemExit(f"{label} {name}: {res['resumed']} of {res['completed']} connections resumed "
                                 f"(the proxy counted {server}); expected {expected}")
            runs[name].append(res)
            print(f"{label:13} round {r + 1} {name:9} {res['rate']:9.0f} conn/s  p50 {res['p50_ms']:.3f} ms  "
                  f"cpu/conn {res['cpu_us_per_conn']:7.1f} us  resumed {res['resumed']}/{res['completed']}  "
                  f"tickets/conn {res['tickets_per_conn']:.2f}  proxy counted {server}  errors {res['errors']}",
                  flush=True)
    return runs
