# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_tls.py - amaned with --server.tls_cert/--server.tls_key: HTTPS and WSS
with a self-signed certificate made by openssl for the test, plain HTTP
refused on that port, and a half-given TLS configuration refused at start."""

import http.client
import os
import socket
import ssl
import subprocess
import time

import harness as h


def make_cert(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=h.scaled(30))
    os.chmod(key, 0o600)
    return cert, key


class TlsTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert, cls.key = make_cert(cls.tmp)
        cls.srv = cls.new_server(name="tls", tls=(cls.cert, cls.key))

    def test_https_health_and_login(self):
        srv = self.srv
        self.assertIn('url=https://127.0.0.1:%d' % srv.port, srv.log_text())
        # The harness's client verifies the server against our certificate.
        health = srv.health()
        self.assertEqual(health["status"], "ok")
        token = srv.login("dispatcher")
        me = srv.get("/api/v1/me", token=token)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["username"], "dispatcher")
        entry = srv.post("/api/v1/logbook", {"text": "via TLS · عبر قناة مشفرة"}, token=token)
        self.assertEqual(entry.status, 201, entry)
        self.assertEqual(entry.json["text"], "via TLS · عبر قناة مشفرة")

    def test_presents_our_certificate(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        with socket.create_connection((h.HOST, self.srv.port), timeout=h.scaled(5)) as raw:
            with ctx.wrap_socket(raw, server_hostname=h.HOST) as tls:
                der = tls.getpeercert(binary_form=True)
                self.assertGreaterEqual(tls.version(), "TLSv1.2")
        with open(self.cert) as f:
            self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))
        # A client that trusts only the system's authorities refuses it: verification is real.
        strict = ssl.create_default_context()
        strict.load_default_certs()
        with self.assertRaises(ssl.SSLCertVerificationError):
            with socket.create_connection((h.HOST, self.srv.port), timeout=h.scaled(5)) as raw:
                strict.wrap_socket(raw, server_hostname=h.HOST)
        self.assertSurvives(self.srv, "a client that gave up the TLS handshake")

    def test_wss_stream(self):
        srv = self.srv
        token = srv.token("supervisor")
        with srv.stream(token) as ws:
            hello = ws.recv_json()
            self.assertEqual(hello["type"], "stream.hello")
            self.assertEqual(hello["role"], "supervisor")
            r = srv.post("/api/v1/logbook", {"text": "événement chiffré"}, token=token)
            self.assertEqual(r.status, 201, r)
            m = ws.recv_json()
            self.assertEqual(m["seq"], r.json["seq"])
            self.assertEqual(m["data"]["text"], "événement chiffré")

    def test_plain_http_gets_no_api_answer(self):
        srv = self.srv
        for data in (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 53\r\n\r\n"
                     b'{"username":"admin","password":"' + h.ADMIN_PASSWORD.encode() + b'"}',
                     b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"):
            with self.subTest(data=data[:30]):
                raw = h.raw_exchange(srv.port, data, timeout=3)
                self.assertNotIn(b"head_seq", raw)
                self.assertNotIn(b"am_", raw)
                self.assertNotIn(b"stream.hello", raw)
                r = h.parse_http_response(raw)
                self.assertTrue(r is None or r.status >= 400, r)
                self.assertSurvives(srv, "plain HTTP on the TLS port")
        conn = http.client.HTTPConnection(h.HOST, srv.port, timeout=h.scaled(3))
        try:
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            status = None
        finally:
            conn.close()
        self.assertTrue(status is None or status >= 400, status)
        # Still serving TLS clients afterwards.
        self.assertEqual(srv.get("/healthz").status, 200)


class TlsConfigTest(h.ServerTestCase):
    """A half-given TLS configuration must stop the server, not fall back to
    plain HTTP (config.c: a mistake in a police server's configuration must
    be seen)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert, cls.key = make_cert(cls.tmp)

    def start_expecting_failure(self, args, name):
        srv = self.new_server(name=name, args=args, start=False)
        srv.starts += 1
        log = os.path.join(srv.workdir, "%s.log" % name)
        srv.logs.append(log)
        port = h.free_port()
        with open(log, "wb") as f:
            # libwebsockets 4.1 leaks 72 bytes when it cannot create its context;
            # the process exits at once: leaks are not what this test is about.
            proc = subprocess.Popen([h.AMANED, "--server.port=%d" % port, "--store.path=" + srv.db]
                                    + args, stdout=f, stderr=f, cwd=srv.workdir,
                                    env=h.child_env({"ASAN_OPTIONS": "detect_leaks=0"}))
        rc, served_plain = None, False
        deadline = time.monotonic() + h.scaled(5)
        while time.monotonic() < deadline:
            rc = proc.poll()
            if rc is not None:
                break
            try:
                if h.Client(port).get("/healthz", timeout=1).status == 200:
                    served_plain = True
                    break
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        return rc, served_plain, srv.log_text()

    def test_cert_without_key_is_refused(self):
        rc, served_plain, log = self.start_expecting_failure(
            ["--server.tls_cert=" + self.cert], "cert-only")
        self.assertFalse(served_plain, "tls_cert without tls_key served plain HTTP; log:\n" + log)
        self.assertIsNotNone(rc, "amaned ran with tls_cert but no tls_key")
        self.assertNotEqual(rc, 0)

    def test_key_without_cert_is_refused(self):
        rc, served_plain, log = self.start_expecting_failure(
            ["--server.tls_key=" + self.key], "key-only")
        self.assertFalse(served_plain, "tls_key without tls_cert served plain HTTP; log:\n" + log)
        self.assertIsNotNone(rc, "amaned ran with tls_key but no tls_cert")
        self.assertNotEqual(rc, 0)

    def test_missing_key_file_is_refused(self):
        rc, served_plain, log = self.start_expecting_failure(
            ["--server.tls_cert=" + self.cert,
             "--server.tls_key=" + os.path.join(self.tmp, "absent.pem")], "absent-key")
        self.assertFalse(served_plain)
        self.assertIsNotNone(rc)
        self.assertNotEqual(rc, 0)
        self.assertNotIn("listening", log)


if __name__ == "__main__":
    h.main()
