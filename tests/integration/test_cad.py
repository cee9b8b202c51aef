# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_cad.py - computer-aided dispatch through the API of a real amaned:
an incident's life cycle and its history, numbering per prefecture and year
(across failed requests, a crash and restarts), input checks, illegal
transitions that change nothing, assignment with override, two dispatchers
racing for one unit, the primary unit, merges, notes, units, incident
types, the stream, the status timers and idempotency keys.

Placement needs the geo module: test_placement_* fail until amaned places
incidents (region/prefecture from coordinates, refusal outside Morocco)."""

import calendar
import datetime
import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time

import harness as h

INCIDENTS = "/api/v1/incidents"
UNITS = "/api/v1/units"
TYPES = "/api/v1/incident-types"
NUMBER = re.compile(r"^([A-Z]{2,5})-(\d{4})-(\d{6})$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ARABIC = re.compile("[\u0600-\u06ff]")

# Casablanca, the Twin Center, and a few streets around it.
TWIN_CENTER = {"lat": 33.5873, "lon": -7.6320}
CASA = {"lat": 33.5890, "lon": -7.6040, "address": "Bd Mohammed V, Casablanca"}


def inc_path(number, what=""):
    return "%s/%s%s" % (INCIDENTS, number, "/" + what if what else "")


def serial(number):
    m = NUMBER.match(number)
    if not m:
        raise AssertionError("not an incident number: %r" % number)
    return m.group(1), int(m.group(2)), int(m.group(3))


def utc_year():
    return datetime.datetime.now(datetime.timezone.utc).year


def parse_ts(s):
    return datetime.datetime.strptime(s.replace("Z", ""), "%Y-%m-%dT%H:%M:%S.%f" if "." in s
                                      else "%Y-%m-%dT%H:%M:%S")


def epoch(s):
    """An API time (UTC) as seconds since the epoch."""
    return calendar.timegm(parse_ts(s).timetuple()) + parse_ts(s).microsecond / 1e6


def collect(ws, last_seq, timeout=5.0):
    """Stream messages until one with seq >= last_seq; fails on a timeout."""
    out = []
    deadline = time.monotonic() + h.scaled(timeout)
    while True:
        left = (deadline - time.monotonic()) / h.SCALE
        if left <= 0:
            raise AssertionError("stream stopped at %s, waiting for seq %d; got %r" %
                                 (out[-1]["seq"] if out else None, last_seq, out[-5:]))
        try:
            m = ws.recv_json(left)
        except socket.timeout:
            continue
        out.append(m)
        if m.get("seq", 0) >= last_seq:
            return out


class CadBase(h.ServerTestCase):
    """Helpers over one server (cls.srv) and the demo users' tokens."""

    srv = None
    tok = None
    _units = 0

    @classmethod
    def use_tokens(cls):
        """Tokens, logged in on first use (a login costs a password hash)."""
        srv = cls.srv

        class Tokens:
            def __getitem__(self, role):
                return srv.token(role)

        cls.tok = Tokens()

    # -- writes

    def open_incident(self, type_="THEFT", location=None, role="dispatcher", expect=201, **kw):
        body = {"type": type_, "location": location if location is not None
                else {"address": "Rue Tahar Sebti, Casablanca"}}
        body.update(kw)
        r = self.srv.post(INCIDENTS, body, token=self.tok[role])
        self.assertEqual(r.status, expect, r)
        return r.json

    def add_unit(self, kind="car_patrol", callsign=None, **kw):
        cls = type(self)
        cls._units += 1
        callsign = callsign or "T-%s-%03d" % (self.srv.name.upper(), cls._units)
        body = {"callsign": callsign, "kind": kind}
        body.update(kw)
        r = self.srv.post(UNITS, body, token=self.tok["supervisor"])
        self.assertEqual(r.status, 201, r)
        return r.json["callsign"]

    def op(self, number, what, body, role="dispatcher", expect=200, **kw):
        r = self.srv.post(inc_path(number, what), body, token=self.tok[role], **kw)
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s %r: %r" % (what, number, body, r))
        return r

    def assign(self, number, unit, expect=200, **kw):
        body = {"unit": unit}
        body.update(kw)
        return self.op(number, "assign", body, expect=expect)

    def patrol_on(self, unit):
        """Signs the patrol on to `unit`: a patrol acts only for its own unit (no event if
        it is already there)."""
        r = self.srv.post("%s/%s/sign-on" % (UNITS, unit), {}, token=self.tok["patrol"])
        self.assertEqual(r.status, 200, "patrol signs on to %s: %r" % (unit, r))

    def set_status(self, unit, status, role="patrol", expect=200, **kw):
        body = {"status": status}
        body.update(kw)
        if role == "patrol":
            self.patrol_on(unit)
        r = self.srv.post("%s/%s/status" % (UNITS, unit), body, token=self.tok[role])
        if expect is not None:
            self.assertEqual(r.status, expect, "%s -> %s: %r" % (unit, status, r))
        return r

    # -- reads

    def incident(self, number):
        r = self.srv.get(inc_path(number), token=self.tok["dispatcher"])
        self.assertEqual(r.status, 200, r)
        return r.json

    def history(self, number):
        r = self.srv.get(inc_path(number, "history"), token=self.tok["dispatcher"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["incident"], number)
        return r.json["events"]

    def units(self):
        r = self.srv.get(UNITS, token=self.tok["dispatcher"])
        self.assertEqual(r.status, 200, r)
        return r.json["items"]

    def unit(self, callsign):
        found = [u for u in self.units() if u["callsign"] == callsign]
        self.assertEqual(len(found), 1, callsign)
        return found[0]

    def active_units(self, inc):
        return [u["callsign"] for u in inc["units"] if u["released"] is None]

    def snapshot(self, numbers=(), callsigns=()):
        """What an illegal request must leave as it was: the log's head, the
        incidents and the units."""
        return (self.srv.head_seq(), {n: self.incident(n) for n in numbers},
                {c: self.unit(c) for c in callsigns})

    def assertUnchanged(self, before, what):
        after = self.snapshot(before[1].keys(), before[2].keys())
        self.assertEqual(after[0], before[0], "%s appended events" % what)
        for n in before[1]:
            self.assertEqual(after[1][n], before[1][n], "%s changed incident %s" % (what, n))
        for c in before[2]:
            self.assertEqual(after[2][c], before[2][c], "%s changed unit %s" % (what, c))


class CadTest(CadBase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="cad")
        cls.use_tokens()
        # Logged in now: a login appends an event, which would blur the
        # "nothing changed" checks.
        for role in ("admin", "supervisor", "dispatcher", "patrol", "analyst"):
            cls.tok[role]

    # ------------------------------------------------------------- life cycle

    def test_life_cycle_and_history(self):
        srv = self.srv
        unit = self.add_unit(crew=["Brigadier Hassan Ouazzani"])
        inc = self.open_incident(
            "ASSAULT", location=dict(TWIN_CENTER, address="Twin Center, Bd Zerktouni"),
            caller={"name": "Fatima Zahra El Amrani · فاطمة الزهراء العمراني",
                    "phone": "+212 661 23 45 67"},
            narrative="Agression devant l'entrée · اعتداء أمام المدخل")
        number = inc["number"]
        pref, year, _ = serial(number)
        self.assertEqual(year, utc_year())
        self.assertEqual(inc["status"], "new")
        self.assertEqual(inc["priority"], 2, "ASSAULT's default priority")
        self.assertEqual((inc["type"], inc["type_fr"], inc["type_ar"]),
                         ("ASSAULT", "Agression", "اعتداء"))
        self.assertEqual(inc["caller"], {"name": "Fatima Zahra El Amrani · فاطمة الزهراء العمراني",
                                         "phone": "+212 661 23 45 67"})
        self.assertAlmostEqual(inc["location"]["lat"], TWIN_CENTER["lat"], places=6)
        self.assertAlmostEqual(inc["location"]["lon"], TWIN_CENTER["lon"], places=6)
        self.assertEqual(inc["location"]["address"], "Twin Center, Bd Zerktouni")
        self.assertEqual(inc["narrative"], "Agression devant l'entrée · اعتداء أمام المدخل")
        self.assertRegex(inc["times"]["call"], TS)
        self.assertRegex(inc["times"]["created"], TS)
        for stage in ("dispatched", "en_route", "on_scene", "closed"):
            self.assertIsNone(inc["times"][stage], stage)
        self.assertEqual(self.incident(number), inc, "GET answers what the open answered")
        self.assertIn(number, [i["number"] for i in
                               srv.get(INCIDENTS, token=self.tok["patrol"]).json["items"]])

        stages = [("dispatched", lambda: self.assign(number, unit).json),
                  ("en_route", lambda: (self.set_status(unit, "en_route"),
                                        self.incident(number))[1]),
                  ("on_scene", lambda: (self.set_status(unit, "on_scene"),
                                        self.incident(number))[1])]
        for stage, step in stages:
            inc = step()
            self.assertEqual(inc["status"], stage)
            self.assertRegex(inc["times"][stage] or "", TS, stage)
            self.assertEqual(self.unit(unit)["status"], stage)
            self.assertEqual(self.unit(unit)["incident"], number)
        self.assertEqual(len(inc["units"]), 1)
        self.assertEqual(inc["units"][0]["callsign"], unit)
        self.assertTrue(inc["units"][0]["primary"])
        self.assertIsNone(inc["units"][0]["released"])

        self.op(number, "notes", {"text": "Suspect interpellé"}, role="patrol")
        inc = self.op(number, "close", {"disposition": "arrest"}).json
        self.assertEqual((inc["status"], inc["disposition"]), ("closed", "arrest"))
        self.assertRegex(inc["times"]["closed"] or "", TS)
        self.assertRegex(inc["units"][0]["released"] or "", TS, "closing releases the units")
        u = self.unit(unit)
        self.assertEqual((u["status"], u["incident"]), ("available", None))
        times = [parse_ts(inc["times"][k]) for k in
                 ("call", "created", "dispatched", "en_route", "on_scene", "closed")]
        self.assertEqual(times, sorted(times), inc["times"])
        self.assertNotIn(number, [i["number"] for i in
                                  srv.get(INCIDENTS, token=self.tok["patrol"]).json["items"]])
        closed = srv.get(INCIDENTS + "?status=closed", token=self.tok["patrol"]).json["items"]
        self.assertIn(number, [i["number"] for i in closed])

        events = self.history(number)
        self.assertEqual([(e["type"], e["data"].get("status")) for e in events], [
            ("cad.incident.opened", "new"),
            ("cad.unit.assigned", None),
            ("cad.incident.status", "dispatched"),
            ("cad.unit.status", "en_route"),
            ("cad.incident.status", "en_route"),
            ("cad.unit.status", "on_scene"),
            ("cad.incident.status", "on_scene"),
            ("cad.incident.note", None),
            ("cad.unit.status", "available"),
            ("cad.incident.closed", None),
        ])
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(set(seqs)), "seq strictly increasing")
        self.assertEqual(events[-1]["seq"], srv.head_seq())
        self.assertEqual([e["actor"] for e in events],
                         ["dispatcher", "dispatcher", "dispatcher", "patrol", "patrol", "patrol",
                          "patrol", "patrol", "dispatcher", "dispatcher"])
        self.assertEqual(events[0]["data"]["number"], number)
        for e in events[1:]:
            self.assertEqual(e["data"]["incident"], number, e)
            self.assertRegex(e["ts"], TS)
        self.assertEqual(events[1]["data"]["unit"], unit)
        self.assertEqual(events[-1]["data"]["disposition"], "arrest")

        # Reopened with a reason: open again, the reason in the history.
        inc = self.op(number, "reopen", {"reason": "Nouvelle plainte de la victime"}).json
        self.assertEqual((inc["status"], inc["disposition"], inc["times"]["closed"]),
                         ("new", None, None))
        last = self.history(number)[-1]
        self.assertEqual((last["type"], last["data"]["reason"]),
                         ("cad.incident.reopened", "Nouvelle plainte de la victime"))
        self.assertEqual(self.op(number, "close", {"disposition": "report_taken"}).json["status"],
                         "closed")
        self.assertEqual(srv.get(inc_path("CAS-2001-999999", "history"),
                                 token=self.tok["dispatcher"]).status, 404)

    # ------------------------------------------------------------- numbering

    def test_numbering_sequential_and_never_reused(self):
        first = self.open_incident()["number"]
        pref, year, n0 = serial(first)
        self.assertEqual(pref, "CAS", "no coordinates: the default prefecture")
        self.assertEqual(year, utc_year())
        got = [first]
        failing = [
            {"type": "NO_SUCH_TYPE", "location": {"address": "x"}},
            {"type": "THEFT", "priority": 9, "location": {"address": "x"}},
            {"type": "THEFT"},
            {"type": "THEFT", "location": {"address": "x"}, "caller": {"phone": "zéro six"}},
            {"type": "THEFT", "location": {"lat": 95.0, "lon": -7.6}},
        ]
        for body in failing:
            r = self.srv.post(INCIDENTS, body, token=self.tok["dispatcher"])
            self.assertEqual(r.status, 422, r)
            got.append(self.open_incident()["number"])
        # Closing, merging and reopening never free a number.
        self.op(got[1], "close", {"disposition": "cancelled"})
        self.op(got[2], "merge", {"into": got[3]})
        self.op(got[1], "reopen", {"reason": "rappel de l'appelant"})
        got.append(self.open_incident()["number"])
        self.assertEqual([serial(n) for n in got],
                         [(pref, year, n0 + i) for i in range(len(got))],
                         "sequential, failed requests take no number")
        everything = self.srv.get(INCIDENTS + "?status=all&limit=1000",
                                  token=self.tok["dispatcher"]).json["items"]
        numbers = [i["number"] for i in everything]
        self.assertEqual(len(numbers), len(set(numbers)), "no number given twice")

    # ------------------------------------------------------------- input

    def test_open_input_checks(self):
        types = {t["code"]: t for t in
                 self.srv.get(TYPES, token=self.tok["dispatcher"]).json["items"]}
        # Default priority from the type, or the one given.
        for code in ("ASSAULT_WEAPON", "BURGLARY", "THEFT", "FRAUD"):
            with self.subTest(default_priority=code):
                self.assertEqual(self.open_incident(code)["priority"], types[code]["priority"])
        self.assertEqual([types[c]["priority"] for c in ("ASSAULT_WEAPON", "FRAUD")], [1, 4])
        for p in (1, 4):
            self.assertEqual(self.open_incident("FRAUD", priority=p)["priority"], p)
        # Address only; coordinates only.
        inc = self.open_incident(location={"address": "Derb Sultan, près du marché · درب السلطان"})
        self.assertEqual(inc["location"], {"address": "Derb Sultan, près du marché · درب السلطان"})
        inc = self.open_incident(location=dict(TWIN_CENTER))
        self.assertEqual(set(inc["location"]), {"lat", "lon"})
        self.assertNotIn("address", inc["location"])

        # The time of the call, when given (the call came in before the incident was typed).
        call = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=7))
        call_s = call.strftime("%Y-%m-%dT%H:%M:%SZ")
        inc = self.open_incident(call_time=call_s)
        self.assertEqual(parse_ts(inc["times"]["call"]), call.replace(microsecond=0, tzinfo=None))
        self.assertLess(parse_ts(inc["times"]["call"]), parse_ts(inc["times"]["created"]))

        addr = {"address": "Place des Nations Unies"}
        bad = [
            ("priority 0", {"type": "THEFT", "priority": 0, "location": addr}),
            ("priority 5", {"type": "THEFT", "priority": 5, "location": addr}),
            ("priority -1", {"type": "THEFT", "priority": -1, "location": addr}),
            ("priority as text", {"type": "THEFT", "priority": "2", "location": addr}),
            ("unknown type", {"type": "UFO_SIGHTING", "location": addr}),
            ("lower-case type", {"type": "theft", "location": addr}),
            ("no type", {"location": addr}),
            ("unknown field", {"type": "THEFT", "location": addr, "severity": "high"}),
            ("unknown caller field", {"type": "THEFT", "location": addr,
                                      "caller": {"name": "A", "email": "a@example.ma"}}),
            ("unknown location field", {"type": "THEFT", "location": dict(addr, city="Casa")}),
            ("no location", {"type": "THEFT"}),
            ("empty location", {"type": "THEFT", "location": {}}),
            ("blank address", {"type": "THEFT", "location": {"address": "   "}}),
            ("lat without lon", {"type": "THEFT", "location": {"lat": 33.58}}),
            ("lon without lat", {"type": "THEFT", "location": {"lon": -7.63, "address": "x"}}),
            ("lat as text", {"type": "THEFT", "location": {"lat": "33.58", "lon": -7.63}}),
            ("lat 91", {"type": "THEFT", "location": {"lat": 91.0, "lon": -7.63}}),
            ("phone with letters", {"type": "THEFT", "location": addr,
                                    "caller": {"phone": "06 61 AB 45 67"}}),
            ("phone too short", {"type": "THEFT", "location": addr, "caller": {"phone": "1"}}),
            ("narrative with a control character", {"type": "THEFT", "location": addr,
                                                    "narrative": "a\x07b"}),
            ("narrative too long", {"type": "THEFT", "location": addr,
                                    "narrative": "x" * 4001}),
            ("call_time not a time", {"type": "THEFT", "location": addr, "call_time": "hier"}),
            ("call_time two days ago", {"type": "THEFT", "location": addr,
                                        "call_time": (datetime.datetime.now(
                                            datetime.timezone.utc) - datetime.timedelta(days=2))
                                        .strftime("%Y-%m-%dT%H:%M:%SZ")}),
            ("body not an object", ["THEFT"]),
        ]
        last = self.open_incident()["number"]
        for name, body in bad:
            with self.subTest(name):
                before = self.snapshot([last])
                r = self.srv.post(INCIDENTS, body, token=self.tok["dispatcher"])
                if name == "body not an object":
                    self.assertIn(r.status, (400, 422), r)
                else:
                    self.assertProblem(r, 422, "validation", name)
                    self.assertTrue(r.json.get("detail"), "a reason is given: %r" % r)
                self.assertUnchanged(before, name)
        nxt = self.open_incident()["number"]
        self.assertEqual(serial(nxt)[2], serial(last)[2] + 1, "the refusals took no number")
        # Roles: a patrol reads incidents but does not open them.
        r = self.srv.post(INCIDENTS, {"type": "THEFT", "location": addr}, token=self.tok["patrol"])
        self.assertProblem(r, 403, "forbidden")

    # ------------------------------------------------------------- illegal transitions

    def test_illegal_transitions_change_nothing(self):
        closed = self.open_incident()["number"]
        self.op(closed, "close", {"disposition": "resolved"})
        open1 = self.open_incident()["number"]
        open2 = self.open_incident()["number"]
        merged = self.open_incident()["number"]
        self.op(merged, "merge", {"into": open2})
        self.op(open1, "link", {"other": open2})
        available = self.add_unit()
        busy = self.add_unit()
        self.assign(open1, busy)
        other = self.add_unit()
        self.assign(open2, other)

        cases = [
            # name, method args, expected status, slug
            ("close twice", (closed, "close", {"disposition": "resolved"}), 409),
            ("close a merged incident", (merged, "close", {"disposition": "resolved"}), 409),
            ("assign to a closed incident", (closed, "assign", {"unit": available}), 409),
            ("assign with override to a closed incident",
             (closed, "assign", {"unit": available, "override_reason": "urgence"}), 409),
            ("assign an unknown unit", (open1, "assign", {"unit": "NO-SUCH-UNIT"}), 422),
            ("assign a unit already on the incident", (open1, "assign", {"unit": busy}), 409),
            ("reopen an open incident", (open1, "reopen", {"reason": "erreur"}), 409),
            ("reopen a merged incident", (merged, "reopen", {"reason": "erreur"}), 409),
            ("merge into itself", (open1, "merge", {"into": open1}), 422),
            ("merge into a closed incident", (open1, "merge", {"into": closed}), 409),
            ("merge into an unknown incident", (open1, "merge", {"into": "CAS-1999-000001"}), 422),
            ("merge a merged incident again", (merged, "merge", {"into": open1}), 409),
            ("link twice", (open1, "link", {"other": open2}), 409),
            ("link twice, the other way round", (open2, "link", {"other": open1}), 409),
            ("link to itself", (open1, "link", {"other": open1}), 422),
            ("release a unit not on the incident", (open1, "release", {"unit": available}), 409),
            ("release a unit of another incident", (open1, "release", {"unit": other}), 409),
            ("release an unknown unit", (open1, "release", {"unit": "NO-SUCH-UNIT"}), 422),
            ("close with an unknown disposition", (open1, "close", {"disposition": "solved"}),
             422),
            ("reopen without a reason", (closed, "reopen", {}), 422),
            ("assign with an unknown field", (open1, "assign", {"unit": available, "eta": 5}),
             422),
            ("close with an unknown field", (open1, "close", {"disposition": "resolved",
                                                             "by": "me"}), 422),
            ("link with an unknown field", (open1, "link", {"other": merged, "why": "x"}), 422),
            ("note on an unknown incident", ("CAS-1999-000001", "notes", {"text": "x"}), 404),
        ]
        statuses = [
            ("unit on scene before dispatched", available, {"status": "on_scene"}, 409),
            ("en_route while available", available, {"status": "en_route"}, 409),
            ("en_route while available, with an override reason", available,
             {"status": "en_route", "override_reason": "test"}, 409),
            ("transporting before on scene", busy, {"status": "transporting"}, 409),
            ("transporting while available", available, {"status": "transporting"}, 409),
            ("status dispatched set directly", available, {"status": "dispatched"}, 409),
            ("status dispatched on a dispatched unit", busy, {"status": "dispatched"}, 409),
            ("unknown status", available, {"status": "busy"}, 422),
            ("unknown unit", "NO-SUCH-UNIT", {"status": "available"}, 404),
        ]
        numbers = [closed, open1, open2, merged]
        units = [available, busy, other]
        for name, (number, what, body), status in cases:
            with self.subTest(name):
                before = self.snapshot(numbers, units)
                r = self.op(number, what, body, expect=None)
                slug = {409: "conflict", 422: "validation", 404: "not-found"}[status]
                self.assertProblem(r, status, slug, name)
                self.assertUnchanged(before, name)
        for name, unit, body, status in statuses:
            with self.subTest(name):
                if status != 404:
                    self.patrol_on(unit)
                before = self.snapshot(numbers, units)
                r = self.srv.post("%s/%s/status" % (UNITS, unit), body, token=self.tok["patrol"])
                slug = {409: "conflict", 422: "validation", 404: "not-found"}[status]
                self.assertProblem(r, status, slug, name)
                self.assertUnchanged(before, name)

    # ------------------------------------------------------------- override

    def test_assign_busy_unit_needs_override(self):
        first = self.open_incident("ROBBERY")["number"]
        second = self.open_incident("ASSAULT_WEAPON")["number"]
        unit = self.add_unit()
        self.assign(first, unit)
        self.set_status(unit, "en_route")
        self.assertEqual(self.incident(first)["status"], "en_route")
        before = self.snapshot([first, second], [unit])

        r = self.assign(second, unit, expect=None)
        self.assertProblem(r, 409, "conflict")
        self.assertIn(unit, r.json.get("detail", ""))
        self.assertUnchanged(before, "assigning a busy unit without override_reason")
        r = self.assign(second, unit, expect=None, override_reason="   ")
        self.assertProblem(r, 422, "validation", "a blank reason is no reason")
        self.assertUnchanged(before, "a blank override_reason")

        reason = "Arme signalée, unité la plus proche · سلاح، أقرب وحدة"
        inc2 = self.assign(second, unit, override_reason=reason).json
        self.assertEqual(self.active_units(inc2), [unit])
        self.assertEqual(inc2["status"], "dispatched")
        u = self.unit(unit)
        self.assertEqual((u["status"], u["incident"]), ("dispatched", second))
        self.assertGreater(parse_ts(u["status_since"]),
                           parse_ts(before[2][unit]["status_since"]))
        inc1 = self.incident(first)
        self.assertEqual(self.active_units(inc1), [], "released from the first incident")
        self.assertRegex(inc1["units"][0]["released"] or "", TS)
        self.assertEqual(inc1["status"], "new", "the first incident falls back")

        ev = [e for e in self.history(second) if e["type"] == "cad.unit.assigned"]
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["data"]["override_reason"], reason)
        self.assertEqual(ev[0]["data"]["previous_status"], "en_route")
        self.assertEqual(ev[0]["actor"], "dispatcher")
        hist1 = self.history(first)
        self.assertEqual((hist1[-1]["type"], hist1[-1]["data"]["status"],
                          hist1[-1]["data"]["previous"]),
                         ("cad.incident.status", "new", "en_route"))
        # The first incident's timeline says where its unit went.
        taken = [e for e in hist1 if e["seq"] > before[0] and e["data"].get("unit") == unit]
        self.assertTrue(taken, "the first incident's history has no event for %s leaving it: %r"
                        % (unit, [e["type"] for e in hist1]))

        # An out-of-service unit is not available either.
        third = self.open_incident()["number"]
        oos = self.add_unit()
        self.set_status(oos, "out_of_service", role="supervisor")
        before = self.snapshot([third], [oos])
        self.assertProblem(self.assign(third, oos, expect=None), 409, "conflict")
        self.assertUnchanged(before, "assigning an out-of-service unit")
        inc3 = self.assign(third, oos, override_reason="seule unité K9 disponible").json
        self.assertEqual(self.active_units(inc3), [oos])
        self.assertEqual(self.unit(oos)["status"], "dispatched")

    # ------------------------------------------------------------- concurrency

    def test_two_dispatchers_race_for_one_unit(self):
        # A second dispatcher, with a session of their own.
        self.srv.add_user("dispatcher.b", "dispatcher", "dispatcher-b-password")
        tokens = (self.tok["dispatcher"], self.srv.login("dispatcher.b", "dispatcher-b-password"))
        for rnd in range(20):
            unit = self.add_unit()
            numbers = [self.open_incident()["number"] for _ in range(2)]
            barrier = threading.Barrier(2)
            results = [None, None]

            def go(i):
                conn = http.client.HTTPConnection(h.HOST, self.srv.port, timeout=h.scaled(10))
                try:
                    body = json.dumps({"unit": unit})
                    conn.connect()
                    barrier.wait(timeout=h.scaled(10))
                    conn.request("POST", inc_path(numbers[i], "assign"), body=body,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + tokens[i]})
                    r = conn.getresponse()
                    results[i] = h.Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                                            r.read())
                finally:
                    conn.close()

            threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with self.subTest(round=rnd):
                self.assertEqual(sorted(r.status for r in results), [200, 409], results)
                winner = [i for i in range(2) if results[i].status == 200][0]
                self.assertProblem(results[1 - winner], 409, "conflict")
                on = [n for n in numbers if unit in self.active_units(self.incident(n))]
                self.assertEqual(on, [numbers[winner]])
                self.assertEqual(self.unit(unit)["incident"], numbers[winner])
                self.assertEqual(self.incident(numbers[1 - winner])["units"], [])

    # ------------------------------------------------------------- primary

    def test_primary_unit(self):
        number = self.open_incident("BURGLARY")["number"]
        a, b, c, d = (self.add_unit() for _ in range(4))

        def primaries():
            inc = self.incident(number)
            return [u["callsign"] for u in inc["units"] if u["primary"] and u["released"] is None]

        self.assign(number, a)
        self.assertEqual(primaries(), [a], "the first unit assigned is the primary")
        self.assign(number, b)
        self.assertEqual(primaries(), [a], "a second unit does not take it")
        inc = self.assign(number, c, primary=True).json
        self.assertEqual(primaries(), [c], "primary=true takes it")
        self.assertEqual(self.active_units(inc), [a, b, c])
        ev = self.history(number)
        self.assertEqual([e["data"]["primary"] for e in ev if e["type"] == "cad.unit.assigned"],
                         [True, False, True])

        inc = self.op(number, "release", {"unit": c}).json
        self.assertEqual(self.active_units(inc), [a, b])
        self.assertRegex([u for u in inc["units"] if u["callsign"] == c][0]["released"] or "",
                         TS)
        self.assertEqual(inc["status"], "dispatched", "a and b are still on it")
        u = self.unit(c)
        self.assertEqual((u["status"], u["incident"]), ("available", None))
        last = self.history(number)[-1]
        self.assertEqual((last["type"], last["data"]["unit"]), ("cad.unit.released", c))
        self.assertEqual(primaries(), [])
        self.assign(number, d)
        self.assertEqual(primaries(), [d], "with no primary left, the next unit is primary")
        for unit in (a, b, d):
            self.op(number, "release", {"unit": unit})
        inc = self.incident(number)
        self.assertEqual((self.active_units(inc), inc["status"]), ([], "new"))
        # A released unit can be assigned again (not a duplicate assignment).
        self.assertEqual(self.active_units(self.assign(number, c).json), [c])

    # ------------------------------------------------------------- merge

    def test_merge_duplicate_into_original(self):
        original = self.open_incident("TRAFFIC_INJURY", location=dict(CASA))["number"]
        duplicate = self.open_incident("TRAFFIC_INJURY", location=dict(CASA),
                                       caller={"phone": "0522 00 11 22"})["number"]
        u1, u2 = self.add_unit(), self.add_unit(kind="traffic")
        self.assign(original, u1)
        self.assign(duplicate, u2)
        self.set_status(u2, "en_route")
        before = self.srv.head_seq()

        dup = self.op(duplicate, "merge", {"into": original}).json
        self.assertEqual((dup["status"], dup["disposition"], dup["merged_into"]),
                         ("closed", "duplicate", original))
        self.assertRegex(dup["times"]["closed"] or "", TS)
        self.assertIn(original, dup["links"])
        self.assertEqual(self.active_units(dup), [])
        orig = self.incident(original)
        self.assertIn(duplicate, orig["links"])
        self.assertEqual(self.active_units(orig), [u1, u2], "the duplicate's units moved")
        self.assertEqual(orig["status"], "en_route", "follows its most advanced unit")
        self.assertIsNone(orig["merged_into"])
        u = self.unit(u2)
        self.assertEqual((u["incident"], u["status"]), (original, "en_route"))
        for number in (original, duplicate):
            with self.subTest(history=number):
                merged = [e for e in self.history(number) if e["type"] == "cad.incident.merged"]
                self.assertEqual(len(merged), 1)
                self.assertGreater(merged[0]["seq"], before)
                self.assertEqual(merged[0]["data"]["incident"], duplicate)
                self.assertEqual(merged[0]["data"]["into"], original)
                self.assertEqual(merged[0]["data"]["units_moved"], [u2])
        # The moved unit now works for the original.
        self.set_status(u2, "on_scene")
        self.assertEqual(self.incident(original)["status"], "on_scene")
        self.assertEqual(self.incident(duplicate)["status"], "closed")

    # ------------------------------------------------------------- notes

    def test_notes_appended_in_order(self):
        number = self.open_incident("DOMESTIC")["number"]
        # The patrol writes on the incident of the unit it crews.
        unit = self.add_unit()
        self.assign(number, unit)
        self.patrol_on(unit)
        notes = [
            ("dispatcher", "Appelante en pleurs, enfants présents."),
            ("patrol", "وصلنا إلى عين المكان، الوضع تحت السيطرة"),
            ("supervisor", "Suivi demandé\n\tpar le parquet · النيابة العامة"),
            ("patrol", "Fin d'intervention — انتهاء التدخل"),
        ]
        for role, text in notes:
            inc = self.op(number, "notes", {"text": text}, role=role).json
        self.assertEqual([(n["author"], n["text"]) for n in inc["notes"]], notes)
        for n in inc["notes"]:
            self.assertRegex(n["ts"], TS)
        self.assertEqual(self.incident(number)["notes"], inc["notes"])
        ev = [e for e in self.history(number) if e["type"] == "cad.incident.note"]
        self.assertEqual([(e["actor"], e["data"]["text"]) for e in ev], notes)

        for name, body, status in [("empty", {"text": ""}, 422), ("blank", {"text": " \n "}, 422),
                                   ("too long", {"text": "ن" * 2001}, 422),
                                   ("extra field", {"text": "x", "author": "admin"}, 422),
                                   ("no text", {}, 422)]:
            with self.subTest(name):
                before = self.snapshot([number])
                r = self.op(number, "notes", body, expect=None)
                self.assertEqual(r.status, status, r)
                self.assertUnchanged(before, "note " + name)
        # Never edited: no other method on notes; an analyst may not add one.
        before = self.snapshot([number])
        for method in ("PUT", "PATCH", "DELETE"):
            r = self.srv.request(method, inc_path(number, "notes"), json_body={"text": "x"},
                                 token=self.tok["admin"])
            self.assertIn(r.status, (404, 405), "%s notes: %r" % (method, r))
        r = self.op(number, "notes", {"text": "x"}, role="analyst", expect=None)
        self.assertProblem(r, 403, "forbidden")
        self.assertUnchanged(before, "refused note edits")
        # Notes go on after the incident is closed (the written record).
        self.op(number, "close", {"disposition": "referred"})
        inc = self.op(number, "notes", {"text": "Transmis au parquet"}).json
        self.assertEqual([n["text"] for n in inc["notes"]][-1], "Transmis au parquet")

    # ------------------------------------------------------------- units

    def test_units(self):
        sup = self.tok["supervisor"]
        body = {"callsign": "CAS-K9-77", "kind": "k9",
                "capabilities": ["k9", "explosives_detection"],
                "crew": ["Brigadier Said Benjelloun", "سعيد بنجلون"], "home_sector": "CAS-S03"}
        r = self.srv.post(UNITS, body, token=sup)
        self.assertEqual(r.status, 201, r)
        u = r.json
        for k, v in body.items():
            self.assertEqual(u[k], v, k)
        self.assertEqual((u["status"], u["incident"]), ("available", None))
        self.assertRegex(u["status_since"], TS)
        self.assertEqual(self.unit("CAS-K9-77"), u)
        for kind in ("car_patrol", "motorcycle", "foot_patrol", "traffic", "sports_security",
                     "judicial_police", "scientific_police", "intervention", "supervisor"):
            with self.subTest(kind=kind):
                r = self.srv.post(UNITS, {"callsign": "KIND-" + kind.upper()[:20], "kind": kind},
                                  token=self.tok["admin"])
                self.assertEqual(r.status, 201, r)
                self.assertEqual((r.json["capabilities"], r.json["crew"],
                                  r.json["home_sector"]), ([], [], None))

        head = self.srv.head_seq()
        bad = [
            ("duplicate callsign", dict(body), 409),
            ("lower-case callsign", {"callsign": "cas-p-99", "kind": "car_patrol"}, 422),
            ("one-letter callsign", {"callsign": "P", "kind": "car_patrol"}, 422),
            ("callsign with a space", {"callsign": "CAS P 99", "kind": "car_patrol"}, 422),
            ("32-character callsign", {"callsign": "C" * 32, "kind": "car_patrol"}, 422),
            ("Arabic callsign", {"callsign": "دورية-1", "kind": "car_patrol"}, 422),
            ("unknown kind", {"callsign": "CAS-X-01", "kind": "tank"}, 422),
            ("no kind", {"callsign": "CAS-X-01"}, 422),
            ("capabilities not a list", {"callsign": "CAS-X-01", "kind": "k9",
                                         "capabilities": "k9"}, 422),
            ("17 capabilities", {"callsign": "CAS-X-01", "kind": "k9",
                                 "capabilities": ["c%d" % i for i in range(17)]}, 422),
            ("crew of numbers", {"callsign": "CAS-X-01", "kind": "k9", "crew": [1, 2]}, 422),
            ("unknown field", {"callsign": "CAS-X-01", "kind": "k9", "status": "on_scene"}, 422),
        ]
        for name, b, status in bad:
            with self.subTest(name):
                r = self.srv.post(UNITS, b, token=sup)
                self.assertProblem(r, status, "conflict" if status == 409 else "validation", name)
                self.assertEqual(self.srv.head_seq(), head, name + " appended events")
        self.assertProblem(self.srv.post(UNITS, {"callsign": "CAS-X-02", "kind": "k9"},
                                         token=self.tok["dispatcher"]), 403, "forbidden")
        callsigns = [u["callsign"] for u in self.units()]
        self.assertEqual(callsigns, sorted(callsigns), "listed by callsign")
        self.assertEqual(len(callsigns), len(set(callsigns)))
        self.assertNotIn("CAS-X-01", callsigns)

        # status_since moves on a change, not on a repeat.
        since = u["status_since"]
        time.sleep(0.01)
        r = self.set_status("CAS-K9-77", "available")
        self.assertEqual(r.json["status_since"], since, "a repeat is not a change")
        for status in ("at_station", "out_of_service", "available"):
            time.sleep(0.01)
            r = self.set_status("CAS-K9-77", status, role="dispatcher")
            self.assertEqual(r.json["status"], status)
            self.assertGreater(parse_ts(r.json["status_since"]), parse_ts(since), status)
            since = r.json["status_since"]
            self.assertEqual(self.unit("CAS-K9-77")["status_since"], since)

    # ------------------------------------------------------------- incident types

    def test_incident_types(self):
        r = self.srv.get(TYPES, token=self.tok["patrol"])
        self.assertEqual(r.status, 200, r)
        items = r.json["items"]
        codes = [t["code"] for t in items]
        self.assertGreaterEqual(len(items), 20)
        self.assertEqual(len(codes), len(set(codes)))
        for t in items:
            self.assertTrue(t["name_fr"].strip(), t)
            self.assertRegex(t["name_ar"], ARABIC, t)
            self.assertIn(t["priority"], (1, 2, 3, 4), t)
        by = {t["code"]: t for t in items}
        self.assertEqual(by["ASSAULT_WEAPON"]["name_fr"], "Agression armée")
        self.assertEqual(by["STADIUM_CROWD"]["name_ar"], "حادث حشود أو ملعب")

        new = {"code": "DRONE", "name_fr": "Drone non autorisé",
               "name_ar": "طائرة مسيرة غير مرخصة", "priority": 2}
        self.assertProblem(self.srv.post(TYPES, new, token=self.tok["supervisor"]), 403,
                           "forbidden")
        r = self.srv.post(TYPES, new, token=self.tok["admin"])
        self.assertEqual(r.status, 201, r)
        head = self.srv.head_seq()
        for name, b, status in [
                ("again", new, 409),
                ("priority 5", dict(new, code="DRONE2", priority=5), 422),
                ("priority 0", dict(new, code="DRONE2", priority=0), 422),
                ("lower-case code", dict(new, code="drone2"), 422),
                ("no Arabic name", {k: v for k, v in new.items() if k != "name_ar"}, 422)]:
            with self.subTest(name):
                self.assertEqual(self.srv.post(TYPES, b, token=self.tok["admin"]).status, status)
                self.assertEqual(self.srv.head_seq(), head)
        listed = {t["code"]: t for t in
                  self.srv.get(TYPES, token=self.tok["dispatcher"]).json["items"]}
        self.assertEqual({k: listed["DRONE"][k] for k in new}, new)
        inc = self.open_incident("DRONE", location=dict(TWIN_CENTER))
        self.assertEqual((inc["type"], inc["priority"], inc["type_fr"], inc["type_ar"]),
                         ("DRONE", 2, "Drone non autorisé", "طائرة مسيرة غير مرخصة"))
        self.assertEqual(self.open_incident("DRONE", priority=1)["priority"], 1)

    # ------------------------------------------------------------- stream

    def test_stream_sees_dispatch(self):
        unit = self.add_unit()
        with self.srv.stream(self.tok["dispatcher"]) as dis, \
                self.srv.stream(self.tok["patrol"]) as pat:
            for ws in (dis, pat):
                self.assertEqual(ws.recv_json()["type"], "stream.hello")
            inc = self.open_incident("SUSPICIOUS_PACKAGE", location=dict(TWIN_CENTER))
            number = inc["number"]
            self.assign(number, unit)
            head = self.srv.head_seq()
            hist = self.history(number)
            want = [(e["seq"], e["type"]) for e in hist]
            self.assertEqual([t for _, t in want],
                             ["cad.incident.opened", "cad.unit.assigned", "cad.incident.status"])
            for name, ws in (("dispatcher", dis), ("patrol", pat)):
                with self.subTest(role=name):
                    got = collect(ws, head)
                    self.assertEqual([(m["seq"], m["type"]) for m in got], want)
                    self.assertEqual(got[0]["data"]["number"], number)
                    self.assertEqual(got[0]["data"]["priority"], 1)
                    self.assertEqual((got[1]["data"]["incident"], got[1]["data"]["unit"]),
                                     (number, unit))
                    self.assertEqual(got[1]["actor"], "dispatcher")
            # An analyst's stream carries no dispatch.
            with self.srv.stream(self.tok["analyst"]) as ana:
                self.assertEqual(ana.recv_json()["type"], "stream.hello")
                self.patrol_on(unit)
                collect(pat, self.srv.head_seq())
                self.set_status(unit, "en_route")
                self.assertIsNone(ana.expect_silence(0.3))
            got = collect(pat, self.srv.head_seq())
            self.assertEqual([m["type"] for m in got], ["cad.unit.status", "cad.incident.status"])

    # ------------------------------------------------------------- idempotency

    def test_idempotent_open_and_assign(self):
        body = {"type": "VEHICLE_THEFT", "location": {"address": "Parking Maârif"},
                "caller": {"name": "Karim", "phone": "0661234567"}}
        key = {"Idempotency-Key": "open-7f3a-0001"}
        r1 = self.srv.post(INCIDENTS, body, token=self.tok["dispatcher"], headers=key)
        self.assertEqual(r1.status, 201, r1)
        self.assertNotIn("idempotent-replayed", r1.headers)
        head = self.srv.head_seq()
        r2 = self.srv.post(INCIDENTS, body, token=self.tok["dispatcher"], headers=key)
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.headers.get("idempotent-replayed"), "true")
        self.assertEqual(r2.json["number"], r1.json["number"])
        self.assertEqual(r2.json, r1.json)
        self.assertEqual(self.srv.head_seq(), head, "a replay appends nothing")
        everything = self.srv.get(INCIDENTS + "?status=all&limit=1000",
                                  token=self.tok["dispatcher"]).json["items"]
        self.assertEqual(len([i for i in everything if i["caller"]["name"] == "Karim"]), 1)
        # The key is bound to the request.
        r3 = self.srv.post(INCIDENTS, dict(body, priority=1), token=self.tok["dispatcher"],
                           headers=key)
        self.assertProblem(r3, 422, "idempotency-key-reused")
        nxt = self.open_incident()["number"]
        self.assertEqual(serial(nxt)[2], serial(r1.json["number"])[2] + 1)

        # An assignment sent twice (a retry after a lost answer) is not a conflict.
        unit = self.add_unit()
        number = r1.json["number"]
        k = {"Idempotency-Key": "assign-7f3a-0001"}
        a1 = self.srv.post(inc_path(number, "assign"), {"unit": unit},
                           token=self.tok["dispatcher"], headers=k)
        self.assertEqual(a1.status, 200, a1)
        head = self.srv.head_seq()
        a2 = self.srv.post(inc_path(number, "assign"), {"unit": unit},
                           token=self.tok["dispatcher"], headers=k)
        self.assertEqual((a2.status, a2.headers.get("idempotent-replayed")), (200, "true"), a2)
        self.assertEqual(a2.json, a1.json)
        self.assertEqual(self.srv.head_seq(), head)
        self.assertEqual(len(self.incident(number)["units"]), 1)
        # Without the key, the same request is a conflict.
        self.assertProblem(self.srv.post(inc_path(number, "assign"), {"unit": unit},
                                         token=self.tok["dispatcher"]), 409, "conflict")

    # ------------------------------------------------------------- the CLI

    def test_cli_same_rules_and_numbers(self):
        """`amane` on the database of the running server: the same rules, one
        number sequence, and the server streams what the CLI did."""
        srv = self.srv
        before = self.open_incident()["number"]
        unit = self.add_unit()
        with srv.stream(self.tok["dispatcher"]) as ws:
            self.assertEqual(ws.recv_json()["type"], "stream.hello")
            r = srv.cli("incident", "open", "--type", "BURGLARY", "--address",
                        "Rue Ibnou Mounir, Maârif", "--caller", "Nadia · نادية")
            self.assertEqual(r.returncode, 0, r.stderr)
            number = r.stdout.split()[0]
            self.assertEqual(serial(number), serial(before)[:2] + (serial(before)[2] + 1,))
            m = ws.recv_json(timeout=3.0)
            self.assertEqual((m["type"], m["data"]["number"]), ("cad.incident.opened", number))
            self.assertTrue(m["actor"].startswith("cli:"), m)
        inc = self.incident(number)
        self.assertEqual((inc["priority"], inc["caller"]["name"]), (2, "Nadia · نادية"))
        self.assertEqual(serial(self.open_incident()["number"])[2], serial(number)[2] + 1)
        # A unit cannot go en route from a shell either.
        head = srv.head_seq()
        r = srv.cli("unit", "status", unit, "en_route")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertEqual(self.unit(unit)["status"], "available")
        self.assertEqual(srv.head_seq(), head)
        r = srv.cli("unit", "status", unit, "out_of_service", "--reason", "panne moteur")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.unit(unit)["status"], "out_of_service")
        self.assertProblem(self.assign(number, unit, expect=None), 409, "conflict")

    # ------------------------------------------------------------- links, lists

    def test_link_related_incidents(self):
        a, b, c = (self.open_incident("PUBLIC_ORDER")["number"] for _ in range(3))
        before = self.srv.head_seq()
        inc = self.op(a, "link", {"other": b}).json
        self.assertEqual(inc["links"], [b])
        self.op(c, "link", {"other": a})
        self.assertEqual(self.incident(a)["links"], [b, c])
        self.assertEqual(self.incident(b)["links"], [a])
        self.assertEqual(self.incident(c)["links"], [a])
        for number, want in ((a, [(a, b), (c, a)]), (b, [(a, b)]), (c, [(c, a)])):
            ev = [e for e in self.history(number) if e["type"] == "cad.incident.linked"]
            self.assertEqual([(e["data"]["incident"], e["data"]["other"]) for e in ev], want,
                             number)
            self.assertTrue(all(e["seq"] > before for e in ev))
        # A closed incident can still be linked (a later call about the same thing).
        self.op(b, "close", {"disposition": "resolved"})
        self.op(b, "link", {"other": c})
        self.assertEqual(self.incident(c)["links"], [a, b])

    def test_list_order_and_filters(self):
        for p in (4, 1, 3, 1, 2):
            self.open_incident("OTHER", priority=p)
        disp = self.tok["dispatcher"]
        items = self.srv.get(INCIDENTS, token=disp).json["items"]
        self.assertTrue(all(i["status"] != "closed" for i in items))
        keys = [(i["priority"], i["id"]) for i in items]
        self.assertEqual(keys, sorted(keys), "open incidents: by priority, then oldest first")
        everything = self.srv.get(INCIDENTS + "?status=all&limit=1000", token=disp).json["items"]
        ids = [i["id"] for i in everything]
        self.assertEqual(ids, sorted(ids, reverse=True), "all: newest first")
        self.assertEqual(len(self.srv.get(INCIDENTS + "?status=all&limit=3",
                                          token=disp).json["items"]), 3)
        for q in ("status=bogus", "limit=0", "limit=1001", "limit=ten"):
            with self.subTest(q):
                self.assertProblem(self.srv.get(INCIDENTS + "?" + q, token=disp), 422,
                                   "validation")
        self.assertProblem(self.srv.get(inc_path("CAS-2026-999999"), token=disp), 404,
                           "not-found")
        self.assertProblem(self.srv.get(INCIDENTS, token=self.tok["analyst"]), 403, "forbidden")

    # A stadium incident can hold many units: closing or merging it must
    # release or move every one of them, not some.
    CROWD = 70

    def crowd(self):
        number = self.open_incident("STADIUM_CROWD", location=dict(CASA))["number"]
        units = [self.add_unit(kind="sports_security") for _ in range(self.CROWD)]
        for u in units:
            self.assign(number, u)
        self.assertEqual(len(self.active_units(self.incident(number))), self.CROWD)
        return number, units

    def test_close_releases_every_unit(self):
        number, units = self.crowd()
        self.op(number, "close", {"disposition": "resolved"})
        self.assertEqual(self.active_units(self.incident(number)), [])
        by = {u["callsign"]: u for u in self.units()}
        stuck = [u for u in units if (by[u]["status"], by[u]["incident"]) != ("available", None)]
        self.assertEqual(stuck, [], "units still busy on a closed incident")
        released = [e["data"]["unit"] for e in self.history(number)
                    if e["type"] == "cad.unit.status" and e["data"]["status"] == "available"]
        self.assertEqual(sorted(released), sorted(units))

    def test_merge_moves_every_unit(self):
        dup, units = self.crowd()
        orig = self.open_incident("STADIUM_CROWD", location=dict(CASA))["number"]
        self.op(dup, "merge", {"into": orig})
        self.assertEqual(self.active_units(self.incident(dup)), [])
        by = {u["callsign"]: u for u in self.units()}
        stray = [u for u in units if (by[u]["status"], by[u]["incident"]) != ("dispatched", orig)]
        self.assertEqual(stray, [], "units not moved to the original")
        self.assertEqual(sorted(self.active_units(self.incident(orig))), sorted(units))
        ev = [e for e in self.history(orig) if e["type"] == "cad.incident.merged"]
        self.assertEqual(sorted(ev[0]["data"]["units_moved"]), sorted(units))

    # ------------------------------------------------------------- placement (geo)

    def test_placement_outside_morocco_refused(self):
        last = self.open_incident()["number"]
        for name, loc in (("Paris", {"lat": 48.85, "lon": 2.35}),
                          ("Madrid", {"lat": 40.4168, "lon": -3.7038, "address": "Puerta del Sol"}),
                          ("Atlantic, off Casablanca", {"lat": 33.9, "lon": -9.5})):
            with self.subTest(name):
                before = self.snapshot([last])
                r = self.srv.post(INCIDENTS, {"type": "THEFT", "location": loc},
                                  token=self.tok["dispatcher"])
                self.assertProblem(r, 422, "validation", name)
                self.assertUnchanged(before, name)
        self.assertEqual(serial(self.open_incident()["number"])[2], serial(last)[2] + 1)

    def test_placement_casablanca(self):
        inc = self.open_incident(location=dict(TWIN_CENTER))
        place = inc["place"]
        self.assertIsNotNone(place["prefecture"], "the incident was not placed: %r" % place)
        self.assertEqual(place["prefecture"]["code"], "MA-CAS")
        self.assertTrue(place["prefecture"]["fr"] and ARABIC.search(place["prefecture"]["ar"]),
                        place)
        self.assertEqual(place["region"]["code"], "MA-06", "Casablanca-Settat")
        self.assertTrue(inc["number"].startswith("CAS-"), inc["number"])
        self.assertEqual(self.open_incident(location=dict(CASA))["place"]["sector"]["code"],
                         "CAS-S05")
        # Rabat has numbers of its own, from 1; Casablanca's go on.
        year = utc_year()
        rabat = [self.open_incident(location={"lat": 34.0209, "lon": -6.8416}) for _ in range(2)]
        self.assertEqual([(i["place"]["prefecture"] or {}).get("code") for i in rabat],
                         ["MA-RAB", "MA-RAB"])
        self.assertEqual([i["number"] for i in rabat],
                         ["RAB-%d-000001" % year, "RAB-%d-000002" % year])
        nxt = self.open_incident(location=dict(TWIN_CENTER))["number"]
        self.assertEqual(serial(nxt)[:2], ("CAS", year))


