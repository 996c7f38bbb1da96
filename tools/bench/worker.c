// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One worker thread: its share of the connections, its own epoll, and everything they do.
 *
 * Set-up: connections are opened at most connect_burst / threads at a time; each goes
 * TCP connect -> TLS handshake (--tls) -> CONNECT/CONNACK (or the relay's "PUB|SUB key" /
 * "OK") -> SUBSCRIBE/SUBACK (subscribers, idle with a filter) -> ready.
 *
 * Pacing (open loop): a publisher's message k of a step is due at
 *	origin + phase * P + floor(k / burst) * P,  P = burst / rate
 * and is sent at the first scheduler pass at or after that time, whatever the broker did
 * with earlier messages. Passes run at most every --tick-us, so at high rates each pass
 * writes many PUBLISH frames into the connection's buffer and sends them with one call.
 * Due publishers come off a min-heap keyed by due time. A publisher stops (and is not in
 * the heap) while its output buffer is above OBUF_HIGH or its QoS 1/2 window is full; it
 * resumes when the buffer drains or a slot frees (QoS 1: PUBACK; QoS 2: PUBCOMP, after the
 * PUBREC it answered with PUBREL), catching up on what became due meanwhile (those
 * messages count as late). When the step's window closes, what is still due and unsent is
 * counted as unsent.
 *
 * Persistent subscribers (offline scenario): set-up is CONNECT clean session 1, DISCONNECT
 * (purging any earlier session of the identifier), then CONNECT clean session 0, SUBSCRIBE,
 * DISCONNECT; after each DISCONNECT the connection waits for the broker to close it (at most
 * BYE_WAIT_NS), so that the broker has taken the subscriber offline before anything is
 * published. Such a subscriber then counts as set up while "parked" (no connection) until
 * ctl.resume, when it connects again with clean session 0 (no SUBSCRIBE) and must find its
 * session present. Count steps (ctl.count): every publisher's messages are due at the
 * origin, so they go out as fast as the QoS 1/2 window frees slots.
 *
 * Receiving: one read of up to RBUF bytes per readable event into the worker's buffer;
 * whole packets are decoded in place (mqtt_fixed_header + mqtt_decode from the core), a
 * trailing partial packet is carried in the connection's own buffer. PUBLISH payloads are
 * checked against a per (subscriber, publisher) sequence window for duplicates and
 * reordering; QoS 1 PUBLISHes are acknowledged with PUBACK, QoS 2 ones with PUBREC and the
 * broker's PUBREL then with PUBCOMP (the answers leave with the next flush). A QoS 2
 * message counts as received at its PUBLISH, like the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <openssl/err.h>
#include "bench.h"

#define RBUF		(256 * 1024)	/* one read */
#define OBUF_HIGH	(512 * 1024)	/* a publisher waits for EPOLLOUT above this */
#define OBUF_LOW	(128 * 1024)	/* ... and resumes below this */
#define MAX_EVENTS	256
#define HOUSEKEEP_NS	200000000ULL	/* keepalive pings, counters, connects */
#define SEQ_WIN		512		/* sequence numbers remembered per stream */
#define BYE_WAIT_NS	2000000000ULL	/* after DISCONNECT: wait for the broker's close */
#define LEVEL		MQTT_LEVEL_311

enum conn_state {
	CS_NEW,		/* not started */
	CS_TCP,		/* connect() in progress */
	CS_TLS,		/* TLS handshake */
	CS_HELLO,	/* CONNECT sent, waiting for CONNACK (--raw: "OK") */
	CS_SUBACK,	/* SUBSCRIBE sent */
	CS_READY,
	CS_BYE,		/* persistent subscriber: DISCONNECT sent, waiting for the close */
	CS_PARKED,	/* persistent subscriber: offline, its session kept by the broker */
	CS_CLOSED,
};

/* A persistent subscriber's connections, in order. */
enum { SESS_PURGE, SESS_SUBSCRIBE, SESS_RESUME };

enum { BLK_NONE, BLK_OUT, BLK_WINDOW };

/* A publisher's window slot: free, PUBLISH sent (QoS 1: until PUBACK, QoS 2: until
 * PUBREC), PUBREL sent (QoS 2: until PUBCOMP). */
enum { SLOT_FREE, SLOT_PUBLISHED, SLOT_RELEASED };

/* What a subscriber has seen of one publisher. */
struct stream {
	uint32_t high;			/* one past the highest sequence number seen */
	uint64_t bits[SEQ_WIN / 64];	/* seen flags of [high - SEQ_WIN, high) */
};

struct conn {
	struct worker *w;
	const struct client *cl;
	uint32_t idx;			/* in the worker */
	int fd;
	SSL *ssl;
	uint8_t state;
	uint8_t sess;			/* persistent subscriber: SESS_* of this connection */
	uint8_t blocked;
	bool dirty;
	uint32_t events;		/* current epoll mask */
	/* partial packet carried between reads */
	uint8_t *ibuf;
	uint32_t ilen, icap;
	/* output */
	uint8_t *obuf;
	uint32_t ooff, olen, ocap;
	uint64_t last_tx;
	uint64_t bye_at;		/* CS_BYE since */
	/* publisher */
	uint32_t heap_pos;		/* 1-based, 0: not in the heap */
	uint32_t seq;
	uint64_t k, k_start, k_end;
	uint64_t origin, offset_ns, next_due;
	double period_ns;
	uint32_t pid_ctr, pid_ring, inflight;
	uint8_t *slots;			/* QoS 1/2 window: SLOT_* per slot */
	uint64_t rng;
	/* subscriber */
	struct stream *streams;
	uint64_t *rel_wait;		/* QoS 2: packet ids PUBREC'd, awaiting PUBREL (bits) */
};

