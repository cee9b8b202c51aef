# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_roads_pgrouting.py - amane's road routing against pgRouting, a
named reference, on the shipped Casablanca graph: `amane roads export
--csv` writes the graph amane routes on, pgrouting.py loads it into a
throwaway PostgreSQL 15 cluster with PostGIS and pgRouting, and the travel
times that a real amaned answers on GET /api/v1/roads/route must agree with
pgRouting's within 0.1 % for every pair:

  - 1,000 random pairs of graph nodes (fixed seed), against pgr_dijkstraCost
    on the directed graph, in one batched query (combinations SQL);
  - points inside edges (not nodes), against pgr_withPointsCost with
    driving_side 'b' on the graph whose twin edges are paired (see
    pgrouting.py for why): random pairs, and pairs on one street in both
    directions, where the fastest way may be straight along the street or
    along its twin.

Times are whole milliseconds in amane; the part of an edge before or after
a point may be rounded to the millisecond there, while pgRouting multiplies
in floating point, so a point pair may also differ by up to 2 ms (POINT_SLACK_S).
Each test prints its figures: pairs, the largest relative error, timings.
"""

import concurrent.futures
import math
import os
import random
import sys
import time

import harness as h
import pgrouting

OSM = os.path.join(h.SOURCE_DIR, "data", "roads", "casablanca_center.osm")
ROUTE = "/api/v1/roads/route"
SEED = 20250
NODE_PAIRS = 1000
POINT_PAIRS = 300
SAME_STREET_PAIRS = 60
REL_TOLERANCE = 0.001  # 0.1 %
POINT_SLACK_S = 0.002  # rounding of the parts of the two end edges to the ms
SNAP_EXACT_M = 0.05    # a coordinate on the road snaps to itself, to the cm


def say(*args):
    sys.stderr.write(" ".join(str(a) for a in args) + "\n")
    sys.stderr.flush()


class RoadsPgRouting(h.ServerTestCase):
    srv = None
    pg = None
    graph = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.start_all()
        except BaseException:
            # unittest does not call tearDownClass after a failed setUpClass:
            # stop the cluster and the server here, or they outlive the test.
            try:
                cls.tearDownClass()
            except Exception as e:
                say("while cleaning up: %s" % e)
            raise

    @classmethod
    def start_all(cls):
        why = pgrouting.available()
        if why:
            # scripts/install-deps installs it: its absence is a broken machine, not a skip.
            raise RuntimeError("cannot run the pgRouting reference: " + why)
        if not os.path.isfile(OSM):
            raise RuntimeError("the shipped road graph '%s' is missing" % OSM)
        # The graph named explicitly: the one exported below, whatever the defaults.
        cls.srv = cls.new_server(args=["--roads.graph=" + OSM])
        cls.csv = os.path.join(cls.tmp, "roads.csv")
        t0 = time.monotonic()
        r = cls.srv.cli("roads", "export", OSM, "--csv", cls.csv)
        if r.returncode != 0:
            raise RuntimeError("amane roads export failed (%d): %s%s" %
                               (r.returncode, r.stdout, r.stderr))
        say("export: %.2f s" % (time.monotonic() - t0))
        cls.pg = pgrouting.Cluster(keep=h.KEEP, log=say)
        cls.pg.start()
        say("pgRouting", cls.pg.setup_routing())
        t0 = time.monotonic()
        cls.graph = pgrouting.load_roads(cls.pg, cls.csv)
        say("graph: %d directed edges (%d two-way streets, %d one-way edges), %d nodes;"
            " loaded in %.2f s" % (len(cls.graph.edges), cls.graph.paired, cls.graph.oneway,
                                   len(cls.graph.nodes), time.monotonic() - t0))
        cls.token = cls.srv.token("dispatcher")

    @classmethod
    def tearDownClass(cls):
        if cls.pg is not None:
            cls.pg.stop()
        super().tearDownClass()

    # -- helpers

    def route(self, a, b, fmt="%.7f"):
        """amaned's route between two (lat, lon); returns the JSON answer."""
        q = "%s?from=%s,%s&to=%s,%s" % (ROUTE, fmt % a[0], fmt % a[1], fmt % b[0], fmt % b[1])
        r = self.srv.get(q, token=self.token, timeout=30)
        self.assertEqual(r.status, 200, "%s: %r" % (q, r))
        return r.json

    def routes(self, pairs, fmt="%.7f"):
        """Routes for many pairs, four requests at a time; answers in order."""
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda p: self.route(p[0], p[1], fmt), pairs))

    def check_geometry(self, ans, a, b, what):
        """The answer starts and ends at the snapped points, which are the
        given ones (they lie on the road), and its polyline is as long as
        the length it gives."""
        for key, p in (("from", a), ("to", b)):
            self.assertLess(ans[key]["snap_m"], SNAP_EXACT_M, "%s: %s %r" % (what, key, ans[key]))
            self.assertLess(h.haversine((ans[key]["lat"], ans[key]["lon"]), (p[0], p[1])),
                            SNAP_EXACT_M, "%s: %s %r" % (what, key, ans[key]))
        pts = ans["points"]
        self.assertGreaterEqual(len(pts), 2, what)
        self.assertLess(h.haversine((pts[0][0], pts[0][1]), (a[0], a[1])), SNAP_EXACT_M, what)
        self.assertLess(h.haversine((pts[-1][0], pts[-1][1]), (b[0], b[1])), SNAP_EXACT_M, what)
        poly = sum(h.haversine((p[0], p[1]), (q[0], q[1])) for p, q in zip(pts, pts[1:]))
        self.assertLess(abs(poly - ans["length_m"]), 0.005 * ans["length_m"] + 1.0,
                        "%s: polyline %.1f m, length_m %.1f m" % (what, poly, ans["length_m"]))

    def compare(self, label, cases, slack_s):
        """cases: (what, pgRouting seconds, amane answer). Every pair agrees
        within REL_TOLERANCE (or slack_s); prints the figures."""
        worst = (0.0, None)
        over_rel = 0
        bad = []
        for what, ref, ans in cases:
            got = ans["eta_s"]
            err = abs(got - ref)
            rel = err / ref if ref > 0 else (0.0 if err == 0 else math.inf)
            if rel > worst[0]:
                worst = (rel, "(%s: pgRouting %.4f s, amane %.3f s)" % (what, ref, got))
            if rel > REL_TOLERANCE:
                over_rel += 1
                if err > slack_s:
                    bad.append("%s: pgRouting %.3f s, amane %.3f s (%.3f %%)" %
                               (what, ref, got, 100 * rel))
        etas = sorted(ref for _, ref, _ in cases)
        say("%s: %d pairs, pgRouting ETA median %.1f s (%.1f..%.1f); largest relative error"
            " %.4f %% %s; %d beyond 0.1 %%, of which %d beyond the %.0f ms of rounding allowed:"
            " %d disagree" %
            (label, len(cases), etas[len(etas) // 2], etas[0], etas[-1], 100 * worst[0],
             worst[1] or "", over_rel, len(bad), 1000 * slack_s, len(bad)))
        self.assertEqual(bad, [], "%d of %d pairs disagree with pgRouting:\n%s" %
                         (len(bad), len(cases), "\n".join(bad[:40])))

    def random_point(self, rnd, min_len_m=8.0):
        """A point inside a random edge (its interior, away from both ends):
        (edge, fraction, lat, lon). lat/lon are interpolated linearly, which
        is the segment amane snaps to (a straight line in degrees)."""
        edges = self.graph.edges
        while True:
            e = edges[rnd.randrange(len(edges))]
            if e.get("length_m", min_len_m) >= min_len_m:
                break
        t = rnd.uniform(0.15, 0.85)
        return self.on_edge(e["edge"], t)

    def on_edge(self, edge, t):
        e = self.graph.edges[edge]
        return (edge, t, e["lat1"] + t * (e["lat2"] - e["lat1"]),
                e["lon1"] + t * (e["lon2"] - e["lon1"]))

    # -- tests

    def test_node_pairs_match_pgr_dijkstra_cost(self):
        rnd = random.Random(SEED)
        nodes = sorted(self.graph.nodes)
        pairs = set()
        while len(pairs) < NODE_PAIRS:
            s, t = rnd.choice(nodes), rnd.choice(nodes)
            if s != t:
                pairs.add((s, t))
        pairs = sorted(pairs)
        t0 = time.monotonic()
        ref = pgrouting.node_costs(self.pg, pairs)
        t_pg = time.monotonic() - t0
        missing = [p for p in pairs if p not in ref]
        # amane keeps only the largest strongly connected part: every node reaches every other.
        self.assertEqual(missing, [], "pgRouting found no route for %d pairs" % len(missing))
        coords = [(self.graph.nodes[s], self.graph.nodes[t]) for s, t in pairs]
        t0 = time.monotonic()
        answers = self.routes(coords)
        t_am = time.monotonic() - t0
        say("node pairs: pgRouting %.2f s for %d pairs (one query); amaned %.2f s for %d"
            " requests (4 at a time over HTTP)" % (t_pg, len(pairs), t_am, len(pairs)))
        for (s, t), (a, b), ans in zip(pairs, coords, answers):
            self.check_geometry(ans, a, b, "nodes %d -> %d" % (s, t))
        self.compare("node pairs", [("nodes %d -> %d" % p, ref[p], ans)
                                    for p, ans in zip(pairs, answers)], 0.0)

    def test_points_inside_edges_match_pgr_with_points_cost(self):
        rnd = random.Random(SEED + 1)
        pairs = []
        for _ in range(POINT_PAIRS):
            pairs.append((self.random_point(rnd), self.random_point(rnd)))
        # On one street: ahead along the edge, behind it (the twin, or around
        # the block for a one-way street), and given on the twin edge.
        for i in range(SAME_STREET_PAIRS):
            e = self.random_point(rnd, min_len_m=20.0)[0]
            t1, t2 = sorted((rnd.uniform(0.1, 0.45), rnd.uniform(0.55, 0.9)))
            a, b = self.on_edge(e, t1), self.on_edge(e, t2)
            twin = self.graph.edges[e]["twin"]
            if i % 3 == 0:
                pairs.append((a, b))
            elif i % 3 == 1:
                pairs.append((b, a))
            elif twin >= 0:
                pairs.append((self.on_edge(twin, 1 - t2), self.on_edge(twin, 1 - t1)))
            else:
                pairs.append((b, a))
        t0 = time.monotonic()
        ref = pgrouting.point_costs(self.pg, [((a[0], a[1]), (b[0], b[1])) for a, b in pairs])
        t_pg = time.monotonic() - t0
        self.assertEqual([i for i, c in enumerate(ref) if c is None], [],
                         "pgRouting found no route for some point pairs")
        coords = [((a[2], a[3]), (b[2], b[3])) for a, b in pairs]
        t0 = time.monotonic()
        answers = self.routes(coords, fmt="%.9f")
        t_am = time.monotonic() - t0
        say("point pairs: pgRouting %.2f s for %d pairs (one query); amaned %.2f s" %
            (t_pg, len(pairs), t_am))
        cases = []
        for i, ((a, b), (ca, cb), ans) in enumerate(zip(pairs, coords, answers)):
            what = "%s edge %d at %.3f -> edge %d at %.3f" % (
                "street" if i >= POINT_PAIRS else "random", a[0], a[1], b[0], b[1])
            self.check_geometry(ans, ca, cb, what)
            cases.append((what, ref[i], ans))
        self.compare("random point pairs", cases[:POINT_PAIRS], POINT_SLACK_S)
        self.compare("same-street point pairs", cases[POINT_PAIRS:], POINT_SLACK_S)


if __name__ == "__main__":
    h.main()
