"""A TCP relay that forwards a byte stream in pieces of random size with small random pauses.

The integration harness puts one in front of dpuguard's listener (clients connect to the
relay) and one in front of every upstream it starts (dpuguard's endpoints are the relays),
when DPUGUARD_SEGMENTED=1: every suite then also runs with requests and responses arriving
cut at arbitrary offsets, one byte at a time included, in separate reads.

Per accepted connection the relay opens one connection to its target, from the same source
address the client used (all of 127.0.0.0/8 is local: identities by source address keep
working), and forwards both directions:
  - data in pieces: the cut points are stream offsets drawn from a random.Random seeded with
    "<seed>/<relay name>/<connection number>/<direction>", so a seed replays the same cuts
    (plus wherever the sender's own writes ended: the relay never waits to fill a piece);
    before a piece, a pause of up to 2 ms (every other piece). The first 64 KiB of each
    direction are cut hard (40% of the pieces are 1-3 bytes: a 150-byte head gets 7 cuts on
    average, 5% of heads none), the rest mildly (large bodies stay fast).
  - half-close: a FIN from one side is passed on (shutdown(SHUT_WR)) once what came before
    it has been delivered; the other direction keeps flowing.
  - resets: a RST from one side (or a send that fails because that side is gone) is passed
    on as a RST (SO_LINGER 0) to the other, after the bytes that arrived before it.
  - a target that refuses the connection: the client's connection is reset.
Standard library only; one thread per connection.
"""
import random
import select
import socket
import struct
import threading
import time

HARD_BYTES = 64 * 1024        # each direction's first bytes: cut hard
MAX_PENDING = 256 * 1024      # per direction; past it the relay stops reading (backpressure)
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: bind() picks the address only, connect() the port