struct worker {
	int idx;
	pthread_t th;
	int epfd, evfd;
	struct conn *conns;
	uint32_t n;
	uint32_t next_start, connecting, nready, burst;
	uint32_t nresumed;
	bool resuming;			/* ctl.resume seen: parked subscribers connect */
	struct conn **restart;		/* persistent subscribers to connect again */
	uint32_t nrestart;
	uint8_t *rbuf;
	uint8_t *pattern;		/* payload filler */
	struct conn **heap;
	uint32_t heap_n;
	struct conn **dirty;
	uint32_t ndirty;
	struct mqtt_limits lim;
	uint32_t epoch;
	uint64_t count;			/* ctl.count of the step */
	bool finalized, running;
	uint64_t origin, meas_start, meas_end;
	double scale;
	uint64_t now;			/* of the current loop iteration */
	uint64_t next_pass, next_house;
	uint64_t lost_conns;
	uint64_t base_out, base_in;	/* messages of the steps before this one */
	struct stats st;		/* the current step */
	struct stats res;		/* published by collect */
	struct live live;
};

struct ctl ctl;

static void conn_update_events(struct conn *c);
static void conn_flush(struct conn *c);
static void bye_done(struct conn *c);
static void pub_schedule(struct conn *c);
static void start_connects(struct worker *w);

#define ST(w)		(&(w)->st)
#define store(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define load(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* ---- the publisher heap ---- */

static void heap_swap(struct worker *w, uint32_t a, uint32_t b)
{
	struct conn *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_pos = a + 1;
	w->heap[b]->heap_pos = b + 1;
}

static void heap_up(struct worker *w, uint32_t i)
{
	while (i) {
		uint32_t p = (i - 1) / 2;

		if (w->heap[p]->next_due <= w->heap[i]->next_due)
			break;
		heap_swap(w, i, p);
		i = p;
	}
}

static void heap_down(struct worker *w, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_n && w->heap[l]->next_due < w->heap[m]->next_due)
			m = l;
		if (r < w->heap_n && w->heap[r]->next_due < w->heap[m]->next_due)
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
}

static void heap_push(struct worker *w, struct conn *c)
{
	if (c->heap_pos)
		return;
	w->heap[w->heap_n] = c;
	c->heap_pos = ++w->heap_n;
	heap_up(w, w->heap_n - 1);
}

static void heap_remove(struct worker *w, struct conn *c)
{
	uint32_t i = c->heap_pos;

	if (!i)
		return;
	i--;
	c->heap_pos = 0;
	if (i == --w->heap_n)
		return;
	w->heap[i] = w->heap[w->heap_n];
	w->heap[i]->heap_pos = i + 1;
	heap_down(w, i);
	heap_up(w, i);
}

/* ---- buffers and I/O ---- */

static uint8_t *out_reserve(struct conn *c, uint32_t need)
{
	uint32_t cap;

	if (c->ocap - c->olen >= need)
		return c->obuf + c->olen;
	if (c->ooff) {
		memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
		if (c->ocap - c->olen >= need)
			return c->obuf + c->olen;
	}
	cap = c->ocap ? c->ocap : 1024;
	while (cap - c->olen < need)
		cap *= 2;
	c->obuf = realloc(c->obuf, cap);
	if (!c->obuf) {
		perror("kmqtt-bench: realloc");
		exit(1);
	}
	c->ocap = cap;
	return c->obuf + c->olen;
}

static void out_commit(struct conn *c, uint32_t len)
{
	struct worker *w = c->w;

	c->olen += len;
	if (!c->dirty) {
		c->dirty = true;
		w->dirty[w->ndirty++] = c;
	}
}

static void tls_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", errno ? strerror(errno) : "unexpected EOF");
	ERR_clear_error();
}

/* > 0 bytes, 0 EOF, -EAGAIN, or another negative errno. */
static ssize_t conn_recv(struct conn *c, uint8_t *buf, size_t len)
{
	ssize_t n;
	int r, e;

	if (!c->ssl) {
		n = recv(c->fd, buf, len, 0);
		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	}
	ERR_clear_error();
	r = SSL_read(c->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	return -EPROTO;
}

static ssize_t conn_send(struct conn *c, const uint8_t *buf, size_t len)
{
	ssize_t n;
	int r, e;

	if (!c->ssl) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			return n;
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	}
	ERR_clear_error();
	r = SSL_write(c->ssl, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (r > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	return -EPROTO;
}

/* A connection that was set up went away, or one failed during set-up. */
static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CS_CLOSED)
		return;
	heap_remove(w, c);
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = CS_CLOSED;
	c->olen = c->ooff = 0;
	c->ilen = 0;
}

/* Closed or parked: nothing more to read or send on this connection. */
static bool conn_gone(const struct conn *c)
{
	return c->state == CS_CLOSED || c->state == CS_PARKED;
}

static void conn_lost(struct conn *c, const char *why)
{
	struct worker *w = c->w;

	if (conn_gone(c))
		return;
	if (c->state == CS_BYE) {	/* the broker closed after our DISCONNECT: expected */
		bye_done(c);
		return;
	}
	if (c->state != CS_READY) {
		fatal_set("connection %u (%s %s) failed during set-up: %s", c->idx,
			  c->cl->role == ROLE_PUB ? "publisher" :
			  c->cl->role == ROLE_SUB ? "subscriber" : "idle",
			  c->cl->topic ? c->cl->topic : c->cl->key, why);
		conn_close(c);
		return;
	}
	ST(w)->disconnects++;
	w->lost_conns++;
	warnx_limited("connection %s lost: %s", c->cl->topic ? c->cl->topic : c->cl->key, why);
	conn_close(c);
}

static void conn_flush(struct conn *c)
{
	struct worker *w = c->w;
	ssize_t n;

	while (c->ooff < c->olen) {
		n = conn_send(c, c->obuf + c->ooff, c->olen - c->ooff);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			conn_lost(c, n == -EPROTO ? "TLS write error" : strerror((int)-n));
			return;
		}
		c->ooff += (uint32_t)n;
		ST(w)->bytes_out += (uint64_t)n;
		c->last_tx = w->now;
	}
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (c->blocked == BLK_OUT && c->olen - c->ooff < OBUF_LOW) {
		c->blocked = BLK_NONE;
		pub_schedule(c);
	}
	conn_update_events(c);
}

