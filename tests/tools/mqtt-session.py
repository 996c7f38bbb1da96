#!/usr/bin/env python3
"""mqtt-session.py PORT CLIENTID STEP...: a scripted MQTT 3.1.1 client for
tests/vm/test-sessions.sh.

It runs its steps in order over one connection at a time and prints one line per packet
it receives (and a few of its own events), so that a test can compare what a broker sent
with what it should have sent. Every wait has a time limit. Steps (fields split on ':'):

  connect:CLEAN          CONNECT (keepalive 60) with clean session CLEAN (0 or 1); prints
                         "connack SP RC" (SP: session present) or "connack none"
  subscribe:FILTER:QOS   SUBSCRIBE; prints "suback PID RC"
  mode:ack|rec|none      how received packets are answered (default ack):
                           ack   PUBLISH QoS 1 -> PUBACK, QoS 2 -> PUBREC; PUBREL -> PUBCOMP;
                                 PUBREC (to our QoS 2 PUBLISH) -> PUBREL
                           rec   as ack, but a PUBREL gets no PUBCOMP
                           none  nothing is answered
  read:N:SECS            print packets received until N were, or SECS passed
  quiet:SECS             print every packet received during SECS
  publish:TOPIC:PAYLOAD:QOS:PID[:dup[:retain]]   send a PUBLISH, wait for nothing
  pubw:TOPIC:PAYLOAD:QOS:PID                     send a PUBLISH (not DUP) and read until
                         its flow completes (PUBACK, or PUBREC and PUBCOMP; nothing for
                         QoS 0), at most 10 s, answering PUBREC with PUBREL whatever the mode
  pubrel:PID             send a PUBREL
  touch:FILE             create FILE (tells the test a point was reached)
  waitfile:FILE:SECS     wait until FILE exists (or SECS passed: prints "waitfile timeout")
  sleep:SECS
  disconnect             send DISCONNECT and close
  drop                   close the connection without a DISCONNECT

Printed packets: "publish d=DUP q=QOS r=RETAIN pid=PID TOPIC PAYLOAD" (pid=- for QoS 0),
"puback PID", "pubrec PID", "pubrel PID", "pubcomp PID", "suback PID RC", "pingresp",
"closed" when the broker closes the connection, "other 0xTYPE" for anything else.
Exit status 0 when every step ran (what was received is for the test to judge), 1 when
a connection could not be made or got no CONNACK, 2 on a usage error.
"""
import os
import socket
import sys
import time


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_str(s):
    b = s.encode()
    return len(b).to_bytes(2, "big") + b


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Conn:
    def __init__(self, port, cid):
        self.port, self.cid = port, cid
        self.sock = None
        self.buf = bytearray()
        self.mode = "ack"
        self.next_sub_pid = 1

    def send(self, data):
        if self.sock is None:
            say("not connected")
            return
        try:
            self.sock.sendall(data)
        except OSError as e:
            say("send failed: %s" % e.strerror)

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf = bytearray()

    def parse(self):
        """A whole packet from the buffer (type byte, body), or None."""
        n, mult = 0, 1
        for i in range(1, min(5, len(self.buf))):
            b = self.buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                if len(self.buf) < i + 1 + n:
                    return None
                first, body = self.buf[0], bytes(self.buf[i + 1:i + 1 + n])
                del self.buf[:i + 1 + n]
                return first, body
        return None

    def packet(self, deadline):
        """The next packet (type byte, body) before deadline, or None."""
        while True:
            got = self.parse()
            if got is not None:
                return got
            if self.sock is None:
                return None
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                data = b""
            if not data:
                say("closed")
                self.sock.close()
                self.sock = None
                if len(self.buf) < 2:
                    return None
                continue
            self.buf += data

    def handle(self, first, body, force_pubrel=False):
        """Print one packet, answer it per the mode; returns (kind, pid)."""
        kind = first >> 4
        if kind == 3:
            qos = (first >> 1) & 3
            tlen = int.from_bytes(body[0:2], "big")
            topic = body[2:2 + tlen].decode(errors="replace")
            rest = body[2 + tlen:]
            pid = None
            if qos:
                pid = int.from_bytes(rest[0:2], "big")
                rest = rest[2:]
            say("publish d=%d q=%d r=%d pid=%s %s %s" % (
                first >> 3 & 1, qos, first & 1, pid if qos else "-", topic,
                rest.decode(errors="replace")))
            if self.mode != "none" and qos == 1:
                self.send(b"\x40\x02" + pid.to_bytes(2, "big"))
            elif self.mode != "none" and qos == 2:
                self.send(b"\x50\x02" + pid.to_bytes(2, "big"))
            return "publish", pid
        names = {4: "puback", 5: "pubrec", 6: "pubrel", 7: "pubcomp", 9: "suback",
                 13: "pingresp", 2: "connack"}
        name = names.get(kind)
        if name is None:
            say("other 0x%02x" % first)
            return "other", None
        if kind == 13:
            say("pingresp")
            return name, None
        pid = int.from_bytes(body[0:2], "big")
        if kind == 9:
            say("suback %d %s" % (pid, " ".join(str(b) for b in body[2:])))
            return name, pid
        if kind == 2:
            say("connack %d %d" % (body[0] & 1, body[1]))
            return name, None
        say("%s %d" % (name, pid))
        if kind == 6 and self.mode == "ack":
            self.send(b"\x70\x02" + pid.to_bytes(2, "big"))
        elif kind == 5 and (self.mode != "none" or force_pubrel):
            self.send(b"\x62\x02" + pid.to_bytes(2, "big"))
        return name, pid


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, cid = int(sys.argv[1]), sys.argv[2]
    c = Conn(port, cid)
    for step in sys.argv[3:]:
        f = step.split(":")
        op = f[0]
        if op == "connect":
            c.close()
            c.buf = bytearray()
            try:
                c.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            except OSError as e:
                say("connect failed: %s" % e.strerror)
                return 1
            flags = 0x02 if f[1] == "1" else 0x00
            body = mqtt_str("MQTT") + bytes([4, flags]) + (60).to_bytes(2, "big") + mqtt_str(cid)
            c.send(bytes([0x10]) + varint(len(body)) + body)
            p = c.packet(time.time() + 10)
            if p is None or p[0] >> 4 != 2:
                say("connack none")
                return 1
            c.handle(*p)
        elif op == "subscribe":
            pid = c.next_sub_pid
            c.next_sub_pid += 1
            body = pid.to_bytes(2, "big") + mqtt_str(f[1]) + bytes([int(f[2])])
            c.send(bytes([0x82]) + varint(len(body)) + body)
            end = time.time() + 10
            while True:
                p = c.packet(end)
                if p is None:
                    say("suback none")
                    break
                if c.handle(*p)[0] == "suback":
                    break
        elif op == "mode":
            if f[1] not in ("ack", "rec", "none"):
                sys.exit("bad mode " + f[1])
            c.mode = f[1]
        elif op == "read":
            n, end = int(f[1]), time.time() + float(f[2])
            while n > 0:
                p = c.packet(end)
                if p is None:
                    break
                c.handle(*p)
                n -= 1
        elif op == "quiet":
            end = time.time() + float(f[1])
            while True:
                p = c.packet(end)
                if p is None:
                    break
                c.handle(*p)
        elif op in ("publish", "pubw"):
            topic, payload, qos, pid = f[1], f[2].encode(), int(f[3]), int(f[4])
            dup = op == "publish" and len(f) > 5 and f[5] == "dup"
            retain = op == "publish" and len(f) > 6 and f[6] == "retain"
            body = mqtt_str(topic) + (pid.to_bytes(2, "big") if qos else b"") + payload
            c.send(bytes([0x30 | dup << 3 | qos << 1 | retain]) + varint(len(body)) + body)
            if op == "pubw" and qos:
                end = time.time() + 10
                want = "puback" if qos == 1 else "pubcomp"
                while True:
                    p = c.packet(end)
                    if p is None:
                        say("%s %d none" % (want, pid))
                        break
                    kind, got = c.handle(*p, force_pubrel=True)
                    if kind == want and got == pid:
                        break
        elif op == "pubrel":
            c.send(b"\x62\x02" + int(f[1]).to_bytes(2, "big"))
        elif op == "touch":
            open(f[1], "w").close()
        elif op == "waitfile":
            end = time.time() + float(f[2])
            while not os.path.exists(f[1]) and time.time() < end:
                time.sleep(0.05)
            if not os.path.exists(f[1]):
                say("waitfile timeout")
        elif op == "sleep":
            time.sleep(float(f[1]))
        elif op == "disconnect":
            c.send(b"\xe0\x00")
            c.close()
        elif op == "drop":
            c.close()
        else:
            sys.exit("unknown step " + step)
    c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
