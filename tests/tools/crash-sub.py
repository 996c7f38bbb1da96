#!/usr/bin/env python3
"""crash-sub.py PORT OUTFILE STOPFILE: the persistent subscriber of tests/vm/test-crash.sh.

Client id "psub", clean session 0, subscribed at QoS 2 to c/q1 and c/q2. It stays
connected for a random 0.5..2.5 s, then goes away (every other time with a DISCONNECT,
otherwise by just closing the socket) and stays offline for a random 0.3..1.5 s, again
and again, retrying when the broker is not there. Like a real MQTT client it keeps its
session state across its own reconnects: the QoS 2 packet ids it has received and not
yet seen released, so a resent PUBLISH (DUP) is not taken twice. Every message taken is
written to OUTFILE as "TOPIC PAYLOAD". When STOPFILE exists it connects a last time and
reads until nothing arrives for 6 s. Prints "cycles N, sessions resumed M".
"""
import os
import random
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


class Gone(Exception):
    pass


def main():
    port, outfile, stopfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    out = open(outfile, "w", buffering=1)
    q2_pending = set()      # QoS 2 ids taken, awaiting PUBREL: kept across reconnects
    cycles = resumed = 0
    subscribed = False
    while True:
        final = os.path.exists(stopfile)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            cid = b"psub"
            body = b"\x00\x04MQTT\x04\x00\x00\x3c" + len(cid).to_bytes(2, "big") + cid
            s.sendall(bytes([0x10]) + varint(len(body)) + body)
            ack = s.recv(4)
            if len(ack) != 4 or ack[0] != 0x20 or ack[3] != 0:
                raise Gone()
        except (OSError, Gone):
            time.sleep(0.3)
            continue
        cycles += 1
        if ack[2] & 1:
            resumed += 1
        elif subscribed:
            sys.exit("session lost: CONNACK session present 0 on reconnect")
        if not subscribed:
            topics = b""
            for t in (b"c/q1", b"c/q2"):
                topics += len(t).to_bytes(2, "big") + t + b"\x02"
            sub = b"\x00\x01" + topics
            s.sendall(bytes([0x82]) + varint(len(sub)) + sub)
        buf = bytearray()
        deadline = time.time() + (6 if final else random.uniform(0.5, 2.5))
        quiet_until = time.time() + 6
        s.settimeout(0.2)
        try:
            while True:
                now = time.time()
                if final and now > quiet_until:
                    break
                if not final and now > deadline:
                    break
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    raise Gone()
                buf += data
                while True:
                    if len(buf) < 2:
                        break
                    n, mul, i = 0, 1, 1
                    while True:
                        if i >= len(buf):
                            n = None
                            break
                        n += (buf[i] & 0x7F) * mul
                        mul *= 128
                        i += 1
                        if not buf[i - 1] & 0x80:
                            break
                    if n is None or len(buf) < i + n:
                        break
                    kind, body = buf[0], bytes(buf[i:i + n])
                    del buf[:i + n]
                    typ, qos = kind >> 4, (kind >> 1) & 3
                    if typ == 9:                      # SUBACK
                        subscribed = True
                    elif typ == 3:                    # PUBLISH
                        tl = int.from_bytes(body[:2], "big")
                        topic = body[2:2 + tl].decode()
                        pid = int.from_bytes(body[2 + tl:4 + tl], "big") if qos else 0
                        payload = body[2 + tl + (2 if qos else 0):].decode()
                        quiet_until = time.time() + 6
                        if qos == 2:
                            if pid not in q2_pending:
                                q2_pending.add(pid)
                                out.write("%s %s\n" % (topic, payload))
                                if os.environ.get("CRASH_SUB_TRACE"):
                                    sys.stderr.write("q2 %s pid %d dup %d cycle %d\n" % (
                                        payload, pid, kind >> 3 & 1, cycles))
                            s.sendall(bytes([0x50, 2]) + pid.to_bytes(2, "big"))
                        else:
                            out.write("%s %s\n" % (topic, payload))
                            if qos == 1:
                                s.sendall(bytes([0x40, 2]) + pid.to_bytes(2, "big"))
                    elif typ == 6:                    # PUBREL
                        pid = int.from_bytes(body[:2], "big")
                        q2_pending.discard(pid)
                        s.sendall(bytes([0x70, 2]) + pid.to_bytes(2, "big"))
        except (OSError, Gone):
            pass
        try:
            if cycles % 2 == 0 or final:
                s.sendall(b"\xe0\x00")
            s.close()
        except OSError:
            pass
        if final:
            break
        time.sleep(random.uniform(0.3, 1.5))
    out.close()
    print("cycles %d, sessions resumed %d" % (cycles, resumed))


main()
