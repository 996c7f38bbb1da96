// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mqtt-check — MQTT 3.1.1 broker behaviour scenarios, driven with libmosquitto (and a few
 * raw sockets where a library would hide what the broker does). Every check prints one
 * TAP line, "ok - SCENARIO: what" or "not ok - SCENARIO: what: why"; the exit status is 1
 * if any check failed, 2 on a usage error.
 *
 *   kmqtt-mqtt-check [-h HOST] [-p PORT] [-u USER] [-P PASS] [-a ACLUSER:ACLPASS]
 *                    [-k KEEPALIVE_S] [-s SLACK_MS] [-n MSGS] [-S SUBSCRIBERS]
 *                    [-w WINDOW] [-t TIMEOUT_S] [-r SEED]
 *                    [-C CAFILE [-E CERTFILE -K KEYFILE] [-V tlsv1.2|tlsv1.3]] SCENARIO [N]...
 *
 * Scenarios: pubsub, wildcards, dollar, overlap, unsubscribe, acl, badauth, keepalive,
 * takeover ("all" runs these), "many N" (N clients x -n QoS 1 messages, -S subscribers),
 * "flow SECONDS" (a steady QoS 1 stream to break things under) and "closewatch SECONDS"
 * (connected clients must see the broker close them: rmmod, broker stopped). Each is
 * described above its code.
 *
 * The broker must run with allow_anonymous false and tests/tools/acl.conf (USER may read
 * and write everything, ACLUSER only what that file says). Every scenario uses topics
 * under a root unique to the run, so runs do not see each other's messages. All clients
 * live in one thread; their sockets are multiplexed with poll() and libmosquitto's
 * loop_read/loop_write/loop_misc, which is what lets `many 1000` run in one process.
 *
 * -C makes every libmosquitto client use TLS, verifying the broker against CAFILE (and its
 * address against the certificate), with a client certificate if -E/-K are given and the
 * protocol version -V (libmosquitto's tls_version). The scenarios that also open raw
 * sockets (acl, badauth, keepalive) stay plain TCP there, so run them on plain listeners.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
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
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <mosquitto.h>

#define MAX_GRANTED	8
#define TOPIC_MAX	256
#define GRACE_MS	300	/* after the last expected message: time for unexpected ones */
#define CONNECT_BATCH	100	/* connections opened before waiting for their CONNACKs */
#define CLIENT_KA	60	/* keepalive of the libmosquitto clients */
#define READ_BURST	256	/* packets read from one client per poll() round */
#define MANY_STALL_MS	15000	/* many: give up when nothing moved for this long */

static const char *host = "127.0.0.1";
static int port = 1883;
static const char *user;
static const char *pass;
static const char *acl_user;
static const char *acl_pass;
static const char *tls_cafile;
static const char *tls_cert;
static const char *tls_key;
static const char *tls_version;
static int keepalive_s = 2;
static int slack_ms = 1500;
static int many_msgs = 10;
static int many_subs = 1;
static int many_window = 20;
static int timeout_s = 10;
static bool timeout_set;
static uint64_t seed;
static char root[64];		/* topic root of this run */
static const char *scenario;
static int failures;

static void tap(bool good, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s: ", good ? "ok" : "not ok", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!good)
		failures++;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fprintf(stderr, "kmqtt-mqtt-check: out of memory\n");
		exit(2);
	}
	return p;
}

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed at start */
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 2685821657736338717ULL;
}

/* ------------------------------------------------------------------------------------ */
/* libmosquitto clients multiplexed in one poll() loop */

struct msg {
	char *topic;
	uint8_t *data;
	int len;
	int qos;
	bool retain;
};

struct client {
	struct mosquitto *m;
	char name[32];
	char id[128];
	int connack;		/* -1 until a CONNACK arrived */
	bool lost;		/* the connection ended (on_disconnect) */
	int lost_rc;
	long long lost_ms;
	int sub_mid;		/* mid of the last SUBACK and what it granted */
	int granted[MAX_GRANTED];
	int ngranted;
	int unsub_mid;		/* mid of the last UNSUBACK */
	unsigned long acked;	/* on_publish: QoS 0 sent or QoS 1 PUBACKed */
	bool keep;		/* store received messages */
	struct msg *msgs;
	size_t nmsgs, msgcap;
	void (*hook)(struct client *c, const struct mosquitto_message *m);
	void *hook_arg;
	size_t slot;
};

static struct client **reg;
static size_t nreg, capreg;

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct client *c = obj;

	(void)m;
	c->connack = rc;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct client *c = obj;

	(void)m;
	if (!c->lost) {
		c->lost = true;
		c->lost_rc = rc;
		c->lost_ms = now_ms();
	}
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
	struct client *c = obj;
	int i;

	(void)m;
	c->ngranted = n < MAX_GRANTED ? n : MAX_GRANTED;
	for (i = 0; i < c->ngranted; i++)
		c->granted[i] = granted[i];
	c->sub_mid = mid;
}

static void on_unsubscribe(struct mosquitto *m, void *obj, int mid)
{
	struct client *c = obj;

	(void)m;
	c->unsub_mid = mid;
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	struct client *c = obj;

	(void)m;
	(void)mid;
	c->acked++;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *mm)
{
	struct client *c = obj;
	struct msg *k;

	(void)m;
	if (c->hook)
		c->hook(c, mm);
	if (!c->keep)
		return;
	if (c->nmsgs == c->msgcap) {
		c->msgcap = c->msgcap ? 2 * c->msgcap : 64;
		c->msgs = realloc(c->msgs, c->msgcap * sizeof(*c->msgs));
		if (!c->msgs) {
			fprintf(stderr, "kmqtt-mqtt-check: out of memory\n");
			exit(2);
		}
	}
	k = &c->msgs[c->nmsgs++];
	k->topic = strdup(mm->topic);
	k->data = xcalloc(1, (size_t)mm->payloadlen);
	if (!k->topic) {
		fprintf(stderr, "kmqtt-mqtt-check: out of memory\n");
		exit(2);
	}
	if (mm->payloadlen)
		memcpy(k->data, mm->payload, (size_t)mm->payloadlen);
	k->len = mm->payloadlen;
	k->qos = mm->qos;
	k->retain = mm->retain;
}

static struct client *client_new_as(const char *name, const char *u, const char *p)
{
	struct client *c = xcalloc(1, sizeof(*c));

	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->id, sizeof(c->id), "%s-%s", root, name);
	c->connack = -1;
	c->keep = true;
	c->m = mosquitto_new(c->id, true, c);
	if (!c->m) {
		fprintf(stderr, "kmqtt-mqtt-check: mosquitto_new: %s\n", strerror(errno));
		exit(2);
	}
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	if (u)
		mosquitto_username_pw_set(c->m, u, p);
	if (tls_cafile && (mosquitto_tls_set(c->m, tls_cafile, NULL, tls_cert, tls_key, NULL) ||
			   mosquitto_tls_opts_set(c->m, 1, tls_version, NULL))) {
		fprintf(stderr, "kmqtt-mqtt-check: TLS options refused by libmosquitto\n");
		exit(2);
	}
	mosquitto_connect_callback_set(c->m, on_connect);
	mosquitto_disconnect_callback_set(c->m, on_disconnect);
	mosquitto_subscribe_callback_set(c->m, on_subscribe);
	mosquitto_unsubscribe_callback_set(c->m, on_unsubscribe);
	mosquitto_publish_callback_set(c->m, on_publish);
	mosquitto_message_callback_set(c->m, on_message);
	if (nreg == capreg) {
		capreg = capreg ? 2 * capreg : 16;
		reg = realloc(reg, capreg * sizeof(*reg));
		if (!reg) {
			fprintf(stderr, "kmqtt-mqtt-check: out of memory\n");
			exit(2);
		}
	}
	c->slot = nreg;
	reg[nreg++] = c;
	return c;
}

static struct client *client_new(const char *name)
{
	return client_new_as(name, user, pass);
}

static void clear_msgs(struct client *c)
{
	size_t i;

	for (i = 0; i < c->nmsgs; i++) {
		free(c->msgs[i].topic);
		free(c->msgs[i].data);
	}
	c->nmsgs = 0;
}

static void pump(int ms, bool (*done)(void *), void *arg);

