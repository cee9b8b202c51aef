# SPDX-License-Identifier: AGPL-3.0-or-later
"""pgrouting.py - pgRouting as the reference that amane's road routing is
checked against: a throwaway PostgreSQL 15 cluster with PostGIS and
pgRouting, a road graph exported by `amane roads export --csv` loaded into
it, and the batched cost queries the routing tests compare with.

Python 3 standard library only: there is no PostgreSQL driver for Python
here, so every query goes through `psql` in a subprocess (unaligned output,
ON_ERROR_STOP). The cluster is made by initdb in a temporary directory
(loopback only, its unix socket in that directory, a port of its own) and
removed by stop(); as root, initdb and pg_ctl run as the `postgres` system
user, as bench/*/run.sh do.

The graph, as amane has it (src/geo/geo.h, "roads"): directed edges, each
with a time in milliseconds; a two-way street is two edges, "twins". In the
database (node and edge ids are amane's 0-based indices plus one, because
pgRouting gives negative ids to points and treats 0 as "none"):

  roads_csv       the CSV as exported, one row per directed edge
  roads_directed  id, source, target, cost, reverse_cost = -1, geom: the
                  directed graph itself (pgr_dijkstraCost between nodes)
  roads_paired    one row per street: a pair of twins as one edge with cost
                  (tail -> head of the lower-numbered edge) and reverse_cost
                  (its twin), a one-way edge with reverse_cost = -1
  roads_edge_map  amane edge -> (roads_paired id, flipped): where a point
                  that amane snapped to an edge lies in roads_paired

Why roads_paired for points: amane lets a point on edge e at fraction t
leave or arrive both along e and along its twin, which is pgRouting's
withPoints on a directed graph with driving_side 'b' when e and its twin
are one pgRouting edge (the point splits both directions at once). Put on
roads_directed instead, the point would split only e, and travel on the
twin would pass the point by.
"""

