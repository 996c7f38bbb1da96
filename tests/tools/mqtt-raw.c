// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mqtt-raw — speaks MQTT 3.1.1 over a plain TCP socket, byte by byte, to check how a broker
 * treats clients that break the protocol. No MQTT library: the point is to send what a
 * library never would.
 *
 * Every check prints one TAP line ("ok - raw: ..." or "not ok - raw: ...: why"); the exit
 * status is 1 if any check failed, 2 on a usage error.
 *
 *   file FILE...  for each FILE: connect, send a valid CONNECT, read CONNACK 0, send the
 *                 file's bytes and expect the broker to close the connection. The file
 *                 name says how soon (see the corpus README):
 *                   NAME.bin        at once (within -t ms): a malformed packet;
 *                   NAME.eof.bin    at once after we half-close our side (truncated packet);
 *                   NAME.stall.bin  by the keepalive timer: within 1.5 x -k s + -s ms;
 *                   NAME.first.bin  at once, sent instead of the CONNECT (pre-auth path).
 *  noconnect     connect and send nothing: closed within -T s (the connect timeout)
 *  slowloris     send a CONNECT one byte per second: closed within -T s, before the
 *                CONNECT is complete
 *  keepalive     CONNECT with keepalive -k, then silence: closed no sooner than -k s and
 *                no later than 1.5 x -k s + slack [MQTT-3.1.2-24]
 *  ping          CONNECT with keepalive -k, then a PINGREQ every -k/2 s for 3 x -k s:
 *                every PINGREQ answered and the connection kept
 *  verify        only the "broker still serves a normal client" check
 *
 * -V adds the verify check after each case, so a case that wedged or crashed the broker
 * is caught where it happened.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_CASE_BYTES	(1024 * 1024)	/* corpus files are small; refuse anything odd */
#define MAX_PACKET	(64 * 1024)	/* what this tool reads back from the broker */
#define EARLY_MS	250		/* tolerance below the keepalive for "not too early" */

static const char *host = "127.0.0.1";
static const char *port = "1883";
static const char *user;
static const char *pass;
static int keepalive = 2;		/* seconds, for the CONNECTs this tool sends */
static int fast_ms = 2000;		/* a malformed packet must be answered by a close this fast */
static int connect_timeout_s = 15;	/* noconnect / slowloris deadline */
static int slack_ms = 1500;		/* keepalive timer granularity allowed on top of 1.5 x keepalive */
static bool verify_after;
static int failures;
static unsigned int serial;