static void conn_update_events(struct conn *c)
{
	struct epoll_event ev;
	uint32_t want = EPOLLIN | EPOLLRDHUP;

	if (conn_gone(c))
		return;
	if (c->state == CS_TCP || c->ooff < c->olen ||
	    (c->state == CS_TLS && c->ssl && SSL_want_write(c->ssl)))
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.ptr = c;
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

/* ---- set-up ---- */

static void conn_ready(struct conn *c)
{
	struct worker *w = c->w;

	c->state = CS_READY;
	w->connecting--;
	if (c->cl->persistent && c->sess == SESS_RESUME) {
		w->nresumed++;
		store(w->live.resumed, w->nresumed);
	} else {
		w->nready++;
		store(w->live.ready, w->nready);
	}
	start_connects(w);
}

/* A persistent subscriber ends this connection with DISCONNECT; see bye_done(). */
static void send_bye(struct conn *c)
{
	uint8_t *o;
	int len;

	o = out_reserve(c, 2);
	len = mqtt_encode_disconnect(o, 2, LEVEL, NULL);
	if (len < 0) {
		fatal_set("cannot encode DISCONNECT: %s", mqtt_err_name(len));
		return;
	}
	out_commit(c, (uint32_t)len);
	c->state = CS_BYE;
	c->bye_at = now_ns();
	conn_flush(c);
}

/*
 * The broker closed a persistent subscriber's connection after its DISCONNECT (or
 * BYE_WAIT_NS passed). After the purge it connects again (at the end of the loop
 * iteration: we may be inside the old connection's read); after the subscription it is
 * parked, and counts as set up.
 */
static void bye_done(struct conn *c)
{
	struct worker *w = c->w;

	conn_close(c);
	if (c->sess == SESS_PURGE) {
		c->state = CS_NEW;	/* so that failing to connect again is a set-up failure */
		c->sess = SESS_SUBSCRIBE;
		w->restart[w->nrestart++] = c;
		return;
	}
	c->state = CS_PARKED;
	c->sess = SESS_RESUME;
	w->connecting--;
	w->nready++;
	store(w->live.ready, w->nready);
	start_connects(w);
}

static void send_hello(struct conn *c)
{
	const struct client *cl = c->cl;
	struct mqtt_connect cn;
	char id[64];
	uint8_t *o;
	int len;

	c->state = CS_HELLO;
	if (O.raw) {
		len = (int)strlen(cl->key) + 5;
		o = out_reserve(c, (uint32_t)len + 1);
		snprintf((char *)o, (size_t)len + 1, "%s %s\n",
			 cl->role == ROLE_PUB ? "PUB" : "SUB", cl->key);
		out_commit(c, (uint32_t)len);
		conn_flush(c);
		return;
	}
	memset(&cn, 0, sizeof(cn));
	if (cl->client_id)
		snprintf(id, sizeof(id), "%s", cl->client_id);
	else
		snprintf(id, sizeof(id), "%s%d-%d-%u", O.client_prefix, (int)getpid(),
			 c->w->idx, c->idx);
	cn.level = LEVEL;
	cn.clean_start = !cl->persistent || c->sess == SESS_PURGE;
	cn.keep_alive = cl->keepalive;
	cn.client_id.s = id;
	cn.client_id.len = (uint16_t)strlen(id);
	if (O.user) {
		cn.has_username = true;
		cn.username.s = O.user;
		cn.username.len = (uint16_t)strlen(O.user);
	}
	if (O.pass) {
		cn.has_password = true;
		cn.password.p = (const uint8_t *)O.pass;
		cn.password.len = (uint16_t)strlen(O.pass);
	}
	o = out_reserve(c, 1024);
	len = mqtt_encode_connect(o, 1024, &cn);
	if (len < 0) {
		fatal_set("cannot encode CONNECT: %s", mqtt_err_name(len));
		return;
	}
	out_commit(c, (uint32_t)len);
	conn_flush(c);
}

static void after_connack(struct conn *c, bool session_present)
{
	const struct client *cl = c->cl;
	struct mqtt_sub_entry e;
	struct mqtt_subscribe s;
	uint8_t *o;
	int len;

	if (cl->persistent) {
		switch (c->sess) {
		case SESS_PURGE:
			send_bye(c);
			return;
		case SESS_SUBSCRIBE:
			/* the purge ended any earlier session: a new one starts */
			if (session_present) {
				ST(c->w)->sess_stale++;
				warnx_limited("%s: session present right after a clean session "
					      "purged it", cl->client_id);
			}
			break;
		case SESS_RESUME:
			if (session_present) {
				ST(c->w)->sess_present++;
			} else {
				ST(c->w)->sess_absent++;
				warnx_limited("%s: CONNACK session present 0 on return: the "
					      "broker lost the persistent session", cl->client_id);
			}
			conn_ready(c);
			return;
		}
	}
	if (cl->role == ROLE_PUB || !cl->topic) {
		conn_ready(c);
		return;
	}
	memset(&e, 0, sizeof(e));
	memset(&s, 0, sizeof(s));
	e.filter.s = cl->topic;
	e.filter.len = (uint16_t)strlen(cl->topic);
	e.qos = cl->qos;
	s.packet_id = 1;
	s.count = 1;
	s.entries = &e;
	o = out_reserve(c, 1024);
	len = mqtt_encode_subscribe(o, 1024, LEVEL, &s);
	if (len < 0) {
		fatal_set("cannot encode SUBSCRIBE %s: %s", cl->topic, mqtt_err_name(len));
		return;
	}
	out_commit(c, (uint32_t)len);
	c->state = CS_SUBACK;
}

static void tls_step(struct conn *c)
{
	char err[256];
	int r;

	ERR_clear_error();
	r = SSL_connect(c->ssl);
	if (r == 1) {
		send_hello(c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		conn_update_events(c);
		return;
	default:
		tls_error(err, sizeof(err));
		conn_lost(c, err);
	}
}

static void tcp_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		conn_lost(c, strerror(err));
		return;
	}
	if (!tls_ctx) {
		send_hello(c);
		return;
	}
	c->state = CS_TLS;
	c->ssl = SSL_new(tls_ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		conn_lost(c, "SSL_new failed");
		return;
	}
	if (!O.insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if (!X509_VERIFY_PARAM_set1_ip_asc(vp, O.host)) {
			SSL_set_tlsext_host_name(c->ssl, O.host);
			SSL_set1_host(c->ssl, O.host);
		}
	}
	SSL_set_connect_state(c->ssl);
	tls_step(c);
}

