# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_stream.py - the WebSocket /api/v1/stream of a real amaned: the hello
frame, committed events with the sequence numbers the API answered, the
per-role filter, replay with since= (from memory and from the database
beyond the ring), refused tokens, and events the CLI writes while the server
runs."""

import re
import socket
import threading
import time

import harness as h

LOGBOOK = "/api/v1/logbook"
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def collect(ws, last_seq, timeout=5.0):
    """Messages until one with seq >= last_seq; fails on a timeout."""
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


class StreamTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="stream")
        cls.tok = {role: cls.srv.token(role) for role in
                   ("admin", "supervisor", "dispatcher", "patrol")}

    def open(self, role, since=None, header=False):
        if header:
            return self.srv.stream(since=since,
                                   headers={"Authorization": "Bearer " + self.tok[role]})
        return self.srv.stream(self.tok[role], since=since)

    def post_entry(self, text, role="supervisor", category="info"):
        r = self.srv.post(LOGBOOK, {"text": text, "category": category}, token=self.tok[role])
        self.assertEqual(r.status, 201, r)
        return r.json

    def hello(self, ws):
        m = ws.recv_json()
        self.assertEqual(m["type"], "stream.hello", m)
        return m

    # ------------------------------------------------------------- tests

    def test_hello_frame(self):
        srv = self.srv
        head = srv.head_seq()
        for header in (False, True):
            with self.subTest(token_in_header=header):
                with self.open("dispatcher", header=header) as ws:
                    m = self.hello(ws)
                    self.assertEqual(m["seq"], head)
                    self.assertEqual(m["head"], head)
                    self.assertEqual(m["user"], "dispatcher")
                    self.assertEqual(m["role"], "dispatcher")
                    self.assertIsNone(ws.expect_silence(0.3), "nothing happened since")
        # A since beyond the head starts at the head.
        with self.open("admin", since=head + 1000) as ws:
            m = self.hello(ws)
            self.assertEqual((m["seq"], m["head"]), (head, head))
        # since=0: the whole log, from event 1.
        with self.open("admin", since=0) as ws:
            m = self.hello(ws)
            self.assertEqual((m["seq"], m["head"]), (0, head))
            seen = collect(ws, head)
            self.assertEqual([e["seq"] for e in seen], list(range(1, head + 1)))
            self.assertEqual(seen[0]["type"], "user.created")

    def test_event_after_logbook_post(self):
        with self.open("dispatcher") as ws:
            self.hello(ws)
            text = "Patrouille 12 sur place · الدورية ١٢ في عين المكان"
            answer = self.post_entry(text, role="supervisor", category="operation")
            m = ws.recv_json()
            self.assertEqual(m["seq"], answer["seq"])
            self.assertEqual(m["type"], "logbook.entry")
            self.assertEqual(m["actor"], "supervisor")
            self.assertEqual(m["data"], {"category": "operation", "text": text})
            self.assertRegex(m["ts"], TS)
            self.assertEqual(set(m), {"seq", "ts", "type", "actor", "data"})
            # The logbook is derived from the event log (DESIGN.md): same time in both.
            self.assertEqual(m["ts"], answer["ts"], "the entry and its event disagree on the time")

    def test_role_filter(self):
        srv = self.srv
        with self.open("admin") as adm, self.open("supervisor") as sup, \
                self.open("dispatcher") as dis, self.open("patrol") as pat:
            for ws in (adm, sup, dis, pat):
                self.hello(ws)
            r = srv.post("/api/v1/users", {"username": "stream.newbie", "display_name": "Newbie",
                                           "role": "patrol", "password": "newbie-password"},
                         token=self.tok["admin"])
            self.assertEqual(r.status, 201, r)
            failed = srv.post("/api/v1/auth/login", {"username": "stream.newbie",
                                                     "password": "wrong-password"})
            self.assertEqual(failed.status, 401)
            entry = self.post_entry("Fin d'intervention", role="dispatcher")
            head = srv.head_seq()
            self.assertEqual(entry["seq"], head)

            got = {name: collect(ws, head) for name, ws in
                   (("admin", adm), ("supervisor", sup), ("dispatcher", dis))}
            types = {name: [m["type"] for m in msgs] for name, msgs in got.items()}
            self.assertEqual(types["admin"], ["user.created", "auth.login_failed",
                                              "logbook.entry"])
            self.assertEqual([m["seq"] for m in got["admin"]], [head - 2, head - 1, head])
            self.assertEqual(got["admin"][0]["data"]["username"], "stream.newbie")
            self.assertNotIn("password", str(got["admin"][0]["data"]))
            self.assertEqual(types["supervisor"], ["auth.login_failed", "logbook.entry"])
            self.assertEqual(types["dispatcher"], ["logbook.entry"])
            self.assertEqual(got["dispatcher"][0]["seq"], entry["seq"])
            # A patrol sees none of these.
            self.assertIsNone(pat.expect_silence(0.5))
            for ws in (adm, sup, dis):
                self.assertIsNone(ws.expect_silence(0.2))

    def test_reconnect_with_since_gets_exactly_the_missed(self):
        srv = self.srv
        with self.open("admin") as ws:
            self.hello(ws)
            last = self.post_entry("avant la coupure")["seq"]
            self.assertEqual(collect(ws, last)[-1]["seq"], last)
        # Disconnected: N events happen, of several kinds.
        missed = [self.post_entry("pendant la coupure %d" % i, role="dispatcher")["seq"]
                  for i in range(5)]
        r = srv.post("/api/v1/users", {"username": "stream.missed", "display_name": "Missed",
                                       "role": "trainee", "password": "missed-password"},
                     token=self.tok["admin"])
        self.assertEqual(r.status, 201, r)
        missed.append(self.post_entry("pendant la coupure 5")["seq"])
        head = srv.head_seq()
        self.assertEqual(head, missed[-1])

        with self.open("admin", since=last) as ws:
            m = self.hello(ws)
            self.assertEqual((m["seq"], m["head"]), (last, head))
            got = collect(ws, head)
            self.assertEqual([e["seq"] for e in got], list(range(last + 1, head + 1)),
                             "an administrator sees every event, in order, without gaps")
            self.assertIsNone(ws.expect_silence(0.3), "nothing more than what was missed")
        with self.open("dispatcher", since=last, header=True) as ws:
            self.hello(ws)
            got = collect(ws, head)
            self.assertEqual([e["seq"] for e in got], missed[:5] + [missed[-1]])
            self.assertTrue(all(e["type"] == "logbook.entry" for e in got))
            self.assertEqual([e["data"]["text"] for e in got],
                             ["pendant la coupure %d" % i for i in range(6)])
            # And live events follow the replay.
            live = self.post_entry("après la reconnexion")
            self.assertEqual(ws.recv_json()["seq"], live["seq"])

    def test_concurrent_writers_arrive_in_order(self):
        srv = self.srv
        with self.open("admin") as ws:
            start = self.hello(ws)["seq"]
            errors = []

            def writer(role, n):
                for i in range(n):
                    r = srv.post(LOGBOOK, {"text": "%s %d" % (role, i)}, token=self.tok[role])
                    if r.status != 201:
                        errors.append(r)

            threads = [threading.Thread(target=writer, args=(role, 15))
                       for role in ("admin", "supervisor", "dispatcher")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(errors, [])
            head = srv.head_seq()
            self.assertEqual(head, start + 45)
            got = collect(ws, head)
            self.assertEqual([e["seq"] for e in got], list(range(start + 1, head + 1)))
            for role in ("admin", "supervisor", "dispatcher"):
                texts = [e["data"]["text"] for e in got if e["actor"] == role]
                self.assertEqual(texts, ["%s %d" % (role, i) for i in range(15)])

    def test_refused_streams_close(self):
        srv = self.srv
        logged_out = srv.login("dispatcher")
        self.assertEqual(srv.post("/api/v1/auth/logout", token=logged_out).status, 204)
        cases = [
            ("garbage token in the query", dict(token="am_garbage"), "unauthorized"),
            ("no token", dict(), "unauthorized"),
            ("garbage bearer header", dict(headers={"Authorization": "Bearer am_nope"}),
             "unauthorized"),
            ("token of a closed session", dict(token=logged_out), "unauthorized"),
            ("since=abc", dict(token=self.tok["admin"], since="abc"), "bad since"),
            ("since=-1", dict(token=self.tok["admin"], since="-1"), "bad since"),
        ]
        for name, kw, reason in cases:
            with self.subTest(name):
                with srv.stream(**kw) as ws:
                    code, why, seen = ws.wait_closed()
                self.assertEqual(seen, [], "no hello, no event")
                self.assertEqual(code, 1008)
                self.assertEqual(why, reason)
        self.assertEqual(srv.get("/healthz").status, 200)

    def test_events_from_the_cli_appear(self):
        srv = self.srv
        with self.open("admin") as adm, self.open("dispatcher") as dis:
            self.hello(adm)
            self.hello(dis)
            srv.add_user("cli.agent", "patrol", "cli-password-1")
            t0 = time.monotonic()
            m = adm.recv_json(timeout=2.0)
            self.assertLess(time.monotonic() - t0, h.scaled(2.0))
            self.assertEqual(m["type"], "user.created")
            self.assertEqual(m["data"]["username"], "cli.agent")
            self.assertTrue(m["actor"].startswith("cli:"), m)
            self.assertEqual(srv.head_seq(), m["seq"])
            # The server goes on from there: its next event follows the CLI's.
            entry = self.post_entry("après l'ajout en ligne de commande")
            self.assertEqual(entry["seq"], m["seq"] + 1)
            self.assertEqual(adm.recv_json()["seq"], entry["seq"])
            self.assertEqual(dis.recv_json()["seq"], entry["seq"], "user.* is not for dispatchers")
        self.assertEqual(srv.login("cli.agent", "cli-password-1")[:3], "am_")


class RingTest(h.ServerTestCase):
    """since= older than the in-memory ring replays from the database."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.srv = cls.new_server(name="ring", args=["--stream.ring=16"])

    def test_replay_beyond_the_ring(self):
        srv = self.srv
        tok = srv.token("dispatcher")
        adm = srv.token("admin")
        start = srv.head_seq()
        with srv.stream(adm) as live:
            self.assertEqual(live.recv_json()["seq"], start)
            seqs = []
            for i in range(100):
                r = srv.post(LOGBOOK, {"text": "entrée %03d" % i}, token=tok)
                self.assertEqual(r.status, 201, r)
                seqs.append(r.json["seq"])
            self.assertEqual(seqs, list(range(start + 1, start + 101)))
            # A client that kept up got them all live.
            got = collect(live, seqs[-1])
            self.assertEqual([e["seq"] for e in got], seqs)
        texts = ["entrée %03d" % i for i in range(100)]
        for role, token in (("dispatcher", tok), ("admin", adm)):
            with self.subTest(role=role):
                head = srv.head_seq()
                with srv.stream(token, since=start) as ws:
                    hello = ws.recv_json()
                    self.assertEqual((hello["seq"], hello["head"]), (start, head))
                    got = collect(ws, head)
                    self.assertEqual([e["seq"] for e in got], seqs)
                    self.assertEqual([e["data"]["text"] for e in got], texts)
                    self.assertIsNone(ws.expect_silence(0.3))
                    # Then live events, after the replay.
                    r = srv.post(LOGBOOK, {"text": "en direct %s" % role}, token=tok)
                    self.assertEqual(ws.recv_json()["seq"], r.json["seq"])
                    seqs.append(r.json["seq"])
                    texts.append("en direct %s" % role)
        # since=0 starts at event 1, whatever the ring holds.
        with srv.stream(adm, since=0) as ws:
            ws.recv_json()
            head = srv.head_seq()
            got = collect(ws, head)
            self.assertEqual([e["seq"] for e in got], list(range(1, head + 1)))


if __name__ == "__main__":
    h.main()
