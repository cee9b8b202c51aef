# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_near.py - "which units are near this point" through a real amaned:
the spatial grid of the units' latest positions fed by their devices
(OsmAnd reports), nearest first with exact distances, radius and limit, a
unit that moved leaving its old neighbourhood, the last known positions
found again after a restart, and bad queries refused with problem+json."""

import math
import time
import urllib.request

import harness as h

NEAR = "/api/v1/units/near"
ORIGIN = (33.5731, -7.5898)  # Casablanca, place des Nations Unies


class NearTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server()

    def report(self, device, lat, lon):
        port = self.srv.device_port("osmand")
        url = "http://127.0.0.1:%d/?id=%s&lat=%.6f&lon=%.6f&timestamp=%d" % (
            port, device, lat, lon, int(time.time() * 1000))
        with urllib.request.urlopen(url, timeout=h.scaled(10)) as r:
            self.assertEqual(r.status, 200)

    def near(self, lat, lon, **kw):
        q = "&".join("%s=%s" % (k, v) for k, v in kw.items())
        r = self.srv.get("%s?lat=%s&lon=%s%s" % (NEAR, lat, lon, "&" + q if q else ""),
                         token=self.srv.token("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def test_near(self):
        sup = self.srv.token("supervisor")
        # Five units 100 m, 400 m, 900 m, 3 km and 12 km north-east of the origin.
        spots = {}
        for i, d in enumerate((100, 400, 900, 3000, 12000)):
            cs = "NR-%d" % i
            self.assertEqual(self.srv.post("/api/v1/units", {"callsign": cs, "kind": "car_patrol"},
                                           token=sup).status, 201)
            self.assertEqual(self.srv.post("/api/v1/devices", {"device": "near-%d" % i,
                                                               "protocol": "osmand", "unit": cs},
                                           token=sup).status, 201)
            k = d / math.sqrt(2) / 111320.0
            spots[cs] = (ORIGIN[0] + k, ORIGIN[1] + k / math.cos(math.radians(ORIGIN[0])))
            self.report("near-%d" % i, *spots[cs])
        items = [u for u in self.near(*ORIGIN, radius_m=5000) if u["unit"].startswith("NR-")]
        self.assertEqual([u["unit"] for u in items], ["NR-0", "NR-1", "NR-2", "NR-3"])
        for u in items:
            self.assertAlmostEqual(u["distance_m"], h.haversine(ORIGIN, spots[u["unit"]]), delta=1.0)
        self.assertEqual([u["unit"] for u in self.near(*ORIGIN, radius_m=5000, limit=2)
                          if u["unit"].startswith("NR-")], ["NR-0", "NR-1"])
        self.assertEqual([u["unit"] for u in self.near(*ORIGIN, radius_m=50000)
                          if u["unit"].startswith("NR-")], ["NR-0", "NR-1", "NR-2", "NR-3", "NR-4"])
        # The nearest drives away to the fourth one's street: the order follows.
        self.report("near-0", *spots["NR-3"])
        order = [u["unit"] for u in self.near(*ORIGIN, radius_m=5000) if u["unit"].startswith("NR-")]
        self.assertEqual(order[:2], ["NR-1", "NR-2"])
        self.assertEqual(set(order[2:]), {"NR-0", "NR-3"})
        # After a restart the grid starts from the last known positions.
        self.srv.stop()
        self.srv.start()
        again = [u["unit"] for u in self.near(*ORIGIN, radius_m=1000) if u["unit"].startswith("NR-")]
        self.assertEqual(again, ["NR-1", "NR-2"])

    def test_bad_queries(self):
        tok = self.srv.token("dispatcher")
        for q in ("", "lat=33.5", "lat=91&lon=0", "lat=33&lon=-181", "lat=abc&lon=1",
                  "lat=33&lon=-7&radius_m=0", "lat=33&lon=-7&radius_m=300000",
                  "lat=33&lon=-7&radius_m=nan", "lat=33&lon=-7&limit=0", "lat=33&lon=-7&limit=x",
                  "lat=1e999&lon=0"):
            with self.subTest(q=q):
                self.assertProblem(self.srv.get(NEAR + "?" + q, token=tok), 422, "validation")
        self.assertProblem(self.srv.get(NEAR + "?lat=33&lon=-7", token=self.srv.token("analyst")),
                           403, "forbidden")
        self.assertSurvives(self.srv, "bad queries")


if __name__ == "__main__":
    h.main()
