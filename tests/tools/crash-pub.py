#!/usr/bin/env python3
"""crash-pub.py PORT OUTFILE STOPFILE: the publisher of tests/vm/test-crash.sh.

One MQTT 3.1.1 connection that publishes, in turn, a QoS 1 message on c/q1, a QoS 2
message on c/q2 and (every third round) a retained QoS 1 message on c/r/N, each payload
its sequence number, keeping at most WINDOW messages awaiting their acknowledgment (one
not acknowledged within 3 s - refused while kmqttd was down - stops counting against the
window: like a real client, it would send it again after reconnecting). It completes QoS 2
flows (PUBREC -> PUBREL -> PUBCOMP) and writes one line per message the broker
acknowledged to OUTFILE ("q1 SEQ", "q2 SEQ", "r TOPIC SEQ"): what the broker promised to
deliver. It stops sending when STOPFILE exists, waits a little for the last
acknowledgments and exits; a connection closed by the broker ends it with status 1.
"""
import os
import socket
import sys
import time

WINDOW = 20


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish(topic, payload, qos, pid, retain=False):
    t = topic.encode()
    body = len(t).to_bytes(2, "big") + t + pid.to_bytes(2, "big") + payload
    return bytes([0x30 | qos << 1 | int(retain)]) + varint(len(body)) + body


def main():
    port, outfile, stopfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    s = socket.create_connection(("127.0.0.1", port))
    cid = b"crashpub"
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    s.sendall(bytes([0x10]) + varint(len(body)) + body)
    s.settimeout(10)
    if s.recv(4) != b"\x20\x02\x00\x00":
        sys.exit("no CONNACK 0")
    s.setblocking(False)
    out = open(outfile, "w", buffering=1)
    pending = {}            # pid -> line to write when acknowledged
    sent_at = {}            # pid -> when it was sent
    buf = bytearray()
    next_pid = 0
    seq = 0
    stop_at = None

    def new_pid():
        nonlocal next_pid
        while True:
            next_pid = next_pid % 65535 + 1
            if next_pid not in pending:
                return next_pid

    while True:
        if stop_at is None and os.path.exists(stopfile):
            stop_at = time.time() + 10
        if stop_at is not None and (not pending or time.time() > stop_at):
            break
        # Non-retained messages are acknowledged by the kernel whatever the daemon does;
        # retained ones only once stored, so they do not count against the window.
        now = time.time()
        window = sum(1 for p, v in pending.items()
                     if not v.startswith("r ") and now - sent_at[p] < 3)
        if stop_at is None and window < WINDOW:
            seq += 1
            p = new_pid()
            pending[p], sent_at[p] = "q1 %d" % seq, now
            pkt = publish("c/q1", b"%d" % seq, 1, p)
            p = new_pid()
            pending[p], sent_at[p] = "q2 %d" % seq, now
            pkt += publish("c/q2", b"%d" % seq, 2, p)
            if seq % 3 == 0:
                topic = "c/r/%d" % (seq // 3 % 8)
                p = new_pid()
                pending[p], sent_at[p] = "r %s %d" % (topic, seq), now
                pkt += publish(topic, b"%d" % seq, 1, p, retain=True)
            s.setblocking(True)
            s.sendall(pkt)
            s.setblocking(False)
        try:
            data = s.recv(65536)
            if not data:
                sys.exit("connection closed by the broker")
            buf += data
        except BlockingIOError:
            time.sleep(0.002)
        while len(buf) >= 4:
            kind, pid = buf[0], int.from_bytes(buf[2:4], "big")
            del buf[:4]
            if kind == 0x50:        # PUBREC: release it
                s.setblocking(True)
                s.sendall(bytes([0x62, 2]) + pid.to_bytes(2, "big"))
                s.setblocking(False)
            elif kind in (0x40, 0x70) and pid in pending:   # PUBACK, PUBCOMP
                out.write(pending.pop(pid) + "\n")
    out.close()
    s.sendall(b"\xe0\x00")
    print("sent %d rounds, %d unacknowledged at the end" % (seq, len(pending)))


main()