static void client_free(struct client *c)
{
	if (!c)
		return;
	if (!c->lost && c->connack == 0)
		mosquitto_disconnect(c->m);
	mosquitto_destroy(c->m);
	clear_msgs(c);
	free(c->msgs);
	reg[c->slot] = reg[--nreg];
	reg[c->slot]->slot = c->slot;
	free(c);
}

static void free_all(void)
{
	while (nreg)
		client_free(reg[nreg - 1]);
}

/*
 * mosquitto_loop_read() reads one packet when nothing is queued whatever max_packets says;
 * read on while the socket has bytes (READ_BURST at most, to stay fair to the others).
 */
static void read_all(struct mosquitto *m)
{
	int i, fd, avail;

	for (i = 0; i < READ_BURST; i++) {
		if (mosquitto_loop_read(m, 1))
			return;
		fd = mosquitto_socket(m);
		if (fd < 0 || ioctl(fd, FIONREAD, &avail) || avail <= 0)
			return;
	}
}

/*
 * Serve every client's socket until done(arg) or ms have passed. Reads whatever is
 * readable, writes whatever libmosquitto has queued, and lets it send PINGREQs.
 */
static void pump(int ms, bool (*done)(void *), void *arg)
{
	static struct pollfd *pfd;
	static struct client **who;
	static size_t cap;
	long long deadline = now_ms() + ms;

	for (;;) {
		long long left = deadline - now_ms();
		size_t i, n = 0;
		int rc;

		if (done && done(arg))
			return;
		if (left <= 0)
			return;
		if (cap < nreg) {
			cap = nreg;
			pfd = realloc(pfd, cap * sizeof(*pfd));
			who = realloc(who, cap * sizeof(*who));
			if (!pfd || !who) {
				fprintf(stderr, "kmqtt-mqtt-check: out of memory\n");
				exit(2);
			}
		}
		for (i = 0; i < nreg; i++) {
			int fd = mosquitto_socket(reg[i]->m);

			if (fd < 0)
				continue;
			pfd[n].fd = fd;
			pfd[n].events = POLLIN;
			if (mosquitto_want_write(reg[i]->m))
				pfd[n].events |= POLLOUT;
			pfd[n].revents = 0;
			who[n++] = reg[i];
		}
		rc = poll(pfd, n, left < 50 ? (int)left : 50);
		if (rc < 0 && errno != EINTR) {
			perror("poll");
			exit(2);
		}
		for (i = 0; i < n; i++) {
			struct mosquitto *m = who[i]->m;

			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				read_all(m);
			if ((pfd[i].revents & POLLOUT) && mosquitto_socket(m) >= 0)
				mosquitto_loop_write(m, 1);
			if (mosquitto_socket(m) >= 0)
				mosquitto_loop_misc(m);
		}
	}
}

static bool got_connack(void *arg)
{
	struct client *c = arg;

	return c->connack >= 0 || c->lost;
}

/* Connect and wait for CONNACK 0; on failure a TAP line says why. */
static bool connect_client(struct client *c)
{
	int rc = mosquitto_connect(c->m, host, port, CLIENT_KA);

	if (rc) {
		tap(false, "%s connects: %s", c->name,
		    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return false;
	}
	pump(timeout_s * 1000, got_connack, c);
	if (c->connack != 0) {
		tap(false, "%s connects: %s", c->name, c->connack < 0 ? "no CONNACK" :
		    mosquitto_connack_string(c->connack));
		return false;
	}
	return true;
}

struct mid_wait {
	struct client *c;
	int mid;
	bool unsub;
};

static bool got_ack(void *arg)
{
	struct mid_wait *w = arg;

	return (w->unsub ? w->c->unsub_mid : w->c->sub_mid) == w->mid || w->c->lost;
}

/* SUBSCRIBE one filter; the granted QoS (0x80 = failure), -1 if no SUBACK came. */
static int subscribe(struct client *c, const char *filter, int qos)
{
	struct mid_wait w = { .c = c };

	if (mosquitto_subscribe(c->m, &w.mid, filter, qos))
		return -1;
	pump(timeout_s * 1000, got_ack, &w);
	if (c->sub_mid != w.mid || c->ngranted < 1)
		return -1;
	return c->granted[0];
}

static bool unsubscribe(struct client *c, const char *filter)
{
	struct mid_wait w = { .c = c, .unsub = true };

	if (mosquitto_unsubscribe(c->m, &w.mid, filter))
		return false;
	pump(timeout_s * 1000, got_ack, &w);
	return c->unsub_mid == w.mid;
}

struct ack_wait {
	struct client *c;
	unsigned long want;
};

static bool got_acks(void *arg)
{
	struct ack_wait *w = arg;

	return w->c->acked >= w->want || w->c->lost;
}

/* PUBLISH and, for QoS 1, wait for its PUBACK. */
static bool publish(struct client *c, const char *topic, const void *data, int len, int qos)
{
	struct ack_wait w = { .c = c, .want = c->acked + 1 };

	if (mosquitto_publish(c->m, NULL, topic, len, data, qos, false))
		return false;
	pump(timeout_s * 1000, got_acks, &w);
	return c->acked >= w.want;
}

static size_t count_topic(const struct client *c, const char *topic)
{
	size_t i, n = 0;

	for (i = 0; i < c->nmsgs; i++)
		n += !strcmp(c->msgs[i].topic, topic);
	return n;
}

static const struct msg *find_topic(const struct client *c, const char *topic)
{
	size_t i;

	for (i = 0; i < c->nmsgs; i++)
		if (!strcmp(c->msgs[i].topic, topic))
			return &c->msgs[i];
	return NULL;
}

struct topic_wait {
	struct client *c;
	const char *topic;
	size_t n;
};

static bool got_topic(void *arg)
{
	struct topic_wait *w = arg;

	return count_topic(w->c, w->topic) >= w->n || w->c->lost;
}

/* Wait for n messages on topic at c, then GRACE_MS for anything that should not come. */
static void await_topic(struct client *c, const char *topic, size_t n)
{
	struct topic_wait w = { c, topic, n };

	pump(timeout_s * 1000, got_topic, &w);
	pump(GRACE_MS, NULL, NULL);
}

static void settle(void)
{
	pump(GRACE_MS, NULL, NULL);
}

static void topic_of(char *buf, const char *rel)
{
	if (snprintf(buf, TOPIC_MAX, "%s/%s", root, rel) >= TOPIC_MAX) {
		fprintf(stderr, "kmqtt-mqtt-check: topic too long: %s/%s\n", root, rel);
		exit(2);
	}
}

/* ------------------------------------------------------------------------------------ */
/* raw sockets: what a library would not let us do or see */

static int raw_dial(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char portstr[16];
	int fd = -1, one = 1;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res))
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, s, n);
	return n + 2;
}

