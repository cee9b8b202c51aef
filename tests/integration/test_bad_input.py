# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_bad_input.py - bad input gets a clear error and changes nothing; no
input crashes the server (DESIGN.md, Security).

A table of bad requests, each answered with a 4xx application/problem+json
whose "type" is a stable slug and whose "status" is the HTTP status; after
the table the event log's head is where it was and the server still answers.
Then what cannot be answered at all (oversized request heads, random bytes,
half requests, a slowloris, idle connections) must leave the server alive."""

import json
import os
import random
import socket
import threading
import time

import harness as h

LOGBOOK = "/api/v1/logbook"
JSON = {"Content-Type": "application/json"}
LIMIT = 1024 * 1024  # server.body_limit's default


def nested(depth):
    return b'{"text":"deep","x":' + b"[" * depth + b"]" * depth + b"}"


def nested_objects(depth):
    return b'{"text":"deep","x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def body_of(total, text_char=b"a"):
    """A valid JSON object {"text":"aaa..."} of exactly `total` bytes."""
    return b'{"text":"' + text_char * (total - 11) + b'"}'


class BadInputTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="bad")
        # Logins are events: take every token before the head is noted.
        cls.admin = cls.srv.token("admin")
        cls.patrol = cls.srv.token("patrol")
        cls.dispatcher = cls.srv.token("dispatcher")

    # ------------------------------------------------------------- helpers

    def post(self, path, body, headers=None, token="admin"):
        hdrs = dict(JSON)
        hdrs.update(headers or {})
        return self.srv.request("POST", path, body=body, headers=hdrs,
                                token=getattr(self, token) if token else None)

    def get(self, path, token="admin", headers=None):
        return self.srv.request("GET", path, token=getattr(self, token) if token else None,
                                headers=headers)

    def raw(self, head, body=b""):
        """A hand-made request: `head` lines without the final CRLF CRLF."""
        data = head.replace(b"TOKEN", self.admin.encode()) + b"\r\n\r\n" + body
        return h.raw_request(self.srv.port, data)

    def cases(self):
        """(name, expected status, expected slug, thunk returning a Response)."""
        key = "bad-input-%d" % time.monotonic_ns()
        return [
            # Bodies that are not a JSON object.
            ("malformed JSON", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "abc",}')),
            ("truncated JSON", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "Appel au 19, quartier Maarif')),
            ("not JSON at all", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b"text=hello&category=info")),
            ("JSON array instead of an object", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'[{"text": "abc"}]')),
            ("JSON string at the top", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'"abc"')),
            ("invalid UTF-8 byte", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "caf\xe9"}')),
            ("overlong UTF-8 encoding", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "\xc0\xaf"}')),
            ("lone surrogate escape", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "\\ud800"}')),
            ("NUL escape", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "a\\u0000b"}')),
            ("duplicate keys", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b'{"text": "a", "text": "b"}')),
            ("arrays nested 100 deep", 400, "malformed-json",
             lambda: self.post(LOGBOOK, nested(100))),
            ("objects nested 100 deep", 400, "malformed-json",
             lambda: self.post(LOGBOOK, nested_objects(100))),
            ("empty body", 400, "malformed-json",
             lambda: self.post(LOGBOOK, b"")),
            ("no Content-Length, so no body (RFC 9112 6.3)", 400, "malformed-json",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json")),
            ("login without a body", 400, "malformed-json",
             lambda: self.post("/api/v1/auth/login", b"", token=None)),
            # Well-formed JSON with the wrong content.
            ("text of the wrong type", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": 5}')),
            ("category of the wrong type", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": "a", "category": ["info"]}')),
            ("required field missing", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"category": "info"}')),
            ("unknown field", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": "a", "urgent": true}')),
            ("unknown category", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": "a", "category": "weather"}')),
            ("blank text", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": " \\t\\n "}')),
            ("control character in text", 422, "validation",
             lambda: self.post(LOGBOOK, b'{"text": "bell \\u0007"}')),
            ("text over 4000 bytes", 422, "validation",
             lambda: self.post(LOGBOOK, body_of(4000 + 12))),
            ("body of exactly the limit, text too long", 422, "validation",
             lambda: self.post(LOGBOOK, body_of(LIMIT))),
            ("login with a number for a username", 422, "validation",
             lambda: self.post("/api/v1/auth/login", b'{"username": 1, "password": "x"}',
                               token=None)),
            ("login with an unknown field", 422, "validation",
             lambda: self.post("/api/v1/auth/login",
                               b'{"username": "admin", "password": "x", "otp": 1}', token=None)),
            ("new user with an unknown role", 422, "validation",
             lambda: self.post("/api/v1/users", json.dumps(
                 {"username": "bad.role", "display_name": "x", "role": "chief",
                  "password": "long-enough-pw"}).encode())),
            ("new user with an upper-case name", 422, "validation",
             lambda: self.post("/api/v1/users", json.dumps(
                 {"username": "Bad.Name", "display_name": "x", "role": "patrol",
                  "password": "long-enough-pw"}).encode())),
            ("new user with a control character in the display name", 422, "validation",
             lambda: self.post("/api/v1/users", json.dumps(
                 {"username": "bad.display", "display_name": "a\u0001b", "role": "patrol",
                  "password": "long-enough-pw"}).encode())),
            ("password too short", 422, "validation",
             lambda: self.post("/api/v1/users/patrol/password", b'{"password": "short"}')),
            # Sizes and framing.
            ("Content-Length over the limit", 413, "payload-too-large",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d" % (4 * LIMIT), b'{"text": "')),
            ("a whole body one byte over the limit", 413, "payload-too-large",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Content-Length: %d" % (LIMIT + 1), body_of(LIMIT + 1))),
            ("Content-Length that is not a number", 411, "length-required",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Content-Length: twelve", b'{"text":"x"}')),
            ("chunked body without a length", 411, "length-required",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Transfer-Encoding: chunked", b'c\r\n{"text":"x"}\r\n0\r\n\r\n')),
            ("Content-Type text/plain", 415, "unsupported-media-type",
             lambda: self.post(LOGBOOK, b'{"text": "sent as text/plain"}',
                               headers={"Content-Type": "text/plain"})),
            ("Content-Type of a form", 415, "unsupported-media-type",
             lambda: self.post(LOGBOOK, b'{"text": "sent as a form"}',
                               headers={"Content-Type": "application/x-www-form-urlencoded"})),
            ("no Content-Type", 415, "unsupported-media-type",
             lambda: self.srv.request("POST", LOGBOOK, body=b'{"text": "no content type"}',
                                      token=self.admin)),
            # Who is asking.
            ("no token", 401, "unauthorized",
             lambda: self.post(LOGBOOK, b'{"text": "anonymous"}', token=None)),
            ("Basic credentials", 401, "unauthorized",
             lambda: self.post(LOGBOOK, b'{"text": "basic"}', token=None,
                               headers={"Authorization": "Basic YWRtaW46YW1hbmU="})),
            ("garbage token", 401, "invalid-token",
             lambda: self.post(LOGBOOK, b'{"text": "garbage"}', token=None,
                               headers={"Authorization": "Bearer \x7fgarbage"})),
            ("well-formed but unknown token", 401, "invalid-token",
             lambda: self.post(LOGBOOK, b'{"text": "unknown"}', token=None,
                               headers={"Authorization": "Bearer am_" + "Q" * 43})),
            ("token of 300 characters", 401, "invalid-token",
             lambda: self.get("/api/v1/me", token=None,
                              headers={"Authorization": "Bearer am_" + "Q" * 297})),
            ("revoked-looking token in the query", 401, "invalid-token",
             lambda: self.get("/api/v1/me?access_token=am_" + "Z" * 43, token=None)),
            ("forbidden role writes the logbook", 403, "forbidden",
             lambda: self.post(LOGBOOK, b'{"text": "patrol"}', token="patrol")),
            ("forbidden role reads the event log", 403, "forbidden",
             lambda: self.get("/api/v1/events", token="dispatcher")),
            ("forbidden role adds a user", 403, "forbidden",
             lambda: self.post("/api/v1/users", b'{}', token="dispatcher")),
            # Where and how.
            ("unknown API route", 404, "not-found",
             lambda: self.get("/api/v1/incidents/42")),
            ("unknown user to disable", 404, "not-found",
             lambda: self.post("/api/v1/users/nobody.here/disable", b"")),
            ("DELETE on the logbook", 405, "method-not-allowed",
             lambda: self.srv.request("DELETE", LOGBOOK, token=self.admin)),
            ("PUT on /api/v1/me", 405, "method-not-allowed",
             lambda: self.srv.request("PUT", "/api/v1/me", body=b"{}", headers=JSON,
                                      token=self.admin)),
            ("PATCH on a user", 405, "method-not-allowed",
             lambda: self.srv.request("PATCH", "/api/v1/users/patrol/disable", body=b"{}",
                                      headers=JSON, token=self.admin)),
            ("over-long path", 400, "bad-request",
             lambda: self.get("/api/v1/" + "x" * 600)),
            ("path that is not UTF-8", 400, "bad-request",
             lambda: self.get("/api/v1/%ff%fe")),
            ("too many query arguments", 400, "bad-request",
             lambda: self.get("/api/v1/events?" + "&".join("a%d=1" % i for i in range(17)))),
            ("query argument that is not UTF-8", 400, "bad-request",
             lambda: self.get("/api/v1/events?limit=%ff")),
            ("limit=abc", 422, "validation", lambda: self.get("/api/v1/events?limit=abc")),
            ("since=-1", 422, "validation", lambda: self.get("/api/v1/events?since=-1")),
            ("limit=0", 422, "validation", lambda: self.get("/api/v1/events?limit=0")),
            ("limit=1001", 422, "validation", lambda: self.get("/api/v1/events?limit=1001")),
            ("logbook after=-5", 422, "validation", lambda: self.get(LOGBOOK + "?after=-5")),
            ("logbook limit=1e3", 422, "validation", lambda: self.get(LOGBOOK + "?limit=1e3")),
            ("logbook limit=501", 422, "validation", lambda: self.get(LOGBOOK + "?limit=501")),
            ("logbook limit with spaces", 422, "validation",
             lambda: self.get(LOGBOOK + "?limit=%2010")),
            ("the stream over plain HTTP", 426, "upgrade-required",
             lambda: self.get("/api/v1/stream")),
            # Idempotency keys.
            ("Idempotency-Key of 129 characters", 400, "bad-idempotency-key",
             lambda: self.post(LOGBOOK, b'{"text": "key 129"}',
                               headers={"Idempotency-Key": "k" * 129})),
            ("Idempotency-Key of 600 characters", 400, "bad-idempotency-key",
             lambda: self.post(LOGBOOK, b'{"text": "key 600"}',
                               headers={"Idempotency-Key": "k" * 600})),
            ("Idempotency-Key that is not UTF-8", 400, "bad-idempotency-key",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Idempotency-Key: \xff\xfe" + key.encode() + b"\r\n"
                              b"Content-Length: 16", b'{"text": "utf8"}')),
            ("Idempotency-Key with a control character", 400, "bad-idempotency-key",
             lambda: self.raw(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                              b"Authorization: Bearer TOKEN\r\nContent-Type: application/json\r\n"
                              b"Idempotency-Key: ab\x01cd\r\n"
                              b"Content-Length: 16", b'{"text": "ctrl"}')),
        ]

    # ------------------------------------------------------------- tests

    def test_table_of_bad_requests(self):
        srv = self.srv
        cases = self.cases()
        self.assertGreaterEqual(len(cases), 30)
        head = srv.head_seq()
        logbook_before = len(srv.logbook_all(self.admin))
        for name, status, slug, thunk in cases:
            with self.subTest(name):
                r = thunk()
                self.assertIsNotNone(r, "no answer at all")
                self.assertTrue(400 <= status < 500)
                self.assertProblem(r, status, slug, name)
                # A problem names the request it answers.
                self.assertIn("request_id", r.json)
                self.assertEqual(r.headers.get("x-request-id"), r.json["request_id"])
                if status == 401:
                    self.assertTrue(r.headers.get("www-authenticate", "").startswith("Bearer"),
                                    r.headers)
                self.assertTrue(srv.alive(), "the server died on: " + name)
        self.assertEqual(srv.head_seq(), head, "bad requests wrote events")
        self.assertEqual(len(srv.logbook_all(self.admin)), logbook_before,
                         "bad requests wrote logbook entries")
        self.assertEqual(srv.get("/healthz").status, 200)
        self.assertNotRegex(srv.log_text(), r"status=5\d\d", "a bad request got a 5xx")

    def test_oversized_request_heads(self):
        """Request heads beyond the server's header space cannot be parsed:
        they get a 4xx problem or the connection is closed; never an
        answer to the request, never a crash."""
        srv = self.srv
        head = srv.head_seq()
        heads = [
            ("path of 9000 bytes", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("query of 9000 bytes", b"GET /healthz?" + b"a=1&" * 2250 +
             b" HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("one header of 20 KiB", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
             b"a" * 20480 + b"\r\n\r\n"),
            ("300 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
             b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 30) for i in range(300)) + b"\r\n"),
            ("64 KiB Authorization header", b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Bearer am_" + b"A" * 65536 + b"\r\n\r\n"),
            ("a write with a huge header", b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Bearer " + self.admin.encode() + b"\r\n"
             b"Content-Type: application/json\r\nX-Pad: " + b"p" * 16384 +
             b"\r\nContent-Length: 16\r\n\r\n{\"text\": \"huge\"}"),
        ]
        for name, data in heads:
            with self.subTest(name):
                raw = h.raw_exchange(srv.port, data, timeout=5)
                r = h.parse_http_response(raw)
                if r is not None:
                    self.assertTrue(400 <= r.status < 500, "%s: %r" % (name, r))
                    self.assertTrue(r.headers.get("content-type", "").startswith(
                        "application/problem+json"), r)
                self.assertSurvives(srv, name)
        self.assertEqual(srv.head_seq(), head)

    def test_raw_garbage_over_tcp(self):
        srv = self.srv
        head = srv.head_seq()
        rng = random.Random(20250)

        def connect():
            return socket.create_connection((h.HOST, srv.port), timeout=h.scaled(5))

        def silent_connection():
            s = connect()
            time.sleep(0.1)
            s.close()

        def connect_close_burst():
            for _ in range(50):
                connect().close()

        def random_bytes(prefix):
            return lambda: h.raw_exchange(srv.port, prefix + bytes(
                rng.getrandbits(8) for _ in range(4096)), timeout=2)

        def half(data):
            def send():
                s = connect()
                s.sendall(data)
                s.close()
            return send

        def cut_handshake():
            s = connect()
            s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            s.close()

        def bad_frames():
            ws = srv.stream(headers={"Authorization": "Bearer " + self.admin})
            self.assertEqual(ws.recv_json()["type"], "stream.hello")
            ws.send_frame(h.OP_TEXT, b"\xff\xfe not UTF-8")  # must close, not crash
            ws.send_frame(h.OP_BINARY, os.urandom(70000), masked=False)  # unmasked: a violation
            ws.sock.close()

        def tls_hello():
            import ssl
            ctx = ssl.create_default_context()
            try:
                with connect() as s:
                    ctx.wrap_socket(s, server_hostname=h.HOST)
            except (ssl.SSLError, OSError):
                pass

        probes = [
            ("a connection that sends nothing", silent_connection),
            ("50 connections opened and closed at once", connect_close_burst),
            ("4 KiB of random bytes", random_bytes(b"")),
            ("GET and random bytes", random_bytes(b"GET ")),
            ("a request line and random bytes",
             random_bytes(b"POST /api/v1/logbook HTTP/1.1\r\n")),
            ("a TLS record header and random bytes", random_bytes(b"\x16\x03\x01")),
            ("a TLS ClientHello on the plain port", tls_hello),
            ("half a request line", half(b"GET /healthz HT")),
            ("headers without their end", half(b"POST /api/v1/logbook HTTP/1.1\r\n"
                                               b"Content-Length: 100\r\n")),
            ("a body cut short", half(b"POST /api/v1/logbook HTTP/1.1\r\nHost: x\r\n"
                                      b"Content-Length: 100\r\nAuthorization: Bearer " +
                                      self.admin.encode() + b"\r\nContent-Type: "
                                      b"application/json\r\n\r\n{\"text\": \"half")),
            ("a WebSocket handshake cut short", cut_handshake),
            ("bad frames on a stream", bad_frames),
        ]
        for name, probe in probes:
            with self.subTest(name):
                probe()
                self.assertSurvives(srv, name)
        self.assertEqual(srv.head_seq(), head)

    def test_slowloris_does_not_stall_others(self):
        srv = self.srv
        stop = threading.Event()
        outcome = {}

        def drip():
            request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 200
            s = socket.create_connection((h.HOST, srv.port))
            try:
                for b in request:
                    if stop.is_set():
                        break
                    s.sendall(bytes([b]))
                    time.sleep(0.01)
                outcome["sent"] = True
            except OSError as e:
                outcome["error"] = e  # the server may cut a slow client off: fine
            finally:
                s.close()

        # Many idle connections and a few slow ones hold sockets meanwhile.
        idle = [socket.create_connection((h.HOST, srv.port)) for _ in range(64)]
        threads = [threading.Thread(target=drip) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            worst = 0.0
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                r = srv.get("/healthz", timeout=5)
                worst = max(worst, time.monotonic() - t0)
                self.assertEqual(r.status, 200)
                time.sleep(0.05)
            # A loop blocked by a slow client would hold others for the whole drip (> 2 s).
            self.assertLess(worst, h.scaled(1.5), "slow clients stalled the others")
            me = srv.get("/api/v1/me", token=self.admin)
            self.assertEqual(me.status, 200)
        finally:
            stop.set()
            for t in threads:
                t.join()
            for s in idle:
                s.close()
        self.assertSurvives(srv, "64 idle connections and 4 slow ones closing")


class ExpiredTokenTest(h.ServerTestCase):
    TTL = max(2, round(2 * h.SCALE))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="ttl", args=["--auth.token_ttl=%d" % cls.TTL])

    def test_expired_token(self):
        srv = self.srv
        t0 = time.monotonic()
        r = srv.post("/api/v1/auth/login", {"username": "dispatcher",
                                            "password": h.DEMO_PASSWORD})
        self.assertEqual(r.status, 200, r)
        token = r.json["token"]
        if time.monotonic() - t0 < self.TTL - 0.5:
            self.assertEqual(srv.get("/api/v1/me", token=token).status, 200)
        head = srv.head_seq()
        time.sleep(max(0.0, self.TTL + 0.5 - (time.monotonic() - t0)))
        for path in ("/api/v1/me", LOGBOOK):
            with self.subTest(path):
                r = srv.get(path, token=token)
                self.assertProblem(r, 401, "invalid-token")
                self.assertTrue(r.headers.get("www-authenticate", "").startswith("Bearer"))
        r = srv.request("POST", LOGBOOK, json_body={"text": "after expiry"}, token=token)
        self.assertProblem(r, 401, "invalid-token")
        with srv.stream(token) as ws:
            code, reason, seen = ws.wait_closed()
        self.assertEqual(code, 1008)
        self.assertEqual(reason, "unauthorized")
        self.assertEqual(seen, [])
        self.assertEqual(srv.head_seq(), head, "refused calls wrote something")


if __name__ == "__main__":
    h.main()