class CadNumberingRestartTest(CadBase):
    """Numbers survive a crash and restarts, and count per prefecture."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="cad-numbers")
        cls.use_tokens()

    def test_numbers_survive_a_crash_and_count_per_prefecture(self):
        srv = self.srv
        answered, stop = [], threading.Event()
        tok = self.tok["dispatcher"]

        def opener():
            while not stop.is_set():
                try:
                    r = srv.post(INCIDENTS, {"type": "THEFT", "location": {"address": "x"}},
                                 token=tok, timeout=5)
                except (OSError, http.client.HTTPException):
                    return
                if r.status == 201:
                    answered.append(r.json["number"])

        threads = [threading.Thread(target=opener) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(h.scaled(0.4))
        srv.kill()  # mid-flight: some opens are answered, some cut
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(answered), 2)
        srv.start()
        for number in answered:
            self.assertEqual(self.incident(number)["number"], number, "an answered open was lost")
        pref, year, top = max(serial(n) for n in answered)
        after = self.open_incident()["number"]
        self.assertEqual(serial(after)[:2], (pref, year))
        self.assertGreater(serial(after)[2], top)
        everything = srv.get(INCIDENTS + "?status=all&limit=1000", token=tok).json["items"]
        numbers = [i["number"] for i in everything]
        self.assertEqual(len(numbers), len(set(numbers)))
        self.assertEqual(sorted(serial(n)[2] for n in numbers),
                         list(range(1, len(numbers) + 1)), "no gap, no repeat")

        # Another default prefecture counts from 1; CAS goes on where it was.
        self.assertEqual(srv.stop(), 0)
        srv.args = ["--cad.default_prefecture=RAB"]
        srv.start()
        rab = [self.open_incident()["number"] for _ in range(2)]
        self.assertEqual(rab, ["RAB-%04d-000001" % year, "RAB-%04d-000002" % year])
        self.assertEqual(srv.stop(), 0)
        srv.args = []
        srv.start()
        self.assertEqual(serial(self.open_incident()["number"]),
                         (pref, year, serial(after)[2] + 1))


class CadTimerTest(CadBase):
    """--cad.ack_timeout=10: a dispatched unit that does not acknowledge
    raises one alert for the room; a unit en route raises none.

    The alert takes 10 to 15 s to come (timeout, then a sweep every 5 s), so
    the scenario starts when the module does (setUpModule) and is checked
    when this class runs, after the others: the streams hold what came."""

    scn = None
    setup_error = None
    _torn_down = False

    @classmethod
    def setUpClass(cls):
        if cls.setup_error is not None:
            raise cls.setup_error  # what went wrong in setUpModule
        if cls.scn is not None:
            return  # started by setUpModule
        super().setUpClass()
        cls.srv = cls.new_server(name="cad-timers", args=["--cad.ack_timeout=10"])
        cls.use_tokens()
        try:
            cls.scn = cls("test_unacknowledged_dispatch_alerts_once").start_scenario()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls._torn_down:
            return
        cls._torn_down = True
        for ws in (cls.scn or {}).get("streams", ()):
            ws.close()
        super().tearDownClass()

    def start_scenario(self):
        srv = self.srv
        quiet, acked = self.add_unit(), self.add_unit()
        streams = [srv.stream(self.tok[r]) for r in ("supervisor", "dispatcher", "patrol")]
        for ws in streams:
            self.assertEqual(ws.recv_json()["type"], "stream.hello")
        n1 = self.open_incident("ASSAULT")["number"]
        n2 = self.open_incident("THEFT")["number"]
        assigned = self.assign(n1, quiet)
        t0 = time.time()
        self.assign(n2, acked)
        self.set_status(acked, "en_route")
        return {"quiet": quiet, "acked": acked, "n1": n1, "n2": n2, "t0": t0,
                "h0": srv.head_seq(), "streams": streams,
                "assigned_ts": parse_ts(assigned.json["units"][0]["assigned"])}

    def test_minimum_timeouts(self):
        for arg in ("--cad.ack_timeout=9", "--cad.onscene_timeout=59"):
            with self.subTest(arg):
                r = subprocess.run([h.AMANED, "--server.port=%d" % h.free_port(),
                                    "--store.path=" + os.path.join(self.tmp, "minimum.db"), arg],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   env=h.child_env(), timeout=h.scaled(10))
                self.assertNotEqual(r.returncode, 0, "amaned started with " + arg)
                self.assertIn(arg[2:].split("=")[0].split(".")[1], r.stderr + r.stdout)

    def test_unacknowledged_dispatch_alerts_once(self):
        srv, x = self.srv, self.scn
        sup, dis, pat = x["streams"]
        alerts, seen = [], []
        deadline = x["t0"] + 20 * h.SCALE
        while not alerts:
            left = deadline - time.time()
            if left <= 0:
                self.fail("no cad.alert.* within 20 s; saw %r" % [m["type"] for m in seen])
            try:
                m = sup.recv_json(left / h.SCALE)
            except socket.timeout:
                continue
            seen.append(m)
            if m["type"].startswith("cad.alert."):
                alerts.append(m)
        a = alerts[0]
        self.assertEqual(a["type"], "cad.alert.unacknowledged")
        self.assertEqual((a["data"]["unit"], a["data"]["incident"], a["data"]["status"]),
                         (x["quiet"], x["n1"], "dispatched"))
        self.assertGreaterEqual(a["data"]["seconds"], 10)
        late = (parse_ts(a["ts"]) - x["assigned_ts"]).total_seconds()
        self.assertGreaterEqual(late, 10.0, "alert before the timeout")
        self.assertLessEqual(late, 16.0 * h.SCALE, "timeout 10 s, a sweep every 5 s")
        # Once: nothing more until the next sweep (every 5 s) is over.
        end = max(time.time() + 0.3, epoch(a["ts"]) + 5.5)
        more = []
        while True:
            left = end - time.time()
            m = sup.expect_silence(max(0.05, left) / h.SCALE)
            if m is not None:
                more.append(m)
            elif left <= 0:
                break
        self.assertEqual([m for m in more if m["type"].startswith("cad.alert.")], [],
                         "the alert came again, or for the unit en route")
        head = srv.head_seq()
        self.assertEqual(a["seq"], head, "nothing else happened meanwhile")
        # The dispatcher sees it; a patrol sees the dispatch, not the alert.
        d = [m for m in collect(dis, head) if m["type"].startswith("cad.alert.")]
        self.assertEqual([(m["seq"], m["data"]["unit"]) for m in d], [(a["seq"], x["quiet"])])
        self.assertIsNone(dis.expect_silence(0.2))
        p = collect(pat, x["h0"])
        self.assertIn("cad.unit.assigned", [m["type"] for m in p])
        self.assertIsNone(pat.expect_silence(0.3), "a patrol got the alert")
        hist = self.history(x["n1"])
        self.assertEqual([e["seq"] for e in hist if e["type"] == "cad.alert.unacknowledged"],
                         [a["seq"]])
        self.assertEqual([e for e in self.history(x["n2"]) if e["type"].startswith("cad.alert.")],
                         [])


def setUpModule():
    # Starts the timers' scenario first: it waits while the other classes run.
    # A failure here is reported by CadTimerTest alone.
    try:
        CadTimerTest.setUpClass()
    except Exception as e:  # noqa: BLE001 - re-raised in CadTimerTest.setUpClass
        CadTimerTest.setup_error = e


def tearDownModule():
    CadTimerTest.tearDownClass()


if __name__ == "__main__":
    h.main()