static void conn_start(struct conn *c)
{
	struct worker *w = c->w;
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(target_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_lost(c, strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (n_bind_addrs) {
		uint32_t k = c->idx * (uint32_t)O.threads + (uint32_t)w->idx;
		const struct sockaddr_storage *b = &bind_addrs[k % n_bind_addrs];

		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c->fd, (const struct sockaddr *)b,
			 b->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			 sizeof(struct sockaddr_in)) < 0) {
			conn_lost(c, strerror(errno));
			return;
		}
	}
	c->state = CS_TCP;
	c->events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.events = c->events;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_lost(c, strerror(errno));
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&target_addr, target_len) < 0 &&
	    errno != EINPROGRESS) {
		char why[160];

		snprintf(why, sizeof(why), "connect to %s:%s: %s%s", O.host, O.port,
			 strerror(errno), errno == EADDRNOTAVAIL ?
			 " (out of local ports: give more source addresses with --bind)" : "");
		conn_lost(c, why);
	}
}

/* New connections, and after ctl.resume the parked ones, at most w->burst at a time. */
static void start_connects(struct worker *w)
{
	while (w->next_start < w->n && w->connecting < w->burst && !load(ctl.fatal)) {
		struct conn *c = &w->conns[w->next_start++];

		if (c->state == CS_NEW || (c->state == CS_PARKED && w->resuming)) {
			c->state = CS_NEW;	/* failing to connect: a set-up failure */
			w->connecting++;
			conn_start(c);
		}
	}
}

/* ---- publishing ---- */

static uint64_t due(const struct conn *c, uint64_t k)
{
	return c->origin + c->offset_ns +
	       (uint64_t)((double)(k / c->cl->burst) * c->period_ns);
}

/* Messages due strictly before @t. */
static uint64_t count_before(const struct conn *c, uint64_t t)
{
	double rel;

	if (t <= c->origin + c->offset_ns)
		return 0;
	rel = (double)(t - c->origin - c->offset_ns);
	return (uint64_t)ceil(rel / c->period_ns) * c->cl->burst;
}

static void pub_schedule(struct conn *c)
{
	if (c->state != CS_READY || c->k >= c->k_end || c->blocked || !c->w->running)
		return;
	c->next_due = due(c, c->k);
	heap_push(c->w, c);
}

static uint32_t msg_size(struct conn *c)
{
	const struct client *cl = c->cl;
	uint64_t x;

	if (cl->size_max == cl->size_min)
		return cl->size_min;
	/* xorshift64*: deterministic per publisher */
	x = c->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return cl->size_min + (uint32_t)((x * 2685821657736338717ULL >> 33) %
					 (cl->size_max - cl->size_min + 1));
}

static void pub_epoch_start(struct conn *c)
{
	struct worker *w = c->w;
	const struct client *cl = c->cl;
	struct stats_cls *sc = &ST(w)->c[cl->cls];
	double rate = cl->rate * w->scale;

	heap_remove(w, c);
	c->blocked = c->blocked == BLK_WINDOW ? BLK_WINDOW : BLK_NONE;
	c->k = c->k_start = c->k_end = 0;
	c->origin = w->origin;
	if (w->count) {		/* all due at the origin, all measured */
		c->period_ns = 0;
		c->offset_ns = 0;
		c->k_end = w->count;
	} else {
		if (rate <= 0)
			return;
		c->period_ns = 1e9 * cl->burst / rate;
		c->offset_ns = (uint64_t)(cl->phase * c->period_ns);
		c->k_start = count_before(c, w->meas_start);
		c->k_end = count_before(c, w->meas_end);
	}
	sc->offered_exp += (c->k_end - c->k_start) * cl->fan;
	if (c->state != CS_READY) {
		sc->unsent += c->k_end - c->k_start;
		c->k = c->k_end;
		return;
	}
	pub_schedule(c);
}

/* Send what is due; false if the publisher has to wait (buffer or window). */
static void pub_run(struct conn *c, uint64_t now)
{
	struct worker *w = c->w;
	const struct client *cl = c->cl;
	struct stats_cls *sc = &ST(w)->c[cl->cls];
	uint16_t tlen = (uint16_t)strlen(cl->topic);
	struct mqtt_publish pb;
	struct payload_hdr ph;
	uint32_t size, need;
	uint64_t d;
	uint8_t *o;
	int h;

	memset(&pb, 0, sizeof(pb));
	pb.qos = cl->qos;
	pb.topic.s = cl->topic;
	pb.topic.len = tlen;
	ph.magic = PAYLOAD_MAGIC;
	ph.pub = cl->pub_id;
	ph.epoch = (uint16_t)w->epoch;
	ph.cls = cl->cls;
	ph.ts = now;
	while (c->k < c->k_end) {
		d = due(c, c->k);
		if (d > now) {
			c->next_due = d;
			heap_push(w, c);
			return;
		}
		if (cl->qos && !O.raw && c->slots[c->pid_ctr % O.inflight]) {
			c->blocked = BLK_WINDOW;
			return;
		}
		if (c->olen - c->ooff > OBUF_HIGH) {
			c->blocked = BLK_OUT;
			return;
		}
		size = msg_size(c);
		need = 16 + tlen + size;
		o = out_reserve(c, need);
		if (cl->qos) {
			pb.packet_id = (uint16_t)(c->pid_ctr % c->pid_ring + 1);
			if (!O.raw) {
				c->slots[c->pid_ctr % O.inflight] = SLOT_PUBLISHED;
				c->inflight++;
			}
			c->pid_ctr++;
		}
		pb.payload_len = size;
		h = mqtt_encode_publish_head(o, need, LEVEL, &pb);
		if (h < 0) {
			fatal_set("cannot encode PUBLISH to %s: %s", cl->topic, mqtt_err_name(h));
			return;
		}
		ph.seq = c->seq++;
		ph.flags = c->k >= c->k_start ? PF_MEASURED : 0;
		memcpy(o + h, &ph, PAYLOAD_HDR);
		memcpy(o + h + PAYLOAD_HDR, w->pattern, size - PAYLOAD_HDR);
		out_commit(c, (uint32_t)h + size);
		ST(w)->msgs_out++;
		if (ph.flags) {
			sc->sent++;
			sc->expected += cl->fan;
		}
		if (ph.flags && !w->count) {	/* count steps have no schedule to keep */
			if (now - d > LATE_NS)
				ST(w)->late++;
			if (now - d > ST(w)->max_late_ns)
				ST(w)->max_late_ns = now - d;
		}
		c->k++;
	}
}

