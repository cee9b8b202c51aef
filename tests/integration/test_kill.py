# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_kill.py - "an acknowledged change is never lost" (DESIGN.md).

Eight writer threads post logbook entries, each with its own Idempotency-Key
and text, and note every acknowledged (2xx) answer. After a second or so of
load amaned gets SIGKILL. It is restarted on the same database; then every
acknowledged entry must be there exactly once, as it was answered, and the
event log's hash chain must verify (`amane audit verify`). The requests that
got no answer are sent again with the same key: each must be applied once,
never twice. Five rounds on the same database."""

import collections
import http.client
import re
import sys
import threading
import time

import harness as h

LOGBOOK = "/api/v1/logbook"
ROUNDS = 5
WRITERS = 8
LOAD_SECONDS = 1.2
USERS = ("admin", "supervisor", "dispatcher")  # keys are scoped per user


class KillTest(h.ServerTestCase):
    def test_no_acknowledged_write_is_lost(self):
        srv = self.new_server(name="kill")
        tokens = {u: srv.token(u) for u in USERS}  # tokens live in the database: they survive
        acked = {}        # key -> (user, body, answer)
        pending = {}      # key -> (user, body): sent, never answered, not yet settled
        for rnd in range(ROUNDS):
            with self.subTest(round=rnd):
                self.load_then_kill(srv, rnd, tokens, acked, pending)
                srv.start()
                self.check_round(srv, rnd, tokens, acked, pending)
        srv.stop()

    def load_then_kill(self, srv, rnd, tokens, acked, pending):
        stop = threading.Event()
        killing = threading.Event()
        lock = threading.Lock()
        unexpected, early_errors = [], []
        client = h.Client(srv.port)

        def writer(w):
            user = USERS[w % len(USERS)]
            i = 0
            while not stop.is_set():
                key = "kill-r%d-w%d-%d" % (rnd, w, i)
                body = {"text": "tour %d, poste %d, entrée %d · الجولة %d" % (rnd, w, i, rnd),
                        "category": "call"}
                i += 1
                try:
                    r = client.post(LOGBOOK, body, token=tokens[user],
                                    headers={"Idempotency-Key": key}, timeout=10)
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        pending[key] = (user, body)
                        if not killing.is_set():
                            early_errors.append("%s: %r" % (key, e))
                    if killing.is_set():
                        return
                    continue
                with lock:
                    if r.status == 201:
                        acked[key] = (user, body, r.json)
                    else:
                        unexpected.append(r)
                        pending[key] = (user, body)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        n_before = len(acked)
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        killing.set()
        srv.kill()
        stop.set()
        for t in threads:
            t.join(h.scaled(30))
            self.assertFalse(t.is_alive(), "a writer hung after the kill")
        self.assertEqual(unexpected, [], "answers other than 201 under load")
        self.assertEqual(early_errors, [], "requests failed while the server was up")
        self.assertGreater(len(acked) - n_before, WRITERS, "the load was too light to mean much")
        self.new_acked = len(acked) - n_before

    def check_round(self, srv, rnd, tokens, acked, pending):
        entries = srv.logbook_all(tokens["admin"])
        ids = [e["id"] for e in entries]
        self.assertEqual(ids, sorted(set(ids)), "logbook ids are unique and ordered")
        by_text = collections.defaultdict(list)
        for e in entries:
            by_text[e["text"]].append(e)

        # Every acknowledged entry, exactly once, as it was answered.
        lost = [k for k, (_, body, _) in acked.items() if body["text"] not in by_text]
        self.assertEqual(lost, [], "acknowledged entries lost after SIGKILL (round %d)" % rnd)
        dups = [t for t, es in by_text.items() if len(es) > 1]
        self.assertEqual(dups, [], "entries stored twice")
        for key, (user, body, answer) in acked.items():
            self.assertEqual(by_text[body["text"]][0], answer, key)
            self.assertEqual(answer["author"], user)

        # The hash chain holds, and the server's head is the log's last event.
        audit = srv.cli("audit", "verify")
        self.assertEqual(audit.returncode, 0, audit.stderr)
        m = re.match(r"(\d+) events verified", audit.stdout)
        self.assertIsNotNone(m, audit.stdout)
        self.assertEqual(int(m.group(1)), srv.head_seq())
        verify = srv.get("/api/v1/audit/verify", token=tokens["admin"])
        self.assertEqual(verify.status, 200, verify)
        self.assertIs(verify.json["ok"], True, verify.json)

        # What got no answer may or may not have been committed; sent again with
        # its key it is applied exactly once.
        committed_unanswered = 0
        for key, (user, body) in sorted(pending.items()):
            before = by_text.get(body["text"], [])
            r = srv.post(LOGBOOK, body, token=tokens[user], headers={"Idempotency-Key": key})
            self.assertEqual(r.status, 201, r)
            if before:
                committed_unanswered += 1
                self.assertEqual(r.headers.get("idempotent-replayed"), "true", key)
                self.assertEqual(r.json, before[0])
            acked[key] = (user, body, r.json)
        resent = len(pending)
        pending.clear()
        # A few acknowledged ones again: answered from the key, nothing new.
        for key in sorted(acked)[:: max(1, len(acked) // 10)]:
            user, body, answer = acked[key]
            r = srv.post(LOGBOOK, body, token=tokens[user], headers={"Idempotency-Key": key})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.headers.get("idempotent-replayed"), "true", key)
            self.assertEqual(r.json, answer)

        counts = collections.Counter(e["text"] for e in srv.logbook_all(tokens["admin"]))
        for key, (_, body, _) in acked.items():
            self.assertEqual(counts[body["text"]], 1, key)
        sys.stderr.write("round %d: %d acknowledged under load, %d without answer (%d of them "
                         "committed), %d entries in all\n" %
                         (rnd, self.new_acked, resent, committed_unanswered, sum(counts.values())))


if __name__ == "__main__":
    h.main()