def _abort(s):
    """Closes `s` with a RST instead of a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


class _Direction:
    """One direction of one relayed connection: src -> pending bytes -> dst, in pieces."""

    def __init__(self, src, dst, rng, label):
        self.src, self.dst, self.rng, self.label = src, dst, rng, label
        self.pending = bytearray()
        self.eof = False         # src sent its FIN
        self.shut = False        # ... and it was passed on to dst
        self.offset = 0          # bytes delivered to dst
        self.piece_left = 0      # bytes left of the current piece
        self.next_at = 0.0       # monotonic time the current piece may start
        self.cuts = []           # first cut offsets (for failure reports)
        self._next_piece()

    def _next_piece(self):
        r = self.rng.random()
        if self.offset < HARD_BYTES:
            if r < 0.40:
                size = self.rng.randint(1, 3)
            elif r < 0.80:
                size = self.rng.randint(4, 16)
            elif r < 0.95:
                size = self.rng.randint(17, 128)
            else:
                size = self.rng.randint(129, 2048)
            pause = self.rng.uniform(0.0001, 0.002) if self.rng.random() < 0.5 else 0.0
        else:
            size = self.rng.randint(1, 16) if r < 0.03 else self.rng.randint(1024, 65536)
            pause = self.rng.uniform(0.0001, 0.001) if self.rng.random() < 0.02 else 0.0
        self.piece_left = size
        self.next_at = time.monotonic() + pause
        if len(self.cuts) < 64 and self.offset:
            self.cuts.append(self.offset)

    def ready(self, now):
        return bool(self.pending) and now >= self.next_at

    def send_some(self):
        """Sends (part of) the current piece; raises OSError if dst is gone."""
        n = min(self.piece_left, len(self.pending))
        try:
            sent = self.dst.send(memoryview(self.pending)[:n])
        except BlockingIOError:
            return
        del self.pending[:sent]
        self.offset += sent
        self.piece_left -= sent
        if self.piece_left == 0:
            self._next_piece()

    def flush_blocking(self, timeout=2.0):
        """What is pending goes out at once (before a reset is passed on)."""
        if not self.pending:
            return
        try:
            self.dst.settimeout(timeout)
            self.dst.sendall(self.pending)
            self.offset += len(self.pending)
        except OSError:
            pass
        self.pending.clear()

    def summary(self):
        return f"{self.label}: {self.offset} bytes, first cuts at {self.cuts[:24]}"


class SegmentingRelay:
    def __init__(self, target_port, seed, name, target_host="127.0.0.1", listen_port=0):
        """`listen_port` 0: a free port (self.port says which)."""
        self.target = (target_host, target_port)
        self.seed, self.name = seed, name
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", listen_port))
        self.srv.listen(128)
        self.port = self.srv.getsockname()[1]
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.count = 0
        self.conns = []      # [(number, [directions])] for failure reports
        self.threads = []
        t = threading.Thread(target=self._accept, name=f"relay-{name}", daemon=True)
        t.start()
        self.threads.append(t)

    def close(self):
        self.stopping.set()
        try:
            self.srv.shutdown(socket.SHUT_RDWR)  # wakes accept()
        except OSError:
            pass
        self.srv.close()
        for t in list(self.threads):
            t.join(timeout=2)

    def report(self, last=12):
        """The cut points of the last connections, for a failure message."""
        with self.lock:
            conns = self.conns[-last:]
        lines = [f"relay {self.name} (:{self.port} -> :{self.target[1]}), {self.count} connections"]
        for number, dirs in conns:
            lines += [f"  #{number} {d.summary()}" for d in dirs]
        return "\n".join(lines)

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, peer = self.srv.accept()
            except OSError:
                return
            with self.lock:
                self.count += 1
                number = self.count
            t = threading.Thread(target=self._serve, args=(client, peer, number),
                                 name=f"relay-{self.name}-{number}", daemon=True)
            t.start()
            with self.lock:
                self.threads = [x for x in self.threads if x.is_alive()] + [t]

    def _serve(self, client, peer, number):
        up = socket.socket()
        try:
            up.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            up.bind((peer[0], 0))  # the client's own source address
            up.settimeout(5.0)
            up.connect(self.target)
        except OSError:
            _abort(up)
            _abort(client)  # as close to "connection refused" as an accepted socket gets
            return
        for s in (client, up):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        base = f"{self.seed}/{self.name}/{number}"
        c2s = _Direction(client, up, random.Random(base + "/c2s"), "client->target")
        s2c = _Direction(up, client, random.Random(base + "/s2c"), "target->client")
        with self.lock:
            self.conns.append((number, [c2s, s2c]))
            del self.conns[:-200]
        try:
            self._pump(client, up, (c2s, s2c))
        finally:
            for s in (client, up):
                if s.fileno() >= 0:
                    s.close()

    def _pump(self, client, up, dirs):
        by_src = {d.src.fileno(): d for d in dirs}
        by_dst = {d.dst.fileno(): d for d in dirs}
        poller = select.poll()  # (select() stops at fd 1024)
        registered = set()
        while True:
            if self.stopping.is_set():
                _abort(client)
                _abort(up)
                return
            now = time.monotonic()
            for d in dirs:  # a FIN goes on once everything before it has
                if d.eof and not d.pending and not d.shut:
                    try:
                        d.dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    d.shut = True
            if all(d.shut for d in dirs):
                return
            masks = {client.fileno(): 0, up.fileno(): 0}
            for d in dirs:
                if not d.eof and len(d.pending) < MAX_PENDING:
                    masks[d.src.fileno()] |= select.POLLIN
                if d.ready(now):
                    masks[d.dst.fileno()] |= select.POLLOUT
            for fd, mask in masks.items():  # no interest, no registration: POLLHUP would spin
                if mask:
                    (poller.modify if fd in registered else poller.register)(fd, mask)
                    registered.add(fd)
                elif fd in registered:
                    poller.unregister(fd)
                    registered.discard(fd)
            waits = [d.next_at - now for d in dirs if d.pending and d.next_at > now]
            timeout_ms = max(0.0, min(waits + [0.2])) * 1000
            events = poller.poll(timeout_ms)
            for fd, ev in events:  # reads first: a RST is seen before a send fails on it
                if not masks[fd] & select.POLLIN or not ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    continue
                d = by_src[fd]
                try:
                    data = d.src.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    self._reset_from(d.src, dirs)
                    return
                if data:
                    d.pending += data
                else:
                    d.eof = True
            for fd, ev in events:
                if not masks[fd] & select.POLLOUT or not ev & (select.POLLOUT | select.POLLHUP | select.POLLERR):
                    continue
                d = by_dst[fd]
                if not d.ready(time.monotonic()):
                    continue
                try:
                    d.send_some()
                except OSError:
                    self._reset_from(d.dst, dirs)
                    return

    @staticmethod
    def _reset_from(gone, dirs):
        """`gone` reset (or vanished): what it sent before still reaches the other side,
        then that side gets a RST too."""
        out = next(d for d in dirs if d.src is gone)  # gone -> other
        other = out.dst
        try:
            while True:  # bytes queued before the RST are still readable
                data = gone.recv(65536)
                if not data:
                    break
                out.pending += data
        except OSError:
            pass
        out.flush_blocking()
        _abort(other)
        _abort(gone)