/*
 * A publisher's acknowledgement: PUBACK (QoS 1) or PUBCOMP (QoS 2) frees the slot, PUBREC
 * (QoS 2) is answered with PUBREL and the slot waits for PUBCOMP. Anything else (an
 * acknowledgement of the wrong kind, for a free slot or in the wrong order) is a bad ack.
 */
static void on_pub_ack(struct conn *c, uint8_t type, uint16_t pid, uint64_t now)
{
	struct worker *w = c->w;
	struct mqtt_ack a;
	uint32_t slot;
	uint8_t want;
	uint8_t *o;
	int len;

	if (O.raw || c->cl->role != ROLE_PUB || !c->cl->qos || !pid || pid > c->pid_ring) {
		ST(w)->bad_ack++;
		return;
	}
	slot = (pid - 1u) % O.inflight;
	if (c->cl->qos == 1)
		want = type == MQTT_PUBACK ? SLOT_PUBLISHED : SLOT_FREE;
	else
		want = type == MQTT_PUBREC ? SLOT_PUBLISHED :
		       type == MQTT_PUBCOMP ? SLOT_RELEASED : SLOT_FREE;
	if (want == SLOT_FREE || c->slots[slot] != want) {
		ST(w)->bad_ack++;
		return;
	}
	if (type == MQTT_PUBREC) {
		memset(&a, 0, sizeof(a));
		a.packet_id = pid;
		o = out_reserve(c, 8);
		len = mqtt_encode_ack(o, 8, LEVEL, MQTT_PUBREL, &a);
		if (len < 0) {
			fatal_set("cannot encode PUBREL: %s", mqtt_err_name(len));
			return;
		}
		out_commit(c, (uint32_t)len);
		c->slots[slot] = SLOT_RELEASED;
		return;
	}
	c->slots[slot] = SLOT_FREE;
	c->inflight--;
	ST(w)->acked++;
	ST(w)->last_ack_ns = now;
	if (c->blocked == BLK_WINDOW) {
		c->blocked = BLK_NONE;
		pub_schedule(c);
	}
}

/* A subscriber's QoS 2 hand-shake: PUBREL from the broker is answered with PUBCOMP. */
static void on_pubrel(struct conn *c, uint16_t pid)
{
	struct worker *w = c->w;
	struct mqtt_ack a;
	uint8_t *o;
	int len;

	/* answered whatever: the broker may repeat a PUBREL we already completed */
	if (!c->rel_wait || !(c->rel_wait[pid / 64] & (1ULL << (pid % 64))))
		ST(w)->bad_ack++;
	else
		c->rel_wait[pid / 64] &= ~(1ULL << (pid % 64));
	memset(&a, 0, sizeof(a));
	a.packet_id = pid;
	o = out_reserve(c, 8);
	len = mqtt_encode_ack(o, 8, LEVEL, MQTT_PUBCOMP, &a);
	if (len < 0) {
		fatal_set("cannot encode PUBCOMP: %s", mqtt_err_name(len));
		return;
	}
	out_commit(c, (uint32_t)len);
}

/* ---- receiving ---- */

enum { SEQ_NEW, SEQ_OOO, SEQ_DUP };

static int stream_update(struct stream *s, uint32_t seq)
{
	uint32_t q;

	if (seq >= s->high) {
		if (seq - s->high >= SEQ_WIN)
			memset(s->bits, 0, sizeof(s->bits));
		else
			for (q = s->high; q < seq; q++)
				s->bits[q % SEQ_WIN / 64] &= ~(1ULL << (q % 64));
		s->bits[seq % SEQ_WIN / 64] |= 1ULL << (seq % 64);
		s->high = seq + 1;
		return SEQ_NEW;
	}
	if (s->high - seq > SEQ_WIN)
		return SEQ_OOO;		/* too old to tell a duplicate from a late one */
	if (s->bits[seq % SEQ_WIN / 64] & (1ULL << (seq % 64)))
		return SEQ_DUP;
	s->bits[seq % SEQ_WIN / 64] |= 1ULL << (seq % 64);
	return SEQ_OOO;
}

static void on_publish(struct conn *c, const struct mqtt_publish *pb, uint64_t now)
{
	struct worker *w = c->w;
	const struct client *cl = c->cl;
	struct stats_cls *sc;
	struct payload_hdr ph;
	struct mqtt_ack a;
	uint8_t *o;
	int kind, len;

	if (pb->qos) {
		memset(&a, 0, sizeof(a));
		a.packet_id = pb->packet_id;
		o = out_reserve(c, 8);
		len = mqtt_encode_ack(o, 8, LEVEL, pb->qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, &a);
		if (len > 0)
			out_commit(c, (uint32_t)len);
	}
	if (pb->qos == 2) {
		/* PUBREC sent: the packet id now waits for the broker's PUBREL */
		if (!c->rel_wait) {
			c->rel_wait = calloc(65536 / 64, sizeof(*c->rel_wait));
			if (!c->rel_wait) {
				perror("kmqtt-bench: calloc");
				exit(1);
			}
		}
		c->rel_wait[pb->packet_id / 64] |= 1ULL << (pb->packet_id % 64);
	}
	if (pb->payload_len < PAYLOAD_HDR || cl->role != ROLE_SUB) {
		ST(w)->foreign++;
		return;
	}
	memcpy(&ph, pb->payload, PAYLOAD_HDR);
	if (ph.magic != PAYLOAD_MAGIC || ph.pub < cl->src_lo || ph.pub >= cl->src_hi ||
	    ph.cls >= NCLASS_MAX) {
		ST(w)->foreign++;
		return;
	}
	ST(w)->msgs_in++;
	kind = stream_update(&c->streams[ph.pub - cl->src_lo], ph.seq);
	if (ph.epoch != (uint16_t)w->epoch) {
		ST(w)->stale++;
		return;
	}
	if (!(ph.flags & PF_MEASURED))
		return;
	sc = &ST(w)->c[ph.cls];
	if (kind == SEQ_DUP) {
		sc->dup++;
		return;
	}
	if (kind == SEQ_OOO)
		sc->ooo++;
	sc->delivered++;
	ST(w)->last_rx_ns = now;
	if (now < w->meas_end)
		sc->delivered_by_end++;
	hist_record(&sc->lat, now > ph.ts ? now - ph.ts : 0);
}

