#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""mqtt-flow — drives MQTT 3.1.1 packet flows over raw TCP sockets, step by step, and
prints what the broker sends as one line per packet, so a shell test can compare the
transcript with what it expects. No MQTT library: the test decides every packet
identifier, DUP flag and acknowledgement (or the lack of one).

    mqtt-flow.py [-H HOST] [-p PORT] [-T TOTAL_SECONDS] < SCRIPT

SCRIPT has one step per line (shell-like quoting; a line whose first word starts with
'#' is a comment). NAME names a connection. Steps that print something print lines starting with NAME:

  connect NAME [id=CLIENTID] [ka=SECONDS] [clean=0|1] [user=U] [pass=P]
               [will=TOPIC] [wmsg=PAYLOAD] [wqos=0|1|2] [wretain=0|1]
                                   -> "NAME CONNACK RC" (or "NAME CLOSED")
  subscribe NAME FILTER QOS [FILTER QOS]...
                                   -> "NAME SUBACK CODE..." (packets that arrive before
                                      the SUBACK are kept for the next expect/drain)
  publish NAME TOPIC PAYLOAD [q=0|1|2] [pid=N] [dup=1] [r=1]   (prints nothing)
                                   (PAYLOAD and wmsg= take "hex:..." for any bytes)
  burst NAME TOPIC COUNT [q=2] [start=1] [r=0]
                                   COUNT PUBLISHes, packet ids START.., payloads "0".."COUNT-1"
  puback|pubrec|pubrel|pubcomp NAME PID
  pubrel_range NAME START COUNT    PUBREL START..START+COUNT-1
  raw NAME HEX                     send these bytes
  disconnect NAME                  DISCONNECT, then close the socket
  close NAME                       close the socket without DISCONNECT (FIN)
  reset NAME                       close with SO_LINGER 0 (RST)
  expect NAME [SECONDS]            the next packet, or "NAME NOTHING" / "NAME CLOSED"
  drain NAME [SECONDS]             every packet until none came for SECONDS (default 1);
                                   "NAME CLOSED" if the broker closed the connection
  count NAME SECONDS [N]           read until N packets came or none for SECONDS; prints
                                   "NAME TYPE=COUNT... open|closed" (types sorted)
  closed NAME SECONDS              "NAME CLOSED" if the broker closes it within SECONDS,
                                   else "NAME OPEN"; packets read meanwhile are dropped
  sleep SECONDS
  sh COMMAND...                    run COMMAND with /bin/sh (its output goes to stderr)
  echo TEXT...                     print TEXT

