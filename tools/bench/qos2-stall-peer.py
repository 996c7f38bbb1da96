#!/usr/bin/env python3
# A scripted broker for tools/bench/selftest.sh: it plays one exact QoS 2 exchange with
# `kmqtt-bench -n 1 -s 64 --inflight 4 -q 2 -w 0 fanin` and never decodes MQTT. Every
# byte it sends is spelled out here, and what it receives is compared byte for byte with
# what kmqtt-bench must send (packet identifiers 1, 2, ... in order, topic bench/in/0,
# 64-byte payloads: each PUBLISH is 80 bytes, 0x34 first). The only thing read from the
# stream is the CONNECT's length byte (its remaining length is under 128).
#
#   qos2-stall-peer.py PORTFILE VERDICTFILE
#
# Script, on the publisher's connection (the one whose first packet after CONNACK is a
# PUBLISH; the subscriber's is a SUBSCRIBE, answered with SUBACK QoS 2, then left alone):
#   1. the 4 PUBLISHes of the full window arrive (320 bytes, then nothing for 0.5 s);
#   2. PUBREC 1..4 are sent: exactly PUBREL 1..4 must come back (16 bytes) and no PUBLISH,
#      since no PUBCOMP freed a slot;
#   3. PUBCOMP 1 and 2 are sent: exactly 2 more PUBLISHes (ids 5, 6) must come, and then
#      nothing, since PUBREC 5, 6 and PUBCOMP 3, 4 never come.
# VERDICTFILE gets one line per step: "ok STEP" or "fail STEP: why".
import os
import socket
import sys
import threading
import time

PUB_LEN = 80


def recv_exact(c, n, timeout=5.0):
    c.settimeout(timeout)
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError("closed")
        b += d
    return b


def recv_quiet(c, quiet=0.5, limit=10.0):
    """Everything until nothing arrived for QUIET seconds."""
    b = b""
    end = time.monotonic() + limit
    c.settimeout(quiet)
    while time.monotonic() < end:
        try:
            d = c.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        b += d
    return b


def publishes(b, ids):
    """True if B is exactly PUBLISH frames with packet ids IDS, in order."""
    if len(b) != PUB_LEN * len(ids):
        return False
    for i, pid in enumerate(ids):
        f = b[i * PUB_LEN:(i + 1) * PUB_LEN]
        if f[:14] != b"\x34\x4e\x00\x0abench/in/0" or f[14:16] != pid.to_bytes(2, "big"):
            return False
    return True


def ack(t, ids):
    return b"".join(bytes([t, 2]) + i.to_bytes(2, "big") for i in ids)


verdict = []
done = threading.Event()


def conn(c):
    try:
        h = recv_exact(c, 2)
        if h[0] != 0x10 or h[1] >= 128:
            verdict.append("fail connect: not a short CONNECT")
            return
        recv_exact(c, h[1])
        c.sendall(b"\x20\x02\x00\x00")
        first = recv_exact(c, 1, timeout=30)
        if first == b"\x82":
            # SUBSCRIBE: its length byte, packet id 1, then the filter; grant QoS 2
            n = recv_exact(c, 1)[0]
            recv_exact(c, n)
            c.sendall(b"\x90\x03\x00\x01\x02")
            done.wait(60)
            return
        got = first + recv_quiet(c)
        if publishes(got, [1, 2, 3, 4]):
            verdict.append("ok window: 4 PUBLISHes, ids 1-4, then nothing")
        else:
            verdict.append("fail window: %d bytes: %s" % (len(got), got[:40].hex()))
        c.sendall(ack(0x50, [1, 2, 3, 4]))
        got = recv_quiet(c)
        if got == ack(0x62, [1, 2, 3, 4]):
            verdict.append("ok pubrel: PUBREC 1-4 answered with PUBREL 1-4 and no PUBLISH")
        else:
            verdict.append("fail pubrel: %s" % got[:40].hex())
        c.sendall(ack(0x70, [1, 2]))
        got = recv_quiet(c)
        if publishes(got, [5, 6]):
            verdict.append("ok pubcomp: PUBCOMP 1, 2 freed exactly 2 slots (ids 5, 6)")
        else:
            verdict.append("fail pubcomp: %d bytes: %s" % (len(got), got[:40].hex()))
        recv_quiet(c, quiet=30, limit=60)	# until kmqtt-bench disconnects
    except (OSError, EOFError) as e:
        verdict.append("fail: %s" % e)
    finally:
        done.set()
        c.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    s.settimeout(60)
    threads = []
    try:
        for _ in range(2):
            c, _ = s.accept()
            t = threading.Thread(target=conn, args=(c,))
            t.start()
            threads.append(t)
    except socket.timeout:
        verdict.append("fail: kmqtt-bench did not connect twice")
    for t in threads:
        t.join()
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(verdict) + "\n")


main()
