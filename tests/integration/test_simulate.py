# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_simulate.py - `amane simulate` against a real amaned: simulated patrol
cars bind their devices, drive the road graph and report over OsmAnd and over
Teltonika (their trails hold several distinct positions, each on a road), a
crew answers a dispatch with en_route during the run, a second run binds
nothing new, SIGTERM stops it cleanly, and bad arguments or an unreachable
server are errors."""

import datetime
import re
import signal
import subprocess
import time

import harness as h

UNITS = "/api/v1/units"
DEVICES = "/api/v1/devices"


def device_port(srv, protocol):
    m = re.findall(r'msg="listening for devices" protocol=%s port=(\d+)' % protocol,
                   srv.log_text())
    if not m:
        raise AssertionError("amaned did not say where %s listens:\n%s" %
                             (protocol, srv.log_tail()))
    return int(m[-1])


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
        cmd = [h.AMANE, "--store.path=" + srv.db, "simulate",
               "--server", "http://%s:%d" % (h.HOST, srv.port), "--units", str(units),
               "--interval-ms", "500", "--protocol", protocol,
               "--osmand-port", str(device_port(srv, "osmand")),
               "--teltonika-port", str(device_port(srv, "teltonika")),
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

    def drive_and_dispatch(self, protocol):
        srv = self.new_server(name=protocol)
        tok = srv.token("admin")
        t0 = time.time()
        p = self.start_sim(srv, protocol)
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
        rc, out, err = self.finish(p)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("devices bound: 3 new, 0 already", out)
        m = re.search(r"done, in all: 3 units, (\d+) positions sent, (\d+) acknowledged, "
                      r"(\d+) dispatches answered", out)
        self.assertIsNotNone(m, out)
        sent, acked, answered = map(int, m.groups())
        self.assertGreaterEqual(sent, 3 * 10, out)
        self.assertEqual(acked, sent, "every position sent is acknowledged by the end\n" + err)
        self.assertEqual(answered, 1, out + err)

        inc = srv.get("/api/v1/incidents/" + number, token=tok).json
        self.assertIsNotNone(inc["times"]["en_route"], inc)
        self.assertLess(epoch(inc["times"]["en_route"]) - assigned, h.scaled(4.0),
                        "answered at the crew's next look (every 2 s)")
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
            self.assertGreaterEqual(len(distinct), 5, (cs, pts))
            self.assertTrue(any(1.0 < (q["speed_mps"] or 0) < 45 for q in pts), pts)
            for q in pts:
                r = srv.get("/api/v1/roads/route?from=%.7f,%.7f&to=%.7f,%.7f" %
                            (q["lat"], q["lon"], q["lat"], q["lon"]), token=tok)
                self.assertEqual(r.status, 200, r)
                self.assertLess(r.json["from"]["snap_m"], 3.0, (cs, q, "is not on a road"))
        return srv

    def test_osmand(self):
        self.drive_and_dispatch("osmand")

    def test_teltonika(self):
        self.drive_and_dispatch("teltonika")

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
                     ["--server", "http://127.0.0.1:1", "--units", "2", "--speedup", "x"]):
            with self.subTest(args=args):
                r = h.run_cli(srv.db, "simulate", *args, input="x\n")
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("usage: amane simulate", r.stderr)
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
