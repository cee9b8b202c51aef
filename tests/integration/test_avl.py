# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_avl.py - the field link through a real amaned: the device registry,
OsmAnd reports as the Traccar Client app sends them (query string, form
body, JSON body) on the OsmAnd port, refusals (unknown device, bad
coordinates, a time far in the future, floods) that change nothing, trails,
the unit's last position feeding recommendations, and a SIGKILL under load
after which every acknowledged report is in the trail."""

import datetime
import http.client
import json
import socket
import struct
import threading
import time
import urllib.parse

import harness as h

DEVICES = "/api/v1/devices"
UNITS = "/api/v1/units"


def now_s():
    return int(time.time())


def crc16_ibm(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def codec8(records):
    """A Teltonika Codec 8 packet of records (time_ms, lat, lon, speed_kmh, io {id: byte})."""
    body = b""
    for t, lat, lon, speed, io in records:
        body += struct.pack(">QB", t, 0)
        body += struct.pack(">iihHBH", int(round(lon * 1e7)), int(round(lat * 1e7)), 50, 90,
                            9 if lat or lon else 0, speed)
        body += struct.pack(">BB", 0, len(io)) + struct.pack(">B", len(io))
        for k, v in io.items():
            body += struct.pack(">BB", k, v)
        body += b"\x00\x00\x00"  # no 2-, 4- or 8-byte elements
    data = struct.pack(">BB", 0x08, len(records)) + body + struct.pack(">B", len(records))
    return b"\x00\x00\x00\x00" + struct.pack(">I", len(data)) + data + struct.pack(
        ">I", crc16_ibm(data))


class Tracker:
    """A Teltonika tracker on the TCP port."""

    def __init__(self, port, imei):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=h.scaled(10))
        self.sock.sendall(struct.pack(">H", len(imei)) + imei.encode())
        self.accepted = self.sock.recv(1)

    def send(self, packet, chunks=1):
        step = max(1, len(packet) // chunks)
        for i in range(0, len(packet), step):
            self.sock.sendall(packet[i:i + step])
            time.sleep(0.01 if chunks > 1 else 0)
        ack = b""
        while len(ack) < 4:
            part = self.sock.recv(4 - len(ack))
            if not part:
                return None
            ack += part
        return struct.unpack(">I", ack)[0]

    def close(self):
        self.sock.close()


class OsmAnd:
    """A client of the OsmAnd port."""

    def __init__(self, port):
        self.port = port

    def send(self, query=None, body=None, content_type=None, method=None, timeout=10.0):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=h.scaled(timeout))
        try:
            path = "/" + ("?" + query if query else "")
            headers = {}
            if content_type:
                headers["Content-Type"] = content_type
            data = body.encode() if isinstance(body, str) else body
            conn.request(method or ("POST" if body is not None else "GET"), path, body=data,
                         headers=headers)
            r = conn.getresponse()
            text = r.read().decode("utf-8", "replace")
            return r.status, text
        finally:
            conn.close()


class AvlTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server()
        cls.osmand = OsmAnd(cls.srv.device_port("osmand"))
        cls.n = 0

    def tok(self, role="supervisor"):
        return self.srv.token(role)

    def unit(self):
        type(self).n += 1
        cs = "AV-%03d" % type(self).n
        r = self.srv.post(UNITS, {"callsign": cs, "kind": "car_patrol"}, token=self.tok())
        self.assertEqual(r.status, 201, r)
        return cs

    def bind(self, device, unit, protocol="osmand", expect=201):
        r = self.srv.post(DEVICES, {"device": device, "protocol": protocol, "unit": unit},
                          token=self.tok())
        self.assertEqual(r.status, expect, r)
        return r

    def trail(self, unit):
        r = self.srv.get("%s/%s/trail" % (UNITS, unit), token=self.tok("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return r.json["points"]

    def test_registry(self):
        u1, u2 = self.unit(), self.unit()
        self.bind("IMEI-350000000000001", u1, "teltonika")
        items = self.srv.get(DEVICES, token=self.tok("dispatcher")).json["items"]
        d = next(x for x in items if x["device"] == "IMEI-350000000000001")
        self.assertEqual((d["unit"], d["protocol"]), (u1, "teltonika"))
        self.bind("IMEI-350000000000001", u2, "teltonika")  # moved to another unit
        items = self.srv.get(DEVICES, token=self.tok("dispatcher")).json["items"]
        self.assertEqual([x["unit"] for x in items if x["device"] == "IMEI-350000000000001"], [u2])
        for body in ({"device": "bad id!", "protocol": "osmand", "unit": u1},
                     {"device": "x" * 64, "protocol": "osmand", "unit": u1},
                     {"device": "ok", "protocol": "gt06", "unit": u1},
                     {"device": "ok", "protocol": "osmand"},
                     {"device": "ok", "protocol": "osmand", "unit": u1, "more": 1}):
            with self.subTest(body=body):
                head = self.srv.head_seq()
                r = self.srv.post(DEVICES, body, token=self.tok())
                self.assertProblem(r, 422, "validation")
                self.assertEqual(self.srv.head_seq(), head)
        self.assertProblem(self.srv.post(DEVICES, {"device": "ok", "protocol": "osmand",
                                                   "unit": "NO-SUCH"}, token=self.tok()),
                           404, "not-found")
        r = self.srv.request("DELETE", DEVICES + "/IMEI-350000000000001", token=self.tok())
        self.assertEqual(r.status, 204, r)
        r = self.srv.request("DELETE", DEVICES + "/IMEI-350000000000001", token=self.tok())
        self.assertProblem(r, 404, "not-found")

    def test_osmand_forms(self):
        unit = self.unit()
        self.bind("traccar-1", unit)
        t = now_s()
        cases = [
            ("query", dict(query="id=traccar-1&lat=33.5731&lon=-7.5898&timestamp=%d&speed=10"
                                 "&bearing=90&altitude=50&accuracy=8&batt=87.5" % (t - 30))),
            ("deviceid, location, ms", dict(query="deviceid=traccar-1&location=33.5741,-7.5890"
                                                  "&timestamp=%d" % ((t - 20) * 1000))),
            ("form body", dict(body="id=traccar-1&lat=33.5751&lon=-7.5880&timestamp=%d" % (t - 10),
                               content_type="application/x-www-form-urlencoded")),
            ("json body", dict(body=json.dumps({
                "device_id": "traccar-1",
                "location": {"timestamp": datetime.datetime.fromtimestamp(
                    t - 5, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "coords": {"latitude": 33.5761, "longitude": -7.5870, "speed": 4.5,
                               "heading": 180, "accuracy": 5},
                    "battery": {"level": 0.8, "is_charging": False}, "is_moving": True}}),
                content_type="application/json")),
        ]
        for name, kw in cases:
            with self.subTest(form=name):
                status, text = self.osmand.send(**kw)
                self.assertEqual(status, 200, text)
        pts = self.trail(unit)
        self.assertEqual([round(p["lat"], 4) for p in pts], [33.5731, 33.5741, 33.5751, 33.5761])
        self.assertAlmostEqual(pts[0]["speed_mps"], 10 * 0.514444, places=3)
        self.assertEqual(pts[0]["heading"], 90)
        self.assertAlmostEqual(pts[3]["speed_mps"], 4.5)
        # The newest becomes the unit's last known position (recommendations use it).
        u = next(x for x in self.srv.get(UNITS, token=self.tok()).json["items"]
                 if x["callsign"] == unit)
        self.assertAlmostEqual(u["position"]["lat"], 33.5761)

    def test_osmand_refusals_change_nothing(self):
        unit = self.unit()
        self.bind("traccar-2", unit)
        t = now_s()
        bad = [
            ("unknown device", "id=stranger&lat=33.57&lon=-7.58", "unknown-device"),
            ("no id", "lat=33.57&lon=-7.58", "invalid-position"),
            ("no lat", "id=traccar-2&lon=-7.58", "invalid-position"),
            ("lat 91", "id=traccar-2&lat=91&lon=-7.58", "invalid-position"),
            ("lat text", "id=traccar-2&lat=abc&lon=-7.58", "invalid-position"),
            ("zero fix", "id=traccar-2&lat=0&lon=0", "invalid-position"),
            ("future", "id=traccar-2&lat=33.57&lon=-7.58&timestamp=%d" % (t + 86400),
             "invalid-position"),
            ("nan", "id=traccar-2&lat=NaN&lon=-7.58", "invalid-position"),
        ]
        for name, q, slug in bad:
            with self.subTest(case=name):
                status, text = self.osmand.send(query=q)
                self.assertEqual(status, 400, text)
                self.assertEqual(json.loads(text)["type"], h.PROBLEM_BASE + slug)
        status, _ = self.osmand.send(query="id=traccar-2&lat=33.57&lon=-7.58", method="PUT",
                                     body="")
        self.assertEqual(status, 405)
        self.assertEqual(self.trail(unit), [])
        metrics = self.srv.get("/metrics").text
        self.assertRegex(metrics, r"amane_avl_unknown_device_total [1-9]")

    def test_flood_is_cut(self):
        unit = self.unit()
        self.bind("traccar-3", unit)
        statuses, lock = [], threading.Lock()

        def one(i):
            status, _ = self.osmand.send(query="id=traccar-3&lat=33.57&lon=-7.58&batt=%d" % i)
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertIn(429, statuses, "60 reports at once from one phone: some are dropped")
        kept = statuses.count(200)
        self.assertEqual(kept + statuses.count(429), 60, statuses)
        self.assertGreater(kept, 0)
        self.assertLessEqual(kept, 40, "at most 20 a second, and the burst spans 2 seconds at most")
        self.assertEqual(len(self.trail(unit)), kept, "every 200 is in the trail, no 429 is")

    def test_teltonika(self):
        port = self.srv.device_port("teltonika")
        unit = self.unit()
        imei = "356307042441013"
        self.bind(imei, unit, "teltonika")
        t = int(time.time() * 1000)
        tr = Tracker(port, imei)
        self.assertEqual(tr.accepted, b"\x01")
        pkt = codec8([(t - 3000, 33.5731, -7.5898, 40, {1: 1, 21: 4}),
                      (t - 2000, 33.5741, -7.5890, 42, {1: 1}),
                      (t - 1000, 0.0, 0.0, 0, {1: 0})])  # the last one without a fix
        self.assertEqual(tr.send(pkt), 3, "all three records acknowledged")
        self.assertEqual(tr.send(pkt, chunks=7), 3, "the same packet again, in pieces")
        bad = bytearray(codec8([(t - 500, 33.5751, -7.5880, 10, {})]))
        bad[-1] ^= 0xFF  # CRC
        self.assertIsNone(tr.send(bytes(bad)), "a bad CRC closes the connection unanswered")
        tr.close()
        pts = self.trail(unit)
        self.assertEqual([round(p["lat"], 4) for p in pts], [33.5731, 33.5741],
                         "positions kept once, the record without a fix not a position")
        self.assertAlmostEqual(pts[0]["speed_mps"], 40 / 3.6, places=3)
        # An unknown IMEI is refused at the handshake.
        stranger = Tracker(port, "356307042441099")
        self.assertEqual(stranger.accepted, b"\x00")
        stranger.close()
        # Not a handshake at all: refused (0x00) and closed.
        s = socket.create_connection(("127.0.0.1", port), timeout=h.scaled(5))
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while True:
            part = s.recv(16)
            if not part:
                break
            got += part
        self.assertEqual(got, b"\x00")
        s.close()
        self.assertTrue(self.srv.alive())

    def test_positions_on_the_stream(self):
        unit = self.unit()
        self.bind("traccar-live", unit)
        frames, times, stop = [], [], threading.Event()
        with self.srv.stream(headers={"Authorization": "Bearer " + self.tok("dispatcher")}) as ws:
            self.assertEqual(ws.recv_json()["type"], "stream.hello")

            def reader():  # arrival times, while the reports are being sent
                while not stop.is_set():
                    try:
                        m = ws.recv_json(0.2)
                    except socket.timeout:
                        continue
                    if m.get("type") == "avl.positions":
                        mine = [u for u in m["units"] if u["unit"] == unit]
                        if mine:
                            frames.append(mine[0])
                            times.append(time.monotonic())

            t = threading.Thread(target=reader)
            t.start()
            start = time.monotonic()
            for i in range(12):  # 6 reports a second for 2 s
                status, _ = self.osmand.send(query="id=traccar-live&lat=%.5f&lon=-7.5898" %
                                             (33.5731 + i * 1e-4))
                self.assertEqual(status, 200)
                if i == 0:
                    first_ack = time.monotonic()
                time.sleep(max(0.0, start + (i + 1) / 6.0 - time.monotonic()))
            time.sleep(h.scaled(1.5))
            stop.set()
            t.join()
        self.assertGreaterEqual(len(frames), 2, "the unit moved on the console")
        self.assertAlmostEqual(frames[-1]["lat"], 33.5731 + 11e-4, places=5,
                               msg="the last position arrives")
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertTrue(all(g > 0.3 for g in gaps), "at most 2 updates a second: %r" % gaps)
        self.assertLess(len(frames), 12, "coalesced")
        # Prompt: the first position is on the stream about as soon as it is acknowledged.
        self.assertLess(times[0] - first_ack, h.scaled(0.25), "the first position came late")
        # An analyst's stream carries no positions.
        self.srv.token("analyst")
        with self.srv.stream(headers={"Authorization": "Bearer " + self.srv.token("analyst")}) as ws:
            ws.recv_json()
            self.osmand.send(query="id=traccar-live&lat=33.58&lon=-7.5898")
            self.assertIsNone(ws.expect_silence(h.scaled(1.0)), "no positions for an analyst")

    def events_since(self, seq, prefix):
        r = self.srv.get("/api/v1/events?since=%d&limit=1000" % seq, token=self.tok())
        self.assertEqual(r.status, 200, r)
        return [e for e in r.json["items"] if e["type"].startswith(prefix)]

    def test_geofences(self):
        tok = self.tok()
        # A square around 33.57..33.58 x -7.60..-7.59 with a hole in its middle.
        square = [[-7.60, 33.57], [-7.59, 33.57], [-7.59, 33.58], [-7.60, 33.58], [-7.60, 33.57]]
        hole = [[-7.597, 33.573], [-7.593, 33.573], [-7.593, 33.577], [-7.597, 33.577],
                [-7.597, 33.573]]
        r = self.srv.post("/api/v1/geofences", {"name": "Zone Nord", "polygon": {
            "type": "Polygon", "coordinates": [square, hole]}}, token=tok)
        self.assertEqual(r.status, 201, r)
        zone = r.json["id"]
        escorted, escort = self.unit(), self.unit()
        self.bind("gf-a", escorted)
        self.bind("gf-b", escort)
        r = self.srv.post("/api/v1/geofences", {"name": "Escorte", "circle": {
            "unit": escorted, "radius_m": 200}}, token=tok)
        self.assertEqual(r.status, 201, r)
        ring = r.json["id"]
        for body in ({"name": "x"}, {"name": "x", "circle": {"lat": 33, "lon": -7}},
                     {"name": "x", "circle": {"lat": 95, "lon": -7, "radius_m": 10}},
                     {"name": "x", "polygon": {"type": "Polygon", "coordinates": [[[0, 0]]]}},
                     {"name": "", "circle": {"lat": 33, "lon": -7, "radius_m": 10}}):
            with self.subTest(body=body):
                self.assertProblem(self.srv.post("/api/v1/geofences", body, token=tok), 422,
                                   "validation")
        self.assertProblem(self.srv.post("/api/v1/geofences", {"name": "x", "circle": {
            "unit": "NOBODY", "radius_m": 10}}, token=tok), 404, "not-found")
        head = self.srv.head_seq()
        t = now_s()
        steps = [("gf-a", 33.5760, -7.5985, t - 50),  # A in the zone
                 ("gf-b", 33.5760, -7.5915, t - 40),  # B in the zone, 650 m from A
                 ("gf-b", 33.5750, -7.5950, t - 30),  # B in the hole: leaves the zone
                 ("gf-b", 33.5760, -7.5980, t - 20),  # B back in the zone, 46 m from A
                 ("gf-b", 33.5900, -7.6200, t - 10)]  # B far away: leaves both
        for dev, lat, lon, ts in steps:
            status, text = self.osmand.send(query="id=%s&lat=%.4f&lon=%.4f&timestamp=%d" %
                                            (dev, lat, lon, ts))
            self.assertEqual(status, 200, text)
        evs = self.events_since(head, "avl.geofence.")
        got = [(e["type"].rsplit(".", 1)[1], e["data"]["unit"], e["data"]["geofence"])
               for e in evs]
        self.assertEqual(got, [("entered", escorted, zone), ("entered", escort, zone),
                               ("exited", escort, zone), ("entered", escort, zone),
                               ("entered", escort, ring), ("exited", escort, zone),
                               ("exited", escort, ring)])
        r = self.srv.get("/api/v1/geofences", token=self.tok("patrol"))
        kinds = {g["id"]: g["kind"] for g in r.json["items"]}
        self.assertEqual((kinds[zone], kinds[ring]), ("polygon", "escort"))
        r = self.srv.request("DELETE", "/api/v1/geofences/%d" % zone, token=tok)
        self.assertEqual(r.status, 204, r)
        r = self.srv.request("DELETE", "/api/v1/geofences/%d" % zone, token=tok)
        self.assertProblem(r, 404, "not-found")

    def test_trail_arguments(self):
        unit = self.unit()
        for q in ("?from=yesterday", "?limit=0", "?limit=20001",
                  "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"):
            with self.subTest(q=q):
                r = self.srv.get("%s/%s/trail%s" % (UNITS, unit, q), token=self.tok())
                self.assertProblem(r, 422, "validation")

    def test_kill_keeps_acknowledged_reports(self):
        srv = self.new_server(name="killed")
        port = srv.device_port("osmand")
        unit = "AV-K"
        r = srv.post(UNITS, {"callsign": unit, "kind": "car_patrol"}, token=srv.token("admin"))
        self.assertEqual(r.status, 201, r)
        devices = ["kill-%d" % i for i in range(4)]
        for d in devices:
            r = srv.post(DEVICES, {"device": d, "protocol": "osmand", "unit": unit},
                         token=srv.token("admin"))
            self.assertEqual(r.status, 201, r)
        acked, lock, stop = [], threading.Lock(), threading.Event()

        def phone(device):
            client, i = OsmAnd(port), 0
            while not stop.is_set():
                i += 1
                lat = 33.5 + i * 1e-5
                try:
                    status, _ = client.send(query="id=%s&lat=%.5f&lon=-7.58" % (device, lat),
                                            timeout=2.0)
                except OSError:
                    return
                if status == 200:
                    with lock:
                        acked.append((device, round(lat, 5)))
                time.sleep(0.06)  # under the 20/s a device may send

        threads = [threading.Thread(target=phone, args=(d,)) for d in devices]
        for t in threads:
            t.start()
        time.sleep(h.scaled(2.0))
        srv.kill()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(acked), 20)
        srv.start()
        r = srv.get("%s/%s/trail?limit=20000&from=%s" % (
            UNITS, unit, urllib.parse.quote("2020-01-01T00:00:00Z")), token=srv.token("admin"))
        self.assertEqual(r.status, 200, r)
        stored = {(p["device"], round(p["lat"], 5)) for p in r.json["points"]}
        missing = [a for a in acked if a not in stored]
        self.assertEqual(missing, [], "acknowledged reports lost by the crash")

    # --------------------------------------------------- the OsmAnd port's own HTTP/1.1 server

    @staticmethod
    def read_answers(sock, n):
        """Reads n HTTP answers from sock: [(status, headers, body)], then whether it closed."""
        buf, out = b"", []
        while len(out) < n:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end].decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, v in
                           (line.split(":", 1) for line in head[1:])}
                length = int(headers.get("content-length", "0"))
                if len(buf) >= end + 4 + length:
                    out.append((int(head[0].split()[1]), headers,
                                buf[end + 4:end + 4 + length].decode()))
                    buf = buf[end + 4 + length:]
                    continue
            part = sock.recv(65536)
            if not part:
                break
            buf += part
        return out

    @staticmethod
    def closed(sock, timeout):
        """Whether the server closes sock within timeout seconds (reading what it sends)."""
        sock.settimeout(timeout)
        try:
            while sock.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_osmand_keepalive_pipelining(self):
        unit = self.unit()
        self.bind("traccar-pipe", unit)
        t = now_s()
        form = "id=traccar-pipe&lat=33.5802&lon=-7.6000&timestamp=%d" % (t - 7)
        reqs = [
            "GET /?id=traccar-pipe&lat=33.5800&lon=-7.6000&timestamp=%d HTTP/1.1\r\n"
            "Host: x\r\n\r\n" % (t - 9),
            # Refused at once, answered only after the 200 before it.
            "GET /?id=stranger-pipe&lat=33.58&lon=-7.60 HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\n\r\n%s" % (len(form), form),
            "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
            "GET /?id=traccar-pipe&lat=33.5803&lon=-7.6000&timestamp=%d HTTP/1.1\r\n"
            "Host: x\r\nConnection: close\r\n\r\n" % (t - 5),
        ]
        with socket.create_connection(("127.0.0.1", self.osmand.port),
                                      timeout=h.scaled(10)) as sock:
            data = "".join(reqs).encode()
            sock.sendall(data[:50])  # in pieces, one of them cut inside a request line
            time.sleep(0.05)
            sock.sendall(data[50:])
            answers = self.read_answers(sock, len(reqs))
            self.assertEqual([a[0] for a in answers], [200, 400, 200, 405, 200], answers)
            self.assertEqual(json.loads(answers[1][2])["type"], h.PROBLEM_BASE + "unknown-device")
            self.assertEqual(answers[3][1].get("allow"), "GET, POST")
            self.assertEqual(answers[4][1].get("connection"), "close")
            self.assertTrue(self.closed(sock, h.scaled(5)), "Connection: close is honoured")
        self.assertEqual([round(p["lat"], 4) for p in self.trail(unit)],
                         [33.58, 33.5802, 33.5803])
        # HTTP/1.0: closed after the answer, unless it asks for keep-alive.
        with socket.create_connection(("127.0.0.1", self.osmand.port),
                                      timeout=h.scaled(10)) as sock:
            sock.sendall(b"GET /?id=traccar-pipe&lat=33.5804&lon=-7.6 HTTP/1.0\r\n"
                         b"Connection: keep-alive\r\n\r\n"
                         b"GET /?id=traccar-pipe&lat=33.5805&lon=-7.6 HTTP/1.0\r\n\r\n")
            answers = self.read_answers(sock, 2)
            self.assertEqual([a[0] for a in answers], [200, 200], answers)
            self.assertEqual(answers[0][1].get("connection"), "keep-alive")
            self.assertTrue(self.closed(sock, h.scaled(5)), "HTTP/1.0 closes after the answer")
        # Framing refusals: a clear 4xx, then the connection is closed; nothing stored.
        for raw, status in ((b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nid=ab\r\n0\r\n\r\n", 411),
                            (b"GET /?id=traccar-pipe&lat=1&lon=1 HTTP/1.1\r\n\r\n", 400),
                            (b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n",
                             431),
                            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n", 413),
                            (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400)):
            with self.subTest(status=status, raw=raw[:40]):
                with socket.create_connection(("127.0.0.1", self.osmand.port),
                                              timeout=h.scaled(10)) as sock:
                    sock.sendall(raw)
                    answers = self.read_answers(sock, 1)
                    self.assertEqual([a[0] for a in answers], [status], answers)
                    self.assertEqual(answers[0][1].get("content-type"),
                                     "application/problem+json")
                    self.assertTrue(self.closed(sock, h.scaled(5)))
        self.assertEqual(len(self.trail(unit)), 5)

    def test_osmand_slow_client_is_closed(self):
        # A request must be whole 10 s after its first byte: a slowloris is cut, and the
        # phones on other connections are still answered meanwhile.
        unit = self.unit()
        self.bind("traccar-slow", unit)
        slow = socket.create_connection(("127.0.0.1", self.osmand.port), timeout=h.scaled(10))
        start = time.monotonic()
        closed_after = None
        try:
            slow.sendall(b"GET /?id=traccar-slow&lat=33.5")
            slow.settimeout(1.0)
            for i in range(int(h.scaled(30))):
                try:
                    slow.sendall(b"1")
                    if slow.recv(1) == b"":
                        closed_after = time.monotonic() - start
                        break
                except socket.timeout:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    closed_after = time.monotonic() - start
                    break
                if i == 3:
                    status, _ = self.osmand.send(query="id=traccar-slow&lat=33.57&lon=-7.58")
                    self.assertEqual(status, 200)
        finally:
            slow.close()
        self.assertIsNotNone(closed_after, "a client trickling a request is never closed")
        self.assertGreaterEqual(closed_after, 9)
        self.assertLessEqual(closed_after, h.scaled(13))
        metrics = self.srv.get("/metrics").text
        self.assertRegex(metrics, r"amane_avl_osmand_timeouts_total [1-9]")


if __name__ == "__main__":
    h.main()
