"""TLS record boundaries on a dpuguard listener. OpenSSL reads a whole record, and whatever
follows it, in one read (read ahead); bytes it holds raise no readiness event, so each case
here is bytes that wait in OpenSSL and must still be answered: the first request in the same
segment as the client's Finished (read with the handshake's last record), pipelined requests
in one segment, a request cut into one-byte records, a body larger than a record.

The client is Python's ssl over memory BIOs, so the test decides which records share a write."""
import os
import socket
import ssl
import unittest

from harness import ProxyTestCase, config
from tls_pki import TestPki

HOST = "api.example.test"


def request(body=b""):
    head = f"{'POST' if body else 'GET'} /records HTTP/1.1\r\nHost: {HOST}\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class Client:
    """A TLS 1.3 client whose records go out only when send() says."""

    def __init__(self, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname=HOST)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.data = b""

    def handshake(self, send_finished=True):
        """Runs the handshake; the client's last flight (its Finished) is sent only if asked."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.send()
                self.receive()
        if send_finished:
            self.send()

    def send(self):
        """Everything written so far, in one sendall (one segment when it is small)."""
        if self.out.pending:
            self.sock.sendall(self.out.read())

    def receive(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise AssertionError("dpuguard closed the connection")
        self.inc.write(chunk)

    def responses(self, n):
        """The next `n` responses (status lines), reading until each body is complete."""
        statuses = []
        while len(statuses) < n:
            try:
                chunk = self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.receive()
                continue
            if not chunk:  # close_notify
                raise AssertionError(f"dpuguard closed the connection after {statuses}")
            self.data += chunk
            while b"\r\n\r\n" in self.data:
                head, rest = self.data.split(b"\r\n\r\n", 1)
                length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n")
                               if l.lower().startswith(b"content-length:")), 0)
                if len(rest) < length:
                    break
                statuses.append(head.split(b"\r\n")[0].decode())
                self.data = rest[length:]
        return statuses

    def close(self):
        self.sock.close()


class TlsRecordsTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        pki = TestPki(self.p.dir)
        listener = "    address: 127.0.0.1:{port}\n"
        tls = (f"    tls:\n      certificates: [{{cert_file: {pki.server_chain}, "
               f"key_file: {pki.server_key}}}]\n")
        # Answers each request once it has all of it (a connection per request), recording it.
        self.up = self.p.recording_upstream()
        self.d = self.p.dpuguard(config([self.up.port]).replace(listener, listener + tls, 1))

    def client(self):
        c = Client(self.d.port)
        self.addCleanup(c.close)
        return c

    def test_first_request_in_the_segment_of_the_finished(self):
        c = self.client()
        c.handshake(send_finished=False)
        c.tls.write(request())
        c.send()  # Finished and the request record together
        self.assertEqual(c.responses(1), ["HTTP/1.1 200 OK"])

    def test_pipelined_requests_in_one_segment(self):
        c = self.client()
        c.handshake()
        for _ in range(3):
            c.tls.write(request())  # a record each
        c.send()
        self.assertEqual(c.responses(3), ["HTTP/1.1 200 OK"] * 3)

    def test_request_in_one_byte_records(self):
        c = self.client()
        c.handshake()
        for byte in request():
            c.tls.write(bytes([byte]))
        c.send()
        self.assertEqual(c.responses(1), ["HTTP/1.1 200 OK"])

    def test_body_larger_than_a_record_then_a_request(self):
        c = self.client()
        c.handshake(send_finished=False)
        body = os.urandom(40000).hex().encode()  # 80 kB: five records
        c.tls.write(request(body))
        c.tls.write(request())
        c.send()
        self.assertEqual(c.responses(2), ["HTTP/1.1 200 OK"] * 2)
        self.assertTrue(self.up.received()[0].endswith(b"\r\n\r\n" + body))


if __name__ == "__main__":
    unittest.main()
