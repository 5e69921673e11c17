"""Hostile and unlucky clients: shutdown with requests in flight, and many concurrent connections
of valid, invalid and partial requests, after which the server must still answer and stay small."""
import os
import signal
import socket
import time
import unittest

from harness import Server, ServerTestCase


def presigned(client, method, **params):
    """Returns the path and query of a presigned URL (the host is the test server)."""
    url = client.generate_presigned_url(method, Params=params, ExpiresIn=600)
    return "/" + url.split("/", 3)[3]


def read_response(sock, deadline):
    """Reads one HTTP/1.1 response with a Content-Length body; returns (status, headers, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.1, deadline - time.time()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers: %r" % buf[:200])
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        sock.settimeout(max(0.1, deadline - time.time()))
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        body += chunk
    return status, headers, body


class Shutdown(unittest.TestCase):
    """SIGTERM stops accepting at once but lets the requests already in flight finish."""

    def setUp(self):
        self.server = Server()
        self.server.start()
        tc = ServerTestCase()
        tc.server = self.server
        self.s3 = tc.client("s3")
        self.s3.create_bucket(Bucket="drain")

    def tearDown(self):
        self.server.cleanup()

    def assert_refuses_new_connections(self):
        try:
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=2) as c:
                c.sendall(b"GET /_codepipeline-local/health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(c.recv(100), b"", "a new connection was served while draining")
        except (ConnectionRefusedError, ConnectionResetError):
            pass

    def test_sigterm_lets_a_response_in_flight_finish(self):
        # Larger than the socket buffers can hold: most of it is still in the server when the
        # signal comes, as long as the client does not read.
        size = 48 << 20
        self.s3.put_object(Bucket="drain", Key="big", Body=os.urandom(1 << 20) * 48)
        path = presigned(self.s3, "get_object", Bucket="drain", Key="big")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
        first = sock.recv(4096)
        time.sleep(0.3)
        self.assertTrue(first.startswith(b"HTTP/1.1 200"), first[:100])
        self.server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        self.assert_refuses_new_connections()
        rest = first
        deadline = time.time() + 20
        while time.time() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            rest += chunk
            if len(rest.split(b"\r\n\r\n", 1)[-1]) >= size:
                break
        sock.close()
        body = rest.split(b"\r\n\r\n", 1)[1]
        self.assertEqual(len(body), size, "the response was cut off by the shutdown")
        self.assertEqual(self.server.proc.wait(15), 0, self.server.read_log())

    def test_sigterm_lets_an_upload_in_flight_finish(self):
        data = os.urandom(4 << 20)
        path = presigned(self.s3, "put_object", Bucket="drain", Key="up")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(("PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n"
                      % (path, len(data))).encode())
        sock.sendall(data[:len(data) // 2])
        time.sleep(0.2)
        self.server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(data[len(data) // 2:])
        status, _, body = read_response(sock, time.time() + 10)
        sock.close()
        self.assertEqual(status, 200, body)
        self.assertEqual(self.server.proc.wait(15), 0, self.server.read_log())
        self.server.proc = None
        self.server.log.close()
        self.server.start()
        got = self.s3.get_object(Bucket="drain", Key="up")["Body"].read()
        self.assertEqual(got, data)


if __name__ == "__main__":
    unittest.main()
