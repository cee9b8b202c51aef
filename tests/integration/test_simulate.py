# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_simulate.py - `amane simulate` against a real amaned: simulated patrol
cars bind their devices, drive the road graph and report over OsmAnd, over
Teltonika and over MQTT through a real mosquitto (their trails hold several
distinct positions, each on a road), a crew answers a dispatch with en_route
during the run (over MQTT: at once, woken by the assignment command, with
siren and light bar on), a second run binds nothing new, SIGTERM stops it
cleanly, and bad arguments or an unreachable server are errors. With
--calls-per-hour the city calls: incidents of the usual types, on the roads,
with a caller and a narrative; the simulated room dispatches them to its
crews, which go en route and on scene, and closes them once cleared, but
leaves a call a human dispatched first to the human."""

import datetime
import json
import re
import signal
import subprocess
import time
import urllib.parse

import harness as h
from test_mqtt import SUB, Broker

UNITS = "/api/v1/units"
DEVICES = "/api/v1/devices"
# What the simulated city calls about, and who calls (cli_simulate.c).
CALL_TYPES = {"THEFT", "ASSAULT", "DISTURBANCE", "TRAFFIC_NOINJURY", "TRAFFIC_INJURY",
              "SUSPICIOUS_PERSON", "DOMESTIC", "BURGLARY", "VANDALISM", "ALARM"}
ARABIC = re.compile(r"[\u0600-\u06ff]")


def epoch(rfc3339):
    """Seconds since the epoch of the server's times ("2026-01-01T10:00:00.123456Z")."""
    fmt = "%Y-%m-%dT%H:%M:%S.%f%z" if "." in rfc3339 else "%Y-%m-%dT%H:%M:%S%z"
    return datetime.datetime.strptime(rfc3339.replace("Z", "+0000"), fmt).timestamp()


