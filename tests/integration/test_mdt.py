# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_mdt.py - what the patrol terminal asks of a real amaned: signing on
to a unit, a patrol acting only for its own unit and its unit's incident,
the room's messages and pings and their acknowledgement (once, whatever the
number of re-sends), the terminal's state in one read (assignment, route,
messages), commands re-sent with the same Idempotency-Key applied once, and
bad requests refused with nothing changed."""

import harness as h

UNITS = "/api/v1/units"
INCIDENTS = "/api/v1/incidents"
MDT = "/api/v1/mdt"
AT = {"lat": 33.57267, "lon": -7.59409}
INCIDENT_AT = {"lat": 33.589, "lon": -7.604, "address": "Bd Mohammed V"}


class MdtTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server()
        cls.n = 0
        cls.users = 0

    def patrol(self, name):
        """A new patrol officer, signed on to nothing."""
        type(self).users += 1
        name = "%s.%d" % (name, self.users)
        r = self.srv.post("/api/v1/users", {"username": name, "display_name": name,
                                            "role": "patrol", "password": "patrol-pw-2025"},
                          token=self.tok("admin"))
        self.assertEqual(r.status, 201, r)
        return name

    def tok(self, who):
        if who.startswith(("amina.", "youssef.")):
            return self.srv.token(who, "patrol-pw-2025")
        return self.srv.token(who)

    def new_unit(self):
        type(self).n += 1
        cs = "MDT-%02d" % type(self).n
        r = self.srv.post(UNITS, {"callsign": cs, "kind": "car_patrol"}, token=self.tok("supervisor"))
        self.assertEqual(r.status, 201, r)
        r = self.srv.post("%s/%s/position" % (UNITS, cs), AT, token=self.tok("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return cs

    def sign_on(self, who, unit, expect=200):
        r = self.srv.post("%s/%s/sign-on" % (UNITS, unit), {}, token=self.tok(who))
        self.assertEqual(r.status, expect, r)
        return r

    def dispatch(self, unit, priority=2):
        r = self.srv.post(INCIDENTS, {"type": "ASSAULT", "priority": priority,
                                      "location": INCIDENT_AT}, token=self.tok("dispatcher"))
        self.assertEqual(r.status, 201, r)
        number = r.json["number"]
        r = self.srv.post("%s/%s/assign" % (INCIDENTS, number), {"unit": unit},
                          token=self.tok("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return number

    def status(self, who, unit, status, **kw):
        return self.srv.post("%s/%s/status" % (UNITS, unit), {"status": status}, token=self.tok(who),
                             **kw)

    def unit_status(self, unit):
        items = self.srv.get(UNITS, token=self.tok("dispatcher")).json["items"]
        return [u for u in items if u["callsign"] == unit][0]["status"]

    # ------------------------------------------------------------- signing on

    def test_sign_on_binds_a_patrol_to_its_unit(self):
        amina = self.patrol("amina")
        youssef = self.patrol("youssef")
        a, b = self.new_unit(), self.new_unit()
        me = amina
        self.assertEqual(self.srv.get(MDT, token=self.tok(me)).json,
                         {"user": me, "unit": None, "incident": None, "route": None,
                          "messages": []})
        # Not signed on: a patrol changes no unit.
        head = self.srv.head_seq()
        self.assertProblem(self.status(me, a, "at_station"), 403, "forbidden")
        self.assertEqual(self.srv.head_seq(), head)
        self.sign_on(me, a)
        self.assertEqual(self.status(me, a, "at_station").status, 200)
        self.assertProblem(self.status(me, b, "at_station"), 403, "forbidden")
        self.assertProblem(self.srv.post("%s/%s/position" % (UNITS, b), AT, token=self.tok(me)),
                           403, "forbidden")
        self.assertEqual(self.srv.post("%s/%s/position" % (UNITS, a), AT, token=self.tok(me)).status,
                         200)
        self.assertEqual(self.unit_status(b), "available")
        # Moving to the other unit: the first is no longer hers.
        r = self.sign_on(me, b)
        self.assertEqual(r.json, {"user": me, "unit": b})
        ev = self.srv.get("/api/v1/events?since=%d" % (self.srv.head_seq() - 1),
                          token=self.tok("supervisor")).json["items"][-1]
        self.assertEqual((ev["type"], ev["data"]), ("cad.unit.signed_on",
                                                    {"unit": b, "user": me, "previous": a}))
        self.assertProblem(self.status(me, a, "available"), 403, "forbidden")
        # Signing on again changes nothing; signing off another unit is refused.
        head = self.srv.head_seq()
        self.sign_on(me, b)
        self.assertEqual(self.srv.head_seq(), head, "signing on twice writes once")
        self.assertProblem(self.srv.post("%s/%s/sign-off" % (UNITS, a), {}, token=self.tok(me)),
                           409, "conflict")
        r = self.srv.post("%s/%s/sign-off" % (UNITS, b), {}, token=self.tok(me))
        self.assertEqual((r.status, r.json), (200, {"user": me, "unit": None}))
        self.assertIsNone(self.srv.get(MDT, token=self.tok(me)).json["unit"])
        self.assertProblem(self.status(me, b, "available"), 403, "forbidden")
        # Two officers crew one car.
        self.sign_on(amina, a)
        self.sign_on(youssef, a)
        self.assertEqual(self.status(youssef, a, "available").status, 200)
        # The room's roles are not bound to a unit.
        self.assertEqual(self.status("dispatcher", b, "at_station").status, 200)

    def test_notes_only_on_the_units_incident(self):
        youssef = self.patrol("youssef")
        mine, other = self.new_unit(), self.new_unit()
        self.sign_on(youssef, mine)
        n_mine, n_other = self.dispatch(mine), self.dispatch(other)
        note = {"text": "Sur place, deux individus interpellés"}
        r = self.srv.post("%s/%s/notes" % (INCIDENTS, n_mine), note, token=self.tok(youssef))
        self.assertEqual(r.status, 200, r)
        head = self.srv.head_seq()
        r = self.srv.post("%s/%s/notes" % (INCIDENTS, n_other), note,
                          token=self.tok(youssef))
        self.assertProblem(r, 403, "forbidden")
        self.assertEqual(self.srv.head_seq(), head)
        # Released from the incident: no more notes on it from the car.
        r = self.srv.post("%s/%s/release" % (INCIDENTS, n_mine), {"unit": mine},
                          token=self.tok("dispatcher"))
        self.assertEqual(r.status, 200, r)
        r = self.srv.post("%s/%s/notes" % (INCIDENTS, n_mine), note, token=self.tok(youssef))
        self.assertProblem(r, 403, "forbidden")

    # ------------------------------------------------------------- the terminal's state

    def test_state_has_assignment_route_and_messages(self):
        amina = self.patrol("amina")
        youssef = self.patrol("youssef")
        unit = self.new_unit()
        self.sign_on(amina, unit)
        number = self.dispatch(unit, priority=1)
        st = self.srv.get(MDT, token=self.tok(amina)).json
        self.assertEqual(st["unit"]["callsign"], unit)
        self.assertEqual(st["unit"]["status"], "dispatched")
        self.assertEqual(st["incident"]["number"], number)
        self.assertEqual(st["incident"]["location"]["address"], INCIDENT_AT["address"])
        route = st["route"]
        self.assertEqual((route["unit"], route["incident"], route["emergency"]), (unit, number, True),
                         "priority 1: the route at emergency speeds")
        self.assertGreater(route["length_m"], route["straight_m"] * 0.99)
        self.assertGreater(route["eta_s"], 0)
        self.assertGreater(len(route["points"]), 2)
        # The same route as the room's route endpoint gives.
        r = self.srv.get("%s/%s/route?unit=%s&emergency=1" % (INCIDENTS, number, unit),
                         token=self.tok("dispatcher"))
        self.assertEqual((r.json["eta_s"], r.json["length_m"]), (route["eta_s"], route["length_m"]))
        # A unit without a position: the state says why there is no route.
        bare = "MDT-NP%02d" % self.n
        self.assertEqual(self.srv.post(UNITS, {"callsign": bare, "kind": "car_patrol"},
                                       token=self.tok("supervisor")).status, 201)
        self.sign_on(youssef, bare)
        self.dispatch(bare)
        st = self.srv.get(MDT, token=self.tok(youssef)).json
        self.assertIsNone(st["route"])
        self.assertIn("position", st["route_problem"])

    # ------------------------------------------------------------- messages

    def test_messages_and_pings(self):
        amina = self.patrol("amina")
        youssef = self.patrol("youssef")
        unit = self.new_unit()
        self.sign_on(youssef, unit)
        with self.srv.stream(self.tok(youssef)) as ws:
            ws.recv_json()  # hello
            r = self.srv.post("%s/%s/messages" % (UNITS, unit),
                              {"text": "Contactez la salle · اتصلوا بالقاعة"},
                              token=self.tok("supervisor"))
            self.assertEqual(r.status, 201, r)
            msg = r.json
            self.assertEqual((msg["unit"], msg["kind"], msg["from"], msg["acked"]),
                             (unit, "message", "supervisor", None))
            ping = self.srv.post("%s/%s/messages" % (UNITS, unit), {"kind": "ping"},
                                 token=self.tok("dispatcher")).json
            self.assertEqual((ping["kind"], ping["text"]), ("ping", ""))
            seen = []
            while not any(e.get("data", {}).get("id") == ping["id"] for e in seen):
                e = ws.recv_json(timeout=h.scaled(5))
                if e.get("type") == "cad.unit.message":
                    seen.append(e)
            self.assertEqual([(e["data"]["id"], e["data"]["unit"]) for e in seen],
                             [(msg["id"], unit), (ping["id"], unit)], "a patrol sees them live")
        st = self.srv.get(MDT, token=self.tok(youssef)).json
        self.assertEqual([m["id"] for m in st["messages"]], [ping["id"], msg["id"]], "newest first")
        # The acknowledgement: re-sent with one key (a lost answer), and then
        # again with another (a second tap): acknowledged once, by her.
        path = "/api/v1/messages/%d/ack" % ping["id"]
        key = {"Idempotency-Key": "ack-%d" % ping["id"]}
        head = self.srv.head_seq()
        first = self.srv.post(path, {}, token=self.tok(youssef), headers=key)
        self.assertEqual(first.status, 200, first)
        again = self.srv.post(path, {}, token=self.tok(youssef), headers=key)
        self.assertEqual(again.json, first.json)
        third = self.srv.post(path, {}, token=self.tok(youssef))
        self.assertEqual(third.json["acked"], first.json["acked"])
        self.assertEqual(self.srv.head_seq(), head + 1, "one cad.unit.message.acked")
        self.assertEqual(first.json["acked_by"], youssef)
        # Another unit's crew cannot acknowledge it; the room can read them all.
        other = self.new_unit()
        self.sign_on(amina, other)
        self.assertProblem(self.srv.post("/api/v1/messages/%d/ack" % msg["id"], {},
                                         token=self.tok(amina)), 403, "forbidden")
        items = self.srv.get("%s/%s/messages?limit=1" % (UNITS, unit),
                             token=self.tok("dispatcher")).json["items"]
        self.assertEqual([m["id"] for m in items], [ping["id"]])

    def test_status_resent_with_its_key_is_applied_once(self):
        amina = self.patrol("amina")
        unit = self.new_unit()
        self.sign_on(amina, unit)
        self.dispatch(unit)
        key = {"Idempotency-Key": "status-%s-en-route" % unit}
        head = self.srv.head_seq()
        answers = [self.status(amina, unit, "en_route", headers=key) for _ in range(4)]
        self.assertEqual({a.status for a in answers}, {200})
        self.assertEqual(len({a.body for a in answers}), 1, "replays answer as the first did")
        self.assertEqual(self.srv.head_seq(), head + 2, "one unit status and one incident status")

    # ------------------------------------------------------------- bad input

    def test_bad_requests_change_nothing(self):
        amina = self.patrol("amina")
        unit = self.new_unit()
        self.sign_on(amina, unit)
        long_text = "x" * 1001
        cases = [
            ("sign on to no unit", "POST", "%s/NOPE-99/sign-on" % UNITS, {}, amina, 404,
             "not-found"),
            ("sign on with a body", "POST", "%s/%s/sign-on" % (UNITS, unit), {"unit": unit},
             amina, 422, "validation"),
            ("message without text", "POST", "%s/%s/messages" % (UNITS, unit), {},
             "dispatcher", 422, "validation"),
            ("message too long", "POST", "%s/%s/messages" % (UNITS, unit), {"text": long_text},
             "dispatcher", 422, "validation"),
            ("message of another kind", "POST", "%s/%s/messages" % (UNITS, unit),
             {"text": "x", "kind": "order"}, "dispatcher", 422, "validation"),
            ("message with control characters", "POST", "%s/%s/messages" % (UNITS, unit),
             {"text": "a\u0001b"}, "dispatcher", 422, "validation"),
            ("message to no unit", "POST", "%s/NOPE-99/messages" % UNITS, {"text": "x"},
             "dispatcher", 404, "not-found"),
            ("a patrol sends a message", "POST", "%s/%s/messages" % (UNITS, unit), {"text": "x"},
             amina, 403, "forbidden"),
            ("ack of no message", "POST", "/api/v1/messages/999999/ack", {}, amina, 404,
             "not-found"),
            ("ack of a bad id", "POST", "/api/v1/messages/abc/ack", {}, amina, 404,
             "not-found"),
            ("messages of no unit", "GET", "%s/NOPE-99/messages" % UNITS, None, "dispatcher", 404,
             "not-found"),
            ("messages, bad limit", "GET", "%s/%s/messages?limit=0" % (UNITS, unit), None,
             "dispatcher", 422, "validation"),
            ("the terminal for an analyst", "GET", MDT, None, "analyst", 403, "forbidden"),
        ]
        for name, method, path, body, who, status, slug in cases:
            with self.subTest(name):
                token = self.tok(who)
                head = self.srv.head_seq()
                r = self.srv.request(method, path, json_body=body, token=token)
                self.assertProblem(r, status, slug, name)
                self.assertEqual(self.srv.head_seq(), head, name)
        self.assertEqual(self.srv.get(MDT, token=self.tok(amina)).json["messages"], [])


if __name__ == "__main__":
    h.main()