/* 1 byte ready, 0 timeout, -1 EOF/reset/error. */
static int raw_read(int fd, uint8_t *b, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		int rc;

		rc = poll(&p, 1, left > 0 ? (int)left : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc;
		n = recv(fd, b, 1, 0);
		if (n == 1)
			return 1;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/*
 * Open a connection and send a CONNECT (3.1.1, clean session) with the given credentials
 * (u NULL: anonymous; p NULL: no password). Returns the fd and the CONNACK return code in
 * *code (-1 if none came).
 */
static int raw_connect(const char *id, const char *u, const char *p, int ka, int *code)
{
	uint8_t body[1024], pkt[1030], b[4];
	size_t n = 0, h = 1, rl;
	long long deadline = now_ms() + timeout_s * 1000LL;
	int fd, i;

	*code = -1;
	if (strlen(id) + (u ? strlen(u) : 0) + (p ? strlen(p) : 0) > 900)
		return -1;
	n += put_str(body + n, "MQTT");
	body[n++] = 4;
	body[n++] = 0x02 | (u ? 0x80 : 0) | (u && p ? 0x40 : 0);
	body[n++] = (uint8_t)(ka >> 8);
	body[n++] = (uint8_t)ka;
	n += put_str(body + n, id);
	if (u)
		n += put_str(body + n, u);
	if (u && p)
		n += put_str(body + n, p);
	pkt[0] = 0x10;
	for (rl = n; ; rl >>= 7) {
		pkt[h++] = (uint8_t)((rl & 0x7f) | (rl > 0x7f ? 0x80 : 0));
		if (rl <= 0x7f)
			break;
	}
	memcpy(pkt + h, body, n);
	n += h;
	fd = raw_dial();
	if (fd < 0)
		return -1;
	if (send(fd, pkt, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	for (i = 0; i < 4; i++)
		if (raw_read(fd, &b[i], deadline) != 1)
			return fd;
	if (b[0] == 0x20 && b[1] == 2)
		*code = b[3];
	return fd;
}

/* Wait for the broker to close: the ms it took, or -1 if it did not within limit_ms. */
static long long raw_await_close(int fd, long long limit_ms)
{
	long long t0 = now_ms();
	uint8_t b;
	int rc;

	while ((rc = raw_read(fd, &b, t0 + limit_ms)) == 1)
		;
	return rc < 0 ? now_ms() - t0 : -1;
}

/* ------------------------------------------------------------------------------------ */
/* pubsub */

#define PS_MSGS		50
#define PS_STREAMS	4	/* publisher A/B x QoS 0/1 */

struct payload {
	uint8_t *data;
	int len;
};

static void make_payload(struct payload *p, int i)
{
	static const uint8_t bad_utf8[] = { 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x00 };
	int k;

	switch (i) {
	case 0:
		p->len = 0;
		break;
	case 1:
		p->len = 1;		/* a single NUL byte */
		break;
	case 2:
		p->len = 12;
		break;
	case 3:
		p->len = 256;
		break;
	case 4:
		p->len = sizeof(bad_utf8);
		break;
	case 5:
		p->len = 65536;
		break;
	case 6:
		p->len = 200000;	/* spans many TCP segments; below a 256 KiB packet limit */
		break;
	default:
		p->len = (int)(rnd() % 3000);
		break;
	}
	p->data = xcalloc(1, (size_t)p->len);
	if (i == 2)
		memcpy(p->data, "hello, world", 12);
	else if (i == 3)
		for (k = 0; k < 256; k++)
			p->data[k] = (uint8_t)k;
	else if (i == 4)
		memcpy(p->data, bad_utf8, sizeof(bad_utf8));
	else if (i >= 5)
		for (k = 0; k < p->len; k++)
			p->data[k] = (uint8_t)rnd();
}

struct count_wait {
	struct client **c;
	size_t nc;
	size_t want;
};

static bool got_counts(void *arg)
{
	struct count_wait *w = arg;
	size_t i;

	for (i = 0; i < w->nc; i++)
		if (w->c[i]->nmsgs < w->want && !w->c[i]->lost)
			return false;
	return true;
}

static bool got_all_acks(void *arg)
{
	struct count_wait *w = arg;
	size_t i;

	for (i = 0; i < w->nc; i++)
		if (w->c[i]->acked < w->want && !w->c[i]->lost)
			return false;
	return true;
}

/* Compare what sub received on topic with the expected sequence; a TAP line. */
static void check_stream(struct client *sub, int subqos, const char *topic, int pubqos,
			 const struct payload *want, int nwant, const char *label)
{
	int got = 0, bad_qos = 0, bad_retain = 0, first_diff = -1;
	size_t i;

	for (i = 0; i < sub->nmsgs; i++) {
		const struct msg *m = &sub->msgs[i];

		if (strcmp(m->topic, topic))
			continue;
		if (got < nwant && first_diff < 0 &&
		    (m->len != want[got].len || memcmp(m->data, want[got].data, (size_t)m->len)))
			first_diff = got;
		if (m->qos != (pubqos < subqos ? pubqos : subqos))
			bad_qos++;
		bad_retain += m->retain;
		got++;
	}
	if (got == nwant && first_diff < 0 && !bad_qos && !bad_retain)
		tap(true, "%s: %d/%d messages, payloads byte-exact, in publish order, at QoS %d",
		    label, got, nwant, pubqos < subqos ? pubqos : subqos);
	else
		tap(false, "%s: got %d of %d, first wrong payload at #%d, %d at the wrong QoS, %d with RETAIN set",
		    label, got, nwant, first_diff, bad_qos, bad_retain);
}

static void sc_pubsub(void)
{
	struct client *s1 = client_new("sub-qos1"), *s0 = client_new("sub-qos0");
	struct client *pa = client_new("pub-A"), *pb = client_new("pub-B");
	struct client *pubs[2] = { pa, pb }, *subs[2] = { s1, s0 };
	struct payload want[PS_STREAMS][PS_MSGS];
	char topic[PS_STREAMS][TOPIC_MAX], filter[TOPIC_MAX], self[TOPIC_MAX], label[128];
	struct count_wait cw;
	int g1, g0, i, s, q;
	size_t stray;

	if (!connect_client(s1) || !connect_client(s0) || !connect_client(pa) ||
	    !connect_client(pb))
		goto out;
	topic_of(filter, "pubsub/#");
	g1 = subscribe(s1, filter, 1);
	g0 = subscribe(s0, filter, 0);
	tap(g1 == 1 && g0 == 0, "SUBACK grants the requested QoS 1 and QoS 0 (got %d and %d)",
	    g1, g0);
	for (s = 0; s < PS_STREAMS; s++) {
		snprintf(label, sizeof(label), "pubsub/%c/qos%d", "AB"[s / 2], s % 2);
		topic_of(topic[s], label);
		for (i = 0; i < PS_MSGS; i++)
			make_payload(&want[s][i], i);
	}
	/* A and B interleave, each alternating QoS 0 and QoS 1 */
	for (i = 0; i < PS_MSGS; i++)
		for (s = 0; s < PS_STREAMS; s++)
			mosquitto_publish(pubs[s / 2]->m, NULL, topic[s], want[s][i].len,
					  want[s][i].data, s % 2, false);
	cw = (struct count_wait){ pubs, 2, 2 * PS_MSGS };
	pump(timeout_s * 1000, got_all_acks, &cw);
	tap(pa->acked == 2 * PS_MSGS && pb->acked == 2 * PS_MSGS && !pa->lost && !pb->lost,
	    "every PUBLISH sent and every QoS 1 PUBLISH acknowledged (A %lu, B %lu of %d)",
	    pa->acked, pb->acked, 2 * PS_MSGS);
	cw = (struct count_wait){ subs, 2, PS_STREAMS * PS_MSGS };
	pump(timeout_s * 1000, got_counts, &cw);
	settle();
	for (s = 0; s < PS_STREAMS; s++) {
		for (q = 1; q >= 0; q--) {
			snprintf(label, sizeof(label), "QoS %d subscriber, QoS %d stream from %c",
				 q, s % 2, "AB"[s / 2]);
			check_stream(subs[1 - q], q, topic[s], s % 2, want[s], PS_MSGS, label);
		}
	}
	for (q = 0; q < 2; q++) {
		stray = subs[q]->nmsgs;
		for (s = 0; s < PS_STREAMS; s++)
			stray -= count_topic(subs[q], topic[s]);
		tap(stray == 0, "%s received no message it was not sent (%zu stray)",
		    subs[q]->name, stray);
	}
	/* 3.1.1 has no "no local": a client gets its own messages */
	topic_of(self, "pubsub-self");
	g1 = subscribe(pa, self, 1);
	publish(pa, self, "me", 2, 1);
	await_topic(pa, self, 1);
	tap(g1 == 1 && count_topic(pa, self) == 1,
	    "a client subscribed to its own topic receives its own message once (%zu)",
	    count_topic(pa, self));
	for (s = 0; s < PS_STREAMS; s++)
		for (i = 0; i < PS_MSGS; i++)
			free(want[s][i].data);
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* wildcards */

static const char *const wc_topics[] = {
	"sport",			/* 0 */
	"sport/tennis",			/* 1 */
	"sport/tennis/player1",		/* 2 */
	"sport/tennis/player1/ranking",	/* 3 */
	"sport/",			/* 4: empty last level */
	"/player1",			/* 5: empty first level (under the root) */
	"other",			/* 6 */
	"sports/tennis",		/* 7: a prefix of a level is not a match */
	"sport/tennis/player2",		/* 8 */
};

#define WC_TOPICS (sizeof(wc_topics) / sizeof(wc_topics[0]))

/* Which topics each filter must receive: bit i = wc_topics[i]. [MQTT-4.7.1] */
static const struct {
	const char *filter;
	unsigned int match;
} wc_cases[] = {
	{ "sport/#", 1 << 0 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 8 },
	{ "sport/+", 1 << 1 | 1 << 4 },
	{ "+/player1", 1 << 5 },
	{ "sport/tennis/+", 1 << 2 | 1 << 8 },
	{ "#", 0x1ff },
	{ "+", 1 << 0 | 1 << 6 },
	{ "sport/+/player1", 1 << 2 },
	{ "+/+/+", 1 << 2 | 1 << 8 },
	{ "sport/tennis/player1", 1 << 2 },
	{ "sport/+/#", 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 8 },
	{ "sport/tennis/player1/#", 1 << 2 | 1 << 3 },
	{ "+/tennis/#", 1 << 1 | 1 << 2 | 1 << 3 | 1 << 7 | 1 << 8 },
	{ "/+", 1 << 5 },		/* root//+: "+" matches the empty level of root//player1 */
	{ "+/+", 1 << 1 | 1 << 4 | 1 << 5 | 1 << 7 },	/* empty levels count as levels */
};

#define WC_CASES (sizeof(wc_cases) / sizeof(wc_cases[0]))

struct wc_wait {
	struct client **c;
	unsigned int *want;
};

static bool wc_done(void *arg)
{
	struct wc_wait *w = arg;
	size_t i;

	for (i = 0; i < WC_CASES; i++)
		if (w->c[i]->nmsgs < (size_t)__builtin_popcount(w->want[i]) && !w->c[i]->lost)
			return false;
	return true;
}

static void sc_wildcards(void)
{
	struct client *sub[WC_CASES], *pub = client_new("pub");
	unsigned int want[WC_CASES];
	char t[TOPIC_MAX], name[32];
	struct wc_wait w = { sub, want };
	size_t i, j;

	for (i = 0; i < WC_CASES; i++) {
		snprintf(name, sizeof(name), "sub%zu", i);
		sub[i] = client_new(name);
		want[i] = wc_cases[i].match;
	}
	for (i = 0; i < WC_CASES; i++)
		if (!connect_client(sub[i]))
			goto out;
	if (!connect_client(pub))
		goto out;
	for (i = 0; i < WC_CASES; i++) {
		int g;

		topic_of(t, wc_cases[i].filter);
		g = subscribe(sub[i], t, 1);
		if (g != 1) {
			tap(false, "SUBSCRIBE %s: granted %d", wc_cases[i].filter, g);
			goto out;
		}
	}
	for (j = 0; j < WC_TOPICS; j++) {
		topic_of(t, wc_topics[j]);
		if (!publish(pub, t, wc_topics[j], (int)strlen(wc_topics[j]), 1)) {
			tap(false, "PUBLISH %s not acknowledged", wc_topics[j]);
			goto out;
		}
	}
	pump(timeout_s * 1000, wc_done, &w);
	settle();
	for (i = 0; i < WC_CASES; i++) {
		char missing[512] = "", extra[512] = "";
		bool good = true;

		for (j = 0; j < WC_TOPICS; j++) {
			size_t n, exp = (wc_cases[i].match >> j) & 1;

			topic_of(t, wc_topics[j]);
			n = count_topic(sub[i], t);
			if (n == exp)
				continue;
			good = false;
			if (n < exp)
				snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
					 " '%s'", wc_topics[j]);
			else
				snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
					 " '%s' x%zu", wc_topics[j], n);
		}
		if (good && sub[i]->nmsgs != (size_t)__builtin_popcount(wc_cases[i].match)) {
			good = false;
			snprintf(extra, sizeof(extra), " %zu messages on other topics",
				 sub[i]->nmsgs);
		}
		if (good)
			tap(true, "'%s' receives exactly its %d matching topics of %zu",
			    wc_cases[i].filter, __builtin_popcount(wc_cases[i].match), WC_TOPICS);
		else
			tap(false, "'%s': missing:%s; unexpected:%s", wc_cases[i].filter,
			    *missing ? missing : " none", *extra ? extra : " none");
	}
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* dollar: topics starting with $ are not matched by filters starting with a wildcard */

static void sc_dollar(void)
{
	static const struct {
		const char *filter;	/* "R/" is replaced by the run's root */
		bool dollar, normal;
	} cases[] = {
		{ "#", false, true },
		{ "+/bar", false, true },
		{ "+/+", false, true },
		{ "+/#", false, true },
		{ "$foo/#", true, false },
		{ "$foo/+", true, false },
		{ "$foo/bar", true, false },
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	struct client *sub[sizeof(cases) / sizeof(cases[0])], *pub = client_new("pub");
	char normal[TOPIC_MAX], name[32];
	const char *dollar = "$foo/bar";
	size_t i;

	topic_of(normal, "bar");
	for (i = 0; i < ncases; i++) {
		snprintf(name, sizeof(name), "sub%zu", i);
		sub[i] = client_new(name);
	}
	for (i = 0; i < ncases; i++)
		if (!connect_client(sub[i]))
			goto out;
	if (!connect_client(pub))
		goto out;
	for (i = 0; i < ncases; i++) {
		int g = subscribe(sub[i], cases[i].filter, 1);

		if (g != 1) {
			tap(false, "SUBSCRIBE %s: granted %d", cases[i].filter, g);
			goto out;
		}
	}
	if (!publish(pub, dollar, "dollar", 6, 1) || !publish(pub, normal, "normal", 6, 1)) {
		tap(false, "PUBLISH to %s and %s acknowledged", dollar, normal);
		goto out;
	}
	/* everything published before the sentinel has had its chance to arrive */
	await_topic(sub[0], normal, 1);
	for (i = 0; i < ncases; i++) {
		size_t nd = count_topic(sub[i], dollar), nn = count_topic(sub[i], normal);

		tap(nd == cases[i].dollar && nn == cases[i].normal,
		    "'%s' %s '%s' and %s '%s/bar' (got %zu and %zu)", cases[i].filter,
		    cases[i].dollar ? "receives" : "does not receive", dollar,
		    cases[i].normal ? "receives" : "does not receive", root, nd, nn);
	}
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* overlap: one client, two matching subscriptions [MQTT-3.3.5-1] */

static void overlap_case(int qos_hash, int qos_plus)
{
	struct client *s = client_new("sub"), *p = client_new("pub");
	char fh[TOPIC_MAX], fp[TOPIC_MAX], ab[TOPIC_MAX], abc[TOPIC_MAX];
	int gh, gp, q0 = 0, q1 = 0, other = 0;
	const struct msg *m;
	size_t i, n;

	topic_of(fh, "overlap/a/#");
	topic_of(fp, "overlap/a/+");
	topic_of(ab, "overlap/a/b");
	topic_of(abc, "overlap/a/b/c");
	if (!connect_client(s) || !connect_client(p))
		goto out;
	gh = subscribe(s, fh, qos_hash);
	gp = subscribe(s, fp, qos_plus);
	if (gh != qos_hash || gp != qos_plus) {
		tap(false, "SUBACKs grant %d and %d (want %d and %d)", gh, gp, qos_hash, qos_plus);
		goto out;
	}
	publish(p, ab, "ab", 2, 1);
	publish(p, abc, "abc", 3, 1);
	await_topic(s, abc, 1);
	pump(500, NULL, NULL);	/* a second copy may come after */
	for (i = 0; i < s->nmsgs; i++) {
		if (strcmp(s->msgs[i].topic, ab))
			continue;
		if (s->msgs[i].qos == 0)
			q0++;
		else if (s->msgs[i].qos == 1)
			q1++;
		else
			other++;
	}
	if (q1 == 1 && q0 == 0 && !other)
		tap(true, "a/# (QoS %d) + a/+ (QoS %d): a/b delivered once, at the maximum QoS 1",
		    qos_hash, qos_plus);
	else if (q1 == 1 && q0 == 1 && !other)
		tap(true, "a/# (QoS %d) + a/+ (QoS %d): a/b delivered twice, once per subscription at QoS 0 and 1 (allowed by MQTT-3.3.5-1)",
		    qos_hash, qos_plus);
	else
		tap(false, "a/# (QoS %d) + a/+ (QoS %d): a/b delivered %d times at QoS 0 and %d at QoS 1: want once at QoS 1 or once per subscription",
		    qos_hash, qos_plus, q0, q1);
	n = count_topic(s, abc);
	m = find_topic(s, abc);
	tap(n == 1 && m->qos == qos_hash,
	    "a/# (QoS %d) + a/+ (QoS %d): a/b/c (a/# only) delivered once at QoS %d (got %zu, QoS %d)",
	    qos_hash, qos_plus, qos_hash, n, m ? m->qos : -1);
out:
	free_all();
}

static void sc_overlap(void)
{
	overlap_case(0, 1);
	overlap_case(1, 0);
}

/* ------------------------------------------------------------------------------------ */
/* unsubscribe */

static void sc_unsubscribe(void)
{
	struct client *s = client_new("sub"), *p = client_new("pub");
	char ua[TOPIC_MAX], vh[TOPIC_MAX], vx[TOPIC_MAX], uplus[TOPIC_MAX], vplus[TOPIC_MAX];
	char w[TOPIC_MAX], nothing[TOPIC_MAX];
	size_t a, x;

	topic_of(ua, "unsub/u/a");
	topic_of(vh, "unsub/v/#");
	topic_of(vx, "unsub/v/x");
	topic_of(uplus, "unsub/u/+");
	topic_of(vplus, "unsub/v/+");
	topic_of(w, "unsub/w");
	topic_of(nothing, "unsub/never-subscribed");
	if (!connect_client(s) || !connect_client(p))
		goto out;
	if (subscribe(s, ua, 1) != 1 || subscribe(s, vh, 1) != 1) {
		tap(false, "SUBSCRIBE u/a and v/# granted");
		goto out;
	}
	publish(p, ua, "1", 1, 1);
	publish(p, vx, "1", 1, 1);
	await_topic(s, vx, 1);
	tap(count_topic(s, ua) == 1 && count_topic(s, vx) == 1,
	    "subscribed to u/a and v/#: u/a and v/x delivered");

	/* An UNSUBSCRIBE removes only a filter that is character-for-character identical. */
	tap(unsubscribe(s, uplus) && unsubscribe(s, vplus),
	    "UNSUBACK for filters that only match the subscriptions (u/+, v/+)");
	clear_msgs(s);
	publish(p, ua, "2", 1, 1);
	publish(p, vx, "2", 1, 1);
	await_topic(s, vx, 1);
	tap(count_topic(s, ua) == 1 && count_topic(s, vx) == 1,
	    "u/+ and v/+ unsubscribed: u/a and v/# subscriptions still deliver [MQTT-3.10.4-1]");

	tap(unsubscribe(s, ua), "UNSUBACK for u/a");
	clear_msgs(s);
	publish(p, ua, "3", 1, 1);
	publish(p, vx, "3", 1, 1);
	await_topic(s, vx, 1);
	a = count_topic(s, ua);
	tap(a == 0 && count_topic(s, vx) == 1,
	    "after unsubscribing u/a: u/a not delivered (%zu), v/x still delivered", a);

	tap(unsubscribe(s, vh), "UNSUBACK for v/#");
	tap(unsubscribe(s, nothing) && !s->lost,
	    "UNSUBACK even for a filter never subscribed, connection kept [MQTT-3.10.4-5]");
	clear_msgs(s);
	if (subscribe(s, w, 1) != 1) {
		tap(false, "SUBSCRIBE w after unsubscribing everything");
		goto out;
	}
	publish(p, ua, "4", 1, 1);
	publish(p, vx, "4", 1, 1);
	publish(p, w, "4", 1, 1);
	await_topic(s, w, 1);
	a = count_topic(s, ua);
	x = count_topic(s, vx);
	tap(a == 0 && x == 0 && count_topic(s, w) == 1,
	    "after unsubscribing v/#: neither u/a (%zu) nor v/x (%zu) delivered, a new subscription works",
	    a, x);
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* acl: tests/tools/acl.conf gives ACLUSER write on acl/w/#, read on acl/r/#, readwrite on
 * acl/u/<its user name>/# (a %u pattern) and nothing else; USER (the observer) everything.
 * The ACL names absolute topics, so this scenario puts the run's root below them. */

static void acl_topic(char *buf, const char *dir, const char *leaf)
{
	if (snprintf(buf, TOPIC_MAX, "acl/%s/%s/%s", dir, root, leaf) >= TOPIC_MAX) {
		fprintf(stderr, "kmqtt-mqtt-check: topic too long\n");
		exit(2);
	}
}

static struct client *acl_client(void)
{
	struct client *c = client_new_as("acl-user", acl_user, acl_pass);

	if (!connect_client(c))
		return NULL;
	return c;
}

/*
 * ACLUSER publishes at QoS 1 to a topic it may not write; the observer must not get it.
 * In 3.1.1 there is no negative PUBACK: the broker may acknowledge and drop (mosquitto) or
 * close the connection (kmqtt). Either is accepted and reported; delivery is a failure.
 * The sentinel, an allowed publish after it, bounds the wait.
 */
static struct client *acl_denied_publish(struct client *a, struct client *obs,
					 const char *dir, const char *why)
{
	static int serial;
	char t[TOPIC_MAX], sentinel[TOPIC_MAX], leaf[32];
	const char *outcome;
	size_t n;

	acl_topic(t, dir, "denied");
	snprintf(leaf, sizeof(leaf), "sentinel-%d", serial++);
	acl_topic(sentinel, "w", leaf);
	publish(a, t, "denied", 6, 1);
	if (a->lost) {
		outcome = "the broker closed the publisher's connection";
		client_free(a);
		a = acl_client();
		if (!a)
			return NULL;
	} else {
		outcome = "the broker acknowledged and dropped it";
	}
	publish(a, sentinel, "sentinel", 8, 1);
	await_topic(obs, sentinel, 1);
	n = count_topic(obs, t);
	tap(n == 0 && count_topic(obs, sentinel) == 1,
	    "publish to acl/%s/... (%s) not delivered: %s (delivered %zu, sentinel %zu)", dir,
	    why, outcome, n, count_topic(obs, sentinel));
	return a;
}

static void sc_acl(void)
{
	struct client *obs = client_new("observer"), *a;
	char t[TOPIC_MAX], t2[TOPIC_MAX], t3[TOPIC_MAX], dir[TOPIC_MAX];
	int g;

	if (!acl_user) {
		tap(false, "no ACL user given (-a USER:PASS)");
		return;
	}
	if (!connect_client(obs))
		goto out;
	if (subscribe(obs, "acl/#", 1) != 1) {
		tap(false, "observer SUBSCRIBE acl/# granted");
		goto out;
	}
	a = acl_client();
	if (!a)
		goto out;

	acl_topic(t, "w", "1");
	publish(a, t, "allowed", 7, 1);
	await_topic(obs, t, 1);
	tap(count_topic(obs, t) == 1 && !a->lost,
	    "publish to acl/w/... (write allowed) delivered to a subscriber of acl/#");

	acl_topic(t, "r", "#");
	g = subscribe(a, t, 1);
	tap(g == 1, "SUBSCRIBE acl/r/... (read allowed) granted QoS 1 (got %d)", g);
	acl_topic(t, "r", "1");
	publish(obs, t, "readable", 8, 1);
	await_topic(a, t, 1);
	tap(count_topic(a, t) == 1, "message on acl/r/... (read allowed) delivered to the ACL user");

	/* Subscribing where it may not read: refused (0x80) or granted but nothing delivered. */
	acl_topic(t, "w", "#");
	g = subscribe(a, t, 1);
	tap(g == 0x80 || g == 0 || g == 1, "SUBSCRIBE acl/w/... (write only) answered: %s",
	    g == 0x80 ? "refused with 0x80" : g >= 0 ? "granted" : "no SUBACK");
	g = subscribe(a, "#", 1);
	tap(g == 0x80 || g == 0 || g == 1, "SUBSCRIBE # (read only on acl/r/#) answered: %s",
	    g == 0x80 ? "refused with 0x80" : g >= 0 ? "granted" : "no SUBACK");
	acl_topic(t, "w", "2");
	acl_topic(t2, "x", "2");
	acl_topic(t3, "r", "2");
	clear_msgs(a);
	publish(obs, t, "no-read", 7, 1);
	publish(obs, t2, "no-rule", 7, 1);
	publish(obs, t3, "sentinel", 8, 1);
	await_topic(a, t3, 1);
	tap(count_topic(a, t3) >= 1 && !count_topic(a, t) && !count_topic(a, t2),
	    "ACL user gets nothing on acl/w/... (write only: %zu) or acl/x/... (no rule: %zu); the sentinel on acl/r/... arrives (%zu)",
	    count_topic(a, t), count_topic(a, t2), count_topic(a, t3));

	a = acl_denied_publish(a, obs, "r", "read only");
	if (!a)
		goto out;
	a = acl_denied_publish(a, obs, "x", "no rule");
	if (!a)
		goto out;
	snprintf(dir, sizeof(dir), "u/%s-other", acl_user);
	a = acl_denied_publish(a, obs, dir, "another user's %u tree");
	if (!a)
		goto out;

	/* the %u pattern: acl/u/<own name>/# is read-write */
	snprintf(dir, sizeof(dir), "u/%s", acl_user);
	acl_topic(t, dir, "1");
	publish(a, t, "own", 3, 1);
	await_topic(obs, t, 1);
	tap(count_topic(obs, t) == 1 && !a->lost,
	    "publish to acl/u/%s/... (pattern acl/u/%%u/#) delivered", acl_user);
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* badauth: CONNACK return codes and the close that must follow a refusal [MQTT-3.2.2-5] */

static void badauth_case(const char *label, const char *u, const char *p, bool good)
{
	char id[96];
	long long closed;
	int fd, code;

	snprintf(id, sizeof(id), "%s-badauth", root);
	fd = raw_connect(id, u, p, CLIENT_KA, &code);
	if (fd < 0) {
		tap(false, "%s: cannot connect to %s:%d", label, host, port);
		return;
	}
	if (good) {
		closed = raw_await_close(fd, 500);
		tap(code == 0 && closed < 0, "%s: CONNACK 0 and the connection stays open (code %d)",
		    label, code);
	} else {
		closed = raw_await_close(fd, 2000);
		tap((code == 4 || code == 5) && closed >= 0,
		    "%s: CONNACK %d (want 4 or 5) and the broker closes (%s)", label, code,
		    closed >= 0 ? "closed" : "still open after 2 s");
	}
	close(fd);
}

static void sc_badauth(void)
{
	char wrong[256], nobody[128];

	snprintf(wrong, sizeof(wrong), "%s-wrong", pass ? pass : "");
	snprintf(nobody, sizeof(nobody), "%s-no-such-user", user ? user : "kmqtt");
	badauth_case("right user name and password", user, pass, true);
	badauth_case("wrong password", user, wrong, false);
	badauth_case("unknown user", nobody, "password", false);
	badauth_case("user name without a password", user, NULL, false);
	badauth_case("anonymous (no user name)", NULL, NULL, false);
	if (acl_user)
		badauth_case("second user's name with the first's password", acl_user, pass,
			     false);
}

/* ------------------------------------------------------------------------------------ */
/* keepalive [MQTT-3.1.2-24]: a silent client is closed after 1.5 x keepalive, a client
 * that sends PINGREQ in time is kept */

static void sc_keepalive(void)
{
	long long t0, lo = keepalive_s * 1000LL - 250, hi = keepalive_s * 1500LL + slack_ms;
	long long silent_closed = -1, next_ping, ping_period = keepalive_s * 500LL;
	long long end = keepalive_s * 3000LL > hi ? keepalive_s * 3000LL : hi;
	char id1[96], id2[96];
	int quiet, pinger, code1, code2, sent = 0, answered = 0;
	bool pinger_closed = false;
	uint8_t b;

	snprintf(id1, sizeof(id1), "%s-silent", root);
	snprintf(id2, sizeof(id2), "%s-pinger", root);
	quiet = raw_connect(id1, user, pass, keepalive_s, &code1);
	pinger = raw_connect(id2, user, pass, keepalive_s, &code2);
	if (quiet < 0 || pinger < 0 || code1 || code2) {
		tap(false, "two connections with keepalive %d s accepted (CONNACK %d and %d)",
		    keepalive_s, code1, code2);
		goto out;
	}
	t0 = now_ms();
	next_ping = t0 + ping_period;
	while (now_ms() - t0 < end) {
		struct pollfd p[2] = { { .fd = quiet, .events = POLLIN },
				       { .fd = pinger, .events = POLLIN } };
		long long wait = next_ping - now_ms();

		if (wait < 0)
			wait = 0;
		if (poll(p, 2, (int)(wait > 50 ? 50 : wait)) < 0 && errno != EINTR)
			break;
		if (silent_closed < 0 && p[0].revents) {
			if (recv(quiet, &b, 1, 0) <= 0)
				silent_closed = now_ms() - t0;
		}
		if (!pinger_closed && p[1].revents) {
			uint8_t r[2];

			if (recv(pinger, r, 1, 0) != 1) {
				pinger_closed = true;
			} else if (r[0] == 0xd0 &&
				   raw_read(pinger, &r[1], now_ms() + 1000) == 1 && r[1] == 0) {
				answered++;
			}
		}
		if (!pinger_closed && now_ms() >= next_ping) {
			static const uint8_t ping[2] = { 0xc0, 0 };

			if (send(pinger, ping, 2, MSG_NOSIGNAL) == 2)
				sent++;
			next_ping += ping_period;
		}
	}
	/* the last PINGREQ may still be in flight */
	while (!pinger_closed && answered < sent) {
		uint8_t r[2];

		if (raw_read(pinger, &r[0], now_ms() + 2000) != 1 ||
		    raw_read(pinger, &r[1], now_ms() + 1000) != 1)
			break;
		answered += r[0] == 0xd0 && r[1] == 0;
	}
	if (silent_closed < 0)
		tap(false, "silent client (keepalive %d s) still open after %lld ms, want a close by %lld ms",
		    keepalive_s, end, hi);
	else
		tap(silent_closed >= lo && silent_closed <= hi,
		    "silent client (keepalive %d s) closed after %lld ms (want %lld..%lld ms)",
		    keepalive_s, silent_closed, lo, hi);
	tap(!pinger_closed && sent > 0 && answered == sent,
	    "client sending PINGREQ every %lld ms kept for %lld ms, %d of %d PINGREQs answered",
	    ping_period, end, answered, sent);
out:
	if (quiet >= 0)
		close(quiet);
	if (pinger >= 0)
		close(pinger);
}

/* ------------------------------------------------------------------------------------ */
/* takeover [MQTT-3.1.4-2]: a second connection with the same client id closes the first */

static bool lost_or_timeout(void *arg)
{
	return ((struct client *)arg)->lost;
}

static void sc_takeover(void)
{
	struct client *c1 = client_new("same-id"), *c2 = client_new("same-id");
	struct client *p = client_new("pub");
	char t[TOPIC_MAX];
	long long t0;

	topic_of(t, "takeover");
	if (!connect_client(c1) || !connect_client(p))
		goto out;
	if (subscribe(c1, t, 1) != 1) {
		tap(false, "first connection SUBSCRIBE granted");
		goto out;
	}
	t0 = now_ms();
	if (!connect_client(c2))
		goto out;
	pump(3000, lost_or_timeout, c1);
	tap(c1->lost, "first connection closed when a second one uses its client id (%s)",
	    c1->lost ? "closed" : "still open after 3 s");
	if (c1->lost)
		note("first connection closed %lld ms after the second connected", c1->lost_ms - t0);
	tap(subscribe(c2, t, 1) == 1, "second connection subscribes");
	clear_msgs(c1);
	publish(p, t, "after", 5, 1);
	await_topic(c2, t, 1);
	pump(1000, lost_or_timeout, c2);
	tap(count_topic(c2, t) == 1 && !c2->lost && !c1->nmsgs,
	    "second connection receives and stays connected; the first gets nothing");
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* many N: N clients publish M QoS 1 messages each to their own topic; S subscribers of the
 * wildcard must each get every message exactly once, in order per publisher */

struct many_sub {
	uint8_t *seen;		/* N x M delivery counts */
	uint32_t *next;		/* next expected sequence number per publisher */
	unsigned long got, dups, disorder, foreign, bad_qos;
	size_t unique;
};

static size_t many_n;

static void many_hook(struct client *c, const struct mosquitto_message *m)
{
	struct many_sub *s = c->hook_arg;
	uint32_t who, seq;
	const uint8_t *p = m->payload;

	s->got++;
	if (m->payloadlen != 8) {
		s->foreign++;
		return;
	}
	who = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	if (who >= many_n || seq >= (uint32_t)many_msgs) {
		s->foreign++;
		return;
	}
	if (m->qos != 1)
		s->bad_qos++;
	if (s->seen[who * (size_t)many_msgs + seq]++) {
		s->dups++;
		return;
	}
	s->unique++;
	if (seq < s->next[who])
		s->disorder++;		/* a gap is a loss, counted at the end */
	else
		s->next[who] = seq + 1;
}

struct many_wait {
	struct client **subs;
	struct many_sub *st;
	struct client **pubs;
	size_t npubs;
	size_t from, to;	/* CONNACK wait: publishers [from, to) */
	size_t progress;	/* deliveries + acks at the last change ... */
	long long progress_ms;	/* ... and when that was */
	bool stalled;
};

static bool many_connected(void *arg)
{
	struct many_wait *w = arg;
	size_t i;

	for (i = w->from; i < w->to; i++)
		if (w->pubs[i]->connack < 0 && !w->pubs[i]->lost)
			return false;
	return true;
}

/* All delivered and acknowledged, or nothing moved for MANY_STALL_MS. */
static bool many_delivered(void *arg)
{
	struct many_wait *w = arg;
	size_t want = w->npubs * (size_t)many_msgs, progress = 0, i;
	bool done = true;

	for (i = 0; i < (size_t)many_subs; i++) {
		progress += w->st[i].got;
		if (w->st[i].unique < want && !w->subs[i]->lost)
			done = false;
	}
	for (i = 0; i < w->npubs; i++) {
		progress += w->pubs[i]->acked;
		if (w->pubs[i]->acked < (unsigned long)many_msgs && !w->pubs[i]->lost)
			done = false;
	}
	if (done)
		return true;
	if (progress != w->progress) {
		w->progress = progress;
		w->progress_ms = now_ms();
	} else if (now_ms() - w->progress_ms > MANY_STALL_MS) {
		w->stalled = true;
		return true;
	}
	return false;
}

static void sc_many(size_t n)
{
	struct client **pubs = xcalloc(n, sizeof(*pubs)), **subs;
	struct many_sub *st = xcalloc((size_t)many_subs, sizeof(*st));
	struct many_wait w = { .pubs = pubs, .npubs = n, .st = st };
	char t[TOPIC_MAX], name[32];
	size_t i, refused = 0, lost = 0, acked = 0, want = n * (size_t)many_msgs;
	long long t0, t1, t2;
	struct rlimit rl;
	int j;

	many_n = n;
	subs = xcalloc((size_t)many_subs, sizeof(*subs));
	w.subs = subs;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < n + (size_t)many_subs + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < n + (size_t)many_subs + 64) {
			tap(false, "%zu clients need %zu descriptors, the limit is %llu", n,
			    n + (size_t)many_subs + 64, (unsigned long long)rl.rlim_cur);
			goto out;
		}
	}
	topic_of(t, "many/#");
	for (j = 0; j < many_subs; j++) {
		snprintf(name, sizeof(name), "many-sub%d", j);
		subs[j] = client_new(name);
		subs[j]->keep = false;
		subs[j]->hook = many_hook;
		subs[j]->hook_arg = &st[j];
		st[j].seen = xcalloc(want, 1);
		st[j].next = xcalloc(n, sizeof(uint32_t));
		if (!connect_client(subs[j]))
			goto out;
		if (subscribe(subs[j], t, 1) != 1) {
			tap(false, "subscriber %d: SUBSCRIBE %s granted QoS 1", j, t);
			goto out;
		}
	}
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many-%zu", i);
		pubs[i] = client_new(name);
		pubs[i]->keep = false;
		mosquitto_int_option(pubs[i]->m, MOSQ_OPT_SEND_MAXIMUM, many_window);
	}
	for (w.from = 0; w.from < n; w.from = w.to) {
		w.to = w.from + CONNECT_BATCH < n ? w.from + CONNECT_BATCH : n;
		for (i = w.from; i < w.to; i++) {
			int rc = mosquitto_connect(pubs[i]->m, host, port, CLIENT_KA);

			if (rc) {
				tap(false, "client %zu of %zu connects: %s", i, n,
				    rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
				goto out;
			}
		}
		pump(timeout_s * 1000, many_connected, &w);
	}
	for (i = 0; i < n; i++)
		refused += pubs[i]->connack != 0;
	t1 = now_ms();
	tap(!refused, "%zu clients connected in %lld ms (%zu refused or unanswered)", n, t1 - t0,
	    refused);
	if (refused)
		goto out;
	/* every client publishes its messages; libmosquitto keeps -w of them in flight */
	for (j = 0; j < many_msgs; j++) {
		for (i = 0; i < n; i++) {
			char topic[TOPIC_MAX];
			uint8_t p[8] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
					 (uint8_t)i, (uint8_t)(j >> 24), (uint8_t)(j >> 16),
					 (uint8_t)(j >> 8), (uint8_t)j };

			snprintf(name, sizeof(name), "many/%zu", i);
			topic_of(topic, name);
			if (mosquitto_publish(pubs[i]->m, NULL, topic, 8, p, 1, false)) {
				tap(false, "client %zu could not queue message %d", i, j);
				goto out;
			}
		}
		pump(0, NULL, NULL);
	}
	w.progress_ms = now_ms();
	pump(timeout_s * 1000, many_delivered, &w);
	t2 = now_ms();
	if (w.stalled) {
		t2 -= MANY_STALL_MS;
		note("nothing delivered or acknowledged for %d s: gave up", MANY_STALL_MS / 1000);
	}
	settle();
	for (i = 0; i < n; i++) {
		lost += pubs[i]->lost;
		acked += pubs[i]->acked;
	}
	tap(acked == want && !lost, "%zu of %zu QoS 1 messages acknowledged to their publishers, %zu publishers disconnected",
	    acked, want, lost);
	for (j = 0; j < many_subs; j++) {
		struct many_sub *s = &st[j];
		double secs = (t2 - t1) / 1000.0;

		tap(s->unique == want && !s->dups && !s->disorder && !s->foreign &&
		    !s->bad_qos && !subs[j]->lost,
		    "subscriber %d: %zu of %zu messages from %zu clients x %d, %lu duplicates, %lu out of order per publisher, %lu foreign, %lu not at QoS 1%s",
		    j, s->unique, want, n, many_msgs, s->dups, s->disorder, s->foreign,
		    s->bad_qos, subs[j]->lost ? ", subscriber disconnected" : "");
		note("subscriber %d: %zu messages in %.2f s after all connected: %.0f msg/s", j,
		     s->unique, secs, secs > 0 ? s->unique / secs : 0.0);
	}
	note("%zu clients: connect %.2f s, publish-to-last-delivery %.2f s", n,
	     (t1 - t0) / 1000.0, (t2 - t1) / 1000.0);
out:
	for (j = 0; j < many_subs; j++) {
		free(st[j].seen);
		free(st[j].next);
	}
	free(st);
	free(subs);
	free(pubs);
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* flow SECONDS: a steady QoS 1 stream between two connected clients, for tests that break
 * something under it (kill -9 of kmqttd): nothing may be lost, duplicated or reordered and
 * neither connection may drop. Prints "# flow: ready" once both are connected. */

#define FLOW_RATE	100	/* messages per second */

struct flow_state {
	uint32_t next;		/* next sequence number expected */
	unsigned long got, dups, disorder;
	long long last_ms, max_gap_ms;
};

static void flow_hook(struct client *c, const struct mosquitto_message *m)
{
	struct flow_state *f = c->hook_arg;
	const uint8_t *p = m->payload;
	long long t = now_ms();
	uint32_t seq;

	if (m->payloadlen != 4)
		return;
	seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (f->last_ms && t - f->last_ms > f->max_gap_ms)
		f->max_gap_ms = t - f->last_ms;
	f->last_ms = t;
	if (seq < f->next) {
		f->dups++;
		return;
	}
	if (seq > f->next)
		f->disorder++;	/* a gap: later filled (reordered) or lost */
	f->got++;
	f->next = seq + 1;
}

struct flow_wait {
	struct client *pub, *sub;
	struct flow_state *f;
	uint32_t n;
};

static bool flow_done(void *arg)
{
	struct flow_wait *w = arg;

	return (w->f->got >= w->n && w->pub->acked >= w->n) || w->pub->lost || w->sub->lost;
}

static void sc_flow(unsigned long secs)
{
	struct client *sub = client_new("flow-sub"), *pub = client_new("flow-pub");
	struct flow_state f = { 0 };
	struct flow_wait w = { pub, sub, &f, 0 };
	char t[TOPIC_MAX];
	long long t0, next;
	uint32_t n = 0, total = (uint32_t)(secs * FLOW_RATE);

	sub->keep = false;
	pub->keep = false;
	sub->hook = flow_hook;
	sub->hook_arg = &f;
	topic_of(t, "flow");
	if (!connect_client(sub) || !connect_client(pub))
		goto out;
	if (subscribe(sub, t, 1) != 1) {
		tap(false, "SUBSCRIBE granted QoS 1");
		goto out;
	}
	note("ready");
	t0 = now_ms();
	next = t0;
	while (n < total && !pub->lost && !sub->lost) {
		uint8_t p[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				 (uint8_t)n };

		if (now_ms() >= next) {
			mosquitto_publish(pub->m, NULL, t, 4, p, 1, false);
			n++;
			next = t0 + (long long)n * 1000 / FLOW_RATE;
		}
		pump(next - now_ms() > 0 ? (int)(next - now_ms()) : 0, NULL, NULL);
	}
	w.n = n;
	pump(timeout_s * 1000, flow_done, &w);
	settle();
	tap(n == total && pub->acked == n && !pub->lost,
	    "%u of %u QoS 1 messages published over %lu s and acknowledged (%lu), publisher %s",
	    n, total, secs, pub->acked, pub->lost ? "disconnected" : "connected throughout");
	tap(f.got == total && !f.dups && !f.disorder && !sub->lost,
	    "subscriber got %lu of %u, %lu duplicates, %lu gaps, %s; longest pause between messages %lld ms",
	    f.got, total, f.dups, f.disorder,
	    sub->lost ? "disconnected" : "connected throughout", f.max_gap_ms);
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */
/* closewatch SECONDS: clients that are subscribed and exchanging QoS 1 messages when the
 * broker goes away (rmmod, broker stopped) must see their connections closed. Prints
 * "# closewatch: ready"; passes when the broker has closed every one within SECONDS. */

#define CW_CLIENTS	10

static bool cw_all_lost(void *arg)
{
	struct client **c = arg;
	int i;

	for (i = 0; i < CW_CLIENTS; i++)
		if (!c[i]->lost)
			return false;
	return true;
}

static void sc_closewatch(unsigned long secs)
{
	struct client *c[CW_CLIENTS];
	char t[TOPIC_MAX], name[32];
	long long t0, first = 0, last = 0, end;
	unsigned long sent = 0;
	int i, open = 0;

	topic_of(t, "closewatch");
	for (i = 0; i < CW_CLIENTS; i++) {
		snprintf(name, sizeof(name), "watch%d", i);
		c[i] = client_new(name);
		c[i]->keep = false;
	}
	for (i = 0; i < CW_CLIENTS; i++)
		if (!connect_client(c[i]))
			goto out;
	for (i = 1; i < CW_CLIENTS; i++)
		if (subscribe(c[i], t, 1) != 1) {
			tap(false, "SUBSCRIBE granted QoS 1");
			goto out;
		}
	note("ready");
	t0 = now_ms();
	end = t0 + (long long)secs * 1000;
	/* client 0 keeps QoS 1 traffic flowing to the others until the broker goes */
	while (now_ms() < end && !cw_all_lost(c)) {
		if (!c[0]->lost && sent < c[0]->acked + 10 &&
		    !mosquitto_publish(c[0]->m, NULL, t, 5, "watch", 1, false))
			sent++;
		pump(20, cw_all_lost, c);
	}
	for (i = 0; i < CW_CLIENTS; i++) {
		if (!c[i]->lost) {
			open++;
			continue;
		}
		if (!first || c[i]->lost_ms < first)
			first = c[i]->lost_ms;
		if (c[i]->lost_ms > last)
			last = c[i]->lost_ms;
	}
	tap(!open, "%d of %d connected clients saw their connection closed by the broker within %lu s",
	    CW_CLIENTS - open, CW_CLIENTS, secs);
	if (!open)
		note("closes %lld..%lld ms after ready", first - t0, last - t0);
out:
	free_all();
}

/* ------------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmqtt-mqtt-check [-h HOST] [-p PORT] [-u USER] [-P PASS] [-a ACLUSER:ACLPASS]\n"
		"                        [-k KEEPALIVE_S] [-s SLACK_MS] [-n MSGS] [-S SUBSCRIBERS]\n"
		"                        [-w WINDOW] [-t TIMEOUT_S] [-r SEED]\n"
		"                        [-C CAFILE [-E CERTFILE -K KEYFILE] [-V TLS_VERSION]] SCENARIO...\n"
		"scenarios: pubsub wildcards dollar overlap unsubscribe acl badauth keepalive\n"
		"           takeover, all (the ones before), 'many N', 'flow SECONDS',\n"
		"           'closewatch SECONDS'\n");
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "pubsub", sc_pubsub },
	{ "wildcards", sc_wildcards },
	{ "dollar", sc_dollar },
	{ "overlap", sc_overlap },
	{ "unsubscribe", sc_unsubscribe },
	{ "acl", sc_acl },
	{ "badauth", sc_badauth },
	{ "keepalive", sc_keepalive },
	{ "takeover", sc_takeover },
};

int main(int argc, char **argv)
{
	char *colon;
	size_t k;
	int c;

	while ((c = getopt(argc, argv, "h:p:u:P:a:k:s:n:S:w:t:r:C:E:K:V:")) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'P': pass = optarg; break;
		case 'a':
			acl_user = optarg;
			colon = strchr(optarg, ':');
			if (!colon) {
				usage(stderr);
				return 2;
			}
			*colon = 0;
			acl_pass = colon + 1;
			break;
		case 'k': keepalive_s = atoi(optarg); break;
		case 's': slack_ms = atoi(optarg); break;
		case 'n': many_msgs = atoi(optarg); break;
		case 'S': many_subs = atoi(optarg); break;
		case 'w': many_window = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); timeout_set = true; break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		case 'C': tls_cafile = optarg; break;
		case 'E': tls_cert = optarg; break;
		case 'K': tls_key = optarg; break;
		case 'V': tls_version = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	if ((tls_cert || tls_key || tls_version) && !tls_cafile) {
		usage(stderr);
		return 2;
	}
	if (optind >= argc || port <= 0 || keepalive_s < 1 || slack_ms < 0 || many_msgs < 1 ||
	    many_subs < 1 || many_window < 1 || timeout_s < 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("# seed %llu\n", (unsigned long long)seed);
	mosquitto_lib_init();
	snprintf(root, sizeof(root), "kmqtt-check-%d-%04x", (int)getpid(),
		 (unsigned int)(rnd() & 0xffff));
	for (; optind < argc; optind++) {
		const char *arg = argv[optind];
		bool all = !strcmp(arg, "all"), found = false;

		if (!strcmp(arg, "many") || !strcmp(arg, "flow") || !strcmp(arg, "closewatch")) {
			char *end;
			unsigned long n;

			if (optind + 1 >= argc) {
				usage(stderr);
				return 2;
			}
			n = strtoul(argv[++optind], &end, 10);
			if (*end || !n || n > 100000) {
				usage(stderr);
				return 2;
			}
			scenario = arg;
			if (!strcmp(arg, "many")) {
				if (!timeout_set)
					timeout_s = 300;
				sc_many(n);
			} else if (!strcmp(arg, "flow")) {
				sc_flow(n);
			} else {
				sc_closewatch(n);
			}
			continue;
		}
		for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
			if (all || !strcmp(arg, scenarios[k].name)) {
				scenario = scenarios[k].name;
				scenarios[k].fn();
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "kmqtt-mqtt-check: unknown scenario '%s'\n", arg);
			usage(stderr);
			return 2;
		}
	}
	mosquitto_lib_cleanup();
	return failures ? 1 : 0;
}
