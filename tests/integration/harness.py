# SPDX-License-Identifier: AGPL-3.0-or-later
"""harness.py - runs the real amaned on a loopback port for the integration
tests, and talks to it: a small HTTP client, a raw-request helper for input
that http.client refuses to send, and a minimal WebSocket client written on a
plain socket (RFC 6455: handshake, unmasked server frames, masked client
frames, ping/pong, close).

Python 3 standard library only. The binaries come from the environment that
tests/integration/CMakeLists.txt sets:

  AMANE_AMANED, AMANE_CLI     paths of the built amaned and amane
  AMANE_BIN_DIR               or: the directory holding both
  AMANE_SOURCE_DIR            the source tree (for web/)
  AMANE_INTEGRATION_TIMEOUT_SCALE   multiplies every timeout (ASan builds: 4)
  AMANE_INTEGRATION_KEEP=1    keep the temporary directories

Every server's stderr goes to a file in its temporary directory. A test that
fails prints the tail of the logs of the servers of its class; a server log
that holds a sanitizer report fails the test that was running.
"""

import atexit
import base64
import hashlib
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("AMANE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("AMANE_BIN_DIR", "")
AMANED = os.environ.get("AMANE_AMANED") or os.path.join(BIN_DIR, "amaned")
AMANE = os.environ.get("AMANE_CLI") or os.path.join(BIN_DIR, "amane")
WEB_ROOT = os.path.join(SOURCE_DIR, "web")
try:
    SCALE = max(1.0, float(os.environ.get("AMANE_INTEGRATION_TIMEOUT_SCALE", "1") or 1))
except ValueError:
    SCALE = 1.0
KEEP = os.environ.get("AMANE_INTEGRATION_KEEP") == "1"

HOST = "127.0.0.1"
PROBLEM_BASE = "urn:amane:problem:"
ROLES = ("admin", "supervisor", "dispatcher", "patrol", "analyst", "examiner", "trainer",
         "trainee")
ADMIN_PASSWORD = "amane-admin-2025"
DEMO_PASSWORD = "amane-demo-2025"
DEMO_USERS = {r: (ADMIN_PASSWORD if r == "admin" else DEMO_PASSWORD) for r in ROLES}

# What in a server's stderr means the build's sanitizers caught something.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def haversine(a, b):
    """Great-circle metres between (lat, lon) points a and b, as amaned measures them."""
    r = 6371008.8
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    d = (math.sin((la2 - la1) / 2) ** 2 +
         math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * r * math.asin(min(1.0, math.sqrt(d)))


def scaled(seconds):
    """A timeout, stretched for slow (sanitizer) builds."""
    return seconds * SCALE


def free_port():
    """A loopback port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def check_binaries():
    for path in (AMANED, AMANE):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise RuntimeError(
                "cannot find '%s': set AMANE_BIN_DIR (or AMANE_AMANED and AMANE_CLI)" % path)


def child_env(extra=None):
    """The environment for amaned/amane: ours without AMANE_* settings, so a
    developer's shell cannot change what the tests run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMANE_")}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    # readosm's leak on malformed XML (tests/lsan.supp says why it is not ours).
    env.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" %
                   os.path.join(SOURCE_DIR, "tests", "lsan.supp"))
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------- HTTP


class Response:
    """An HTTP answer: status, headers (lower-case names), raw body, JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        ctype = headers.get("content-type", "")
        if "json" in ctype and body:
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.json = None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    @property
    def problem_type(self):
        return self.json.get("type") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "<Response %s %s %r>" % (self.status, self.headers.get("content-type"),
                                        self.body[:300])


def _headers_dict(pairs):
    out = {}
    for name, value in pairs:
        name = name.lower()
        out[name] = out[name] + ", " + value if name in out else value
    return out


def parse_http_response(data):
    """Parses one raw HTTP/1.1 answer (status line, headers, body as far as
    Content-Length says). Returns a Response, or None if `data` holds none."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1."):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return None
    pairs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    headers = _headers_dict(pairs)
    if "content-length" in headers:
        try:
            rest = rest[:int(headers["content-length"])]
        except ValueError:
            pass
    return Response(status, headers, rest)