A packet prints as: "NAME CONNACK RC", "NAME SUBACK CODE...", "NAME PUBACK|PUBREC|
PUBCOMP PID", "NAME PUBREL #K", "NAME PUBLISH q=Q #K d=DUP r=RETAIN TOPIC PAYLOAD"
(QoS 0: "-" instead of #K), "NAME PINGRESP", "NAME UNSUBACK PID". Packet identifiers that
the broker chooses (its PUBLISH, and the PUBREL that answers our PUBREC) print as #K: K
counts the new messages (PUBLISH without DUP) on that connection, a redelivery or PUBREL
prints the K of the message it belongs to, so transcripts do not depend on the broker's
numbering or its reuse of identifiers; steps accept #K wherever they take a PID. Payloads print as text when
printable ASCII without spaces, else as "hex:..." ("<empty>" when empty).

Exit status: 0 when the script ran to its end, 2 on a usage error, 3 when TOTAL_SECONDS
(default 60) ran out (it prints "TIMEOUT" first).
"""
import getopt
import os
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time

TYPES = {2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
         9: "SUBACK", 11: "UNSUBACK", 13: "PINGRESP"}


class Usage(Exception):
    pass


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def mstr(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack("!H", len(b)) + b


def data_arg(s):
    """A payload argument: "hex:..." for any bytes, else the text itself."""
    return bytes.fromhex(s[4:]) if s.startswith("hex:") else s.encode()


def packet(first, body):
    n = len(body)
    rl = bytearray()
    while True:
        d = n % 128
        n //= 128
        rl.append(d | (0x80 if n else 0))
        if not n:
            break
    return bytes([first]) + bytes(rl) + body


def show(payload):
    if not payload:
        return "<empty>"
    if all(0x21 <= c < 0x7f for c in payload):
        return payload.decode()
    return "hex:" + payload.hex()


class Conn:
    def __init__(self, name, host, port):
        self.name = name
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.pending = []	# packets read but not shown yet
        self.eof = False
        self.pids = {}		# broker's packet id -> K
        self.nrefs = 0
        self.refpid = {}	# K -> the broker's packet id
        self.next_pid = 1

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            print("# %s: send: %s" % (self.name, e), file=sys.stderr)

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        mult, n, i = 1, 0, 1
        while True:
            if i >= len(b):
                return None
            c = b[i]
            n += (c & 0x7f) * mult
            mult *= 128
            i += 1
            if not c & 0x80:
                break
            if i > 4:
                raise ValueError("bad remaining length")
        if len(b) < i + n:
            return None
        self.buf = b[i + n:]
        return (b[0], b[i:i + n])

    def read(self, timeout):
        """The next packet (first byte, body), None on timeout, "EOF" when closed."""
        if self.pending:
            return self.pending.pop(0)
        end = time.monotonic() + timeout
        while True:
            p = self._parse()
            if p:
                return p
            if self.eof:
                return "EOF"
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data

    def ref(self, pid, new=False):
        # A new message (PUBLISH without DUP) gets the next K even when the broker reuses
        # an identifier it got back; a redelivery or a PUBREL names the message it
        # belongs to.
        if new or pid not in self.pids:
            self.nrefs += 1
            self.pids[pid] = self.nrefs
            self.refpid[self.nrefs] = pid
        return "#%d" % self.pids[pid]

    def pid_arg(self, s):
        if s.startswith("#"):
            k = int(s[1:])
            if k in self.refpid:
                return self.refpid[k]
            raise Usage("%s: no packet identifier %s seen yet" % (self.name, s))
        return int(s)

    def describe(self, p):
        if p == "EOF":
            return "%s CLOSED" % self.name
        first, body = p
        t = first >> 4
        name = TYPES.get(t, "TYPE%d" % t)
        if t == 2:
            return "%s CONNACK %d" % (self.name, body[1] if len(body) > 1 else -1)
        if t == 3:
            q = (first >> 1) & 3
            tl = struct.unpack("!H", body[:2])[0]
            topic = body[2:2 + tl].decode(errors="replace")
            rest = body[2 + tl:]
            ref = "-"
            if q:
                ref = self.ref(struct.unpack("!H", rest[:2])[0], new=not first & 0x08)
                rest = rest[2:]
            return "%s PUBLISH q=%d %s d=%d r=%d %s %s" % (
                self.name, q, ref, (first >> 3) & 1, first & 1, topic, show(rest))
        if t == 6:
            return "%s PUBREL %s%s" % (self.name, self.ref(struct.unpack("!H", body[:2])[0]),
                                       "" if first == 0x62 else " flags=%#x" % first)
        if t in (4, 5, 7, 11):
            return "%s %s %d" % (self.name, name, struct.unpack("!H", body[:2])[0])
        if t == 9:
            return "%s SUBACK %s" % (self.name, " ".join(str(c) for c in body[2:]))
        return "%s %s" % (self.name, name)

    def close(self, rst=False):
        if rst:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def kv(args, allowed):
    opts = {}
    for a in args:
        k, sep, v = a.partition("=")
        if not sep or k not in allowed:
            raise Usage("unexpected argument %r" % a)
        opts[k] = v
    return opts


def run(script, host, port):
    conns = {}

    def conn(name):
        if name not in conns:
            raise Usage("no connection %r" % name)
        return conns[name]

    for lineno, line in enumerate(script.splitlines(), 1):
        words = shlex.split(line)
        if not words or words[0].startswith("#"):
            continue
        op, args = words[0], words[1:]
        try:
            if op == "connect":
                o = kv(args[1:], {"id", "ka", "clean", "user", "pass", "will", "wmsg",
                                  "wqos", "wretain"})
                c = Conn(args[0], host, port)
                conns[args[0]] = c
                flags = 0x02 if o.get("clean", "1") == "1" else 0
                pay = mstr(o.get("id", "flow-%s-%d" % (args[0], os.getpid())))
                if "will" in o:
                    flags |= 0x04 | (int(o.get("wqos", "0")) << 3)
                    if o.get("wretain", "0") == "1":
                        flags |= 0x20
                    pay += mstr(o["will"]) + mstr(data_arg(o.get("wmsg", "")))
                if "user" in o:
                    flags |= 0x80
                    pay += mstr(o["user"])
                if "pass" in o:
                    flags |= 0x40
                    pay += mstr(o["pass"])
                body = mstr("MQTT") + bytes([4, flags]) + struct.pack("!H", int(o.get("ka", "60")))
                c.send(packet(0x10, body + pay))
                p = c.read(10)
                out(c.describe(p) if p else "%s NO CONNACK" % c.name)
            elif op == "subscribe":
                c = conn(args[0])
                if len(args) < 3 or len(args) % 2 != 1:
                    raise Usage("subscribe NAME FILTER QOS...")
                body = struct.pack("!H", c.next_pid)
                c.next_pid += 1
                for i in range(1, len(args), 2):
                    body += mstr(args[i]) + bytes([int(args[i + 1])])
                c.send(packet(0x82, body))
                kept = []
                while True:
                    p = c.read(10)
                    if p is None or p == "EOF" or p[0] >> 4 == 9:
                        break
                    kept.append(p)
                out(c.describe(p) if p else "%s NO SUBACK" % c.name)
                c.pending = kept + c.pending
            elif op == "publish":
                c = conn(args[0])
                o = kv(args[3:], {"q", "pid", "dup", "r"})
                q = int(o.get("q", "0"))
                first = 0x30 | (q << 1) | (int(o.get("dup", "0")) << 3) | int(o.get("r", "0"))
                body = mstr(args[1])
                if q:
                    body += struct.pack("!H", c.pid_arg(o.get("pid", "1")))
                c.send(packet(first, body + data_arg(args[2])))
            elif op == "burst":
                c = conn(args[0])
                o = kv(args[3:], {"q", "start", "r"})
                q = int(o.get("q", "2"))
                start = int(o.get("start", "1"))
                first = 0x30 | (q << 1) | int(o.get("r", "0"))
                data = b""
                for i in range(int(args[2])):
                    body = mstr(args[1])
                    if q:
                        body += struct.pack("!H", (start + i - 1) % 65535 + 1)
                    data += packet(first, body + str(i).encode())
                c.send(data)
            elif op in ("puback", "pubrec", "pubrel", "pubcomp"):
                c = conn(args[0])
                first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[op]
                c.send(packet(first, struct.pack("!H", c.pid_arg(args[1]))))
            elif op == "pubrel_range":
                c = conn(args[0])
                start, n = int(args[1]), int(args[2])
                c.send(b"".join(packet(0x62, struct.pack("!H", (start + i - 1) % 65535 + 1))
                                for i in range(n)))
            elif op == "raw":
                conn(args[0]).send(bytes.fromhex("".join(args[1:])))
            elif op == "disconnect":
                c = conn(args[0])
                c.send(b"\xe0\x00")
                c.close()
                del conns[args[0]]
            elif op in ("close", "reset"):
                conn(args[0]).close(rst=op == "reset")
                del conns[args[0]]
            elif op == "expect":
                c = conn(args[0])
                p = c.read(float(args[1]) if len(args) > 1 else 5)
                out(c.describe(p) if p else "%s NOTHING" % c.name)
            elif op == "drain":
                c = conn(args[0])
                quiet = float(args[1]) if len(args) > 1 else 1
                while True:
                    p = c.read(quiet)
                    if not p:
                        break
                    out(c.describe(p))
                    if p == "EOF":
                        break
            elif op == "count":
                c = conn(args[0])
                quiet = float(args[1])
                want = int(args[2]) if len(args) > 2 else None
                n, seen, state = 0, {}, "open"
                while want is None or n < want:
                    p = c.read(quiet)
                    if not p:
                        break
                    if p == "EOF":
                        state = "closed"
                        break
                    c.describe(p)	# for the #K of what it counts
                    t = TYPES.get(p[0] >> 4, "TYPE%d" % (p[0] >> 4))
                    seen[t] = seen.get(t, 0) + 1
                    n += 1
                if state == "open" and c.eof and not c.buf:
                    state = "closed"
                out("%s %s%s" % (c.name, "".join("%s=%d " % kv_ for kv_ in sorted(seen.items())),
                                 state))
            elif op == "closed":
                c = conn(args[0])
                end = time.monotonic() + float(args[1])
                state = "OPEN"
                while time.monotonic() < end:
                    p = c.read(max(0.0, end - time.monotonic()))
                    if p == "EOF":
                        state = "CLOSED"
                        break
                out("%s %s" % (c.name, state))
            elif op == "sleep":
                time.sleep(float(args[0]))
            elif op == "sh":
                subprocess.run(" ".join(args), shell=True, stdout=sys.stderr, check=False)
            elif op == "echo":
                out(" ".join(args))
            else:
                raise Usage("unknown step %r" % op)
        except (Usage, IndexError, ValueError, OSError) as e:
            if isinstance(e, OSError) and op != "connect":
                raise
            raise Usage("line %d (%s): %s" % (lineno, line.strip(), e)) from e


def main():
    host, port, total = "127.0.0.1", 1883, 60
    try:
        opts, rest = getopt.getopt(sys.argv[1:], "H:p:T:")
        if rest:
            raise getopt.GetoptError("no arguments expected: the script is read from stdin")
    except getopt.GetoptError as e:
        print("mqtt-flow: %s" % e, file=sys.stderr)
        return 2
    for o, v in opts:
        if o == "-H":
            host = v
        elif o == "-p":
            port = int(v)
        else:
            total = int(v)

    def expired(*_):
        out("TIMEOUT")
        os._exit(3)
    signal.signal(signal.SIGALRM, expired)
    signal.alarm(total)
    try:
        run(sys.stdin.read(), host, port)
    except Usage as e:
        print("mqtt-flow: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
