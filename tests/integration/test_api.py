# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_api.py - the REST API of a real amaned: login, logout, /me, user
administration, the role of every route for every role, default deny,
lockout, the logbook in Arabic and French, idempotency keys, metrics, and the
static files."""

import os
import re
import subprocess
import tempfile
import time
import unittest

import harness as h
from harness import DEMO_PASSWORD, DEMO_USERS, ROLES

ALL = frozenset(ROLES)
PUBLIC = "public"
ROOM = frozenset({"admin", "supervisor", "dispatcher"})
FIELD = ROOM | {"patrol"}
RECORDS_READ = frozenset({"supervisor", "dispatcher", "patrol", "analyst"})

# The access rules the product promises (DESIGN.md, the issue): amaned
# --routes must declare exactly these, and the server must enforce them.
EXPECTED_ROLES = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/time/zone"): PUBLIC,
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ALL,
    ("GET", "/api/v1/me"): ALL,
    ("GET", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{username}/disable"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{username}/password"): frozenset({"admin"}),
    ("GET", "/api/v1/events"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/audit/verify"): frozenset({"admin"}),
    ("GET", "/api/v1/stream"): ALL,
    ("POST", "/api/v1/logbook"): ROOM,
    ("GET", "/api/v1/logbook"): ROOM,
    ("POST", "/api/v1/incidents"): ROOM,
    ("POST", "/api/v1/incidents/eido"): ROOM,
    ("GET", "/api/v1/incidents/{number}/eido"): ROOM,
    ("GET", "/api/v1/incidents/{number}/cap"): ROOM,
    ("GET", "/api/v1/incidents"): FIELD,
    ("GET", "/api/v1/incidents/{number}"): FIELD,
    ("GET", "/api/v1/incidents/{number}/history"): FIELD,
    ("POST", "/api/v1/incidents/{number}/notes"): FIELD,
    ("POST", "/api/v1/incidents/{number}/assign"): ROOM,
    ("POST", "/api/v1/incidents/{number}/release"): ROOM,
    ("POST", "/api/v1/incidents/{number}/close"): ROOM,
    ("POST", "/api/v1/incidents/{number}/reopen"): ROOM,
    ("POST", "/api/v1/incidents/{number}/link"): ROOM,
    ("POST", "/api/v1/incidents/{number}/merge"): ROOM,
    ("GET", "/api/v1/units"): FIELD,
    ("POST", "/api/v1/units"): frozenset({"admin", "supervisor"}),
    ("POST", "/api/v1/units/{callsign}/status"): FIELD,
    ("POST", "/api/v1/units/{callsign}/position"): FIELD,
    ("GET", "/api/v1/incidents/{number}/recommendations"): ROOM,
    ("GET", "/api/v1/incidents/{number}/route"): FIELD,
    ("GET", "/api/v1/roads"): FIELD,
    ("POST", "/api/v1/devices"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/devices"): ROOM,
    ("DELETE", "/api/v1/devices/{device}"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/units/{callsign}/trail"): FIELD,
    ("POST", "/api/v1/geofences"): ROOM,
    ("GET", "/api/v1/geofences"): FIELD,
    ("DELETE", "/api/v1/geofences/{id}"): ROOM,
    ("GET", "/api/v1/roads/route"): FIELD,
    ("GET", "/api/v1/incident-types"): FIELD,
    ("GET", "/api/v1/stats/response-times"): frozenset({"admin", "supervisor"}),
    ("GET", "/api/v1/premise-notes"): FIELD,
    ("POST", "/api/v1/premise-notes"): ROOM,
    ("POST", "/api/v1/incident-types"): frozenset({"admin"}),
    ("POST", "/api/v1/units/{callsign}/sign-on"): FIELD,
    ("POST", "/api/v1/units/{callsign}/sign-off"): FIELD,
    ("POST", "/api/v1/units/{callsign}/messages"): ROOM,
    ("GET", "/api/v1/units/{callsign}/messages"): FIELD,
    ("POST", "/api/v1/messages/{id}/ack"): FIELD,
    ("GET", "/api/v1/mdt"): FIELD,
    ("GET", "/api/v1/units/near"): FIELD,
    ("GET", "/api/v1/streets"): FIELD,
    ("GET", "/api/v1/map/roads"): FIELD,
    ("GET", "/api/v1/map/boundaries"): FIELD,
    ("POST", "/api/v1/persons/search"): RECORDS_READ,
    ("GET", "/api/v1/persons/{id}"): RECORDS_READ,
    ("POST", "/api/v1/persons"): frozenset({"analyst"}),
    ("PUT", "/api/v1/persons/{id}"): frozenset({"analyst"}),
    ("POST", "/api/v1/vehicles/search"): RECORDS_READ,
    ("GET", "/api/v1/vehicles/{id}"): RECORDS_READ,
    ("POST", "/api/v1/vehicles"): frozenset({"analyst"}),
    ("PUT", "/api/v1/vehicles/{id}"): frozenset({"analyst"}),
    ("POST", "/api/v1/hotlist/check"): RECORDS_READ,
    ("GET", "/api/v1/hotlist"): RECORDS_READ,
    ("POST", "/api/v1/hotlist"): frozenset({"analyst"}),
    ("POST", "/api/v1/hotlist/{id}/cancel"): frozenset({"analyst"}),
    ("GET", "/api/v1/records/access"): frozenset({"admin", "supervisor"}),
    ("POST", "/api/v1/records/import"): frozenset({"analyst"}),
    ("GET", "/api/v1/records/export"): frozenset({"analyst"}),
    ("GET", "/*"): PUBLIC,
}

ARABIC = "بلاغ عن حادث سير في شارع محمد الخامس، الدار البيضاء — الوحدة ٣ في الطريق"
FRENCH = ("Véhicule suspect signalé près de la gare Casa-Voyageurs : plaque 12345-أ-6, "
          "« conducteur en fuite », œil vif, garçon")
MIXED = "Équipe K9 ⵜⴰⵎⴰⵣⵉⵖⵜ au stade\tligne 2\nligne 3 🚓"


def declared_routes():
    """amaned --routes: [(method, pattern, roles)] with roles PUBLIC or a set."""
    with tempfile.TemporaryDirectory(prefix="amane-integ-routes-") as d:
        out = subprocess.run([h.AMANED, "--routes", "--store.path=" + os.path.join(d, "r.db")],
                             capture_output=True, text=True, env=h.child_env(),
                             timeout=h.scaled(30), cwd=d)
    if out.returncode != 0 or h.sanitizer_report(out.stderr):
        raise AssertionError("amaned --routes failed: %s" % out.stderr)
    routes = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        roles = parts[2] if len(parts) > 2 else ""
        routes.append((parts[0], parts[1],
                       PUBLIC if roles == "public" else frozenset(filter(None, roles.split(",")))))
    return routes


class ApiTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="api")

    def admin(self):
        return self.srv.token("admin")

    def create_user(self, username, role="dispatcher", password="s3cret-password",
                    display=None, expect=201):
        r = self.srv.post("/api/v1/users", {"username": username, "display_name": display or
                                            username, "role": role, "password": password},
                          token=self.admin())
        self.assertEqual(r.status, expect, r)
        return r

    # ----------------------------------------------------------------- auth

    def test_login_me_logout(self):
        srv = self.srv
        r = srv.post("/api/v1/auth/login", {"username": "supervisor", "password": DEMO_PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/json"), r)
        token = r.json["token"]
        self.assertRegex(token, r"^am_[A-Za-z0-9_-]{43}$")
        self.assertEqual(r.json["user"]["username"], "supervisor")
        self.assertEqual(r.json["user"]["role"], "supervisor")
        self.assertRegex(r.json["expires"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual(r.headers.get("cache-control"), "no-store", "tokens must not be cached")

        me = srv.get("/api/v1/me", token=token)
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json["username"], "supervisor")
        self.assertEqual(me.json["role"], "supervisor")
        self.assertIsInstance(me.json["id"], int)
        self.assertNotIn("token", me.json)

        # A second login is a second, independent token.
        other = srv.login("supervisor")
        self.assertNotEqual(other, token)

        out = srv.post("/api/v1/auth/logout", token=token)
        self.assertEqual(out.status, 204, out)
        self.assertEqual(out.body, b"")
        for _ in range(2):  # at once, and still after the auth cache would have expired it
            self.assertProblem(srv.get("/api/v1/me", token=token), 401, "invalid-token")
        self.assertProblem(srv.post("/api/v1/auth/logout", token=token), 401, "invalid-token")
        # The other session is untouched.
        self.assertEqual(srv.get("/api/v1/me", token=other).status, 200)

        # Wrong password and unknown user look the same to the caller.
        bad_pw = srv.post("/api/v1/auth/login", {"username": "supervisor", "password": "nope-nope"})
        unknown = srv.post("/api/v1/auth/login", {"username": "nobody-here",
                                                   "password": "nope-nope"})
        self.assertProblem(bad_pw, 401, "invalid-credentials")
        self.assertProblem(unknown, 401, "invalid-credentials")
        self.assertEqual(bad_pw.json["detail"], unknown.json["detail"])

        # The log of events says who logged in and out, and never holds a secret.
        ev = srv.get("/api/v1/events?since=0&limit=1000", token=self.admin())
        self.assertEqual(ev.status, 200, ev)
        types = [(e["type"], e["data"].get("username")) for e in ev.json["items"]]
        self.assertIn(("auth.login", "supervisor"), types)
        self.assertIn(("auth.logout", "supervisor"), types)
        self.assertIn(("auth.login_failed", "supervisor"), types)
        self.assertNotIn(token, ev.text)
        self.assertNotIn(DEMO_PASSWORD, ev.text)
        self.assertNotIn("nope-nope", ev.text)
        logs = srv.log_text()
        self.assertNotIn(token, logs, "a token was written to the server log")
        self.assertNotIn(DEMO_PASSWORD, logs, "a password was written to the server log")

    def test_user_administration(self):
        srv = self.srv
        display = "Agent Khadija Benali · خديجة بنعلي"
        r = self.create_user("agent.khadija", role="dispatcher", password="first-password-1",
                             display=display)
        self.assertEqual(r.json["username"], "agent.khadija")
        self.assertEqual(r.json["display_name"], display)
        self.assertEqual(r.json["role"], "dispatcher")
        self.assertIsInstance(r.json["id"], int)
        self.assertNotIn("password", r.text)

        listing = srv.get("/api/v1/users", token=self.admin())
        self.assertEqual(listing.status, 200, listing)
        users = {u["username"]: u for u in listing.json["items"]}
        self.assertEqual(users["agent.khadija"]["display_name"], display)
        self.assertIs(users["agent.khadija"]["disabled"], False)
        self.assertTrue(set(ROLES) <= set(users), "the demo users are listed")
        self.assertNotIn("pw_hash", listing.text)
        self.assertNotIn("argon2", listing.text)

        dup = self.create_user("agent.khadija", role="patrol", expect=409)
        self.assertProblem(dup, 409, "conflict")
        self.assertProblem(self.create_user("Agent.Upper", expect=422), 422, "validation")
        self.assertProblem(self.create_user("agent.norole", role="chief", expect=422), 422,
                           "validation")
        self.assertProblem(self.create_user("agent.short", password="short", expect=422), 422,
                           "validation")

        token = srv.login("agent.khadija", "first-password-1")
        self.assertEqual(srv.get("/api/v1/me", token=token).json["role"], "dispatcher")

        # A new password revokes the sessions and replaces the old one.
        pw = srv.post("/api/v1/users/agent.khadija/password", {"password": "second-password-2"},
                      token=self.admin())
        self.assertEqual(pw.status, 204, pw)
        self.assertProblem(srv.get("/api/v1/me", token=token), 401, "invalid-token")
        self.assertProblem(srv.login("agent.khadija", "first-password-1", expect=401), 401,
                           "invalid-credentials")
        token = srv.login("agent.khadija", "second-password-2")
        self.assertEqual(srv.get("/api/v1/me", token=token).status, 200)

        # Disabled: the token in hand is refused at once, and so is a new login.
        dis = srv.post("/api/v1/users/agent.khadija/disable", token=self.admin())
        self.assertEqual(dis.status, 200, dis)
        self.assertEqual(dis.json, {"username": "agent.khadija", "disabled": True})
        self.assertProblem(srv.get("/api/v1/me", token=token), 401, "invalid-token")
        self.assertProblem(srv.get("/api/v1/logbook", token=token), 401, "invalid-token")
        self.assertProblem(srv.login("agent.khadija", "second-password-2", expect=401), 401,
                           "invalid-credentials")
        users = {u["username"]: u for u in
                 srv.get("/api/v1/users", token=self.admin()).json["items"]}
        self.assertIs(users["agent.khadija"]["disabled"], True)

        self.assertProblem(srv.post("/api/v1/users/admin/disable", token=self.admin()), 409,
                           "conflict")
        self.assertProblem(srv.post("/api/v1/users/nobody.at.all/disable", token=self.admin()),
                           404, "not-found")

    def test_lockout_after_five_failures(self):
        srv = self.srv
        self.create_user("agent.locked", role="patrol", password="right-password-1")
        for attempt in range(1, 5):
            r = srv.post("/api/v1/auth/login", {"username": "agent.locked",
                                                "password": "wrong-password-%d" % attempt})
            self.assertProblem(r, 401, "invalid-credentials", "attempt %d" % attempt)
        r = srv.post("/api/v1/auth/login", {"username": "agent.locked", "password": "wrong-5"})
        self.assertProblem(r, 423, "account-locked", "the fifth failure locks")
        r = srv.post("/api/v1/auth/login", {"username": "agent.locked",
                                            "password": "right-password-1"})
        self.assertProblem(r, 423, "account-locked", "locked even with the right password")
        users = {u["username"]: u for u in
                 srv.get("/api/v1/users", token=self.admin()).json["items"]}
        self.assertIsInstance(users["agent.locked"]["locked_until"], str)
        # Other accounts are not affected.
        self.assertIsInstance(srv.login("patrol"), str)
        # An administrator's new password lifts the lock.
        r = srv.post("/api/v1/users/agent.locked/password", {"password": "third-password-3"},
                     token=self.admin())
        self.assertEqual(r.status, 204, r)
        self.assertIsInstance(srv.login("agent.locked", "third-password-3"), str)

    # ----------------------------------------------------------------- roles

    def test_declared_roles_are_the_promised_ones(self):
        declared = {(m, p): roles for m, p, roles in declared_routes()}
        self.assertGreaterEqual(len(declared), len(EXPECTED_ROLES) - 1)
        for key, roles in declared.items():
            self.assertIn(key, EXPECTED_ROLES,
                          "route %s %s is not in this test's table: add its roles and a "
                          "recipe for calling it" % key)
            self.assertEqual(roles, EXPECTED_ROLES[key], "roles of %s %s" % key)
        for key in EXPECTED_ROLES:
            self.assertIn(key, declared, "route %s %s is gone" % key)

    def route_recipe(self, method, pattern, role, n):
        """How to call a route as `role`: (method, path, json_body); None for
        routes handled elsewhere."""
        tag = "%s-%d" % (role, n)
        if pattern == "/*":
            index = os.path.join(self.srv.web_root, "console", "index.html")
            return ("GET", "/console/" if os.path.exists(index) else "/healthz", None)
        if (method, pattern) == ("POST", "/api/v1/auth/login"):
            return (method, pattern, {"username": role, "password": DEMO_USERS[role]})
        if (method, pattern) == ("POST", "/api/v1/users"):
            return (method, pattern, {"username": "rt-" + tag, "display_name": "RT " + tag,
                                      "role": "trainee", "password": "role-table-pw"})
        if (method, pattern) == ("POST", "/api/v1/users/{username}/disable"):
            return (method, "/api/v1/users/rt-victim-d/disable", None)
        if (method, pattern) == ("POST", "/api/v1/users/{username}/password"):
            return (method, "/api/v1/users/rt-victim-p/password", {"password": "pw-" + tag})
        if (method, pattern) == ("POST", "/api/v1/logbook"):
            return (method, pattern, {"text": "role table " + tag, "category": "info"})
        cad = self.cad_recipe(method, pattern, tag, role)
        if cad:
            return cad
        rec = self.records_recipe(method, pattern, n)
        if rec:
            return rec
        if method == "GET" and "{" not in pattern:
            return (method, pattern, None)
        self.fail("no recipe to call %s %s: add one to route_recipe()" % (method, pattern))

    def records_recipe(self, method, pattern, n):
        """Calls of the records' routes; records are created first by the analyst."""
        why = "reason=role+table"
        cin = "RT%06d" % n
        if not pattern.startswith(("/api/v1/persons", "/api/v1/vehicles", "/api/v1/hotlist",
                                   "/api/v1/records")):
            return None
        person = {"given_lat": "Rachid", "family_lat": "Tazi", "cin": cin}
        vehicle = {"plate": "%d-B-6" % (10000 + n)}
        if (method, pattern) == ("POST", "/api/v1/persons"):
            return (method, pattern, person)
        if (method, pattern) == ("POST", "/api/v1/vehicles"):
            return (method, pattern, vehicle)
        if (method, pattern) == ("POST", "/api/v1/hotlist"):
            return (method, pattern, {"kind": "wanted", "cin": cin, "reason": "mandat",
                                      "service": "PJ Casablanca", "action": "arrest"})
        if pattern.endswith("/search") or pattern.endswith("/check"):
            body = {"reason": "role table"}
            body.update({"name": "Rachid"} if "persons" in pattern else {"plate": "12345-A-6"})
            return (method, pattern, body)
        if pattern == "/api/v1/hotlist":
            return (method, pattern + "?" + why, None)
        if pattern == "/api/v1/records/access":
            return (method, pattern, None)
        if pattern == "/api/v1/records/import":
            return (method, pattern + "?kind=persons&format=jsonl&dry_run=true", None)
        if pattern == "/api/v1/records/export":
            return (method, pattern + "?kind=hotlist&format=csv&" + why, None)
        analyst = self.srv.token("analyst")
        kind = "persons" if "persons" in pattern else "vehicles" if "vehicles" in pattern \
            else "hotlist"
        if kind == "hotlist":
            self.srv.post("/api/v1/persons", person, token=analyst)
            made = self.srv.post("/api/v1/hotlist", {"kind": "wanted", "cin": cin,
                                                     "reason": "mandat", "service": "PJ",
                                                     "action": "arrest"}, token=analyst)
        else:
            made = self.srv.post("/api/v1/" + kind, person if kind == "persons" else vehicle,
                                 token=analyst)
        self.assertEqual(made.status, 201, "setup: create %s: %r" % (kind, made))
        path = pattern.replace("{id}", str(made.json["id"]))
        if method == "GET":
            return (method, path + "?" + why, None)
        if kind == "hotlist":
            return (method, path, {"reason": "retrouvé"})
        return (method, path, person if kind == "persons" else vehicle)

    def cad_setup(self, path, body):
        r = self.srv.post(path, body, token=self.srv.token("admin"))
        self.assertTrue(200 <= r.status < 300, "setup %s: %r" % (path, r))
        return r.json

    def cad_incident(self, tag):
        return self.cad_setup("/api/v1/incidents", {
            "type": "THEFT", "location": {"address": "Rue " + tag}})["number"]

    def cad_unit(self, tag):
        callsign = "RT-" + tag.upper().replace("_", "-")
        self.cad_setup("/api/v1/units", {"callsign": callsign, "kind": "car_patrol"})
        return callsign

    def crew(self, role, unit):
        """A patrol acts only for the unit it is signed on to: sign `role` on
        when its role may (the others are refused before that matters)."""
        if role in FIELD:
            r = self.srv.post("/api/v1/units/%s/sign-on" % unit, {}, token=self.srv.token(role))
            self.assertEqual(r.status, 200, "setup: %s signs on to %s: %r" % (role, unit, r))

    def cad_recipe(self, method, pattern, tag, role):
        """Calls of the dispatch routes, with what each needs created first (as admin)."""
        if (method, pattern) == ("POST", "/api/v1/incidents"):
            return (method, pattern, {"type": "ASSAULT", "priority": 2,
                                      "location": {"address": "Bd Zerktouni " + tag}})
        if (method, pattern) == ("POST", "/api/v1/incidents/eido"):
            number = self.cad_incident(tag)
            doc = self.srv.get("/api/v1/incidents/%s/eido" % number, token=self.srv.token("admin"))
            self.assertEqual(doc.status, 200, "setup: export %s as EIDO: %r" % (number, doc))
            return (method, pattern, doc.json)
        if (method, pattern) == ("POST", "/api/v1/units"):
            return (method, pattern, {"callsign": "RU-" + tag.upper().replace("_", "-"),
                                      "kind": "k9"})
        if (method, pattern) == ("POST", "/api/v1/incident-types"):
            return (method, pattern, {"code": "RT_" + tag.upper().replace("-", "_"),
                                      "name_fr": "Essai", "name_ar": "تجربة", "priority": 3})
        if (method, pattern) == ("POST", "/api/v1/premise-notes"):
            return (method, pattern, {"lat": 33.58, "lon": -7.61, "radius_m": 50,
                                      "text": "chien dangereux " + tag})
        if pattern == "/api/v1/units/{callsign}/position":
            unit = self.cad_unit(tag)
            self.crew(role, unit)
            return (method, "/api/v1/units/%s/position" % unit, {"lat": 33.5731, "lon": -7.5898})
        if pattern in ("/api/v1/units/{callsign}/sign-on", "/api/v1/units/{callsign}/sign-off"):
            unit = self.cad_unit(tag)
            if pattern.endswith("sign-off"):
                self.crew(role, unit)
            return (method, pattern.replace("{callsign}", unit), {})
        if pattern == "/api/v1/units/{callsign}/messages":
            unit = self.cad_unit(tag)
            return (method, "/api/v1/units/%s/messages" % unit,
                    {"text": "message " + tag} if method == "POST" else None)
        if pattern == "/api/v1/messages/{id}/ack":
            unit = self.cad_unit(tag)
            msg = self.cad_setup("/api/v1/units/%s/messages" % unit, {"kind": "ping"})
            self.crew(role, unit)
            return (method, "/api/v1/messages/%d/ack" % msg["id"], {})
        if (method, pattern) == ("POST", "/api/v1/devices"):
            return (method, pattern, {"device": "rt-" + tag, "protocol": "osmand",
                                      "unit": self.cad_unit(tag)})
        if pattern == "/api/v1/devices/{device}":
            self.cad_setup("/api/v1/devices", {"device": "rd-" + tag, "protocol": "teltonika",
                                               "unit": self.cad_unit(tag)})
            return (method, "/api/v1/devices/rd-" + tag, None)
        if (method, pattern) == ("POST", "/api/v1/geofences"):
            return (method, pattern, {"name": "zone " + tag,
                                      "circle": {"lat": 33.58, "lon": -7.6, "radius_m": 300}})
        if pattern == "/api/v1/geofences/{id}":
            gid = self.cad_setup("/api/v1/geofences", {"name": "del " + tag, "circle": {
                "lat": 33.58, "lon": -7.6, "radius_m": 100}})["id"]
            return (method, "/api/v1/geofences/%d" % gid, None)
        if pattern == "/api/v1/units/{callsign}/trail":
            return (method, "/api/v1/units/%s/trail" % self.cad_unit(tag), None)
        if pattern == "/api/v1/streets":
            return (method, pattern + "?q=zerktouni&limit=3", None)
        if pattern == "/api/v1/map/boundaries":
            return (method, pattern + "?level=sector", None)
        if pattern == "/api/v1/units/near":
            return (method, pattern + "?lat=33.5731&lon=-7.5898&radius_m=3000", None)
        if pattern == "/api/v1/roads/route":
            return (method, pattern + "?from=33.5731,-7.5898&to=33.5850,-7.6150", None)
        if pattern in ("/api/v1/incidents/{number}/recommendations",
                       "/api/v1/incidents/{number}/route"):
            number = self.cad_setup("/api/v1/incidents", {
                "type": "THEFT", "location": {"lat": 33.58, "lon": -7.60}})["number"]
            unit = self.cad_unit(tag)
            self.cad_setup("/api/v1/units/%s/position" % unit, {"lat": 33.5731, "lon": -7.5898})
            if pattern.endswith("/route"):
                return (method, "/api/v1/incidents/%s/route?unit=%s" % (number, unit), None)
            return (method, "/api/v1/incidents/%s/recommendations?k=3" % number, None)
        if pattern == "/api/v1/units/{callsign}/status":
            number, unit = self.cad_incident(tag), self.cad_unit(tag)
            self.cad_setup("/api/v1/incidents/%s/assign" % number, {"unit": unit})
            self.crew(role, unit)
            return (method, "/api/v1/units/%s/status" % unit, {"status": "en_route"})
        if not pattern.startswith("/api/v1/incidents/{number}"):
            return None
        number = self.cad_incident(tag)
        path = pattern.replace("{number}", number)
        if method == "GET":
            return (method, path, None)
        action = pattern.rsplit("/", 1)[1]
        if action == "notes":
            unit = self.cad_unit(tag)
            self.cad_setup("/api/v1/incidents/%s/assign" % number, {"unit": unit})
            self.crew(role, unit)
            return (method, path, {"text": "note " + tag})
        if action == "assign":
            return (method, path, {"unit": self.cad_unit(tag)})
        if action == "release":
            unit = self.cad_unit(tag)
            self.cad_setup("/api/v1/incidents/%s/assign" % number, {"unit": unit})
            return (method, path, {"unit": unit})
        if action == "close":
            return (method, path, {"disposition": "resolved"})
        if action == "reopen":
            self.cad_setup("/api/v1/incidents/%s/close" % number, {"disposition": "unfounded"})
            return (method, path, {"reason": "rappel du requérant " + tag})
        if action == "link":
            return (method, path, {"other": self.cad_incident(tag + "b")})
        if action == "merge":
            return (method, path, {"into": self.cad_incident(tag + "b")})
        return None

    def test_every_route_with_every_role(self):
        srv = self.srv
        self.create_user("rt-victim-d", role="trainee", password="victim-password")
        self.create_user("rt-victim-p", role="trainee", password="victim-password")
        tokens = {role: srv.login(role) for role in ROLES}
        routes = declared_routes()
        self.assertTrue(routes)
        n = 0
        for method, pattern, roles in routes:
            if (method, pattern) in (("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/stream")):
                continue  # below: logout ends the session; the stream is a WebSocket
            for role in ROLES:
                n += 1
                m, path, body = self.route_recipe(method, pattern, role, n)
                allowed = roles == PUBLIC or role in roles
                with self.subTest(route="%s %s" % (method, pattern), role=role):
                    head = srv.head_seq()
                    r = srv.request(m, path, json_body=body, token=tokens[role])
                    if allowed:
                        self.assertTrue(200 <= r.status < 300, "%s may call %s %s: %r" %
                                        (role, m, path, r))
                    else:
                        self.assertProblem(r, 403, "forbidden", "%s %s as %s" % (m, path, role))
                        self.assertEqual(srv.head_seq(), head, "a refused call wrote something")
                    if roles != PUBLIC:
                        anon = srv.request(m, path, json_body=body)
                        self.assertProblem(anon, 401, "unauthorized", "%s %s without token" %
                                           (m, path))
        stream_roles = dict(((m, p), r) for m, p, r in routes)[("GET", "/api/v1/stream")]
        for role in ROLES:
            with self.subTest(route="stream", role=role):
                r = srv.get("/api/v1/stream", token=tokens[role])
                if role in stream_roles:
                    self.assertProblem(r, 426, "upgrade-required")
                    with srv.stream(headers={"Authorization": "Bearer " + tokens[role]}) as ws:
                        hello = ws.recv_json()
                        self.assertEqual(hello["type"], "stream.hello")
                        self.assertEqual(hello["role"], role)
                        self.assertEqual(hello["user"], role)
                else:
                    self.assertProblem(r, 403, "forbidden")
        logout_roles = dict(((m, p), r) for m, p, r in routes)[("POST", "/api/v1/auth/logout")]
        for role in ROLES:
            with self.subTest(route="logout", role=role):
                r = srv.post("/api/v1/auth/logout", token=tokens[role])
                if role in logout_roles:
                    self.assertEqual(r.status, 204, r)
                    self.assertProblem(srv.get("/api/v1/me", token=tokens[role]), 401,
                                       "invalid-token")
                else:
                    self.assertProblem(r, 403, "forbidden")

    def test_default_deny(self):
        srv = self.srv
        for method, pattern, roles in declared_routes():
            if roles == PUBLIC:
                continue
            path = pattern.replace("{username}", "admin")
            body = {} if method == "POST" else None
            for token, slug in ((None, "unauthorized"), ("am_" + "A" * 43, "invalid-token"),
                                ("not-a-token", "invalid-token")):
                with self.subTest(route="%s %s" % (method, pattern), token=token):
                    r = srv.request(method, path, json_body=body, token=token)
                    self.assertProblem(r, 401, slug)
                    self.assertTrue(r.headers.get("www-authenticate", "").startswith("Bearer"),
                                    r.headers)

    # ----------------------------------------------------------------- logbook

    def test_logbook_round_trips_arabic_and_french(self):
        srv = self.srv
        token = srv.token("dispatcher")
        sent = [("incident", ARABIC), ("call", FRENCH), ("info", MIXED)]
        answers = []
        for category, text in sent:
            r = srv.post("/api/v1/logbook", {"text": text, "category": category}, token=token)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json["text"], text)
            self.assertEqual(r.json["category"], category)
            self.assertEqual(r.json["author"], "dispatcher")
            # The raw bytes are UTF-8, not \u escapes of a lossy re-encoding.
            self.assertIn(text.encode("utf-8")[:30], r.body.replace(b"\\t", b"\t")
                          .replace(b"\\n", b"\n"))
            answers.append(r.json)
        default = srv.post("/api/v1/logbook", {"text": "sans catégorie"}, token=token)
        self.assertEqual(default.json["category"], "info")

        ids = [a["id"] for a in answers]
        self.assertEqual(ids, sorted(ids))
        page = srv.get("/api/v1/logbook?after=%d&limit=3" % (ids[0] - 1), token=token)
        self.assertEqual(page.status, 200, page)
        self.assertEqual([(e["category"], e["text"]) for e in page.json["items"]], sent)
        self.assertEqual(page.json["items"], answers)
        # Without a cursor: the newest first.
        newest = srv.get("/api/v1/logbook?limit=2", token=srv.token("supervisor"))
        self.assertEqual([e["text"] for e in newest.json["items"]], ["sans catégorie", MIXED])
        # The event log holds the same text.
        ev = srv.get("/api/v1/events?since=%d&limit=3" % (answers[0]["seq"] - 1),
                     token=self.admin())
        self.assertEqual([e["data"]["text"] for e in ev.json["items"]], [t for _, t in sent])
        self.assertEqual([e["seq"] for e in ev.json["items"]], [a["seq"] for a in answers])

    def test_idempotency_over_http(self):
        srv = self.srv
        token = srv.token("dispatcher")
        sup_token = srv.token("supervisor")  # logins are events: log in before counting
        key = "integ-idem-%d" % time.monotonic_ns()
        body = {"text": "Appel 19 : rixe devant le café · شجار أمام المقهى", "category": "call"}
        head = srv.head_seq()
        first = srv.post("/api/v1/logbook", body, token=token, headers={"Idempotency-Key": key})
        self.assertEqual(first.status, 201, first)
        self.assertNotIn("idempotent-replayed", first.headers)
        again = srv.post("/api/v1/logbook", body, token=token, headers={"Idempotency-Key": key})
        self.assertEqual(again.status, 201, again)
        self.assertEqual(again.body, first.body)
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(srv.head_seq(), head + 1, "one event for two sends")
        entries = [e for e in srv.logbook_all(token) if e["text"] == body["text"]]
        self.assertEqual(len(entries), 1, entries)
        self.assertEqual(entries[0], first.json)

        other = dict(body, text="autre texte")
        reused = srv.post("/api/v1/logbook", other, token=token, headers={"Idempotency-Key": key})
        self.assertProblem(reused, 422, "idempotency-key-reused")
        self.assertEqual(srv.head_seq(), head + 1)
        self.assertFalse([e for e in srv.logbook_all(token) if e["text"] == "autre texte"])

        # Keys belong to a user: the same key from someone else is a new command.
        sup = srv.post("/api/v1/logbook", body, token=sup_token,
                       headers={"Idempotency-Key": key})
        self.assertEqual(sup.status, 201, sup)
        self.assertNotIn("idempotent-replayed", sup.headers)
        self.assertEqual(sup.json["author"], "supervisor")
        self.assertEqual(srv.head_seq(), head + 2)

    # ----------------------------------------------------------------- metrics, static

    def test_metrics_is_prometheus_text(self):
        srv = self.srv
        srv.get("/no/such/thing/at/all")  # at least one 4xx
        r = srv.get("/metrics")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"), r.headers)
        self.assertIn("version=0.0.4", r.headers["content-type"])
        text = r.text
        self.assertIn("# TYPE amane_http_requests_total counter", text)
        sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
                            r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? '
                            r'(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$')
        values = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                self.assertTrue(not line or re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ",
                                                     line), line)
                continue
            self.assertRegex(line, sample)
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
        self.assertGreater(values.get('amane_http_requests_total{code="2xx"}', 0), 0, values)
        self.assertGreater(values.get('amane_http_requests_total{code="4xx"}', 0), 0, values)
        self.assertEqual(values.get("amane_store_head_seq"), srv.head_seq())
        before = values['amane_http_requests_total{code="4xx"}']
        srv.get("/no/such/thing/either")
        after = srv.get("/metrics").text
        m = re.search(r'^amane_http_requests_total\{code="4xx"\} (\d+)', after, re.M)
        self.assertEqual(float(m.group(1)), before + 1)

    def test_static_files_and_traversal(self):
        srv = self.srv
        index = os.path.join(srv.web_root, "console", "index.html")
        if os.path.exists(index):
            r = srv.get("/console/")
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.headers["content-type"].startswith("text/html"), r.headers)
            with open(index, "rb") as f:
                self.assertEqual(r.body, f.read())
            self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
            self.assertIn("default-src 'self'", r.headers.get("content-security-policy", ""))
        home = srv.get("/")
        self.assertEqual(home.status, 302, home)
        self.assertEqual(home.headers.get("location"), "/console/")
        for path in (b"/../../etc/passwd", b"/%2e%2e/%2e%2e/etc/passwd", b"/console/../../../etc/passwd",
                     b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd", b"/..%2f..%2fetc/passwd",
                     b"/console/%2e%2e/%2e%2e/%2e%2e/etc/passwd", b"/.git/config",
                     b"/console/..%5c..%5cetc%5cpasswd"):
            with self.subTest(path=path):
                r = h.raw_request(srv.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIsNotNone(r, "no answer")
                self.assertProblem(r, 404, "not-found", path.decode())
                self.assertNotIn(b"root:", r.body)
        # "/%2e%2e/" is "/" once normalised: the home page, never a listing.
        r = h.raw_request(srv.port, b"GET /%2e%2e/ HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(r.status, (302, 404), r)
        if r.status == 302:
            self.assertEqual(r.headers.get("location"), "/console/")


class StaticRootTest(h.ServerTestCase):
    """A web root of our own: files are served, nothing outside it is."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = os.path.join(cls.tmp, "web")
        os.makedirs(os.path.join(root, "console"))
        with open(os.path.join(root, "console", "index.html"), "w", encoding="utf-8") as f:
            f.write("<!doctype html><title>أمان</title>")
        with open(os.path.join(root, "console", "app.js"), "w") as f:
            f.write("console.log('amane');\n")
        with open(os.path.join(root, "console", ".secret"), "w") as f:
            f.write("hidden\n")
        with open(os.path.join(cls.tmp, "outside.txt"), "w") as f:
            f.write("outside the root\n")
        os.symlink(os.path.join(cls.tmp, "outside.txt"), os.path.join(root, "console", "link.txt"))
        cls.srv = cls.new_server(name="static", web_root=root, seed=False)

    def test_served_and_confined(self):
        srv = self.srv
        r = srv.get("/console/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(r.body.decode("utf-8"), "<!doctype html><title>أمان</title>")
        js = srv.get("/console/app.js")
        self.assertEqual(js.status, 200, js)
        self.assertTrue(js.headers["content-type"].startswith("text/javascript"), js.headers)
        for path in ("/console/.secret", "/console/link.txt", "/outside.txt", "/console/nope.js",
                     "/console"):
            with self.subTest(path=path):
                r = srv.get(path)
                if path == "/console" and r.status in (301, 302):
                    continue  # a redirect to the directory is fine too
                self.assertProblem(r, 404, "not-found", path)
                self.assertNotIn(b"outside the root", r.body)
                self.assertNotIn(b"hidden", r.body)
        r = h.raw_request(srv.port, b"GET /console/../../outside.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertProblem(r, 404, "not-found")


if __name__ == "__main__":
    h.main()