def raw_exchange(port, data, timeout=5.0, tls_context=None, chunks=None, read_all=True):
    """Sends raw bytes (or a list of chunks) and reads until the peer closes,
    the answer is complete, or the timeout. Returns the bytes received (b''
    if the connection was reset)."""
    deadline = time.monotonic() + scaled(timeout)
    sock = socket.create_connection((HOST, port), timeout=scaled(timeout))
    if tls_context is not None:
        sock = tls_context.wrap_socket(sock, server_hostname=HOST)
    received = b""
    try:
        for part in (chunks if chunks is not None else [data]):
            try:
                sock.sendall(part)
            except OSError:
                break
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                got = sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not got:
                break
            received += got
            if not read_all:
                r = parse_http_response(received)
                if r is not None and len(r.body) >= int(r.headers.get("content-length", "0")
                                                        or 0):
                    break
    finally:
        sock.close()
    return received


def raw_request(port, data, timeout=5.0, tls_context=None):
    """Sends a hand-made request and parses the first answer (None if none)."""
    return parse_http_response(raw_exchange(port, data, timeout, tls_context, read_all=False))


class Client:
    """A tiny HTTP client bound to one server; a new connection per request."""

    def __init__(self, port, tls_context=None):
        self.port = port
        self.tls_context = tls_context

    def connection(self, timeout):
        if self.tls_context is not None:
            return http.client.HTTPSConnection(HOST, self.port, timeout=timeout,
                                               context=self.tls_context)
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def request(self, method, path, json_body=None, body=None, token=None, headers=None,
                timeout=10.0):
        """json_body: a value sent as UTF-8 JSON with Content-Type
        application/json; body: raw bytes sent as they are."""
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        if headers:
            hdrs.update(headers)
        conn = self.connection(scaled(timeout))
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, _headers_dict(r.getheaders()), data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)


# --------------------------------------------------------------------- WebSocket


class WebSocketError(Exception):
    pass


class HandshakeError(WebSocketError):
    def __init__(self, response):
        super().__init__("WebSocket handshake refused: %r" % (response,))
        self.response = response


class WebSocketClosed(WebSocketError):
    """The server closed: `code` and `reason` from its close frame (None, ''
    if the TCP connection ended without one)."""

    def __init__(self, code, reason):
        super().__init__("WebSocket closed: code=%s reason=%r" % (code, reason))
        self.code = code
        self.reason = reason


OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    """A minimal RFC 6455 client over a raw socket."""

    def __init__(self, port, path, headers=None, timeout=5.0, tls_context=None):
        self.buf = b""
        self.closed = None
        self.sock = socket.create_connection((HOST, port), timeout=scaled(timeout))
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=HOST)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (HOST, port), "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        for name, value in (headers or {}).items():
            lines.append("%s: %s" % (name, value))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        deadline = time.monotonic() + scaled(timeout)
        while b"\r\n\r\n" not in self.buf:
            chunk = self._recv(deadline)
            if not chunk:
                break
            self.buf += chunk
        head, sep, rest = self.buf.partition(b"\r\n\r\n")
        resp = parse_http_response(head + sep + rest) if sep else None
        if resp is None or resp.status != 101:
            # A refusal may come with a body: read what there is.
            if resp is not None and "content-length" in resp.headers:
                want = int(resp.headers["content-length"])
                while len(rest) < want:
                    chunk = self._recv(deadline)
                    if not chunk:
                        break
                    rest += chunk
                resp = parse_http_response(head + sep + rest)
            self.sock.close()
            raise HandshakeError(resp)
        expect = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if resp.headers.get("sec-websocket-accept") != expect:
            self.sock.close()
            raise WebSocketError("bad Sec-WebSocket-Accept: %r" % resp.headers)
        self.handshake = resp
        self.buf = rest

    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(65536)
        except ConnectionResetError:
            return b""

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            chunk = self._recv(deadline)
            if not chunk:
                raise WebSocketClosed(None, "")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload=b"", fin=True, masked=True):
        header = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        mask_bit = 0x80 if masked else 0
        if n < 126:
            header += bytes([mask_bit | n])
        elif n < 65536:
            header += bytes([mask_bit | 126]) + struct.pack("!H", n)
        else:
            header += bytes([mask_bit | 127]) + struct.pack("!Q", n)
        if masked:
            mask = os.urandom(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            header += mask
        self.sock.sendall(header + payload)

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    def recv_frame(self, timeout=5.0):
        """The next frame as (fin, opcode, payload); server frames are unmasked."""
        deadline = time.monotonic() + scaled(timeout)
        b0, b1 = self._read_exact(2, deadline)
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8, deadline))[0]
        mask = self._read_exact(4, deadline) if b1 & 0x80 else None
        payload = self._read_exact(n, deadline)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return fin, opcode, payload

    def recv_message(self, timeout=5.0):
        """The next text or binary message (fragments joined); answers pings;
        raises WebSocketClosed when the server closes, socket.timeout if
        nothing came in time."""
        if self.closed:
            raise self.closed
        deadline = time.monotonic() + scaled(timeout)
        parts, first_op = [], None
        while True:
            fin, op, payload = self.recv_frame(max(0.01, (deadline - time.monotonic()) / SCALE))
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                reason = payload[2:].decode("utf-8", "replace")
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                self.closed = WebSocketClosed(code, reason)
                raise self.closed
            if op in (OP_TEXT, OP_BINARY):
                first_op = op
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                return data.decode("utf-8") if first_op == OP_TEXT else data

    def recv_json(self, timeout=5.0):
        return json.loads(self.recv_message(timeout))

    def expect_silence(self, seconds):
        """Returns the message that arrived within `seconds`, or None."""
        try:
            return self.recv_json(seconds)
        except socket.timeout:
            return None

    def wait_closed(self, timeout=5.0):
        """Reads until the server closes; returns (code, reason, messages seen)."""
        seen = []
        deadline = time.monotonic() + scaled(timeout)
        try:
            while True:
                left = (deadline - time.monotonic()) / SCALE
                if left <= 0:
                    raise socket.timeout("the server did not close the stream")
                seen.append(self.recv_message(left))
        except WebSocketClosed as e:
            return e.code, e.reason, seen

    def close(self, code=1000):
        if self.closed is None:
            try:
                self.send_frame(OP_CLOSE, struct.pack("!H", code))
                self.closed = WebSocketClosed(code, "client")
                deadline = time.monotonic() + scaled(1.0)
                while time.monotonic() < deadline:
                    _, op, _ = self.recv_frame(max(0.01, (deadline - time.monotonic()) / SCALE))
                    if op == OP_CLOSE:
                        break
            except (OSError, WebSocketError):
                pass
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------- server


