// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqtt-bench — MQTT load generator: many connections per process (epoll, one event loop
 * per worker thread), publishers and subscribers in the same process so that the send
 * timestamp in each payload and the receive time come from the same CLOCK_MONOTONIC.
 * Speaks MQTT 3.1.1 through kmqtt's portable core codec (kmod/core/mqtt_codec.[ch]) to
 * kmqtt, mosquitto or any broker, or the kmqtt-relay protocol (--raw). More in
 * docs/bench-tool.md.
 *
 *   kmqtt-bench [options] SCENARIO
 *
 * SCENARIO (n = -n, default 10)
 *   fanin    n publishers -> 1 subscriber: topics bench/in/<i>, subscription bench/in/+
 *   fanout   1 publisher -> n subscribers: topic and subscriptions bench/out
 *   p2p      n pairs: publisher i -> subscriber of bench/p2p/<i>
 *   qos1     p2p with QoS 1 publishes and QoS 1 subscriptions (-q 1 does the same for the
 *            others)
 *   qos2     p2p with QoS 2 publishes and QoS 2 subscriptions (-q 2 does the same for the
 *            others): PUBLISH, PUBREC, PUBREL, PUBCOMP both ways
 *   idle     n connections (CONNECT, SUBSCRIBE bench/idle/<i> unless --no-idle-sub) that
 *            then only send keepalive PINGREQs for -d seconds. When all are set up, the
 *            number is written to --ready-file and "# ready N" to stderr.
 *   offline  n pairs (bench/off/<i>) whose subscribers are persistent (clean session 0,
 *            client id <prefix>off-<i>) and offline while their publishers send: the
 *            broker's offline queue/store, then delivery on their return. QoS -q 1 or 2
 *            (default 1). A count-driven run, not a timed one (-r, -d, -w, --search do not
 *            apply): set-up purges each subscriber's old session (CONNECT clean session
 *            1, DISCONNECT), then CONNECT clean session 0, SUBSCRIBE, DISCONNECT (after
 *            each DISCONNECT the broker's close is awaited, at most 2 s); then every
 *            publisher sends -m messages as fast as its --inflight window allows and
 *            waits for every PUBACK/PUBCOMP ("stored": messages / time to the last
 *            completion); then the subscribers connect again with clean session 0 (no
 *            SUBSCRIBE; CONNACK must say session present, else an error counted in
 *            "sessions_lost") and receive until all arrived or nothing arrived for
 *            --drain seconds ("drained": deliveries / time from the reconnect to the last
 *            delivery). Each phase also ends when nothing progressed for --drain seconds.
 *   city     smart-city mix scaled by n (n = 10: ~1060 connections, ~620 msg/s), one
 *            wildcard back-office subscriber per class (table in scenario.c and the doc):
 *            traffic (QoS 0, 2/s per sensor), parking and metering (QoS 1, periodic),
 *            police cameras (QoS 1, bursts of 4 messages of 8-32 KiB every 5 s), fleet
 *            trackers (QoS 0, 1/s), domestic devices (QoS 1 status every 60 s, keepalive
 *            10 s). -r scales all class rates together (default: the natural mix rate);
 *            -s and -q do not apply.
 *
 * Options
 *   -h HOST        broker (default 127.0.0.1)      -p PORT (default 1883)
 *   -u USER -P PASSWORD                            CONNECT credentials
 *   --tls --cafile F [--cert F --key F] [--insecure]
 *                  TLS (OpenSSL). The server certificate is verified against --cafile (or
 *                  the system store) and HOST (name or IP address) unless --insecure.
 *   --raw          speak kmqtt-relay's protocol instead of MQTT (see below)
 *   -n N           scenario width (see above)   -q 0|1|2  QoS (qos1, qos2 force theirs)
 *   -s BYTES       payload size (>= 24, the payload header; default 64)
 *   -m N, --messages N  offline: messages per publisher (default 2000)
 *   -r RATE        offered messages/s, all publishers together (fanout: PUBLISHes, each
 *                  delivered n times). Required in fixed mode except for idle and city.
 *   -d SECONDS     measurement window (default 10)   -w SECONDS  warm-up before it (1)
 *   --search       max-throughput search; -r is the starting rate (default 1000)
 *   --step SEC     search: measurement window of each step (default 3, or -d if given)
 *   --factor F     search: rate multiplier while steps succeed (default 1.5)
 *   --bisect N     search: bisection steps between the last good and first bad rate (4)
 *   --max-steps N  search: at most N steps in all (default 20)
 *   --max-rate R   search: never offer more than R msg/s
 *   --ok-ratio X   a step is good when the deliveries received before its window closed
 *                  are >= X times what the schedule implies (default 0.97) ...
 *   --max-loss X   ... and at most X of the expected deliveries were lost (default 0.01)
 *                  and the backlog (deliveries due, not yet received) did not grow between
 *                  the middle and the end of the window by more than
 *   --max-growth X  X times the window's deliveries (default 0.015)
 *   --drain SEC    after the window: wait at most SEC for outstanding deliveries (5)
 *   --threads N    worker threads (default: online CPUs, at most one per connection)
 *   --label NAME   "target" in the JSON          --json FILE  write the JSON ("-": stdout)
 *   --progress SEC progress line on stderr every SEC seconds (default 0: off)
 *   --ready-file F idle: see above
 *   --keepalive S  CONNECT keepalive (default 60; city's domestic devices use 10)
 *   --inflight N   QoS 1/2 PUBLISHes not yet acknowledged per publisher (QoS 1: until
 *                  PUBACK, QoS 2: until PUBCOMP; default 64)
 *   --tick-us U    pacing granularity: scheduler passes at most every U us (default 200)
 *   --connect-burst N    connections being set up at once, all threads (default 64)
 *   --connect-timeout S  all connections must be set up within S seconds (default 120)
 *   --bind A[,A...]      local addresses to connect from, round-robin (more than ~28000
 *                  connections to one port need several; to a 127.x.x.x target, 127.0.0.k
 *                  are used automatically above 20000 connections)
 *   --max-packet B largest packet accepted from the broker (default 1 MiB or -s + 1 KiB)
 *   --client-prefix S  client identifiers are S<pid>-<thread>-<n> (default "kb")
 *   --no-idle-sub  idle: connect only, no SUBSCRIBE
 *   -v             more messages on stderr
 *
 * Exit status: 0 the run completed (lost messages are a result, not a failure), 1 it
 * could not run (connection refused, CONNACK or SUBACK refused, TLS failure, interrupted),
 * 2 usage error.
 *
 * Payload: every message starts with struct payload_hdr (bench.h: magic, publisher id,
 * sequence number, step, flags, class, CLOCK_MONOTONIC send time in ns), then filler.
 *
 * A run: all connections are set up first (connect_s), then each step (one in fixed mode)
 * schedules the publishers from an origin 20 ms ahead: warm-up -w, then the measurement
 * window; publishing stops when the window closes; then up to --drain seconds for
 * outstanding deliveries (ending early when everything expected arrived, or when nothing
 * arrived for a second). Only messages scheduled inside the window count ("measured");
 * latency is receive time minus the payload's send time, in a log-linear histogram (0.8 %
 * buckets). Sending is open loop: a message is due at its scheduled time whatever
 * happened to earlier ones; one sent more than 1 ms after it was due is "late"; messages
 * that could not be sent before the window closed (the broker stopped reading, or the
 * QoS 1/2 window stayed full) are "unsent". At QoS 2 a message counts as received at its
 * PUBLISH (the subscriber then answers PUBREC, and the broker's PUBREL with PUBCOMP); a
 * duplicate delivery there breaks exactly-once and is reported as an error
 * ("qos2_duplicates", and a line on stderr).
 *
 * Search: steps at -r, then x --factor while they are good; after the first bad step,
 * bisect between the last good and the first bad rate (until within 5 % or --bisect
 * steps). If the first step is already bad the rate is halved until a step is good. After
 * a bad step the tool waits for the broker's backlog to drain (no delivery for 1 s, at
 * most 30 s) before the next step. "max_rate" is the highest good offered rate; the
 * top-level figures are those of that step.
 *
 * JSON (one object; fields beyond this list are extras):
 *   {"tool":"kmqtt-bench","version":1,"scenario":S,"target":LABEL,"mode":"fixed"|"search",
 *    "params":{"n","qos" (0, 1 or 2),"size","rate","duration_s","threads","tls","raw",
 *              "warmup_s",
 *              "inflight","keepalive","tick_us"},
 *    "connections":N, "connect_s":x,
 *    "offered_per_s":x        messages/s published (the step's rate)
 *    "sent":n                 measured messages published
 *    "expected":n             deliveries they imply (sent x subscribers per message)
 *    "delivered":n            distinct measured deliveries received (duplicates excluded)
 *    "lost":n                 expected - delivered (>= 0)
 *    "duplicates":n, "out_of_order":n (per publisher and subscriber sequence windows)
 *    "late":n, "max_lateness_us":x, "duration_s":x (the window)
 *    "delivered_per_s":x      delivered / duration_s
 *    "latency_us":{"p50","p90","p99","p999","max","mean","min","count"},
 *    "latency_cdf":[[us,fraction],...]   at most 200 points, fraction ascending to 1
 *    "gen_cpu_s":{"user","sys"}, "gen_cpu_pct":x   this process (getrusage RUSAGE_SELF)
 *                             over the window, in % of one CPU
 *    extras: "expected_per_s", "offered_expected" (deliveries the schedule implies),
 *    "unsent", "delivered_by_end" (received before the window closed), "stale" (messages
 *    of an earlier step), "foreign" (PUBLISHes not from this run), "bad_acks" (PUBACK,
 *    PUBREC, PUBCOMP for no message in that state, PUBREL for no PUBREC'd id),
 *    "qos2_duplicates" (duplicates of QoS 2 messages: an error),
 *    "disconnects" (connections lost during the step), "msgs_out", "msgs_in" (all
 *    messages of the step, warm-up included), "bytes_out", "bytes_in", "ok",
 *    "gen_rss_kb" (this process at the end of the run),
 *    "search":{"max_rate":x,"steps":[{"offered","delivered_per_s","ok",...},...]}
 *             (search mode),
 *    "idle":{"connections","connect_s","pings","pongs","lost"} (idle),
 *    "offline":{"messages","stored","stored_s","stored_per_s","unacked","resumed",
 *               "resume_s","drained_s","drained_per_s","sessions_present",
 *               "sessions_lost","sessions_stale"} (offline; top-level "duration_s" and
 *               "delivered_per_s" are the drain's, "offered_per_s" the stored rate),
 *    "classes":{"traffic":{"sent","delivered","delivered_per_s","latency_us",...},...}
 *             (city: traffic, parking, metering, police, fleet, domestic)}
 *
 * --raw (kmqtt-relay): instead of CONNECT each connection sends "SUB <key>\n" or
 * "PUB <key>\n" and waits for "OK\n"; publishers then send the same PUBLISH frames as
 * with a broker and subscribers decode them the same way. Keys: a subscriber's key is its
 * filter; a publisher's key is the filter of the subscribers that receive it:
 *   fanin   publishers and subscriber: "bench/in/+"     fanout  all: "bench/out"
 *   p2p, qos1, qos2  pair i: "bench/p2p/<i>"            idle    SUB "bench/idle/<i>"
 *   city    class filter, e.g. "city/traffic/#", "city/fleet/+/pos"
 * The relay acknowledges nothing: QoS 1 and 2 PUBLISHes carry packet identifiers but no
 * in-flight window applies, subscribers still send PUBACKs or PUBRECs (the relay discards
 * them), and no PINGREQs are sent.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <openssl/err.h>
#include "bench.h"

#define ORIGIN_LEAD_NS	20000000ULL	/* a step's schedule starts this far ahead */
#define QUIET_NS	1000000000ULL	/* drain: nothing arrived for this long */
#define SETTLE_MAX_NS	30000000000ULL	/* after a bad step, wait at most this */
#define AUTO_BIND_ABOVE	20000		/* to 127.x: more use 127.0.0.k too */

struct opts O = {
	.host = "127.0.0.1",
	.port = "1883",
	.n = 10,
	.messages = 2000,
	.qos = -1,
	.size = 64,
	.duration = 10,
	.warmup = 1,
	.step = 3,
	.drain = 5,
	.label = "",
	.keepalive = 60,
	.inflight = 64,
	.tick_us = 200,
	.connect_burst = 64,
	.connect_timeout = 120,
	.factor = 1.5,
	.ok_ratio = 0.97,
	.max_loss = 0.01,
	.max_growth = 0.015,
	.bisect = 4,
	.max_steps = 20,
	.client_prefix = "kb",
	.idle_sub = true,
};

struct sockaddr_storage target_addr;
socklen_t target_len;
struct sockaddr_storage *bind_addrs;
uint32_t n_bind_addrs;
SSL_CTX *tls_ctx;

static pthread_mutex_t fatal_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t interrupted;
static struct worker **workers;
static uint32_t nworkers;
static struct scenario sc;
static uint32_t epoch_no;
static uint64_t t_start, next_progress, prog_sent, prog_recv, prog_t;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void fatal_set(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fatal_lock);
	if (!ctl.fatal) {
		va_start(ap, fmt);
		vsnprintf(ctl.fatal_msg, sizeof(ctl.fatal_msg), fmt, ap);
		va_end(ap);
		__atomic_store_n(&ctl.fatal, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&fatal_lock);
}

void warnx_limited(const char *fmt, ...)
{
	static unsigned int count;
	unsigned int n = __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
	va_list ap;

	if (n > 10 && !O.verbose)
		return;
	fputs("kmqtt-bench: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(n == 10 && !O.verbose ? " (further warnings suppressed)\n" : "\n", stderr);
}

static void usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fputs("kmqtt-bench: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fputs("usage: kmqtt-bench [-h HOST] [-p PORT] [-u USER -P PASS] [--tls --cafile F "
	      "[--cert F --key F]] [--raw]\n"
	      "         [-n N] [-q 0|1|2] [-s BYTES] [-r RATE] [-d SEC] [-w SEC] [--search] "
	      "[--threads N]\n"
	      "         [--label NAME] [--json FILE] [--progress SEC] [--ready-file F] ... "
	      "fanin|fanout|p2p|qos1|qos2|offline|idle|city\n"
	      "(all options: the header of tools/bench/kmqtt-bench.c, docs/bench-tool.md)\n",
	      stderr);
	exit(2);
}

static double num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		usage("%s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
	return v;
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

enum {
	OPT_TLS = 256, OPT_CAFILE, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_RAW, OPT_SEARCH,
	OPT_THREADS, OPT_LABEL, OPT_JSON, OPT_PROGRESS, OPT_READY, OPT_HELP, OPT_KEEPALIVE,
	OPT_INFLIGHT, OPT_TICK, OPT_BURST, OPT_CTIMEOUT, OPT_STEP, OPT_DRAIN, OPT_FACTOR,
	OPT_OKRATIO, OPT_MAXLOSS, OPT_MAXRATE, OPT_BISECT, OPT_MAXSTEPS, OPT_MAXPACKET,
	OPT_BIND, OPT_PREFIX, OPT_NOIDLESUB, OPT_VERSION, OPT_MAXGROWTH,
};

static const struct option long_opts[] = {
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "search", no_argument, NULL, OPT_SEARCH },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "ready-file", required_argument, NULL, OPT_READY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "inflight", required_argument, NULL, OPT_INFLIGHT },
	{ "tick-us", required_argument, NULL, OPT_TICK },
	{ "connect-burst", required_argument, NULL, OPT_BURST },
	{ "connect-timeout", required_argument, NULL, OPT_CTIMEOUT },
	{ "step", required_argument, NULL, OPT_STEP },
	{ "drain", required_argument, NULL, OPT_DRAIN },
	{ "factor", required_argument, NULL, OPT_FACTOR },
	{ "ok-ratio", required_argument, NULL, OPT_OKRATIO },
	{ "max-loss", required_argument, NULL, OPT_MAXLOSS },
	{ "max-growth", required_argument, NULL, OPT_MAXGROWTH },
	{ "max-rate", required_argument, NULL, OPT_MAXRATE },
	{ "bisect", required_argument, NULL, OPT_BISECT },
	{ "max-steps", required_argument, NULL, OPT_MAXSTEPS },
	{ "max-packet", required_argument, NULL, OPT_MAXPACKET },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "client-prefix", required_argument, NULL, OPT_PREFIX },
	{ "no-idle-sub", no_argument, NULL, OPT_NOIDLESUB },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "messages", required_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static void parse_opts(int argc, char **argv)
{
	bool step_set = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "h:p:u:P:n:m:q:s:r:d:w:v", long_opts, NULL)) != -1) {
		switch (ch) {
		case 'h': O.host = optarg; break;
		case 'p': O.port = optarg; num("-p", optarg, 1, 65535); break;
		case 'u': O.user = optarg; break;
		case 'P': O.pass = optarg; break;
		case 'n': O.n = (uint32_t)num("-n", optarg, 1, 10000000); break;
		case 'm':
			O.messages = (uint32_t)num("-m", optarg, 1, 100000000);
			break;
		case 'q': O.qos = (int)num("-q", optarg, 0, 2); break;
		case 's': O.size = (uint32_t)num("-s", optarg, PAYLOAD_HDR, 16 << 20); break;
		case 'r': O.rate = num("-r", optarg, 0.001, 1e9); break;
		case 'd':
			O.duration = num("-d", optarg, 0.1, 1e6);
			O.duration_set = true;
			break;
		case 'w': O.warmup = num("-w", optarg, 0, 1e6); break;
		case 'v': O.verbose = true; break;
		case OPT_TLS: O.tls = true; break;
		case OPT_CAFILE: O.cafile = optarg; break;
		case OPT_CERT: O.cert = optarg; break;
		case OPT_KEY: O.key = optarg; break;
		case OPT_INSECURE: O.insecure = true; break;
		case OPT_RAW: O.raw = true; break;
		case OPT_SEARCH: O.search = true; break;
		case OPT_THREADS: O.threads = (int)num("--threads", optarg, 1, 1024); break;
		case OPT_LABEL: O.label = optarg; break;
		case OPT_JSON: O.json = optarg; break;
		case OPT_PROGRESS: O.progress = num("--progress", optarg, 0, 1e6); break;
		case OPT_READY: O.ready_file = optarg; break;
		case OPT_HELP: usage(NULL);
		case OPT_KEEPALIVE:
			O.keepalive = (uint16_t)num("--keepalive", optarg, 0, 65535);
			break;
		case OPT_INFLIGHT:
			O.inflight = (uint32_t)num("--inflight", optarg, 1, 32768);
			break;
		case OPT_TICK: O.tick_us = (uint32_t)num("--tick-us", optarg, 1, 1000000); break;
		case OPT_BURST:
			O.connect_burst = (uint32_t)num("--connect-burst", optarg, 1, 1000000);
			break;
		case OPT_CTIMEOUT:
			O.connect_timeout = num("--connect-timeout", optarg, 0.1, 1e6);
			break;
		case OPT_STEP:
			O.step = num("--step", optarg, 0.1, 1e6);
			step_set = true;
			break;
		case OPT_DRAIN: O.drain = num("--drain", optarg, 0, 1e6); break;
		case OPT_FACTOR: O.factor = num("--factor", optarg, 1.01, 100); break;
		case OPT_OKRATIO: O.ok_ratio = num("--ok-ratio", optarg, 0.01, 1); break;
		case OPT_MAXLOSS: O.max_loss = num("--max-loss", optarg, 0, 1); break;
		case OPT_MAXGROWTH: O.max_growth = num("--max-growth", optarg, 0, 1); break;
		case OPT_MAXRATE: O.max_rate = num("--max-rate", optarg, 0.001, 1e9); break;
		case OPT_BISECT: O.bisect = (uint32_t)num("--bisect", optarg, 0, 100); break;
		case OPT_MAXSTEPS:
			O.max_steps = (uint32_t)num("--max-steps", optarg, 1, 1000);
			break;
		case OPT_MAXPACKET:
			O.max_packet = (uint32_t)num("--max-packet", optarg, 64,
						     MQTT_MAX_PACKET_SIZE);
			break;
		case OPT_BIND: O.bind = optarg; break;
		case OPT_PREFIX: O.client_prefix = optarg; break;
		case OPT_NOIDLESUB: O.idle_sub = false; break;
		case OPT_VERSION:
			printf("kmqtt-bench %d\n", BENCH_VERSION);
			exit(0);
		default:
			usage(NULL);
		}
	}
	if (optind != argc - 1)
		usage("one SCENARIO expected");
	O.scenario = argv[optind];
	if (strcmp(O.scenario, "fanin") && strcmp(O.scenario, "fanout") &&
	    strcmp(O.scenario, "p2p") && strcmp(O.scenario, "qos1") &&
	    strcmp(O.scenario, "qos2") && strcmp(O.scenario, "offline") &&
	    strcmp(O.scenario, "idle") && strcmp(O.scenario, "city"))
		usage("unknown scenario '%s'", O.scenario);
	if (!strcmp(O.scenario, "offline")) {
		if (O.qos == 0)
			usage("offline: QoS 0 messages are not queued for offline subscribers: "
			      "-q 1 or 2");
		if (O.qos < 0)
			O.qos = 1;
		if (O.search)
			usage("offline: a count-driven run, --search does not apply");
		if (O.raw)
			usage("offline: kmqtt-relay keeps no sessions, --raw does not apply");
		O.warmup = 0;
	}
	if (!strcmp(O.scenario, "qos1"))
		O.qos = 1;
	if (!strcmp(O.scenario, "qos2"))
		O.qos = 2;
	if (!strcmp(O.scenario, "idle") && O.search)
		usage("--search makes no sense for idle");
	if (!O.search && !O.rate && strcmp(O.scenario, "idle") && strcmp(O.scenario, "city") &&
	    strcmp(O.scenario, "offline"))
		usage("-r RATE is required (or --search)");
	if (O.search && !O.rate)
		O.rate = 1000;
	if (O.search && !step_set && O.duration_set)
		O.step = O.duration;
	if ((O.cafile || O.cert || O.key) && !O.tls)
		usage("--cafile, --cert and --key need --tls");
	if (!O.cert != !O.key)
		usage("--cert and --key go together");
	if (O.tls && O.raw)
		usage("--raw speaks plain TCP to kmqtt-relay; --tls does not apply");
	if (!O.max_packet)
		O.max_packet = O.size + 1024 > (1u << 20) ? O.size + 1024 : 1u << 20;
	if (O.max_rate && O.rate > O.max_rate)
		O.rate = O.max_rate;
}

static void raise_nofile(uint32_t conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {
		struct rlimit r2 = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &r2) == 0)
			return;
		rl.rlim_cur = rl.rlim_max;
	} else {
		rl.rlim_cur = want;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		fprintf(stderr, "kmqtt-bench: %u connections need %llu file descriptors, the "
			"limit is %llu (raise it, e.g. ulimit -n, or run as root)\n", conns,
			(unsigned long long)want, (unsigned long long)rl.rlim_cur);
		exit(1);
	}
}