static void on_packet(struct conn *c, const struct mqtt_fixed_header *fh, const uint8_t *body,
		      uint64_t now)
{
	struct worker *w = c->w;
	struct mqtt_packet pkt;
	char why[128];
	int err;

	err = mqtt_decode(LEVEL, fh, body, &w->lim, &pkt);
	if (err < 0) {
		snprintf(why, sizeof(why), "undecodable packet (type %u): %s", fh->type,
			 mqtt_err_name(err));
		conn_lost(c, why);
		return;
	}
	switch (pkt.type) {
	case MQTT_PUBLISH:
		on_publish(c, &pkt.publish, now);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBCOMP:
		on_pub_ack(c, pkt.type, pkt.ack.packet_id, now);
		break;
	case MQTT_PUBREL:
		on_pubrel(c, pkt.ack.packet_id);
		break;
	case MQTT_CONNACK:
		if (c->state != CS_HELLO) {
			conn_lost(c, "unexpected CONNACK");
		} else if (pkt.connack.reason) {
			snprintf(why, sizeof(why), "CONNACK refused with return code %u",
				 pkt.connack.reason);
			conn_lost(c, why);
		} else {
			after_connack(c, pkt.connack.session_present);
		}
		break;
	case MQTT_SUBACK:
		if (c->state != CS_SUBACK || pkt.suback.count != 1) {
			conn_lost(c, "unexpected SUBACK");
		} else if (pkt.suback.codes[0] > 2) {
			snprintf(why, sizeof(why), "SUBACK refused %s: 0x%02x", c->cl->topic,
				 pkt.suback.codes[0]);
			conn_lost(c, why);
		} else if (c->cl->persistent) {
			send_bye(c);
		} else {
			conn_ready(c);
		}
		break;
	case MQTT_PINGRESP:
		ST(w)->pongs++;
		store(w->live.pongs, load(w->live.pongs) + 1);
		break;
	default:
		ST(w)->foreign++;
	}
}

/* The relay's answer to "PUB|SUB key": "OK\n". */
static int raw_hello(struct conn *c, const uint8_t **p, uint32_t *n)
{
	while (*n && c->state == CS_HELLO) {
		uint8_t b = **p;

		(*p)++;
		(*n)--;
		if (c->ilen >= 16) {
			conn_lost(c, "relay answered something else than OK");
			return -1;
		}
		if (!c->icap) {
			c->ibuf = malloc(64);
			c->icap = 64;
		}
		c->ibuf[c->ilen++] = b;
		if (b != '\n')
			continue;
		if (c->ilen != 3 || memcmp(c->ibuf, "OK\n", 3)) {
			conn_lost(c, "relay refused the key");
			return -1;
		}
		c->ilen = 0;
		conn_ready(c);
	}
	return 0;
}

static void in_reserve(struct conn *c, uint32_t need)
{
	uint32_t cap;

	if (c->icap >= need)
		return;
	cap = c->icap ? c->icap : 256;
	while (cap < need)
		cap *= 2;
	c->ibuf = realloc(c->ibuf, cap);
	if (!c->ibuf) {
		perror("kmqtt-bench: realloc");
		exit(1);
	}
	c->icap = cap;
}

static void consume(struct conn *c, const uint8_t *p, uint32_t n, uint64_t now)
{
	struct mqtt_fixed_header fh;
	uint32_t total, take;
	int h;

	if (O.raw && c->state == CS_HELLO && raw_hello(c, &p, &n) < 0)
		return;
	/* complete the packet carried over from the last read */
	while (c->ilen && n) {
		h = mqtt_fixed_header(c->ibuf, c->ilen, LEVEL, O.max_packet, &fh);
		if (h < 0)
			goto bad;
		if (h == 0) {
			take = 1;
			total = 0;
		} else {
			total = (uint32_t)h + fh.remlen;
			take = total - c->ilen < n ? total - c->ilen : n;
		}
		in_reserve(c, c->ilen + take);
		memcpy(c->ibuf + c->ilen, p, take);
		c->ilen += take;
		p += take;
		n -= take;
		if (h > 0 && c->ilen == total) {
			c->ilen = 0;
			on_packet(c, &fh, c->ibuf + h, now);
			if (conn_gone(c))
				return;
		}
	}
	while (n) {
		h = mqtt_fixed_header(p, n, LEVEL, O.max_packet, &fh);
		if (h < 0)
			goto bad;
		if (h == 0 || (uint64_t)h + fh.remlen > n) {
			in_reserve(c, n);
			memcpy(c->ibuf, p, n);
			c->ilen = n;
			return;
		}
		total = (uint32_t)h + fh.remlen;
		on_packet(c, &fh, p + h, now);
		if (conn_gone(c))
			return;
		p += total;
		n -= total;
	}
	return;
bad:
	{
		char why[96];

		snprintf(why, sizeof(why), "bad packet header from the broker: %s",
			 mqtt_err_name(h));
		conn_lost(c, why);
	}
}

static void conn_readable(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t now;
	ssize_t n;

	for (;;) {
		n = conn_recv(c, w->rbuf, RBUF);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			char why[256];

			if (n == -EPROTO)
				tls_error(why, sizeof(why));
			else
				snprintf(why, sizeof(why), "%s", n == 0 ? "closed by the broker" :
					 strerror((int)-n));
			conn_lost(c, why);
			return;
		}
		ST(w)->bytes_in += (uint64_t)n;
		now = now_ns();
		consume(c, w->rbuf, (uint32_t)n, now);
		if (conn_gone(c) || !c->ssl)
			return;
	}
}