_template_lock = threading.Lock()
_template_dir = None


def seeded_db(dest_dir):
    """Copies a database holding the demo users (`amane demo seed`, made once
    per process) into dest_dir and returns its path."""
    global _template_dir
    with _template_lock:
        if _template_dir is None:
            d = tempfile.mkdtemp(prefix="amane-integ-seed-")
            r = run_cli(os.path.join(d, "amane.db"), "demo", "seed", cwd=d)
            if r.returncode != 0:
                raise RuntimeError("amane demo seed failed (%d): %s" % (r.returncode, r.stderr))
            _template_dir = d
            if not KEEP:
                atexit.register(shutil.rmtree, d, True)
    os.makedirs(dest_dir, exist_ok=True)
    for name in os.listdir(_template_dir):
        if name.startswith("amane.db"):
            shutil.copy(os.path.join(_template_dir, name), os.path.join(dest_dir, name))
    return os.path.join(dest_dir, "amane.db")


def run_cli(db, *args, input=None, cwd=None, timeout=30.0):
    """Runs `amane --store.path=DB ARGS...`; returns the CompletedProcess
    (text). A sanitizer report on its stderr is a failure."""
    r = subprocess.run([AMANE, "--store.path=" + db] + list(args), input=input,
                       capture_output=True, text=True, cwd=cwd or os.path.dirname(db),
                       env=child_env(), timeout=scaled(timeout))
    report = sanitizer_report(r.stderr)
    if report:
        raise AssertionError("amane %s: sanitizer report:\n%s" % (" ".join(args), report))
    return r


def sanitizer_report(text):
    for marker in SANITIZER_MARKERS:
        i = text.find(marker)
        if i >= 0:
            return text[max(0, text.rfind("\n", 0, max(0, i - 200)) + 1):i + 4000]
    return None