static void resolve(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int err = getaddrinfo(O.host, O.port, &hints, &ai);

	if (err) {
		fprintf(stderr, "kmqtt-bench: %s:%s: %s\n", O.host, O.port, gai_strerror(err));
		exit(1);
	}
	memcpy(&target_addr, ai->ai_addr, ai->ai_addrlen);
	target_len = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void add_bind(const char *a)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, a, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, a, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
	} else {
		usage("--bind: '%s' is not an IP address", a);
	}
	if (ss.ss_family != target_addr.ss_family)
		usage("--bind: %s is not of the target's address family", a);
	bind_addrs = realloc(bind_addrs, (n_bind_addrs + 1) * sizeof(*bind_addrs));
	if (!bind_addrs) {
		perror("kmqtt-bench");
		exit(1);
	}
	bind_addrs[n_bind_addrs++] = ss;
}

static void setup_bind(uint32_t conns)
{
	char *list, *tok, *save = NULL;

	if (O.bind) {
		list = strdup(O.bind);
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			add_bind(tok);
		free(list);
		return;
	}
	/* Loopback: every 127.x.x.x address is local, each has its own port range. */
	if (conns > AUTO_BIND_ABOVE && target_addr.ss_family == AF_INET &&
	    (ntohl(((struct sockaddr_in *)&target_addr)->sin_addr.s_addr) >> 24) == 127) {
		uint32_t k, nb = conns / AUTO_BIND_ABOVE + 1;
		char a[32];

		for (k = 1; k <= nb && k < 255; k++) {
			snprintf(a, sizeof(a), "127.0.0.%u", k);
			add_bind(a);
		}
	}
}

