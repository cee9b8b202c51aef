# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_map.py - what the command-room console needs from a real amaned for
its offline map and call intake: street search in Arabic and French finding
the same street of the shipped Casablanca extract, limits, bad queries and
levels refused with problem+json (and the server alive), the roads for
drawing (every coordinate inside the extract, an ETag and a 304 for a
client that holds them), and Morocco's regions, prefectures and police
sectors as valid GeoJSON with Arabic and French names."""

import json
import urllib.parse

import harness as h

STREETS = "/api/v1/streets"
ROADS = "/api/v1/map/roads"
BOUNDS = "/api/v1/map/boundaries"

# The shipped extract (data/roads/README.md): lon -7.626..-7.555, lat 33.553..33.594.
EXTRACT = {"lat": (33.553, 33.594), "lon": (-7.626, -7.555)}


def q(text, **extra):
    args = {"q": text}
    args.update(extra)
    return STREETS + "?" + urllib.parse.urlencode(args)


def arabic(s):
    return any("\u0600" <= ch <= "\u06ff" for ch in s)


class MapTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server()

    def tok(self, role="dispatcher"):
        return self.srv.token(role)

    def search(self, text, expect=200, role="dispatcher", **extra):
        r = self.srv.get(q(text, **extra), token=self.tok(role))
        self.assertEqual(r.status, expect, r)
        return r

    def inside_extract(self, lat, lon, slack=0.001):
        return (EXTRACT["lat"][0] - slack <= lat <= EXTRACT["lat"][1] + slack and
                EXTRACT["lon"][0] - slack <= lon <= EXTRACT["lon"][1] + slack)

    # ------------------------------------------------------------------ streets

    def test_arabic_and_french_find_the_same_street(self):
        queries = ["mohammed vi", "Mohamed VI", "BD MOHAMMED VI", "boulevard mohammed vi",
                   "محمد السادس", "شارع محمد السادس", "شارع مُحَمَّد السـادس"]
        firsts = []
        for text in queries:
            items = self.search(text).json["items"]
            self.assertTrue(items, text)
            firsts.append(items[0])
            self.assertEqual(items[0]["match"], "exact", (text, items[0]))
        self.assertEqual(len({json.dumps(f, sort_keys=True) for f in firsts}), 1, firsts)
        st = firsts[0]
        self.assertEqual(st["name_fr"], "Boulevard Mohammed VI")
        self.assertEqual(st["name_ar"], "شارع محمد السادس")
        s, w, n, e = st["bbox"]
        self.assertTrue(s <= n and w <= e, st)
        self.assertTrue(self.inside_extract(st["lat"], st["lon"]), st)
        self.assertTrue(s - 0.001 <= st["lat"] <= n + 0.001 and w - 0.001 <= st["lon"] <= e + 0.001,
                        st)
        # Another pair: Zerktouni by its French name, its Arabic one, a fragment, an old spelling.
        ids = {self.search(t).json["items"][0]["id"]
               for t in ("zerktouni", "Bd Zerktouni", "الزرقطوني", "شارع محمد الزرقطوني",
                         "Mohammed Zerktouni")}
        self.assertEqual(len(ids), 1, ids)
        # A street found by its old name (old_name:fr = Route Mediouna).
        items = self.search("route mediouna").json["items"]
        self.assertEqual(items[0]["name_fr"], "Boulevard Mohammed VI", items)

    def test_ranking_exact_then_prefix_then_substring(self):
        items = self.search("ifni", limit=50).json["items"]
        kinds = [i["match"] for i in items]
        order = {"exact": 0, "prefix": 1, "substring": 2}
        self.assertEqual(kinds, sorted(kinds, key=order.get), items)
        self.assertEqual({i["name_fr"] for i in items if i["match"] == "exact"},
                         {"Rue d'Ifni", "Rue Ifni"})
        items = self.search("zerk").json["items"]
        self.assertEqual(items[0]["match"], "prefix")
        items = self.search("erktoun").json["items"]
        self.assertEqual(items[0]["match"], "substring")
        self.assertEqual(items[0]["name_fr"], "Boulevard Mohamed Zerktouni")

    def test_limits(self):
        self.assertEqual(len(self.search("a", limit=3).json["items"]), 3)
        self.assertEqual(len(self.search("a").json["items"]), 10)
        many = self.search("a", limit=50).json["items"]
        self.assertGreater(len(many), 10)
        self.assertLessEqual(len(many), 50)
        self.assertEqual(len({i["id"] for i in many}), len(many), "a street appears once")
        self.assertEqual(self.search("zzzzqqq").json["items"], [])
        self.assertEqual(self.search("!!!").json["items"], [])
        self.assertEqual(len(self.search("xz" * 50).json["items"]), 0)

    def test_bad_queries_refused(self):
        tok = self.tok()
        bad = [STREETS, STREETS + "?q=", q("x" * 101), q("شارع" * 13), q("rue", limit=0),
               q("rue", limit=51), q("rue", limit="ten"), q("rue", limit="-1"),
               q("rue", limit=""), q("rue", limit="10x")]
        for path in bad:
            with self.subTest(path=path):
                self.assertProblem(self.srv.get(path, token=tok), 422, "validation", path)
        # Query arguments that are not UTF-8 are refused by the router, as on every route.
        for path in (STREETS + "?q=%FF%FE", STREETS + "?q=abc%C3"):
            with self.subTest(path=path):
                self.assertProblem(self.srv.get(path, token=tok), 400, "bad-request", path)
        self.assertSurvives(self.srv, "bad street queries")
        # Odd but valid input is searched, not refused.
        for text in ["'", "-", "ـــ", "\u200f", "%", "\\", "\"", "ﷺ", "🚓", "ⵜⴰⵎⴰⵣⵉⵖⵜ", "a" * 100,
                     "é" * 50, "\u0651" * 50]:
            with self.subTest(text=text):
                r = self.search(text)
                self.assertIsInstance(r.json["items"], list)
        self.assertSurvives(self.srv, "odd street queries")
        # Without a token: 401; a role outside the field set: 403.
        self.assertProblem(self.srv.get(q("rue")), 401, "unauthorized")
        for role in ("admin", "supervisor", "dispatcher", "patrol"):
            self.search("rue", role=role)

    # ------------------------------------------------------------------ roads

    def test_roads_for_drawing(self):
        tok = self.tok("patrol")
        r = self.srv.get(ROADS, token=tok)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        body = r.json
        classes = body["classes"]
        self.assertIn("primary", classes)
        self.assertIn("OpenStreetMap", body["attribution"])
        info = self.srv.get("/api/v1/roads", token=tok).json
        bb = info["bbox"]
        segments = 0
        for line in body["lines"]:
            self.assertIsInstance(line[0], int)
            self.assertTrue(0 <= line[0] < len(classes), line[:3])
            pts = line[1:]
            self.assertEqual(len(pts) % 2, 0)
            self.assertGreaterEqual(len(pts), 4)
            segments += len(pts) // 2 - 1
            for k in range(0, len(pts), 2):
                lat, lon = pts[k], pts[k + 1]
                self.assertTrue(self.inside_extract(lat, lon, slack=0), (lat, lon))
                self.assertTrue(bb[0] - 1e-5 <= lat <= bb[2] + 1e-5 and
                                bb[1] - 1e-5 <= lon <= bb[3] + 1e-5, (lat, lon))
                self.assertEqual(round(lat, 5), lat)
                self.assertEqual(round(lon, 5), lon)
        # Every directed edge is drawn once, a two-way street once for both directions.
        self.assertGreaterEqual(segments, info["edges"] // 2)
        self.assertLessEqual(segments, info["edges"])
        self.assertLess(len(body["lines"]), segments, "edges are merged into polylines")
        # Cached: the same text with an ETag; a client that holds it gets a 304.
        etag = r.headers.get("etag")
        self.assertTrue(etag and etag.startswith('"'), r.headers)
        self.assertIn("no-cache", r.headers.get("cache-control", ""))
        self.assertNotIn("no-store", r.headers.get("cache-control", ""))
        again = self.srv.get(ROADS, token=tok)
        self.assertEqual(again.body, r.body)
        self.assertEqual(again.headers.get("etag"), etag)
        r304 = self.srv.get(ROADS, token=tok, headers={"If-None-Match": etag})
        self.assertEqual(r304.status, 304, r304)
        self.assertEqual(r304.body, b"")
        r200 = self.srv.get(ROADS, token=tok, headers={"If-None-Match": '"other"'})
        self.assertEqual(r200.status, 200)
        # Other API answers are still never stored.
        self.assertIn("no-store", self.srv.get("/api/v1/roads", token=tok).headers["cache-control"])

    # ------------------------------------------------------------------ boundaries

    def check_collection(self, level, count, code_prefix):
        r = self.srv.get(BOUNDS + "?level=" + level, token=self.tok())
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/geo+json"), r.headers)
        fc = json.loads(r.body.decode("utf-8"))
        self.assertEqual(fc["type"], "FeatureCollection")
        self.assertEqual(len(fc["features"]), count)
        codes = set()
        for f in fc["features"]:
            self.assertEqual(f["type"], "Feature")
            p = f["properties"]
            self.assertEqual(set(p), {"code", "name_fr", "name_ar"})
            self.assertTrue(p["code"].startswith(code_prefix), p)
            codes.add(p["code"])
            self.assertTrue(p["name_fr"] and not arabic(p["name_fr"]), p)
            self.assertTrue(arabic(p["name_ar"]), p)
            g = f["geometry"]
            self.assertEqual(g["type"], "MultiPolygon")
            self.assertTrue(g["coordinates"])
            for poly in g["coordinates"]:
                for ring in poly:
                    self.assertGreaterEqual(len(ring), 4)
                    self.assertEqual(ring[0], ring[-1], "closed ring")
                    for lon, lat in ring:
                        self.assertTrue(-180 <= lon <= 180 and -90 <= lat <= 90)
        self.assertEqual(len(codes), count)
        r304 = self.srv.get(BOUNDS + "?level=" + level, token=self.tok(),
                            headers={"If-None-Match": r.headers["etag"]})
        self.assertEqual(r304.status, 304)
        return fc

    def test_boundaries(self):
        regions = self.check_collection("region", 12, "MA-")
        # The whole kingdom, southern provinces included.
        self.assertIn("MA-12", {f["properties"]["code"] for f in regions["features"]})
        prefs = self.check_collection("prefecture", 75, "MA-")
        cas = [f for f in prefs["features"] if f["properties"]["code"] == "MA-CAS"]
        self.assertEqual(len(cas), 1)
        sectors = self.check_collection("sector", 9, "CAS-S")
        names = {f["properties"]["name_fr"] for f in sectors["features"]}
        self.assertIn("Derb Sultan", names)
        for bad in ["", "?level=", "?level=country", "?level=REGION", "?level=region%20",
                    "?level=" + "x" * 300, "?region"]:
            with self.subTest(query=bad):
                self.assertProblem(self.srv.get(BOUNDS + bad, token=self.tok()), 422,
                                   "validation")
        self.assertSurvives(self.srv, "bad boundary levels")

    # ------------------------------------------------------------------ no graph

    def test_without_road_graph(self):
        off = self.new_server(args=["--roads.graph=off"], name="off")
        tok = off.token("dispatcher")
        self.assertProblem(off.get(q("rue"), token=tok), 503, "no-road-graph")
        self.assertProblem(off.get(ROADS, token=tok), 503, "no-road-graph")
        # A bad query is still a bad query.
        self.assertProblem(off.get(STREETS, token=tok), 422, "validation")
        # The boundaries do not need roads.
        self.assertEqual(off.get(BOUNDS + "?level=region", token=tok).status, 200)


if __name__ == "__main__":
    h.main()