static void tap(bool good, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - raw: ", good ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!good)
		failures++;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int dial(char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, one = 1;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(why, whylen, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(why, whylen, "connect %s:%s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Send all of buf; false if the peer has gone (EPIPE/ECONNRESET) or on another error. */
static bool send_all(int fd, const void *buf, size_t len, int *err)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

enum rd { RD_DATA, RD_EOF, RD_RESET, RD_TIMEOUT, RD_ERROR };

/* Wait until @deadline (ms, monotonic) for bytes; at most @len of them into @buf. */
static enum rd read_some(int fd, void *buf, size_t len, long long deadline, size_t *got)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return RD_ERROR;
		}
		if (rc == 0)
			return RD_TIMEOUT;
		n = recv(fd, buf, len, 0);
		if (n > 0) {
			*got = (size_t)n;
			return RD_DATA;
		}
		if (n == 0)
			return RD_EOF;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		return errno == ECONNRESET ? RD_RESET : RD_ERROR;
	}
}

static enum rd read_exact(int fd, uint8_t *buf, size_t len, long long deadline)
{
	while (len) {
		size_t got = 0;
		enum rd r = read_some(fd, buf, len, deadline, &got);

		if (r != RD_DATA)
			return r;
		buf += got;
		len -= got;
	}
	return RD_DATA;
}

/* One whole MQTT packet: first byte in *type, body (at most cap bytes) in body. */
static enum rd read_packet(int fd, uint8_t *type, uint8_t *body, size_t cap, size_t *len,
			   long long deadline)
{
	uint32_t rl = 0;
	uint8_t b;
	enum rd r;
	int i;

	r = read_exact(fd, type, 1, deadline);
	if (r != RD_DATA)
		return r;
	for (i = 0; i < 4; i++) {
		r = read_exact(fd, &b, 1, deadline);
		if (r != RD_DATA)
			return r;
		rl |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	if (i == 4 || rl > cap)
		return RD_ERROR;
	*len = rl;
	return read_exact(fd, body, rl, deadline);
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

static size_t put_rl(uint8_t *p, size_t rl)
{
	size_t i = 0;

	do {
		uint8_t b = rl & 0x7f;

		rl >>= 7;
		p[i++] = b | (rl ? 0x80 : 0);
	} while (rl);
	return i;
}

/* A valid MQTT 3.1.1 CONNECT, clean session, with our credentials. */
static size_t make_connect(uint8_t *out, size_t cap, const char *client_id, int ka)
{
	uint8_t body[1024];
	size_t n = 0, h;
	uint8_t flags = 0x02;

	if (strlen(client_id) + (user ? strlen(user) : 0) + (pass ? strlen(pass) : 0) + 32 >
	    sizeof(body))
		return 0;
	n += put_str(body + n, "MQTT");
	body[n++] = 4;
	if (user)
		flags |= 0x80;
	if (user && pass)
		flags |= 0x40;
	body[n++] = flags;
	body[n++] = (uint8_t)(ka >> 8);
	body[n++] = (uint8_t)ka;
	n += put_str(body + n, client_id);
	if (user)
		n += put_str(body + n, user);
	if (user && pass)
		n += put_str(body + n, pass);
	if (n + 5 > cap)
		return 0;
	out[0] = 0x10;
	h = 1 + put_rl(out + 1, n);
	memcpy(out + h, body, n);
	return h + n;
}

static const char *rd_name(enum rd r)
{
	switch (r) {
	case RD_DATA: return "data";
	case RD_EOF: return "EOF";
	case RD_RESET: return "reset";
	case RD_TIMEOUT: return "timeout";
	case RD_ERROR: return "error";
	}
	return "?";
}

/* Connect and complete a valid CONNECT/CONNACK exchange; the fd, or -1 with why. */
static int session(int ka, char *why, size_t whylen)
{
	uint8_t pkt[1200], body[16], type;
	char id[64];
	size_t n, len = 0;
	int fd, err = 0;
	enum rd r;

	fd = dial(why, whylen);
	if (fd < 0)
		return -1;
	snprintf(id, sizeof(id), "kmqtt-raw-%d-%u", (int)getpid(), serial++);
	n = make_connect(pkt, sizeof(pkt), id, ka);
	if (!n || !send_all(fd, pkt, n, &err)) {
		snprintf(why, whylen, "sending CONNECT: %s", strerror(err));
		goto fail;
	}
	r = read_packet(fd, &type, body, sizeof(body), &len, now_ms() + 5000);
	if (r != RD_DATA) {
		snprintf(why, whylen, "no CONNACK (%s)", rd_name(r));
		goto fail;
	}
	if (type != 0x20 || len != 2 || body[1] != 0) {
		snprintf(why, whylen, "bad CONNACK: type 0x%02x len %zu code %d", type, len,
			 len == 2 ? body[1] : -1);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * Wait for the broker to close: read (and count) whatever it sends until EOF or reset.
 * Returns the result that ended the wait; *bytes is what came before it.
 */
static enum rd await_close(int fd, long long deadline, size_t *bytes)
{
	uint8_t buf[4096];

	*bytes = 0;
	for (;;) {
		size_t got = 0;
		enum rd r = read_some(fd, buf, sizeof(buf), deadline, &got);

		if (r != RD_DATA)
			return r;
		*bytes += got;
	}
}

/* A normal client can still connect, subscribe and receive its own message. */
static bool verify(char *why, size_t whylen)
{
	uint8_t pkt[256], body[256], type;
	char topic[64];
	size_t n = 0, tl, len = 0;
	long long deadline;
	int fd, err = 0;
	enum rd r;

	fd = session(30, why, whylen);
	if (fd < 0)
		return false;
	deadline = now_ms() + 5000;
	snprintf(topic, sizeof(topic), "kmqtt-raw/verify/%d-%u", (int)getpid(), serial);
	tl = strlen(topic);
	/* SUBSCRIBE id 1, QoS 0 */
	pkt[n++] = 0x82;
	pkt[n++] = (uint8_t)(2 + 2 + tl + 1);
	pkt[n++] = 0;
	pkt[n++] = 1;
	n += put_str(pkt + n, topic);
	pkt[n++] = 0;
	if (!send_all(fd, pkt, n, &err)) {
		snprintf(why, whylen, "verify: SUBSCRIBE: %s", strerror(err));
		goto fail;
	}
	r = read_packet(fd, &type, body, sizeof(body), &len, deadline);
	if (r != RD_DATA || type != 0x90 || len != 3 || body[0] || body[1] != 1 || body[2]) {
		snprintf(why, whylen, "verify: no SUBACK granting QoS 0 (%s, type 0x%02x)",
			 rd_name(r), type);
		goto fail;
	}
	n = 0;
	pkt[n++] = 0x30;
	pkt[n++] = (uint8_t)(2 + tl + 6);
	n += put_str(pkt + n, topic);
	memcpy(pkt + n, "verify", 6);
	n += 6;
	if (!send_all(fd, pkt, n, &err)) {
		snprintf(why, whylen, "verify: PUBLISH: %s", strerror(err));
		goto fail;
	}
	r = read_packet(fd, &type, body, sizeof(body), &len, deadline);
	if (r != RD_DATA || (type & 0xf0) != 0x30 || len != 2 + tl + 6 ||
	    memcmp(body + 2, topic, tl) || memcmp(body + 2 + tl, "verify", 6)) {
		snprintf(why, whylen, "verify: own PUBLISH not delivered back (%s, type 0x%02x)",
			 rd_name(r), type);
		goto fail;
	}
	pkt[0] = 0xe0;
	pkt[1] = 0;
	send_all(fd, pkt, 2, &err);
	close(fd);
	return true;
fail:
	close(fd);
	return false;
}

static void maybe_verify(const char *name)
{
	char why[256] = "";

	if (verify_after) {
		bool good = verify(why, sizeof(why));

		tap(good, "%s: broker still serves a normal client afterwards%s%s", name,
		    good ? "" : ": ", why);
	}
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static uint8_t *load(const char *path, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_size > MAX_CASE_BYTES) {
		snprintf(why, whylen, "cannot read %s: %s", path,
			 fd < 0 ? strerror(errno) : "too large");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		snprintf(why, whylen, "short read of %s", path);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

static void run_file(const char *path)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool eof = ends_with(name, ".eof.bin"), stall = ends_with(name, ".stall.bin");
	bool first = ends_with(name, ".first.bin");
	long long t0, limit_ms;
	char why[256] = "";
	size_t len = 0, bytes = 0;
	uint8_t *data;
	int fd, err = 0;
	enum rd r;

	data = load(path, &len, why, sizeof(why));
	if (!data) {
		tap(false, "%s: %s", name, why);
		return;
	}
	fd = first ? dial(why, sizeof(why)) : session(keepalive, why, sizeof(why));
	if (fd < 0) {
		tap(false, "%s: setup: %s", name, why);
		free(data);
		return;
	}
	limit_ms = stall ? keepalive * 1500LL + slack_ms : fast_ms;
	t0 = now_ms();
	if (!send_all(fd, data, len, &err)) {
		/* The broker closed while we were still sending: that is a close too. */
		tap(err == EPIPE || err == ECONNRESET,
		    "%s: closed while we sent (%s) after %lld ms", name, strerror(err),
		    now_ms() - t0);
		goto out;
	}
	if (eof)
		shutdown(fd, SHUT_WR);
	r = await_close(fd, t0 + limit_ms, &bytes);
	if (r == RD_EOF || r == RD_RESET)
		tap(true, "%s: closed (%s) after %lld ms%s", name, rd_name(r), now_ms() - t0,
		    bytes ? " (after sending bytes first)" : "");
	else
		tap(false, "%s: connection %s after %lld ms, want a close within %lld ms%s",
		    name, r == RD_TIMEOUT ? "still open" : rd_name(r), now_ms() - t0, limit_ms,
		    stall ? " (1.5 x keepalive + slack)" : "");
out:
	close(fd);
	free(data);
	maybe_verify(name);
}

static void run_noconnect(void)
{
	char why[256] = "";
	size_t bytes = 0;
	long long t0;
	enum rd r;
	int fd;

	fd = dial(why, sizeof(why));
	if (fd < 0) {
		tap(false, "noconnect: %s", why);
		return;
	}
	t0 = now_ms();
	r = await_close(fd, t0 + connect_timeout_s * 1000LL, &bytes);
	tap(r == RD_EOF || r == RD_RESET,
	    "noconnect: silent connection %s after %lld ms (connect timeout %d s)",
	    r == RD_TIMEOUT ? "still open" : rd_name(r), now_ms() - t0, connect_timeout_s);
	close(fd);
	maybe_verify("noconnect");
}

static void run_slowloris(void)
{
	uint8_t pkt[1200];
	char why[256] = "", id[200];
	size_t n, i, bytes = 0;
	long long t0, deadline;
	enum rd r = RD_TIMEOUT;
	int fd, err = 0;

	/* A client id long enough that the CONNECT takes longer than the deadline. */
	snprintf(id, sizeof(id), "kmqtt-raw-slowloris-%d-", (int)getpid());
	n = strlen(id);
	memset(id + n, 'L', sizeof(id) - 1 - n);
	id[sizeof(id) - 1] = 0;
	n = make_connect(pkt, sizeof(pkt), id, 60);
	if ((long long)n <= connect_timeout_s + 2) {
		tap(false, "slowloris: CONNECT of %zu bytes is too short for a %d s deadline", n,
		    connect_timeout_s);
		return;
	}
	fd = dial(why, sizeof(why));
	if (fd < 0) {
		tap(false, "slowloris: %s", why);
		return;
	}
	t0 = now_ms();
	deadline = t0 + connect_timeout_s * 1000LL;
	for (i = 0; i + 1 < n && now_ms() < deadline; i++) {
		size_t got = 0;
		uint8_t buf[64];

		if (!send_all(fd, pkt + i, 1, &err)) {
			r = RD_RESET;
			break;
		}
		r = read_some(fd, buf, sizeof(buf), now_ms() + 1000, &got);
		if (r == RD_DATA)
			bytes += got;
		else if (r != RD_TIMEOUT)
			break;
	}
	if (r == RD_TIMEOUT || r == RD_DATA)
		r = await_close(fd, deadline, &bytes);
	tap(r == RD_EOF || r == RD_RESET,
	    "slowloris: CONNECT at 1 byte/s: %s after %lld ms, %zu of %zu bytes sent (connect timeout %d s)",
	    r == RD_TIMEOUT ? "still open" : rd_name(r) /* closed */, now_ms() - t0, i, n,
	    connect_timeout_s);
	close(fd);
	maybe_verify("slowloris");
}

static void run_keepalive(void)
{
	long long t0, el, hi = keepalive * 1500LL + slack_ms;
	char why[256] = "";
	size_t bytes = 0;
	enum rd r;
	int fd;

	fd = session(keepalive, why, sizeof(why));
	if (fd < 0) {
		tap(false, "keepalive: setup: %s", why);
		return;
	}
	t0 = now_ms();
	r = await_close(fd, t0 + hi, &bytes);
	el = now_ms() - t0;
	if (r == RD_EOF || r == RD_RESET)
		tap(el >= keepalive * 1000LL - EARLY_MS,
		    "keepalive: silent client with keepalive %d s closed after %lld ms (want %d..%lld ms)",
		    keepalive, el, keepalive * 1000 - EARLY_MS, hi);
	else
		tap(false, "keepalive: silent client with keepalive %d s %s after %lld ms, want a close by %lld ms",
		    keepalive, r == RD_TIMEOUT ? "still open" : rd_name(r), el, hi);
	close(fd);
	maybe_verify("keepalive");
}

static void run_ping(void)
{
	long long t0, period = keepalive * 500LL, total = keepalive * 3000LL;
	uint8_t ping[2] = { 0xc0, 0 }, body[8], type = 0;
	char why[256] = "";
	int fd, answered = 0, sent = 0, err = 0;
	size_t len = 0;
	enum rd r = RD_DATA;

	fd = session(keepalive, why, sizeof(why));
	if (fd < 0) {
		tap(false, "ping: setup: %s", why);
		return;
	}
	t0 = now_ms();
	while (now_ms() - t0 < total) {
		long long next = now_ms() + period;

		if (!send_all(fd, ping, 2, &err)) {
			r = RD_RESET;
			break;
		}
		sent++;
		r = read_packet(fd, &type, body, sizeof(body), &len, now_ms() + 2000);
		if (r != RD_DATA || type != 0xd0 || len)
			break;
		answered++;
		while (now_ms() < next)
			usleep(20000);
	}
	tap(answered == sent && r == RD_DATA,
	    "ping: PINGREQ every %lld ms for %lld ms with keepalive %d s: %d of %d answered%s%s",
	    period, total, keepalive, answered, sent, r == RD_DATA ? "" : ", then ",
	    r == RD_DATA ? "" : rd_name(r));
	close(fd);
	maybe_verify("ping");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmqtt-mqtt-raw [-h HOST] [-p PORT] [-u USER] [-P PASS] [-k KEEPALIVE_S]\n"
		"                      [-t FAST_MS] [-T CONNECT_TIMEOUT_S] [-s SLACK_MS] [-V]\n"
		"                      COMMAND [FILE...]\n"
		"commands: file FILE..., noconnect, slowloris, keepalive, ping, verify\n");
}

int main(int argc, char **argv)
{
	const char *cmd;
	int c;

	while ((c = getopt(argc, argv, "h:p:u:P:k:t:T:s:V")) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'p': port = optarg; break;
		case 'u': user = optarg; break;
		case 'P': pass = optarg; break;
		case 'k': keepalive = atoi(optarg); break;
		case 't': fast_ms = atoi(optarg); break;
		case 'T': connect_timeout_s = atoi(optarg); break;
		case 's': slack_ms = atoi(optarg); break;
		case 'V': verify_after = true; break;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || keepalive < 1 || keepalive > 65535 || fast_ms < 1 ||
	    connect_timeout_s < 1 || slack_ms < 0) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "file")) {
		if (optind >= argc) {
			usage(stderr);
			return 2;
		}
		for (; optind < argc; optind++)
			run_file(argv[optind]);
	} else if (!strcmp(cmd, "noconnect")) {
		run_noconnect();
	} else if (!strcmp(cmd, "slowloris")) {
		run_slowloris();
	} else if (!strcmp(cmd, "keepalive")) {
		run_keepalive();
	} else if (!strcmp(cmd, "ping")) {
		run_ping();
	} else if (!strcmp(cmd, "verify")) {
		verify_after = true;
		maybe_verify("verify");
	} else {
		usage(stderr);
		return 2;
	}
	return failures ? 1 : 0;
}