static void conn_event(struct conn *c, uint32_t ev)
{
	switch (c->state) {
	case CS_TCP:
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			tcp_connected(c);
		return;
	case CS_TLS:
		tls_step(c);
		return;
	case CS_CLOSED:
	case CS_PARKED:
		return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		conn_readable(c);
	if (!conn_gone(c) && (ev & EPOLLOUT))
		conn_flush(c);
}

/* ---- the step machinery ---- */

static void epoch_start(struct worker *w, uint32_t e, uint64_t now)
{
	uint32_t i;

	w->epoch = e;
	w->origin = ctl.origin;
	w->meas_start = ctl.meas_start;
	w->meas_end = ctl.meas_end;
	w->scale = ctl.scale;
	w->count = ctl.count;
	w->base_out += w->st.msgs_out;
	w->base_in += w->st.msgs_in;
	memset(&w->st, 0, sizeof(w->st));
	w->finalized = false;
	w->running = true;
	for (i = 0; i < w->n; i++)
		if (w->conns[i].cl->role == ROLE_PUB)
			pub_epoch_start(&w->conns[i]);
	w->next_pass = now;
}

static void epoch_finalize(struct worker *w)
{
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];

		if (c->cl->role != ROLE_PUB)
			continue;
		heap_remove(w, c);
		if (c->k < c->k_end) {
			uint64_t from = c->k > c->k_start ? c->k : c->k_start;

			ST(w)->c[c->cl->cls].unsent += c->k_end - from;
			c->k = c->k_end;
		}
		if (c->blocked == BLK_OUT)
			c->blocked = BLK_NONE;
	}
	w->finalized = true;
	w->running = false;
}

static void sched_pass(struct worker *w, uint64_t now)
{
	while (w->heap_n && w->heap[0]->next_due <= now) {
		struct conn *c = w->heap[0];

		heap_remove(w, c);
		pub_run(c, now);
	}
}

static void flush_dirty(struct worker *w)
{
	uint32_t i;

	for (i = 0; i < w->ndirty; i++) {
		struct conn *c = w->dirty[i];

		c->dirty = false;
		if (!conn_gone(c) && c->state != CS_NEW && c->state != CS_TCP &&
		    c->state != CS_TLS)
			conn_flush(c);
	}
	w->ndirty = 0;
}

static void housekeeping(struct worker *w, uint64_t now)
{
	uint8_t *o;
	uint32_t i;
	int len;

	if (!O.raw) {
		for (i = 0; i < w->n; i++) {
			struct conn *c = &w->conns[i];
			uint64_t ka = (uint64_t)c->cl->keepalive * 1000000000ULL;

			if (c->state == CS_BYE && now - c->bye_at >= BYE_WAIT_NS) {
				bye_done(c);	/* the broker did not close: we do */
				continue;
			}
			if (c->state != CS_READY || !ka || now - c->last_tx < ka / 2)
				continue;
			o = out_reserve(c, 2);
			len = mqtt_encode_ping(o, 2, MQTT_PINGREQ);
			if (len > 0) {
				out_commit(c, (uint32_t)len);
				c->last_tx = now;	/* the flush will confirm */
				ST(w)->pings++;
				store(w->live.pings, load(w->live.pings) + 1);
			}
		}
	}
	start_connects(w);
	w->next_house = now + HOUSEKEEP_NS;
}

static void publish_live(struct worker *w)
{
	uint64_t exp = 0, del = 0;
	uint32_t i;

	for (i = 0; i < NCLASS_MAX; i++) {
		exp += w->st.c[i].expected;
		del += w->st.c[i].delivered;
	}
	store(w->live.sent, w->base_out + w->st.msgs_out);
	store(w->live.recv, w->base_in + w->st.msgs_in);
	store(w->live.expected, exp);
	store(w->live.delivered, del);
	store(w->live.lost_conns, w->lost_conns);
	store(w->live.acked, w->st.acked);
	store(w->live.last_ack_ns, w->st.last_ack_ns);
	store(w->live.last_rx_ns, w->st.last_rx_ns);
}

/* Persistent subscribers whose purge ended connect again (see bye_done()). */
static void restart_conns(struct worker *w)
{
	uint32_t i;

	for (i = 0; i < w->nrestart; i++)
		conn_start(w->restart[i]);
	w->nrestart = 0;
}

