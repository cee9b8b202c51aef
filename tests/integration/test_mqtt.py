# SPDX-License-Identifier: AGPL-3.0-or-later
"""test_mqtt.py - connected vehicles through a real mosquitto broker (started
here, on loopback): telemetry published at QoS 1 on
amane/v1/units/<device>/telemetry reaches the unit's trail; malformed
payloads, unknown devices and bad topics are refused and counted, and
change nothing; a broker restart is survived (amaned reconnects,
subscribes again, and what is published after arrives once)."""

import json
import os
import re
import shutil
import subprocess
import time

import harness as h

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"


class Broker:
    def __init__(self, workdir, port):
        self.workdir, self.port, self.proc = workdir, port, None
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)

    def start(self):
        log = open(os.path.join(self.workdir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=log, stderr=log)
        deadline = time.monotonic() + h.scaled(10)
        while time.monotonic() < deadline:
            r = subprocess.run([PUB, "-h", "127.0.0.1", "-p", str(self.port), "-t", "probe",
                                "-m", "x"], capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("mosquitto did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def publish(self, topic, payload):
        r = subprocess.run([PUB, "-h", "127.0.0.1", "-p", str(self.port), "-q", "1", "-t", topic,
                            "-m", payload], capture_output=True, text=True,
                           timeout=h.scaled(10))
        if r.returncode != 0:
            raise AssertionError("mosquitto_pub failed: %s" % r.stderr)


def telemetry(lat, lon, **kw):
    body = {"lat": lat, "lon": lon, "speed_kmh": 36, "heading": 90, "ignition": True,
            "siren": False}
    body.update(kw)
    return json.dumps(body)


class MqttTest(h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = Broker(cls.tmp, h.free_port())
        cls.broker.start()
        cls.srv = cls.new_server(args=["--avl.mqtt_host=127.0.0.1",
                                       "--avl.mqtt_port=%d" % cls.broker.port,
                                       "--avl.mqtt_client_id=amaned-test"])
        cls.wait_connected(cls.srv, 1)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.broker.stop()

    @classmethod
    def wait_connected(cls, srv, n):
        deadline = time.monotonic() + h.scaled(20)
        while time.monotonic() < deadline:
            if len(re.findall(r'msg="mqtt connected"', srv.log_text())) >= n:
                return
            time.sleep(0.1)
        raise AssertionError("amaned did not connect to the broker (%d):\n%s" %
                             (n, srv.log_tail()))

    def setUp(self):
        tok = self.srv.token("admin")
        type(self).unit_n = getattr(type(self), "unit_n", 0) + 1
        self.unit = "MQ-%02d" % self.unit_n
        self.device = "VEH-%02d" % self.unit_n
        r = self.srv.post("/api/v1/units", {"callsign": self.unit, "kind": "car_patrol"},
                          token=tok)
        self.assertEqual(r.status, 201, r)
        r = self.srv.post("/api/v1/devices", {"device": self.device, "protocol": "mqtt",
                                              "unit": self.unit}, token=tok)
        self.assertEqual(r.status, 201, r)

    def trail(self):
        r = self.srv.get("/api/v1/units/%s/trail" % self.unit, token=self.srv.token("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return r.json["points"]

    def wait_trail(self, n):
        deadline = time.monotonic() + h.scaled(10)
        while time.monotonic() < deadline:
            pts = self.trail()
            if len(pts) >= n:
                return pts
            time.sleep(0.1)
        return self.trail()

    def topic(self, device=None):
        return "amane/v1/units/%s/telemetry" % (device or self.device)

    def test_telemetry_reaches_the_trail(self):
        self.broker.publish(self.topic(), telemetry(33.5731, -7.5898))
        self.broker.publish(self.topic(), telemetry(33.5741, -7.5890, event="harsh_braking"))
        pts = self.wait_trail(2)
        self.assertEqual([round(p["lat"], 4) for p in pts], [33.5731, 33.5741])
        self.assertAlmostEqual(pts[0]["speed_mps"], 10.0, places=3)
        u = next(x for x in self.srv.get("/api/v1/units", token=self.srv.token("admin"))
                 .json["items"] if x["callsign"] == self.unit)
        self.assertAlmostEqual(u["position"]["lat"], 33.5741)

    def vehicle_commands(self, count):
        """mosquitto_sub on the vehicle's commands topic until `count` arrive (subscribed on return)."""
        sub = subprocess.Popen([SUB, "-h", "127.0.0.1", "-p", str(self.broker.port), "-q", "1",
                                "-C", str(count), "-W", str(int(h.scaled(15))), "-t",
                                "amane/v1/units/%s/commands" % self.device],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)  # subscribed
        return sub

    def test_assignment_reaches_the_vehicle(self):
        sub = self.vehicle_commands(1)
        tok = self.srv.token("dispatcher")
        r = self.srv.post("/api/v1/incidents", {"type": "THEFT",
                                                "location": {"lat": 33.58, "lon": -7.60}},
                          token=tok)
        self.assertEqual(r.status, 201, r)
        number = r.json["number"]
        r = self.srv.post("/api/v1/incidents/%s/assign" % number, {"unit": self.unit}, token=tok)
        self.assertEqual(r.status, 200, r)
        out, err = sub.communicate(timeout=h.scaled(20))
        self.assertEqual(sub.returncode, 0, err)
        cmd = json.loads(out)
        self.assertEqual((cmd["type"], cmd["unit"], cmd["incident"]),
                         ("assignment", self.unit, number))
        self.assertIsInstance(cmd["seq"], int)

    def test_messages_and_pings_reach_the_vehicle(self):
        sub = self.vehicle_commands(2)
        tok = self.srv.token("supervisor")
        path = "/api/v1/units/%s/messages" % self.unit
        msg = self.srv.post(path, {"text": "Rejoignez le PC · التحقوا بمركز القيادة"}, token=tok)
        self.assertEqual(msg.status, 201, msg)
        ping = self.srv.post(path, {"kind": "ping"}, token=tok)
        self.assertEqual(ping.status, 201, ping)
        out, err = sub.communicate(timeout=h.scaled(20))
        self.assertEqual(sub.returncode, 0, err)
        cmds = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([(c["type"], c["unit"], c["id"], c["text"], c["from"]) for c in cmds],
                         [("message", self.unit, msg.json["id"], msg.json["text"], "supervisor"),
                          ("ping", self.unit, ping.json["id"], "", "supervisor")])
        self.assertLess(cmds[0]["seq"], cmds[1]["seq"])

    def test_refusals(self):
        before = self.srv.get("/metrics").text
        refused0 = int(re.search(r"amane_avl_mqtt_refused_total (\d+)", before).group(1))
        bad = [(self.topic(), "not json"),
               (self.topic(), telemetry(91, -7.58)),
               (self.topic(), telemetry(33.57, -7.58, color="red")),
               (self.topic(), telemetry(33.57, -7.58, event="party")),
               (self.topic("STRANGER"), telemetry(33.57, -7.58)),
               ("amane/v1/units/%s/other" % self.device, telemetry(33.57, -7.58))]
        for topic, payload in bad:
            self.broker.publish(topic, payload)
        # A good one after them, to know they were all handled.
        self.broker.publish(self.topic(), telemetry(33.5751, -7.5880))
        pts = self.wait_trail(1)
        self.assertEqual([round(p["lat"], 4) for p in pts], [33.5751])
        deadline = time.monotonic() + h.scaled(5)
        while time.monotonic() < deadline:
            m = re.search(r"amane_avl_mqtt_refused_total (\d+)", self.srv.get("/metrics").text)
            if int(m.group(1)) - refused0 >= 5:
                break
            time.sleep(0.1)
        self.assertGreaterEqual(int(m.group(1)) - refused0, 5,
                                "5 refusals counted (the /other topic is not subscribed)")
        self.assertTrue(self.srv.alive())

    def test_z_broker_restart(self):
        self.broker.publish(self.topic(), telemetry(33.5761, -7.5870))
        self.assertEqual(len(self.wait_trail(1)), 1)
        self.broker.stop()
        time.sleep(h.scaled(1.5))
        self.assertTrue(self.srv.alive(), "amaned survives the broker going away")
        self.broker.start()
        self.wait_connected(self.srv, 2)
        time.sleep(0.3)  # the subscription follows the connection
        self.broker.publish(self.topic(), telemetry(33.5771, -7.5860))
        pts = self.wait_trail(2)
        self.assertEqual([round(p["lat"], 4) for p in pts], [33.5761, 33.5771],
                         "after the restart, each position arrives once")


class MqttClientsTest(h.ServerTestCase):
    """Several clients sharing the subscription (avl.mqtt_clients): every
    message taken once (none lost, none twice in the trail), acknowledged to
    the broker only once durable (a crash of amaned loses nothing), the
    sessions of clients no longer configured drained, a broker restart
    survived."""

    DEVICES = 8
    PER_DEVICE = 15  # under the 20 fixes a second a device may send

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.broker = Broker(cls.tmp, h.free_port())
        cls.broker.start()
        cls.srv = cls.new_server(args=["--avl.mqtt_host=127.0.0.1",
                                       "--avl.mqtt_port=%d" % cls.broker.port,
                                       "--avl.mqtt_client_id=amaned-multi",
                                       "--avl.mqtt_clients=4"])
        MqttTest.wait_connected(cls.srv, 1)
        tok = cls.srv.token("admin")
        for i in range(cls.DEVICES):
            r = cls.srv.post("/api/v1/units", {"callsign": "MC-%02d" % i, "kind": "car_patrol"},
                             token=tok)
            assert r.status == 201, r
            r = cls.srv.post("/api/v1/devices", {"device": "MCV-%02d" % i, "protocol": "mqtt",
                                                 "unit": "MC-%02d" % i}, token=tok)
            assert r.status == 201, r
        cls.sent = 0  # rounds published so far

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.broker.stop()

    def publish_round(self):
        """PER_DEVICE messages to each device, with times of their own; returns them."""
        base = int(time.time()) - 3600 + 60 * type(self).sent
        type(self).sent += 1
        want = {}
        for i in range(self.DEVICES):
            times = ["%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + k)),
                                   i) for k in range(self.PER_DEVICE)]
            lines = "\n".join(json.dumps({"time": t, "lat": 33.57 + k * 1e-4,
                                            "lon": -7.59 + i * 1e-4})
                               for k, t in enumerate(times)) + "\n"
            r = subprocess.run([PUB, "-h", "127.0.0.1", "-p", str(self.broker.port), "-q", "1",
                                "-t", "amane/v1/units/MCV-%02d/telemetry" % i, "-l"],
                               input=lines, capture_output=True, text=True,
                               timeout=h.scaled(10))
            self.assertEqual(r.returncode, 0, r.stderr)
            want["MC-%02d" % i] = times
        return want

    def trail_times(self, unit):
        r = self.srv.get("/api/v1/units/%s/trail?from=2000-01-01T00:00:00Z&limit=20000" % unit,
                         token=self.srv.token("dispatcher"))
        self.assertEqual(r.status, 200, r)
        return [p["time"] for p in r.json["points"]]

    def assert_all_once(self, wants):
        """Every time of `wants` in the trails, once; nothing else."""
        expect = {u: sorted(t.replace("Z", "000Z") for w in wants for t in w[u])
                  for u in wants[0]}
        deadline = time.monotonic() + h.scaled(20)
        while True:
            got = {u: sorted(self.trail_times(u)) for u in expect}
            if got == expect or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for u in expect:
            self.assertEqual(len(got[u]), len(set(got[u])), "no position twice in %s" % u)
            self.assertEqual(got[u], expect[u], "every message of %s taken once" % u)

    def test_a_every_message_once(self):
        type(self).wants = [self.publish_round()]
        self.assert_all_once(self.wants)
        self.assertIn('clients=4', self.srv.log_text())
        m = re.search(r"amane_avl_mqtt_connects_total (\d+)", self.srv.get("/metrics").text)
        self.assertGreaterEqual(int(m.group(1)), 4)

    def test_b_crash_loses_nothing(self):
        # Acknowledged by the broker, then amaned killed at once: what was not durable
        # was not acknowledged to the broker either, which sends it again.
        self.wants.append(self.publish_round())
        self.srv.kill()
        self.srv.start()
        self.assert_all_once(self.wants)

    def test_c_fewer_clients(self):
        # Published while amaned is away: queued in the four sessions; amaned back with two
        # clients takes over the other two sessions' messages, then ends those sessions.
        self.srv.stop()
        self.wants.append(self.publish_round())
        self.srv.args = [a for a in self.srv.args if not a.startswith("--avl.mqtt_clients")]
        self.srv.args.append("--avl.mqtt_clients=2")
        self.srv.start()
        self.assert_all_once(self.wants)

    def test_z_broker_restart(self):
        n = len(re.findall(r'msg="mqtt connected"', self.srv.log_text()))
        self.broker.stop()
        time.sleep(h.scaled(1.5))
        self.assertTrue(self.srv.alive(), "amaned survives the broker going away")
        self.broker.start()
        MqttTest.wait_connected(self.srv, n + 1)
        self.wants.append(self.publish_round())
        self.assert_all_once(self.wants)
        self.assertTrue(self.srv.alive())


if __name__ == "__main__":
    h.main()