static void setup_tls(void)
{
	char err[256];

	if (!O.tls)
		return;
	OPENSSL_init_ssl(0, NULL);
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (!tls_ctx)
		goto fail;
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (O.cafile) {
		if (SSL_CTX_load_verify_locations(tls_ctx, O.cafile, NULL) != 1)
			goto fail;
	} else if (SSL_CTX_set_default_verify_paths(tls_ctx) != 1) {
		goto fail;
	}
	SSL_CTX_set_verify(tls_ctx, O.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (O.cert && (SSL_CTX_use_certificate_chain_file(tls_ctx, O.cert) != 1 ||
		       SSL_CTX_use_PrivateKey_file(tls_ctx, O.key, SSL_FILETYPE_PEM) != 1 ||
		       SSL_CTX_check_private_key(tls_ctx) != 1))
		goto fail;
	return;
fail:
	ERR_error_string_n(ERR_get_error(), err, sizeof(err));
	fprintf(stderr, "kmqtt-bench: TLS set-up: %s\n", err);
	exit(1);
}

static void live_sum(struct live *s, uint32_t epoch, bool *all_final, bool *all_collected)
{
	struct live l;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	if (all_final)
		*all_final = true;
	if (all_collected)
		*all_collected = true;
	for (i = 0; i < nworkers; i++) {
		worker_live(workers[i], &l);
		s->ready += l.ready;
		s->sent += l.sent;
		s->recv += l.recv;
		s->expected += l.expected;
		s->delivered += l.delivered;
		s->lost_conns += l.lost_conns;
		s->pings += l.pings;
		s->pongs += l.pongs;
		s->resumed += l.resumed;
		s->acked += l.acked;
		if (l.last_ack_ns > s->last_ack_ns)
			s->last_ack_ns = l.last_ack_ns;
		if (l.last_rx_ns > s->last_rx_ns)
			s->last_rx_ns = l.last_rx_ns;
		if (all_final && l.finalized != epoch)
			*all_final = false;
		if (all_collected && l.collected != epoch)
			*all_collected = false;
	}
}

static void wake_all(void)
{
	uint32_t i;

	for (i = 0; i < nworkers; i++)
		worker_wake(workers[i]);
}

static void check_abort(void)
{
	if (__atomic_load_n(&ctl.fatal, __ATOMIC_ACQUIRE)) {
		fprintf(stderr, "kmqtt-bench: %s\n", ctl.fatal_msg);
		exit(1);
	}
	if (interrupted && sc.traffic) {
		fprintf(stderr, "kmqtt-bench: interrupted\n");
		exit(1);
	}
}

static void progress(const char *phase)
{
	struct live l;
	uint64_t now = now_ns();
	double dt;

	if (!O.progress || now < next_progress)
		return;
	live_sum(&l, 0, NULL, NULL);
	dt = prog_t ? (double)(now - prog_t) / 1e9 : 0;
	fprintf(stderr, "# %8.1fs %-8s sent %llu (%.0f/s) recv %llu (%.0f/s) conns %llu/%u "
		"lost-conns %llu\n", (double)(now - t_start) / 1e9, phase,
		(unsigned long long)l.sent, dt > 0 ? (double)(l.sent - prog_sent) / dt : 0.0,
		(unsigned long long)l.recv, dt > 0 ? (double)(l.recv - prog_recv) / dt : 0.0,
		(unsigned long long)l.ready, sc.ncl, (unsigned long long)l.lost_conns);
	prog_t = now;
	prog_sent = l.sent;
	prog_recv = l.recv;
	next_progress = now + (uint64_t)(O.progress * 1e9);
}

/* Sleep until @t (CLOCK_MONOTONIC ns), watching for failures and printing progress. */
static void wait_until(uint64_t t, const char *phase)
{
	for (;;) {
		uint64_t now = now_ns(), until = t;
		struct timespec ts;

		check_abort();
		progress(phase);
		if (now >= t || (interrupted && !sc.traffic))
			return;
		if (until - now > 50000000ULL)
			until = now + 50000000ULL;
		ts.tv_sec = (time_t)(until / 1000000000ULL);
		ts.tv_nsec = (long)(until % 1000000000ULL);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void cpu_now(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long v = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* After a bad step: let the broker work off its backlog before offering more. */
static void settle(void)
{
	uint64_t start = now_ns(), last_change = start, last = 0;
	struct live l;

	for (;;) {
		wait_until(now_ns() + 20000000ULL, "settle");
		live_sum(&l, 0, NULL, NULL);
		if (l.recv != last) {
			last = l.recv;
			last_change = now_ns();
		}
		if (now_ns() - last_change >= QUIET_NS || now_ns() - start >= SETTLE_MAX_NS)
			return;
	}
}

/* Have the workers hand over step @e's figures; merge them into @r (cleared first). */
static void collect(uint32_t e, struct step_result *r)
{
	uint64_t deadline;
	bool collected;
	struct live l;
	uint32_t i;

	__atomic_store_n(&ctl.collect, e, __ATOMIC_RELEASE);
	wake_all();
	deadline = now_ns() + 10000000000ULL;
	for (;;) {
		live_sum(&l, e, NULL, &collected);
		if (collected)
			break;
		if (now_ns() > deadline) {
			fprintf(stderr, "kmqtt-bench: workers did not hand over their results\n");
			exit(1);
		}
		wait_until(now_ns() + 1000000ULL, "collect");
	}
	memset(r, 0, sizeof(*r));
	for (i = 0; i < nworkers; i++)
		stats_merge(&r->st, worker_result(workers[i]));
}

static void run_step(double rate, double warm, double dur, struct step_result *r)
{
	uint64_t now, deadline, last_change, last_recv = 0, meas_end, backlog_mid, backlog_end;
	double u0, s0, u1, s1;
	bool final;
	struct live l;
	uint32_t e = ++epoch_no;

	now = now_ns();
	ctl.origin = now + ORIGIN_LEAD_NS;
	ctl.meas_start = ctl.origin + (uint64_t)(warm * 1e9);
	ctl.meas_end = meas_end = ctl.meas_start + (uint64_t)(dur * 1e9);
	ctl.scale = sc.base_rate > 0 ? rate / sc.base_rate : 0;
	__atomic_store_n(&ctl.epoch, e, __ATOMIC_RELEASE);
	wake_all();
	wait_until(ctl.meas_start, "warm-up");
	cpu_now(&u0, &s0);
	/* The backlog (deliveries due but not received) halfway and at the end. */
	wait_until(ctl.meas_start + (meas_end - ctl.meas_start) / 2,
		   sc.traffic ? "measure" : "idle");
	live_sum(&l, e, NULL, NULL);
	backlog_mid = l.expected > l.delivered ? l.expected - l.delivered : 0;
	wait_until(meas_end, sc.traffic ? "measure" : "idle");
	cpu_now(&u1, &s1);
	live_sum(&l, e, NULL, NULL);
	backlog_end = l.expected > l.delivered ? l.expected - l.delivered : 0;
	now = now_ns();
	if (interrupted && !sc.traffic)
		dur = (double)(now - ctl.meas_start) / 1e9;
	/* Drain: until everything expected arrived, nothing arrives any more, or --drain. */
	deadline = now + (uint64_t)(O.drain * 1e9);
	last_change = now;
	for (;;) {
		live_sum(&l, e, &final, NULL);
		now = now_ns();
		if (l.recv != last_recv) {
			last_recv = l.recv;
			last_change = now;
		}
		if (!sc.traffic || (final && l.delivered >= l.expected) || now >= deadline ||
		    (final && now - last_change >= QUIET_NS))
			break;
		wait_until(now + 10000000ULL, "drain");
	}
	collect(e, r);
	r->offered = rate;
	r->duration = dur;
	r->cpu_user = u1 - u0;
	r->cpu_sys = s1 - s0;
	r->backlog_mid = backlog_mid;
	r->backlog_end = backlog_end;
	step_totals(r, sc.nclass);
	/* growing: the backlog grew by more than --max-growth of the window's deliveries */
	r->growing = (double)backlog_end > (double)backlog_mid +
		     O.max_growth * (double)r->tot.offered_exp;
	r->ok = r->tot.offered_exp > 0 &&
		(double)r->tot.delivered_by_end >= O.ok_ratio * (double)r->tot.offered_exp &&
		(double)r->lost <= O.max_loss * (double)r->tot.expected && !r->growing;
}

/*
 * The offline scenario (see the header comment): after set-up the subscribers are parked.
 * One count step: every publisher sends -m messages; stored when all are completed
 * (PUBACK, PUBCOMP) or nothing completed for --drain seconds. Then the subscribers connect
 * again (within --connect-timeout, else the run fails) and receive until every delivery
 * arrived or nothing arrived for --drain seconds.
 */
static void run_offline(struct step_result *r)
{
	uint64_t total = (uint64_t)sc.npub * O.messages, quiet = (uint64_t)(O.drain * 1e9);
	uint64_t now, t0, t1, last, last_change, resumed_at = 0, deadline;
	double u0, s0, u1, s1;
	struct live l;
	uint32_t e = ++epoch_no;

	now = now_ns();
	t0 = now + ORIGIN_LEAD_NS;
	ctl.origin = ctl.meas_start = t0;
	ctl.meas_end = UINT64_MAX;
	ctl.scale = 1;
	ctl.count = O.messages;
	__atomic_store_n(&ctl.epoch, e, __ATOMIC_RELEASE);
	wake_all();
	last = 0;
	last_change = now;
	for (;;) {
		live_sum(&l, e, NULL, NULL);
		now = now_ns();
		if (l.acked != last) {
			last = l.acked;
			last_change = now;
		}
		if (l.acked >= total || now - last_change >= quiet)
			break;
		wait_until(now + 1000000ULL, "store");
	}
	if (l.acked < total)
		fprintf(stderr, "kmqtt-bench: warning: %llu of %llu messages completed, none "
			"for %.1f s: going on with the subscribers' return\n",
			(unsigned long long)l.acked, (unsigned long long)total, O.drain);

	cpu_now(&u0, &s0);
	t1 = now_ns();
	__atomic_store_n(&ctl.resume, 1, __ATOMIC_RELEASE);
	wake_all();
	deadline = t1 + (uint64_t)(O.connect_timeout * 1e9);
	last = 0;
	last_change = t1;
	for (;;) {
		live_sum(&l, e, NULL, NULL);
		now = now_ns();
		if (l.recv != last) {
			last = l.recv;
			last_change = now;
		}
		if (!resumed_at && l.resumed >= sc.nsub)
			resumed_at = last_change = now;
		if (!resumed_at && now > deadline) {
			fprintf(stderr, "kmqtt-bench: only %llu of %u subscribers connected again "
				"within %.0f s\n", (unsigned long long)l.resumed, sc.nsub,
				O.connect_timeout);
			exit(1);
		}
		if (resumed_at && (l.delivered >= l.expected || now - last_change >= quiet))
			break;
		wait_until(now + 1000000ULL, "drain");
	}
	cpu_now(&u1, &s1);
	collect(e, r);
	r->resumed = l.resumed;
	/* (a completion that came after the store phase gave up extends it) */
	r->stored_s = r->st.last_ack_ns > t0 ? (double)(r->st.last_ack_ns - t0) / 1e9 : 0;
	r->resume_s = (double)(resumed_at - t1) / 1e9;
	r->drained_s = r->st.last_rx_ns > t1 ? (double)(r->st.last_rx_ns - t1) / 1e9 : 0;
	r->duration = r->drained_s;
	r->offered = r->stored_s > 0 ? (double)r->st.acked / r->stored_s : 0;
	r->cpu_user = u1 - u0;
	r->cpu_sys = s1 - s0;
	step_totals(r, sc.nclass);
	r->ok = r->st.acked == total && r->lost == 0 && r->tot.dup == 0 &&
		!r->st.sess_absent && !r->st.sess_stale;
}

static struct step_result *steps;
static uint32_t nsteps;

static bool search_step(double rate)
{
	struct step_result *r = &steps[nsteps++];
	double cpu;

	run_step(rate, O.warmup, O.step, r);
	cpu = r->duration > 0 ? (r->cpu_user + r->cpu_sys) / r->duration * 100 : 0;
	fprintf(stderr, "# step %u: offered %.0f/s, expected %.0f/s, delivered %.0f/s "
		"(%.1f%% in the window), lost %llu, dup %llu, backlog %llu -> %llu, p99 %.0f us, "
		"generator CPU %.0f%%: %s\n",
		nsteps, rate, (double)r->tot.expected / r->duration,
		(double)r->tot.delivered / r->duration,
		r->tot.offered_exp ? 100.0 * (double)r->tot.delivered_by_end /
				     (double)r->tot.offered_exp : 0.0,
		(unsigned long long)r->lost, (unsigned long long)r->tot.dup,
		(unsigned long long)r->backlog_mid,
		(unsigned long long)r->backlog_end, (double)hist_quantile(&r->tot.lat, 0.99) / 1000,
		cpu, r->ok ? "good" : "behind");
	if (cpu > 90.0 * O.threads)
		fprintf(stderr, "# warning: the generator used %.0f%% CPU with %d threads: it "
			"may be the bottleneck\n", cpu, O.threads);
	if (!r->ok)
		settle();
	return r->ok;
}

static double search(struct step_result **best)
{
	double rate = O.rate, good = 0, bad = 0;
	uint32_t best_i = 0;
	bool ok;

	/* Up by --factor while good. */
	while (nsteps < O.max_steps) {
		ok = search_step(rate);
		if (!ok) {
			bad = rate;
			break;
		}
		good = rate;
		best_i = nsteps - 1;
		if (O.max_rate && rate >= O.max_rate)
			break;
		rate *= O.factor;
		if (O.max_rate && rate > O.max_rate)
			rate = O.max_rate;
	}
	/* Already bad at the start: halve until good. */
	while (!good && nsteps < O.max_steps && rate > 1) {
		rate /= 2;
		if (search_step(rate)) {
			good = rate;
			best_i = nsteps - 1;
		} else {
			bad = rate;
		}
	}
	/* Bisect. */
	for (uint32_t i = 0; i < O.bisect && nsteps < O.max_steps && good && bad &&
	     (bad - good) / good > 0.05; i++) {
		rate = (good + bad) / 2;
		if (search_step(rate)) {
			good = rate;
			best_i = nsteps - 1;
		} else {
			bad = rate;
		}
	}
	*best = &steps[good ? best_i : nsteps - 1];
	return good;
}

static void write_ready_file(uint64_t n)
{
	char tmp[4096];
	FILE *f;

	if (!O.ready_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", O.ready_file, (int)getpid());
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)n) < 0 || fclose(f) ||
	    rename(tmp, O.ready_file)) {
		fprintf(stderr, "kmqtt-bench: %s: %s\n", O.ready_file, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct step_result *best;
	struct client ***lists;
	uint32_t *counts, i, rr[3] = { 0, 0, 0 };
	double connect_s, max_rate = 0;
	struct sigaction sa;
	struct live l;
	uint64_t deadline, rss;
	FILE *jf;

	parse_opts(argc, argv);
	if (scenario_build(&sc, O.scenario, &O))
		usage("unknown scenario '%s'", O.scenario);
	if (!O.rate && !strcmp(O.scenario, "city"))
		O.rate = sc.base_rate;
	if (!O.threads)
		O.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (O.threads < 1)
		O.threads = 1;
	if ((uint32_t)O.threads > sc.ncl)
		O.threads = (int)sc.ncl;
	if (sc.max_payload + 1024 > O.max_packet)
		O.max_packet = sc.max_payload + 1024;

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	raise_nofile(sc.ncl);
	resolve();
	setup_bind(sc.ncl);
	setup_tls();

	/* Deal the clients out: subscribers, publishers and idle ones each round-robin. */
	nworkers = (uint32_t)O.threads;
	workers = calloc(nworkers, sizeof(*workers));
	lists = calloc(nworkers, sizeof(*lists));
	counts = calloc(nworkers, sizeof(*counts));
	if (!workers || !lists || !counts) {
		perror("kmqtt-bench");
		return 1;
	}
	for (i = 0; i < nworkers; i++) {
		lists[i] = calloc(sc.ncl, sizeof(**lists));
		if (!lists[i]) {
			perror("kmqtt-bench");
			return 1;
		}
	}
	for (i = 0; i < sc.ncl; i++) {
		uint32_t t = rr[sc.cl[i].role]++ % nworkers;

		lists[t][counts[t]++] = &sc.cl[i];
	}
	t_start = now_ns();
	for (i = 0; i < nworkers; i++) {
		workers[i] = worker_new((int)i, lists[i], counts[i], sc.max_payload);
		if (!workers[i]) {
			fprintf(stderr, "kmqtt-bench: worker set-up: %s\n", strerror(errno));
			return 1;
		}
	}
	if (O.verbose)
		fprintf(stderr, "# %s: %u connections (%u publishers), %u threads, base rate "
			"%.1f/s, to %s:%s%s%s\n", sc.name, sc.ncl, sc.npub, nworkers,
			sc.base_rate, O.host, O.port, O.tls ? " (TLS)" : "",
			O.raw ? " (raw relay protocol)" : "");
	for (i = 0; i < nworkers; i++)
		if (worker_start(workers[i])) {
			fprintf(stderr, "kmqtt-bench: cannot start threads\n");
			return 1;
		}

	/* Set-up. */
	deadline = t_start + (uint64_t)(O.connect_timeout * 1e9);
	for (;;) {
		live_sum(&l, 0, NULL, NULL);
		if (l.ready >= sc.ncl)
			break;
		if (now_ns() > deadline) {
			fprintf(stderr, "kmqtt-bench: only %llu of %u connections were set up "
				"within %.0f s\n", (unsigned long long)l.ready, sc.ncl,
				O.connect_timeout);
			return 1;
		}
		if (interrupted) {
			fprintf(stderr, "kmqtt-bench: interrupted\n");
			return 1;
		}
		wait_until(now_ns() + 5000000ULL, "connect");
	}
	connect_s = (double)(now_ns() - t_start) / 1e9;
	if (O.verbose || !sc.traffic)
		fprintf(stderr, "# %u connections set up in %.3f s\n", sc.ncl, connect_s);
	if (!sc.traffic) {
		write_ready_file(sc.ncl);
		fprintf(stderr, "# ready %u\n", sc.ncl);
	}

	steps = calloc(O.search ? O.max_steps : 1, sizeof(*steps));
	if (!steps) {
		perror("kmqtt-bench");
		return 1;
	}
	if (O.search) {
		max_rate = search(&best);
	} else if (sc.offline) {
		nsteps = 1;
		best = &steps[0];
		run_offline(best);
	} else {
		nsteps = 1;
		best = &steps[0];
		run_step(O.rate, sc.traffic ? O.warmup : 0, O.duration, best);
	}
	rss = rss_kb();

	__atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
	wake_all();
	for (i = 0; i < nworkers; i++)
		worker_join(workers[i]);

	fprintf(stderr, "# kmqtt-bench %s%s%s: %u connections set up in %.2f s, %u threads\n",
		sc.name, *O.label ? " against " : "", O.label, sc.ncl, connect_s, nworkers);
	if (O.search)
		fprintf(stderr, "# max sustained rate %.0f msg/s (best step below)\n", max_rate);
	if (!sc.traffic)
		fprintf(stderr, "# idle %.1f s: pings %llu, pongs %llu, connections lost %llu, "
			"generator RSS %llu kB\n", best->duration,
			(unsigned long long)best->st.pings, (unsigned long long)best->st.pongs,
			(unsigned long long)best->st.disconnects, (unsigned long long)rss);
	else
		report_human(stderr, &sc, best, O.search ? "best step" : "result");
	if (O.json) {
		jf = strcmp(O.json, "-") ? fopen(O.json, "w") : stdout;
		if (!jf) {
			fprintf(stderr, "kmqtt-bench: %s: %s\n", O.json, strerror(errno));
			return 1;
		}
		report_json(jf, &sc, best, steps, nsteps, max_rate, sc.ncl, connect_s, rss);
		if (jf != stdout ? fclose(jf) : fflush(jf)) {
			fprintf(stderr, "kmqtt-bench: %s: %s\n", O.json, strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < nworkers; i++) {
		worker_free(workers[i]);
		free(lists[i]);
	}
	free(workers);
	free(lists);
	free(counts);
	free(steps);
	free(bind_addrs);
	scenario_free(&sc);
	if (tls_ctx)
		SSL_CTX_free(tls_ctx);
	return 0;
}