import csv
import os
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = os.environ.get("AMANE_PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = shutil.which("psql") or "/usr/bin/psql"
USER = "amane"
DB = "postgres"


class PgError(RuntimeError):
    pass


def available():
    """None if a cluster can be made here, else why not (for skipTest)."""
    for tool in ("initdb", "pg_ctl", "postgres"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            return "PostgreSQL 15 server not found in %s (apt-get install postgresql-15)" % PG_BIN
    if not os.access(PSQL, os.X_OK):
        return "psql not found (apt-get install postgresql-client-15)"
    ext = "/usr/share/postgresql/15/extension"
    for name, pkg in (("postgis", "postgresql-15-postgis-3"),
                      ("pgrouting", "postgresql-15-pgrouting")):
        if not os.path.exists(os.path.join(ext, name + ".control")):
            return "%s not installed (apt-get install %s)" % (name, pkg)
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs the 'postgres' system user"
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sql_quote(text):
    """A string literal for SQL (standard_conforming_strings is on)."""
    return "'" + text.replace("'", "''") + "'"


class Cluster:
    """A PostgreSQL 15 cluster of its own in a temporary directory.

    with Cluster() as pg:
        pg.setup_routing()
        rows = pg.query("SELECT 1, 2")   # [('1', '2')]
    """

    def __init__(self, keep=False, log=None):
        self.keep = keep
        self.log = log  # a function taking one line, or None
        self.workdir = None
        self.datadir = None
        self.port = None
        self.started = False

    # -- life cycle

    def _as_pg(self, cmd):
        # initdb and postgres refuse to run as root.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--"] + cmd
        return cmd

    def _note(self, line):
        if self.log:
            self.log(line)

    def start(self, timeout=60):
        why = available()
        if why:
            raise PgError(why)
        self.workdir = tempfile.mkdtemp(prefix="amane-pgrouting-")
        os.chmod(self.workdir, 0o755)
        self.datadir = os.path.join(self.workdir, "pg")
        os.mkdir(self.datadir, 0o700)
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
        initlog = os.path.join(self.workdir, "initdb.log")
        with open(initlog, "wb") as f:
            r = subprocess.run(self._as_pg([os.path.join(PG_BIN, "initdb"), "-D", self.datadir,
                                            "-U", USER, "-A", "trust", "-E", "UTF8",
                                            "--locale=C"]),
                               stdout=f, stderr=subprocess.STDOUT, cwd="/", timeout=timeout)
        if r.returncode != 0:
            raise PgError("initdb failed:\n" + open(initlog).read())
        last = None
        for _ in range(3):  # the port may be taken between picking and binding
            self.port = _free_port()
            with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
                f.write("\n# amane tests/integration/pgrouting.py\n"
                        "listen_addresses = '127.0.0.1'\n"
                        "port = %d\n"
                        "unix_socket_directories = '%s'\n"
                        "shared_buffers = 256MB\n"
                        "work_mem = 64MB\n"
                        # A throwaway cluster: nothing in it needs to survive a crash.
                        "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                        % (self.port, self.datadir))
            r = subprocess.run(self._as_pg([os.path.join(PG_BIN, "pg_ctl"), "-D", self.datadir,
                                            "-l", os.path.join(self.datadir, "server.log"),
                                            "-w", "-t", str(timeout), "start"]),
                               capture_output=True, text=True, cwd="/", timeout=timeout + 10)
            if r.returncode == 0:
                self.started = True
                self._note("PostgreSQL 15 on 127.0.0.1:%d, socket and data in %s" %
                           (self.port, self.datadir))
                return self
            last = r.stdout + r.stderr + self.server_log()
        raise PgError("PostgreSQL did not start:\n" + (last or ""))

    def server_log(self, lines=40):
        try:
            with open(os.path.join(self.datadir, "server.log"), errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self):
        if self.started:
            subprocess.run(self._as_pg([os.path.join(PG_BIN, "pg_ctl"), "-D", self.datadir,
                                        "-m", "immediate", "-w", "stop"]),
                           capture_output=True, cwd="/", timeout=60)
            self.started = False
        if self.workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- queries

    @property
    def conninfo(self):
        """libpq connection string (for psql, or a C peer)."""
        return "host=%s port=%d user=%s dbname=%s" % (self.datadir, self.port, USER, DB)

    def psql(self, sql, input=None, timeout=600):
        """Runs SQL (several statements allowed) through psql; returns its
        stdout: unaligned, tuples only, fields separated by '|'. `input`
        feeds a COPY ... FROM STDIN. Raises PgError on any SQL error."""
        cmd = [PSQL, "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
               "-d", self.conninfo, "-f", "-"]
        script = sql
        if input is not None:
            # The data follows the COPY statement on the same stdin, ended by \.
            script = sql.rstrip().rstrip(";") + ";\n" + input
            if not input.endswith("\n"):
                script += "\n"
            script += "\\.\n"
        t0 = time.monotonic()
        r = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=timeout,
                           cwd="/")
        self.last_seconds = time.monotonic() - t0
        if r.returncode != 0:
            raise PgError("psql failed (%d): %s\nSQL: %s" % (r.returncode, r.stderr.strip(),
                                                           sql[:2000]))
        return r.stdout

    def query(self, sql, timeout=600):
        """Rows of the last statement's result as tuples of strings."""
        out = self.psql(sql, timeout=timeout)
        return [tuple(line.split("|")) for line in out.splitlines() if line != ""]

    def scalar(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def setup_routing(self):
        self.psql("CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS pgrouting;")
        return self.scalar("SELECT pgr_version()")


# ---------------------------------------------------------------- the graph

# The columns `amane roads export --csv` writes, and their SQL types; any
# other column is kept as text.
CSV_TYPES = {
    "edge": "bigint", "twin": "bigint", "source": "bigint", "target": "bigint",
    "cost_s": "double precision", "length_m": "double precision", "class": "text",
    "lat1": "double precision", "lon1": "double precision",
    "lat2": "double precision", "lon2": "double precision",
}
CSV_REQUIRED = ("edge", "twin", "source", "target", "cost_s", "lat1", "lon1", "lat2", "lon2")


class Graph:
    """What load_roads() made: counts, and the edges as amane numbers them."""

    def __init__(self, header, rows):
        self.header = header
        self.edges = rows  # dicts of floats/ints/strings, index = amane edge id
        self.nodes = {}    # node index -> (lat, lon)
        for e in rows:
            self.nodes.setdefault(e["source"], (e["lat1"], e["lon1"]))
            self.nodes.setdefault(e["target"], (e["lat2"], e["lon2"]))
        self.paired = 0
        self.oneway = 0


def read_roads_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise PgError("%s: missing column(s) %s (header %r)" % (path, missing, header))
        rows = []
        for i, r in enumerate(reader):
            row = {}
            for k, v in r.items():
                t = CSV_TYPES.get(k)
                row[k] = int(v) if t == "bigint" else float(v) if t == "double precision" else v
            if row["edge"] != i:
                raise PgError("%s: row %d holds edge %d (edges must be numbered 0, 1, ...)" %
                              (path, i, row["edge"]))
            rows.append(row)
    return header, rows


def load_roads(pg, csv_path):
    """Loads an exported road graph into the tables described at the top.
    Returns a Graph (the CSV as read, with counts of paired and one-way rows)."""
    header, rows = read_roads_csv(csv_path)
    cols = ", ".join('"%s" %s' % (c, CSV_TYPES.get(c, "text")) for c in header)
    with open(csv_path) as f:
        data = f.read()
    pg.psql("DROP TABLE IF EXISTS roads_csv, roads_directed, roads_paired, roads_edge_map CASCADE;"
            "CREATE TABLE roads_csv (%s);" % cols)
    pg.psql("COPY roads_csv FROM STDIN WITH (FORMAT csv, HEADER true)", input=data)
    pg.psql("""
        CREATE TABLE roads_directed AS
          SELECT edge + 1 AS id, source + 1 AS source, target + 1 AS target,
                 cost_s AS cost, -1.0::float8 AS reverse_cost, edge,
                 ST_MakeLine(ST_SetSRID(ST_MakePoint(lon1, lat1), 4326),
                             ST_SetSRID(ST_MakePoint(lon2, lat2), 4326)) AS geom
          FROM roads_csv;
        ALTER TABLE roads_directed ADD PRIMARY KEY (id);
        -- A pair of twins is one row: twin of twin is the edge itself and the
        -- ends swap; anything else stays a one-way row of its own.
        CREATE TABLE roads_paired AS
          SELECT a.edge + 1 AS id, a.source + 1 AS source, a.target + 1 AS target,
                 a.cost_s AS cost, COALESCE(b.cost_s, -1.0) AS reverse_cost,
                 a.edge AS fwd_edge, b.edge AS rev_edge,
                 ST_MakeLine(ST_SetSRID(ST_MakePoint(a.lon1, a.lat1), 4326),
                             ST_SetSRID(ST_MakePoint(a.lon2, a.lat2), 4326)) AS geom
          FROM roads_csv a
          LEFT JOIN roads_csv b ON b.edge = a.twin AND b.twin = a.edge
                               AND b.source = a.target AND b.target = a.source
          WHERE b.edge IS NULL OR a.edge < b.edge;
        ALTER TABLE roads_paired ADD PRIMARY KEY (id);
        CREATE TABLE roads_edge_map AS
          SELECT fwd_edge AS edge, id AS pg_edge, false AS flipped FROM roads_paired
          UNION ALL
          SELECT rev_edge, id, true FROM roads_paired WHERE rev_edge IS NOT NULL;
        ALTER TABLE roads_edge_map ADD PRIMARY KEY (edge);
        ANALYZE;
    """)
    g = Graph(header, rows)
    counts = pg.query("SELECT count(*) FILTER (WHERE reverse_cost >= 0),"
                      " count(*) FILTER (WHERE reverse_cost < 0) FROM roads_paired")
    g.paired, g.oneway = int(counts[0][0]), int(counts[0][1])
    n = int(pg.scalar("SELECT count(*) FROM roads_csv"))
    if n != len(rows) or g.paired * 2 + g.oneway != n:
        raise PgError("loaded %d rows of %d; %d pairs + %d one-way" % (n, len(rows), g.paired,
                                                                      g.oneway))
    return g


DIRECTED_SQL = "SELECT id, source, target, cost, reverse_cost FROM roads_directed"
PAIRED_SQL = "SELECT id, source, target, cost, reverse_cost FROM roads_paired"


def _values(rows):
    return ",".join("(" + ",".join(repr(v) for v in r) + ")" for r in rows)


def node_costs(pg, pairs):
    """pgRouting's travel time in seconds between amane nodes, one Dijkstra
    per distinct source (pgr_dijkstraCost with a combinations query), for a
    list of (source node, target node). Returns {pair: seconds}; a pair
    with no route is missing, a pair of a node with itself is 0."""
    pairs = list(pairs)
    pg.psql("DROP TABLE IF EXISTS pair_nodes; CREATE TABLE pair_nodes (source bigint, target bigint);"
            "INSERT INTO pair_nodes VALUES %s;" % _values((s + 1, t + 1) for s, t in pairs))
    rows = pg.query("SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost(%s, %s, true)" %
                    (sql_quote(DIRECTED_SQL), sql_quote("SELECT source, target FROM pair_nodes")))
    out = {(s, t): 0.0 for s, t in pairs if s == t}
    for s, t, c in rows:
        out[(int(s) - 1, int(t) - 1)] = float(c)
    return out


def points_sql(points):
    """A Points SQL over roads_paired for pgr_withPoints*: `points` maps a
    positive pid to (amane edge, fraction from its tail). A point on the
    second edge of a pair gets the fraction from the pair's source."""
    vals = _values((pid, e, float(t)) for pid, (e, t) in sorted(points.items()))
    return ("SELECT p.pid, m.pg_edge AS edge_id,"
            " CASE WHEN m.flipped THEN 1.0 - p.frac ELSE p.frac END AS fraction,"
            " 'b'::char AS side"
            " FROM (VALUES %s) AS p(pid, edge, frac) JOIN roads_edge_map m ON m.edge = p.edge" %
            vals)


def point_costs(pg, pairs):
    """pgRouting's travel time in seconds between points on roads, by
    pgr_withPointsCost on roads_paired (directed, driving_side 'b'), for a
    list of ((edge, frac), (edge, frac)) as amane's snaps give them.
    Returns a list of seconds (None where there is no route), in order."""
    pairs = list(pairs)
    points = {}
    combos = []
    for i, (a, b) in enumerate(pairs):
        points[2 * i + 1] = a
        points[2 * i + 2] = b
        combos.append((-(2 * i + 1), -(2 * i + 2)))
    pg.psql("DROP TABLE IF EXISTS pair_points; CREATE TABLE pair_points (source bigint, target bigint);"
            "INSERT INTO pair_points VALUES %s;" % _values(combos))
    rows = pg.query("SELECT start_pid, end_pid, agg_cost FROM pgr_withPointsCost(%s, %s, %s,"
                    " directed => true, driving_side => 'b')" %
                    (sql_quote(PAIRED_SQL), sql_quote(points_sql(points)),
                     sql_quote("SELECT source, target FROM pair_points")))
    got = {}
    for s, t, c in rows:
        got[(int(s), int(t))] = float(c)
    return [got.get(c, 0.0 if points[-c[0]] == points[-c[1]] else None) for c in combos]
