"""Shared pieces of the chaos suite (tests/chaos/): the integration harness (real processes on
loopback, free ports, segmented mode) plus what fault cases need: CPU time of a process, a
slow client, many idle sockets, Python and curl clients that send big bodies."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import (SEGMENTED, ProxyTestCase, config, curl, free_port, raw_exchange,  # noqa: E402,F401
                     read_to_end, recv_head, status_of, wait_port, wait_until, whole_only)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of process `pid` (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_share(pid, seconds):
    """The share of one core process `pid` used over the next `seconds`."""
    before, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - t0)


def open_idle(port, n, timeout=2.0):
    """`n` connections to `port` that send nothing; those the kernel did not accept in time
    are left out."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            s.close()
    return socks


def get(port, path="/hello", timeout=5.0, host="x"):
    """One GET on a new connection: (status or None, seconds)."""
    t0 = time.monotonic()
    try:
        out = raw_exchange(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode(),
                           timeout=timeout)
    except OSError:
        out = b""
    return status_of(out), time.monotonic() - t0


class KeepAlive:
    """A keep-alive client: one connection, one GET at a time (the canary)."""

    def __init__(self, port, timeout=5.0):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def get(self, path="/hello"):
        self.s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        length = int(next((l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")),
                          b"0"))
        while len(rest) < length:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
        self.buf = rest[length:]
        return status_of(head)

    def close(self):
        self.s.close()