class Server:
    """One amaned process on a free loopback port, its database and logs in
    `workdir`. start() may be called again after stop()/kill() (same db)."""

    def __init__(self, workdir, db=None, args=(), tls=None, web_root=WEB_ROOT, name="amaned"):
        self.workdir = workdir
        self.db = db or os.path.join(workdir, "amane.db")
        self.args = list(args)
        self.tls = tls  # (cert, key) or None
        self.web_root = web_root
        self.name = name
        self.proc = None
        self.port = None
        self.logs = []
        self.starts = 0
        self.tokens = {}
        self.exit_codes = []
        self.expect_running = False  # started and not stopped or killed on purpose
        self.seen_reports = set()

    # -- life cycle

    @property
    def tls_context(self):
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.tls[0])
        return ctx

    @property
    def client(self):
        return Client(self.port, self.tls_context)

    def start(self, timeout=10.0):
        check_binaries()
        last_error = None
        for _ in range(3):  # the port picked may be taken meanwhile: try another
            self.starts += 1
            log = os.path.join(self.workdir, "%s.%d.log" % (self.name, self.starts))
            self.logs.append(log)
            self.port = free_port()
            cmd = [AMANED, "--server.port=%d" % self.port, "--store.path=" + self.db,
                   "--server.web_root=" + self.web_root,
                   # Device listeners on free ports, so that servers can run side by side.
                   "--avl.osmand_port=0", "--avl.teltonika_port=0"]
            if self.tls:
                cmd += ["--server.tls_cert=" + self.tls[0], "--server.tls_key=" + self.tls[1]]
            cmd += self.args
            with open(log, "wb") as f:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                                             cwd=self.workdir, env=child_env())
            try:
                self.wait_ready(timeout)
                self.expect_running = True
                return self
            except RuntimeError as e:
                last_error = e
                if self.proc.poll() is None:
                    self.kill()
                text = self.log_text(log)
                if "cannot start" not in text and "cannot start the server" not in text:
                    break
        raise RuntimeError("%s did not start: %s\n--- log ---\n%s" %
                           (self.name, last_error, self.log_tail()))

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exited with status %d" % self.proc.returncode)
            try:
                r = self.client.get("/healthz", timeout=1.0)
                if r.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise RuntimeError("/healthz did not answer within %.1f s" % scaled(timeout))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15.0):
        """SIGTERM and wait; returns the exit status (None if not running)."""
        self.expect_running = False
        if not self.alive():
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("%s did not stop within %.0f s of SIGTERM" %
                               (self.name, scaled(timeout)))
        self.exit_codes.append(rc)
        return rc

    def kill(self):
        """SIGKILL: the crash the store must survive."""
        self.expect_running = False
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.exit_codes.append(self.proc.returncode)
        self.tokens.clear()

    # -- logs

    def device_port(self, protocol):
        """The port amaned says it listens on for `protocol` devices (osmand, teltonika)."""
        m = re.findall(r'msg="listening for devices" protocol=%s port=(\d+)' % protocol,
                       self.log_text())
        if not m:
            raise AssertionError("amaned did not say where %s listens:\n%s" %
                                 (protocol, self.log_tail()))
        return int(m[-1])

    def log_text(self, path=None):
        out = []
        for p in ([path] if path else self.logs):
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def log_tail(self, lines=80):
        text = self.log_text()
        return "\n".join(text.splitlines()[-lines:])

    def sanitizer_report(self, new_only=False):
        """The first sanitizer report in the logs (with new_only: the first
        one not returned before), or None."""
        text = self.log_text()
        while True:
            report = sanitizer_report(text)
            if report is None or not new_only:
                return report
            if report not in self.seen_reports:
                self.seen_reports.add(report)
                return report
            text = text[text.find(report) + len(report):]

    # -- API helpers

    def request(self, method, path, **kw):
        return self.client.request(method, path, **kw)

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.client.post(path, json_body, **kw)

    def health(self):
        r = self.get("/healthz")
        if r.status != 200:
            raise AssertionError("healthz answered %r" % r)
        return r.json

    def head_seq(self):
        return self.health()["head_seq"]

    def login(self, username, password=None, expect=200):
        password = password if password is not None else DEMO_USERS.get(username, "")
        r = self.post("/api/v1/auth/login", {"username": username, "password": password})
        if expect is not None and r.status != expect:
            raise AssertionError("login of %s: expected %d, got %r" % (username, expect, r))
        return r.json["token"] if r.status == 200 else r

    def token(self, username, password=None):
        """A cached token for this user (logs in once)."""
        if username not in self.tokens:
            self.tokens[username] = self.login(username, password)
        return self.tokens[username]

    def cli(self, *args, input=None):
        return run_cli(self.db, *args, input=input, cwd=self.workdir)

    def add_user(self, username, role, password):
        r = self.cli("user", "add", username, "--role", role, "--password-stdin",
                     input=password + "\n")
        if r.returncode != 0:
            raise AssertionError("amane user add %s failed: %s" % (username, r.stderr))
        return r

    def stream(self, token=None, since=None, headers=None, timeout=5.0):
        """Opens /api/v1/stream (token in access_token unless in headers)."""
        q = []
        if since is not None:
            q.append("since=%s" % since)
        if token is not None:
            q.append("access_token=%s" % token)
        path = "/api/v1/stream" + ("?" + "&".join(q) if q else "")
        return WebSocket(self.port, path, headers=headers, timeout=timeout,
                         tls_context=self.tls_context)

    def logbook_all(self, token):
        """Every logbook entry, oldest first, through ?after= pagination."""
        items, after = [], 0
        while True:
            r = self.get("/api/v1/logbook?after=%d&limit=500" % after, token=token)
            if r.status != 200:
                raise AssertionError("logbook page after %d: %r" % (after, r))
            page = r.json["items"]
            items.extend(page)
            if len(page) < 500:
                return items
            after = page[-1]["id"]


