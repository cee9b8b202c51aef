# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_roads.py - road routing through a real amaned on the shipped
Casablanca graph: recommendations ranked by road ETA (not straight-line
distance), stale positions after fresh ones, filters, units without a
position or off the road, a unit's route agreeing with its recommendation,
emergency speeds, unit positions (bad input, late reports), the route API,
and `amane roads import` of good, damaged and wrong files, with amaned
refusing to start on a damaged graph."""

import datetime
import json
import os
import random
import shutil
import subprocess

import harness as h

INCIDENTS = "/api/v1/incidents"
UNITS = "/api/v1/units"
OSM = os.path.join(h.SOURCE_DIR, "data", "roads", "casablanca_center.osm")

# Inside the extract (lon -7.626..-7.555, lat 33.553..33.594), near major roads.
INCIDENT_AT = {"lat": 33.5800, "lon": -7.6000}
OCEAN = (33.6300, -7.6200)  # north of the coast: kilometres from any road


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RoadsTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server()
        cls.n = 0

    def tok(self, role="dispatcher"):
        return self.srv.token(role)

    def unit(self, kind="car_patrol", caps=None, at=None, pos=None):
        type(self).n += 1
        cs = "RD-%03d" % type(self).n
        body = {"callsign": cs, "kind": kind}
        if caps:
            body["capabilities"] = caps
        r = self.srv.post(UNITS, body, token=self.tok("supervisor"))
        self.assertEqual(r.status, 201, r)
        if pos:
            self.position(cs, pos[0], pos[1], at=at)
        return cs

    def position(self, cs, lat, lon, at=None, expect=200):
        body = {"lat": lat, "lon": lon}
        if at:
            body["at"] = at
        r = self.srv.post("%s/%s/position" % (UNITS, cs), body, token=self.tok("dispatcher"))
        self.assertEqual(r.status, expect, r)
        return r

    def incident(self, location=None):
        r = self.srv.post(INCIDENTS, {"type": "THEFT", "location": location or INCIDENT_AT},
                          token=self.tok())
        self.assertEqual(r.status, 201, r)
        return r.json["number"]

    def recommend(self, number, query="", expect=200):
        r = self.srv.get("%s/%s/recommendations%s" % (INCIDENTS, number, query),
                         token=self.tok())
        self.assertEqual(r.status, expect, r)
        return r

    def park_all(self):
        """Takes every unit out of service, so that a test ranks only its own."""
        for u in self.srv.get(UNITS, token=self.tok()).json["items"]:
            if u["status"] == "available":
                r = self.srv.post("%s/%s/status" % (UNITS, u["callsign"]),
                                  {"status": "out_of_service"}, token=self.tok("supervisor"))
                self.assertEqual(r.status, 200, r)

    # ------------------------------------------------------------------ ranking

    def test_ranked_by_road_eta_not_straight_line(self):
        self.park_all()
        rnd = random.Random(7)
        units = []
        for _ in range(30):
            p = (33.560 + rnd.random() * 0.030, -7.620 + rnd.random() * 0.055)
            units.append(self.unit(pos=p))
        number = self.incident()
        r = self.recommend(number, "?k=30").json
        ranked = r["units"]
        self.assertGreater(len(ranked), 20, r)
        self.assertEqual(r["candidates"], 30)
        self.assertEqual([u["rank"] for u in ranked], list(range(1, len(ranked) + 1)))
        etas = [u["eta_s"] for u in ranked]
        self.assertEqual(etas, sorted(etas), "ranked by ETA")
        straight = [u["straight_m"] for u in ranked]
        self.assertNotEqual(straight, sorted(straight),
                            "30 random units: road order and straight-line order differ")
        for u in ranked:
            self.assertGreater(u["eta_s"], 0)
            self.assertFalse(u["stale"])
            # The road is never shorter than the straight line between the road points.
            self.assertGreaterEqual(u["road_m"] + u["position"]["snap_m"] +
                                    r["location"]["snap_m"] + 1, u["straight_m"], u)
        # Every unit placed has a rank, is off the road, or was not needed.
        listed = {u["callsign"] for u in ranked} | set(r["off_road"])
        self.assertLessEqual(listed, set(units))
        # The route of each of the first five takes exactly the time it was ranked with.
        for u in ranked[:5]:
            rt = self.srv.get("%s/%s/route?unit=%s" % (INCIDENTS, number, u["callsign"]),
                              token=self.tok("patrol"))
            self.assertEqual(rt.status, 200, rt)
            self.assertAlmostEqual(rt.json["eta_s"], u["eta_s"], delta=0.11)
            pts = rt.json["points"]
            self.assertGreaterEqual(len(pts), 2)
            self.assertAlmostEqual(pts[-1][0], r["location"]["road_lat"], places=6)
            self.assertAlmostEqual(pts[-1][1], r["location"]["road_lon"], places=6)
        # k limits the answer; the first k are the same.
        top3 = self.recommend(number, "?k=3").json["units"]
        self.assertEqual([u["callsign"] for u in top3], [u["callsign"] for u in ranked[:3]])
        # Emergency driving is faster for the same unit, on the same roads.
        fast = self.recommend(number, "?k=30&emergency=1").json["units"]
        by_cs = {u["callsign"]: u["eta_s"] for u in ranked}
        for u in fast:
            if u["callsign"] in by_cs:
                self.assertLess(u["eta_s"], by_cs[u["callsign"]], u)

    def test_stale_after_fresh_filters_unlocated_offroad(self):
        self.park_all()
        old = rfc3339(datetime.datetime.now(datetime.timezone.utc) -
                      datetime.timedelta(minutes=10))
        near = (INCIDENT_AT["lat"] + 0.0005, INCIDENT_AT["lon"])
        stale = self.unit(pos=near, at=old)
        far1 = self.unit(pos=(33.5731, -7.5898))
        far2 = self.unit(pos=(33.5850, -7.6150), kind="k9", caps=["k9", "explosives"])
        nowhere = self.unit()
        wet = self.unit(pos=OCEAN)
        number = self.incident()
        r = self.recommend(number, "?k=10").json
        order = [u["callsign"] for u in r["units"]]
        self.assertEqual(set(order), {stale, far1, far2})
        self.assertEqual(order[-1], stale, "the stale unit, though nearest, ranks last")
        self.assertTrue(r["units"][-1]["stale"])
        self.assertEqual(r["unlocated"], [nowhere])
        self.assertEqual(r["off_road"], [wet])
        # k smaller than the fresh units: the stale one is not offered.
        r = self.recommend(number, "?k=2").json
        self.assertEqual({u["callsign"] for u in r["units"]}, {far1, far2})
        # Filters.
        r = self.recommend(number, "?capability=k9").json
        self.assertEqual([u["callsign"] for u in r["units"]], [far2])
        self.assertEqual(r["capability"], "k9")
        r = self.recommend(number, "?kind=k9&capability=explosives").json
        self.assertEqual([u["callsign"] for u in r["units"]], [far2])
        r = self.recommend(number, "?capability=horse").json
        self.assertEqual(r["units"], [])
        self.assertEqual(r["candidates"], 0)
        # A busy unit is not recommended.
        a = self.srv.post("%s/%s/assign" % (INCIDENTS, number), {"unit": far2},
                          token=self.tok())
        self.assertEqual(a.status, 200, a)
        r = self.recommend(number, "?k=10").json
        self.assertNotIn(far2, [u["callsign"] for u in r["units"]])

    def test_recommendation_errors(self):
        number = self.incident()
        for q in ("?k=0", "?k=51", "?k=x", "?k=", "?capability=a%20b", "?capability=" + "x" * 65,
                  "?emergency=2", "?kind=k9%2F"):
            with self.subTest(q=q):
                self.assertProblem(self.recommend(number, q, expect=422), 422, "validation")
        self.assertProblem(self.recommend("CAS-1999-000001", expect=404), 404, "not-found")
        addr = self.incident({"address": "Derb Ghallef, Casablanca"})
        r = self.recommend(addr, expect=422)
        self.assertProblem(r, 422, "not-routable")
        self.assertIn("no coordinates", r.json["detail"])
        closed = self.incident()
        c = self.srv.post("%s/%s/close" % (INCIDENTS, closed), {"disposition": "resolved"},
                          token=self.tok())
        self.assertEqual(c.status, 200, c)
        self.assertProblem(self.recommend(closed, expect=409), 409, "conflict")
        # Placed in Morocco but kilometres from this graph's roads.
        rabat = self.incident({"lat": 34.0132, "lon": -6.8326})
        self.assertProblem(self.recommend(rabat, expect=422), 422, "not-routable")
        # A unit route needs a unit with a position.
        cs = self.unit()
        for path, status, slug in (
                ("/route?unit=%s" % cs, 422, "not-routable"),
                ("/route?unit=NOPE-1", 404, "not-found"),
                ("/route", 422, "validation"),
                ("/route?unit=%s&emergency=yes" % cs, 422, "validation")):
            with self.subTest(path=path):
                r = self.srv.get("%s/%s%s" % (INCIDENTS, number, path), token=self.tok())
                self.assertProblem(r, status, slug)

    # ---------------------------------------------------------------- positions

    def test_positions(self):
        cs = self.unit()
        self.tok("patrol")  # logged in before: a login is an event
        self.tok("dispatcher")
        head = self.srv.head_seq()
        self.position(cs, 33.58, -7.60)
        u = self.srv.get(UNITS, token=self.tok()).json["items"]
        pos = next(x for x in u if x["callsign"] == cs)["position"]
        self.assertEqual((pos["lat"], pos["lon"]), (33.58, -7.60))
        self.assertEqual(self.srv.head_seq(), head, "positions are telemetry: no event")
        now = datetime.datetime.now(datetime.timezone.utc)
        bad = [{"lat": 91, "lon": 0}, {"lat": 0, "lon": -180.5}, {"lat": "33", "lon": -7},
               {"lat": 33}, {"lat": 33, "lon": -7, "extra": 1}, {"lat": None, "lon": -7},
               {"lat": 33, "lon": -7, "at": "yesterday"},
               {"lat": 33, "lon": -7, "at": rfc3339(now + datetime.timedelta(minutes=5))},
               {"lat": 33, "lon": -7, "at": rfc3339(now - datetime.timedelta(days=2))}]
        for body in bad:
            with self.subTest(body=body):
                r = self.srv.post("%s/%s/position" % (UNITS, cs), body, token=self.tok("patrol"))
                self.assertProblem(r, 422, "validation")
        r = self.srv.post("%s/NOPE-9/position" % UNITS, {"lat": 33, "lon": -7},
                          token=self.tok("patrol"))
        self.assertProblem(r, 404, "not-found")
        # A late report (older than the kept one) does not move the unit back.
        self.position(cs, 33.57, -7.61, at=rfc3339(now - datetime.timedelta(minutes=1)))
        u = self.srv.get(UNITS, token=self.tok()).json["items"]
        pos = next(x for x in u if x["callsign"] == cs)["position"]
        self.assertEqual((pos["lat"], pos["lon"]), (33.58, -7.60))

    # -------------------------------------------------------------- route API

    def test_route_api(self):
        r = self.srv.get("/api/v1/roads", token=self.tok("patrol"))
        self.assertEqual(r.status, 200, r)
        self.assertGreater(r.json["nodes"], 3000)
        self.assertGreater(r.json["edges"], r.json["nodes"])
        a, b = (33.5731, -7.5898), (33.5850, -7.6150)
        q = "/api/v1/roads/route?from=%f,%f&to=%f,%f" % (a + b)
        r = self.srv.get(q, token=self.tok("patrol"))
        self.assertEqual(r.status, 200, r)
        j = r.json
        self.assertEqual(j["points"][0], [j["from"]["road_lat"], j["from"]["road_lon"]])
        self.assertEqual(j["points"][-1], [j["to"]["road_lat"], j["to"]["road_lon"]])
        along = sum(h.haversine(p, q2) for p, q2 in zip(j["points"], j["points"][1:]))
        self.assertAlmostEqual(along, j["length_m"], delta=max(2.0, j["length_m"] * 0.005))
        self.assertGreaterEqual(j["length_m"] + 1, h.haversine(j["points"][0], j["points"][-1]))
        self.assertGreater(j["eta_s"], j["length_m"] / 40.0, "faster than 144 km/h in town")
        e = self.srv.get(q + "&emergency=1", token=self.tok("patrol")).json
        self.assertLess(e["eta_s"], j["eta_s"])
        same = self.srv.get("/api/v1/roads/route?from=%f,%f&to=%f,%f" % (a + a),
                            token=self.tok("patrol")).json
        self.assertEqual(same["eta_s"], 0)
        for bad in ("", "?from=33.57,-7.58", "?from=91,0&to=33.58,-7.6", "?from=a,b&to=c,d",
                    "?from=33.57;-7.58&to=33.58,-7.6", "?from=33.57,-7.58,1&to=33.58,-7.6",
                    "?from=nan,0&to=33.58,-7.6", "?from=33.57,-7.58&to=33.58,-7.6&emergency=x"):
            with self.subTest(q=bad):
                r = self.srv.get("/api/v1/roads/route" + bad, token=self.tok("patrol"))
                self.assertProblem(r, 422, "validation")
        r = self.srv.get("/api/v1/roads/route?from=%f,%f&to=33.58,-7.6" % OCEAN,
                         token=self.tok("patrol"))
        self.assertProblem(r, 422, "off-road")

    # ------------------------------------------------------------------ import

    def test_import_and_load(self):
        d = os.path.join(self.tmp, "import")
        os.makedirs(d)
        db = os.path.join(d, "amane.db")
        graph = os.path.join(d, "casa.graph")
        r = h.run_cli(db, "roads", "import", OSM, "--out", graph)
        self.assertEqual(r.returncode, 0, r.stderr)
        info = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        self.assertGreater(int(info["nodes"]), 3000)
        # The same graph again from the file: same counts.
        r2 = h.run_cli(db, "roads", "info", graph)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        info2 = dict(line.split(" ", 1) for line in r2.stdout.splitlines())
        self.assertEqual((info2["nodes"], info2["edges"]), (info["nodes"], info["edges"]))
        # Damaged inputs: a clear message, exit 1, nothing written.
        with open(OSM, "rb") as f:
            data = f.read()
        cases = {"cut.osm": data[:len(data) // 2], "empty.osm": b"",
                 "garbage.pbf": b"\x00\x00\x00\x0dOSMHeader" + bytes(range(256)) * 4,
                 "noroads.osm": b"<?xml version='1.0'?><osm version='0.6'>"
                                b"<node id='1' lat='33.5' lon='-7.6'/></osm>",
                 "not-osm.txt": b"hello"}
        for name, body in cases.items():
            with self.subTest(file=name):
                p = os.path.join(d, name)
                with open(p, "wb") as f:
                    f.write(body)
                out = os.path.join(d, name + ".graph")
                r = h.run_cli(db, "roads", "import", p, "--out", out)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn("cannot import", r.stderr)
                self.assertIn(name, r.stderr)
                self.assertFalse(os.path.exists(out))
        r = h.run_cli(db, "roads", "import", os.path.join(d, "missing.osm"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("missing.osm", r.stderr)
        # amaned routes on the imported graph...
        srv = self.new_server(args=["--roads.graph=" + graph], name="imported")
        r = srv.get("/api/v1/roads", token=srv.token("dispatcher"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["nodes"], int(info["nodes"]))
        srv.stop()
        # ...refuses to start on a damaged one, naming it...
        bad = os.path.join(d, "bad.graph")
        shutil.copy(graph, bad)
        with open(bad, "r+b") as f:
            f.seek(os.path.getsize(bad) // 2)
            b = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([b[0] ^ 0x40]))
        p = subprocess.run([h.AMANED, "--server.port=0", "--store.path=" + os.path.join(d, "x.db"),
                            "--roads.graph=" + bad], capture_output=True, text=True,
                           env=h.child_env(), timeout=h.scaled(30), cwd=d)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot load the road graph", p.stderr)
        self.assertIn("checksum", p.stderr)
        # ...and answers 503 with routing off.
        off = self.new_server(args=["--roads.graph=off"], name="off")
        r = off.get("/api/v1/roads", token=off.token("dispatcher"))
        self.assertProblem(r, 503, "no-road-graph")
        number = off.post(INCIDENTS, {"type": "THEFT", "location": INCIDENT_AT},
                          token=off.token("dispatcher")).json["number"]
        r = off.get("%s/%s/recommendations" % (INCIDENTS, number), token=off.token("dispatcher"))
        self.assertProblem(r, 503, "no-road-graph")


if __name__ == "__main__":
    h.main()