static void disconnect_all(struct worker *w)
{
	uint32_t i;
	int len;

	for (i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];
		uint8_t *o;

		if (c->state == CS_READY && !O.raw) {
			o = out_reserve(c, 2);
			len = mqtt_encode_disconnect(o, 2, LEVEL, NULL);
			if (len > 0)
				out_commit(c, (uint32_t)len);
			conn_flush(c);
		}
		if (c->state != CS_CLOSED && c->state != CS_NEW) {
			if (c->ssl && c->state == CS_READY)
				SSL_shutdown(c->ssl);
			conn_close(c);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t now;
	uint32_t e;
	int i, n;

	now = now_ns();
	start_connects(w);
	w->next_house = now + HOUSEKEEP_NS;
	while (!__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE)) {
		struct timespec ts;
		uint64_t wake = w->next_house;

		if (w->running && w->heap_n) {
			uint64_t d = w->heap[0]->next_due;

			if (d < w->next_pass)
				d = w->next_pass;
			if (d < wake)
				wake = d;
		}
		if (w->running && !w->finalized && w->meas_end < wake)
			wake = w->meas_end;
		now = now_ns();
		if (wake <= now) {
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
		} else {
			ts.tv_sec = (time_t)((wake - now) / 1000000000ULL);
			ts.tv_nsec = (long)((wake - now) % 1000000000ULL);
		}
		n = epoll_pwait2(w->epfd, ev, MAX_EVENTS, &ts, NULL);
		if (n < 0 && errno == ENOSYS)	/* before Linux 5.11: millisecond timeouts */
			n = epoll_wait(w->epfd, ev, MAX_EVENTS,
				       (int)((ts.tv_sec * 1000000000LL + ts.tv_nsec + 999999) /
					     1000000));
		if (n < 0 && errno != EINTR) {
			fatal_set("epoll_pwait2: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (!ev[i].data.ptr) {
				uint64_t v;

				if (read(w->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					fatal_set("eventfd: %s", strerror(errno));
				continue;
			}
			conn_event(ev[i].data.ptr, ev[i].events);
		}
		restart_conns(w);
		if (!w->resuming && __atomic_load_n(&ctl.resume, __ATOMIC_ACQUIRE)) {
			w->resuming = true;
			w->next_start = 0;
			start_connects(w);
		}
		now = w->now = now_ns();
		e = __atomic_load_n(&ctl.epoch, __ATOMIC_ACQUIRE);
		if (e != w->epoch)
			epoch_start(w, e, now);
		if (w->running && (now >= w->next_pass || now >= w->meas_end)) {
			sched_pass(w, now);
			w->next_pass = now + (uint64_t)O.tick_us * 1000;
			if (now >= w->meas_end) {
				flush_dirty(w);
				epoch_finalize(w);
			}
		}
		flush_dirty(w);
		if (now >= w->next_house) {
			housekeeping(w, now);
			restart_conns(w);
		}
		publish_live(w);
		if (w->finalized)
			store(w->live.finalized, w->epoch);
		if (__atomic_load_n(&ctl.collect, __ATOMIC_ACQUIRE) == w->epoch &&
		    load(w->live.collected) != w->epoch) {
			memcpy(&w->res, &w->st, sizeof(w->res));
			__atomic_store_n(&w->live.collected, w->epoch, __ATOMIC_RELEASE);
		}
	}
	disconnect_all(w);
	return NULL;
}

/* ---- the main thread's side ---- */

struct worker *worker_new(int idx, struct client **cl, uint32_t n, uint32_t max_payload)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct epoll_event ev;
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	uint32_t i;

	if (!w)
		return NULL;
	w->idx = idx;
	w->n = n;
	w->conns = calloc(n ? n : 1, sizeof(*w->conns));
	w->heap = calloc(n ? n : 1, sizeof(*w->heap));
	w->dirty = calloc(n ? n : 1, sizeof(*w->dirty));
	w->restart = calloc(n ? n : 1, sizeof(*w->restart));
	w->rbuf = malloc(RBUF);
	w->pattern = malloc(max_payload);
	w->burst = O.connect_burst / (uint32_t)O.threads;
	if (w->burst < 4)
		w->burst = 4;
	lim.max_packet_size = O.max_packet;
	w->lim = lim;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!w->conns || !w->heap || !w->dirty || !w->restart || !w->rbuf || !w->pattern || w->epfd < 0 ||
	    w->evfd < 0)
		return NULL;
	for (i = 0; i < max_payload; i++)
		w->pattern[i] = (uint8_t)('a' + i % 26);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
		return NULL;
	w->now = now_ns();
	for (i = 0; i < n; i++) {
		struct conn *c = &w->conns[i];
		const struct client *k = cl[i];

		c->w = w;
		c->cl = k;
		c->idx = i;
		c->fd = -1;
		c->rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)k->pub_id << 17 | 1);
		if (k->role == ROLE_SUB) {
			c->streams = calloc(k->src_hi - k->src_lo, sizeof(*c->streams));
			if (!c->streams)
				return NULL;
		}
		if (k->role == ROLE_PUB && k->qos) {
			c->pid_ring = O.raw ? 65535 : 65535 / O.inflight * O.inflight;
			if (!O.raw) {
				c->slots = calloc(O.inflight, 1);
				if (!c->slots)
					return NULL;
			}
		}
	}
	return w;
}

int worker_start(struct worker *w)
{
	return pthread_create(&w->th, NULL, worker_main, w);
}

void worker_wake(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		fatal_set("eventfd: %s", strerror(errno));
}

void worker_join(struct worker *w)
{
	pthread_join(w->th, NULL);
}

void worker_live(struct worker *w, struct live *out)
{
	out->ready = load(w->live.ready);
	out->sent = load(w->live.sent);
	out->recv = load(w->live.recv);
	out->expected = load(w->live.expected);
	out->delivered = load(w->live.delivered);
	out->finalized = load(w->live.finalized);
	out->collected = __atomic_load_n(&w->live.collected, __ATOMIC_ACQUIRE);
	out->lost_conns = load(w->live.lost_conns);
	out->pings = load(w->live.pings);
	out->pongs = load(w->live.pongs);
	out->resumed = load(w->live.resumed);
	out->acked = load(w->live.acked);
	out->last_ack_ns = load(w->live.last_ack_ns);
	out->last_rx_ns = load(w->live.last_rx_ns);
}

const struct stats *worker_result(struct worker *w)
{
	return &w->res;
}

void worker_free(struct worker *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++) {
		struct conn *c = &w->conns[i];

		if (c->state != CS_CLOSED && c->state != CS_NEW)
			conn_close(c);
		free(c->ibuf);
		free(c->obuf);
		free(c->slots);
		free(c->streams);
		free(c->rel_wait);
	}
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	free(w->conns);
	free(w->heap);
	free(w->dirty);
	free(w->restart);
	free(w->rbuf);
	free(w->pattern);
	free(w);
}

void stats_merge(struct stats *d, const struct stats *s)
{
	int i;

	d->late += s->late;
	if (s->max_late_ns > d->max_late_ns)
		d->max_late_ns = s->max_late_ns;
	d->stale += s->stale;
	d->foreign += s->foreign;
	d->bad_ack += s->bad_ack;
	d->pings += s->pings;
	d->pongs += s->pongs;
	d->disconnects += s->disconnects;
	d->msgs_out += s->msgs_out;
	d->msgs_in += s->msgs_in;
	d->bytes_out += s->bytes_out;
	d->bytes_in += s->bytes_in;
	d->acked += s->acked;
	if (s->last_ack_ns > d->last_ack_ns)
		d->last_ack_ns = s->last_ack_ns;
	if (s->last_rx_ns > d->last_rx_ns)
		d->last_rx_ns = s->last_rx_ns;
	d->sess_present += s->sess_present;
	d->sess_absent += s->sess_absent;
	d->sess_stale += s->sess_stale;
	for (i = 0; i < NCLASS_MAX; i++) {
		struct stats_cls *dc = &d->c[i];
		const struct stats_cls *sc = &s->c[i];

		dc->sent += sc->sent;
		dc->unsent += sc->unsent;
		dc->expected += sc->expected;
		dc->offered_exp += sc->offered_exp;
		dc->delivered += sc->delivered;
		dc->delivered_by_end += sc->delivered_by_end;
		dc->dup += sc->dup;
		dc->ooo += sc->ooo;
		hist_merge(&dc->lat, &sc->lat);
	}
}