# --------------------------------------------------------------------- test base


_any_failure = False


class ServerTestCase(unittest.TestCase):
    """Base class: servers started by a class are stopped at its end; a
    failing test prints their logs; a sanitizer report fails the test."""

    servers = None
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.servers = []
        cls.tmp = tempfile.mkdtemp(prefix="amane-integ-%s-" % cls.__name__)

    @classmethod
    def tearDownClass(cls):
        problems = []
        for s in cls.servers or []:
            try:
                rc = s.stop()
            except RuntimeError as e:
                problems.append(str(e))
                rc = None
            if rc not in (None, 0):
                problems.append("%s exited with status %s on SIGTERM" % (s.name, rc))
            report = s.sanitizer_report(new_only=True)
            if report:
                problems.append("%s: sanitizer report:\n%s" % (s.name, report))
        if problems:
            for s in cls.servers or []:
                sys.stderr.write("\n--- %s log (%s) ---\n%s\n" % (s.name, s.workdir, s.log_tail()))
        if cls.tmp and not KEEP and not _any_failure and not problems:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        elif cls.tmp:
            sys.stderr.write("kept %s\n" % cls.tmp)
        if problems:
            raise AssertionError("\n".join(problems))

    @classmethod
    def new_server(cls, args=(), seed=True, tls=None, web_root=WEB_ROOT, name=None, start=True):
        name = name or "amaned%d" % (len(cls.servers) + 1)
        workdir = os.path.join(cls.tmp, name)
        os.makedirs(workdir, exist_ok=True)
        db = seeded_db(workdir) if seed else os.path.join(workdir, "amane.db")
        s = Server(workdir, db=db, args=args, tls=tls, web_root=web_root, name=name)
        cls.servers.append(s)
        if start:
            s.start()
        return s

    def run(self, result=None):
        global _any_failure
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            _any_failure = True
            for s in type(self).servers or []:
                sys.stderr.write("\n--- %s (%s) log tail, port %s ---\n%s\n" %
                                 (s.name, s.workdir, s.port, s.log_tail()))
        return out

    def setUp(self):
        # A server that died in an earlier test (that test failed for it) is
        # started again, so that this test reports on its own behaviour.
        for s in type(self).servers or []:
            if s.expect_running and not s.alive():
                s.exit_codes.append(s.proc.returncode)
                s.tokens.clear()
                s.start()

    def tearDown(self):
        for s in type(self).servers or []:
            report = s.sanitizer_report(new_only=True)
            if report:
                self.fail("%s: sanitizer report:\n%s" % (s.name, report))
            if s.expect_running and not s.alive():
                self.fail("%s died during this test (exit status %s); log tail:\n%s" %
                          (s.name, s.proc.returncode, s.log_tail(15)))

    # -- assertions

    def assertSurvives(self, srv, what):
        """The server is still up and answering after `what`; if not, it is
        started again (for what follows) and the check fails naming `what`."""
        time.sleep(0.1)
        ok = srv.alive()
        if ok:
            try:
                ok = srv.get("/healthz", timeout=5).status == 200
            except (OSError, http.client.HTTPException):
                ok = False
        if not ok:
            code = srv.proc.poll()
            tail = srv.log_tail(8)
            if srv.alive():
                srv.kill()
            srv.start()
            self.fail("%s did not survive %s (exit status %s); log tail:\n%s" %
                      (srv.name, what, code, tail))

    def assertProblem(self, r, status, slug, msg=None):
        """r is an application/problem+json answer with this status and type."""
        ctx = "%s%r" % (msg + ": " if msg else "", r)
        self.assertEqual(r.status, status, ctx)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/problem+json"),
                        ctx)
        self.assertIsInstance(r.json, dict, ctx)
        self.assertEqual(r.json.get("type"), PROBLEM_BASE + slug, ctx)
        self.assertEqual(r.json.get("status"), status, ctx)
        self.assertIsInstance(r.json.get("title"), str, ctx)


def main():
    unittest.main(verbosity=2)