def luhn_ok(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


class SimulateTest(h.ServerTestCase):
    def start_sim(self, srv, protocol, units=3, seconds=8, extra=()):
        """`amane simulate` against srv, reporting every 500 ms by `protocol`."""
        cmd = [h.AMANE, "--store.path=" + srv.db, "simulate",
               "--server", "http://%s:%d" % (h.HOST, srv.port), "--units", str(units),
               "--interval-ms", "500", "--protocol", protocol,
               "--osmand-port", str(srv.device_port("osmand")),
               "--teltonika-port", str(srv.device_port("teltonika")),
               "--user", "admin", "--password-stdin"]
        if seconds:
            cmd += ["--seconds", str(seconds)]
        p = subprocess.Popen(cmd + list(extra), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=srv.workdir,
                             env=h.child_env())
        p.stdin.write(h.ADMIN_PASSWORD + "\n")
        p.stdin.close()
        return p

    def finish(self, p, timeout=30):
        try:
            rc = p.wait(h.scaled(timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
        out, err = p.stdout.read(), p.stderr.read()
        p.stdout.close()
        p.stderr.close()
        report = h.sanitizer_report(err)
        self.assertIsNone(report, "amane simulate: sanitizer report:\n%s" % report)
        return rc, out, err

    def sim_devices(self, srv, protocol, want=None):
        """The simulator's devices by unit (None until there are `want` of them)."""
        items = srv.get(DEVICES, token=srv.token("admin")).json["items"]
        found = {d["unit"]: d for d in items if d["protocol"] == protocol and
                 (d["device"].startswith("sim-") or d["device"].startswith("35000099"))}
        return found if want is None or len(found) == want else None

    def wait_for(self, what, fn, timeout=10.0):
        deadline = time.monotonic() + h.scaled(timeout)
        while time.monotonic() < deadline:
            v = fn()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting for " + what)

    def drive_and_dispatch(self, protocol, srv=None, extra=(), seconds=8, answer_within=4.0,
                           until_on_scene=False):
        """Three simulated units report by `protocol` for `seconds` (or, until_on_scene, until
        the crew is there, then SIGTERM); one is sent to a call 100 m away. Returns (srv, its
        callsign, the incident's number, simulate's stdout)."""
        srv = srv or self.new_server(name=protocol)
        tok = srv.token("admin")
        t0 = time.time()
        p = self.start_sim(srv, protocol, seconds=seconds, extra=extra)
        # The devices are bound first, then the units report.
        devices = self.wait_for("3 devices bound", lambda: self.sim_devices(srv, protocol, 3))

        def reporting():
            for u in srv.get(UNITS, token=tok).json["items"]:
                if u["callsign"] in devices and u["position"] and \
                        epoch(u["position"]["at"]) > t0:
                    return u
            return None

        unit = self.wait_for("a simulated unit's report", reporting)
        # A call 100 m north of it: the crew answers en route and drives there.
        r = srv.post("/api/v1/incidents", {
            "type": "ASSAULT", "location": {"lat": unit["position"]["lat"] + 0.0009,
                                            "lon": unit["position"]["lon"]}},
            token=srv.token("dispatcher"))
        self.assertEqual(r.status, 201, r)
        number = r.json["number"]
        r = srv.post("/api/v1/incidents/%s/assign" % number, {"unit": unit["callsign"]},
                     token=srv.token("dispatcher"))
        self.assertEqual(r.status, 200, r)
        assigned = time.time()
        if until_on_scene:
            # 100 m as the crow flies can be a few km by the roads (one-way streets, U-turns).
            self.wait_for("the crew on scene", lambda: srv.get(
                "/api/v1/incidents/" + number, token=tok).json["times"]["on_scene"], timeout=30)
            # A few reports from the scene, and enough of them for the trails below.
            time.sleep(max(1.5, t0 + 6 - time.time()))
            p.send_signal(signal.SIGTERM)
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("devices bound: 3 new, 0 already", out)
        m = re.search(r"(?:done|stopped), in all: 3 units, (\d+) positions sent, (\d+) acknowledged, "
                      r"(\d+) dispatches answered", out)
        self.assertNotIn("error lines not shown", out, err)
        self.assertIsNotNone(m, out)
        sent, acked, answered = map(int, m.groups())
        self.assertGreaterEqual(sent, 3 * 10, out)
        self.assertEqual(acked, sent, "every position sent is acknowledged by the end\n" + err)
        self.assertEqual(answered, 1, out + err)

        inc = srv.get("/api/v1/incidents/" + number, token=tok).json
        self.assertIsNotNone(inc["times"]["en_route"], inc)
        self.assertLess(epoch(inc["times"]["en_route"]) - assigned, h.scaled(answer_within),
                        "answered at the crew's next look (every 2 s, or at once if told)")
        self.assertIn(inc["units"][0]["status"], ("en_route", "on_scene"), inc)

        for cs, dev in devices.items():
            if protocol == "teltonika":
                self.assertTrue(re.fullmatch(r"\d{15}", dev["device"]) and
                                luhn_ok(dev["device"]), dev)
            else:
                self.assertEqual(dev["device"], "sim-" + cs)
            pts = srv.get("%s/%s/trail" % (UNITS, cs), token=tok).json["points"]
            pts = [q for q in pts if q["device"] == dev["device"]]
            self.assertGreaterEqual(len(pts), 8, (cs, pts))
            distinct = {(round(q["lat"], 6), round(q["lon"], 6)) for q in pts}
            # A crew that waits at the scene stays put.
            on_scene = until_on_scene and cs == unit["callsign"]
            self.assertGreaterEqual(len(distinct), 2 if on_scene else 5, (cs, pts))
            self.assertTrue(any(1.0 < (q["speed_mps"] or 0) < 45 for q in pts), pts)
            for q in pts:
                r = srv.get("/api/v1/roads/route?from=%.7f,%.7f&to=%.7f,%.7f" %
                            (q["lat"], q["lon"], q["lat"], q["lon"]), token=tok)
                self.assertEqual(r.status, 200, r)
                self.assertLess(r.json["from"]["snap_m"], 3.0, (cs, q, "is not on a road"))
        return srv, unit["callsign"], number, out

    def test_osmand(self):
        self.drive_and_dispatch("osmand")

    def test_teltonika(self):
        self.drive_and_dispatch("teltonika")

    def test_mqtt(self):
        broker = Broker(self.tmp, h.free_port())
        broker.start()
        self.addCleanup(broker.stop)
        srv = self.new_server(name="mqtt", args=["--avl.mqtt_host=127.0.0.1",
                                                 "--avl.mqtt_port=%d" % broker.port,
                                                 "--avl.mqtt_client_id=amaned-sim-test"])
        self.wait_for("amaned on the broker", lambda: 'msg="mqtt connected"' in srv.log_text())
        # What the cars publish, as the broker passes it on.
        sub = subprocess.Popen([SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-v",
                                "-W", str(int(h.scaled(60))), "-t",
                                "amane/v1/units/+/telemetry"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: sub.poll() is None and sub.kill())
        time.sleep(0.3)  # subscribed
        # A faster city (8x), so that the car reaches the scene within seconds.
        srv, callsign, number, out = self.drive_and_dispatch(
            "mqtt", srv=srv, seconds=60, answer_within=1.0, until_on_scene=True,
            extra=["--mqtt", "127.0.0.1:%d" % broker.port, "--speedup", "8"])
        self.assertIn("over MQTT (broker 127.0.0.1:%d)" % broker.port, out)
        self.assertRegex(out, r"stopped, in all: .*, 0 errors, 1 assignments received over MQTT, "
                              r"0 pings answered")

        sub.terminate()
        lines, _ = sub.communicate(timeout=h.scaled(10))
        by_device = {}
        for line in lines.splitlines():
            topic, _, payload = line.partition(" ")
            msg = json.loads(payload)
            self.assertLessEqual(set(msg), {"time", "lat", "lon", "speed_kmh", "heading",
                                            "ignition", "siren", "lightbar"}, msg)
            by_device.setdefault(topic.split("/")[3], []).append(msg)
        self.assertEqual(set(by_device), {"sim-" + cs for cs in
                                          self.sim_devices(srv, "mqtt")}, by_device.keys())
        for device, msgs in by_device.items():
            self.assertTrue(all(m["ignition"] for m in msgs), msgs)
            if device == "sim-" + callsign:
                # Siren and light bar on the way; the light bar stays on at the scene.
                self.assertTrue(any(m["siren"] and m["lightbar"] for m in msgs), msgs)
                self.assertTrue(any(m["lightbar"] and not m["siren"] and m["speed_kmh"] == 0
                                    for m in msgs), msgs)
            else:
                self.assertFalse(any(m["siren"] or m["lightbar"] for m in msgs), msgs)

    def test_mqtt_crew_answers_a_ping(self):
        broker = Broker(self.tmp, h.free_port())
        broker.start()
        self.addCleanup(broker.stop)
        srv = self.new_server(name="mqttping", args=["--avl.mqtt_host=127.0.0.1",
                                                     "--avl.mqtt_port=%d" % broker.port,
                                                     "--avl.mqtt_client_id=amaned-ping-test"])
        self.wait_for("amaned on the broker", lambda: 'msg="mqtt connected"' in srv.log_text())
        p = self.start_sim(srv, "mqtt", units=1, seconds=0,
                           extra=["--mqtt", "127.0.0.1:%d" % broker.port])
        self.addCleanup(lambda: p.poll() is None and p.kill())
        unit = next(iter(self.wait_for("the car bound", lambda: self.sim_devices(srv, "mqtt", 1))))
        tok = srv.token("dispatcher")
        self.wait_for("the car's first position on the trail", lambda: srv.get(
            "/api/v1/units/%s/trail" % unit, token=tok).json["points"])
        ping = srv.post("/api/v1/units/%s/messages" % unit, {"kind": "ping"}, token=tok)
        self.assertEqual(ping.status, 201, ping)
        acked = self.wait_for("the ping answered", lambda: [
            m for m in srv.get("/api/v1/units/%s/messages" % unit, token=tok).json["items"]
            if m["id"] == ping.json["id"] and m["acked"]])
        self.assertEqual(acked[0]["acked_by"], "admin", "the simulator's crew answers as its user")
        p.send_signal(signal.SIGTERM)
        rc, out, err = self.finish(p, timeout=10)
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"stopped, in all: .*, 0 errors, 0 assignments received over MQTT, "
                              r"1 pings answered")

    def test_calls_and_the_simulated_room(self):
        """120 calls an hour at 60x (a call every 0.5 s or so), the room acting after 150 s
        (2.5 s): calls open on the roads, the room dispatches them to its crews and closes
        them; a call the test dispatches first (as a human dispatcher) stays the human's, and
        so does a call the human closes before the room."""
        srv = self.new_server(name="calls")
        tok, human = srv.token("admin"), srv.token("dispatcher")
        # A unit of the human's, not driven by the simulator (which takes the first 5 by callsign).
        r = srv.post(UNITS, {"callsign": "HUMAN-01", "kind": "car_patrol"}, token=tok)
        self.assertEqual(r.status, 201, r)
        roads = srv.get("/api/v1/roads", token=tok).json
        south, west, north, east = roads["bbox"]
        p = self.start_sim(srv, "osmand", units=5, seconds=0,
                           extra=["--speedup", "60", "--calls-per-hour", "120",
                                  "--room-after", "150"])
        self.addCleanup(lambda: p.poll() is None and p.kill())
        mine = {}

        def incidents():
            return srv.get("/api/v1/incidents?status=all&limit=1000", token=tok).json["items"]

        def progress():
            items = incidents()
            if "number" not in mine:
                # The human dispatches the first call still waiting, well before the room would.
                for inc in items:
                    if inc["status"] == "new" and not inc["units"] and \
                            time.time() - epoch(inc["times"]["created"]) < 1.5:
                        r = srv.post("/api/v1/incidents/%s/assign" % inc["number"],
                                     {"unit": "HUMAN-01"}, token=human)
                        self.assertEqual(r.status, 200, r)
                        mine["number"] = inc["number"]
                        break
            if "closed" not in mine:
                # The human also closes a call the room dispatched, while its crew is busy.
                for inc in items:
                    if inc["status"] in ("en_route", "on_scene") and inc["number"] != \
                            mine.get("number"):
                        r = srv.post("/api/v1/incidents/%s/close" % inc["number"],
                                     {"disposition": "report_taken"}, token=human)
                        self.assertEqual(r.status, 200, r)
                        mine["closed"] = inc["number"]
                        break
            closed = [i for i in items if i["disposition"] == "resolved"]
            on_scene = [i for i in items if i["times"]["on_scene"]]
            return len(mine) == 2 and len(closed) >= 2 and len(on_scene) >= 3

        self.wait_for("calls dispatched, on scene and closed by the simulated room", progress,
                      timeout=30)
        p.send_signal(signal.SIGTERM)
        rc, out, err = self.finish(p, timeout=15)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("120 calls an hour, the room acting after 150 s", out)
        m = re.search(r"stopped, in all: 5 units, .* (\d+) calls opened, (\d+) dispatched by the "
                      r"simulated room, (\d+) closed, (\d+) errors", out)
        self.assertIsNotNone(m, out + err)
        opened, dispatched, closed, errors = map(int, m.groups())
        self.assertEqual(errors, 0, out + err)
        crews = set(re.search(r"^units: (.*)$", out, re.M).group(1).replace("=", " ").split()[::2])
        self.assertEqual(len(crews), 5, out)

        items = incidents()
        self.assertEqual(len(items), opened, "every call opened is counted, once")
        self.assertGreaterEqual(opened, 5, out)
        streets = srv.get("/api/v1/streets?q=rue", token=tok).status == 200
        names = set()
        for inc in items:
            self.assertIn(inc["type"], CALL_TYPES, inc)
            loc = inc["location"]
            self.assertTrue(south <= loc["lat"] <= north and west <= loc["lon"] <= east, inc)
            self.assertTrue(inc["caller"]["name"] and inc["narrative"], inc)
            self.assertRegex(inc["caller"]["phone"], r"^0[67]( \d\d){4}$")
            self.assertIsNotNone(inc["times"]["call"], inc)
            names.add(inc["caller"]["name"])
            r = srv.get("/api/v1/roads/route?from=%.7f,%.7f&to=%.7f,%.7f" %
                        (loc["lat"], loc["lon"], loc["lat"], loc["lon"]), token=tok)
            self.assertEqual(r.status, 200, r)
            self.assertLess(r.json["from"]["snap_m"], 3.0, (inc, "is not on a road"))
            if "address" in loc and streets:
                # The address is a street of the graph's index, and the call is on it.
                hits = srv.get("/api/v1/streets?limit=20&q=" +
                               urllib.parse.quote(loc["address"][:100]), token=tok).json["items"]
                boxes = [h["bbox"] for h in hits if h["name"] == loc["address"]]
                self.assertTrue(any(b[0] - 0.005 <= loc["lat"] <= b[2] + 0.005 and
                                    b[1] - 0.005 <= loc["lon"] <= b[3] + 0.005 for b in boxes),
                                (inc, hits))
        if streets and opened >= 8:
            self.assertTrue(any("address" in i["location"] for i in items), items)
        self.assertTrue(any(ARABIC.search(n) for n in names) or opened < 6, names)
        self.assertTrue(any(not ARABIC.search(n) for n in names) or opened < 6, names)

        # The human's call: left to the human, never given a second unit.
        inc = next(i for i in items if i["number"] == mine["number"])
        self.assertEqual([u["callsign"] for u in inc["units"]], ["HUMAN-01"], inc)
        self.assertEqual(inc["status"], "dispatched", inc)

        # The room's calls: each given one simulated crew, which answered.
        roomed = [i for i in items if any(u["callsign"] in crews for u in i["units"])]
        self.assertEqual(len(roomed), dispatched, out)
        self.assertGreaterEqual(dispatched, 3, out)
        for inc in roomed:
            self.assertEqual(len(inc["units"]), 1, inc)
            self.assertNotEqual(inc["number"], mine["number"])
        self.assertGreaterEqual(len([i for i in roomed if i["times"]["en_route"] and
                                     i["times"]["on_scene"]]), 3, roomed)
        # The call the human closed stays as the human closed it.
        inc = next(i for i in items if i["number"] == mine["closed"])
        self.assertEqual((inc["status"], inc["disposition"]), ("closed", "report_taken"), inc)
        # Closed by the room, only once their crews had cleared from the scene.
        done = [i for i in items if i["status"] == "closed" and i["number"] != mine["closed"]]
        self.assertEqual(len(done), closed, out)
        self.assertGreaterEqual(closed, 2, out)
        for inc in done:
            self.assertEqual(inc["disposition"], "resolved", inc)
            self.assertIsNotNone(inc["times"]["on_scene"], inc)
            self.assertTrue(all(u["released"] for u in inc["units"]), inc)
            closing = [e for e in srv.get("/api/v1/incidents/%s/history" % inc["number"],
                                          token=tok).json["events"]
                       if e["type"] == "cad.incident.closed"]
            self.assertEqual([e["actor"] for e in closing], ["admin"], closing)
        # The calls still waiting for a crew are new, without a unit.
        for inc in items:
            if inc not in roomed and inc["number"] != mine["number"]:
                self.assertEqual((inc["status"], inc["units"]), ("new", []), inc)

    def test_second_run_binds_nothing_and_makes_missing_units(self):
        srv = self.new_server(name="twice")
        tok = srv.token("admin")
        seeded = len(srv.get(UNITS, token=tok).json["items"])
        want = seeded + 2
        rc, out, err = self.finish(self.start_sim(srv, "osmand", units=want, seconds=1))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("devices bound: %d new, 0 already" % want, out)
        units = {u["callsign"] for u in srv.get(UNITS, token=tok).json["items"]}
        self.assertEqual(len(units), want)
        self.assertTrue({"SIM-001", "SIM-002"} <= units, units)
        before = self.sim_devices(srv, "osmand")
        rc, out, err = self.finish(self.start_sim(srv, "osmand", units=want, seconds=1))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("devices bound: 0 new, %d already" % want, out)
        self.assertEqual(len(srv.get(UNITS, token=tok).json["items"]), want)
        self.assertEqual(self.sim_devices(srv, "osmand"), before, "bindings not written again")

    def test_sigterm_stops_cleanly(self):
        srv = self.new_server(name="sigterm")
        p = self.start_sim(srv, "teltonika", units=2, seconds=0)
        devices = self.wait_for("2 devices bound", lambda: self.sim_devices(srv, "teltonika", 2))
        self.wait_for("the first acknowledgements", lambda: any(
            u["callsign"] in devices and u["position"] and
            epoch(u["position"]["at"]) > time.time() - 2
            for u in srv.get(UNITS, token=srv.token("admin")).json["items"]))
        p.send_signal(signal.SIGTERM)
        rc, out, err = self.finish(p, timeout=10)
        self.assertEqual(rc, 0, out + err)
        m = re.search(r"stopped, in all: 2 units, (\d+) positions sent, (\d+) acknowledged", out)
        self.assertIsNotNone(m, out + err)
        self.assertEqual(m.group(1), m.group(2), "what was sent is acknowledged before exit")

    def test_errors(self):
        srv = self.new_server(name="errors")
        for args in ([], ["--units", "3"], ["--server", "http://127.0.0.1:1", "--units", "0"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--protocol", "gt06"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--speedup", "x"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--protocol", "mqtt",
                      "--mqtt", "127.0.0.1:0"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--mqtt", ":1883"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--mqtt", "::1:1883"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--calls-per-hour", "3601"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--calls-per-hour", "-1"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--calls-per-hour", "2.5"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--calls-per-hour"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--room-after", "-1"],
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--room-after", "soon"]):
            with self.subTest(args=args):
                r = h.run_cli(srv.db, "simulate", *args, input="x\n")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("usage: amane simulate", r.stderr)
                if "--mqtt" in args:
                    self.assertIn("--mqtt: want HOST:PORT", r.stderr)
                if "--calls-per-hour" in args:
                    self.assertIn("--calls-per-hour: want an integer from 0 to 3600, not '%s'" %
                                  (args[-1] if args[-1] != "--calls-per-hour" else ""), r.stderr)
                if "--room-after" in args:
                    self.assertIn("--room-after: want an integer from 0 to 86400, not '%s'" %
                                  args[-1], r.stderr)
                if "gt06" in args:
                    self.assertIn("--protocol: want osmand, teltonika or mqtt, not 'gt06'",
                                  r.stderr)
        r = h.run_cli(srv.db, "simulate", "--server", "http://127.0.0.1:%d" % h.free_port(),
                      "--units", "1", "--password-stdin", input="x\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("connection refused", r.stderr.lower())
        r = h.run_cli(srv.db, "simulate", "--server", "http://127.0.0.1:%d" % srv.port,
                      "--units", "1", "--password-stdin", input="wrong\n")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot log in as admin: HTTP 401", r.stderr)
        r = h.run_cli(srv.db, "simulate", "--server", "http://127.0.0.1:%d" % srv.port,
                      "--units", "1", input="")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("AMANE_SIM_PASSWORD", r.stderr)


if __name__ == "__main__":
    h.main()
