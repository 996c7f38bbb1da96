// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqtt-relay — the raw relay baseline of the benchmark: the byte stream of publishers
 * forwarded to subscribers with no MQTT work, the upper bound of a broker on this box.
 *
 *   kmqtt-relay -p PORT [-b ADDR] [--threads N] [-m BYTES] [--sub-buffer BYTES]
 *               [--port-file F] [-v]
 *
 *   -p PORT          port to listen on (0: any free one, see --port-file)
 *   -b ADDR          address to listen on (default 127.0.0.1; IPv4 or IPv6)
 *   --threads N      worker threads, each with its own epoll (default: online CPUs)
 *   -m BYTES         largest frame accepted from a publisher (default 1 MiB)
 *   --sub-buffer B   bytes queued for one subscriber before frames are dropped for it
 *                    (default 4 MiB)
 *   --port-file F    write the port listened on to F once listening
 *   -v               log connections, and the counters every 5 s
 *
 * Protocol: a client connects and sends one line, "SUB <key>\n" or "PUB <key>\n" (key: any
 * bytes but newline, at most 1024), and the relay answers "OK\n" (anything else: "ERR\n"
 * and close). After that, the byte stream of a PUB connection is cut into frames by the
 * MQTT fixed header (type byte and remaining length, read by the core codec's
 * mqtt_fixed_header(); no other parsing) so that frames of different publishers never
 * interleave, and each whole frame goes to every SUB connection of the same key. What a
 * SUB connection sends is read and discarded (kmqtt-bench's subscribers send PUBACKs).
 *
 * Forwarding: the frames of one read become one refcounted buffer. The publisher's thread
 * hands it to each thread that has subscribers of the key (a queue per thread, woken by an
 * eventfd); each thread appends a reference to the output queue of each of its
 * subscribers of that key and sends with writev, so fan-out work is spread over the
 * threads that own the subscribers and a frame is never copied per subscriber. (Reads
 * with up to SMALL_COPY bytes of whole frames are copied once into a buffer of their size
 * so that the 256 KiB read buffer is reused; larger ones are handed over as they are.)
 * A subscriber whose queue holds more than --sub-buffer bytes loses the frames for it
 * (counted as dropped).
 *
 * Counters (printed on stderr at exit on SIGINT/SIGTERM, and every 5 s with -v):
 * connections accepted, frames and bytes in, frames and bytes out (per subscriber),
 * frames dropped for full subscribers, frames for keys without subscribers, protocol
 * errors (bad hello, bad frame header, oversized frame).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "mqtt_codec.h"

#define LINE_MAX_LEN	1024
#define IN_CAP		(256 * 1024)	/* a publisher's read buffer */
#define MAX_EVENTS	256
#define IOV_MAX_BATCH	64
#define KEY_BUCKETS	4096
#define SMALL_COPY	(16 * 1024)	/* whole frames up to this are copied out of a read */

struct blob {
	uint32_t refs;			/* atomic */
	uint32_t len, cap;
	uint32_t frames;
	uint8_t data[];
};

struct key {
	struct key *next;
	char *name;
	uint8_t *on_thread;		/* atomic flags: the thread has subscribers */
	struct rconn ***subs;		/* per thread, owned by that thread */
	uint32_t *nsubs, *capsubs;
};

enum { RC_HELLO, RC_PUB, RC_SUB };

struct oent {
	struct blob *b;
	uint32_t off;
};

struct rconn {
	struct rthread *t;
	struct rconn *prev, *next;	/* the thread's connections */
	int fd;
	uint8_t state;
	bool dirty;
	uint32_t events;
	struct key *key;
	char line[LINE_MAX_LEN + 1];
	uint32_t line_len;
	/* publisher */
	struct blob *in;
	uint32_t scan;			/* start of the first incomplete frame in @in */
	uint32_t frames;		/* whole frames before @scan */
	/* subscriber */
	struct oent *oq;
	uint32_t oq_head, oq_n, oq_cap;
	uint64_t pending;		/* bytes queued */
	uint32_t sub_idx;
};

struct counters {
	uint64_t conns, frames_in, bytes_in, frames_out, bytes_out, dropped, no_sub, errors;
};

enum { Q_CONN, Q_BLOB };

struct qitem {
	uint8_t type;
	int fd;
	struct blob *b;
	struct key *k;
};

struct rthread {
	int idx;
	pthread_t th;
	int epfd, evfd;
	pthread_mutex_t qlock;
	struct qitem *q, *q2;
	uint32_t qn, qcap, q2cap;
	struct rconn **dirty;
	uint32_t ndirty, dirty_cap;
	struct rconn *conns;
	uint32_t *targets;		/* dispatch() scratch */
	uint8_t *rbuf;			/* subscribers' input, discarded */
	struct counters c;		/* this thread's, plain */
	struct counters pub;		/* copy for the main thread (relaxed atomics) */
};

static struct rthread *threads;
static uint32_t nthreads;
static int listen_fd = -1;
static int stop;
static bool verbose;
static uint32_t max_frame = 1u << 20;
static uint64_t sub_buffer = 4u << 20;
static uint32_t next_rr;
static struct key *keys[KEY_BUCKETS];
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("kmqtt-relay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("kmqtt-relay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- blobs and keys ---- */

static struct blob *blob_new(uint32_t cap)
{
	struct blob *b = malloc(sizeof(*b) + cap);

	if (!b)
		die("out of memory");
	b->refs = 1;
	b->len = 0;
	b->cap = cap;
	b->frames = 0;
	return b;
}

static void blob_put(struct blob *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

static struct key *key_get(const char *name)
{
	uint32_t h = 2166136261u;
	const char *p;
	struct key *k;

	for (p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h %= KEY_BUCKETS;
	pthread_mutex_lock(&keys_lock);
	for (k = keys[h]; k; k = k->next)
		if (!strcmp(k->name, name))
			break;
	if (!k) {
		k = calloc(1, sizeof(*k));
		if (!k || !(k->name = strdup(name)) ||
		    !(k->on_thread = calloc(nthreads, 1)) ||
		    !(k->subs = calloc(nthreads, sizeof(*k->subs))) ||
		    !(k->nsubs = calloc(nthreads, sizeof(*k->nsubs))) ||
		    !(k->capsubs = calloc(nthreads, sizeof(*k->capsubs))))
			die("out of memory");
		k->next = keys[h];
		keys[h] = k;
	}
	pthread_mutex_unlock(&keys_lock);
	return k;
}

/* ---- per-thread queues ---- */

static void enqueue(struct rthread *t, const struct qitem *it)
{
	bool was_empty;
	uint64_t one = 1;

	pthread_mutex_lock(&t->qlock);
	if (t->qn == t->qcap) {
		t->qcap = t->qcap ? t->qcap * 2 : 64;
		t->q = xrealloc(t->q, t->qcap * sizeof(*t->q));
	}
	was_empty = !t->qn;
	t->q[t->qn++] = *it;
	pthread_mutex_unlock(&t->qlock);
	if (was_empty && write(t->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		die("eventfd: %s", strerror(errno));
}

/* ---- connections ---- */

static void conn_events(struct rconn *c, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want != c->events && epoll_ctl(c->t->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

static void conn_free(struct rconn *c)
{
	struct rthread *t = c->t;
	uint32_t i;

	if (c->state == RC_SUB && c->key) {
		struct key *k = c->key;
		uint32_t n = --k->nsubs[t->idx];

		k->subs[t->idx][c->sub_idx] = k->subs[t->idx][n];
		k->subs[t->idx][c->sub_idx]->sub_idx = c->sub_idx;
		if (!n)
			__atomic_store_n(&k->on_thread[t->idx], 0, __ATOMIC_RELEASE);
	}
	for (i = 0; i < c->oq_n; i++)
		blob_put(c->oq[(c->oq_head + i) % c->oq_cap].b);
	for (i = 0; i < t->ndirty; i++)
		if (t->dirty[i] == c)
			t->dirty[i] = NULL;
	free(c->oq);
	if (c->in)
		blob_put(c->in);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	free(c);
}

static void conn_error(struct rconn *c, const char *why)
{
	c->t->c.errors++;
	vlog("closing a connection: %s", why);
	conn_free(c);
}

static void mark_dirty(struct rconn *c)
{
	struct rthread *t = c->t;

	if (c->dirty)
		return;
	c->dirty = true;
	if (t->ndirty == t->dirty_cap) {
		t->dirty_cap = t->dirty_cap ? t->dirty_cap * 2 : 256;
		t->dirty = xrealloc(t->dirty, t->dirty_cap * sizeof(*t->dirty));
	}
	t->dirty[t->ndirty++] = c;
}

/* Queue @b for subscriber @c (false: its queue is full, the frames are dropped). */
static void sub_queue(struct rconn *c, struct blob *b)
{
	struct rthread *t = c->t;

	if (c->pending + b->len > sub_buffer) {
		t->c.dropped += b->frames;
		return;
	}
	if (c->oq_n == c->oq_cap) {
		uint32_t cap = c->oq_cap ? c->oq_cap * 2 : 16, i;
		struct oent *q = xrealloc(NULL, cap * sizeof(*q));

		for (i = 0; i < c->oq_n; i++)
			q[i] = c->oq[(c->oq_head + i) % c->oq_cap];
		free(c->oq);
		c->oq = q;
		c->oq_cap = cap;
		c->oq_head = 0;
	}
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	c->oq[(c->oq_head + c->oq_n++) % c->oq_cap] = (struct oent){ b, 0 };
	c->pending += b->len;
	t->c.frames_out += b->frames;
	mark_dirty(c);
}

/* Returns false if the connection was closed. */
static bool sub_flush(struct rconn *c)
{
	struct rthread *t = c->t;
	struct iovec iov[IOV_MAX_BATCH];
	ssize_t n;
	uint32_t i, k;

	while (c->oq_n) {
		k = c->oq_n < IOV_MAX_BATCH ? c->oq_n : IOV_MAX_BATCH;
		for (i = 0; i < k; i++) {
			struct oent *e = &c->oq[(c->oq_head + i) % c->oq_cap];

			iov[i].iov_base = e->b->data + e->off;
			iov[i].iov_len = e->b->len - e->off;
		}
		n = writev(c->fd, iov, (int)k);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_error(c, strerror(errno));
			return false;
		}
		t->c.bytes_out += (uint64_t)n;
		c->pending -= (uint64_t)n;
		while (n > 0) {
			struct oent *e = &c->oq[c->oq_head];
			uint32_t left = e->b->len - e->off;

			if ((uint64_t)n < left) {
				e->off += (uint32_t)n;
				break;
			}
			n -= left;
			blob_put(e->b);
			c->oq_head = (c->oq_head + 1) % c->oq_cap;
			c->oq_n--;
		}
	}
	conn_events(c, EPOLLIN | EPOLLRDHUP | (c->oq_n ? EPOLLOUT : 0));
	return true;
}

static void deliver_local(struct rthread *t, struct key *k, struct blob *b)
{
	uint32_t i, n = k->nsubs[t->idx];

	for (i = 0; i < n; i++)
		sub_queue(k->subs[t->idx][i], b);
}

/* Hand the whole frames of a publisher read to every thread with subscribers of the key. */
static void dispatch(struct rthread *t, struct key *k, struct blob *b)
{
	uint32_t u, i, n = 0;
	bool local = false;

	/* Snapshot the flags: subscribers may come and go on other threads meanwhile. */
	for (u = 0; u < nthreads; u++) {
		if (!__atomic_load_n(&k->on_thread[u], __ATOMIC_ACQUIRE))
			continue;
		if (u == (uint32_t)t->idx)
			local = true;
		else
			t->targets[n++] = u;
	}
	if (!n && !local) {
		t->c.no_sub += b->frames;
		blob_put(b);
		return;
	}
	/* the publisher's own reference becomes one of them */
	b->refs = n + local;
	for (i = 0; i < n; i++)
		enqueue(&threads[t->targets[i]], &(struct qitem){ .type = Q_BLOB, .b = b, .k = k });
	if (local) {
		deliver_local(t, k, b);
		blob_put(b);
	}
}

/* Cut what @c->in holds into frames; the whole ones go to the subscribers. */
static void pub_scan(struct rconn *c)
{
	struct rthread *t = c->t;
	struct mqtt_fixed_header fh;
	struct blob *b = c->in, *nb;
	uint32_t rest, need = 0;
	int h;

	for (;;) {
		h = mqtt_fixed_header(b->data + c->scan, b->len - c->scan, MQTT_LEVEL_311,
				      max_frame, &fh);
		if (h < 0) {
			conn_error(c, mqtt_err_name(h));
			return;
		}
		if (h == 0) {
			need = MQTT_MAX_HEADER_LEN;
			break;
		}
		need = (uint32_t)h + fh.remlen;
		if (need > b->len - c->scan)
			break;
		c->scan += need;
		c->frames++;
	}
	if (!c->scan)
		return;
	rest = b->len - c->scan;
	t->c.frames_in += c->frames;
	if (c->scan <= SMALL_COPY && need <= b->cap) {
		/* A few frames: copy them out and keep the big buffer for the next read. */
		nb = blob_new(c->scan);
		memcpy(nb->data, b->data, c->scan);
		nb->len = c->scan;
		nb->frames = c->frames;
		memmove(b->data, b->data + c->scan, rest);
		b->len = rest;
	} else {
		/* Whole frames [0, scan) leave as they are; the rest starts a new buffer. */
		nb = b;
		b = c->in = blob_new(need > IN_CAP ? need : IN_CAP);
		memcpy(b->data, nb->data + c->scan, rest);
		b->len = rest;
		nb->len = c->scan;
		nb->frames = c->frames;
	}
	c->scan = 0;
	c->frames = 0;
	dispatch(t, c->key, nb);
}

static void pub_readable(struct rconn *c)
{
	struct rthread *t = c->t;
	struct mqtt_fixed_header fh;
	struct blob *b = c->in;
	ssize_t n;
	int h;

	if (b->len == b->cap) {
		/* A frame bigger than the buffer: grow it (nobody else holds it yet). */
		h = mqtt_fixed_header(b->data + c->scan, b->len - c->scan, MQTT_LEVEL_311,
				      max_frame, &fh);
		if (h <= 0 || c->scan) {
			conn_error(c, "frame header");
			return;
		}
		b = c->in = xrealloc(b, sizeof(*b) + h + fh.remlen);
		b->cap = (uint32_t)h + fh.remlen;
	}
	n = read(c->fd, b->data + b->len, b->cap - b->len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		vlog("publisher of '%s' closed%s%s", c->key->name, n ? ": " : "",
		     n ? strerror(errno) : "");
		conn_free(c);
		return;
	}
	t->c.bytes_in += (uint64_t)n;
	b->len += (uint32_t)n;
	pub_scan(c);
}

#define SUB_RBUF	(64 * 1024)

/* false: the subscriber is gone */
static bool sub_readable(struct rconn *c)
{
	ssize_t n = read(c->fd, c->t->rbuf, SUB_RBUF);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return true;
	vlog("subscriber of '%s' closed", c->key->name);
	conn_free(c);
	return false;
}

static void hello_readable(struct rconn *c)
{
	struct rthread *t = c->t;
	char buf[LINE_MAX_LEN + 16];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	char *nl;
	uint32_t used, u = (uint32_t)t->idx;
	bool pub;
	struct key *k;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_free(c);
		return;
	}
	nl = memchr(buf, '\n', (size_t)n);
	used = nl ? (uint32_t)(nl - buf) + 1 : (uint32_t)n;
	if (c->line_len + used > LINE_MAX_LEN) {
		conn_error(c, "hello line too long");
		return;
	}
	memcpy(c->line + c->line_len, buf, used);
	c->line_len += used;
	if (!nl)
		return;
	c->line[c->line_len - 1] = 0;
	pub = !strncmp(c->line, "PUB ", 4);
	if ((!pub && strncmp(c->line, "SUB ", 4)) || !c->line[4]) {
		if (write(c->fd, "ERR\n", 4) < 0)
			t->c.errors++;
		conn_error(c, "bad hello");
		return;
	}
	k = c->key = key_get(c->line + 4);
	if (pub) {
		c->state = RC_PUB;
		c->in = blob_new(IN_CAP);
		/* bytes after the line are the first frames */
		memcpy(c->in->data, buf + used, (size_t)n - used);
		c->in->len = (uint32_t)n - used;
	} else {
		c->state = RC_SUB;
		if (k->nsubs[u] == k->capsubs[u]) {
			k->capsubs[u] = k->capsubs[u] ? k->capsubs[u] * 2 : 8;
			k->subs[u] = xrealloc(k->subs[u], k->capsubs[u] * sizeof(**k->subs));
		}
		c->sub_idx = k->nsubs[u];
		k->subs[u][k->nsubs[u]++] = c;
		__atomic_store_n(&k->on_thread[u], 1, __ATOMIC_RELEASE);
	}
	if (write(c->fd, "OK\n", 3) != 3) {
		conn_error(c, "cannot answer OK");
		return;
	}
	vlog("%s '%s' on thread %d", pub ? "publisher" : "subscriber", k->name, t->idx);
	if (pub && c->in->len)
		pub_scan(c);	/* frames that came with the hello */
}

static void conn_add(struct rthread *t, int fd)
{
	struct rconn *c = calloc(1, sizeof(*c));
	struct epoll_event ev;
	int one = 1;

	if (!c)
		die("out of memory");
	c->t = t;
	c->fd = fd;
	c->state = RC_HELLO;
	c->events = EPOLLIN | EPOLLRDHUP;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev.events = c->events;
	ev.data.ptr = c;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = t->conns;
	if (c->next)
		c->next->prev = c;
	t->conns = c;
	t->c.conns++;
}

static void do_accept(struct rthread *t)
{
	int fd;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				vlog("accept: %s", strerror(errno));
			return;
		}
		uint32_t u = next_rr++ % nthreads;

		if (u == (uint32_t)t->idx)
			conn_add(t, fd);
		else
			enqueue(&threads[u], &(struct qitem){ .type = Q_CONN, .fd = fd });
	}
}

static void run_queue(struct rthread *t)
{
	struct qitem *q;
	uint32_t n, i, cap;

	pthread_mutex_lock(&t->qlock);
	q = t->q;
	n = t->qn;
	cap = t->qcap;
	t->q = t->q2;
	t->qcap = t->q2cap;
	t->qn = 0;
	pthread_mutex_unlock(&t->qlock);
	for (i = 0; i < n; i++) {
		if (q[i].type == Q_CONN) {
			conn_add(t, q[i].fd);
		} else {
			deliver_local(t, q[i].k, q[i].b);
			blob_put(q[i].b);
		}
	}
	t->q2 = q;
	t->q2cap = cap;
}

static void flush_dirty(struct rthread *t)
{
	uint32_t i;

	for (i = 0; i < t->ndirty; i++) {
		struct rconn *c = t->dirty[i];

		if (!c)
			continue;
		c->dirty = false;
		sub_flush(c);
	}
	t->ndirty = 0;
}

static void *thread_main(void *arg)
{
	struct rthread *t = arg;
	struct epoll_event ev[MAX_EVENTS];
	int i, n;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(t->epfd, ev, MAX_EVENTS, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct rconn *c = ev[i].data.ptr;
			uint64_t v;

			if (c == (void *)&listen_fd) {
				do_accept(t);
				continue;
			}
			if (!c) {
				if (read(t->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					die("eventfd: %s", strerror(errno));
				continue;
			}
			switch (c->state) {
			case RC_HELLO:
				hello_readable(c);
				break;
			case RC_PUB:
				pub_readable(c);
				break;
			case RC_SUB:
				if ((ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) &&
				    !sub_readable(c))
					break;
				if (ev[i].events & EPOLLOUT)
					mark_dirty(c);
				break;
			}
		}
		run_queue(t);
		flush_dirty(t);
		for (i = 0; i < (int)(sizeof(t->c) / sizeof(uint64_t)); i++)
			__atomic_store_n(&((uint64_t *)&t->pub)[i], ((uint64_t *)&t->c)[i],
					 __ATOMIC_RELAXED);
	}
	return NULL;
}

/* After all threads stopped: close everything and free what is left. */
static void cleanup(void)
{
	struct key *k, *next;
	uint32_t u, i;

	for (u = 0; u < nthreads; u++)
		while (threads[u].conns)
			conn_free(threads[u].conns);
	for (u = 0; u < nthreads; u++) {
		struct rthread *t = &threads[u];

		for (i = 0; i < t->qn; i++) {
			if (t->q[i].type == Q_CONN)
				close(t->q[i].fd);
			else
				blob_put(t->q[i].b);
		}
		free(t->q);
		free(t->q2);
		free(t->dirty);
		free(t->targets);
		free(t->rbuf);
		close(t->epfd);
		close(t->evfd);
		pthread_mutex_destroy(&t->qlock);
	}
	for (i = 0; i < KEY_BUCKETS; i++) {
		for (k = keys[i]; k; k = next) {
			next = k->next;
			for (u = 0; u < nthreads; u++)
				free(k->subs[u]);
			free(k->subs);
			free(k->nsubs);
			free(k->capsubs);
			free(k->on_thread);
			free(k->name);
			free(k);
		}
	}
	free(threads);
	close(listen_fd);
}

static void counters(const char *when)
{
	struct counters s = { 0 };
	uint32_t u;
	int i;

	for (u = 0; u < nthreads; u++)
		for (i = 0; i < (int)(sizeof(s) / sizeof(uint64_t)); i++)
			((uint64_t *)&s)[i] += __atomic_load_n(&((uint64_t *)&threads[u].pub)[i],
							       __ATOMIC_RELAXED);
	fprintf(stderr, "kmqtt-relay: %s: connections %llu, frames in %llu (%llu bytes), frames "
		"out %llu (%llu bytes), dropped %llu, no subscriber %llu, protocol errors %llu\n",
		when, (unsigned long long)s.conns, (unsigned long long)s.frames_in,
		(unsigned long long)s.bytes_in, (unsigned long long)s.frames_out,
		(unsigned long long)s.bytes_out, (unsigned long long)s.dropped,
		(unsigned long long)s.no_sub, (unsigned long long)s.errors);
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fputs("usage: kmqtt-relay -p PORT [-b ADDR] [--threads N] [-m BYTES] "
	      "[--sub-buffer BYTES] [--port-file F] [-v]\n", stderr);
	exit(2);
}

static unsigned long long unum(const char *s, unsigned long long lo, unsigned long long hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "sub-buffer", required_argument, NULL, 'B' },
		{ "port-file", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = "127.0.0.1", *port_file = NULL;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event ev;
	struct rlimit rl;
	int port = -1, one = 1, ch, sig;
	sigset_t set;
	uint32_t u;
	char abuf[INET6_ADDRSTRLEN];

	nthreads = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
	while ((ch = getopt_long(argc, argv, "p:b:m:v", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': port = (int)unum(optarg, 0, 65535); break;
		case 'b': addr = optarg; break;
		case 'm': max_frame = (uint32_t)unum(optarg, 16, MQTT_MAX_PACKET_SIZE); break;
		case 'v': verbose = true; break;
		case 't': nthreads = (uint32_t)unum(optarg, 1, 1024); break;
		case 'B': sub_buffer = unum(optarg, 1024, 1ULL << 40); break;
		case 'F': port_file = optarg; break;
		default: usage();
		}
	}
	if (port < 0 || optind != argc)
		usage();
	if (!nthreads)
		nthreads = 1;

	/* as many connections as the hard limit allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		die("-b: '%s' is not an IP address", addr);
	}
	listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind %s:%d: %s", addr, port, strerror(errno));
	if (listen(listen_fd, 4096) < 0)
		die("listen: %s", strerror(errno));
	sl = sizeof(ss);
	getsockname(listen_fd, (struct sockaddr *)&ss, &sl);
	port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		     ((struct sockaddr_in6 *)&ss)->sin6_port);

	/* Signals go to sigwait() in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	threads = calloc(nthreads, sizeof(*threads));
	if (!threads)
		die("out of memory");
	for (u = 0; u < nthreads; u++) {
		struct rthread *t = &threads[u];

		t->idx = (int)u;
		pthread_mutex_init(&t->qlock, NULL);
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		t->targets = calloc(nthreads, sizeof(*t->targets));
		t->rbuf = malloc(SUB_RBUF);
		if (t->epfd < 0 || t->evfd < 0 || !t->targets || !t->rbuf)
			die("epoll/eventfd: %s", strerror(errno));
		ev.events = EPOLLIN;
		ev.data.ptr = NULL;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &listen_fd;
	if (epoll_ctl(threads[0].epfd, EPOLL_CTL_ADD, listen_fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	for (u = 0; u < nthreads; u++)
		if (pthread_create(&threads[u].th, NULL, thread_main, &threads[u]))
			die("cannot start threads");
	inet_ntop(ss.ss_family, ss.ss_family == AF_INET ?
		  (void *)&((struct sockaddr_in *)&ss)->sin_addr :
		  (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr, abuf, sizeof(abuf));
	fprintf(stderr, "kmqtt-relay: listening on %s port %d, %u threads\n", abuf, port,
		nthreads);
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f))
			die("%s: %s", port_file, strerror(errno));
	}
	for (;;) {
		if (verbose) {
			struct timespec ts = { 5, 0 };

			sig = sigtimedwait(&set, NULL, &ts);
			if (sig < 0) {
				counters("counters");
				continue;
			}
		} else if (sigwait(&set, &sig)) {
			continue;
		}
		break;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (u = 0; u < nthreads; u++) {
		uint64_t v = 1;

		if (write(threads[u].evfd, &v, sizeof(v)) < 0)
			die("eventfd: %s", strerror(errno));
	}
	for (u = 0; u < nthreads; u++)
		pthread_join(threads[u].th, NULL);
	counters(sig == SIGTERM ? "SIGTERM" : "SIGINT");
	cleanup();
	return 0;
}
